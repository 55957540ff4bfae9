import Foundation
import Neuraxon

/// A mapping for the reference robot and a network of at least 5 inputs and 3 outputs: both
/// range sensors (calibrated to cm through a table), both light sensors, the bumper; a
/// differential drive and the servo; the bumper pulses dopamine. Docs/MAPPING.md explains it.
public let referenceMappingYAML = """
    sensors:
      - channel: range_left
        neuron: 0
        calibration:
          table: [[400, 80], [600, 50], [900, 35], [1300, 25], [2000, 15], [3100, 8]]
        set_point: 30
        dead_band: 10
        hysteresis: 2
        invert: true
      - channel: range_right
        neuron: 1
        calibration:
          table: [[400, 80], [600, 50], [900, 35], [1300, 25], [2000, 15], [3100, 8]]
        set_point: 30
        dead_band: 10
        hysteresis: 2
        invert: true
      - channel: light_left
        neuron: 2
      - channel: light_right
        neuron: 3
      - channel: bumper
        neuron: 4
    differential:
      left: motor_left
      right: motor_right
      forward: 0
      turn: 1
      tau: 50
      slew: 4000
    actuators:
      - channel: servo
        neuron: 2
        tau: 200
    reward:
      - when: bumper > 0
        pulse: {dopamine: 1.0}

    """

/// A stand-in network whose step costs next to nothing: output k copies input k mod inputs.
/// It isolates the loop's own cost in the overhead benchmark.
public final class IdleNetwork: ControlledNetwork {
    public let inputCount: Int
    public let outputCount: Int
    public let dt: Double
    private var inputs: [Trit]
    private var levels = [Double](repeating: 0.1, count: 4)

    public init(inputCount: Int = 5, outputCount: Int = 5, dt: Double = 1) {
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.dt = dt
        inputs = [Trit](repeating: .neutral, count: inputCount)
    }

    public func setInputState(_ index: Int, _ state: Trit) { inputs[index] = state }
    public func simulateStep() {}
    public func outputState(_ index: Int) -> Trit { inputs[index % inputCount] }
    public func modulate(_ modulator: Neuromodulator, to level: Double) { levels[modulator.index] = min(1, max(0, level)) }
    public func level(of modulator: Neuromodulator) -> Double { levels[modulator.index] }
}

/// Benchmarks of the control loop, the recorder and replay (reported in Docs/PERFORMANCE.md).
public enum EmbodimentBenchmarks {
    /// The loop's own cost per tick, the network excluded.
    public struct LoopResult: Sendable, CustomStringConvertible {
        public var ticks: Int
        /// Sensor-to-command time per tick (body read → encode → decode → send), µs.
        public var p50Micros: Double
        public var p99Micros: Double
        public var maxMicros: Double
        /// Mean cost of handing one tick to the recorder on the tick thread, µs.
        public var recordMeanMicros: Double
        /// That cost as a share of a 1 kHz loop's period.
        public var recordShareAt1kHz: Double
        public var recordDrops: Int

        public var description: String {
            String(format: "loop overhead over %d ticks (network excluded): p50 %.0f µs, p99 %.0f µs, max %.0f µs; recording %.2f µs per tick = %.3f%% of a 1 kHz period, %d records dropped",
                   ticks, p50Micros, p99Micros, maxMicros, recordMeanMicros, recordShareAt1kHz * 100, recordDrops)
        }
    }

    /// Runs `ticks` frames of the reference robot through a `ControlLoop` with a `ScriptedBody`
    /// (as fast as it answers) and an `IdleNetwork`, recording to `recordingPath`.
    public static func loop(ticks: Int = 20_000, recordingPath: String) throws -> LoopResult {
        let mapping = try Mapping(yaml: referenceMappingYAML, device: .referenceRobot, inputCount: 5, outputCount: 5)
        let body = ScriptedBody(count: ticks, periodMicros: 1000, readings: syntheticReadings)
        // The scripted body answers at once, so the loop runs far faster than any robot; the
        // ring holds the whole run so no record is dropped.
        let recorder = try Recorder(path: recordingPath, header: RecordingHeader(mapping: mapping, network: NetworkIdentity(), dtMillis: 1),
                                    capacity: ticks + 16)
        let loop = try ControlLoop(body: body, network: IdleNetwork(), mapping: mapping, recorder: recorder)
        loop.start()
        loop.wait()
        let status = loop.status()

        // The recorder's cost on the tick thread, timed on its own.
        let core = try ControlCore(mapping: mapping, network: IdleNetwork())
        let timing = try Recorder(path: recordingPath + ".timing", header: RecordingHeader(mapping: mapping, network: NetworkIdentity(), dtMillis: 1), capacity: 1 << 15)
        var frame = SensorFrame(channelCount: 7)
        var spent: UInt64 = 0
        let n = min(ticks, 1 << 14)
        for i in 0..<n {
            frame.timestampMicros = UInt64(i) * 1000
            let r = syntheticReadings(i)
            for k in 0..<7 { frame.readings[k] = r[k] }
            core.process(frame)
            let t0 = monotonicNanos()
            timing.record(core, frame: frame, sentNanos: t0)
            spent += monotonicNanos() - t0
        }
        try timing.finish()
        unlink(recordingPath + ".timing")
        let mean = Double(spent) / Double(n) / 1000
        return LoopResult(ticks: status.counters.ticks, p50Micros: status.latency.quantileMicros(0.5),
                          p99Micros: status.latency.quantileMicros(0.99), maxMicros: Double(status.latency.maximumNanos) / 1000,
                          recordMeanMicros: mean, recordShareAt1kHz: mean / 1000, recordDrops: status.counters.recordDrops)
    }

