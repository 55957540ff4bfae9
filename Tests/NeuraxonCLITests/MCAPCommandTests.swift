import Foundation
import Testing

/// MCAP recordings from the command line, checked by the independent `mcap` reader from PyPI
/// (`Tests/mcap/run-check.sh` installs it into a test-only virtual environment).
@Suite(.serialized) struct MCAPCommandTests {
    /// The package's folder.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Runs `Tests/mcap/run-check.sh` on `mcap` against the JSON Lines `reference`.
    static func pythonCheck(_ mcap: String, _ reference: String, otherRun: Bool = false) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root + "/Tests/mcap/run-check.sh", mcap, reference] + (otherRun ? ["--other-run"] : [])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The replay summary without its wall-clock time ("in 0.01 s").
    static func verdict(_ stdout: String) -> String {
        stdout.replacingOccurrences(of: #" in [0-9.]+ s"#, with: "", options: .regularExpression)
    }

    @Test("log export --format mcap writes a file the mcap reader reads back message for message; log info and replay read it as the JSON Lines")
    func exportIsReadByThePythonReader() throws {
        let dir = CLI.folder()
        let sim = try CLI.run(["sim", "--duration", "3", "--record", "run.jsonl"], folder: dir)
        #expect(sim.status == 0, "\(sim.stderr)")
        let export = try CLI.run(["log", "export", "--format", "mcap", "run.jsonl", "-o", "run.mcap"], folder: dir)
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("wrote 601 ticks and 1 events as 4810 messages"), "\(export.stdout)")
        let check = try Self.pythonCheck(dir + "/run.mcap", dir + "/run.jsonl")
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("ok: 601 ticks and 1 events equal the recording"), "\(check.output)")

        let infoJSONL = try CLI.run(["log", "info", "--json", "run.jsonl"], folder: dir)
        let infoMCAP = try CLI.run(["log", "info", "--json", "run.mcap"], folder: dir)
        #expect(infoMCAP.status == 0 && infoMCAP.stdout == infoJSONL.stdout, "\(infoMCAP.stderr)")
        let replayJSONL = try CLI.run(["replay", "run.jsonl"], folder: dir)
        let replayMCAP = try CLI.run(["replay", "run.mcap"], folder: dir)
        #expect(replayJSONL.status == 0 && replayMCAP.status == 0, "\(replayMCAP.stdout)\(replayMCAP.stderr)")
        #expect(Self.verdict(replayMCAP.stdout) == Self.verdict(replayJSONL.stdout))
        #expect(replayMCAP.stdout.contains("every input trit, output trit and setpoint equals the recording"))

        // CSV from either format is the same.
        #expect(try CLI.run(["log", "export", "--format", "csv", "run.mcap", "-o", "a.csv"], folder: dir).status == 0)
        #expect(try CLI.run(["log", "export", "--csv", "run.jsonl", "-o", "b.csv"], folder: dir).status == 0)
        #expect(FileManager.default.contents(atPath: dir + "/a.csv") == FileManager.default.contents(atPath: dir + "/b.csv"))
    }

    @Test("sim --record run.mcap writes MCAP directly: the mcap reader finds the same run as a JSON Lines recording of it")
    func directRecording() throws {
        let dir = CLI.folder()
        #expect(try CLI.run(["sim", "--duration", "2", "--record", "run.jsonl"], folder: dir).status == 0)
        let sim = try CLI.run(["sim", "--duration", "2", "--record", "run.mcap"], folder: dir)
        #expect(sim.status == 0, "\(sim.stderr)")
        let check = try Self.pythonCheck(dir + "/run.mcap", dir + "/run.jsonl", otherRun: true)
        #expect(check.status == 0, "\(check.output)")
        let replay = try CLI.run(["replay", "run.mcap", "--record", "again.mcap"], folder: dir)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        let again = try CLI.run(["replay", "again.mcap"], folder: dir)
        #expect(again.status == 0 && again.stdout.contains("checked 401 of 401 ticks"), "\(again.stdout)\(again.stderr)")
    }

    @Test("a direct MCAP recording killed with SIGKILL mid-run reads up to its last chunk, and export repairs it")
    func killedRecording() throws {
        let dir = CLI.folder()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.path)
        process.arguments = ["sim", "--realtime", "--duration", "60", "--record", "run.mcap"]
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until some chunks are on disk (at most 30 s on a loaded machine), then kill.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let size = (try? FileManager.default.attributesOfItem(atPath: dir + "/run.mcap")[.size] as? Int) ?? 0
            if size > 200_000 { break }
            usleep(50_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let info = try CLI.run(["log", "info", "--json", "run.mcap"], folder: dir)
        #expect(info.status == 0, "\(info.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any]
        let ticks = report?["ticks"] as? Int ?? 0
        #expect(ticks > 50, "\(info.stdout)")
        let repaired = try CLI.run(["log", "export", "--format", "mcap", "run.mcap", "-o", "repaired.mcap"], folder: dir)
        #expect(repaired.status == 0 && repaired.stdout.contains("wrote \(ticks) ticks"), "\(repaired.stdout)\(repaired.stderr)")
        #expect(repaired.stderr.contains("reading stopped early"), "\(repaired.stderr)")
        let replay = try CLI.run(["replay", "repaired.mcap"], folder: dir)
        #expect(replay.stdout.contains("checked \(ticks) ticks"), "\(replay.stdout)\(replay.stderr)")
    }

    @Test("a direct MCAP recording stopped with SIGINT ends whole: its end event, summary and footer")
    func interruptedRecording() throws {
        let dir = CLI.folder()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.path)
        process.arguments = ["sim", "--realtime", "--duration", "60", "--record", "run.mcap"]
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let size = (try? FileManager.default.attributesOfItem(atPath: dir + "/run.mcap")[.size] as? Int) ?? 0
            if size > 100_000 { break }
            usleep(50_000)
        }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        let bytes = try #require(FileManager.default.contents(atPath: dir + "/run.mcap"))
        #expect(bytes.suffix(8) == Data([0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]), "the file ends with its footer's magic")
        let info = try CLI.run(["log", "info", "--json", "run.mcap"], folder: dir)
        let report = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any]
        #expect(report?["end"] as? String == "complete", "\(info.stdout)\(info.stderr)")
        #expect((report?["recorded_ticks"] as? Int ?? 0) == (report?["ticks"] as? Int ?? -1))
    }

    @Test("log export asks for a format, and MCAP for an output file")
    func exportUsage() throws {
        let dir = CLI.folder()
        #expect(try CLI.run(["sim", "--duration", "0.5", "--record", "run.jsonl"], folder: dir).status == 0)
        let none = try CLI.run(["log", "export", "run.jsonl"], folder: dir)
        #expect(none.status == 64 && none.stderr.contains("--format csv or --format mcap"), "\(none.stderr)")
        let noOutput = try CLI.run(["log", "export", "--format", "mcap", "run.jsonl"], folder: dir)
        #expect(noOutput.status == 64 && noOutput.stderr.contains("-o FILE.mcap"), "\(noOutput.stderr)")
    }
}
