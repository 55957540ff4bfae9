import Glibc
import NeuraxonChannels
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
    /// A reconnect attempt's handshake spans as many `nextSensors` calls as it needs: no call
    /// waits past its own deadline for it.
    public var handshakeTimeoutMilliseconds: Double = 2500
    /// CONFIG, GET_STATUS and STOP wait this long for their reply before one retry.
    public var replyTimeoutMilliseconds: Double = 250
    /// The link is declared lost after this long without a good frame from the board, once
    /// everything readable was read.
    ///
    /// 200 ms: a streaming board sends a frame every sampling period and answers every
    /// heartbeat PING (sent at least every quarter of the failsafe timeout, so at most 62.5 ms
    /// apart for the protocol's longest failsafe of 250 ms); 200 ms of silence is three missed
    /// heartbeats or more. The loss is then reported within 250 ms of the board stopping.
    public var linkLossMilliseconds: Double = 200
    /// A PING goes out when nothing was sent for this long; nil means a quarter of the failsafe
    /// timeout, so a caller that sends no commands still keeps the board's failsafe fed.
    public var heartbeatMilliseconds: Double?
    /// A PING goes out at least this often to keep round-trip statistics current.
    public var roundTripProbeMilliseconds: Double = 1000
    /// While streaming, a GET_STATUS goes out this often, ms, so that `LinkSession.lastStatus`
    /// (the board's failsafe state and counters) stays current, as the browser view's link
    /// panel shows it and a recording records it; nil asks for STATUS only when connecting and
    /// stopping. The session starts with this value (`LinkSession.statusPollMilliseconds`).
    public var statusPollMilliseconds: Double?
    /// Drop SENSORS frames older than the failsafe timeout when read, counting them in
    /// `LinkCounters.staleFrames` (see `LinkSession`). The age estimate needs a board clock that
    /// runs at real time within 1 %: turn this off for a board on a virtual or emulated clock
    /// (a lockstep simulation, an emulator that may run slower than real time).
    public var dropsStaleFrames = true
    /// Reconnect to the same board (by identity) after a loss.
    public var reconnect = true
    /// While reconnecting, the device is looked for this often (a udev event looks at once).
    /// A path is checked with one `access` call; other selectors enumerate udev devices, so with
    /// a udev monitor running they are looked for at most once a second between events.
    public var reconnectPollMilliseconds: Double = 100
    /// Watch udev for the board reappearing (nil: rely on polling alone).
    public var monitor: DeviceMonitor.Source? = .udev
    /// The line speed to raise the link to after the handshake, baud (Docs/PROTOCOL.md section
    /// 12; up to 1,000,000 for the AVR board), or nil to stay at `serial.baudRate`. Only a
    /// version-2 board can be asked; one that refuses, or that does not answer at the new
    /// speed, is kept at the old speed and the session goes on.
    public var lineBaudRate: UInt32?
    /// The newest protocol version the handshake offers (Docs/PROTOCOL.md section 11): 2 asks
    /// for channel names and falls back to 1 when the board speaks only version 1; 1 speaks
    /// version 1 from the start.
    public var protocolVersion: UInt8 = ProtocolLimits.newestVersion
    /// A stop asked from another thread (a signal, a button): every wait of the session (the
    /// handshake, replies, `ping`, the tick's poll, reconnect supervision) polls its descriptor
    /// and returns within milliseconds once it is made. `stop()` still sends STOP to a
    /// connected board and waits once, for `replyTimeoutMilliseconds`, for its STATUS.
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
    /// The deadline passed without a sensor frame (or a stop was requested); the link is still up.
    case timeout
    /// The link is down (just lost, or still reconnecting). The call waited until its deadline
    /// (or returned at the moment of loss, or of a stop request); it never spins.
    case linkLost
    /// The link came back during this call; the next call returns frames again.
    case reconnected
}

