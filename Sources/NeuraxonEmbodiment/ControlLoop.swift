import Foundation
import NeuraxonTransport

/// A histogram of durations with fixed buckets: 1 µs wide up to 1 ms, then 100 µs wide up to
/// 100 ms, then one overflow bucket. Recording a value is O(1) and allocates nothing.
///
/// Fixed buckets rather than an HdrHistogram: this covers a control tick's latencies at the
/// resolution that matters, needs no dependency, and a copy is a plain copy of its counts
/// (`assign(_:)`), which is what keeps the tick thread from allocating when status is read.
public struct LatencyHistogram: Sendable, Equatable {
    private var fine = [Int](repeating: 0, count: 1000)     // [k, k+1) µs
    private var coarse = [Int](repeating: 0, count: 990)    // [1000 + 100k, 1000 + 100(k+1)) µs
    private var overflow = 0
    public private(set) var count = 0
    /// The largest value recorded, in ns.
    public private(set) var maximumNanos: UInt64 = 0

    public init() {}

    public mutating func record(nanos: UInt64) {
        count += 1
        maximumNanos = max(maximumNanos, nanos)
        let micros = Int(nanos / 1000)
        if micros < 1000 {
            fine[micros] += 1
        } else if micros < 100_000 {
            coarse[(micros - 1000) / 100] += 1
        } else {
            overflow += 1
        }
    }

    /// The q-quantile (0 < q ≤ 1) in µs: the upper edge of the bucket that holds it; 0 when empty.
    public func quantileMicros(_ q: Double) -> Double {
        guard count > 0 else { return 0 }
        let rank = max(1, Int((q * Double(count)).rounded(.up)))
        var seen = 0
        for (k, n) in fine.enumerated() {
            seen += n
            if seen >= rank { return Double(k + 1) }
        }
        for (k, n) in coarse.enumerated() {
            seen += n
            if seen >= rank { return Double(1000 + 100 * (k + 1)) }
        }
        return Double(maximumNanos) / 1000
    }

    /// Makes this histogram equal to `other` by copying its counts into this one's own
    /// storage, so the two never share a buffer: recording into `other` afterwards never has
    /// to copy it. Allocates nothing when this histogram's storage is its own.
    /// - Complexity: O(number of buckets) (about 2000).
    public mutating func assign(_ other: LatencyHistogram) {
        fine.withUnsafeMutableBufferPointer { to in
            other.fine.withUnsafeBufferPointer { from in to.update(fromContentsOf: from) }
        }
        coarse.withUnsafeMutableBufferPointer { to in
            other.coarse.withUnsafeBufferPointer { from in to.update(fromContentsOf: from) }
        }
        overflow = other.overflow
        count = other.count
        maximumNanos = other.maximumNanos
    }
}

/// The times of the most recent ticks, in fixed storage, for the loop's current rate.
struct RecentTicks {
    /// Ticks remembered at most; at more than this many ticks per second the rate is taken
    /// over the last `capacity` ticks instead of the last second.
    static let capacity = 4096
    private var times: [UInt64]     // ring of tick times, ns of CLOCK_MONOTONIC
    private var total = 0

    init() { times = [UInt64](repeating: 0, count: Self.capacity) }

    /// The time of the latest tick, ns (0 before the first).
    var latest: UInt64 { total > 0 ? times[(total - 1) % Self.capacity] : 0 }

    /// Notes a tick at `nanos` (non-decreasing). O(1), allocates nothing.
    mutating func record(_ nanos: UInt64) {
        times[total % Self.capacity] = nanos
        total += 1
    }

    /// Ticks per second over the ticks of the `windowNanos` up to `now`: (n − 1) / (time from
    /// the first of them to the last) for the n ≥ 2 ticks in the window. With fewer (a loop
    /// slower than the window), the rate of the last interval while the next tick is not
    /// overdue (less than two intervals since the last); otherwise 0.
    /// - Complexity: O(log capacity).
    func rate(now: UInt64, windowNanos: UInt64) -> Double {
        let n = min(total, Self.capacity)
        guard n >= 2 else { return 0 }
        let after = now > windowNanos ? now - windowNanos : 0
        func time(age k: Int) -> UInt64 { times[(total - 1 - k) % Self.capacity] }   // k = 0: latest
        // The oldest tick still inside the window: the largest age whose time is after `after`.
        var lo = 0, hi = n - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if time(age: mid) > after { lo = mid } else { hi = mid - 1 }
        }
        guard time(age: 0) > after, lo >= 1 else {
            // At most one tick in the window: a loop slower than the window, or one that stopped.
            let interval = time(age: 0) &- time(age: 1)
            return interval > 0 && now &- time(age: 0) < 2 &* interval ? 1e9 / Double(interval) : 0
        }
        let span = time(age: 0) &- time(age: lo)
        return span > 0 ? Double(lo) * 1e9 / Double(span) : 0
    }
}

