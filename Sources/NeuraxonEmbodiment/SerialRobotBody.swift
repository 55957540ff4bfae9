import Glibc
import NeuraxonChannels
import NeuraxonProtocol
import NeuraxonTransport

/// A robot on a serial port as a `Body`: the transport layer's `LinkSession` (handshake,
/// configuration, heartbeat, sequence tracking, link-loss detection, reconnect by identity),
/// seen by the control loop as a source of sensor frames and a sink of setpoints.
///
/// Lifecycle: `init` connects (HELLO → DEVICE_INFO, CONFIG → CONFIG_ACK with the sampling
/// period, failsafe timeout and sensor mask of `SessionOptions.config`). `nextFrame` waits for
/// SENSORS frames; while the link is down it reports `.linkLost` and, if the session reconnects,
/// frames again once the same board answers (the configuration is restored). `stopActuators`
/// sends every actuator's safe value, then STOP, waits for the board's STATUS and closes the
/// port; after it the body reports `.linkLost` and sends nothing.
///
/// Time: `SensorFrame.timestampMicros` is the board's 32-bit µs clock unwrapped to 64 bits. It
/// starts at the first frame's stamp t₀ and advances by each frame's wrapping difference
/// Δ = (tₖ − tₖ₋₁) mod 2³²; a Δ of 2³¹ µs or more means the board's clock went back (it
/// restarted), and the timeline then advances by one sampling period instead, so a run's
/// firmware time never goes backwards. `SensorFrame.sequence` advances by the difference of
/// the 8-bit frame sequence numbers (by 1 after a reconnect). See `SerialFrameClock`.
///
/// Threading: the session belongs to the thread that calls `nextFrame`, `send` and
/// `stopActuators` (the loop's thread once it runs). `link` and `takeEvents()` may be read from
/// any thread. Once connected, `nextFrame` and `send` allocate nothing.
public final class SerialRobotBody: Body, @unchecked Sendable {
    public let session: LinkSession
    /// The board's DEVICE_INFO from the handshake.
    public let board: BoardInfo
    /// The board's channels, named (see `DeviceInfo.init(board:samplePeriodMicros:)`).
    public let device: DeviceInfo

    private var sample = SensorSample()
    private let safeValues: [Int16]
    private var clock: SerialFrameClock
    private var stopped = false

    private let lock = Lock()
    private var snapshot: SerialLinkSnapshot   // guarded by lock
    private var pendingEvents: [String] = []   // guarded by lock
    private var _finalStatus: BoardStatus?     // guarded by lock
    private var _isStopped = false             // guarded by lock
    private var roundTripCopy = RoundTripStatistics()   // guarded by lock
    /// A pipe whose read end becomes readable when an event is queued or the body stops, so
    /// a watching thread wakes at once (see `waitForEvents(timeoutMilliseconds:)`).
    /// Woken by every event, so `waitForEvents` returns when it happens.
    private let eventsWake = WakePipe()

    // Recording the link (`recordLink(to:statusPollMilliseconds:)`); the session's thread's own.
    private var recorder: Recorder?
    /// Firmware time at or after which the next `link` record is due, µs.
    private var nextLinkRecordMicros: UInt64 = 0
    private var roundTrips = RecentRoundTrips(capacity: RecordedLinkStatus.roundTripWindow)
    private var failsafe = BoardFailsafeTracker()

    /// Connects to the board `options.selector` names and configures it.
    /// - Throws: `LinkError` naming the device, what went wrong and what to do.
    public convenience init(options: SessionOptions) throws(LinkError) {
        try self.init(session: LinkSession(options: options))
    }

    /// Takes over `session`, connecting it first unless it is already streaming. The body
    /// becomes the session's `onEvent` handler (see `takeEvents()`).
    /// - Throws: `LinkError` from the connection.
    public init(session: LinkSession) throws(LinkError) {
        self.session = session
        if session.state != .streaming { try session.connect() }
        guard let info = session.board else { throw .notConnected }
        board = info
        let period = Int(session.activeConfig?.periodMilliseconds ?? session.options.config.periodMilliseconds) * 1000
        device = DeviceInfo(board: info, samplePeriodMicros: period)
        clock = SerialFrameClock(samplePeriodMicros: UInt64(max(1, period)))
        safeValues = info.actuators.map(\.safe)
        snapshot = SerialLinkSnapshot(state: session.state, counters: session.counters)
        pendingEvents.reserveCapacity(64)
        // Events are kept until `takeEvents()` collects them (at most 64, the oldest dropped).
        session.onEvent = { [weak self] event in self?.note(event) }
    }

    deinit {
    }

    // MARK: Body

