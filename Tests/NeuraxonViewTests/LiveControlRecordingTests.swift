import Foundation
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonSimulation
import NeuraxonTransport
@testable import NeuraxonView
import XCTest

/// Offers a control to the view's tap from the tick thread at a chosen tick, as if the page's
/// slider moved then (deterministic, unlike a browser).
final class SliderAtTick: TickObserver, @unchecked Sendable {
    let tap: ViewTap
    let controls: [Int: LiveControl]
    private var ticks = 0

    init(_ tap: ViewTap, at tick: Int, _ control: LiveControl) {
        self.tap = tap
        controls = [tick: control]
    }

    /// Several controls, each offered before its tick.
    init(_ tap: ViewTap, _ controls: [Int: LiveControl]) {
        self.tap = tap
        self.controls = controls
    }

    func beforeTick<N: ControlledNetwork>(_ core: ControlCore<N>, recorder: Recorder?) {
        if let control = controls[ticks] { _ = tap.controls.offer(control) }
        ticks += 1
        tap.beforeTick(core, recorder: recorder)
    }

    func afterTick<N: ControlledNetwork>(_ core: ControlCore<N>, frame: SensorFrame, latencyNanos: UInt64) {
        tap.afterTick(core, frame: frame, latencyNanos: latencyNanos)
    }
}

final class LiveControlRecordingTests: XCTestCase {
    /// A level set from the page is recorded as a `modulate` event before the tick it acted on,
    /// and a replay of the recording (JSON Lines or MCAP) sets it too: every tick matches.
    func testALiveControlIsRecordedAndReplayed() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let preset = RobotPreset.named("seek")!
        for name in ["run.jsonl", "run.mcap"] {
            let robot = try SimulatedRobot(world: try World.named(preset.world), seed: 4)
            let network = try preset.network(seed: 4)
            let mapping = try Mapping(yaml: preset.mappingYAML, device: DeviceInfo(simulated: robot),
                                      inputCount: network.inputCount, outputCount: network.outputCount)
            let path = folder + "/" + name
            let recorder = try Recorder(path: path, header: RecordingHeader(mapping: mapping, network: NetworkIdentity(seed: 4), dtMillis: network.dt),
                                        waitWhenFull: true)
            let tap = ViewTap(mapping: mapping, network: network, robot: robot)
            let slider = SliderAtTick(tap, at: 300, .modulate(.norepinephrine, 0))
            _ = try SimulationRun.run(robot: robot, network: network, mapping: mapping, durationSeconds: 10, recorder: recorder, observer: slider)
            XCTAssertEqual(tap.appliedControls, 1)

            // The event, where it acted.
            let reader = try RecordingReader(path: path)
            var events: [RecordingEvent] = []
            var levelAt300 = 1.0
            while let entry = reader.next() {
                switch entry {
                case let .event(e) where e.kind == .modulate: events.append(e)
                case let .tick(t) where t.tick == 300: levelAt300 = t.modulators[Neuromodulator.norepinephrine.index]
                default: break
                }
            }
            XCTAssertEqual(events, [RecordingEvent(kind: .modulate, tick: 300, timestampMicros: events.first?.timestampMicros ?? 0,
                                                   modulator: .norepinephrine, level: 0)], name)
            XCTAssertLessThan(levelAt300, 0.1, name)

            // A replay with a fresh network sets it again: no tick differs.
            let replayed = try Replay.run(reader: try RecordingReader(path: path), network: try preset.network(seed: 4), mapping: mapping)
            XCTAssertEqual(replayed.divergentTicks, 0, "\(name): \(replayed.firstDivergence.map { "\($0)" } ?? "")")
            XCTAssertEqual(replayed.ticks, 2001, name)
        }

