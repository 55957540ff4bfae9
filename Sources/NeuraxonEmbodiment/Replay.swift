import Foundation
import Neuraxon

/// How to replay a recording.
public struct ReplayOptions: Sendable {
    /// Wall-clock pace, 0.1…10 (1 = real time); `nil` replays as fast as possible.
    public var rate: Double?
    /// Start of the range, in s of firmware time after the first tick. Earlier ticks still run
    /// through the network (unpaced, unwritten) so the range starts from the recorded state.
    public var fromSeconds: Double?
    /// End of the range, in s after the first tick; replay stops after it.
    public var toSeconds: Double?

    public static let rateRange: ClosedRange<Double> = 0.1...10

    public init(rate: Double? = nil, fromSeconds: Double? = nil, toSeconds: Double? = nil) {
        self.rate = rate
        self.fromSeconds = fromSeconds
        self.toSeconds = toSeconds
    }
}

/// The first tick where replay and recording disagree.
public struct Divergence: Sendable, Equatable, CustomStringConvertible {
    public enum Field: String, Sendable { case input, output, setpoint }
    public var tick: Int
    /// Firmware time of the tick, s after the first tick.
    public var seconds: Double
    public var field: Field
    /// The neuron index (input, output) or the actuator channel's name (setpoint).
    public var what: String
    public var recorded: Int
    public var replayed: Int

    public var description: String {
        let t = (seconds * 1000).rounded() / 1000
        return "first divergence at tick \(tick) (t = \(t) s): \(field.rawValue) \(what) was \(recorded) in the recording and \(replayed) in replay"
    }
}

/// The outcome of a replay.
public struct ReplayReport: Sendable, Equatable {
    /// Ticks fed through the network (including those before `--from`).
    public var ticks = 0
    /// Ticks inside the chosen range.
    public var ticksInRange = 0
    /// Network steps run.
    public var steps = 0
    /// Ticks whose inputs, outputs or setpoints differ from the recorded ones.
    public var divergentTicks = 0
    public var firstDivergence: Divergence?
    /// Records the recording itself lost while it was made (its ring was full).
    public var recordDrops = 0
    /// Where reading stopped; `.complete` or `.endedEarly` for a whole recording.
    public var stop: ReadStop = .complete
    /// Whether replay ended at `toSeconds` before the recording's end.
    public var reachedTo = false
    /// Firmware time covered, s.
    public var seconds = 0.0

    /// True when every replayed tick equals its recording.
    public var identical: Bool { divergentTicks == 0 }
}

/// Feeds a recording's sensor frames through encoder, network and decoder in lockstep and
/// compares every tick's input trits, output trits and setpoints with the recorded ones.
///
/// With the network file and seed the recording was made with, nothing differs; otherwise the
/// first divergence is reported. Link losses in the recording restart the network clock as
/// they did in the run.
public enum Replay {
    /// Replays `reader` through `network` with `mapping`, optionally writing a new recording.
    /// - Parameter shouldStop: polled once per tick; returning true ends the replay early.
    public static func run<N: ControlledNetwork>(
        reader: RecordingReader, network: N, mapping: Mapping, options: ReplayOptions = ReplayOptions(),
        recorder: Recorder? = nil, shouldStop: () -> Bool = { false }
    ) throws -> ReplayReport {
        try replay(reader: reader, network: network, mapping: mapping, options: options, recorder: recorder, shouldStop: shouldStop)
    }

    /// Replays with the model's network; the same as the generic `run`, compiled for
    /// `NeuraxonNetwork` so no step goes through a generic call.
    public static func run(
        reader: RecordingReader, network: NeuraxonNetwork, mapping: Mapping, options: ReplayOptions = ReplayOptions(),
        recorder: Recorder? = nil, shouldStop: () -> Bool = { false }
    ) throws -> ReplayReport {
        try replay(reader: reader, network: network, mapping: mapping, options: options, recorder: recorder, shouldStop: shouldStop)
    }

