import Foundation
import Testing

/// `neuraxon report` and `--record-neurons` as a user runs them.
@Suite(.serialized) struct ReportCommandTests {
    @Test("sim --record-neurons, then report -o and --png: a page with the run's metrics and the neuron raster, and the images")
    func reportOfASimulatedRun() throws {
        let dir = CLI.folder()
        let sim = try CLI.run(["sim", "--duration", "3", "--record", "run.jsonl", "--record-neurons"], folder: dir)
        #expect(sim.status == 0, "\(sim.stderr)")
        let lines = try String(contentsOfFile: dir + "/run.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.dropFirst().first?.contains("\"neurons\":\"") == true)
        let report = try CLI.run(["report", "run.jsonl", "-o", "run.html", "--png", "figures"], folder: dir)
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("wrote run.html ("), "\(report.stdout)")
        #expect(report.stdout.contains("601 ticks"), "\(report.stdout)")
        #expect(report.stdout.contains("images and index.txt to figures"), "\(report.stdout)")
        let html = try String(contentsOfFile: dir + "/run.html", encoding: .utf8)
        #expect(html.contains("<h2>Metrics</h2>") && html.contains("<th>collisions</th>"), "the metrics file beside the recording is shown")
        #expect(html.contains("data-plot=\"neurons\""))
        #expect(!html.contains("http:") && !html.contains("https:") && !html.contains("<script"))
        for name in ["path.png", "trits.png", "neurons.png", "latency.png", "index.txt"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/figures/" + name), "\(name)")
        }
        // Written again over itself: replaced atomically, no temporaries left.
        #expect(try CLI.run(["report", "run.jsonl", "-o", "run.html"], folder: dir).status == 0)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("tmp") || $0.hasPrefix(".") }
        #expect(left.isEmpty, "\(left)")
    }

    @Test("report's errors: a missing recording 66, not a recording 65, no -o 64, -o onto the recording 73, --png onto a file 73")
    func reportErrors() throws {
        let dir = CLI.folder()
        #expect(try CLI.run(["sim", "--duration", "1", "--record", "run.jsonl"], folder: dir).status == 0)
        let missing = try CLI.run(["report", "nothing.jsonl", "-o", "x.html"], folder: dir)
        #expect(missing.status == 66, "\(missing.stderr)")
        #expect(missing.stderr.contains("nothing.jsonl"), "\(missing.stderr)")
        try "hello\n".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        let wrong = try CLI.run(["report", "notes.txt", "-o", "x.html"], folder: dir)
        #expect(wrong.status == 65, "\(wrong.stderr)")
        #expect(wrong.stderr.contains("is this a recording file?"), "\(wrong.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.html"))
        let noOutput = try CLI.run(["report", "run.jsonl"], folder: dir)
        #expect(noOutput.status == 64, "\(noOutput.stderr)")
        let onto = try CLI.run(["report", "run.jsonl", "-o", "run.jsonl"], folder: dir)
        #expect(onto.status == 73, "\(onto.stderr)")
        try "x".write(toFile: dir + "/afile", atomically: true, encoding: .utf8)
        let pngOntoFile = try CLI.run(["report", "run.jsonl", "-o", "y.html", "--png", "afile"], folder: dir)
        #expect(pngOntoFile.status == 73, "\(pngOntoFile.stderr)")
        #expect(pngOntoFile.stderr.contains("afile: is a file, not a folder: give --png a folder"), "\(pngOntoFile.stderr)")
    }

    @Test("a cut recording gets a report of what could be read and a note saying where reading stopped")
    func cutRecording() throws {
        let dir = CLI.folder()
        #expect(try CLI.run(["sim", "--duration", "2", "--record", "run.jsonl"], folder: dir).status == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/run.jsonl"))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: dir + "/run.jsonl"))
        let report = try CLI.run(["report", "run.jsonl", "-o", "cut.html"], folder: dir)
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stderr.contains("note: Reading stopped early, stopped at line "), "\(report.stderr)")
        let html = try String(contentsOfFile: dir + "/cut.html", encoding: .utf8)
        #expect(html.contains("id=\"read-stop\""))
    }

    @Test("--record-neurons needs a JSON Lines recording, on sim, run and replay")
    func recordNeuronsNeedsAJSONLinesRecording() throws {
        let dir = CLI.folder()
        let none = try CLI.run(["sim", "--duration", "1", "--record-neurons"], folder: dir)
        #expect(none.status == 64)
        #expect(none.stderr.contains("--record-neurons adds to a recording: give one with --record FILE.jsonl"), "\(none.stderr)")
        for command in [["sim", "--duration", "1"], ["run", "--network", "n.json", "--mapping", "m.yaml"], ["replay", "r.jsonl"]] {
            let mcap = try CLI.run(command + ["--record", "x.mcap", "--record-neurons"], folder: dir)
            #expect(mcap.status == 64, "\(command): \(mcap.stderr)")
            #expect(mcap.stderr.contains("--record-neurons needs a JSON Lines recording"), "\(command): \(mcap.stderr)")
        }
        #expect(try CLI.run(["sim", "--duration", "1", "--record", "run.jsonl", "--record-neurons"], folder: dir).status == 0)
        let replay = try CLI.run(["replay", "run.jsonl", "--record", "again.jsonl", "--record-neurons"], folder: dir)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        // The replay runs the same network on the same frames: every neuron's state, tick by tick, is the run's.
        func neurons(_ file: String) throws -> [String] {
            try String(contentsOfFile: dir + "/" + file, encoding: .utf8).split(separator: "\n").dropFirst().dropLast().map { line in
                guard let r = line.range(of: "\"neurons\":\"") else { return "" }
                return String(line[r.upperBound...].prefix { $0 != "\"" })
            }
        }
        let original = try neurons("run.jsonl"), replayed = try neurons("again.jsonl")
        #expect(original.count == 201 && original.allSatisfy { $0.count == 30 })
        #expect(replayed == original)
    }
}
