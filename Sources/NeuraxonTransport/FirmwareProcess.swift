import Foundation
import Glibc

/// A firmware running as a child process and serving the protocol on a pseudo-terminal: the host
/// build of the firmware (`Firmware/ports/host`) or the real AVR build under the emulation harness
/// (`Firmware/sim`). Both print `pty PATH` as their first stdout line and then report on stdout
/// (`actuator`, `failsafe`, `pwm`, `pin` lines) and take commands on stdin (`sensor`, `adc`,
/// `quit`); Docs/FIRMWARE.md. Used by `neuraxon bench link|loop` and by the integration tests.
public final class FirmwareProcess: @unchecked Sendable {
    /// The child process.
    public let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let lines: StdoutLines
    /// The pseudo-terminal the firmware serves.
    public private(set) var path = ""

    /// Starts `executable` with `arguments` and waits up to `startupMilliseconds` for its pty line.
    /// With `keepsLines` false, later stdout lines are read and dropped (long benchmarks).
    public init(executable: String, arguments: [String] = [], environment: [String: String]? = nil,
                keepsLines: Bool = true, startupMilliseconds: Double = 5000) throws(FirmwareProcessError) {
        lines = StdoutLines(keepsLines: keepsLines)
        Self.ignoreBrokenPipes()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        do { try process.run() } catch {
            throw FirmwareProcessError("cannot start \(executable): \(error.localizedDescription); build it with `make -C Firmware host sim`")
        }
        // The reader holds the pipe and the line store, never `self`: a firmware the caller lets
        // go of is quit by `deinit`, which ends the child, whose end of file ends the reader.
        let reader = Thread { [output, lines] in lines.read(from: output.fileHandleForReading) }
        reader.start()
        let deadline = MonotonicTime.now().adding(milliseconds: startupMilliseconds)
        while MonotonicTime.now() < deadline {
            if let line = snapshot().first(where: { $0.hasPrefix("pty ") }) {
                path = String(line.dropFirst(4))
                return
            }
            if !process.isRunning { break }
            usleep(2000)
        }
        kill()
        throw FirmwareProcessError("\(executable) printed no `pty PATH` line within \(Int(startupMilliseconds)) ms")
    }

    deinit { quit() }

    /// Every stdout line so far.
    public func snapshot() -> [String] { lines.snapshot() }

    /// Waits until a stdout line equal to `line` appears after the first `after` lines.
    @discardableResult
    public func waitFor(_ line: String, after: Int = 0, milliseconds: Double = 3000) -> Bool {
        let deadline = MonotonicTime.now().adding(milliseconds: milliseconds)
        while MonotonicTime.now() < deadline {
            if snapshot().dropFirst(after).contains(line) { return true }
            usleep(1000)
        }
        return false
    }

    /// The values the firmware reported for actuator `index` (`actuator <index> <v>`), in order.
    public func actuatorValues(_ index: Int, after: Int = 0) -> [Int] {
        let prefix = "actuator \(index) "
        return snapshot().dropFirst(after).compactMap { $0.hasPrefix(prefix) ? Int($0.dropFirst(prefix.count)) : nil }
    }

