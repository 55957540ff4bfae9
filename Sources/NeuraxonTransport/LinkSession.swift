import Glibc
import NeuraxonProtocol

/// How a session finds its board and runs the link. Times are in milliseconds.
public struct SessionOptions: Sendable {
    /// Which board: a path, serial number or USB ids (see `BoardSelector`).
    public var selector: BoardSelector
    /// Port settings (baud rate, flow control, exclusivity, latency).
    public var serial: SerialConfiguration
    /// Sampling period, failsafe timeout and sensor mask to configure after the handshake,
    /// and to restore after a reconnect.
    public var config: LinkConfig
    /// HELLO is repeated this often until DEVICE_INFO arrives (250 ms, Docs/PROTOCOL.md section 6).
    public var helloIntervalMilliseconds: Double = 250
    /// The handshake gives up after this long (2500 ms covers a board that resets on open).
    public var handshakeTimeoutMilliseconds: Double = 2500
    /// CONFIG, GET_STATUS and STOP wait this long for their reply before one retry.
    public var replyTimeoutMilliseconds: Double = 250
    /// The link is declared lost after this long without a good frame from the board.
    public var linkLossMilliseconds: Double = 250
    /// A PING goes out when nothing was sent for this long; nil means a quarter of the failsafe
    /// timeout, so a caller that sends no commands still keeps the board's failsafe fed.
    public var heartbeatMilliseconds: Double?
    /// A PING goes out at least this often to keep round-trip statistics current.
    public var roundTripProbeMilliseconds: Double = 1000
    /// Reconnect to the same board (by identity) after a loss.
    public var reconnect = true
    /// While reconnecting, the device is looked for this often (a udev event looks at once).
    /// A path is checked with one `access` call; other selectors enumerate udev devices, so with
    /// a udev monitor running they are looked for at most once a second between events.
    public var reconnectPollMilliseconds: Double = 100
    /// Watch udev for the board reappearing (nil: rely on polling alone).
    public var monitor: DeviceMonitor.Source? = .udev
    /// A stop asked from another thread (a signal, a button): every wait of the session (the
    /// handshake, replies, the tick's poll, reconnect supervision) returns once it is made.
    public var stopRequest: StopRequest?

    public init(selector: BoardSelector, serial: SerialConfiguration = SerialConfiguration(),
                config: LinkConfig = LinkConfig()) {
        self.selector = selector
        self.serial = serial
        self.config = config
    }

    /// The heartbeat interval in force, ms.
    public var effectiveHeartbeatMilliseconds: Double {
        heartbeatMilliseconds ?? max(2, Double(config.failsafeMilliseconds) / 4)
    }
}

/// What one `nextSensors` call found.
public enum LinkPoll: Equatable, Sendable {
    /// A sensor frame was written into the caller's sample; `sequence` is its frame's seq.
    case sample(sequence: UInt8)
    /// The deadline passed without a sensor frame; the link is still up.
    case timeout
    /// The link is down (just lost, or still reconnecting). The call waited until its deadline
    /// (or returned at the moment of loss); it never spins.
    case linkLost
    /// The link came back during this call; the next call returns frames again.
    case reconnected
}

/// A session with one board over the Neuraxon protocol: handshake, configuration, sensor
/// frames in, commands out, heartbeat, sequence tracking, round-trip statistics, link-loss
/// detection, reconnect by identity, and a clean stop.
///
/// Threading: a session belongs to one thread at a time (the control loop's); nothing in it is
/// locked. The per-tick calls `nextSensors(into:deadline:)` and `sendCommand(_:)` allocate
/// nothing; supervision (reconnect) runs inside `nextSensors` on the same poll loop. State
/// changes and other events go to `onEvent`, on the same thread.
public final class LinkSession {
    public let options: SessionOptions
    /// Where the session stands.
    public private(set) var state: LinkState = .disconnected
    /// What the session has seen.
    public private(set) var counters = LinkCounters()
    /// PING → PONG round trips.
    public private(set) var roundTrip = RoundTripStatistics()
    /// The board's DEVICE_INFO from the first handshake; reconnects must match its identity.
    public private(set) var board: BoardInfo?
    /// The configuration the board acknowledged last.
    public private(set) var activeConfig: LinkConfig?
    /// The device node in use (or last used).
    public private(set) var devicePath: String?
    /// The last STATUS the board sent.
    public private(set) var lastStatus: BoardStatus?
    /// The last ERROR the board sent.
    public private(set) var lastBoardError: ErrorReport?
    /// Why the last reconnect attempt failed, if it did.
    public private(set) var lastReconnectError: LinkError?
    /// Called on every event (state changes, loss, reconnect, board errors).
    public var onEvent: ((LinkEvent) -> Void)?

