import Foundation
import NeuraxonChannels
import NeuraxonProtocol
@testable import NeuraxonTransport
import Testing

/// Protocol version negotiation (Docs/PROTOCOL.md section 11), both ways, with the host-built
/// firmware (which speaks versions 1 and 2) over a pty and with scripted boards.
@Suite("Protocol versions: a version-2 host and a version-1 board, and the other way round", .serialized)
struct VersionTests {
    static let referenceSensorNames = ["range_left", "range_right", "light_left", "light_right", "bumper",
                                       "wheel_left", "wheel_right"]
    static let referenceActuatorNames = ["motor_left", "motor_right", "servo"]

    static func options(_ path: String, version: UInt8 = ProtocolLimits.newestVersion) -> SessionOptions {
        var options = SessionOptions(selector: .path(path), config: LinkConfig(periodMilliseconds: 10, failsafeMilliseconds: 100, sensorMask: 0x7F))
        options.monitor = nil
        options.reconnect = false
        options.protocolVersion = version
        return options
    }

    @Test("a version-2 host and the host-built firmware speak version 2: every channel's name comes from the board")
    func versionTwoWithTheFirmware() throws {
        let firmware = try FirmwareProcess()
        defer { firmware.quit() }
        let session = LinkSession(options: Self.options(firmware.path))
        let info = try session.connect()
        #expect(info.protocolVersion == 2)
        #expect(info.sensors.map(\.name) == Self.referenceSensorNames)
        #expect(info.actuators.map(\.name) == Self.referenceActuatorNames)
        #expect(session.board == info)
        #expect(session.counters.helloAttempts == 1 && session.counters.boardErrors == 0)
        // the session goes on in version 2: samples stream, commands apply, STATUS answers
        let samples = collect(session, count: 5)
        #expect(samples.count == 5)
        #expect(session.sendCommand([100, -100, 45]))
        let status = try session.status()
        #expect(status.failsafeState == .active)
        #expect(session.counters.rejectedFrames == 0 && session.counters.droppedFrames == 0)
        session.stop()
    }

    @Test("a version-1 host and the host-built firmware speak version 1: the board answers as a version-1 board")
    func versionOneWithTheFirmware() throws {
        let firmware = try FirmwareProcess()
        defer { firmware.quit() }
        let session = LinkSession(options: Self.options(firmware.path, version: 1))
        let info = try session.connect()
        #expect(info.protocolVersion == 1)
        #expect(!info.channelsNamed && (info.sensors + info.actuators).allSatisfy { $0.name.isEmpty })
        #expect(info.sensors.count == 7 && info.actuators.count == 3)
        let samples = collect(session, count: 5)
        #expect(samples.count == 5)
        #expect(session.sendCommand([0, 0, 90]))
        _ = try session.status()
        #expect(session.counters.rejectedFrames == 0 && session.counters.boardErrors == 0)
        session.stop()
    }

    @Test("a version-2 host and a version-1 board: ERROR unsupported_version, then version 1 without names")
    func fallbackToVersionOne() throws {
        let board = try ScriptedBoard.responder()  // speaks version 1 only
        defer { board.finish() }
        var options = Self.options(board.pty.path)
        options.config = LinkConfig(periodMilliseconds: 10, failsafeMilliseconds: 100, sensorMask: 1)
        let session = LinkSession(options: options)
        let start = MonotonicTime.now()
        let info = try session.connect()
        #expect(MonotonicTime.now().milliseconds(since: start) < 1000, "the fallback waits for no timeout")
        #expect(info.protocolVersion == 1)
        #expect(!info.channelsNamed && (info.sensors + info.actuators).allSatisfy { $0.name.isEmpty })
        #expect(info.board == FaultTests.info.board)
        #expect(session.counters.helloAttempts == 2, "one HELLO of version 2, one of version 1")
        #expect(session.counters.boardErrors == 1 && session.lastBoardError?.code == ErrorCode.unsupportedVersion.rawValue)
        #expect(session.counters.droppedFrames == 0)
        let rtts = try session.ping(count: 3)
        #expect(rtts.count == 3, "the link goes on in version 1")
        session.stop()
    }