        // Without the event the same recording diverges: the event is what makes replay exact.
        let lines = try String(contentsOfFile: folder + "/run.jsonl", encoding: .utf8).split(separator: "\n")
        let stripped = lines.filter { !$0.contains("\"event\":\"modulate\"") }
        XCTAssertEqual(stripped.count, lines.count - 1)
        try (stripped.joined(separator: "\n") + "\n").write(toFile: folder + "/stripped.jsonl", atomically: true, encoding: .utf8)
        let robot = try SimulatedRobot(world: try World.named(preset.world), seed: 4)
        let network = try preset.network(seed: 4)
        let mapping = try Mapping(yaml: preset.mappingYAML, device: DeviceInfo(simulated: robot),
                                  inputCount: network.inputCount, outputCount: network.outputCount)
        let diverged = try Replay.run(reader: try RecordingReader(path: folder + "/stripped.jsonl"), network: network, mapping: mapping)
        XCTAssertGreaterThan(diverged.divergentTicks, 0)
    }

    /// An input clamped from the page is held from the next tick on until released; both are
    /// recorded as `clamp` events before the tick they acted on, and a replay (JSON Lines or
    /// MCAP) holds and releases it at the same ticks: every tick matches. Without the events
    /// the same recording diverges.
    func testAClampedInputIsRecordedAndReplayed() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let preset = RobotPreset.named("seek")!
        func setUp() throws -> (SimulatedRobot, NeuraxonNetwork, Mapping) {
            let robot = try SimulatedRobot(world: try World.named(preset.world), seed: 4)
            let network = try preset.network(seed: 4)
            let mapping = try Mapping(yaml: preset.mappingYAML, device: DeviceInfo(simulated: robot),
                                      inputCount: network.inputCount, outputCount: network.outputCount)
            return (robot, network, mapping)
        }
        for name in ["run.jsonl", "run.mcap"] {
            let (robot, network, mapping) = try setUp()
            let path = folder + "/" + name
            let recorder = try Recorder(path: path, header: RecordingHeader(mapping: mapping, network: NetworkIdentity(seed: 4), dtMillis: network.dt),
                                        waitWhenFull: true)
            let tap = ViewTap(mapping: mapping, network: network, robot: robot)
            // Input 0 held at +1 from tick 200, input 1 at −1 from tick 250, input 0 released at 900;
            // an input that does not exist changes nothing.
            let page = SliderAtTick(tap, [200: .clamp(0, .excitatory), 250: .clamp(1, .inhibitory), 900: .clamp(0, nil),
                                          950: .clamp(mapping.inputCount, .excitatory)])
            _ = try SimulationRun.run(robot: robot, network: network, mapping: mapping, durationSeconds: 10, recorder: recorder, observer: page)
            XCTAssertEqual(tap.appliedControls, 3, name)

            let reader = try RecordingReader(path: path)
            var events: [RecordingEvent] = []
            var inputs: [Int: [Trit]] = [:]
            while let entry = reader.next() {
                switch entry {
                case let .event(e) where e.kind == .clamp: events.append(e)
                case let .tick(t): inputs[t.tick] = t.inputs
                default: break
                }
            }
            XCTAssertEqual(events.map(\.tick), [200, 250, 900], name)
            XCTAssertEqual(events.map(\.input), [0, 1, 0], name)
            XCTAssertEqual(events.map(\.clampedState), [.excitatory, .inhibitory, nil], name)
            // Held from its tick to the release, whatever the encoders said.
            for tick in 250..<900 {
                let held = try XCTUnwrap(inputs[tick])
                XCTAssertEqual(held[0], .excitatory, "\(name) tick \(tick)")
                XCTAssertEqual(held[1], .inhibitory, "\(name) tick \(tick)")
            }
            // Released: input 0 follows its encoder again (it is not +1 on every tick after).
            XCTAssertTrue((901..<2001).contains { inputs[$0]?.first != .excitatory }, name)

            let (_, fresh, freshMapping) = try setUp()
            let replayed = try Replay.run(reader: try RecordingReader(path: path), network: fresh, mapping: freshMapping)
            XCTAssertEqual(replayed.divergentTicks, 0, "\(name): \(replayed.firstDivergence.map { "\($0)" } ?? "")")
            XCTAssertEqual(replayed.ticks, 2001, name)
        }

        // A replay of a time range that starts while inputs are held (1.5 s: inputs 0 and 1 held
        // since ticks 200 and 250) records them in its start state, so its own recording, which
        // holds no clamp event before the release, replays on its own.
        let (_, partial, partialMapping) = try setUp()
        let range = folder + "/range.jsonl"
        let ranged = try Replay.run(reader: try RecordingReader(path: folder + "/run.jsonl"), network: partial, mapping: partialMapping,
                                    options: ReplayOptions(fromSeconds: 1.5, toSeconds: 6), record: range)
        XCTAssertEqual(ranged.divergentTicks, 0)
        let rangeReader = try RecordingReader(path: range)
        let held = try XCTUnwrap(rangeReader.header.startState?.clampedInputs, "the start state holds no clamped inputs")
        XCTAssertEqual(held.count, partialMapping.inputCount)
        XCTAssertEqual(Array(held.prefix(2)), [1, -1])
        XCTAssertTrue(held.dropFirst(2).allSatisfy { $0 == nil })
        let rangeNetwork = try NeuraxonNetwork.load(contentsOf: try XCTUnwrap(rangeReader.header.networkFile(recordingPath: range)))
        let onItsOwn = try Replay.run(reader: try RecordingReader(path: range), network: rangeNetwork,
                                      mapping: try rangeReader.header.resolvedMapping())
        XCTAssertEqual(onItsOwn.divergentTicks, 0, onItsOwn.firstDivergence.map { "\($0)" } ?? "")
        XCTAssertEqual(onItsOwn.ticks, ranged.ticksInRange)

        let lines = try String(contentsOfFile: folder + "/run.jsonl", encoding: .utf8).split(separator: "\n")
        let stripped = lines.filter { !$0.contains("\"event\":\"clamp\"") }
        XCTAssertEqual(stripped.count, lines.count - 3)
        try (stripped.joined(separator: "\n") + "\n").write(toFile: folder + "/stripped.jsonl", atomically: true, encoding: .utf8)
        let (_, network, mapping) = try setUp()
        let diverged = try Replay.run(reader: try RecordingReader(path: folder + "/stripped.jsonl"), network: network, mapping: mapping)
        XCTAssertGreaterThan(diverged.divergentTicks, 0)
    }
}