/// A session with one board over the Neuraxon protocol: handshake, configuration, sensor
/// frames in, commands out, heartbeat, sequence tracking, round-trip statistics, link-loss
/// detection, reconnect by identity, stale-frame dropping, and a clean stop.
///
/// Waiting: every wait (the handshake, replies, `ping`, the tick's poll, reconnect supervision)
/// polls the port together with `options.stopRequest`'s descriptor and ends at its own
/// deadline, so a stop request or a deadline is honoured within a millisecond or two of
/// scheduling, never after a whole handshake timeout. A reconnect attempt's handshake is kept
/// between calls and resumed by the next one.
///
/// Stale frames: the board stamps each SENSORS frame with its own µs clock. The session keeps
/// an estimate of the board-to-host clock offset, the minimum over frames of (host receive time
/// − board timestamp), allowed to rise by at most 1 % of the time elapsed (so a board clock
/// that runs slow by up to 1 %, a ceramic resonator's worst case, is followed). A frame's age
/// is now − (its timestamp + offset): the time it spent in buffers beyond the fastest frame
/// seen. A frame older than the failsafe timeout (after the host itself was paused, say) is
/// dropped and counted in `LinkCounters.staleFrames`: the board has stopped its actuators by
/// then, and a command computed from it would be acted on as if it were current. The estimate
/// restarts with each connection and when the board's clock goes back.
///
/// Threading: a session belongs to one thread at a time (the control loop's); nothing in it is
/// locked. The per-tick calls `nextSensors(into:deadline:)` and `sendCommand(_:)` allocate
/// nothing; supervision (reconnect) runs inside `nextSensors` on the same poll loop. State
/// changes and other events go to `onEvent`, on the same thread, at the moment they happen.
public final class LinkSession {
    public let options: SessionOptions
    /// Where the session stands.
    public private(set) var state: LinkState = .disconnected
    /// What the session has seen.
    public private(set) var counters = LinkCounters()
    /// PING → PONG round trips. Only PONGs answering PINGs sent on the current connection count:
    /// a PING sent before a loss and answered after the reconnect measures the outage, not the link.
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
    /// Called with every STATUS the board sends (asked for by `statusPollMilliseconds`,
    /// `status()` or `stop()`), on the session's thread, when it arrives.
    public var onStatus: ((BoardStatus) -> Void)?
    /// Called with every round trip `roundTrip` records, ms, on the session's thread.
    public var onRoundTrip: ((Double) -> Void)?
    /// While streaming, `nextSensors` asks the board for its STATUS (GET_STATUS, answered to
    /// `onStatus`) this often, ms: the first at once, and again at once after a reconnect and
    /// at the first stale frame (the host was quiet for longer than the failsafe timeout, so
    /// the board's failsafe has fired and the STATUS says so before a command clears it); nil
    /// never. Starts as `SessionOptions.statusPollMilliseconds`. The request is one short frame,
    /// written like a heartbeat; the call does not wait for the reply.
    public var statusPollMilliseconds: Double?
    private var lastStatusPoll: MonotonicTime?
    /// Polled STATUS replies not yet received: a request's own reply is the one after them.
    private var pollsAwaitingStatus = 0

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
    /// The handshake in progress (connect or reconnect), kept between calls.
    private var attempt: Attempt?
    /// Whether the link was lost and the session is looking for the board again.
    private var recovering = false
    /// When the current connection's port was opened, µs (low 32 bits of the monotonic
    /// clock, like PING tokens): PONGs for PINGs sent before it are not round trips of this link.
    private var connectionStartMicros: UInt32 = 0
    /// Board-to-host clock offset estimate (host µs − board µs), see the type's doc comment.
    private var clockOffset = BoardClockOffset()

    /// A handshake in progress: HELLO until DEVICE_INFO, then (version 2) GET_CHANNEL until every
    /// channel's CHANNEL_INFO, then (with `lineBaudRate`) the speed switch, then CONFIG until
    /// CONFIG_ACK.
    private struct Attempt {
        let path: String
        /// The handshake gives up at this time.
        let giveUp: MonotonicTime
        /// Counters when the port was opened, to say what came back when nothing good did.
        let before: LinkCounters
        /// The next HELLO (or CONFIG, once DEVICE_INFO arrived) goes out at this time.
        var nextSend: MonotonicTime
        var hellos = 0
        /// The version of the HELLO being sent: `options.protocolVersion`, then 1 once a
        /// version-1 board answered a version-2 HELLO with ERROR unsupported_version.
        var version: UInt8
        /// DEVICE_INFO, once it arrived; then names are asked (version 2), then CONFIG is
        /// being acknowledged.
        var info: BoardInfo?
        /// Version 2: the names received so far, sensors then actuators.
        var names: [String] = []
        /// Version 2: how many times the current channel's GET_CHANNEL was sent.
        var nameRequests = 0
        var configsSent = 0
        var configSequence: UInt8 = 0
        /// The speed switch of section 12, once the names are in.
        var baud = BaudStep.none

        /// Whether every channel name has arrived (always, from a version-1 board).
        var namesComplete: Bool {
            guard let info, info.protocolVersion >= 2 else { return true }
            return names.count == info.sensors.count + info.actuators.count
        }
        /// The channel whose name is asked next.
        var nextChannel: (group: ChannelGroup, index: UInt8) {
            let sensors = info?.sensors.count ?? 0
            return names.count < sensors ? (.sensor, UInt8(names.count)) : (.actuator, UInt8(names.count - sensors))
        }
    }

