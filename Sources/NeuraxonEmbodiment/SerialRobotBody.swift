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