    @Test("a version-2 board names its channels one GET_CHANNEL at a time, in order, and retries an unanswered one")
    func namesFromAScriptedBoard() throws {
        let names = ["sonar", "bumper", "motor_front_left"]
        let asked = Counter()
        let board = try ScriptedBoard(speaks: 2) { header, message in
            switch message {
            case .hello?:
                return FrameEncoder.frame(.deviceInfo(Self.sonarInfo), sequence: 0, version: 2)
            case let .getChannel(group, index)?:
                // the first question goes unanswered: the host asks again after its reply timeout
                guard asked.increment() > 1 else { return [] }
                let k = Int(index) + (group == 1 ? 2 : 0)
                return FrameEncoder.frame(.channelInfo(ChannelName(group: ChannelGroup(rawValue: group)!, index: index, name: names[k])),
                                          sequence: header!.sequence, version: 2)
            case let .config(c)?:
                return FrameEncoder.frame(.configAck(c), sequence: 10, version: 2)
            default:
                return []
            }
        }
        defer { board.finish() }
        var options = Self.options(board.pty.path)
        options.config = LinkConfig(periodMilliseconds: 10, failsafeMilliseconds: 100, sensorMask: 3)
        let session = LinkSession(options: options)
        let info = try session.connect()
        #expect(info.protocolVersion == 2)
        #expect(info.sensors.map(\.name) == ["sonar", "bumper"] && info.actuators.map(\.name) == ["motor_front_left"])
        #expect(info.sensors[0].unit == .millimetre && info.sensors[0].maximum == 4000)
        #expect(asked.increment() == 5, "four GET_CHANNELs: one lost and asked again, then three answered")
        session.stop()
    }

    @Test("a version-2 board that never names a channel: the handshake says GET_CHANNEL went unanswered")
    func namesNeverAnswered() throws {
        let board = try ScriptedBoard(speaks: 2) { _, message in
            guard case .hello? = message else { return [] }
            return FrameEncoder.frame(.deviceInfo(Self.sonarInfo), sequence: 0, version: 2)
        }
        defer { board.finish() }
        let session = LinkSession(options: Self.options(board.pty.path))
        #expect(throws: LinkError.noAcknowledgement(path: board.pty.path, what: "GET_CHANNEL")) { try session.connect() }
        #expect(session.state == .disconnected)
    }

    @Test("a version-2 board that refuses GET_CHANNEL: the handshake names the refusal")
    func namesRefused() throws {
        let board = try ScriptedBoard(speaks: 2) { header, message in
            switch message {
            case .hello?: return FrameEncoder.frame(.deviceInfo(Self.sonarInfo), sequence: 0, version: 2)
            case .getChannel?:
                let report = ErrorReport(code: ErrorCode.outOfRange.rawValue, referencedType: MessageType.getChannel.rawValue,
                                         referencedSequence: header!.sequence, detail: 2)
                return FrameEncoder.frame(.error(report), sequence: 1, version: 2)
            default: return []
            }
        }
        defer { board.finish() }
        let session = LinkSession(options: Self.options(board.pty.path))
        do {
            try session.connect()
            Issue.record("connected to a board that refused to name its channels")
        } catch {
            guard case let .namesRefused(path, report) = error else { Issue.record("got \(error)"); return }
            #expect(path == board.pty.path && report.detail == 2)
            #expect(error.description.contains("refused to name its channels"))
        }
    }

    @Test("a board that answers a version-1 HELLO with a version-2 DEVICE_INFO is a version mismatch")
    func versionTwoInfoToVersionOneHello() throws {
        let board = try ScriptedBoard(speaks: nil) { header, _ in
            guard header?.type == .hello else { return [] }
            return FrameEncoder.frame(.deviceInfo(FaultTests.info), sequence: 0, version: 2)
        }
        defer { board.finish() }
        let session = LinkSession(options: Self.options(board.pty.path, version: 1))
        #expect(throws: LinkError.versionMismatch(path: board.pty.path, host: 1, board: 2)) { try session.connect() }
    }

    /// A version-2 board with a ranger in millimetres, a bumper and one motor.
    static let sonarInfo = BoardInfo(
        firmwareMajor: 1, firmwareMinor: 0, firmwarePatch: 0, uniqueID: 7, periodMinMilliseconds: 4,
        periodMaxMilliseconds: 1000, failsafeMinMilliseconds: 10, failsafeMaxMilliseconds: 250, board: "sonar",
        sensors: [ChannelDescriptor(kind: .analog, unit: .millimetre, minimum: 0, maximum: 4000),
                  ChannelDescriptor(kind: .digital, unit: .none, minimum: 0, maximum: 1)],
        actuators: [ChannelDescriptor(kind: .motor, unit: .perMille, minimum: -1000, maximum: 1000)])
}

/// The faster line of Docs/PROTOCOL.md section 12, with the host-built firmware (a pty has no
/// speed, so the board accepts) and with scripted boards that refuse or go quiet.
@Suite("Line speed: raised after the handshake, kept when the board cannot", .serialized)
struct LineSpeedTests {
    static func options(_ path: String, baud: UInt32) -> SessionOptions {
        var options = VersionTests.options(path)
        options.config = LinkConfig(periodMilliseconds: 10, failsafeMilliseconds: 100, sensorMask: 1)
        options.lineBaudRate = baud
        return options
    }