    private var port: SerialPort?
    private var monitor: DeviceMonitor?
    private var decoder = FrameDecoder(receiver: .host)
    private var encoder = FrameEncoder()
    private let rx: UnsafeMutableRawBufferPointer
    private var rxStart = 0
    private var rxEnd = 0
    private var txSequence: UInt8 = 0
    private var expectedSequence: UInt8?
    private var lastReceive = MonotonicTime.now()
    private var lastSend = MonotonicTime.now()
    private var lastProbe = MonotonicTime.now()
    private var lostAt = MonotonicTime.now()
    private var nextReconnectAttempt = MonotonicTime.now()
    private var foreignVersion: UInt8?

    public init(options: SessionOptions) {
        self.options = options
        rx = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
    }

    deinit {
        if port != nil { _ = stop() }
        rx.deallocate()
    }

    // MARK: Connecting

    /// Finds the board, opens its port, completes the handshake and applies `options.config`.
    ///
    /// - Returns: the board's DEVICE_INFO.
    /// - Throws: `LinkError` naming what went wrong and what to do.
    @discardableResult
    public func connect() throws(LinkError) -> BoardInfo {
        if options.reconnect, monitor == nil, let source = options.monitor {
            monitor = try? DeviceMonitor(source: source)  // without udev, polling still finds the board
        }
        do {
            let info = try open()
            setState(.streaming)
            return info
        } catch {
            closePort()
            setState(.disconnected)
            throw error
        }
    }

    /// Opens the port and runs handshake and configuration (shared by connect and reconnect).
    private func open() throws(LinkError) -> BoardInfo {
        let path: String
        do { path = try options.selector.resolve() } catch { throw .discovery(error) }
        devicePath = path
        do { port = try SerialPort(path: path, configuration: options.serial) } catch { throw .serial(error) }
        emit(.portOpened(path: path, latency: port!.latency))
        let info = try handshake(path: path)
        if let known = board, known.uniqueID != info.uniqueID || known.board != info.board {
            throw .wrongBoard(path: path, expected: Self.identity(known), found: Self.identity(info))
        }
        board = info
        emit(.connected(path: path, board: info))
        try configure(activeConfig ?? options.config, path: path)
        let now = MonotonicTime.now()
        lastReceive = now
        lastProbe = now
        return info
    }

    private static func identity(_ info: BoardInfo) -> String { "\(info.board) id \(info.uniqueIDHex)" }

    private func handshake(path: String) throws(LinkError) -> BoardInfo {
        setState(.handshaking)
        decoder.reset()
        rxStart = 0
        rxEnd = 0
        txSequence = 0
        expectedSequence = nil
        foreignVersion = nil
        let before = counters
        let giveUp = MonotonicTime.now().adding(milliseconds: options.handshakeTimeoutMilliseconds)
        var attempts = 0
        while MonotonicTime.now() < giveUp {
            do {
                try writeRaw([0])
                try send(.hello)
            } catch { throw .serial(error) }
            attempts += 1
            counters.helloAttempts += 1
            let retry = min(giveUp, MonotonicTime.now().adding(milliseconds: options.helloIntervalMilliseconds))
            while true {
                let header: FrameHeader?
                do { header = try nextFrame(deadline: retry) } catch { throw .serial(error) }
                if let v = foreignVersion { throw .versionMismatch(path: path, host: ProtocolLimits.version, board: v) }
                guard let header else { break }
                if header.type == .error, let report = lastBoardError, report.code == ErrorCode.unsupportedVersion.rawValue {
                    throw .versionMismatch(path: path, host: ProtocolLimits.version, board: report.detail)
                }
                if header.type == .deviceInfo, case let .deviceInfo(info)? = try? decoder.message() { return info }
            }
        }
        let heard = Int(counters.bytesReceived - before.bytesReceived)
        let bad = Int((counters.crcErrors + counters.malformedFrames + counters.rejectedFrames)
            - (before.crcErrors + before.malformedFrames + before.rejectedFrames))
        throw .noAnswer(path: path, attempts: attempts, bytesHeard: heard, badFrames: bad)
    }