    /// Replay of a long recording.
    public struct ReplayResult: Sendable, CustomStringConvertible {
        public var ticks: Int
        public var steps: Int
        public var recordedSeconds: Double
        public var replaySeconds: Double
        public var identical: Bool
        public var fileBytes: Int

        public var description: String {
            String(format: "replay of %.0f s (%d ticks, %d network steps, %.1f MB): %.2f s, %@",
                   recordedSeconds, ticks, steps, Double(fileBytes) / 1e6, replaySeconds,
                   identical ? "every tick identical" : "DIVERGED")
        }
    }

    /// Records `seconds` of the reference robot at `rateHz` with a network from `makeNetwork`
    /// (sensor readings from a fixed synthetic script), then times replaying it through a fresh
    /// network from the same factory.
    public static func replay<N: ControlledNetwork>(seconds: Double = 600, rateHz: Double = 200, recordingPath: String,
                                                    makeNetwork: () throws -> N) throws -> ReplayResult {
        let first = try makeNetwork()
        let mapping = try Mapping(yaml: referenceMappingYAML, device: .referenceRobot,
                                  inputCount: first.inputCount, outputCount: first.outputCount)
        let recorder = try Recorder(path: recordingPath, header: RecordingHeader(mapping: mapping, network: NetworkIdentity(), dtMillis: first.dt),
                                    capacity: 1 << 14, waitWhenFull: true)
        let core = try ControlCore(mapping: mapping, network: first)
        let ticks = Int(seconds * rateHz)
        let period = UInt64((1e6 / rateHz).rounded())
        var frame = SensorFrame(channelCount: 7)
        for i in 0..<ticks {
            frame.timestampMicros = UInt64(i) * period
            frame.sequence = UInt32(truncatingIfNeeded: i)
            let r = syntheticReadings(i)
            for k in 0..<7 { frame.readings[k] = r[k] }
            core.process(frame)
            recorder.record(core, frame: frame, sentNanos: 0)
        }
        try recorder.finish()

        let t0 = monotonicNanos()
        let reader = try RecordingReader(path: recordingPath)
        let network = try makeNetwork(), recorded = try reader.header.resolvedMapping()
        let report = if let model = network as? NeuraxonNetwork {
            try Replay.run(reader: reader, network: model, mapping: recorded)
        } else {
            try Replay.run(reader: reader, network: network, mapping: recorded)
        }
        let elapsed = Double(monotonicNanos() - t0) / 1e9
        let size = (try? FileManager.default.attributesOfItem(atPath: recordingPath)[.size] as? Int) ?? 0
        return ReplayResult(ticks: report.ticks, steps: report.steps, recordedSeconds: seconds, replaySeconds: elapsed,
                            identical: report.identical && report.ticks == ticks, fileBytes: size)
    }

    /// A fixed, varied sensor script for the reference robot: the robot drives towards and away
    /// from walls and lights, and bumps every 7 s.
    public static func syntheticReadings(_ i: Int) -> [Int16] {
        let t = Double(i) / 200
        let rangeL = 1700 + 1300 * sin(t * 0.9), rangeR = 1700 + 1300 * sin(t * 0.7 + 1)
        let lightL = 2500 + 2000 * sin(t * 0.3), lightR = 2500 + 2000 * cos(t * 0.25)
        let bump: Double = i % 1400 < 20 ? 1 : 0
        return [rangeL, rangeR, lightL, lightR, bump, Double(i % 30000), Double((i * 2) % 30000)].map { Int16($0.rounded()) }
    }
}