/// A snapshot of a running loop, safe to read from any thread. It is a copy: the loop goes on
/// without it.
public struct LoopStatus: Sendable {
    public var state: LoopState
    public var counters: RunCounters
    /// Sensor-to-command latency: from the frame's host receive time to the command sent.
    public var latency: LatencyHistogram
    /// The current rate: ticks per second of wall-clock time over the ticks of the last second
    /// (`ControlLoop.rateWindowNanos`; the last 4096 ticks if more came in that second), or of
    /// the last interval for a loop slower than one tick a second. A loop whose ticks stopped
    /// shows 0 within a second (sooner when it was slower). Once the loop has ended, the last
    /// second before its last tick.
    public var rate: Double
    /// The last output trits, as a string of −, 0 and +.
    public var outputs: String
    /// The last reading problem, if any.
    public var lastReadingProblem: ReadingProblem?
    /// Ticks per second of wall-clock time from the first tick to the last (the whole run's
    /// average, for summaries).
    public var averageRate: Double = 0
}

/// Watches the control loop's ticks from the tick thread (the browser view's snapshot hand-off).
///
/// Both calls run on the tick thread, inside the tick: an observer must not block, wait or
/// allocate, and should do O(neurons) work at most (copy into storage made before the run).
public protocol TickObserver: AnyObject, Sendable {
    /// Before a frame is processed: apply what was asked from outside (a neuromodulator level)
    /// to the network, and note it in `recorder` (`Recorder.record(modulator:level:)`) so that a
    /// replay does it too.
    func beforeTick<N: ControlledNetwork>(_ core: ControlCore<N>, recorder: Recorder?)
    /// After the tick's command was sent: copy what the tick did.
    /// - Parameter latencyNanos: sensor-to-command latency of this tick, ns.
    func afterTick<N: ControlledNetwork>(_ core: ControlCore<N>, frame: SensorFrame, latencyNanos: UInt64)
    /// In a replay, before `afterTick`: the simulated robot's pose the recording holds for the
    /// tick, if any.
    func recorded(pose: RecordedPose?)
}

extension TickObserver {
    public func recorded(pose: RecordedPose?) {}
}

/// A control loop's lifecycle: configured → running (⇄ waiting for link) → ended.
public enum LoopState: Sendable, Equatable, CustomStringConvertible {
    case configured
    case running
    case waitingForLink
    case ended(EndReason)

    public var description: String {
        switch self {
        case .configured: "configured"
        case .running: "running"
        case .waitingForLink: "waiting for link"
        case let .ended(reason): "ended: \(reason)"
        }
    }
}

/// What ended a run.
public enum EndReason: Sendable, Equatable, CustomStringConvertible {
    /// `stop()` was called.
    case stopped
    /// The body had no more frames.
    case finished
    /// The link went down and the loop was told not to wait for it.
    case linkLost
    /// The run reached its duration.
    case durationReached

    public var description: String {
        switch self {
        case .stopped: "stopped"
        case .finished: "the body had no more frames"
        case .linkLost: "the link to the robot was lost"
        case .durationReached: "the duration was reached"
        }
    }
}

/// What the loop does when the link goes down.
public enum LinkLossPolicy: Sendable {
    /// End the run with `EndReason.linkLost`.
    case end
    /// Keep waiting: a body that reconnects (the serial session) brings the run back up; the
    /// network clock restarts at the first frame after it.
    case awaitReconnect
}

