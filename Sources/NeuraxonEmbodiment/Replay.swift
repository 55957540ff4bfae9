import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Neuraxon
import NeuraxonTransport

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
    /// Ticks fed through the network and checked against the recording (including those
    /// before `--from`, which are checked too).
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
    /// How many ticks the recording holds, from its `end` record (read at the file's end when
    /// reading stopped before it); nil when it has none.
    public var recordedTicks: Int?
    /// Where reading stopped; `.complete` or `.endedEarly` for a whole recording.
    public var stop: ReadStop = .complete
    /// Whether replay ended at `toSeconds` before the recording's end.
    public var reachedTo = false
    /// Whether a stop request ended the replay before it was done.
    public var stopped = false
    /// Firmware time covered, s.
    public var seconds = 0.0
    /// The range asked for, s after the first tick (for the summary).
    public var fromSeconds: Double?
    public var toSeconds: Double?

    /// True when every replayed tick equals its recording.
    public var identical: Bool { divergentTicks == 0 }

    /// Whether the replay checked what it was asked to, and what it found.
    public var verdict: ReplayVerdict {
        if divergentTicks > 0 { return .diverged }
        if stopped { return .stopped }
        if case let .damaged(_, _, reason) = stop {
            let unchecked = recordedTicks.map { $0 > ticks ? "; \($0 - ticks) of its \($0) ticks were not checked" : "" } ?? "; the ticks after it were not checked"
            return .incomplete("reading stopped at \(stop.location): \(reason)" + unchecked)
        }
        if ticks == 0 { return .incomplete("the recording holds no tick: nothing was checked") }
        if ticksInRange == 0 { return .incomplete("no tick lies in the range asked for: nothing in it was checked") }
        if !reachedTo, let recordedTicks, ticks < recordedTicks {
            let missing = recordedTicks - ticks
            return .incomplete("\(missing) of its \(recordedTicks) ticks are not in the file"
                + (recordDrops > 0 ? " (the recording lost \(recordDrops) records while it was made)" : ""))
        }
        return .verified
    }

    /// The summary `neuraxon replay` prints: what was checked, of how much, and the verdict.
    /// - Parameter wallSeconds: how long the replay took.
    public func summary(wallSeconds: Double) -> [String] {
        var lines: [String] = []
        let of = recordedTicks.map { " of \($0)" } ?? ""
        lines.append("checked \(ticks)\(of) ticks (up to t = \(fixed(seconds, 3)) s of firmware time, \(steps) network steps) in \(fixed(wallSeconds, 2)) s")
        if fromSeconds != nil || toSeconds != nil {
            let range = "t = \(fixed(fromSeconds ?? 0, 3)) … " + (toSeconds.map { "\(fixed($0, 3)) s" } ?? "the end")
            lines.append("range \(range): \(ticksInRange) ticks" + (ticks > ticksInRange ? " (the \(ticks - ticksInRange) before it ran first, to reach the recorded state)" : ""))
        }
        switch verdict {
        case .verified:
            lines.append("every input trit, output trit and setpoint equals the recording")
        case .diverged:
            lines.append("\(firstDivergence.map(String.init(describing:)) ?? "diverged"); \(divergentTicks) of \(ticks) ticks differ")
        case .stopped:
            lines.append("stopped before the end: \(ticks)\(of) ticks checked, all equal to the recording so far")
        case let .incomplete(why):
            lines.append("not verified: \(why)")
        }
        if recordDrops > 0 && verdict == .diverged {
            lines.append("note: the recording lost \(recordDrops) records while it was made; ticks after a lost record cannot match")
        }
        if case .endedEarly = stop, verdict == .verified {
            lines.append("note: the recording has no end record (the run was interrupted); every tick it holds was checked")
        }
        return lines
    }

    private func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
}

/// What a replay established.
public enum ReplayVerdict: Sendable, Equatable {
    /// Every tick asked for was checked and equals the recording.
    case verified
    /// A tick differs from the recording (see `ReplayReport.firstDivergence`).
    case diverged
    /// Not every tick could be checked; the text says why and where.
    case incomplete(String)
    /// A stop request ended the replay; every tick checked so far was equal.
    case stopped
}

