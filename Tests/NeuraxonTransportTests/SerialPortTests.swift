import Glibc
import Testing
@testable import NeuraxonTransport

@Suite("Serial port over a real pseudo-terminal")
struct SerialPortTests {
    @Test("opens raw 8N1 with every setting read back, at standard and custom rates")
    func settingsAreVerified() throws {
        for rate: UInt32 in [9600, 115_200, 250_000, 1_000_000, 123_456] {
            let pty = try PseudoTerminal()
            let port = try SerialPort(path: pty.path, configuration: SerialConfiguration(baudRate: rate))
            var t = termios()
            #expect(tcgetattr(port.fileDescriptor, &t) == 0)
            #expect(t.c_cflag & tcflag_t(CSIZE) == tcflag_t(CS8))
            #expect(t.c_cflag & tcflag_t(PARENB) == 0)
            #expect(t.c_cflag & tcflag_t(CSTOPB) == 0)
            #expect(t.c_cflag & tcflag_t(CRTSCTS) == 0)
            #expect(t.c_lflag & tcflag_t(ICANON | ECHO | ISIG) == 0)
            #expect(t.c_iflag & tcflag_t(IXON | ICRNL) == 0)
            var input: UInt32 = 0
            var output: UInt32 = 0
            #expect(nx_serial_get_speed_for_tests(port.fileDescriptor, &input, &output))
            #expect(input == rate && output == rate)
        }
    }

    @Test("inherited settings from another program are overwritten")
    func inheritedStateIsReset() throws {
        let pty = try PseudoTerminal()
        let fd = open(pty.path, O_RDWR | O_NOCTTY)
        var t = termios()
        tcgetattr(fd, &t)
        t.c_lflag |= tcflag_t(ICANON | ECHO)
        t.c_iflag |= tcflag_t(IXON | ICRNL)
        t.c_cflag |= tcflag_t(PARENB)
        tcsetattr(fd, TCSANOW, &t)
        close(fd)
        let port = try SerialPort(path: pty.path)
        tcgetattr(port.fileDescriptor, &t)
        #expect(t.c_lflag & tcflag_t(ICANON | ECHO) == 0)
        #expect(t.c_iflag & tcflag_t(IXON | ICRNL) == 0)
        #expect(t.c_cflag & tcflag_t(PARENB) == 0)
    }

    @Test("all 256 byte values pass both ways, across partial reads")
    func everyByteValue() throws {
        let pty = try PseudoTerminal()
        let port = try SerialPort(path: pty.path)
        let all = (0...255).map { UInt8($0) }
        try port.write(all, deadline: .now().adding(milliseconds: 2000))
        #expect(pty.receive(count: 256) == all)

        try pty.send(Array(all[0..<100]))
        try pty.send(Array(all[100...]))
        var got: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        let deadline = MonotonicTime.now().adding(milliseconds: 2000)
        while got.count < 256 && MonotonicTime.now() < deadline {
            let n = try buffer.withUnsafeMutableBytes { try port.read(into: $0, deadline: deadline) }
            got += buffer[0..<n]
        }
        #expect(got == all)
    }

    @Test("a read with nothing to read returns 0 at its deadline")
    func readTimesOut() throws {
        let pty = try PseudoTerminal()
        let port = try SerialPort(path: pty.path)
        var buffer = [UInt8](repeating: 0, count: 16)
        let start = MonotonicTime.now()
        let n = try withExtendedLifetime(pty) {
            try buffer.withUnsafeMutableBytes { try port.read(into: $0, deadline: start.adding(milliseconds: 50)) }
        }
        let waited = MonotonicTime.now().milliseconds(since: start)
        #expect(n == 0)
        #expect(waited >= 49 && waited < 2000)
    }

    @Test("a large write completes through partial writes while the other side reads slowly")
    func partialWritesComplete() throws {
        let pty = try PseudoTerminal()
        let port = try SerialPort(path: pty.path)
        let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let reader = Reader(pty: pty, count: payload.count)
        reader.start()
        try port.write(payload, deadline: .now().adding(milliseconds: 20_000))
        #expect(reader.join() == payload)
    }

