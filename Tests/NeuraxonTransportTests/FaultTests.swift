import Foundation
import Glibc
import NeuraxonChannels
import NeuraxonProtocol
@testable import NeuraxonTransport
import Testing

/// A board played by the test on a pty master: each frame from the host goes to `reply`,
/// whose bytes are sent back. Runs on its own thread until `finish()`.
///
/// It speaks protocol version 1 unless made with `speaks: 2`: like the firmware, it answers a
/// frame of a version it does not speak with ERROR unsupported_version (`detail` its version,
/// the frame's type and seq) without calling `reply`. Made with `speaks: nil` it answers
/// nothing by itself: `reply` sees every frame of version 1 or 2 (a silent or a broken board).
final class ScriptedBoard: @unchecked Sendable {
    let pty: PseudoTerminal
    /// The newest protocol version the board speaks; nil: it leaves every answer to `reply`.
    let speaks: UInt8?
    private let reply: @Sendable (FrameHeader?, Message?) -> [UInt8]
    private var running = true
    private let thread: Thread
    private let lock = NSLock()

    init(speaks: UInt8? = 1, reply: @escaping @Sendable (FrameHeader?, Message?) -> [UInt8]) throws {
        pty = try PseudoTerminal()
        self.speaks = speaks
        self.reply = reply
        let box = Box()
        thread = Thread { box.board?.serve() }
        box.board = self
        thread.start()
    }

    /// A board that answers like the firmware, without streaming: DEVICE_INFO (of
    /// `FaultTests.info`), CONFIG_ACK, PONG, and STATUS for STOP and GET_STATUS.
    static func responder() throws -> ScriptedBoard {
        let sequence = Counter()
        return try ScriptedBoard { _, message in
            let seq = UInt8(truncatingIfNeeded: sequence.increment())
            switch message {
            case .hello?: return FrameEncoder.frame(.deviceInfo(FaultTests.info), sequence: seq)
            case let .config(c)?: return FrameEncoder.frame(.configAck(c), sequence: seq)
            case let .ping(token)?: return FrameEncoder.frame(.pong(token: token, timestampMicros: 0), sequence: seq)
            case .stop?, .getStatus?:
                return FrameEncoder.frame(.status(BoardStatus(failsafe: 3, resetCause: 0, uptimeMilliseconds: 0)), sequence: seq)
            default: return []
            }
        }
    }

    private final class Box: @unchecked Sendable { weak var board: ScriptedBoard? }

    private var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    private func serve() {
        var decoder = FrameDecoder()
        decoder.versions = 1...(speaks ?? ProtocolLimits.newestVersion)
        var buffer = [UInt8](repeating: 0, count: 512)
        while isRunning {
            var p = pollfd(fd: pty.master, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 20) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(pty.master, $0.baseAddress, $0.count) }
            if n <= 0 { usleep(5000); continue }
            Array(buffer[0..<n]).withUnsafeBytes { raw in
                var offset = 0
                while let event = decoder.decode(raw, offset: &offset) {
                    let bytes: [UInt8]
                    switch event {
                    case let .frame(h): bytes = reply(h, try? decoder.message())
                    case let .error(.unsupportedVersion(_, type, sequence)) where speaks != nil:
                        let speaks = speaks ?? 1
                        let report = ErrorReport(code: ErrorCode.unsupportedVersion.rawValue, referencedType: type,
                                                 referencedSequence: sequence, detail: speaks)
                        bytes = FrameEncoder.frame(.error(report), sequence: 0, version: speaks)
                    case .error: bytes = reply(nil, nil)
                    }
                    try? pty.send(bytes)
                }
            }
        }
    }

    func finish() {
        lock.lock()
        running = false
        lock.unlock()
        while !thread.isFinished { usleep(1000) }
    }
}

/// A thread-safe count for scripted boards.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    /// Adds one and returns the new count.
    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