/// The control loop: on its own thread, reads a sensor frame from a `Body`, runs it through the
/// `ControlCore` (encoder → network → decoder), sends the setpoints back, and hands the tick to
/// the recorder.
///
/// Lifecycle: `init` configures (the mapping is checked against the body's channel list and
/// the network), `start()` starts the thread, `stop()` stops the actuators first and then ends
/// the recording; `wait()` returns the end reason. Once running, a tick allocates nothing.
///
/// A tick is late when its command leaves after the next frame is due: its sensor-to-command
/// latency exceeds the time between its frame and the previous one (firmware time). Only a body
/// whose frames come in real time can make a tick late; a loop made with
/// `countsLateTicks: false` (an as-fast-as-possible simulation, firmware in lockstep) counts none.
///
/// Status: the tick thread publishes its counters, latency, rate and outputs into storage made
/// when the loop is configured, under a lock it holds for O(1) work per tick; `status()` copies
/// them out (the latency histogram's ~16 KB included) and builds its snapshot outside the lock.
/// Nothing is shared with a snapshot, so polling the status never makes the tick thread
/// allocate.
public final class ControlLoop<B: Body, N: ControlledNetwork>: @unchecked Sendable {
    public let body: B
    public let core: ControlCore<N>
    public let recorder: Recorder?
    /// Sees every tick from the tick thread (`TickObserver`), if any.
    public let observer: (any TickObserver)?
    public let linkLossPolicy: LinkLossPolicy
    /// Firmware-time length of the run in µs, or `nil` to run until stopped.
    public let durationMicros: UInt64?
    /// How long one `nextFrame` call may wait, in µs.
    public let frameTimeoutMicros: Int
    /// Ends the run when asked (by `stop()`, a signal or any other thread); the tick thread
    /// checks it before every frame.
    public let stopRequest: StopRequest
    /// Whether a tick can be late (frames come in real time); see the type's discussion.
    public let countsLateTicks: Bool
    /// The window of `LoopStatus.rate`, ns.
    public static var rateWindowNanos: UInt64 { 1_000_000_000 }

    // Published for `status()`; written by the tick thread, copied out by readers, never handed
    // out (a reader holding a reference would make the tick thread's next write copy it).
    private let lock = Lock()
    private var _state: LoopState = .configured          // guarded by lock
    private var published = RunCounters()            // guarded by lock
    private var latency = LatencyHistogram()         // guarded by lock
    private var recent = RecentTicks()               // guarded by lock
    private var firstTickNanos: UInt64 = 0           // guarded by lock
    private var lastOutputs: [Int8]                  // guarded by lock
    private let outputCount: Int
    private var lastProblem: ReadingProblem?         // guarded by lock
    private var _recordingError: RecordingError?    // guarded by lock
    private let done = DispatchSemaphore(value: 0)

    /// Configures a loop.
    /// - Parameter countsLateTicks: false when the body's frames do not come in real time
    ///   (an as-fast-as-possible simulation, firmware in lockstep): no tick is counted late.
    /// - Throws: `MappingError` when the mapping was validated against another device or
    ///   another network size.
    public init(body: B, network: N, mapping: Mapping, recorder: Recorder? = nil,
                linkLossPolicy: LinkLossPolicy = .awaitReconnect, durationMicros: UInt64? = nil,
                frameTimeoutMicros: Int = 250_000, stopRequest: StopRequest = StopRequest(),
                countsLateTicks: Bool = true, observer: (any TickObserver)? = nil) throws {
        guard mapping.device.sensors == body.device.sensors, mapping.device.actuators == body.device.actuators else {
            throw MappingError(line: nil, "the mapping was checked against the channels of \(mapping.device.name), not those of \(body.device.name); load it again for this body")
        }
        self.body = body
        self.core = try ControlCore(mapping: mapping, network: network)
        self.recorder = recorder
        self.observer = observer
        self.linkLossPolicy = linkLossPolicy
        self.durationMicros = durationMicros
        self.frameTimeoutMicros = frameTimeoutMicros
        self.stopRequest = stopRequest
        self.countsLateTicks = countsLateTicks
        outputCount = network.outputCount
        lastOutputs = [Int8](repeating: 0, count: network.outputCount)
        if let recorder, let linked = body as? any LinkRecordingBody { linked.recordLink(to: recorder) }
    }

    public var state: LoopState { lock.withLock { _state } }

    /// Starts the loop's thread. Calling it twice has no effect.
    public func start() {
        let go = lock.withLock { () -> Bool in
            guard _state == .configured else { return false }
            _state = .running
            return true
        }
        guard go else { return }
        let thread = Thread { [self] in
            let reason = self.run()
            self.lock.withLock { self._state = .ended(reason) }
            self.done.signal()
        }
        thread.name = "neuraxon-control-loop"
        thread.stackSize = 1 << 20
        thread.start()   // not kept: the thread holds the loop only while it runs
    }

    /// Asks the loop to stop and waits for it: actuators are stopped first, then the recording
    /// is finished.
    @discardableResult
    public func stop() -> EndReason {
        stopRequest.request()
        return wait()
    }

    /// Waits until the loop ends and returns why. Returns `.stopped` for a loop never started.
    @discardableResult
    public func wait() -> EndReason {
        if case .configured = state {
            lock.withLock { _state = .ended(.stopped) }
            return .stopped
        }
        done.wait()
        done.signal()   // let later callers through too
        if case let .ended(reason) = state { return reason }
        return .stopped
    }

    /// A failure of the recorder during the run, if any (the run itself went on).
    public var recordingError: RecordingError? { lock.withLock { _recordingError } }

