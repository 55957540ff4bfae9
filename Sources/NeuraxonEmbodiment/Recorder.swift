import Foundation
import Neuraxon
import NeuraxonSimulation
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A recording that cannot be written or read, with the file and what to do.
public struct RecordingError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// A mutex for short critical sections that allocates nothing once built.
final class Lock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always) func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// The monotonic clock, in ns.
@inline(__always) func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Sleeps for `nanos` ns (no-op for 0 or less).
func sleepNanos(_ nanos: Int64) {
    guard nanos > 0 else { return }
    var request = timespec(tv_sec: Int(nanos / 1_000_000_000), tv_nsec: Int(nanos % 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
}

/// Writes a recording (Docs/LOG-FORMAT.md) from outside the control tick.
///
/// The tick copies its record into one slot of a fixed-capacity ring (no allocation, no
/// system call); a writer thread drains the ring every 20 ms, formats JSON lines and writes
/// them with one `write(2)` per batch, so data reaches the file within 100 ms and a run killed
/// mid-write leaves every complete line readable. When the ring is full the tick's record is
/// dropped and counted (`droppedRecords`) unless the recorder was made with
/// `waitWhenFull: true` (replay, where nothing is real-time).
///
/// A path ending in `.mcap` (any case) gets an MCAP file (Docs/LOG-FORMAT.md, "MCAP") instead of JSON
/// Lines, through the same ring and thread: the writer thread closes a chunk on every drain, so
/// a run killed mid-write leaves every chunk but possibly the last one readable
/// (`RecordingReader` recovers such a file), and writes the summary and footer at `finish()`.
///
/// Ticks are numbered from 0 in the order they are handed to the recorder, dropped ones
/// included, so a recording's tick numbers have gaps only where records were dropped.
///
/// Call `finish()` at the end of a run to learn whether every write succeeded; a recorder that
/// is dropped unfinished finishes itself (its file stays complete and readable).
public final class Recorder: @unchecked Sendable {
    private let writer: RecordWriter

    public var path: String { writer.path }

    /// Creates (or truncates) `path`, writes the header line and starts the writer thread.
    ///
    /// The header's network path is stored relative to the folder that holds the recording
    /// (`RecordingHeader.networkPath(_:relativeToFolderOf:)`), so the recording and its network
    /// can move together and be replayed from any folder.
    ///
    /// - Parameters:
    ///   - capacity: ring slots; at 1 kHz the default holds 4 s of ticks.
    ///   - waitWhenFull: wait for room instead of dropping a record when the ring is full.
    public init(path: String, header: RecordingHeader, capacity: Int = 4096, waitWhenFull: Bool = false) throws(RecordingError) {
        writer = try RecordWriter(path: path, header: header, capacity: capacity, waitWhenFull: waitWhenFull)
    }

    deinit { _ = try? writer.finish() }

    /// Records the simulated robot's pose with every tick from now on (`TickRecord.pose`).
    /// Call before the run starts; the tick thread reads `robot.pose` when it records a tick.
    public func recordPose(of robot: SimulatedRobot) { writer.poseSource = robot }

    /// Records every neuron's state with every tick from now on (`TickRecord.neurons`,
    /// `--record-neurons`). Call before the run starts: it sizes each ring slot for
    /// `network.neuronCount` states here, so the tick thread only copies them.
    /// JSON Lines only: an MCAP recording has no topic for them.
    public func recordNeurons(of network: NeuraxonNetwork) { writer.recordNeurons(of: network) }

    /// Records dropped because the ring was full.
    public var droppedRecords: Int { writer.droppedRecords }

    /// Takes one tick from the control core. Called on the tick thread; allocates nothing.
    /// - Returns: `false` when the record was dropped (ring full).
    @discardableResult
    public func record<N>(_ core: ControlCore<N>, frame: SensorFrame, sentNanos: UInt64) -> Bool {
        writer.record(core, frame: frame, sentNanos: sentNanos)
    }

    /// Records an event after the ticks recorded so far. Called on the tick thread.
    public func record(event: RecordingEvent.Kind) { writer.record(event: event) }

    /// Records that `modulator` was set to `level` from outside the run, before the next tick
    /// (a `modulate` event; replay sets it too). Called on the tick thread; allocates nothing.
    public func record(modulator: Neuromodulator, level: Double) { writer.record(event: .modulate, modulator: modulator, level: level) }

    /// Records `event` with its fields (a board's report, a user's control, a `link` record)
    /// after the ticks recorded so far; its `tick` and `timestampMicros` are set here. Called
    /// on the tick thread; allocates nothing (the event's strings are only retained).
    public func record(_ event: RecordingEvent) { writer.record(detailed: event) }

    /// Records that a stop was asked for (a `stop` event): by `signal`, or 0 from inside the
    /// program. Called on the tick thread; allocates nothing.
    public func record(stopBySignal signal: Int32) {
        var event = RecordingEvent(kind: .stop, tick: 0, timestampMicros: 0)
        event.signal = Int(signal)
        writer.record(detailed: event)
    }

    /// Records that input neuron `input` was clamped at `state` (nil: released) from outside the
    /// run, before the next tick (a `clamp` event; replay does it too). Called on the tick
    /// thread; allocates nothing.
    public func record(clamp input: Int, to state: Trit?) {
        var event = RecordingEvent(kind: .clamp, tick: 0, timestampMicros: 0)
        event.input = input
        event.clampedState = state
        writer.record(detailed: event)
    }

    /// Writes what is left and the end event, closes the file and stops the writer thread.
    /// Calling it again does nothing.
    /// - Throws: `RecordingError` when a write failed during the run.
    public func finish() throws(RecordingError) { try writer.finish() }
}

/// The ring and the writer thread behind a `Recorder`. The thread holds the writer until
/// `finish()` ends it, so the ring outlives every write.
private final class RecordWriter: @unchecked Sendable {
    private struct Slot {
        var event: RecordingEvent.Kind?
        /// For an event: the ticks handed to the recorder before it, and the last one's firmware time.
        var eventTick = 0
        var eventTimestampMicros: UInt64 = 0
        var eventModulator: Neuromodulator?
        var eventLevel = 0.0
        /// An event with fields of its own (`Recorder.record(_:)`), else nil.
        var detailed: RecordingEvent?
        var record: TickRecord
    }

    let path: String
    /// Ring slots; slot i belongs to the tick thread while i ∉ [tail, head), to the writer otherwise.
    private let slots: UnsafeMutablePointer<Slot>
    private let capacity: Int
    private let lock = Lock()
    private var head = 0            // slots published by the tick thread (guarded by lock)
    private var tail = 0            // slots consumed by the writer (guarded by lock)
    private var stopping = false    // guarded by lock
    private var dropped = 0         // guarded by lock
    private var writeFailure: String?  // guarded by lock
    private let waitWhenFull: Bool
    private let fd: Int32
    private let finished = DispatchSemaphore(value: 0)
    private var closed = false
    /// Ticks handed to `record` so far, kept or dropped (the tick thread's own): a tick's number
    /// in this recording.
    private var ticksOffered = 0
    private var lastTimestampOffered: UInt64 = 0
    /// The simulated robot whose pose each tick records, if any (the tick thread's own).
    var poseSource: SimulatedRobot?
    /// The network whose neuron states each tick records, if any (the tick thread's own).
    private var neuronSource: NeuraxonNetwork?
    /// Formats records for the file (the writer thread's own once started).
    private var sink = RecordingSink(mcap: nil)

    init(path: String, header: RecordingHeader, capacity: Int, waitWhenFull: Bool) throws(RecordingError) {
        self.path = path
        self.capacity = max(2, capacity)
        self.waitWhenFull = waitWhenFull
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RecordingError(path: path, "cannot create the recording (\(String(cString: strerror(errno)))): check the folder exists and is writable")
        }
        self.fd = fd
        var header = header
        let originalNetworkPath = header.network.path
        header.network.path = RecordingHeader.networkPath(header.network.path, relativeToFolderOf: path)
        let isMCAP = path.lowercased().hasSuffix(".mcap")
        slots = .allocate(capacity: self.capacity)
        for i in 0..<self.capacity {
            // Each slot owns its own arrays, so filling one never copies another's.
            let record = TickRecord(
                tick: 0, timestampMicros: 0, sequence: 0, hostReceiveNanos: 0, hostSendNanos: 0, steps: 0,
                raw: [Int16](repeating: 0, count: header.device.sensors.count),
                values: [Double](repeating: 0, count: header.valueNames.count),
                inputs: [Trit](repeating: .neutral, count: header.inputCount),
                outputs: [Trit](repeating: .neutral, count: header.outputCount),
                setpoints: [Int16](repeating: 0, count: header.device.actuators.count),
                modulators: [Double](repeating: 0, count: Neuromodulator.allCases.count), counters: TickCounters())
            (slots + i).initialize(to: Slot(event: nil, record: record))
        }
        do {
            if isMCAP {
                // The network file as the run was given it (before the path was made relative).
                let network = originalNetworkPath.isEmpty ? nil : FileManager.default.contents(atPath: originalNetworkPath).map { Array($0) }
                sink = RecordingSink(mcap: try RecordingMCAPEncoder(header: header, networkFile: network, chunkBytes: 1 << 20))
            }
            let start = try sink.start(header)
            if let failure = writeAll(start) { throw RecordingError(path: path, failure) }
        } catch let error as RecordingError {
            close(fd)
            throw error
        } catch {
            close(fd)
            throw RecordingError(path: path, "cannot encode the header: \(error)")
        }
        let thread = Thread { self.writerLoop() }
        thread.name = "neuraxon-recorder"
        thread.start()   // not kept: the thread holds the recorder only while it writes
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
    }

    var droppedRecords: Int { lock.withLock { dropped } }

    /// Gives every slot room for `network`'s neuron states; before the first record only.
    func recordNeurons(of network: NeuraxonNetwork) {
        for i in 0..<capacity { slots[i].record.neurons = [Trit](repeating: .neutral, count: network.neuronCount) }
        neuronSource = network
    }

    func record<N>(_ core: ControlCore<N>, frame: SensorFrame, sentNanos: UInt64) -> Bool {
        let tick = ticksOffered
        ticksOffered += 1
        lastTimestampOffered = frame.timestampMicros
        guard let i = reserve() else { return false }
        let slot = slots + i
        slot.pointee.event = nil
        slot.pointee.record.tick = tick
        slot.pointee.record.timestampMicros = frame.timestampMicros
        slot.pointee.record.sequence = frame.sequence
        slot.pointee.record.hostReceiveNanos = frame.hostReceiveNanos
        slot.pointee.record.hostSendNanos = sentNanos
        slot.pointee.record.steps = core.lastSteps
        copy(frame.readings, count: min(frame.count, frame.readings.count), into: &slot.pointee.record.raw)
        copy(core.values, count: core.values.count, into: &slot.pointee.record.values)
        copy(core.inputs, count: core.inputs.count, into: &slot.pointee.record.inputs)
        copy(core.outputs, count: core.outputs.count, into: &slot.pointee.record.outputs)
        copy(core.setpoints, count: core.setpoints.count, into: &slot.pointee.record.setpoints)
        copy(core.modulators, count: core.modulators.count, into: &slot.pointee.record.modulators)
        var counters = core.counters
        counters.recordDrops = lock.withLock { dropped }
        slot.pointee.record.counters = TickCounters(counters)
        if let robot = poseSource {
            let p = robot.pose
            slot.pointee.record.pose = RecordedPose(x: p.x, y: p.y, heading: p.heading)
        }
        if let network = neuronSource {
            // The slot's array was sized in `recordNeurons(of:)`: writing in place allocates nothing.
            for id in 0..<network.neuronCount { slot.pointee.record.neurons![id] = network.neuron(id).state }
        }
        publish()
        return true
    }

    func record(event: RecordingEvent.Kind, modulator: Neuromodulator? = nil, level: Double = 0) {
        guard let i = reserve() else { return }
        slots[i].event = event
        slots[i].eventModulator = modulator
        slots[i].eventLevel = level
        slots[i].eventTick = ticksOffered
        slots[i].eventTimestampMicros = lastTimestampOffered
        slots[i].detailed = nil
        publish()
    }

    func record(detailed event: RecordingEvent) {
        guard let i = reserve() else { return }
        slots[i].event = event.kind
        slots[i].eventModulator = nil
        slots[i].eventTick = ticksOffered
        slots[i].eventTimestampMicros = lastTimestampOffered
        slots[i].detailed = event
        publish()
    }

    func finish() throws(RecordingError) {
        guard !closed else { return }
        closed = true
        if let i = reserve(force: true) {
            slots[i].event = .end
            slots[i].eventModulator = nil
            slots[i].detailed = nil
            slots[i].eventTick = ticksOffered
            slots[i].eventTimestampMicros = lastTimestampOffered
            publish()
        }
        lock.withLock { stopping = true }
        finished.wait()
        close(fd)
        if let failure = lock.withLock({ writeFailure }) { throw RecordingError(path: path, failure) }
    }

    private func copy<T>(_ source: [T], count: Int, into target: inout [T]) {
        if target.count != count {
            // A frame with fewer channels than the device: keep the recorded shape honest.
            target.removeAll(keepingCapacity: true)
            for k in 0..<count { target.append(source[k]) }
        } else {
            for k in 0..<count { target[k] = source[k] }
        }
    }

    private func reserve(force: Bool = false) -> Int? {
        while true {
            let (h, full) = lock.withLock { (head, head - tail >= capacity) }
            if !full { return h % capacity }
            if !(waitWhenFull || force) {
                lock.withLock { dropped += 1 }
                return nil
            }
            sleepNanos(1_000_000)
        }
    }

    private func publish() { lock.withLock { head += 1 } }

    private func writerLoop() {
        while true {
            let (h, t, stop) = lock.withLock { (head, tail, stopping) }
            if h == t {
                if stop { break }
                sleepNanos(20_000_000)
                continue
            }
            for n in t..<h {
                let slot = slots + (n % capacity)
                if var detailed = slot.pointee.detailed, slot.pointee.event != nil {
                    detailed.tick = slot.pointee.eventTick
                    detailed.timestampMicros = slot.pointee.eventTimestampMicros
                    slot.pointee.detailed = nil
                    sink.add(detailed)
                } else if let event = slot.pointee.event {
                    sink.add(RecordingEvent(kind: event, tick: slot.pointee.eventTick, timestampMicros: slot.pointee.eventTimestampMicros,
                                            modulator: slot.pointee.eventModulator,
                                            level: slot.pointee.eventModulator == nil ? nil : slot.pointee.eventLevel))
                } else {
                    sink.add(slot.pointee.record)
                }
            }
            lock.withLock { tail = h }
            write(sink.drain())
        }
        write(sink.end())
        finished.signal()
    }

    private func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, let failure = writeAll(bytes) else { return }
        lock.withLock { if writeFailure == nil { writeFailure = failure } }
    }

    private func writeAll(_ bytes: [UInt8]) -> String? {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc_write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                return "writing the recording failed (\(String(cString: strerror(errno)))): check free disk space"
            }
            offset += n
        }
        return nil
    }
}