    public func nextFrame(into frame: inout SensorFrame, timeoutMicros: Int) -> BodyEvent {
        let deadline = MonotonicTime.now().adding(milliseconds: Double(max(0, timeoutMicros)) / 1000)
        switch session.nextSensors(into: &sample, deadline: deadline) {
        case let .sample(seq):
            let received = monotonicNanos()
            clock.advance(stamp: sample.timestampMicros, sequence: seq)
            frame.timestampMicros = clock.timestampMicros
            frame.sequence = clock.sequence
            frame.hostReceiveNanos = received
            frame.droppedFrames = session.counters.droppedFrames
            // Readings stay at their channel's index; a channel below the highest sampled one
            // but outside the mask reads 0.
            let n = min(frame.readings.count, ProtocolLimits.maxChannels)
            var count = 0
            for channel in 0..<n {
                if sample.sensorMask & (1 << channel) != 0 {
                    frame.readings[channel] = sample.readings[channel]
                    count = channel + 1
                } else {
                    frame.readings[channel] = 0
                }
            }
            frame.count = count
            publish()
            if recorder != nil, clock.timestampMicros >= nextLinkRecordMicros { recordLinkStatus() }
            return .frame
        case .timeout:
            return .timeout
        case .reconnected:
            clock.relinked = true
            publish()
            return .timeout
        case .linkLost:
            publish()
            return .linkLost
        }
    }

    public func send(_ setpoints: [Int16]) -> Bool {
        guard !stopped else { return false }
        return session.sendCommand(setpoints)
    }

    /// Sends every actuator's safe value, then STOP (the board applies the safe values and
    /// enters its `stopped` failsafe state), waits for its STATUS, and closes the port. Calling
    /// it again does nothing.
    public func stopActuators() {
        guard !stopped else { return }
        stopped = true
        _ = session.sendCommand(safeValues)
        let status = session.stop()
        lock.withLock {
            _finalStatus = status
            _isStopped = true
        }
        publish()
        eventsWake.wake()
    }

    // MARK: Recording the link

    /// Records the link into `recorder` from now on, from the thread that runs the body (the
    /// tick thread, between ticks): the board's failsafe engaging and clearing (`failsafe`,
    /// `failsafe_cleared`, as the board's STATUS reports it, asked for every
    /// `statusPollMilliseconds`; nil asks only when the session does, at the final STOP), each
    /// reconnect (`reconnect`, with the board's id), and a `link` record with the session's
    /// counters and round trip at the first frame and then once per second of firmware time.
    /// Call before the run starts. Nothing here allocates per tick: a `link` record copies
    /// counters and a few numbers into the recorder's ring.
    public func recordLink(to recorder: Recorder, statusPollMilliseconds: Double? = 1000) {
        self.recorder = recorder
        nextLinkRecordMicros = 0
        session.onRoundTrip = { [weak self] milliseconds in self?.roundTrips.add(milliseconds) }
        session.onStatus = { [weak self] status in self?.noteStatus(status) }
        session.statusPollMilliseconds = statusPollMilliseconds
    }

    private func recordLinkStatus() {
        guard let recorder else { return }
        nextLinkRecordMicros = clock.timestampMicros &+ 1_000_000
        var link = RecordedLinkStatus()
        link.counters = session.counters
        link.roundTripCount = roundTrips.total
        link.roundTripLastMillis = roundTrips.last
        link.roundTripP50Millis = roundTrips.percentile(50)
        link.roundTripP99Millis = roundTrips.percentile(99)
        var event = RecordingEvent(kind: .link, tick: 0, timestampMicros: 0)
        event.link = link
        recorder.record(event)
    }

    private func noteStatus(_ status: BoardStatus) {
        guard let recorder else { return }
        let (engaged, cleared) = failsafe.take(status)
        func report(_ kind: RecordingEvent.Kind) {
            var event = RecordingEvent(kind: kind, tick: 0, timestampMicros: 0)
            event.failsafeState = status.failsafeState?.description ?? "unknown \(status.failsafe)"
            event.failsafeTrips = Int(status.failsafeTrips)
            event.boardUptimeMillis = Int(status.uptimeMilliseconds)
            recorder.record(event)
        }
        if engaged { report(.failsafe) }
        if cleared { report(.failsafeCleared) }
    }

    private func recordReconnect(path: String, afterMilliseconds: Double) {
        guard let recorder else { return }
        var event = RecordingEvent(kind: .reconnect, tick: 0, timestampMicros: 0)
        event.boardID = session.board?.uniqueIDHex ?? board.uniqueIDHex
        event.devicePath = path
        event.afterMillis = afterMilliseconds
        recorder.record(event)
    }