    /// A consistent snapshot of counters, latency, rate and outputs, copied out of the loop's
    /// published storage; safe from any thread, at any rate. The copy's storage is made before
    /// the lock is taken and the text after it is released.
    public func status() -> LoopStatus {
        var histogram = LatencyHistogram()
        var outputs = [Int8](repeating: 0, count: outputCount)
        var state = LoopState.configured, counters = RunCounters(), problem: ReadingProblem?
        var rate = 0.0, average = 0.0
        lock.withLock {
            state = _state
            counters = published
            problem = lastProblem
            histogram.assign(latency)
            for k in 0..<outputs.count { outputs[k] = lastOutputs[k] }
            let last = recent.latest
            if case .ended = _state {
                rate = recent.rate(now: last, windowNanos: Self.rateWindowNanos)
            } else {
                rate = recent.rate(now: monotonicNanos(), windowNanos: Self.rateWindowNanos)
            }
            let seconds = Double(last &- firstTickNanos) / 1e9
            average = seconds > 0 && counters.ticks > 1 ? Double(counters.ticks - 1) / seconds : 0
        }
        return LoopStatus(state: state, counters: counters, latency: histogram, rate: rate,
                          outputs: String(outputs.map { $0 > 0 ? "+" : $0 < 0 ? "-" : "0" }),
                          lastReadingProblem: problem, averageRate: average)
    }

    // MARK: The tick thread

    private func run() -> EndReason {
        var frame = SensorFrame(channelCount: body.device.sensors.count)
        var previousTimestamp: UInt64? = nil
        var startTimestamp: UInt64? = nil
        var linkDown = false
        let reason: EndReason
        while true {
            if stopRequest.isRequested {
                recorder?.record(stopBySignal: stopRequest.signal ?? 0)
                reason = .stopped
                break
            }
            let event = body.nextFrame(into: &frame, timeoutMicros: frameTimeoutMicros)
            if event == .finished { reason = .finished; break }
            if event == .timeout { continue }
            if event == .linkLost {
                if !linkDown {
                    linkDown = true
                    core.counters.linkLosses += 1
                    core.restartClock()
                    previousTimestamp = nil
                    recorder?.record(event: .linkLost)
                    lock.withLock { published = core.counters; _state = .waitingForLink }
                }
                if linkLossPolicy == .end { reason = .linkLost; break }
                continue
            }
            if linkDown {
                linkDown = false
                recorder?.record(event: .linkRestored)
                lock.withLock { _state = .running }
            }
            if frame.hostReceiveNanos == 0 { frame.hostReceiveNanos = monotonicNanos() }
            if startTimestamp == nil { startTimestamp = frame.timestampMicros }

            observer?.beforeTick(core, recorder: recorder)
            core.process(frame)
            let sent = body.send(core.setpoints)
            let sentNanos = monotonicNanos()
            let latencyNanos = sentNanos &- frame.hostReceiveNanos
            if countsLateTicks, let previous = previousTimestamp, frame.timestampMicros > previous,
               latencyNanos > (frame.timestampMicros - previous) &* 1000 {
                core.counters.lateTicks += 1
            }
            previousTimestamp = frame.timestampMicros
            if let recorder {
                if !recorder.record(core, frame: frame, sentNanos: sentNanos) { core.counters.recordDrops += 1 }
            }
            publish(latencyNanos: latencyNanos, at: sentNanos)
            observer?.afterTick(core, frame: frame, latencyNanos: latencyNanos)

            if !sent {
                core.counters.linkLosses += 1
                linkDown = true
                core.restartClock()
                previousTimestamp = nil
                recorder?.record(event: .linkLost)
                lock.withLock { published = core.counters; _state = .waitingForLink }
                if linkLossPolicy == .end { reason = .linkLost; break }
            }
            if let durationMicros, let s = startTimestamp, frame.timestampMicros &- s >= durationMicros {
                reason = .durationReached
                break
            }
        }
        body.stopActuators()
        if let recorder {
            do { try recorder.finish() } catch { lock.withLock { _recordingError = error } }
        }
        return reason
    }

    /// Publishes one tick for `status()`: O(1) under the lock, into storage made at `init`.
    private func publish(latencyNanos: UInt64, at nanos: UInt64) {
        lock.withLock {
            published = core.counters
            latency.record(nanos: latencyNanos)
            if firstTickNanos == 0 { firstTickNanos = nanos }
            recent.record(nanos)
            for k in 0..<lastOutputs.count { lastOutputs[k] = core.outputs[k].rawValue }
            if let p = core.lastReadingProblem, lastProblem != p { lastProblem = p }
        }
    }
}