    /// Where the speed switch of Docs/PROTOCOL.md section 12 stands.
    private enum BaudStep {
        /// Not asked for, or over: CONFIG comes next.
        case none
        /// SET_BAUD sent `tries` times; waiting for BAUD_ACK.
        case asked(baud: UInt32, tries: Int)
        /// Both sides at `baud` since `ackAt`; PINGs sent at it, waiting for a PONG.
        case confirming(baud: UInt32, old: UInt32, ackAt: MonotonicTime, pings: Int)
        /// No PONG at the new speed: back at `old`, PINGs sent from `ackAt` + 600 ms on.
        case restoring(old: UInt32, pings: Int)

        var isActive: Bool { if case .none = self { return false } else { return true } }
    }

    /// The line speed in force, baud: `options.serial.baudRate` until a switch is confirmed.
    public private(set) var lineBaudRate: UInt32 = 0

    public init(options: SessionOptions) {
        self.options = options
        statusPollMilliseconds = options.statusPollMilliseconds
        lineBaudRate = options.serial.baudRate
        rx = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
    }

    deinit {
        if port != nil { _ = stop() }
        rx.deallocate()
    }

    /// Whether `options.stopRequest` was made. Lock-free.
    private var stopRequested: Bool { options.stopRequest?.isRequested ?? false }

    // MARK: Connecting

    /// Finds the board, opens its port, completes the handshake and applies `options.config`.
    ///
    /// - Returns: the board's DEVICE_INFO.
    /// - Throws: `LinkError` naming what went wrong and what to do; `.stopped` when
    ///   `options.stopRequest` was made first.
    @discardableResult
    public func connect() throws(LinkError) -> BoardInfo {
        if options.reconnect, monitor == nil, let source = options.monitor {
            monitor = try? DeviceMonitor(source: source)  // without udev, polling still finds the board
        }
        do throws(LinkError) {
            if stopRequested { throw LinkError.stopped }
            try startAttempt()
            while true {
                if let info = try advanceAttempt(until: MonotonicTime(nanoseconds: .max)) {
                    setState(.streaming)
                    return info
                }
                if stopRequested { throw LinkError.stopped }
            }
        } catch {
            attempt = nil
            closePort()
            setState(.disconnected)
            throw error
        }
    }

    /// Resolves the selector, opens the port and starts the handshake (shared by connect and reconnect).
    private func startAttempt() throws(LinkError) {
        let path: String
        do { path = try options.selector.resolve() } catch { throw .discovery(error) }
        devicePath = path
        do { port = try SerialPort(path: path, configuration: options.serial) } catch { throw .serial(error) }
        emit(.portOpened(path: path, latency: port!.latency))
        setState(.handshaking)
        lineBaudRate = options.serial.baudRate
        decoder.reset()
        // the handshake reads DEVICE_INFO of the version offered and a version-1 board's ERROR
        decoder.versions = ProtocolLimits.version...options.protocolVersion
        encoder.version = options.protocolVersion
        rxStart = 0
        rxEnd = 0
        txSequence = 0
        expectedSequence = nil
        foreignVersion = nil
        clockOffset = BoardClockOffset()
        let now = MonotonicTime.now()
        connectionStartMicros = UInt32(truncatingIfNeeded: now.nanoseconds / 1000)
        attempt = Attempt(path: path, giveUp: now.adding(milliseconds: options.handshakeTimeoutMilliseconds),
                          before: counters, nextSend: now, version: options.protocolVersion)
    }

    private static func identity(_ info: BoardInfo) -> String { "\(info.board) id \(info.uniqueIDHex)" }