/// Feeds a recording's sensor frames through encoder, network and decoder in lockstep and
/// compares every tick's input trits, output trits and setpoints with the recorded ones.
///
/// With the network file and seed the recording was made with, nothing differs; otherwise the
/// first divergence is reported. Link losses in the recording restart the network clock as
/// they did in the run. A recording that starts in the middle of a run (its header has a
/// `start_state`) starts from that state.
public enum Replay {
    /// Replays `reader` through `network` with `mapping`.
    /// - Parameters:
    ///   - stopRequest: ends the replay before the next tick (and wakes a paced wait at once).
    ///   - shouldStop: polled once per tick (and every 100 ms of a paced wait); returning true
    ///     ends the replay early, as a stop request does.
    public static func run<N: ControlledNetwork>(
        reader: RecordingReader, network: N, mapping: Mapping, options: ReplayOptions = ReplayOptions(),
        stopRequest: StopRequest? = nil, shouldStop: () -> Bool = { false }, observer: (any TickObserver)? = nil
    ) throws -> ReplayReport {
        try replay(reader: reader, network: network, mapping: mapping, options: options, startRecording: nil,
                   stopRequest: stopRequest, shouldStop: shouldStop, observer: observer)
    }

    /// Replays with the model's network; the same as the generic `run`, compiled for
    /// `NeuraxonNetwork` so no step goes through a generic call.
    /// - Parameter record: write the ticks of the range to a new recording at this path. It
    ///   starts at the range's first tick: the network as it stands then is saved beside it as
    ///   `record + ".network.json"` (named in its header), and the header's `start_state`
    ///   holds the encoders', decoders' and clock's state, so the new recording replays on its
    ///   own. Its ticks are numbered from 0 and its `end` record counts them. The recording is
    ///   finished (its `end` record written) before this returns, stopped or not.
    /// - Parameter recordNeurons: that recording holds every neuron's state with each tick.
    public static func run(
        reader: RecordingReader, network: NeuraxonNetwork, mapping: Mapping, options: ReplayOptions = ReplayOptions(),
        record: String? = nil, recordNeurons: Bool = false, stopRequest: StopRequest? = nil, shouldStop: () -> Bool = { false },
        observer: (any TickObserver)? = nil
    ) throws -> ReplayReport {
        let start: ((ControlCore<NeuraxonNetwork>) throws -> Recorder)? = record.map { path in
            { core in
                let networkPath = path + ".network.json"
                let bytes = Array(network.fileText().utf8)
                do {
                    try AtomicFile.replace(networkPath, with: bytes)
                } catch let failure as AtomicFile.Failure {
                    throw RecordingError(path: networkPath, "cannot write the network the new recording starts from: \(failure.message)")
                }
                var header = RecordingHeader(mapping: mapping, network: NetworkIdentity(path: networkPath, bytes: bytes, network: network),
                                             dtMillis: network.dt)
                if core.counters.ticks > 0 { header.startState = core.state }
                let recorder = try Recorder(path: path, header: header, waitWhenFull: true)
                if recordNeurons { recorder.recordNeurons(of: network) }
                return recorder
            }
        }
        return try replay(reader: reader, network: network, mapping: mapping, options: options, startRecording: start,
                          stopRequest: stopRequest, shouldStop: shouldStop, observer: observer)
    }

