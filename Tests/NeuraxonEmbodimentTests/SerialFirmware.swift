import Foundation
import Glibc

struct SerialTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The host-built firmware (`make -C Firmware host`, Docs/FIRMWARE.md) as a child process: it
/// serves the protocol on a pseudo-terminal whose path it prints first, takes `sensor <i> <v>`
/// lines on stdin and reports `actuator <i> <v>` and `failsafe <state>` lines on stdout.
final class SerialFirmware: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let lock = NSLock()
    private var lines: [String] = []
    /// The pseudo-terminal the firmware serves.
    private(set) var path = ""

    /// Starts the firmware with unique id `id` (16 hex digits) and waits for its pty line.
    init(id: String = "6e78686f73740001") throws {
        process.executableURL = URL(fileURLWithPath: try SerialFirmware.binary.get())
        process.arguments = ["--id", id]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let reader = Thread { [self] in readLines() }
        reader.start()
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let line = snapshot().first(where: { $0.hasPrefix("pty ") }) {
                path = String(line.dropFirst(4))
                return
            }
            usleep(2000)
        }
        kill()
        throw SerialTestFailure("the host firmware printed no pty line within 5 s")
    }

    deinit { quit() }

    private func readLines() {
        var pending: [UInt8] = []
        let fd = output.fileHandleForReading.fileDescriptor
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            pending.append(contentsOf: buffer[0..<n])
            while let nl = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[0..<nl], as: UTF8.self)
                pending.removeSubrange(0...nl)
                lock.lock()
                lines.append(line)
                lock.unlock()
            }
        }
    }

    /// Every stdout line so far.
    func snapshot() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }

    /// The values the firmware reported for actuator `index`, in order (`actuator <index> <v>`).
    func actuatorValues(_ index: Int, after: Int = 0) -> [Int] {
        let prefix = "actuator \(index) "
        return snapshot().dropFirst(after).compactMap { $0.hasPrefix(prefix) ? Int($0.dropFirst(prefix.count)) : nil }
    }

    /// Waits until a stdout line equal to `line` appears after the first `after` lines.
    @discardableResult
    func waitFor(_ line: String, after: Int = 0, seconds: Double = 3) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if snapshot().dropFirst(after).contains(line) { return true }
            usleep(1000)
        }
        return false
    }

    /// Sends one stdin line, e.g. "sensor 4 1".
    func send(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Kills the firmware at once (SIGKILL), as a crash or a pulled cable would end it.
    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Ends the firmware cleanly and waits for it.
    func quit() {
        guard process.isRunning else { return }
        send("quit")
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { usleep(1000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    static let firmwareFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Firmware").path

    /// `$NEURAXON_FIRMWARE`, else `make -C Firmware host` (once per test run).
    static let binary: Result<String, SerialTestFailure> = {
        if let given = ProcessInfo.processInfo.environment["NEURAXON_FIRMWARE"] { return .success(given) }
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/make")
        make.arguments = ["-s", "-C", firmwareFolder, "host"]
        do { try make.run() } catch { return .failure(SerialTestFailure("cannot run make: \(error)")) }
        make.waitUntilExit()
        guard make.terminationStatus == 0 else {
            return .failure(SerialTestFailure("`make -C Firmware host` failed (status \(make.terminationStatus))"))
        }
        let path = firmwareFolder + "/build/host/neuraxon-firmware"
        guard access(path, X_OK) == 0 else { return .failure(SerialTestFailure("make built no \(path)")) }
        return .success(path)
    }()
}

/// A stable path (a symbolic link in a temporary folder) that can be re-pointed at a new
/// firmware's pty, as a board that comes back under the same name.
final class SerialStableLink {
    let folder = TemporaryFolder()
    var path: String { folder.file("robot") }

    func point(at target: String) {
        unlink(path)
        symlink(target, path)
    }
}