    /// Runs the handshake in progress until it completes (returns DEVICE_INFO, the board
    /// configured), fails (throws), or `limit` passes or a stop is requested (returns nil; the
    /// next call resumes it).
    private func advanceAttempt(until limit: MonotonicTime) throws(LinkError) -> BoardInfo? {
        guard var a = attempt else { throw .notConnected }
        while true {
            if stopRequested { attempt = a; return nil }
            let now = MonotonicTime.now()
            if a.info == nil {
                if now >= a.giveUp {
                    let heard = Int(counters.bytesReceived - a.before.bytesReceived)
                    let bad = Int((counters.crcErrors + counters.malformedFrames + counters.rejectedFrames)
                        - (a.before.crcErrors + a.before.malformedFrames + a.before.rejectedFrames))
                    throw .noAnswer(path: a.path, attempts: a.hellos, bytesHeard: heard, badFrames: bad)
                }
                if now >= a.nextSend {
                    do {
                        try writeRaw([0])
                        try send(.hello)
                    } catch { throw .serial(error) }
                    a.hellos += 1
                    counters.helloAttempts += 1
                    a.nextSend = min(a.giveUp, MonotonicTime.now().adding(milliseconds: options.helloIntervalMilliseconds))
                }
            } else if !a.namesComplete {
                if now >= a.nextSend {
                    if a.nameRequests == 2 { throw .noAcknowledgement(path: a.path, what: "GET_CHANNEL") }
                    let (group, index) = a.nextChannel
                    do { try send(.getChannel(group: group.rawValue, index: index)) } catch { throw .serial(error) }
                    a.nameRequests += 1
                    a.nextSend = MonotonicTime.now().adding(milliseconds: options.replyTimeoutMilliseconds)
                }
            } else if a.baud.isActive {
                if now >= a.nextSend { try advanceBaud(&a, now: now) }
            } else if now >= a.nextSend {
                if a.configsSent == 2 { throw .noAcknowledgement(path: a.path, what: "CONFIG") }
                a.configSequence = txSequence
                do { try send(.config(activeConfig ?? requestedConfig)) } catch { throw .serial(error) }
                a.configsSent += 1
                a.nextSend = MonotonicTime.now().adding(milliseconds: options.replyTimeoutMilliseconds)
            }
            if MonotonicTime.now() >= limit { attempt = a; return nil }
            let header: FrameHeader?
            do { header = try nextFrame(deadline: min(limit, a.nextSend)) } catch { throw .serial(error) }
            if let v = foreignVersion { throw .versionMismatch(path: a.path, host: a.version, board: v) }
            guard let header else { continue }
            if a.info == nil {
                if header.type == .error, let report = lastBoardError, report.code == ErrorCode.unsupportedVersion.rawValue {
                    // Section 11: a version-1 board answers a version-2 HELLO so; speak version 1.
                    if header.version == 1, report.detail == 1, a.version > 1 {
                        // a version-1 session starts afresh: the board's numbering too
                        a.version = 1
                        encoder.version = 1
                        expectedSequence = nil
                        a.nextSend = .now()
                        continue
                    }
                    throw .versionMismatch(path: a.path, host: a.version, board: report.detail)
                }
                if header.type == .deviceInfo, header.version != a.version {
                    throw .versionMismatch(path: a.path, host: a.version, board: header.version)
                }
                guard header.type == .deviceInfo, header.version == a.version,
                      case let .deviceInfo(info)? = try? decoder.message() else { continue }
                if let known = board, known.uniqueID != info.uniqueID || known.board != info.board {
                    throw .wrongBoard(path: a.path, expected: Self.identity(known), found: Self.identity(info))
                }
                decoder.version = a.version  // from now on the session's version only
                a.info = info
                a.nextSend = .now()
                if a.namesComplete { try accept(&a) }
            } else if !a.namesComplete {
                let (group, index) = a.nextChannel
                if header.type == .channelInfo, case let .channelInfo(c)? = try? decoder.message(),
                   c.group == group, c.index == index {
                    a.names.append(c.name)
                    a.nameRequests = 0
                    a.nextSend = .now()
                    if a.namesComplete { try accept(&a) }
                } else if header.type == .error, let report = lastBoardError,
                          report.referencedType == MessageType.getChannel.rawValue {
                    throw .namesRefused(path: a.path, report: report)
                }
            } else if a.baud.isActive {
                try noteBaud(header, &a)
            } else {
                if header.type == .configAck, case let .configAck(ack)? = try? decoder.message() {
                    activeConfig = ack
                    attempt = nil
                    let done = MonotonicTime.now()
                    lastReceive = done
                    lastProbe = done
                    return a.info
                }
                if header.type == .error, let report = lastBoardError, report.referencedSequence == a.configSequence,
                   report.referencedType == MessageType.config.rawValue {
                    throw .configRejected(path: a.path, config: activeConfig ?? requestedConfig, report: report)
                }
            }
        }
    }

    /// The board's DEVICE_INFO (with its channel names, from a version-2 board) is complete: it is
    /// the session's board from now on, and CONFIG goes out next.
    private func accept(_ a: inout Attempt) throws(LinkError) {
        guard var info = a.info else { return }
        if info.protocolVersion >= 2 {
            for (k, name) in a.names.enumerated() {
                if k < info.sensors.count { info.sensors[k].name = name } else { info.actuators[k - info.sensors.count].name = name }
            }
            a.info = info
        }
        board = info
        emit(.connected(path: a.path, board: info))
        try check(activeConfig ?? requestedConfig, against: info)
        setState(.configuring)
        a.nextSend = .now()
        if let baud = options.lineBaudRate, baud != lineBaudRate, info.protocolVersion >= 2 {
            a.baud = .asked(baud: baud, tries: 0)
        }
    }