/// A relay between the firmware's pty and a new pty the session opens, injecting faults into
/// the board → host direction: bit flips, dropped bytes, and a cut in the middle of a frame.
final class FaultRelay: @unchecked Sendable {
    let downstream: PseudoTerminal
    private let upstream: SerialPort
    private let lock = NSLock()
    private var running = true
    private var flipChance = 0.0
    private var dropChance = 0.0
    private var cutRequested = false
    private(set) var flipped = 0
    private(set) var dropped = 0
    private var cutFinished = false
    /// Whether the cut happened. Set before the session's side is hung up, so a session that has
    /// seen the hang-up always reads `true`.
    var cutDone: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cutFinished
    }
    private var thread: Thread?
    private var random = SystemRandomNumberGenerator()

    init(firmwarePath: String) throws {
        downstream = try PseudoTerminal()
        upstream = try SerialPort(path: firmwarePath)
        let t = Thread { [unowned self] in run() }
        thread = t
        t.start()
    }

    func setFaults(flip: Double, drop: Double) {
        lock.lock()
        flipChance = flip
        dropChance = drop
        lock.unlock()
    }

    /// Forwards the first half of the next board frame, then hangs up the session's side.
    func cutMidFrame() {
        lock.lock()
        cutRequested = true
        lock.unlock()
    }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 1024)
        var frame: [UInt8] = []
        while true {
            lock.lock()
            let (go, flip, drop, cut) = (running, flipChance, dropChance, cutRequested)
            lock.unlock()
            if !go { return }
            var fds = [pollfd(fd: upstream.fileDescriptor, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: downstream.master, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, 10) > 0 else { continue }
            if fds[1].revents & Int16(POLLIN) != 0 {  // host → board, untouched
                let n = buffer.withUnsafeMutableBytes { Glibc.read(downstream.master, $0.baseAddress, $0.count) }
                if n > 0 { try? upstream.write(Array(buffer[0..<n]), deadline: .now().adding(milliseconds: 100)) }
            }
            if fds[0].revents & Int16(POLLIN) != 0 {  // board → host, with faults, frame by frame
                let n = (try? buffer.withUnsafeMutableBytes { try upstream.read(into: $0, deadline: .now()) }) ?? 0
                for byte in buffer[0..<n] {
                    frame.append(byte)
                    guard byte == 0 else { continue }
                    if cut {
                        try? downstream.send(Array(frame[0..<(frame.count / 2)]))
                        lock.lock()
                        cutFinished = true
                        running = false
                        lock.unlock()
                        downstream.close()
                        return
                    }
                    var out: [UInt8] = []
                    for b in frame {
                        if Double.random(in: 0..<1, using: &random) < drop { dropped += 1; continue }
                        if b != 0, Double.random(in: 0..<1, using: &random) < flip {
                            flipped += 1
                            out.append(b ^ (1 << UInt8.random(in: 0...7, using: &random)))
                        } else {
                            out.append(b)
                        }
                    }
                    try? downstream.send(out)
                    frame.removeAll(keepingCapacity: true)
                }
            }
        }
    }

    func finish() {
        lock.lock()
        running = false
        lock.unlock()
        while let t = thread, !t.isFinished { usleep(1000) }
        upstream.close()
    }
}

@Suite("Faults: garbage, wrong version, silence, corruption, unplug", .serialized)
struct FaultTests {
    static let info = BoardInfo(
        firmwareMajor: 1, firmwareMinor: 0, firmwarePatch: 0, uniqueID: 42, periodMinMilliseconds: 1,
        periodMaxMilliseconds: 1000, failsafeMinMilliseconds: 10, failsafeMaxMilliseconds: 250, board: "scripted",
        sensors: [ChannelDescriptor(kind: .analog, unit: .millivolt, minimum: 0, maximum: 5000)],
        actuators: [ChannelDescriptor(kind: .motor, unit: .perMille, minimum: -1000, maximum: 1000)])

    @Test("a board that resets on open: HELLOs during its boot go unanswered, stale bytes precede DEVICE_INFO")
    func bootingBoard() throws {
        let hellos = Counter()
        let board = try ScriptedBoard { header, message in
            switch header?.type {
            case .hello?:
                // Booting: the first two HELLOs are lost; then a half frame and a stale SENSORS frame
                // from before the reset arrive ahead of the answer.
                guard hellos.increment() > 2 else { return [] }
                return [0x05, 0x01, 0x90] + [0] + FrameEncoder.frame(.sensors(SensorSample(timestampMicros: 9, sensorMask: 1, values: [7])), sequence: 40)
                    + FrameEncoder.frame(.deviceInfo(FaultTests.info), sequence: 41)
            case .config?:
                guard case let .config(c)? = message else { return [] }
                return FrameEncoder.frame(.configAck(c), sequence: 42)
            default:
                return []
            }
        }
        defer { board.finish() }
        var options = SessionOptions(selector: .path(board.pty.path), config: LinkConfig(periodMilliseconds: 20, failsafeMilliseconds: 100, sensorMask: 1))
        options.monitor = nil
        options.protocolVersion = 1  // every HELLO reaches the script (the version fallback has its own tests)
        let session = LinkSession(options: options)
        let info = try session.connect()
        #expect(info == FaultTests.info)
        #expect(session.counters.helloAttempts == 3)
        #expect(session.counters.malformedFrames == 1)
        #expect(session.activeConfig == LinkConfig(periodMilliseconds: 20, failsafeMilliseconds: 100, sensorMask: 1))
        #expect(session.counters.droppedFrames == 0, "DEVICE_INFO restarts sequence tracking")
        session.stop()
    }

