import Foundation
import Neuraxon
@testable import NeuraxonEmbodiment
import NeuraxonSimulation
import NeuraxonTransport
import Synchronization
import Testing

/// The lines of a recording with the fields Docs/LOG-FORMAT.md documents as wall-clock
/// (`start_time` in the header, `host_ns` and `sent_ns` in ticks) blanked, and how many were.
private func withoutWallClock(_ path: String) throws -> (lines: [String], blanked: Int) {
    var blanked = 0
    let patterns = [(#""start_time":"[^"]*""#, #""start_time":"""#), (#""host_ns":[0-9]+"#, #""host_ns":0"#),
                    (#""sent_ns":[0-9]+"#, #""sent_ns":0"#)]
    let lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n").map { line in
        var line = line
        for (pattern, replacement) in patterns {
            let regex = try! NSRegularExpression(pattern: pattern)
            blanked += regex.numberOfMatches(in: line, range: NSRange(line.startIndex..., in: line))
            line = regex.stringByReplacingMatches(in: line, range: NSRange(line.startIndex..., in: line), withTemplate: replacement)
        }
        return line
    }
    return (lines, blanked)
}

/// When a stop was asked for, ns of CLOCK_MONOTONIC.
private final class Moment: Sendable {
    let nanos = Atomic<UInt64>(0)
}

@Suite struct SimRunTests {
    /// As fast as possible there is no wall clock to be late against: two runs of the same
    /// simulation record the same bytes but for the documented wall-clock fields, directly
    /// and through the host-built firmware in lockstep.
    @Test func twoIdenticalSimulatedRunsRecordTheSameBytesButTheWallClockFields() throws {
        let folder = TemporaryFolder()
        let preset = RobotPreset.avoid
        let world = try World.named("obstacles")
        let networkPath = folder.file("net.json")
        try preset.network(seed: 3).save(to: networkPath)
        let firmware = try SerialFirmware.binary.get()
        for through in [nil, FirmwareInTheLoop.host(firmware: firmware)] {
            var runs: [[String]] = []
            var ticks: [Int] = []
            for k in 0..<2 {
                let (network, identity) = try loadNetwork(networkPath)
                let robot = try SimulatedRobot(world: world, seed: 3, start: 1)
                let mapping = try preset.mapping(device: DeviceInfo(simulated: robot))
                let path = folder.file("run-\(through == nil ? "direct" : "firmware")-\(k).jsonl")
                let recorder = try Recorder(path: path, header: RecordingHeader(mapping: mapping, network: identity, dtMillis: network.dt),
                                            waitWhenFull: true)
                let outcome = if let through {
                    try SimulationRun.run(robot: robot, network: network, mapping: mapping, durationSeconds: 4, recorder: recorder,
                                          throughFirmware: through)
                } else {
                    try SimulationRun.run(robot: robot, network: network, mapping: mapping, durationSeconds: 4, recorder: recorder)
                }
                #expect(outcome.endReason == .durationReached)
                #expect(outcome.counters.lateTicks == 0)
                let (lines, blanked) = try withoutWallClock(path)
                #expect(blanked == 1 + 2 * outcome.counters.ticks, "every wall-clock field was found")
                runs.append(lines)
                ticks.append(outcome.counters.ticks)
            }
            #expect(ticks[0] == ticks[1] && ticks[0] >= 790)
            #expect(runs[0].count == runs[1].count)
            let differing = zip(runs[0], runs[1]).enumerated().filter { $0.element.0 != $0.element.1 }.map { $0.offset + 1 }
            #expect(differing.isEmpty, "\(through.map { "\($0)" } ?? "direct"): lines \(differing.prefix(5)) differ beyond the wall-clock fields")
        }
    }

    /// Even when every tick takes longer than the frame interval in wall-clock time, an
    /// as-fast-as-possible simulation counts no late tick.
    @Test func aSimulationAsFastAsPossibleCountsNoLateTick() throws {
        let outcome = try SimulationRun.run(world: try World.named("empty"), seed: 1, network: SlowNetwork(stepMicros: 2000),
                                            mapping: referenceMapping, durationSeconds: 0.4)
        #expect(outcome.counters.ticks >= 80)
        #expect(outcome.counters.lateTicks == 0, "\(outcome.counters.lateTicks) late ticks")
    }

    /// A stop request ends a simulated run before its next tick, directly and through either
    /// firmware: the recording is finished with its end record, and the outcome, with the
    /// metrics so far, says it was stopped.
    @Test(arguments: ["direct", "host firmware", "AVR firmware"])
    func aStopRequestEndsASimulatedRunWithItsRecordingFinished(via: String) throws {
        let folder = TemporaryFolder()
        let preset = RobotPreset.seek
        let world = try World.named(preset.world)
        let robot = try SimulatedRobot(world: world, seed: 2, start: 0)
        let network = try preset.network(seed: 2)
        let mapping = try preset.mapping(device: DeviceInfo(simulated: robot))
        let path = folder.file("stopped.jsonl")
        let recorder = try Recorder(path: path, header: RecordingHeader(mapping: mapping, network: NetworkIdentity(seed: 2), dtMillis: network.dt),
                                    waitWhenFull: true)
        let stop = StopRequest()
        let asked = Moment()
        // Asked once the run has recorded 50 ticks (the recorder writes within 20 ms).
        Thread.detachNewThread {
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                usleep(20_000)
                guard let reader = try? RecordingReader(path: path) else { continue }
                var ticks = 0
                while ticks < 50, reader.nextTick() != nil { ticks += 1 }
                if ticks >= 50 { break }
            }
            asked.nanos.store(monotonicNanos(), ordering: .relaxed)
            stop.request(signal: SIGTERM)
        }
        let outcome: SimulationOutcome
        switch via {
        case "direct":
            outcome = try SimulationRun.run(robot: robot, network: network, mapping: mapping, durationSeconds: 86_400,
                                            recorder: recorder, stopRequest: stop)
        case "host firmware":
            outcome = try SimulationRun.run(robot: robot, network: network, mapping: mapping, durationSeconds: 86_400, recorder: recorder,
                                            throughFirmware: .host(firmware: try SerialFirmware.binary.get()), stopRequest: stop)
        default:
            outcome = try SimulationRun.run(robot: robot, network: network, mapping: mapping, durationSeconds: 86_400, recorder: recorder,
                                            throughFirmware: try SerialFirmware.avr.get(), stopRequest: stop)
        }
        let ended = monotonicNanos()
        let askedAt = asked.nanos.load(ordering: .relaxed)
        #expect(askedAt > 0, "the run ended before the stop was asked for")
        let millis = Double(ended &- askedAt) / 1e6
        #expect(millis < 3000, "\(via): the run ended \(millis) ms after the stop request")
        #expect(outcome.endReason == .stopped)
        #expect(outcome.metrics.simulatedSeconds > 0 && outcome.counters.ticks >= 50)
        #expect(outcome.recordingError == nil)
        let reader = try RecordingReader(path: path)
        var recorded = 0
        var end: RecordingEvent?
        while let entry = reader.next() {
            switch entry {
            case .tick: recorded += 1
            case let .event(e): if e.kind == .end { end = e }
            }
        }
        #expect(reader.stop == .complete, "\(via): the recording has its end record")
        #expect(recorded == outcome.counters.ticks && end?.tick == recorded)
        print("sim \(via): stop request honoured after \(String(format: "%.1f", millis)) ms (\(outcome.counters.ticks) ticks)")
    }
}
