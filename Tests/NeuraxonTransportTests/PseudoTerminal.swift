import Glibc
@testable import NeuraxonTransport

/// A real pseudo-terminal pair for tests: the test plays the board on the master side and the
/// code under test opens `path`, the slave side, as it would open /dev/ttyACM0.
final class PseudoTerminal {
    private(set) var master: Int32
    /// Held open so the slave stays usable between openers; closed by `hangUp`.
    private var slave: Int32
    let path: String

    init() throws {
        var m: Int32 = -1
        var s: Int32 = -1
        var name = [CChar](repeating: 0, count: 128)
        guard openpty(&m, &s, &name, nil, nil) == 0 else { throw TestFailure("openpty failed: errno \(errno)") }
        master = m
        slave = s
        path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var t = termios()
        tcgetattr(m, &t)
        cfmakeraw(&t)
        tcsetattr(m, TCSANOW, &t)
        _ = fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK)
    }

    deinit { close() }

    /// Drops this pair's own slave descriptor, so closing the master is seen as a hang-up.
    func releaseSlave() {
        if slave >= 0 { Glibc.close(slave); slave = -1 }
    }

    func close() {
        releaseSlave()
        if master >= 0 { Glibc.close(master); master = -1 }
    }

    /// Writes all bytes to the master side (the "board" sends).
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        let deadline = MonotonicTime.now().adding(milliseconds: 5000)
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(master, $0.baseAddress, $0.count) }
            if n > 0 { offset += n; continue }
            if errno == EAGAIN || errno == EINTR {
                guard MonotonicTime.now() < deadline else { throw TestFailure("pty send timed out") }
                var p = pollfd(fd: master, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, 50)
                continue
            }
            throw TestFailure("pty send failed: errno \(errno)")
        }
    }

    /// Reads from the master side until `count` bytes arrived or `milliseconds` passed.
    func receive(count: Int, milliseconds: Double = 2000) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let deadline = MonotonicTime.now().adding(milliseconds: milliseconds)
        while out.count < count {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, min($0.count, count - out.count)) }
            if n > 0 { out += chunk[0..<n]; continue }
            let timeout = deadline.pollTimeout()
            if timeout == 0 { break }
            var p = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, timeout)
        }
        return out
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
