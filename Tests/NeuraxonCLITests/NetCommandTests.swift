import Foundation
import Neuraxon
import Testing

/// The `neuraxon` executable, run as a user runs it.
struct CLI {
    /// The built `neuraxon` beside the test bundle (`swift build --build-tests` builds it).
    static let path: String = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = here.deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("neuraxon").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return "neuraxon"
    }()

    struct Result { let status: Int32; let stdout: String; let stderr: String }

    /// Runs the command as a user does: in `folder` when given (so relative paths are the user's
    /// spelling), with `environment` added to this process's; a command still running after
    /// `timeout` seconds is killed (status 9).
    static func run(_ arguments: [String], folder: String? = nil, environment: [String: String] = [:],
                    timeout: Double = 600) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let pid = process.processIdentifier
        let killer = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        killer.cancel()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func folder() -> String {
        let f = FileManager.default.temporaryDirectory.appendingPathComponent("neuraxon-cli-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try? FileManager.default.createDirectory(atPath: f, withIntermediateDirectories: true)
        return f
    }
}

@Suite struct NetCommandTests {
    @Test("create, info and run work together; the trace has one record per step")
    func createInfoRun() throws {
        let dir = CLI.folder()
        let created = try CLI.run(["net", "create", "--preset", "flowing", "--seed", "3", "--param", "num_hidden_neurons=12", "-o", "\(dir)/net.json"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("5/12/5 neurons"))
        let info = try CLI.run(["net", "info", "\(dir)/net.json"])
        #expect(info.status == 0)
        #expect(info.stdout.contains("embodied"))
        #expect(info.stdout.contains("5 input, 12 hidden, 5 output"))
        try "{\"steps\": [0, 29], \"inputs\": [1, 1, 0, -1, 1]}\n".write(toFile: "\(dir)/schedule.jsonl", atomically: true, encoding: .utf8)
        let ran = try CLI.run(["net", "run", "\(dir)/net.json", "--steps", "30", "--inputs", "\(dir)/schedule.jsonl",
                               "--trace", "\(dir)/trace.jsonl", "-o", "\(dir)/after.json"])
        #expect(ran.status == 0, "\(ran.stderr)")
        let trace = try String(contentsOfFile: "\(dir)/trace.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(trace.count == 30)
        // The command's run equals the same run in process.
        let net = try NeuraxonNetwork.load(contentsOf: "\(dir)/net.json")
        for _ in 0..<30 { net.setInputStates([.excitatory, .excitatory, .neutral, .inhibitory, .excitatory]); net.simulateStep() }
        #expect(trace.last.map(String.init) == net.traceLine())
        #expect(try NeuraxonNetwork.load(contentsOf: "\(dir)/after.json").fileText() == net.fileText())
    }

    @Test("A parameter outside its range is refused with the field, the value and the range")
    func refusesBadParameter() throws {
        let result = try CLI.run(["net", "create", "--param", "tau_fast=12", "-o", "\(CLI.folder())/x.json"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("tau_fast = 12 is outside its range 1…10"))
    }

    @Test("A malformed network file and a bad schedule are refused with the place")
    func refusesBadFiles() throws {
        let dir = CLI.folder()
        try "{\"parameters\": {}}".write(toFile: "\(dir)/bad.json", atomically: true, encoding: .utf8)
        let bad = try CLI.run(["net", "info", "\(dir)/bad.json"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("bad.json:1:16: parameters.num_input_neurons: missing field"))
        _ = try CLI.run(["net", "create", "-o", "\(dir)/net.json"])
        try "{\"step\": 0, \"inputs\": [5]}\n".write(toFile: "\(dir)/s.jsonl", atomically: true, encoding: .utf8)
        let schedule = try CLI.run(["net", "run", "\(dir)/net.json", "--steps", "3", "--inputs", "\(dir)/s.jsonl"])
        #expect(schedule.status != 0)
        #expect(schedule.stderr.contains("s.jsonl: line 1: inputs[0] must be -1, 0 or 1"))
    }
}