    /// Sends CONFIG and waits for CONFIG_ACK (one retry).
    private func configure(_ config: LinkConfig, path: String) throws(LinkError) {
        guard let info = board else { throw .notConnected }
        if config.periodMilliseconds < info.periodMinMilliseconds || config.periodMilliseconds > info.periodMaxMilliseconds {
            throw .configInvalid("sampling period \(config.periodMilliseconds) ms is outside this board's "
                + "\(info.periodMinMilliseconds)...\(info.periodMaxMilliseconds) ms")
        }
        if config.failsafeMilliseconds < info.failsafeMinMilliseconds || config.failsafeMilliseconds > info.failsafeMaxMilliseconds {
            throw .configInvalid("failsafe timeout \(config.failsafeMilliseconds) ms is outside this board's "
                + "\(info.failsafeMinMilliseconds)...\(info.failsafeMaxMilliseconds) ms")
        }
        if info.sensors.count < 16 && config.sensorMask >> info.sensors.count != 0 {
            throw .configInvalid("sensor mask 0x\(String(config.sensorMask, radix: 16)) names channels beyond this "
                + "board's \(info.sensors.count) sensors")
        }
        setState(.configuring)
        for _ in 0..<2 {
            let sentSequence = txSequence
            do { try send(.config(config)) } catch { throw .serial(error) }
            let deadline = MonotonicTime.now().adding(milliseconds: options.replyTimeoutMilliseconds)
            while true {
                let header: FrameHeader?
                do { header = try nextFrame(deadline: deadline) } catch { throw .serial(error) }
                guard let header else { break }
                if header.type == .configAck, case let .configAck(ack)? = try? decoder.message() {
                    activeConfig = ack
                    return
                }
                if header.type == .error, let report = lastBoardError, report.referencedSequence == sentSequence,
                   report.referencedType == MessageType.config.rawValue {
                    throw .configRejected(path: path, config: config, report: report)
                }
            }
        }
        throw .noAcknowledgement(path: path, what: "CONFIG")
    }

    // MARK: The tick

    /// Waits until `deadline` for the next sensor frame and writes it into `sample`.
    ///
    /// On the way it answers the link's needs: a PING when the heartbeat is due, round-trip
    /// samples from PONGs, sequence-gap counting, and link-loss detection (no good frame for
    /// `linkLossMilliseconds`, or a hang-up). After a loss, calls run the reconnect supervision
    /// until the board is back. Allocates nothing while streaming.
    public func nextSensors(into sample: inout SensorSample, deadline: MonotonicTime) -> LinkPoll {
        switch state {
        case .streaming: break
        case .reconnecting: return superviseReconnect(deadline: deadline)
        default:
            sleep(until: deadline)
            return .linkLost
        }
        let heartbeat = options.effectiveHeartbeatMilliseconds
        while true {
            let now = MonotonicTime.now()
            if now.milliseconds(since: lastReceive) >= options.linkLossMilliseconds {
                declareLost("no frame from the board for \(Int(now.milliseconds(since: lastReceive))) ms")
                return .linkLost
            }
            if now.milliseconds(since: lastSend) >= heartbeat || now.milliseconds(since: lastProbe) >= options.roundTripProbeMilliseconds {
                do { try sendPing() } catch {
                    declareLost(error.description)
                    return .linkLost
                }
            }
            var wake = min(deadline, lastReceive.adding(milliseconds: options.linkLossMilliseconds))
            wake = min(wake, lastSend.adding(milliseconds: heartbeat))
            wake = min(wake, lastProbe.adding(milliseconds: options.roundTripProbeMilliseconds))
            let header: FrameHeader?
            do { header = try nextFrame(deadline: wake) } catch {
                declareLost(error.description)
                return .linkLost
            }
            if let header, header.type == .sensors, decoder.readSensors(into: &sample) {
                return .sample(sequence: header.sequence)
            }
            if header == nil && MonotonicTime.now() >= deadline { return .timeout }
        }
    }

    /// Sends one COMMAND: one setpoint per actuator channel, channel 0 first, in the channel's
    /// unit. Returns false when the link is down (the command is not queued). No allocation.
    @discardableResult
    public func sendCommand(_ setpoints: UnsafeBufferPointer<Int16>) -> Bool {
        guard state == .streaming, port != nil else { return false }
        encoder.encodeCommand(setpoints, sequence: txSequence)
        txSequence &+= 1
        do { try writeEncoded() } catch {
            declareLost(error.description)
            return false
        }
        counters.commandsSent += 1
        return true
    }