    @Test("a rejected frame from the board still moves sequence tracking on: one lost frame counts once")
    func rejectedFramesAreSequenceTracked() throws {
        let board = try ScriptedBoard { header, message in
            switch header?.type {
            case .hello?:
                return FrameEncoder.frame(.deviceInfo(FaultTests.info), sequence: 41)
            case .config?:
                guard case let .config(c)? = message else { return [] }
                return FrameEncoder.frame(.configAck(c), sequence: 42)
            case .getStatus?:
                // seq 43 is lost; 44 is a HELLO, a type the host never accepts; 45 answers.
                return FrameEncoder.frame(.hello, sequence: 44)
                    + FrameEncoder.frame(.status(BoardStatus(failsafe: 0, resetCause: 0, uptimeMilliseconds: 0)), sequence: 45)
            default:
                return []
            }
        }
        defer { board.finish() }
        var options = SessionOptions(selector: .path(board.pty.path), config: LinkConfig(periodMilliseconds: 20, failsafeMilliseconds: 100, sensorMask: 1))
        options.monitor = nil
        let session = LinkSession(options: options)
        try session.connect()
        _ = try session.status()
        #expect(session.counters.rejectedFrames == 1)
        #expect(session.counters.droppedFrames == 1, "the gap before the rejected frame is one frame; after it, none")
        session.stop()
    }

    @Test("a board that answers garbage: the handshake fails with a message about baud rate and firmware")
    func garbageBoard() throws {
        let board = try ScriptedBoard { _, _ in (0..<40).map { _ in UInt8.random(in: 1...255) } + [0] }
        defer { board.finish() }
        var options = SessionOptions(selector: .path(board.pty.path))
        options.handshakeTimeoutMilliseconds = 600
        options.monitor = nil
        let session = LinkSession(options: options)
        do {
            try session.connect()
            Issue.record("connected to a garbage board")
        } catch {
            guard case let .noAnswer(path, attempts, bytes, bad) = error else { Issue.record("got \(error)"); return }
            #expect(path == board.pty.path && attempts >= 2 && bytes > 0 && bad > 0)
            #expect(error.description.contains("baud rate"))
        }
        #expect(session.state == .disconnected)
    }

    @Test("a board that speaks protocol version 2: the error names both versions")
    func wrongVersion() throws {
        let board = try ScriptedBoard { header, _ in
            guard header?.type == .hello else { return [] }
            return FrameEncoder.frame(.deviceInfo(FaultTests.info), sequence: 0, version: 2)
        }
        defer { board.finish() }
        var options = SessionOptions(selector: .path(board.pty.path))
        options.monitor = nil
        let session = LinkSession(options: options)
        #expect(throws: LinkError.versionMismatch(path: board.pty.path, host: 1, board: 2)) { try session.connect() }
        let message = LinkError.versionMismatch(path: board.pty.path, host: 1, board: 2).description
        #expect(message.contains("version 1") && message.contains("version 2"))
    }

