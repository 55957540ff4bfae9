import Foundation
import Testing


@Suite struct ReplayVerdictTests {
    /// A 2-second simulated recording (401 ticks) in a folder of its own, with its network beside it.
    private func simulatedRecording() throws -> (folder: String, recording: String) {
        let dir = CLI.folder()
        let sim = try CLI.run(["sim", "--world", "obstacles", "--network", "avoid", "--duration", "2", "--record", "run.jsonl"], folder: dir)
        #expect(sim.status == 0, "\(sim.stderr)")
        return (dir, dir + "/run.jsonl")
    }

    @Test("replay exits 0 only when it checked every tick, and says how many of how many it checked")
    func exitsZeroOnlyWhenEveryTickWasChecked() throws {
        let (dir, run) = try simulatedRecording()
        // From another folder: the network is found beside the recording.
        let elsewhere = CLI.folder()
        let whole = try CLI.run(["replay", run], folder: elsewhere)
        #expect(whole.status == 0, "\(whole.stdout)\(whole.stderr)")
        #expect(whole.stdout.contains("checked 401 of 401 ticks"), "\(whole.stdout)")
        #expect(whole.stdout.contains("every input trit, output trit and setpoint equals the recording"))

        let lines = try String(contentsOfFile: run, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var corrupt = lines; corrupt[7] = "garbage{"
        var repeated = lines; repeated.insert(lines[7], at: 8)
        let cases: [(String, [String], String)] = [
            ("header-only", [lines[0], ""], "not verified: the recording holds no tick"),
            ("corrupt", corrupt, "checked 6 of 401 ticks"),
            ("repeated", repeated, "tick 6 comes after tick 6"),
        ]
        for (name, content, expected) in cases {
            let path = dir + "/\(name).jsonl"
            try content.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            let result = try CLI.run(["replay", path], folder: dir)
            #expect(result.status == 1, "\(name): exit \(result.status)\n\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains(expected), "\(name): \(result.stdout)")
            #expect(!result.stdout.contains("equals the recording"), "\(name): \(result.stdout)")
        }
    }

    @Test("a partial replay's recording replays on its own, from any folder, and counts its own ticks")
    func aPartialReplaysRecordingReplays() throws {
        let (dir, run) = try simulatedRecording()
        let part = try CLI.run(["replay", run, "--from", "0.5", "--to", "1", "--record", "rr.jsonl"], folder: dir)
        #expect(part.status == 0, "\(part.stdout)\(part.stderr)")
        #expect(part.stdout.contains("wrote 101 ticks to rr.jsonl"), "\(part.stdout)")
        let again = try CLI.run(["replay", dir + "/rr.jsonl"], folder: CLI.folder())
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("checked 101 of 101 ticks"), "\(again.stdout)")
        let last = try String(contentsOfFile: dir + "/rr.jsonl", encoding: .utf8).split(separator: "\n").last.map(String.init)
        #expect(last?.hasPrefix("{\"type\":\"event\",\"event\":\"end\",\"tick\":101,") == true, "\(last ?? "")")

        // --record FILE also writes FILE.network.json: never over the network being replayed.
        let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/rr.jsonl.network.json"))
        let clash = try CLI.run(["replay", "run.jsonl", "--network", "rr.jsonl.network.json", "--record", "rr.jsonl"], folder: dir)
        #expect(clash.status == 73)
        #expect(clash.stderr.contains("rr.jsonl.network.json is the network file: writing it would destroy it"), "\(clash.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/rr.jsonl.network.json")) == before)
    }
}