    // MARK: Watching from other threads

    /// The link's state and counters as of the last frame or event.
    public var link: SerialLinkSnapshot { lock.withLock { snapshot } }

    /// The board's STATUS after the clean stop, when it answered.
    public var finalStatus: BoardStatus? { lock.withLock { _finalStatus } }

    /// Whether `stopActuators` has run (the port is closed; the loop is ending).
    public var isStopped: Bool { lock.withLock { _isStopped } }

    /// Waits until an event is queued, the body stops, `wakeOn` (when not -1) becomes
    /// readable, or `timeoutMilliseconds` pass; returns the events queued by then (see
    /// `takeEvents()`). An event is seen here within a millisecond or so of the session
    /// reporting it, so a watcher can print loss and reconnect when they happen.
    public func waitForEvents(timeoutMilliseconds: Int32, wakeOn: Int32 = -1) -> [String] {
        var fds = (pollfd(fd: eventsWake.fileDescriptor, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeOn, events: Int16(POLLIN), revents: 0))
        let ready = withUnsafeMutableBytes(of: &fds) { raw in
            poll(raw.baseAddress!.assumingMemoryBound(to: pollfd.self), 2, max(0, timeoutMilliseconds))
        }
        if ready > 0 && fds.0.revents != 0 { eventsWake.drain() }
        return takeEvents()
    }

    /// The session's events (state changes, loss, reconnect, board errors) since the last call,
    /// as text, oldest first.
    public func takeEvents() -> [String] {
        lock.withLock {
            let events = pendingEvents
            pendingEvents.removeAll(keepingCapacity: true)
            return events
        }
    }

    // MARK: Internals

    private func publish() {
        let state = session.state
        let counters = session.counters
        let failsafe = session.lastStatus?.failsafe
        lock.withLock {
            snapshot.state = state
            snapshot.counters = counters
            snapshot.failsafe = failsafe
            if roundTripCopy.count != session.roundTrip.count { roundTripCopy.copy(from: session.roundTrip) }
        }
    }

    /// Copies the session's PING → PONG round trips as of the last frame into `target`
    /// (another thread's own statistics; allocates nothing, so the tick thread is never held
    /// up by more than a copy).
    public func copyRoundTrip(into target: inout RoundTripStatistics) {
        lock.withLock { target.copy(from: roundTripCopy) }
    }

    private func note(_ event: LinkEvent) {
        if case let .reconnected(path, milliseconds) = event { recordReconnect(path: path, afterMilliseconds: milliseconds) }
        let state = session.state
        let counters = session.counters
        let text = event.description
        lock.withLock {
            snapshot.state = state
            snapshot.counters = counters
            if case .state = event { return }
            if pendingEvents.count == 64 { pendingEvents.removeFirst() }
            pendingEvents.append(text)
        }
        if case .state = event { return }
        eventsWake.wake()
    }
}

/// Follows the board's failsafe through its STATUS reports: whether the actuators are held at
/// their safe values by the failsafe, as far as the board has said.
///
/// A STATUS engages it when its state is `timeout` or `stopped`, or when its `failsafe_trips`
/// counter differs from the previous STATUS's (a trip between two reports, or a board that
/// restarted); it clears when a later STATUS says `active`. Both can happen on one STATUS (the
/// failsafe tripped and commands took over again between two reports).
struct BoardFailsafeTracker {
    private var trips: UInt32?
    /// Whether the last STATUS left the failsafe engaged.
    private(set) var engaged = false

    /// Takes one STATUS; says whether it engaged the failsafe and whether it cleared it.
    mutating func take(_ status: BoardStatus) -> (engaged: Bool, cleared: Bool) {
        let tripped = trips.map { $0 != status.failsafeTrips } ?? false
        trips = status.failsafeTrips
        let state = status.failsafeState
        var result = (engaged: false, cleared: false)
        if !engaged && (state == .timeout || state == .stopped || tripped) {
            engaged = true
            result.engaged = true
        }
        if engaged && state == .active {
            engaged = false
            result.cleared = true
        }
        return result
    }
}

/// The latest round trips, for percentiles without allocating: a fixed ring and the same
/// samples kept sorted, both made at `init`. Adding one is O(capacity); a percentile is O(1).
struct RecentRoundTrips {
    private var ring: [Double]
    private var sorted: [Double]
    private var count = 0
    private var next = 0
    /// Round trips added in total.
    private(set) var total = 0
    /// The latest round trip, ms.
    private(set) var last: Double?

    init(capacity: Int) {
        // Two buffers of their own: sharing one would make the first `add` copy it.
        ring = [Double](repeating: 0, count: max(1, capacity))
        sorted = [Double](repeating: 0, count: max(1, capacity))
    }

