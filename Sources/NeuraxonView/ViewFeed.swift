import Foundation
import Neuraxon
import NeuraxonChannels
import NeuraxonEmbodiment
import NeuraxonSimulation
import NeuraxonProtocol
import NeuraxonTransport

/// What the server shows: the scene every page gets first, the tick messages it sends at
/// display rate, and what it does with the page's commands. A live run (`LiveFeed`) and a
/// recording (`RecordingFeed`) are the two feeds.
public protocol ViewFeed: AnyObject, Sendable {
    /// The scene (network, world, channels) as one JSON message.
    var sceneJSON: String { get }
    /// Called by the server about 30 times a second: the next message to send to every page,
    /// or nil. `watching` is false when no page is connected (the feed may drop what it has).
    func frame(watching: Bool) -> String?
    /// Carries out a checked page command.
    /// - Returns: a message for the page that sent it (what happened, or why not), or nil.
    func handle(_ command: PageCommand) -> String?
}

/// The static part of what the page draws, as one JSON message (`{"type":"scene",…}`).
public enum Scene {
    /// - Parameters:
    ///   - mode: `live`, `robot` or `recording`.
    ///   - controls: whether the controls that change behaviour act.
    ///   - network: the network, for its neurons and synapses (topology and weights as given).
    ///   - world: the simulated world, if any.
    public static func json(mode: String, controls: Bool, title: String, device: DeviceInfo, valueNames: [String],
                            inputCount: Int, outputCount: Int, network: NeuraxonNetwork?, world: World?,
                            tickCount: Int? = nil) -> String {
        var j = JSONText()
        j.raw("{\"type\":\"scene\",\"mode\":"); j.string(mode)
        j.raw(",\"controls\":"); j.raw(controls ? "true" : "false")
        j.raw(",\"title\":"); j.string(title)
        if let tickCount { j.raw(",\"tick_count\":"); j.int(tickCount) }
        j.raw(",\"modulators\":["); j.raw(Neuromodulator.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ",")); j.raw("]")
        j.raw(",\"sensors\":["); j.raw(device.sensors.map { "{\"name\":\"\($0.name)\",\"unit\":\"\($0.unit)\",\"min\":\($0.minimum),\"max\":\($0.maximum)}" }.joined(separator: ",")); j.raw("]")
        j.raw(",\"values\":["); j.raw(valueNames.map { "\"\($0)\"" }.joined(separator: ",")); j.raw("]")
        j.raw(",\"actuators\":["); j.raw(device.actuators.map { "{\"name\":\"\($0.name)\",\"min\":\($0.minimum),\"max\":\($0.maximum)}" }.joined(separator: ",")); j.raw("]")
        j.raw(",\"input_count\":"); j.int(inputCount)
        j.raw(",\"output_count\":"); j.int(outputCount)
        if let network {
            j.raw(",\"network\":{\"dt\":"); j.number(network.dt)
            j.raw(",\"input\":"); j.int(network.inputCount)
            j.raw(",\"hidden\":"); j.int(network.hiddenCount)
            j.raw(",\"output\":"); j.int(network.outputCount)
            j.raw(",\"synapses\":[")
            var first = true
            for s in network.synapses() {
                if !first { j.raw(",") }
                first = false
                j.raw("["); j.int(s.pre); j.raw(","); j.int(s.post); j.raw(",")
                j.number(s.wFast, digits: 3); j.raw(","); j.number(s.wSlow, digits: 3); j.raw(","); j.number(s.wMeta, digits: 3)
                j.raw(","); j.int(s.isSilent ? 1 : 0); j.raw(","); j.int(s.isModulatory ? 1 : 0); j.raw("]")
            }
            j.raw("]}")
        } else {
            j.raw(",\"network\":null")
        }
        if let world {
            j.raw(",\"world\":{\"name\":"); j.string(world.name)
            j.raw(",\"width\":"); j.number(world.arenaWidth); j.raw(",\"height\":"); j.number(world.arenaHeight)
            j.raw(",\"obstacles\":[")
            for (k, o) in world.obstacles.enumerated() {
                if k > 0 { j.raw(",") }
                switch o {
                case let .segment(a, b):
                    j.raw("{\"kind\":\"segment\",\"from\":"); j.numbers([a.x, a.y]); j.raw(",\"to\":"); j.numbers([b.x, b.y]); j.raw("}")
                case let .box(c, size, angle):
                    j.raw("{\"kind\":\"box\",\"center\":"); j.numbers([c.x, c.y]); j.raw(",\"size\":"); j.numbers([size.x, size.y])
                    j.raw(",\"angle\":"); j.number(angle); j.raw("}")
                case let .circle(c, r):
                    j.raw("{\"kind\":\"circle\",\"center\":"); j.numbers([c.x, c.y]); j.raw(",\"radius\":"); j.number(r); j.raw("}")
                }
            }
            j.raw("],\"lights\":[")
            for (k, l) in world.lights.enumerated() {
                if k > 0 { j.raw(",") }
                j.raw("{\"x\":"); j.number(l.position.x); j.raw(",\"y\":"); j.number(l.position.y)
                j.raw(",\"intensity\":"); j.number(l.intensity); j.raw("}")
            }
            let r = world.robot
            j.raw("],\"robot\":{\"radius\":"); j.number(r.bodyRadius)
            j.raw(",\"ranges\":[")
            for (k, s) in [r.rangeLeft, r.rangeRight].enumerated() {
                if k > 0 { j.raw(",") }
                j.raw("{\"x\":"); j.number(s.position.x); j.raw(",\"y\":"); j.number(s.position.y)
                j.raw(",\"angle\":"); j.number(s.angle); j.raw(",\"fov\":"); j.number(s.fieldOfView)
                j.raw(",\"max\":"); j.number(s.maxRange); j.raw("}")
            }
            j.raw("]}}")
        } else {
            j.raw(",\"world\":null")
        }
        j.raw("}")
        return j.text
    }

    /// One tick as a JSON object (Docs/VIEW.md, "Messages").
    static func append(_ s: borrowing ViewSnapshot, to j: inout JSONText) {
        j.raw("{\"tick\":"); j.int(s.tick)
        j.raw(",\"t_us\":"); j.int(s.timestampMicros)
        j.raw(",\"steps\":"); j.int(s.steps)
        j.raw(",\"latency_us\":"); j.number(s.latencyMicros, digits: 4)
        if s.hasPose {
            j.raw(",\"pose\":"); j.numbers([s.x, s.y, s.heading], digits: 6)
        }
        j.raw(",\"raw\":"); j.ints(s.raw)
        j.raw(",\"values\":"); j.numbers(s.values)
        j.raw(",\"inputs\":"); j.trits(s.inputs)
        j.raw(",\"outputs\":"); j.trits(s.outputs)
        j.raw(",\"setpoints\":"); j.ints(s.setpoints)
        j.raw(",\"modulators\":"); j.numbers(s.modulators)
        if s.hasNeurons && !s.states.isEmpty {
            j.raw(",\"synapse_count\":"); j.int(s.synapseCount)
            j.raw(",\"states\":"); j.trits(s.states)
            j.raw(",\"potentials\":"); j.numbers(s.potentials, digits: 3)
        }
        let c = s.counters
        j.raw(",\"counters\":{\"ticks\":"); j.int(c.ticks)
        j.raw(",\"steps\":"); j.int(c.steps)
        j.raw(",\"overruns\":"); j.int(c.overruns)
        j.raw(",\"late\":"); j.int(c.lateTicks)
        j.raw(",\"reading_errors\":"); j.int(c.readingErrors)
        j.raw(",\"dropped_frames\":"); j.int(c.droppedFrames)
        j.raw(",\"link_losses\":"); j.int(c.linkLosses)
        j.raw(",\"record_drops\":"); j.int(c.recordDrops)
        j.raw("}}")
    }
}