/// How the writer thread formats records: JSON Lines, or MCAP on the topics of
/// `RecordingTopics` when it has an MCAP encoder (chosen by the file's extension).
private struct RecordingSink {
    private var lines = JSONOutput()
    private var mcap: RecordingMCAPEncoder?

    init(mcap: RecordingMCAPEncoder?) {
        self.mcap = mcap
        lines.bytes.reserveCapacity(1 << 20)
    }

    /// The bytes that start the file.
    mutating func start(_ header: RecordingHeader) throws -> [UInt8] {
        if mcap != nil { return mcap!.takeOutput() }
        var line = try header.jsonLine()
        line.append(0x0a)
        return line
    }

    mutating func add(_ tick: TickRecord) {
        if mcap != nil { mcap!.add(tick) } else { tick.appendJSON(to: &lines) }
    }

    mutating func add(_ event: RecordingEvent) {
        if mcap != nil { mcap!.add(event) } else { event.appendJSON(to: &lines) }
    }

    /// The bytes to write now: the lines so far, or the chunk so far, closed.
    mutating func drain() -> [UInt8] {
        if mcap != nil {
            mcap!.closeChunk()
            return mcap!.takeOutput()
        }
        let bytes = lines.bytes
        lines.bytes.removeAll(keepingCapacity: true)
        return bytes
    }

    /// The bytes that end the file: for MCAP the data end, summary and footer.
    mutating func end() -> [UInt8] {
        if mcap != nil { mcap!.finish() }
        return drain()
    }
}

@inline(__always) private func Glibc_write(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #else
    return Darwin.write(fd, p, n)
    #endif
}
