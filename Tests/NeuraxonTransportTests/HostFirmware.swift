import Foundation
import Glibc
@testable import NeuraxonTransport

/// The C firmware run as a child process that serves the protocol on a pseudo-terminal whose
/// path it prints (Docs/FIRMWARE.md): the host build (`make -C Firmware host`), which takes
/// `sensor`/`quit` lines on stdin and reports `failsafe` and `actuator` changes on stdout, or
/// the real AVR build under the simavr harness (`make -C Firmware avr sim`).
final class HostFirmware: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let lock = NSLock()
    private var lines: [String] = []
    /// The pseudo-terminal the firmware serves.
    private(set) var path = ""

    /// Starts the host build with unique id `id` (16 hex digits), or with `avr` the AVR build
    /// under emulation, and waits for its pty.
    init(id: String = "6e78686f73740001", avr: Bool = false) throws {
        if avr {
            let (harness, elf) = try HostFirmware.emulated.get()
            process.executableURL = URL(fileURLWithPath: harness)
            process.arguments = [elf]
        } else {
            process.executableURL = URL(fileURLWithPath: try HostFirmware.binary())
            process.arguments = ["--id", id]
        }
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = nil  // inside a umockdev test bed, the firmware runs outside it
        process.environment = environment
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let reader = Thread { [self] in readLines() }
        reader.start()
        let deadline = MonotonicTime.now().adding(milliseconds: 5000)
        while MonotonicTime.now() < deadline {
            if let line = snapshot().first(where: { $0.hasPrefix("pty ") }) {
                path = String(line.dropFirst(4))
                return
            }
            usleep(2000)
        }
        throw TestFailure("the host firmware printed no pty line")
    }

    deinit { quit() }

    private func readLines() {
        var pending = Data()
        let fd = output.fileHandleForReading.fileDescriptor
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            pending.append(contentsOf: buffer[0..<n])
            while let nl = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...nl)
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

    /// Waits until a stdout line equal to `line` appears after the first `after` lines.
    @discardableResult
    func waitFor(_ line: String, after: Int = 0, milliseconds: Double = 3000) -> Bool {
        let deadline = MonotonicTime.now().adding(milliseconds: milliseconds)
        while MonotonicTime.now() < deadline {
            if snapshot().dropFirst(after).contains(line) { return true }
            usleep(1000)
        }
        return false
    }

    /// Sends one stdin line (e.g. "sensor 0 1234").
    func send(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Ends the firmware and waits for it to exit.
    func quit() {
        guard process.isRunning else { return }
        send("quit")
        let deadline = MonotonicTime.now().adding(milliseconds: 3000)
        while process.isRunning && MonotonicTime.now() < deadline { usleep(1000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// The firmware executable: `$NEURAXON_FIRMWARE`, else built with `make -C Firmware host`.
    static func binary() throws -> String {
        if let given = ProcessInfo.processInfo.environment["NEURAXON_FIRMWARE"] { return given }
        return try built.get()
    }

    static let firmwareFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Firmware").path

    /// Runs `make -C Firmware <targets>` and returns the built files, checked to exist.
    private static func make(_ targets: [String], products: [String]) -> Result<[String], TestFailure> {
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/make")
        make.arguments = ["-s", "-C", firmwareFolder] + targets
        do { try make.run() } catch { return .failure(TestFailure("cannot run make: \(error)")) }
        make.waitUntilExit()
        guard make.terminationStatus == 0 else {
            return .failure(TestFailure("`make -C Firmware \(targets.joined(separator: " "))` failed (status \(make.terminationStatus))"))
        }
        let paths = products.map { firmwareFolder + "/" + $0 }
        for p in paths where access(p, R_OK) != 0 { return .failure(TestFailure("make built no \(p)")) }
        return .success(paths)
    }

    private static let built: Result<String, TestFailure> =
        make(["host"], products: ["build/host/neuraxon-firmware"]).map { $0[0] }

    /// The simavr harness and the AVR firmware image.
    private static let emulated: Result<(String, String), TestFailure> =
        make(["avr", "sim"], products: ["build/sim/nx-avr-harness", "build/avr/neuraxon-uno.elf"]).map { ($0[0], $0[1]) }
}