/// A robot's link as the link panel shows it: the session's state and counters, the board's
/// failsafe state from its last STATUS, and the PING → PONG round trip (p50, p99, ms). Read by
/// the view's sender, never by the tick thread, and worked out again at most once a second.
public final class LinkPanel: @unchecked Sendable {
    private let body: SerialRobotBody
    private var roundTrip = RoundTripStatistics()   // the sender's own copy
    private var json = ""
    private var madeAt: UInt64 = 0
    /// The shortest time between two readings of the link, ns.
    public let intervalNanos: UInt64 = 1_000_000_000

    public init(body: SerialRobotBody) { self.body = body }

    /// The panel as the `link` object of a ticks message (Docs/VIEW.md, "Messages").
    func currentJSON() -> String {
        let now = DispatchTime.now().uptimeNanoseconds
        if !json.isEmpty && now &- madeAt < intervalNanos { return json }
        madeAt = now
        let link = body.link
        body.copyRoundTrip(into: &roundTrip)
        var j = JSONText()
        j.raw("{\"state\":"); j.string(link.state.description)
        j.raw(",\"failsafe\":")
        if let f = link.failsafe { j.string(FailsafeState(rawValue: f)?.description ?? "unknown (\(f))") } else { j.raw("null") }
        j.raw(",\"round_trip_ms\":{\"count\":"); j.int(roundTrip.count)
        if let p50 = roundTrip.percentile(50), let p99 = roundTrip.percentile(99) {
            j.raw(",\"p50\":"); j.number(p50, digits: 4); j.raw(",\"p99\":"); j.number(p99, digits: 4)
        }
        let c = link.counters
        j.raw("},\"counters\":{")
        for (k, field) in LinkCounters.serialCounters.enumerated() {
            if k > 0 { j.raw(",") }
            j.string(field.name); j.raw(":"); j.int(c[keyPath: field.counter])
        }
        j.raw("}}")
        json = j.text
        return json
    }
}

