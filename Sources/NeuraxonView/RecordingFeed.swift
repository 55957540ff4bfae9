import Foundation
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonSimulation

/// A recording played in the view with a timeline: play, pause, step, speed and seek. The
/// play head moves in the recording's own (firmware) time, scaled by the speed; every tick it
/// passes is sent (the newest 64 per frame when it passes more).
public final class RecordingFeed: ViewFeed, @unchecked Sendable {
    public let sceneJSON: String
    /// The recording's ticks, in order.
    private let ticks: [TickRecord]
    public var tickCount: Int { ticks.count }
    private let lock = NSLock()
    // Guarded by lock:
    private var next = 0              // the first tick not yet shown
    private var playing = true
    private var speed = 1.0
    private var playTime: UInt64 = 0  // firmware time of the play head, µs
    private var lastWall = Date()
    private var announce = true       // send the position with the next frame

    /// Reads the whole recording (JSON Lines or MCAP).
    /// - Throws: `RecordingError` for a file that cannot be read, with where and why.
    public init(path: String) throws(RecordingError) {
        let reader = try RecordingReader(path: path)
        var ticks: [TickRecord] = []
        while let tick = reader.nextTick() { ticks.append(tick) }
        if case let .damaged(_, _, reason)? = reader.stop, ticks.isEmpty {
            throw RecordingError(path: path, "no tick could be read: \(reason)")
        }
        self.ticks = ticks
        let header = reader.header
        var network: NeuraxonNetwork?
        for candidate in header.networkFileCandidates(recordingPath: path) where network == nil {
            network = try? NeuraxonNetwork.load(contentsOf: candidate)
        }
        if let n = network, n.inputCount != header.inputCount || n.outputCount != header.outputCount { network = nil }
        let world = header.world.flatMap { try? World.parse(yaml: $0, source: path) }
        sceneJSON = Scene.json(mode: "recording", controls: false, title: path, device: header.device,
                               valueNames: header.valueNames, inputCount: header.inputCount,
                               outputCount: header.outputCount, network: network, world: world, tickCount: ticks.count)
        playTime = ticks.first?.timestampMicros ?? 0
    }

    public func frame(watching: Bool) -> String? {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        let elapsed = now.timeIntervalSince(lastWall)
        lastWall = now
        var upTo = next
        if playing, !ticks.isEmpty {
            playTime &+= UInt64(max(0, elapsed * speed * 1e6))
            while upTo < ticks.count && ticks[upTo].timestampMicros <= playTime { upTo += 1 }
            if upTo >= ticks.count { playing = false; announce = true }
        }
        guard watching else { next = upTo; return nil }
        guard upTo > next || announce else { return nil }
        let text = message(from: max(next, upTo - 64), to: upTo)
        next = upTo
        return text
    }

    public func handle(_ command: PageCommand) -> String? {
        lock.lock()
        defer { lock.unlock() }
        announce = true
        switch command {
        case .play:
            if next >= ticks.count { next = 0; playTime = ticks.first?.timestampMicros ?? 0 }
            playing = true
            lastWall = Date()
        case .pause:
            playing = false
        case let .step(count):
            playing = false
            next = min(ticks.count, next + count)
            if next > 0 { playTime = ticks[next - 1].timestampMicros }
            return message(from: max(0, next - count), to: next)
        case let .speed(value):
            speed = value
        case let .seek(tick):
            next = min(ticks.count, tick)
            playTime = next < ticks.count ? ticks[next].timestampMicros : (ticks.last?.timestampMicros ?? 0)
            lastWall = Date()
            // Show the tick sought at once, and keep playing from it when playing.
            if next < ticks.count { next += 1 }
            return message(from: next - 1, to: next)
        case .stop:
            playing = false
            return Notice.info("a recording has nothing to stop: playback paused")
        case .modulate, .input, .clamp:
            return Notice.error("a recording cannot be steered: its neuromodulators are what was recorded")
        case .build, .save:
            return Notice.error("build and save apply to the playground (neuraxon view --playground)")
        }
        return message(from: next, to: next)
    }

    /// The ticks in `from..<to` and the play head's position (under the lock).
    private func message(from: Int, to: Int) -> String {
        var j = JSONText()
        j.raw("{\"type\":\"ticks\",\"ticks\":[")
        var slot = ViewSnapshot(sensors: 0, values: 0, inputs: 0, outputs: 0, actuators: 0, neurons: 0)
        for k in max(0, from)..<max(max(0, from), to) {
            let t = ticks[k]
            slot.tick = t.tick
            slot.timestampMicros = t.timestampMicros
            slot.steps = t.steps
            slot.latencyMicros = Double(t.hostSendNanos &- t.hostReceiveNanos) / 1000
            slot.hasPose = t.pose != nil
            slot.x = t.pose?.x ?? 0; slot.y = t.pose?.y ?? 0; slot.heading = t.pose?.heading ?? 0
            slot.raw = t.raw
            slot.values = t.values
            slot.inputs = t.inputs.map(\.rawValue)
            slot.outputs = t.outputs.map(\.rawValue)
            slot.setpoints = t.setpoints
            slot.modulators = t.modulators
            var counters = RunCounters()
            counters.ticks = t.tick + 1
            counters.overruns = t.counters.overruns
            counters.lateTicks = t.counters.lateTicks
            counters.readingErrors = t.counters.readingErrors
            counters.droppedFrames = t.counters.droppedFrames
            counters.recordDrops = t.counters.recordDrops
            slot.counters = counters
            if k > max(0, from) { j.raw(",") }
            Scene.append(slot, to: &j)
        }
        j.raw("]}")
        var p = JSONText()
        p.raw("{\"type\":\"position\",\"tick\":"); p.int(max(0, next - 1))
        p.raw(",\"tick_count\":"); p.int(ticks.count)
        p.raw(",\"playing\":"); p.raw(playing ? "true" : "false")
        p.raw(",\"speed\":"); p.number(speed)
        p.raw("}")
        announce = false
        // Two messages in one frame: the page reads them in order.
        return to > from ? j.text + "\u{1e}" + p.text : p.text
    }
}