    /// The sending side of the speed switch (section 12), when `a.nextSend` is due.
    private func advanceBaud(_ a: inout Attempt, now: MonotonicTime) throws(LinkError) {
        if case .restoring(_, 2) = a.baud {
            throw .noAcknowledgement(path: a.path, what: "PING after the line speed went back")
        }
        do throws(SerialError) {
            switch a.baud {
            case .none:
                return
            case let .asked(baud, tries):
                if tries == 2 {  // no BAUD_ACK: the board stays at the speed in force
                    emit(.lineSpeed(requested: baud, inForce: lineBaudRate))
                    a.baud = .none
                    return
                }
                try send(.setBaud(baud: baud))
                a.baud = .asked(baud: baud, tries: tries + 1)
                a.nextSend = now.adding(milliseconds: options.replyTimeoutMilliseconds)
            case let .confirming(baud, old, ackAt, pings):
                if pings == 2 {  // no PONG at the new speed: both go back
                    try port?.setBaudRate(old)
                    a.baud = .restoring(old: old, pings: 0)
                    a.nextSend = ackAt.adding(milliseconds: 600)
                    emit(.lineSpeed(requested: baud, inForce: old))
                    return
                }
                try sendPing()
                a.baud = .confirming(baud: baud, old: old, ackAt: ackAt, pings: pings + 1)
                a.nextSend = pings == 0 ? now.adding(milliseconds: 100) : ackAt.adding(milliseconds: 250)
            case let .restoring(old, pings):
                try sendPing()
                a.baud = .restoring(old: old, pings: pings + 1)
                a.nextSend = now.adding(milliseconds: options.replyTimeoutMilliseconds)
            }
        } catch { throw .serial(error) }
    }

    /// The receiving side of the speed switch: BAUD_ACK (change the port), a refusal, a PONG.
    private func noteBaud(_ header: FrameHeader, _ a: inout Attempt) throws(LinkError) {
        switch a.baud {
        case let .asked(baud, _):
            if header.type == .baudAck, case let .baudAck(acked)? = try? decoder.message(), acked == baud {
                let old = lineBaudRate
                do { try port?.setBaudRate(baud) } catch { throw .serial(error) }
                let now = MonotonicTime.now()
                a.baud = .confirming(baud: baud, old: old, ackAt: now, pings: 0)
                a.nextSend = now
            } else if header.type == .error, let report = lastBoardError,
                      report.referencedType == MessageType.setBaud.rawValue {
                emit(.lineSpeed(requested: baud, inForce: lineBaudRate))  // refused: stay
                a.baud = .none
                a.nextSend = .now()
            }
        case let .confirming(baud, _, _, _):
            if header.type == .pong {
                lineBaudRate = baud
                emit(.lineSpeed(requested: baud, inForce: baud))
                a.baud = .none
                a.nextSend = .now()
            }
        case .restoring:
            if header.type == .pong {
                a.baud = .none
                a.nextSend = .now()
            }
        case .none:
            break
        }
    }

    /// The configuration asked for, with `LinkConfig.allSensors` narrowed to the sensors of the
    /// board once its DEVICE_INFO is in.
    private var requestedConfig: LinkConfig {
        board.map { options.config.narrowed(toSensors: $0.sensors.count) } ?? options.config
    }

    /// Checks a configuration against the board's limits before it is sent.
    private func check(_ config: LinkConfig, against info: BoardInfo) throws(LinkError) {
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
    }

    // MARK: The tick