    @Test("a write nobody reads times out at its deadline instead of hanging")
    func writeTimesOut() throws {
        let pty = try PseudoTerminal()
        let port = try SerialPort(path: pty.path)
        let payload = [UInt8](repeating: 0x55, count: 1 << 20)
        #expect(throws: SerialError.timedOut(path: pty.path, operation: "write")) {
            try port.write(payload, deadline: .now().adding(milliseconds: 100))
        }
    }

    @Test("a pseudo-terminal reports modem lines as not supported, and the port stays usable")
    func modemLinesUnsupported() throws {
        let pty = try PseudoTerminal()
        let port = try SerialPort(path: pty.path)
        #expect(throws: SerialError.unsupported(path: pty.path, operation: "reading the modem lines")) {
            _ = try port.modemLines()
        }
        #expect(throws: SerialError.self) { try port.setModemLines(.dtr, raised: false) }
        try port.write([1, 2, 3], deadline: .now().adding(milliseconds: 1000))
        #expect(pty.receive(count: 3) == [1, 2, 3])
        #expect(port.latency == .notApplicable)
    }

    @Test("a second opener gets .busy naming the holder; after close it opens")
    func exclusiveUse() throws {
        let pty = try PseudoTerminal()
        let first = try SerialPort(path: pty.path)
        let error = serialError { _ = try SerialPort(path: pty.path) }
        guard case let .busy(path, holders) = error else { Issue.record("expected .busy, got \(String(describing: error))"); return }
        #expect(path == pty.path)
        #expect(holders.contains { $0.contains("pid \(getpid())") })
        #expect(error?.description.contains("busy") == true)
        first.close()
        let second = try SerialPort(path: pty.path)
        #expect(second.isOpen)
    }

    @Test("a missing device is .noSuchDevice with advice; a non-terminal is refused")
    func badPaths() throws {
        let error = serialError { _ = try SerialPort(path: "/dev/ttyNEURAXON-none") }
        guard case .noSuchDevice(let path, _) = error else { Issue.record("expected .noSuchDevice, got \(String(describing: error))"); return }
        #expect(path == "/dev/ttyNEURAXON-none")
        #expect(error?.description.contains("neuraxon devices") == true)
        #expect(throws: SerialError.notATerminal(path: "/dev/null")) { _ = try SerialPort(path: "/dev/null") }
    }

    @Test("permission denied names the device's group and the fix")
    func permissionMessage() throws {
        let pty = try PseudoTerminal()
        let error = SerialPort.openError(path: pty.path, errno: EACCES)
        guard case let .permissionDenied(path, group, _, _) = error else { Issue.record("wrong error \(error)"); return }
        #expect(path == pty.path)
        var st = stat()
        #expect(stat(pty.path, &st) == 0)
        let owner = String(cString: getgrgid(st.st_gid)!.pointee.gr_name)
        #expect(group == owner)
        #expect(error.description.contains("log"))
        #expect(error.description.contains("'\(owner)'"))
    }

    @Test("the other side closing is a disconnect, reported at once and not as data")
    func hangUpIsDisconnect() throws {
        let pty = try PseudoTerminal()
        let port = try SerialPort(path: pty.path)
        pty.releaseSlave()
        pty.close()
        var buffer = [UInt8](repeating: 0, count: 16)
        let start = MonotonicTime.now()
        let error = serialError {
            _ = try buffer.withUnsafeMutableBytes { try port.read(into: $0, deadline: start.adding(milliseconds: 3000)) }
        }
        guard case .disconnected = error else { Issue.record("expected .disconnected, got \(String(describing: error))"); return }
        #expect(MonotonicTime.now().milliseconds(since: start) < 1000)
    }
}

/// The `SerialError` that `body` throws, or nil if it returns (or throws something else).
func serialError(_ body: () throws -> Void) -> SerialError? {
    do {
        try body()
        return nil
    } catch {
        return error as? SerialError
    }
}

/// Reads `count` bytes from the pty master on its own thread, in small slow chunks.
final class Reader: @unchecked Sendable {
    private let pty: PseudoTerminal
    private let count: Int
    private var thread = pthread_t()
    private var result: [UInt8] = []

    init(pty: PseudoTerminal, count: Int) {
        self.pty = pty
        self.count = count
    }

    func start() {
        let box = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { raw in
            let me = Unmanaged<Reader>.fromOpaque(raw!).takeRetainedValue()
            me.result = me.pty.receive(count: me.count, milliseconds: 20_000)
            return nil
        }, box.toOpaque())
    }

    func join() -> [UInt8] {
        pthread_join(thread, nil)
        return result
    }
}

/// Reads the speed back through the C target, as the port's own verification does.
func nx_serial_get_speed_for_tests(_ fd: Int32, _ input: inout UInt32, _ output: inout UInt32) -> Bool {
    SerialPort.readSpeed(fd: fd, input: &input, output: &output)
}