    @Test("the host-built firmware takes 1,000,000 baud: acknowledged, the port changed, PONG at the new speed, samples stream")
    func raisedWithTheFirmware() throws {
        let firmware = try FirmwareProcess()
        defer { firmware.quit() }
        var options = Self.options(firmware.path, baud: 1_000_000)
        options.config = LinkConfig(periodMilliseconds: 10, failsafeMilliseconds: 100, sensorMask: 0x7F)
        let session = LinkSession(options: options)
        let events = EventLog()
        session.onEvent = { events.add($0.description) }
        try session.connect()
        #expect(session.lineBaudRate == 1_000_000)
        #expect(events.all.contains("line raised to 1000000 baud"))
        var input: UInt32 = 0, output: UInt32 = 0
        let fd = open(firmware.path, O_RDWR | O_NOCTTY | O_NONBLOCK)
        defer { close(fd) }
        #expect(SerialPort.readSpeed(fd: fd, input: &input, output: &output) && output == 1_000_000,
                "the pty's termios says \(output) baud")
        #expect(collect(session, count: 10).count == 10)
        #expect(session.counters.malformedFrames == 0 && session.counters.crcErrors == 0)
        session.stop()
    }

    @Test("a board that refuses the speed (ERROR out_of_range): the session stays at 115200 and goes on")
    func refused() throws {
        let board = try Self.versionTwoBoard { header, message in
            guard case .setBaud? = message else { return nil }
            let report = ErrorReport(code: ErrorCode.outOfRange.rawValue, referencedType: MessageType.setBaud.rawValue,
                                     referencedSequence: header.sequence, detail: 1)
            return FrameEncoder.frame(.error(report), sequence: 20, version: 2)
        }
        defer { board.finish() }
        let session = LinkSession(options: Self.options(board.pty.path, baud: 2_000_000))
        let events = EventLog()
        session.onEvent = { events.add($0.description) }
        try session.connect()
        #expect(session.lineBaudRate == 115_200)
        #expect(events.all.contains("line kept at 115200 baud: the board did not take 2000000 baud"))
        #expect(try session.ping(count: 2).count == 2)
        session.stop()
    }

    @Test("a board that acknowledges but never answers at the new speed: both go back, confirmed by a PONG at 115200")
    func neverAnswersAtTheNewSpeed() throws {
        let deafUntil = Deadline()
        let board = try Self.versionTwoBoard { header, message in
            // after BAUD_ACK the board hears nothing valid for 500 ms (its own fallback time)
            if case let .setBaud(baud)? = message {
                deafUntil.set(MonotonicTime.now().adding(milliseconds: 500))
                return FrameEncoder.frame(.baudAck(baud: baud), sequence: 21, version: 2)
            }
            return deafUntil.passed ? nil : []
        }
        defer { board.finish() }
        let session = LinkSession(options: Self.options(board.pty.path, baud: 1_000_000))
        let start = MonotonicTime.now()
        try session.connect()
        let took = MonotonicTime.now().milliseconds(since: start)
        #expect(session.lineBaudRate == 115_200)
        #expect(took >= 600 && took < 3000, "the host waits out the board's 500 ms before it PINGs at the old speed: \(took) ms")
        #expect(try session.ping(count: 2).count == 2, "the link works at the old speed")
        session.stop()
    }

    /// A version-2 board with `sonarInfo`'s channels: HELLO, GET_CHANNEL, CONFIG, PING, STOP and
    /// GET_STATUS answered like the firmware; `special` answers first when it returns non-nil.
    static func versionTwoBoard(_ special: @escaping @Sendable (FrameHeader, Message?) -> [UInt8]?) throws -> ScriptedBoard {
        let names = ["sonar", "bumper", "motor"]
        return try ScriptedBoard(speaks: 2) { header, message in
            guard let header else { return [] }
            if let bytes = special(header, message) { return bytes }
            switch message {
            case .hello?: return FrameEncoder.frame(.deviceInfo(VersionTests.sonarInfo), sequence: 0, version: 2)
            case let .getChannel(group, index)?:
                return FrameEncoder.frame(.channelInfo(ChannelName(group: ChannelGroup(rawValue: group)!, index: index,
                                                                   name: names[Int(index) + Int(group) * 2])),
                                          sequence: 1, version: 2)
            case let .config(c)?: return FrameEncoder.frame(.configAck(c), sequence: 2, version: 2)
            case let .ping(token)?: return FrameEncoder.frame(.pong(token: token, timestampMicros: 0), sequence: 3, version: 2)
            case .stop?, .getStatus?:
                return FrameEncoder.frame(.status(BoardStatus(failsafe: 3, resetCause: 0, uptimeMilliseconds: 0)),
                                          sequence: 4, version: 2)
            default: return []
            }
        }
    }
}

/// Event descriptions collected from the session's callback.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [String] = []
    func add(_ text: String) { lock.lock(); events.append(text); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return events }
}

/// A time shared with a scripted board's thread.
final class Deadline: @unchecked Sendable {
    private let lock = NSLock()
    private var until = MonotonicTime(nanoseconds: 0)
    func set(_ time: MonotonicTime) { lock.lock(); until = time; lock.unlock() }
    var passed: Bool { lock.lock(); defer { lock.unlock() }; return MonotonicTime.now() >= until }
}