/// A running loop's view: ticks from a `ViewTap`, live controls to it, STOP to the run.
public final class LiveFeed: ViewFeed, @unchecked Sendable {
    public let tap: ViewTap
    public let sceneJSON: String
    private let stopRequest: StopRequest
    /// A robot run's link, for the link panel (nil for a simulated run).
    private let link: LinkPanel?
    /// Snapshots sent in one message at most (the newest; older ones are dropped).
    private let batch = 64
    private var lastDropped = 0

    public init(tap: ViewTap, scene: String, stopRequest: StopRequest, link: LinkPanel? = nil) {
        self.tap = tap
        self.sceneJSON = scene
        self.stopRequest = stopRequest
        self.link = link
    }

    public func frame(watching: Bool) -> String? {
        guard watching else {
            tap.snapshots.discardAll()
            return nil
        }
        var j = JSONText()
        j.raw("{\"type\":\"ticks\",\"ticks\":[")
        var n = 0
        while n < batch, tap.snapshots.pop({ s in
            if n > 0 { j.raw(",") }
            Scene.append(s, to: &j)
        }) { n += 1 }
        j.raw("],\"view_dropped\":"); j.int(tap.snapshots.dropped)
        j.raw(",\"stopping\":"); j.raw(stopRequest.isRequested ? "true" : "false")
        if let link { j.raw(",\"link\":"); j.raw(link.currentJSON()) }
        j.raw("}")
        let ticks = n > 0 || stopRequest.isRequested ? j.text : nil
        // The synapses, when the tap copied them since the last frame (about once a second).
        guard let synapses = tap.synapses?.takeMessage() else { return ticks }
        return ticks.map { $0 + "\u{1e}" + synapses } ?? synapses
    }

    public func handle(_ command: PageCommand) -> String? {
        switch command {
        case .stop:
            stopRequest.request()
            return Notice.info("stop requested: the run is stopping")
        case let .modulate(m, level):
            guard tap.controlsEnabled else {
                return Notice.error("controls that change the robot's behaviour are off; start the run with --view-control to allow them")
            }
            guard tap.controls.offer(.modulate(m, level)) else {
                return Notice.error("too many controls waiting for the run; try again")
            }
            return nil
        case let .clamp(index, state):
            guard tap.controlsEnabled else {
                return Notice.error("controls that change the robot's behaviour are off; start the run with --view-control to allow them")
            }
            guard index < tap.inputCount else {
                return Notice.error("input \(index) does not exist: this run has inputs 0…\(tap.inputCount - 1)")
            }
            guard tap.controls.offer(.clamp(index, state)) else {
                return Notice.error("too many controls waiting for the run; try again")
            }
            return nil
        case .play, .pause, .step, .speed, .seek:
            return Notice.error("play, pause, step, speed and seek apply to a recording, not a live run")
        case .input, .build, .save:
            return Notice.error("input, build and save apply to the playground (neuraxon view --playground)")
        }
    }
}