    static func replay<N: ControlledNetwork>(
        reader: RecordingReader, network: N, mapping: Mapping, options: ReplayOptions,
        startRecording: ((ControlCore<N>) throws -> Recorder)?, stopRequest: StopRequest?, shouldStop: () -> Bool,
        observer: (any TickObserver)? = nil
    ) throws -> ReplayReport {
        let core = try ControlCore(mapping: mapping, network: network)
        if let state = reader.header.startState { try core.restore(state) }
        var report = ReplayReport()
        report.fromSeconds = options.fromSeconds
        report.toSeconds = options.toSeconds
        var firstTimestamp: UInt64?
        var paceStart: (wall: UInt64, t: UInt64)?
        let fromMicros = options.fromSeconds.map { UInt64(max(0, $0) * 1e6) } ?? 0
        let toMicros = options.toSeconds.map { UInt64(max(0, $0) * 1e6) }
        var frame = SensorFrame(channelCount: mapping.device.sensors.count)
        var recorder: Recorder?
        func stopAsked() -> Bool { stopRequest?.isRequested == true || shouldStop() }

        // Reading and parsing run on a second thread, ahead of the network.
        let entries = PrefetchingReader(reader)
        defer { entries.finish() }
        var exhausted = false
        do {
            while true {
                guard let entry = entries.next() else { exhausted = true; break }
                if stopAsked() { report.stopped = true; break }
                let record: TickRecord
                switch entry {
                case let .event(e):
                    if e.kind == .linkLost {
                        core.restartClock()
                        recorder?.record(event: .linkLost)
                    } else if e.kind == .linkRestored {
                        recorder?.record(event: .linkRestored)
                    } else if e.kind == .end {
                        report.recordedTicks = e.tick
                    } else if e.kind == .modulate, let m = e.modulator, let level = e.level {
                        // Set from outside the run before the next tick: set it again.
                        network.modulate(m, to: level)
                        recorder?.record(modulator: m, level: level)
                    } else if e.kind == .clamp, let input = e.input {
                        // An input held (or released) from outside the run: hold it again.
                        core.clamp(input: input, to: e.clampedState)
                        recorder?.record(clamp: input, to: e.clampedState)
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
                    if !wait(until: due, stopRequest: stopRequest, shouldStop: shouldStop) { report.stopped = true; break }
                }
                if inRange, recorder == nil, let startRecording { recorder = try startRecording(core) }

                core.process(frame)
                report.ticks += 1
                report.steps += core.lastSteps
                report.recordDrops = record.counters.recordDrops
                report.seconds = Double(since) / 1e6
                if inRange {
                    report.ticksInRange += 1
                    recorder?.record(core, frame: frame, sentNanos: 0)
                    if let observer {
                        observer.recorded(pose: record.pose)
                        observer.afterTick(core, frame: frame, latencyNanos: record.hostSendNanos &- record.hostReceiveNanos)
                    }
                }
                if let d = compare(core, record, seconds: Double(since) / 1e6) {
                    report.divergentTicks += 1
                    if report.firstDivergence == nil { report.firstDivergence = d }
                }
            }
            // A range with no tick still gets its (empty) recording.
            if recorder == nil, let startRecording { recorder = try startRecording(core) }
            try recorder?.finish()
        } catch {
            try? recorder?.finish()
            throw error
        }
        entries.finish()
        // Stopping at `toSeconds` or on request is not damage: reading was not done.
        report.stop = exhausted ? reader.stop ?? .complete : .complete
        if report.recordedTicks == nil, exhausted, case .damaged = report.stop {
            report.recordedTicks = reader.endRecordAtFileEnd()?.tick
        }
        return report
    }

    /// Waits until `due` (ns of CLOCK_MONOTONIC), waking at once for `stopRequest` and every
    /// 100 ms for `shouldStop`. Returns false when a stop was asked for.
    private static func wait(until due: UInt64, stopRequest: StopRequest?, shouldStop: () -> Bool) -> Bool {
        while true {
            if stopRequest?.isRequested == true || shouldStop() { return false }
            let now = monotonicNanos()
            guard due > now else { return true }
            let millis = Int32(min((due - now + 999_999) / 1_000_000, 100))
            if let fd = stopRequest?.fileDescriptor, fd >= 0 {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&p, 1, millis)
            } else {
                sleepNanos(Int64(min(due - now, 100_000_000)))
            }
        }
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
    private let finished = DispatchSemaphore(value: 0)
    private var joined = false

    /// Entries per hand-over, and hand-overs kept ready at most.
    static let chunk = 512, depth = 8

    init(_ reader: RecordingReader) {
        self.reader = reader
        let thread = Thread { [self] in produce() }
        thread.name = "neuraxon-replay-reader"
        thread.start()   // not kept: the thread holds the reader only while it reads
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