    /// Waits until `deadline` for the next fresh sensor frame and writes it into `sample`.
    ///
    /// On the way it answers the link's needs: a PING when the heartbeat is due, round-trip
    /// samples from PONGs, sequence-gap counting, stale-frame dropping, and link-loss detection
    /// (no good frame for `linkLossMilliseconds` once everything readable was read, or a
    /// hang-up). After a loss, calls run the reconnect supervision until the board is back.
    /// A stop request ends the call at once (`.timeout` while streaming, `.linkLost` while the
    /// link is down). Allocates nothing while streaming.
    public func nextSensors(into sample: inout SensorSample, deadline: MonotonicTime) -> LinkPoll {
        if state != .streaming {
            if recovering { return superviseReconnect(deadline: deadline) }
            wait(until: deadline)
            return .linkLost
        }
        let heartbeat = options.effectiveHeartbeatMilliseconds
        let staleMicros = Int64(activeConfig?.failsafeMilliseconds ?? options.config.failsafeMilliseconds) * 1000
        while true {
            if stopRequested { return .timeout }
            let now = MonotonicTime.now()
            if now.milliseconds(since: lastSend) >= heartbeat || now.milliseconds(since: lastProbe) >= options.roundTripProbeMilliseconds {
                do { try sendPing() } catch {
                    declareLost(error.description)
                    return .linkLost
                }
            }
            if let every = statusPollMilliseconds, lastStatusPoll.map({ now.milliseconds(since: $0) >= every }) ?? true {
                lastStatusPoll = now
                // Three polls unanswered: the board answers in order within milliseconds, so
                // the earlier ones were lost (a damaged frame) and are not waited for.
                if pollsAwaitingStatus >= 3 { pollsAwaitingStatus = 0 }
                pollsAwaitingStatus += 1
                do { try send(.getStatus) } catch {
                    declareLost(error.description)
                    return .linkLost
                }
            }
            var wake = min(deadline, lastReceive.adding(milliseconds: options.linkLossMilliseconds))
            if let every = statusPollMilliseconds, let last = lastStatusPoll { wake = min(wake, last.adding(milliseconds: every)) }
            wake = min(wake, lastSend.adding(milliseconds: heartbeat))
            wake = min(wake, lastProbe.adding(milliseconds: options.roundTripProbeMilliseconds))
            let header: FrameHeader?
            do { header = try nextFrame(deadline: wake) } catch {
                declareLost(error.description)
                return .linkLost
            }
            if let header {
                if header.type == .sensors, decoder.readSensors(into: &sample) {
                    let received = Int64(truncatingIfNeeded: lastReceive.nanoseconds / 1000)
                    guard options.dropsStaleFrames,
                          clockOffset.age(ofStamp: sample.timestampMicros, receivedAt: received) > staleMicros else {
                        return .sample(sequence: header.sequence)
                    }
                    counters.staleFrames += 1
                    // The host was quiet for longer than the failsafe timeout: ask the board what
                    // its failsafe did, before the next command changes it.
                    if statusPollMilliseconds != nil, let last = lastStatusPoll,
                       MonotonicTime.now().milliseconds(since: last) * 1000 > Double(staleMicros) { lastStatusPoll = nil }
                }
                // Frames that keep coming (other types, stale ones) do not hold the call past its deadline.
                if MonotonicTime.now() >= deadline { return .timeout }
                continue
            }
            // Everything readable was read: only now does silence mean anything.
            let after = MonotonicTime.now()
            if after.milliseconds(since: lastReceive) >= options.linkLossMilliseconds {
                declareLost("no frame from the board for \(Int(after.milliseconds(since: lastReceive))) ms")
                return .linkLost
            }
            if after >= deadline { return .timeout }
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
    /// A stop request ends it early with the round trips measured so far.
    public func ping(count: Int, timeoutMilliseconds: Double = 250) throws(LinkError) -> [Double] {
        guard port != nil, state == .streaming else { throw .notConnected }
        var results: [Double] = []
        for _ in 0..<count {
            if stopRequested { break }
            let before = counters.pongsReceived
            let sent = MonotonicTime.now()
            do { try sendPing() } catch { throw .serial(error) }
            let deadline = sent.adding(milliseconds: timeoutMilliseconds)
            while counters.pongsReceived == before && !stopRequested {
                let header: FrameHeader?
                do { header = try nextFrame(deadline: deadline) } catch { throw .serial(error) }
                if header == nil && MonotonicTime.now() >= deadline { break }
            }
            if counters.pongsReceived > before { results.append(MonotonicTime.now().milliseconds(since: sent)) }
        }
        return results
    }

    /// Asks for STATUS (GET_STATUS) and returns it.
    /// - Throws: `.stopped` when a stop is requested while it waits.
    public func status() throws(LinkError) -> BoardStatus {
        try request(.getStatus, what: "GET_STATUS", tries: 2, honoursStop: true)
    }

    /// The clean stop: STOP (every actuator to its safe value), wait for the board's STATUS,
    /// then close the port. Safe to call in any state; returns the board's STATUS when it
    /// answered.
    ///
    /// STOP goes out only on a configured link (not during a handshake or while reconnecting).
    /// It is sent even after a stop request (it is what the request asks for); the STATUS is
    /// waited for `replyTimeoutMilliseconds`, with one retry unless a stop was requested, so a
    /// board that hung costs at most that long.
    @discardableResult
    public func stop() -> BoardStatus? {
        var status: BoardStatus?
        if port != nil, state == .streaming {
            status = try? request(.stop, what: "STOP", tries: stopRequested ? 1 : 2, honoursStop: false)
        }
        attempt = nil
        recovering = false
        closePort()
        setState(.stopped)
        return status
    }

    private func request(_ message: Message, what: String, tries: Int, honoursStop: Bool) throws(LinkError) -> BoardStatus {
        guard port != nil else { throw .notConnected }
        for _ in 0..<tries {
            if honoursStop && stopRequested { throw .stopped }
            // A polled STATUS still on its way is not this request's reply.
            let before = lastStatusCount + UInt64(pollsAwaitingStatus)
            do { try send(message) } catch { throw .serial(error) }
            let deadline = MonotonicTime.now().adding(milliseconds: options.replyTimeoutMilliseconds)
            while lastStatusCount <= before {
                if honoursStop && stopRequested { throw .stopped }
                let header: FrameHeader?
                do { header = try nextFrame(deadline: deadline, watchStop: honoursStop) } catch { throw .serial(error) }
                if header == nil && MonotonicTime.now() >= deadline { break }
            }
            if lastStatusCount > before, let s = lastStatus { return s }
            pollsAwaitingStatus = 0  // replies that never came are not waited for again
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
        recovering = options.reconnect
        emit(.linkLost(reason: reason))
        setState(options.reconnect ? .reconnecting : .disconnected)
    }

    /// Looks for the board until `deadline`: at once on a udev event, else every
    /// `reconnectPollMilliseconds`; an attempt's handshake runs only until `deadline` and
    /// resumes on the next call. Sleeps in between (no busy loop); a stop request ends it at once.
    private func superviseReconnect(deadline: MonotonicTime) -> LinkPoll {
        while true {
            if stopRequested { return .linkLost }
            if attempt != nil {
                do {
                    if try advanceAttempt(until: deadline) != nil {
                        reconnected()
                        return .reconnected
                    }
                    return .linkLost  // the deadline passed, or a stop was requested: resumed next call
                } catch {
                    failedAttempt(error)
                    continue
                }
            }
            let now = MonotonicTime.now()
            if now >= nextReconnectAttempt {
                var interval = options.reconnectPollMilliseconds
                if case .path = options.selector {} else if monitor != nil { interval = max(interval, 1000) }
                nextReconnectAttempt = now.adding(milliseconds: interval)
                if case let .path(p) = options.selector, access(p, F_OK) != 0 { continue }  // not back yet
                do { try startAttempt() } catch { failedAttempt(error) }
                continue
            }
            if now >= deadline { return .linkLost }
            let wake = min(deadline, nextReconnectAttempt)
            var fds = (pollfd(fd: monitor?.fileDescriptor ?? -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: options.stopRequest?.fileDescriptor ?? -1, events: Int16(POLLIN), revents: 0))
            let ready = withUnsafeMutableBytes(of: &fds) { raw in
                poll(raw.baseAddress!.assumingMemoryBound(to: pollfd.self), 2, wake.pollTimeout())
            }
            if ready > 0, fds.0.revents != 0, let monitor {
                while let event = monitor.next() {
                    if event.action == .add || event.action == .change { nextReconnectAttempt = .now() }
                }
            }
        }
    }

    private func failedAttempt(_ error: LinkError) {
        attempt = nil
        lastReconnectError = error
        if case let .wrongBoard(path, expected, found) = error {
            emit(.wrongBoard(path: path, expected: expected, found: found))
        }
        closePort()
        setState(.reconnecting)
    }

    private func reconnected() {
        counters.reconnects += 1
        lastReconnectError = nil
        lastStatusPoll = nil
        pollsAwaitingStatus = 0
        recovering = false
        setState(.streaming)
        emit(.reconnected(path: devicePath ?? "?", afterMilliseconds: MonotonicTime.now().milliseconds(since: lostAt)))
    }

    // MARK: Frames in

    /// Reads and decodes until a good frame arrives (returned, its body in the decoder), or
    /// `deadline` passes or (with `watchStop`) a stop is requested (nil). Bookkeeping for every
    /// frame happens here.
    private func nextFrame(deadline: MonotonicTime, watchStop: Bool = true) throws(SerialError) -> FrameHeader? {
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
            let wakeOn = watchStop ? options.stopRequest?.fileDescriptor ?? -1 : -1
            let n = try port.read(into: rx, deadline: deadline, wakeOn: wakeOn)
            if n == 0 { return nil }
            rxEnd = n
            counters.bytesReceived += UInt64(n)
        }
    }

    private func note(_ header: FrameHeader) {
        counters.framesReceived += 1
        lastReceive = .now()
        trackSequence(header.sequence, restarts: header.type == .deviceInfo)
        switch header.type {
        case .sensors:
            counters.sensorFrames += 1
        case .pong:
            counters.pongsReceived += 1
            if case let .pong(token, _)? = try? decoder.message() {
                let nowMicros = UInt32(truncatingIfNeeded: lastReceive.nanoseconds / 1000)
                let micros = nowMicros &- token
                // Sent on this connection (not before it opened, which wraps to a huge value).
                let sentOnThisLink = token &- connectionStartMicros < 1 << 31
                if sentOnThisLink && micros < 10_000_000 {
                    roundTrip.record(Double(micros) / 1000)
                    onRoundTrip?(Double(micros) / 1000)
                }
            }
        case .status:
            if case let .status(s)? = try? decoder.message() {
                lastStatus = s
                lastStatusCount += 1
                if pollsAwaitingStatus > 0 { pollsAwaitingStatus -= 1 }
                onStatus?(s)
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
        case let .unsupportedVersion(version, _, sequence):
            counters.rejectedFrames += 1
            foreignVersion = version
            trackSequence(sequence, restarts: false)
        case let .unknownType(_, sequence), let .badLength(_, sequence, _):
            counters.rejectedFrames += 1
            trackSequence(sequence, restarts: false)
        }
    }

    /// Sequence tracking (Docs/PROTOCOL.md, section 4), for every frame with a good CRC, a
    /// rejected one included: the gap since the expected `seq` counts as dropped frames. The
    /// first frame, and a DEVICE_INFO (the device's answer to HELLO), only set what is expected.
    private func trackSequence(_ sequence: UInt8, restarts: Bool) {
        if restarts || expectedSequence == nil {
            expectedSequence = sequence &+ 1
        } else if let expected = expectedSequence {
            counters.droppedFrames += UInt64(sequence &- expected)
            expectedSequence = sequence &+ 1
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

    /// Moves to `new` and reports it. While recovering from a loss the session stays
    /// `.reconnecting` through each attempt's handshake and configuration, until it streams
    /// again (or stops): a watcher sees one state for the whole recovery.
    private func setState(_ new: LinkState) {
        if recovering, new == .handshaking || new == .configuring { return }
        guard new != state else { return }
        state = new
        emit(.state(new))
    }

    private func emit(_ event: LinkEvent) { onEvent?(event) }

    /// Sleeps until `deadline`, or until a stop is requested.
    private func wait(until deadline: MonotonicTime) {
        let ms = deadline.pollTimeout()
        guard ms > 0, !stopRequested else { return }
        var p = pollfd(fd: options.stopRequest?.fileDescriptor ?? -1, events: Int16(POLLIN), revents: 0)
        _ = poll(&p, 1, ms)
    }
}

/// The board-to-host clock offset, estimated without clock sync: the minimum over frames of
/// (host receive time − board timestamp), in µs, allowed to rise by at most 1 % of the host
/// time elapsed since the last frame (so it follows a board clock up to 1 % slow). The board's
/// 32-bit µs stamps are unwrapped here; a stamp that goes back (the board restarted) starts
/// the estimate again. Allocation-free.
struct BoardClockOffset {
    /// The most a board clock is assumed to run slow, as a fraction (1 %, a ceramic resonator's worst case).
    static let slowDriftAllowance = 0.01
    private var started = false
    private var lastStamp: UInt32 = 0
    private var boardMicros: Int64 = 0
    private var lastHostMicros: Int64 = 0
    private(set) var offsetMicros: Int64 = 0

    /// Notes a frame stamped `stamp` (board µs) and received at `hostMicros` (host µs);
    /// returns its age in µs: how much longer than the fastest frame seen it took to be read.
    mutating func age(ofStamp stamp: UInt32, receivedAt hostMicros: Int64) -> Int64 {
        let delta = stamp &- lastStamp
        if !started || delta >= 1 << 31 {
            started = true
            boardMicros = Int64(stamp)
            offsetMicros = hostMicros - boardMicros
        } else {
            boardMicros += Int64(delta)
            let allowed = offsetMicros + Int64(Double(max(0, hostMicros - lastHostMicros)) * Self.slowDriftAllowance)
            offsetMicros = min(allowed, hostMicros - boardMicros)
        }
        lastStamp = stamp
        lastHostMicros = hostMicros
        return hostMicros - (boardMicros + offsetMicros)
    }
}