    @Test("a board that refuses our version with ERROR unsupported_version is reported the same way")
    func refusedVersion() throws {
        let board = try ScriptedBoard { header, _ in
            guard let h = header else { return [] }
            return FrameEncoder.frame(.error(ErrorReport(code: 1, referencedType: h.type.rawValue, referencedSequence: h.sequence, detail: 3)), sequence: 0)
        }
        defer { board.finish() }
        var options = SessionOptions(selector: .path(board.pty.path))
        options.monitor = nil
        #expect(throws: LinkError.versionMismatch(path: board.pty.path, host: 1, board: 3)) {
            try LinkSession(options: options).connect()
        }
    }

    @Test("a silent board: the handshake retries HELLO every 250 ms, then says nothing came back")
    func silentBoard() throws {
        let board = try ScriptedBoard(speaks: nil) { _, _ in [] }
        defer { board.finish() }
        var options = SessionOptions(selector: .path(board.pty.path))
        options.handshakeTimeoutMilliseconds = 800
        options.monitor = nil
        let session = LinkSession(options: options)
        let start = MonotonicTime.now()
        #expect(throws: LinkError.noAnswer(path: board.pty.path, attempts: 4, bytesHeard: 0, badFrames: 0)) { try session.connect() }
        let took = MonotonicTime.now().milliseconds(since: start)
        #expect(took >= 790 && took < 3000)
        #expect(session.counters.helloAttempts == 4)
    }

    @Test("a board that stops answering mid-stream is declared lost within 250 ms (after 200 ms of silence)")
    func boardStopsAnswering() throws {
        let firmware = try FirmwareProcess()
        // Suspend the firmware: its pty stays open but nothing comes out.
        let session = makeSession(firmware.path, config: LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 100, sensorMask: 1))
        try session.connect()
        #expect(collect(session, count: 10).count == 10)
        kill(firmware.process.processIdentifier, SIGSTOP)
        defer { kill(firmware.process.processIdentifier, SIGCONT) }
        let start = MonotonicTime.now()
        var sample = SensorSample()
        var poll = LinkPoll.timeout
        while poll != .linkLost && MonotonicTime.now().milliseconds(since: start) < 2000 {
            poll = session.nextSensors(into: &sample, deadline: .now().adding(milliseconds: 20))
        }
        let took = MonotonicTime.now().milliseconds(since: start)
        #expect(poll == .linkLost)
        // Declared after 200 ms of silence, counted from the last frame (up to one 5 ms period before
        // the stop); the upper bound leaves room for a loaded machine.
        #expect(took >= 190 && took <= 400, "declared lost after \(took) ms")
        kill(firmware.process.processIdentifier, SIGCONT)
        var back = false
        let until = MonotonicTime.now().adding(milliseconds: 3000)
        while !back && MonotonicTime.now() < until {
            back = session.nextSensors(into: &sample, deadline: .now().adding(milliseconds: 20)) == .reconnected
        }
        #expect(back, "the board answered again but the session did not reconnect")
        session.stop()
    }

    @Test("corrupted and dropped bytes: the stream goes on, every bad frame is counted, no bad reading is accepted")
    func corruptionThroughRelay() throws {
        let firmware = try FirmwareProcess()
        firmware.send("sensor 0 2500")
        firmware.send("sensor 1 1000")
        let relay = try FaultRelay(firmwarePath: firmware.path)
        defer { relay.finish() }
        let session = makeSession(relay.downstream.path, config: LinkConfig(periodMilliseconds: 4, failsafeMilliseconds: 100, sensorMask: 0x03))
        try session.connect()
        relay.setFaults(flip: 0.01, drop: 0.005)
        let samples = collect(session, count: 400, milliseconds: 6000)
        relay.setFaults(flip: 0, drop: 0)
        #expect(samples.count >= 300)
        for (_, s) in samples {
            #expect(s.sensorMask == 0x03 && s.readings[0] == 2500 && s.readings[1] == 1000, "accepted a corrupted sample")
        }
        let c = session.counters
        #expect(relay.flipped + relay.dropped > 0)
        #expect(c.crcErrors + c.malformedFrames > 0)
        #expect(c.droppedFrames > 0, "lost frames must show up as sequence gaps")
        #expect(session.state == .streaming || session.state == .reconnecting)
        session.stop()
        firmware.quit()
    }

    @Test("an unplug in the middle of a frame is a link loss, not a crash or a half frame")
    func unplugMidFrame() throws {
        let firmware = try FirmwareProcess()
        let relay = try FaultRelay(firmwarePath: firmware.path)
        defer { relay.finish() }
        let session = makeSession(relay.downstream.path, config: LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 100, sensorMask: 0x7F), reconnect: false)
        try session.connect()
        #expect(collect(session, count: 5).count == 5)
        let before = session.counters.sensorFrames
        relay.cutMidFrame()
        var sample = SensorSample()
        var polls: [LinkPoll] = []
        let end = MonotonicTime.now().adding(milliseconds: 1000)
        while !polls.contains(.linkLost) && MonotonicTime.now() < end {
            polls.append(session.nextSensors(into: &sample, deadline: .now().adding(milliseconds: 20)))
        }
        #expect(relay.cutDone)
        #expect(polls.last == .linkLost)
        #expect(session.state == .disconnected)
        #expect(session.counters.linkLosses == 1)
        #expect(session.counters.sensorFrames <= before + 10)
        firmware.quit()
    }
}