    static func replay<N: ControlledNetwork>(
        reader: RecordingReader, network: N, mapping: Mapping, options: ReplayOptions,
        recorder: Recorder?, shouldStop: () -> Bool
    ) throws -> ReplayReport {
        let core = try ControlCore(mapping: mapping, network: network)
        var report = ReplayReport()
        var firstTimestamp: UInt64?
        var paceStart: (wall: UInt64, t: UInt64)?
        let fromMicros = options.fromSeconds.map { UInt64(max(0, $0) * 1e6) } ?? 0
        let toMicros = options.toSeconds.map { UInt64(max(0, $0) * 1e6) }
        var frame = SensorFrame(channelCount: mapping.device.sensors.count)

        // Reading and parsing run on a second thread, ahead of the network.
        let entries = PrefetchingReader(reader)
        defer { entries.finish() }
        var exhausted = false
        while true {
            guard let entry = entries.next() else { exhausted = true; break }
            if shouldStop() { break }
            let record: TickRecord
            switch entry {
            case let .event(e):
                if e.kind == .linkLost {
                    core.restartClock()
                    recorder?.record(event: .linkLost)
                } else if e.kind == .linkRestored {
                    recorder?.record(event: .linkRestored)
                }
                continue
            case let .tick(t):
                record = t
            }
            let t0 = firstTimestamp ?? record.timestampMicros
            firstTimestamp = t0
            let since = record.timestampMicros &- t0
            if let toMicros, since > toMicros { report.reachedTo = true; break }

            frame.timestampMicros = record.timestampMicros
            frame.sequence = record.sequence
            frame.hostReceiveNanos = record.hostReceiveNanos
            frame.droppedFrames = UInt64(record.counters.droppedFrames)
            let n = min(record.raw.count, frame.readings.count)
            for k in 0..<n { frame.readings[k] = record.raw[k] }
            frame.count = n

            let inRange = since >= fromMicros
            if inRange, let rate = options.rate {
                let start = paceStart ?? (monotonicNanos(), record.timestampMicros)
                paceStart = start
                let due = start.wall &+ UInt64(Double(record.timestampMicros &- start.t) * 1000 / rate)
                sleepNanos(Int64(bitPattern: due &- monotonicNanos()))
            }

            core.process(frame)
            report.ticks += 1
            report.steps += core.lastSteps
            report.recordDrops = record.counters.recordDrops
            report.seconds = Double(since) / 1e6
            if inRange {
                report.ticksInRange += 1
                recorder?.record(core, frame: frame, sentNanos: 0)
            }
            if let d = compare(core, record, seconds: Double(since) / 1e6) {
                report.divergentTicks += 1
                if report.firstDivergence == nil { report.firstDivergence = d }
            }
        }
        // Stopped on purpose (`toSeconds`, `shouldStop`) counts as complete.
        entries.finish()
        report.stop = exhausted ? reader.stop ?? .complete : .complete
        return report
    }

    private static func compare<N>(_ core: ControlCore<N>, _ r: TickRecord, seconds: Double) -> Divergence? {
        func diff(_ field: Divergence.Field, _ a: [Int], _ b: [Int], _ name: (Int) -> String) -> Divergence? {
            for k in 0..<max(a.count, b.count) {
                let x = k < a.count ? a[k] : Int.min, y = k < b.count ? b[k] : Int.min
                if x != y { return Divergence(tick: r.tick, seconds: seconds, field: field, what: name(k), recorded: x, replayed: y) }
            }
            return nil
        }
        // Fast path: no divergence, no allocation of comparison arrays.
        if r.inputs == core.inputs && r.outputs == core.outputs && r.setpoints == core.setpoints { return nil }
        return diff(.input, r.inputs.map(\.value), core.inputs.map(\.value)) { "neuron \($0)" }
            ?? diff(.output, r.outputs.map(\.value), core.outputs.map(\.value)) { "neuron \($0)" }
            ?? diff(.setpoint, r.setpoints.map(Int.init), core.setpoints.map(Int.init)) { k in
                k < core.mapping.device.actuators.count ? core.mapping.device.actuators[k].name : "channel \(k)"
            }
    }
}

/// Reads a recording on its own thread, a chunk of entries ahead of the consumer, so parsing
/// overlaps the network's steps. The reader must not be touched by anyone else until `finish()`
/// has returned.
final class PrefetchingReader: @unchecked Sendable {
    private let reader: RecordingReader
    private let condition = NSCondition()
    private var ready: [[RecordingEntry]] = []
    private var done = false
    private var cancelled = false
    private var current: [RecordingEntry] = []
    private var position = 0
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)
    private var joined = false

    /// Entries per hand-over, and hand-overs kept ready at most.
    static let chunk = 512, depth = 8

    init(_ reader: RecordingReader) {
        self.reader = reader
        let thread = Thread { [self] in produce() }
        thread.name = "neuraxon-replay-reader"
        self.thread = thread
        thread.start()
    }

    private func produce() {
        defer { finished.signal() }
        while true {
            var batch: [RecordingEntry] = []
            batch.reserveCapacity(Self.chunk)
            while batch.count < Self.chunk, let entry = reader.next() { batch.append(entry) }
            condition.lock()
            while ready.count >= Self.depth && !cancelled { condition.wait() }
            if cancelled { condition.unlock(); return }
            if !batch.isEmpty { ready.append(batch) }
            let end = batch.count < Self.chunk
            if end { done = true }
            condition.broadcast()
            condition.unlock()
            if end { return }
        }
    }

    /// The next entry, or nil at the end of the recording (then see the reader's `stop`).
    func next() -> RecordingEntry? {
        if position < current.count {
            defer { position += 1 }
            return current[position]
        }
        condition.lock()
        while ready.isEmpty && !done { condition.wait() }
        if ready.isEmpty { condition.unlock(); return nil }
        current = ready.removeFirst()
        condition.broadcast()
        condition.unlock()
        position = 1
        return current[0]
    }

    /// Stops the reading thread and waits for it; afterwards the reader may be used again.
    func finish() {
        guard !joined else { return }
        joined = true
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
        finished.wait()
    }
}
