import CNeuraxonSerial
import Glibc

/// How a serial port is set up. Every field is written to the driver and read back on open.
public struct SerialConfiguration: Equatable, Sendable {
    /// Hardware flow control.
    public enum FlowControl: String, Equatable, Sendable {
        /// No flow control (the default): `CRTSCTS`, `IXON`, `IXOFF` all cleared.
        case none
        /// RTS/CTS hardware flow control (`CRTSCTS`).
        case rtsCts
    }

    /// Line speed in bits per second. Any rate the driver accepts works, standard or not: it is
    /// set through termios2 with `BOTHER` and verified by reading it back.
    public var baudRate: UInt32
    /// Flow control; `.none` unless asked for.
    public var flowControl: FlowControl
    /// When `false`, `HUPCL` is cleared so DTR stays raised when the port closes and the next open
    /// does not reset boards that reset on a DTR edge (Arduino Uno). The very first open after the
    /// board is plugged in still raises DTR; a 10 µF capacitor from RESET to GND stops that too.
    public var hangUpOnClose: Bool
    /// Exclusive use: `TIOCEXCL` plus `flock(LOCK_EX | LOCK_NB)` (the lock also excludes root).
    public var exclusive: Bool
    /// Lower USB adapter latency: an FTDI-style `latency_timer` is set to 1 ms where the device
    /// has one and the process may change it. See `SerialPort.latency`.
    public var lowLatency: Bool

    /// 8N1 raw mode at `baudRate` (115 200 by default), no flow control, exclusive, low latency.
    public init(baudRate: UInt32 = 115_200, flowControl: FlowControl = .none, hangUpOnClose: Bool = true,
                exclusive: Bool = true, lowLatency: Bool = true) {
        self.baudRate = baudRate
        self.flowControl = flowControl
        self.hangUpOnClose = hangUpOnClose
        self.exclusive = exclusive
        self.lowLatency = lowLatency
    }
}

/// What opening the port did about USB adapter latency.
public enum LatencySetting: Equatable, Sendable, CustomStringConvertible {
    /// Low latency was not asked for.
    case notRequested
    /// The device has no latency timer (not an FTDI-style adapter, or a pseudo-terminal).
    case notApplicable
    /// The latency timer was at `milliseconds` ms already (1 ms is the floor).
    case alreadyLow(milliseconds: Int)
    /// The latency timer was lowered from `from` ms to 1 ms.
    case lowered(from: Int)
    /// The latency timer could not be written: `file` needs root or a udev rule.
    case notPermitted(file: String, milliseconds: Int)

    public var description: String {
        switch self {
        case .notRequested: return "latency timer left alone"
        case .notApplicable: return "no latency timer on this device"
        case let .alreadyLow(ms): return "latency timer already \(ms) ms"
        case let .lowered(from): return "latency timer lowered from \(from) ms to 1 ms"
        case let .notPermitted(file, ms):
            return "latency timer stays at \(ms) ms: \(file) is not writable (run as root once or install the "
                + "udev rule from Docs/TRANSPORT.md); expect about \(ms) ms extra round-trip time"
        }
    }
}

/// Modem control and status lines.
public struct ModemLines: OptionSet, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// Data Terminal Ready (output). The corresponding C constant is `TIOCM_DTR`.
    public static let dtr = ModemLines(rawValue: Int32(NX_SERIAL_LINE_DTR))
    /// Request To Send (output). The corresponding C constant is `TIOCM_RTS`.
    public static let rts = ModemLines(rawValue: Int32(NX_SERIAL_LINE_RTS))
    /// Clear To Send (input). The corresponding C constant is `TIOCM_CTS`.
    public static let cts = ModemLines(rawValue: Int32(NX_SERIAL_LINE_CTS))
    /// Data Set Ready (input). The corresponding C constant is `TIOCM_DSR`.
    public static let dsr = ModemLines(rawValue: Int32(NX_SERIAL_LINE_DSR))
    /// Carrier Detect (input). The corresponding C constant is `TIOCM_CD`.
    public static let cd = ModemLines(rawValue: Int32(NX_SERIAL_LINE_CD))
    /// Ring Indicator (input). The corresponding C constant is `TIOCM_RI`.
    public static let ri = ModemLines(rawValue: Int32(NX_SERIAL_LINE_RI))

    public var description: String {
        let names: [(ModemLines, String)] = [(.dtr, "DTR"), (.rts, "RTS"), (.cts, "CTS"), (.dsr, "DSR"),
                                             (.cd, "CD"), (.ri, "RI")]
        return names.filter { contains($0.0) }.map(\.1).joined(separator: "|")
    }
}