    /// Sends one COMMAND (see `sendCommand(_: UnsafeBufferPointer<Int16>)`).
    @discardableResult
    public func sendCommand(_ setpoints: [Int16]) -> Bool {
        setpoints.withUnsafeBufferPointer { sendCommand($0) }
    }

    // MARK: Requests outside the tick

    /// Sends `count` PINGs one after another and waits for each PONG; returns the round trips
    /// in ms (a lost PONG is left out). Sensor frames arriving meanwhile are counted and dropped.
    public func ping(count: Int, timeoutMilliseconds: Double = 250) throws(LinkError) -> [Double] {
        guard port != nil, state == .streaming else { throw .notConnected }
        var results: [Double] = []
        for _ in 0..<count {
            let before = counters.pongsReceived
            let sent = MonotonicTime.now()
            do { try sendPing() } catch { throw .serial(error) }
            let deadline = sent.adding(milliseconds: timeoutMilliseconds)
            while counters.pongsReceived == before {
                let header: FrameHeader?
                do { header = try nextFrame(deadline: deadline) } catch { throw .serial(error) }
                if header == nil { break }
            }
            if counters.pongsReceived > before { results.append(MonotonicTime.now().milliseconds(since: sent)) }
        }
        return results
    }

    /// Asks for STATUS (GET_STATUS) and returns it.
    public func status() throws(LinkError) -> BoardStatus {
        try request(.getStatus, what: "GET_STATUS")
    }

    /// The clean stop: STOP (every actuator to its safe value), wait for the board's STATUS,
    /// then close the port. Safe to call in any state; returns the board's STATUS when it
    /// answered.
    @discardableResult
    public func stop() -> BoardStatus? {
        var status: BoardStatus?
        if port != nil, state != .handshaking {
            status = try? request(.stop, what: "STOP")
        }
        closePort()
        setState(.stopped)
        return status
    }

    private func request(_ message: Message, what: String) throws(LinkError) -> BoardStatus {
        guard port != nil else { throw .notConnected }
        for _ in 0..<2 {
            let before = lastStatusCount
            do { try send(message) } catch { throw .serial(error) }
            let deadline = MonotonicTime.now().adding(milliseconds: options.replyTimeoutMilliseconds)
            while lastStatusCount == before {
                let header: FrameHeader?
                do { header = try nextFrame(deadline: deadline) } catch { throw .serial(error) }
                if header == nil { break }
            }
            if lastStatusCount > before, let s = lastStatus { return s }
        }
        throw .noAcknowledgement(path: devicePath ?? "?", what: what)
    }

    private var lastStatusCount: UInt64 = 0

    // MARK: Loss and reconnect

    private func declareLost(_ reason: String) {
        closePort()
        counters.linkLosses += 1
        lostAt = .now()
        nextReconnectAttempt = lostAt
        emit(.linkLost(reason: reason))
        setState(options.reconnect ? .reconnecting : .disconnected)
    }

    /// Looks for the board until `deadline`: at once on a udev event, else every
    /// `reconnectPollMilliseconds`. Sleeps in between (no busy loop).
    private func superviseReconnect(deadline: MonotonicTime) -> LinkPoll {
        while true {
            let now = MonotonicTime.now()
            if now >= nextReconnectAttempt {
                var interval = options.reconnectPollMilliseconds
                if case .path = options.selector {} else if monitor != nil { interval = max(interval, 1000) }
                nextReconnectAttempt = now.adding(milliseconds: interval)
                if attemptReconnect() { return .reconnected }
                continue
            }
            if now >= deadline { return .linkLost }
            let wake = min(deadline, nextReconnectAttempt)
            if let monitor {
                var p = pollfd(fd: monitor.fileDescriptor, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, wake.pollTimeout()) > 0 {
                    while let event = monitor.next() {
                        if event.action == .add || event.action == .change { nextReconnectAttempt = .now() }
                    }
                }
            } else {
                sleep(until: wake)
            }
        }
    }

    private func attemptReconnect() -> Bool {
        if case let .path(p) = options.selector, access(p, F_OK) != 0 { return false }  // not back yet
        do {
            _ = try open()
        } catch {
            lastReconnectError = error
            if case let .wrongBoard(path, expected, found) = error {
                emit(.wrongBoard(path: path, expected: expected, found: found))
            }
            closePort()
            setState(.reconnecting)
            return false
        }
        counters.reconnects += 1
        lastReconnectError = nil
        setState(.streaming)
        emit(.reconnected(path: devicePath ?? "?", afterMilliseconds: MonotonicTime.now().milliseconds(since: lostAt)))
        return true
    }