    /// Sends one stdin line (for example `sensor 4 1`).
    public func send(_ line: String) {
        guard process.isRunning else { return }
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Ends the firmware cleanly (`quit`), waits up to 3 s, then terminates it.
    public func quit() {
        guard process.isRunning else { return }
        send("quit")
        let deadline = MonotonicTime.now().adding(milliseconds: 3000)
        while process.isRunning && MonotonicTime.now() < deadline { usleep(1000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// Kills the firmware at once (SIGKILL), as a crash or a pulled cable would end it.
    public func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// A firmware that dies must end a run as a lost link, not end this process: SIGPIPE is
    /// ignored from the first firmware process on, so a write to a dead child's stdin fails with
    /// EPIPE instead.
    public static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Runs `make -C firmwareFolder targets` and returns `products` (paths inside the folder),
    /// checked to exist: how tests and benchmarks get the firmware builds.
    public static func build(in firmwareFolder: String, targets: [String], products: [String]) throws(FirmwareProcessError) -> [String] {
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/make")
        make.arguments = ["-s", "-C", firmwareFolder] + targets
        do { try make.run() } catch { throw FirmwareProcessError("cannot run make: \(error.localizedDescription)") }
        make.waitUntilExit()
        guard make.terminationStatus == 0 else {
            throw FirmwareProcessError("`make -C \(firmwareFolder) \(targets.joined(separator: " "))` failed (status \(make.terminationStatus))")
        }
        let paths = products.map { firmwareFolder + "/" + $0 }
        for p in paths where access(p, R_OK) != 0 { throw FirmwareProcessError("make built no \(p)") }
        return paths
    }
}

/// A firmware process driven one command at a time: lines on its stdin, answered on its stdout
/// by lines that end with a `time <µs>` line (the host build's `--virtual-clock`, the harness's
/// `--lockstep`; Docs/FIRMWARE.md). Unlike `FirmwareProcess`, which collects what the firmware
/// prints on a thread of its own, it reads the answer to each command on the caller's thread,
/// so the caller decides when the firmware's clock moves.
public final class LineProcess: @unchecked Sendable {
    private let process = Process()
    private let input: FileHandle
    private let output: Int32
    private var pending: [UInt8] = []
    private var buffer = [UInt8](repeating: 0, count: 4096)
    private let name: String

    /// Starts `executable` (see `FirmwareProcess.ignoreBrokenPipes()`).
    public init(executable: String, arguments: [String]) throws(FirmwareProcessError) {
        FirmwareProcess.ignoreBrokenPipes()
        name = executable
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        input = stdin.fileHandleForWriting
        output = stdout.fileHandleForReading.fileDescriptor
        do { try process.run() } catch {
            throw FirmwareProcessError("cannot start \(executable): \(error.localizedDescription)")
        }
    }

    /// Waits up to 5 s for the `pty PATH` line, passing earlier lines to `note`.
    public func awaitPty(_ note: (Substring) -> Void) throws(FirmwareProcessError) -> String {
        while let line = readLine(timeoutMillis: 5000) {
            if line.hasPrefix("pty ") { return String(line.dropFirst(4)) }
            note(line[...])
        }
        quit()
        throw FirmwareProcessError("\(name) printed no `pty` line within 5 s")
    }

    /// Writes `text`; false if the process is gone.
    public func send(_ text: String) -> Bool {
        do { try input.write(contentsOf: Data(text.utf8)) } catch { return false }
        return true
    }

    /// Writes `text` and reads lines up to the `time <µs>` line that ends it, passing the
    /// others to `note`. Returns that time; nil if the process died or went silent for 10 s.
    public func command(_ text: String, _ note: (Substring) -> Void) -> UInt64? {
        guard send(text) else { return nil }
        while let line = readLine(timeoutMillis: 10_000) {
            if line.hasPrefix("time ") { return UInt64(line.dropFirst(5).prefix { $0 != " " }) ?? 0 }
            note(line[...])
        }
        return nil
    }

    /// Asks the process to end, then makes sure it does.
    public func quit() {
        guard process.isRunning else { return }
        _ = send("quit\n")
        for _ in 0..<200 where process.isRunning { usleep(5000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// One line, waiting up to `timeoutMillis`; nil at end of file or timeout.
    private func readLine(timeoutMillis: Int32) -> String? {
        while true {
            if let nl = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[0..<nl], as: UTF8.self)
                pending.removeSubrange(0...nl)
                return line
            }
            var p = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, timeoutMillis)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(output, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            pending.append(contentsOf: buffer[0..<n])
        }
    }
}

/// The stdout lines of a firmware process, filled by its reader thread.
private final class StdoutLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    private let keepsLines: Bool

    init(keepsLines: Bool) { self.keepsLines = keepsLines }

    func snapshot() -> [String] { lock.withLock { lines } }

    /// Reads `handle` line by line until end of file; with `keepsLines` false, lines after the
    /// `pty` line are read and dropped.
    func read(from handle: FileHandle) {
        let fd = handle.fileDescriptor
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var sawPty = false
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            pending.append(contentsOf: buffer[0..<n])
            while let newline = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[0..<newline], as: UTF8.self)
                pending.removeSubrange(0...newline)
                guard keepsLines || !sawPty else { continue }
                sawPty = sawPty || line.hasPrefix("pty ")
                lock.withLock { lines.append(line) }
            }
        }
    }
}

/// A firmware process that could not be built or started.
public struct FirmwareProcessError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