/// A serial port opened over termios: raw 8N1, explicit settings verified by reading them back,
/// non-blocking reads and writes with deadlines, and unplug reported as `.disconnected`.
///
/// Not thread-safe: one thread uses a port at a time. Reads and writes do not allocate.
public final class SerialPort {
    /// The path the port was opened by (as given, e.g. a `/dev/serial/by-id` link).
    public let path: String
    /// The settings in force (requested and verified).
    public private(set) var configuration: SerialConfiguration
    /// What opening did about USB adapter latency.
    public private(set) var latency: LatencySetting = .notRequested
    private var fd: Int32

    /// The file descriptor, for adding the port to a caller's `poll` set. Valid until `close()`.
    public var fileDescriptor: Int32 { fd }
    /// Whether the port is open.
    public var isOpen: Bool { fd >= 0 }

    /// Opens `path` with `O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC`, takes it exclusively,
    /// applies `configuration`, verifies every setting, and discards stale input and output.
    public init(path: String, configuration: SerialConfiguration = SerialConfiguration()) throws(SerialError) {
        self.path = path
        self.configuration = configuration
        var descriptor: Int32
        repeat {
            descriptor = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else { throw SerialPort.openError(path: path, errno: errno) }
        fd = descriptor
        do throws(SerialError) {
            guard isatty(fd) == 1 else { throw SerialError.notATerminal(path: path) }
            if configuration.exclusive { try lockExclusively() }
            try applySettings()
            if configuration.lowLatency { latency = applyLowLatency() }
            try discardBuffers()
        } catch {
            Glibc.close(fd)
            fd = -1
            throw error
        }
    }

    deinit { close() }

    /// Closes the port (releasing the lock). Safe to call more than once.
    public func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    // MARK: Reading and writing

    /// Reads whatever is available into `buffer`, waiting until `deadline` for at least one byte.
    ///
    /// - Parameter wakeOn: another file descriptor (a `StopRequest`'s, say) whose readability
    ///   ends the wait early, or -1 for none. It is polled, never read.
    /// - Returns: the number of bytes read; 0 when the deadline passed, or `wakeOn` became
    ///   readable, with nothing to read.
    /// - Throws: `.disconnected` on hang-up, EIO, ENODEV or end of file (never returns 0 for those).
    /// - Complexity: one `read` plus at most one `poll` per wake-up; no allocation.
    public func read(into buffer: UnsafeMutableRawBufferPointer, deadline: MonotonicTime,
                     wakeOn: Int32 = -1) throws(SerialError) -> Int {
        guard fd >= 0 else { throw SerialError.closed(path: path) }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let n = Glibc.read(fd, base, buffer.count)
            if n > 0 { return n }
            if n == 0 { throw SerialError.disconnected(path: path, reason: "end of file") }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN:
                guard try waitReadable(deadline: deadline, wakeOn: wakeOn) else { return 0 }
            default: throw ioError(operation: "read", errno: code)
            }
        }
    }

    /// Waits until the port has bytes to read, `deadline` passes, or `wakeOn` (when not -1)
    /// becomes readable.
    ///
    /// - Returns: `true` when bytes are ready, `false` at the deadline or on `wakeOn`.
    /// - Throws: `.disconnected` when the device hung up with nothing left to read.
    public func waitReadable(deadline: MonotonicTime, wakeOn: Int32 = -1) throws(SerialError) -> Bool {
        guard fd >= 0 else { throw SerialError.closed(path: path) }
        var p = (pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeOn, events: Int16(POLLIN), revents: 0))
        while true {
            // A negative descriptor is ignored by poll, so one call serves both cases.
            let r = withUnsafeMutableBytes(of: &p) { raw in
                poll(raw.baseAddress!.assumingMemoryBound(to: pollfd.self), 2, deadline.pollTimeout())
            }
            if r < 0 {
                if errno == EINTR { continue }
                throw SerialError.system(path: path, operation: "poll", errno: errno)
            }
            if r == 0 { return false }
            if p.0.revents & Int16(POLLIN) != 0 { return true }
            if p.0.revents & Int16(POLLNVAL) != 0 { throw SerialError.closed(path: path) }
            if p.0.revents != 0 { throw SerialError.disconnected(path: path, reason: "hang-up") }
            return false  // only `wakeOn` is ready
        }
    }

    /// Writes all of `bytes`, completing partial writes and waiting while the driver's buffer
    /// is full, until `deadline`.
    ///
    /// - Throws: `.timedOut` if the deadline passes first, `.disconnected` on unplug.
    /// - Complexity: O(n) in the bytes; no allocation.
    public func write(_ bytes: UnsafeRawBufferPointer, deadline: MonotonicTime) throws(SerialError) {
        guard fd >= 0 else { throw SerialError.closed(path: path) }
        guard var next = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let n = Glibc.write(fd, next, remaining)
            if n > 0 {
                next += n
                remaining -= n
                continue
            }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN:
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let timeout = deadline.pollTimeout()
                let r = poll(&p, 1, timeout)
                if r == 0 && timeout == 0 { throw SerialError.timedOut(path: path, operation: "write") }
                if r > 0 && p.revents & Int16(POLLOUT) == 0 {
                    throw SerialError.disconnected(path: path, reason: "hang-up")
                }
            default: throw ioError(operation: "write", errno: code)
            }
        }
    }

    /// Writes all of `bytes` (see `write(_:deadline:)`).
    public func write(_ bytes: [UInt8], deadline: MonotonicTime) throws(SerialError) {
        var failure: SerialError?
        bytes.withUnsafeBytes { raw in
            do throws(SerialError) { try write(raw, deadline: deadline) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Changes the line speed of the open port to `baud` (bits per second): a B* rate through
    /// termios, any other through termios2, read back and checked like the speed set at open.
    /// Bytes written before are sent at the old speed first (`tcdrain`).
    public func setBaudRate(_ baud: UInt32) throws(SerialError) {
        guard fd >= 0 else { throw SerialError.closed(path: path) }
        try drain()
        let before = configuration
        configuration.baudRate = baud
        do throws(SerialError) { try applySettings() } catch {
            configuration = before
            throw error
        }
    }

    /// Discards bytes received but not read and bytes written but not sent (`tcflush(TCIOFLUSH)`).
    public func discardBuffers() throws(SerialError) {
        guard fd >= 0 else { throw SerialError.closed(path: path) }
        if tcflush(fd, TCIOFLUSH) != 0 { throw ioError(operation: "tcflush", errno: errno) }
    }

    /// Waits until every written byte has left the driver (`tcdrain`).
    public func drain() throws(SerialError) {
        guard fd >= 0 else { throw SerialError.closed(path: path) }
        while tcdrain(fd) != 0 {
            if errno != EINTR { throw ioError(operation: "tcdrain", errno: errno) }
        }
    }

    // MARK: Modem lines

    /// The modem lines (`TIOCMGET`).
    /// - Throws: `.unsupported` on devices without modem lines, such as pseudo-terminals.
    public func modemLines() throws(SerialError) -> ModemLines {
        guard fd >= 0 else { throw SerialError.closed(path: path) }
        var lines: Int32 = 0
        if nx_serial_get_modem_lines(fd, &lines) != 0 { throw modemError(operation: "reading the modem lines") }
        return ModemLines(rawValue: lines)
    }

    /// Raises (`TIOCMBIS`) or lowers (`TIOCMBIC`) the output lines in `lines` (DTR, RTS).
    /// - Throws: `.unsupported` on devices without modem lines, such as pseudo-terminals.
    public func setModemLines(_ lines: ModemLines, raised: Bool) throws(SerialError) {
        guard fd >= 0 else { throw SerialError.closed(path: path) }
        if nx_serial_set_modem_lines(fd, lines.rawValue, raised ? 1 : 0) != 0 {
            throw modemError(operation: "setting \(lines)")
        }
    }

    // MARK: Opening, in steps

    private func lockExclusively() throws(SerialError) {
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EWOULDBLOCK || code == EAGAIN {
                throw SerialError.busy(path: path, holders: SerialPort.holders(of: path))
            }
            throw SerialError.system(path: path, operation: "flock", errno: code)
        }
        // TIOCEXCL refuses later opens by other users (root bypasses it; the flock above does not
        // let anyone through). A device layer that does not pass it on (ENOTTY, EINVAL) leaves
        // the flock as the guard.
        if nx_serial_set_exclusive(fd, 1) != 0 && errno != ENOTTY && errno != EINVAL {
            throw SerialError.system(path: path, operation: "TIOCEXCL", errno: errno)
        }
    }

    /// The flag words this configuration asks for, applied on top of `cfmakeraw`.
    private func requestedTermios(from current: termios) -> termios {
        var t = current
        cfmakeraw(&t)
        t.c_iflag &= ~tcflag_t(IXON | IXOFF | IXANY | INPCK | ISTRIP)
        t.c_iflag |= tcflag_t(IGNBRK)
        t.c_cflag &= ~(tcflag_t(CSIZE) | tcflag_t(PARENB) | tcflag_t(CSTOPB) | tcflag_t(CRTSCTS) | tcflag_t(HUPCL))
        t.c_cflag |= tcflag_t(CS8) | tcflag_t(CLOCAL) | tcflag_t(CREAD)
        if configuration.flowControl == .rtsCts { t.c_cflag |= tcflag_t(CRTSCTS) }
        if configuration.hangUpOnClose { t.c_cflag |= tcflag_t(HUPCL) }
        // VMIN 1 with O_NONBLOCK: an empty read is EAGAIN, so a read of 0 bytes means end of file.
        // (VMIN 0 would return 0 for "nothing yet" and hide an unplug.)
        withUnsafeMutableBytes(of: &t.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        return t
    }

    private func applySettings() throws(SerialError) {
        var current = termios()
        if tcgetattr(fd, &current) != 0 { throw ioError(operation: "tcgetattr", errno: errno) }
        var wanted = requestedTermios(from: current)
        let standard = SerialPort.standardSpeeds[configuration.baudRate]
        if let code = standard {
            cfsetispeed(&wanted, code)
            cfsetospeed(&wanted, code)
        }
        if tcsetattr(fd, TCSANOW, &wanted) != 0 { throw ioError(operation: "tcsetattr", errno: errno) }
        // Rates outside the B* table go through termios2 with BOTHER.
        if standard == nil && nx_serial_set_speed(fd, configuration.baudRate) != 0 {
            let code = errno
            if code == EINVAL {
                throw SerialError.settingMismatch(path: path, setting: "baud rate", requested: "\(configuration.baudRate)",
                                                  actual: "refused (EINVAL)")
            }
            throw ioError(operation: "TCSETS2", errno: code)
        }
        try verifySettings(wanted)
    }

    /// The B* speed codes of termios, by bits per second.
    static let standardSpeeds: [UInt32: speed_t] = [
        50: speed_t(B50), 75: speed_t(B75), 110: speed_t(B110), 134: speed_t(B134), 150: speed_t(B150),
        200: speed_t(B200), 300: speed_t(B300), 600: speed_t(B600), 1200: speed_t(B1200), 1800: speed_t(B1800),
        2400: speed_t(B2400), 4800: speed_t(B4800), 9600: speed_t(B9600), 19200: speed_t(B19200),
        38400: speed_t(B38400), 57600: speed_t(B57600), 115_200: speed_t(B115200), 230_400: speed_t(B230400),
        460_800: speed_t(B460800), 500_000: speed_t(B500000), 576_000: speed_t(B576000), 921_600: speed_t(B921600),
        1_000_000: speed_t(B1000000), 1_152_000: speed_t(B1152000), 1_500_000: speed_t(B1500000),
        2_000_000: speed_t(B2000000), 2_500_000: speed_t(B2500000), 3_000_000: speed_t(B3000000),
        3_500_000: speed_t(B3500000), 4_000_000: speed_t(B4000000),
    ]

    private func verifySettings(_ wanted: termios) throws(SerialError) {
        var actual = termios()
        if tcgetattr(fd, &actual) != 0 { throw ioError(operation: "tcgetattr", errno: errno) }
        func check(_ name: String, _ want: tcflag_t, _ got: tcflag_t) throws(SerialError) {
            if want != got {
                throw SerialError.settingMismatch(path: path, setting: name, requested: hex(want), actual: hex(got))
            }
        }
        try check("input flags (c_iflag)", wanted.c_iflag, actual.c_iflag)
        try check("output flags (c_oflag)", wanted.c_oflag, actual.c_oflag)
        try check("local flags (c_lflag)", wanted.c_lflag, actual.c_lflag)
        let mask = tcflag_t(CSIZE) | tcflag_t(PARENB) | tcflag_t(CSTOPB) | tcflag_t(CRTSCTS) | tcflag_t(HUPCL)
            | tcflag_t(CLOCAL) | tcflag_t(CREAD)
        try check("control flags (c_cflag: 8N1, flow control, HUPCL)", wanted.c_cflag & mask, actual.c_cflag & mask)
        let (vmin, vtime) = withUnsafeBytes(of: actual.c_cc) { ($0[Int(VMIN)], $0[Int(VTIME)]) }
        if vmin != 1 || vtime != 0 {
            throw SerialError.settingMismatch(path: path, setting: "VMIN/VTIME", requested: "1/0", actual: "\(vmin)/\(vtime)")
        }
        var input: UInt32 = 0
        var output: UInt32 = 0
        if let code = SerialPort.standardSpeeds[configuration.baudRate] {
            // Read back through the same B* code path that set it.
            let (i, o) = (cfgetispeed(&actual), cfgetospeed(&actual))
            input = i == code ? configuration.baudRate : UInt32(i)
            output = o == code ? configuration.baudRate : UInt32(o)
        } else if nx_serial_get_speed(fd, &input, &output) != 0 {
            throw ioError(operation: "TCGETS2", errno: errno)
        }
        if input != configuration.baudRate || output != configuration.baudRate {
            throw SerialError.settingMismatch(path: path, setting: "baud rate", requested: "\(configuration.baudRate)",
                                              actual: "\(input) in / \(output) out")
        }
    }

    /// FTDI-style adapters buffer up to `latency_timer` ms (16 by default) before sending a USB
    /// packet. Lowers it to 1 ms through sysfs, or, where sysfs is not writable, through the
    /// driver's `ASYNC_LOW_LATENCY` flag (which ftdi_sio lets any user of the port set).
    /// Devices without a latency timer are left alone.
    private func applyLowLatency() -> LatencySetting {
        guard let file = SerialPort.latencyTimerFile(for: path), let ms = SerialPort.readInteger(file) else {
            return .notApplicable
        }
        if ms <= 1 { return .alreadyLow(milliseconds: ms) }
        if SerialPort.writeString("1", to: file), SerialPort.readInteger(file) == 1 { return .lowered(from: ms) }
        var flag: Int32 = 0
        if nx_serial_get_low_latency(fd, &flag) == 0, nx_serial_set_low_latency(fd, 1) == 0,
           SerialPort.readInteger(file) == 1 {
            return .lowered(from: ms)
        }
        return .notPermitted(file: file, milliseconds: ms)
    }

    // MARK: Errors and diagnostics

    private func ioError(operation: String, errno code: Int32) -> SerialError {
        switch code {
        case EIO, ENODEV, ENXIO: return .disconnected(path: path, reason: String(cString: strerror(code)))
        case EBADF: return .closed(path: path)
        default: return .system(path: path, operation: operation, errno: code)
        }
    }

    private func modemError(operation: String) -> SerialError {
        let code = errno
        if code == ENOTTY || code == EINVAL { return .unsupported(path: path, operation: operation) }
        return ioError(operation: operation, errno: code)
    }

    static func openError(path: String, errno code: Int32) -> SerialError {
        switch code {
        case EACCES, EPERM: return permissionDenied(path: path)
        case ENOENT, ENODEV, ENXIO: return .noSuchDevice(path: path, available: presentDevices())
        case EBUSY: return .busy(path: path, holders: holders(of: path))
        default: return .system(path: path, operation: "open", errno: code)
        }
    }

    private static func permissionDenied(path: String) -> SerialError {
        var st = stat()
        var groupName = "dialout"
        var gid: gid_t = 0
        if stat(path, &st) == 0 {
            gid = st.st_gid
            if let g = getgrgid(gid), let name = g.pointee.gr_name { groupName = String(cString: name) }
        }
        var ids = [gid_t](repeating: 0, count: 256)
        let count = getgroups(Int32(ids.count), &ids)
        var names: [String] = []
        for id in ids.prefix(max(0, Int(count))) {
            if let g = getgrgid(id), let name = g.pointee.gr_name { names.append(String(cString: name)) }
        }
        var listed = false
        if let pw = getpwuid(getuid()), let user = pw.pointee.pw_name, let g = getgrnam(groupName) {
            let me = String(cString: user)
            var member = g.pointee.gr_mem
            while let m = member?.pointee {
                if String(cString: m) == me { listed = true }
                member = member?.advanced(by: 1)
            }
        }
        return .permissionDenied(path: path, deviceGroup: groupName, userGroups: names, listedInGroup: listed)
    }

    /// Serial device nodes present now: `/dev/serial/by-id` links, then `/dev/ttyACM*`, `/dev/ttyUSB*`.
    static func presentDevices() -> [String] {
        var found = directoryEntries("/dev/serial/by-id").map { "/dev/serial/by-id/" + $0 }
        found += directoryEntries("/dev").filter { $0.hasPrefix("ttyACM") || $0.hasPrefix("ttyUSB") }.map { "/dev/" + $0 }
        return found.sorted()
    }

    /// Processes holding `path` open, as "pid N (command)", found through `/proc/<pid>/fd`.
    static func holders(of path: String) -> [String] {
        guard let target = deviceNumber(of: path) else { return [] }
        var result: [String] = []
        let me = getpid()
        for entry in directoryEntries("/proc") {
            guard let pid = Int32(entry) else { continue }
            let fdDirectory = "/proc/\(entry)/fd"
            let holds = directoryEntries(fdDirectory).contains { deviceNumber(of: fdDirectory + "/" + $0) == target }
            guard holds else { continue }
            let command = readLine("/proc/\(entry)/comm") ?? "?"
            result.append(pid == me ? "pid \(pid) (\(command), this process)" : "pid \(pid) (\(command))")
        }
        return result
    }

    /// The device number of the character device at `path` (links followed), or nil if it is
    /// not one. Two paths name the same device exactly when their numbers are equal.
    static func deviceNumber(of path: String) -> dev_t? {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFCHR else { return nil }
        return st.st_rdev
    }

    /// `/sys/dev/char/<major>:<minor>/device/latency_timer` for the tty at `path`, if it exists.
    static func latencyTimerFile(for path: String) -> String? {
        guard let dev = deviceNumber(of: path) else { return nil }
        let major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFF)
        let minor = (dev & 0xFF) | ((dev >> 12) & ~0xFF)
        let file = "/sys/dev/char/\(major):\(minor)/device/latency_timer"
        return access(file, F_OK) == 0 ? file : nil
    }

    static func readSpeed(fd: Int32, input: inout UInt32, output: inout UInt32) -> Bool {
        nx_serial_get_speed(fd, &input, &output) == 0
    }

    static func directoryEntries(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func readLine(_ file: String) -> String? {
        guard let f = fopen(file, "r") else { return nil }
        defer { fclose(f) }
        var buffer = [CChar](repeating: 0, count: 256)
        guard fgets(&buffer, Int32(buffer.count), f) != nil else { return nil }
        let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return line.hasSuffix("\n") ? String(line.dropLast()) : line
    }

    static func readInteger(_ file: String) -> Int? { readLine(file).flatMap { Int($0) } }

    static func writeString(_ text: String, to file: String) -> Bool {
        guard let f = fopen(file, "w") else { return false }
        let ok = fputs(text, f) >= 0
        return fclose(f) == 0 && ok
    }
}

private func hex(_ v: tcflag_t) -> String { "0x" + String(v, radix: 16) }