    // MARK: Frames in

    /// Reads and decodes until a good frame arrives (returned, its body in the decoder) or
    /// `deadline` passes (nil). Bookkeeping for every frame happens here.
    private func nextFrame(deadline: MonotonicTime) throws(SerialError) -> FrameHeader? {
        while true {
            if rxStart < rxEnd {
                var offset = rxStart
                let event = decoder.decode(UnsafeRawBufferPointer(rebasing: rx[0..<rxEnd]), offset: &offset)
                rxStart = offset
                switch event {
                case let .frame(header)?:
                    note(header)
                    return header
                case let .error(error)?:
                    note(error)
                    continue
                case nil:
                    break
                }
            }
            rxStart = 0
            rxEnd = 0
            guard let port else { throw .closed(path: devicePath ?? "?") }
            let n = try port.read(into: rx, deadline: deadline)
            if n == 0 { return nil }
            rxEnd = n
            counters.bytesReceived += UInt64(n)
        }
    }

    private func note(_ header: FrameHeader) {
        counters.framesReceived += 1
        lastReceive = .now()
        if header.type == .deviceInfo || expectedSequence == nil {
            expectedSequence = header.sequence &+ 1
        } else if let expected = expectedSequence {
            counters.droppedFrames += UInt64(header.sequence &- expected)
            expectedSequence = header.sequence &+ 1
        }
        switch header.type {
        case .sensors:
            counters.sensorFrames += 1
        case .pong:
            counters.pongsReceived += 1
            if case let .pong(token, _)? = try? decoder.message() {
                let nowMicros = UInt32(truncatingIfNeeded: lastReceive.nanoseconds / 1000)
                let micros = nowMicros &- token
                if micros < 10_000_000 { roundTrip.record(Double(micros) / 1000) }
            }
        case .status:
            if case let .status(s)? = try? decoder.message() {
                lastStatus = s
                lastStatusCount += 1
            }
        case .error:
            counters.boardErrors += 1
            if case let .error(report)? = try? decoder.message() {
                lastBoardError = report
                emit(.boardError(report))
            }
        default:
            break
        }
    }

    private func note(_ error: FrameError) {
        switch error {
        case .crc: counters.crcErrors += 1
        case .cobs, .tooShort, .tooLong: counters.malformedFrames += 1
        case let .unsupportedVersion(version, _, _):
            counters.rejectedFrames += 1
            foreignVersion = version
        case .unknownType, .badLength: counters.rejectedFrames += 1
        }
    }

    // MARK: Frames out

    private func send(_ message: Message) throws(SerialError) {
        encoder.encode(message, sequence: txSequence)
        txSequence &+= 1
        try writeEncoded()
    }

    /// PING with the send time (µs, low 32 bits of the monotonic clock) as its token, so the
    /// PONG alone gives the round trip.
    private func sendPing() throws(SerialError) {
        let now = MonotonicTime.now()
        try send(.ping(token: UInt32(truncatingIfNeeded: now.nanoseconds / 1000)))
        counters.pingsSent += 1
        lastProbe = now
    }

    private func writeEncoded() throws(SerialError) {
        guard let port else { throw .closed(path: devicePath ?? "?") }
        let deadline = MonotonicTime.now().adding(milliseconds: 100)
        var failure: SerialError?
        encoder.frame.withUnsafeBytes { raw in
            do throws(SerialError) { try port.write(raw, deadline: deadline) } catch { failure = error }
        }
        if let failure { throw failure }
        counters.framesSent += 1
        counters.bytesSent += UInt64(encoder.frame.count)
        lastSend = .now()
    }

    private func writeRaw(_ bytes: [UInt8]) throws(SerialError) {
        guard let port else { throw .closed(path: devicePath ?? "?") }
        try port.write(bytes, deadline: .now().adding(milliseconds: 100))
        counters.bytesSent += UInt64(bytes.count)
    }

    // MARK: Housekeeping

    private func closePort() {
        port?.close()
        port = nil
    }

    private func setState(_ new: LinkState) {
        guard new != state else { return }
        state = new
        emit(.state(new))
    }

    private func emit(_ event: LinkEvent) { onEvent?(event) }

    private func sleep(until deadline: MonotonicTime) {
        let ms = deadline.pollTimeout()
        if ms > 0 { _ = poll(nil, 0, ms) }
    }
}
