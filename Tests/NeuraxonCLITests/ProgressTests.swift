import Foundation
import Glibc
import Testing

/// Progress for long work shows on a terminal, on standard error, and nowhere else.
@Suite struct ProgressTests {
    /// Runs `neuraxon arguments` with standard error on a pseudo-terminal; returns what the
    /// terminal received and the exit status.
    static func runOnTerminal(_ arguments: [String]) throws -> (terminal: String, status: Int32) {
        var master: Int32 = -1, slave: Int32 = -1
        try #require(openpty(&master, &slave, nil, nil, nil) == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
        try process.run()
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var p = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 200)
            if ready > 0 {
                let n = read(master, &buffer, buffer.count)
                if n > 0 { received += buffer[0..<n]; continue }
            }
            if !process.isRunning && ready <= 0 { break }
        }
        process.waitUntilExit()
        close(master)
        return (String(decoding: received, as: UTF8.self), process.terminationStatus)
    }

    @Test("net run shows its progress on a terminal and clears it; through a pipe it prints nothing on standard error")
    func netRun() throws {
        let folder = CLI.folder()
        let created = try CLI.run(["net", "create", "--preset", "flowing", "--seed", "3", "-o", folder + "/net.json"])
        #expect(created.status == 0)
        // long enough to be drawn (from one second on) even by a release build on a fast machine
        let steps = "400000"
        let shown = try Self.runOnTerminal(["net", "run", folder + "/net.json", "--steps", steps])
        #expect(shown.status == 0)
        #expect(shown.terminal.contains(" of \(steps) steps ("), "\(shown.terminal)")
        #expect(shown.terminal.hasSuffix("\r\u{1B}[K"), "the line is cleared at the end")
        let piped = try CLI.run(["net", "run", folder + "/net.json", "--steps", steps])
        #expect(piped.status == 0)
        #expect(piped.stderr.isEmpty, "\(piped.stderr)")
    }

    @Test("a real-time sim of a few seconds shows its progress on a terminal, and nothing through a pipe")
    func sim() throws {
        let shown = try Self.runOnTerminal(["sim", "--realtime", "--duration", "3"])
        #expect(shown.status == 0)
        #expect(shown.terminal.contains("simulating 3 s in light: "), "\(shown.terminal)")
        #expect(shown.terminal.contains(" of 3 s ("), "\(shown.terminal)")
        let piped = try CLI.run(["sim", "--realtime", "--duration", "3"])
        #expect(piped.status == 0)
        #expect(piped.stderr.isEmpty, "\(piped.stderr)")
    }
}