    /// Adds one round trip of `milliseconds`, dropping the oldest when full.
    mutating func add(_ milliseconds: Double) {
        let capacity = ring.count
        if count == capacity {
            // Take the oldest out of the sorted samples.
            let old = ring[next]
            var k = 0
            while k < count && sorted[k] != old { k += 1 }
            while k < count - 1 { sorted[k] = sorted[k + 1]; k += 1 }
            count -= 1
        }
        ring[next] = milliseconds
        next = (next + 1) % capacity
        var k = count
        while k > 0 && sorted[k - 1] > milliseconds { sorted[k] = sorted[k - 1]; k -= 1 }
        sorted[k] = milliseconds
        count += 1
        total += 1
        last = milliseconds
    }

    /// The `p`-th percentile (0...100) of the samples held, ms (nearest rank), or nil with none.
    func percentile(_ p: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = Int((p / 100 * Double(count)).rounded(.up)) - 1
        return sorted[max(0, min(count - 1, rank))]
    }
}

/// Turns the board's 32-bit µs timestamps and 8-bit sequence numbers into a 64-bit timeline
/// that never goes backwards, and a 32-bit frame count.
///
/// t(0) = the first stamp; t(k) = t(k−1) + Δ with Δ = (stampₖ − stampₖ₋₁) mod 2³², or, when
/// Δ ≥ 2³¹ µs (the board's clock went back: it restarted), one sampling period. The sequence
/// starts at the first frame's number and advances by (seqₖ − seqₖ₋₁) mod 2⁸, or by 1 after a
/// reconnect or a repeated number.
struct SerialFrameClock {
    let samplePeriodMicros: UInt64
    /// Set by the body when the link came back; the next frame's sequence then advances by 1.
    var relinked = false
    private(set) var timestampMicros: UInt64 = 0
    private(set) var sequence: UInt32 = 0
    private var started = false
    private var lastStamp: UInt32 = 0
    private var lastSequence: UInt8 = 0

    init(samplePeriodMicros: UInt64) { self.samplePeriodMicros = samplePeriodMicros }

    mutating func advance(stamp: UInt32, sequence seq: UInt8) {
        if !started {
            started = true
            timestampMicros = UInt64(stamp)
            sequence = UInt32(seq)
        } else {
            let delta = stamp &- lastStamp
            timestampMicros &+= delta < 1 << 31 ? UInt64(delta) : samplePeriodMicros
            let step = seq &- lastSequence
            sequence &+= relinked || step == 0 ? 1 : UInt32(step)
        }
        relinked = false
        lastStamp = stamp
        lastSequence = seq
    }
}

/// The link of a `SerialRobotBody` at one moment.
public struct SerialLinkSnapshot: Sendable, Equatable {
    public var state: LinkState
    public var counters: LinkCounters
    /// The failsafe state byte of the board's last STATUS (see `FailsafeState`), nil before one.
    public var failsafe: UInt8? = nil
}

extension DeviceInfo {
    /// The channel list of a board, from its DEVICE_INFO.
    ///
    /// DEVICE_INFO carries each channel's kind, unit and range; a version-2 board also names
    /// every channel (CHANNEL_INFO), and those names are used. A version-1 board sends no names:
    /// when its channels line up with the reference robot's (same count, kinds and units), they
    /// take the reference robot's names (`range_left`, …, `motor_left`, …), so one mapping file
    /// serves the board, the simulator and recordings; otherwise they are called `sensor_0`,
    /// `sensor_1`, … and `actuator_0`, ….
    /// - Parameter samplePeriodMicros: the sampling period the board was configured with, µs.
    public init(board: BoardInfo, samplePeriodMicros: Int) {
        var sensors = board.sensors, actuators = board.actuators
        if !board.channelsNamed {
            let reference = DeviceInfo.referenceRobot
            func sameShape(_ a: [ChannelDescriptor], _ b: [ChannelDescriptor]) -> Bool {
                a.count == b.count && zip(a, b).allSatisfy { $0.kind == $1.kind && $0.unit == $1.unit }
            }
            let lineUp = sameShape(sensors, reference.sensors) && sameShape(actuators, reference.actuators)
            for k in sensors.indices { sensors[k].name = lineUp ? reference.sensors[k].name : "sensor_\(k)" }
            for k in actuators.indices { actuators[k].name = lineUp ? reference.actuators[k].name : "actuator_\(k)" }
        }
        self.init(name: board.board, firmwareVersion: board.firmwareVersionString, samplePeriodMicros: samplePeriodMicros,
                  sensors: sensors, actuators: actuators)
    }
}
