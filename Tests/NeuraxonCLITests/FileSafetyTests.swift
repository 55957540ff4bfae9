import Dispatch
import Foundation
import Testing

/// No command destroys the user's files: an output that is also an input is refused, an existing
/// checkpoint is kept unless the user asks, a missing output folder is an error before any work,
/// and a killed writer's temporary file does not outlive the next write.
@Suite struct FileSafetyTests {
    static let cannotCreate: Int32 = 73
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let avoidMapping = repository + "/Docs/examples/avoid.mapping.yaml"

    /// A folder with `net.json` (11 inputs, 4 outputs: the avoid mapping fits it) and `m.yaml`.
    static func networkAndMapping() throws -> String {
        let dir = CLI.folder()
        let created = try CLI.run(["net", "create", "--preset", "flowing", "--seed", "7", "--param", "num_input_neurons=11",
                                   "--param", "num_output_neurons=4", "-o", "\(dir)/net.json"])
        try #require(created.status == 0, "\(created.stderr)")
        try FileManager.default.copyItem(atPath: avoidMapping, toPath: "\(dir)/m.yaml")
        return dir
    }

    static func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test("sim --record naming the network it loaded is refused, however the path is spelled, and the network is kept")
    func simRecordOverNetwork() throws {
        let dir = try Self.networkAndMapping()
        let before = Self.bytes("\(dir)/net.json")
        for spelling in ["net.json", "./net.json", "\(dir)/net.json", "\(dir)/./sub/../net.json"] {
            try? FileManager.default.createDirectory(atPath: "\(dir)/sub", withIntermediateDirectories: true)
            let r = try CLI.run(["sim", "--network", "net.json", "--mapping", "m.yaml", "--world", "obstacles",
                                 "--duration", "1", "--record", spelling], folder: dir)
            #expect(r.status == Self.cannotCreate, "\(spelling): \(r.stderr)")
            #expect(r.stderr.contains("--record \(spelling) is the network file"), "\(r.stderr)")
            #expect(!r.stderr.contains("Usage:"))
            #expect(Self.bytes("\(dir)/net.json") == before, "\(spelling) changed the network")
        }
        // A symbolic link to the network, and a second hard link to it, are the network too.
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/link.json", withDestinationPath: "\(dir)/net.json")
        try FileManager.default.linkItem(atPath: "\(dir)/net.json", toPath: "\(dir)/hard.json")
        for other in ["link.json", "hard.json"] {
            let r = try CLI.run(["sim", "--network", "net.json", "--mapping", "m.yaml", "--duration", "1", "--record", other], folder: dir)
            #expect(r.status == Self.cannotCreate, "\(other): \(r.stderr)")
            #expect(Self.bytes("\(dir)/net.json") == before, "\(other) changed the network")
        }
    }

    @Test("A recording's side files count as outputs: a FILE.metrics.json that is an input is refused")
    func sideFilesAreOutputs() throws {
        let dir = try Self.networkAndMapping()
        try FileManager.default.copyItem(atPath: "\(dir)/m.yaml", toPath: "\(dir)/r.jsonl.metrics.json")
        let before = Self.bytes("\(dir)/r.jsonl.metrics.json")
        let r = try CLI.run(["sim", "--network", "net.json", "--mapping", "r.jsonl.metrics.json", "--duration", "1",
                             "--record", "r.jsonl"], folder: dir)
        #expect(r.status == Self.cannotCreate, "\(r.stderr)")
        #expect(r.stderr.contains("--record's metrics file r.jsonl.metrics.json is the mapping file"), "\(r.stderr)")
        #expect(Self.bytes("\(dir)/r.jsonl.metrics.json") == before)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/r.jsonl"), "the recording was started")

        // A preset's network goes beside the recording as FILE.network.json: it may not be the mapping either.
        try FileManager.default.copyItem(atPath: "\(dir)/m.yaml", toPath: "\(dir)/p.jsonl.network.json")
        let preset = try CLI.run(["sim", "--network", "avoid", "--mapping", "p.jsonl.network.json", "--duration", "1",
                                  "--record", "p.jsonl"], folder: dir)
        #expect(preset.status == Self.cannotCreate, "\(preset.stderr)")
        #expect(preset.stderr.contains("--record's network file p.jsonl.network.json is the mapping file"), "\(preset.stderr)")
    }

    @Test("log export -o naming the recording and replay --record naming its network are refused; both files are kept")
    func exportAndReplayOverInputs() throws {
        let dir = try Self.networkAndMapping()
        let made = try CLI.run(["sim", "--network", "net.json", "--mapping", "m.yaml", "--duration", "1", "--record", "run.jsonl"], folder: dir)
        try #require(made.status == 0, "\(made.stderr)")
        let recording = Self.bytes("\(dir)/run.jsonl"), network = Self.bytes("\(dir)/net.json")

        let export = try CLI.run(["log", "export", "--csv", "run.jsonl", "-o", "./run.jsonl"], folder: dir)
        #expect(export.status == Self.cannotCreate, "\(export.stderr)")
        #expect(export.stderr.contains("-o ./run.jsonl is the recording (run.jsonl)"), "\(export.stderr)")
        #expect(Self.bytes("\(dir)/run.jsonl") == recording)

        let replay = try CLI.run(["replay", "run.jsonl", "--record", "net.json"], folder: dir)
        #expect(replay.status == Self.cannotCreate, "\(replay.stderr)")
        #expect(replay.stderr.contains("--record net.json is the network file"), "\(replay.stderr)")
        #expect(Self.bytes("\(dir)/net.json") == network)

        let onItself = try CLI.run(["replay", "run.jsonl", "--record", "\(dir)/run.jsonl"], folder: dir)
        #expect(onItself.status == Self.cannotCreate, "\(onItself.stderr)")
        #expect(Self.bytes("\(dir)/run.jsonl") == recording)

        // The same commands with new files work.
        #expect(try CLI.run(["log", "export", "--csv", "run.jsonl", "-o", "run.csv"], folder: dir).status == 0)
        #expect(try CLI.run(["replay", "run.jsonl", "--record", "again.jsonl"], folder: dir).status == 0)
    }

    @Test("net run -o over its own network is refused, and --trace may not be the schedule")
    func netRunOverInputs() throws {
        let dir = try Self.networkAndMapping()
        let before = Self.bytes("\(dir)/net.json")
        let r = try CLI.run(["net", "run", "net.json", "--steps", "10", "-o", "net.json"], folder: dir)
        #expect(r.status == Self.cannotCreate, "\(r.stderr)")
        #expect(Self.bytes("\(dir)/net.json") == before)
        try "{\"step\": 0, \"inputs\": [1]}\n".write(toFile: "\(dir)/s.jsonl", atomically: true, encoding: .utf8)
        let trace = try CLI.run(["net", "run", "net.json", "--steps", "10", "--inputs", "s.jsonl", "--trace", "s.jsonl"], folder: dir)
        #expect(trace.status == Self.cannotCreate, "\(trace.stderr)")
        #expect(trace.stderr.contains("--trace s.jsonl is the schedule"), "\(trace.stderr)")
    }

    /// A short evolution run's arguments, writing `keep.json` and its checkpoint.
    static let evolve = ["evolve", "--task", "avoid", "--population", "4", "--generations", "1", "--trials", "1",
                         "--episode", "0.5", "-o", "keep.json"]

    @Test("evolve never replaces an existing checkpoint without --resume or --force")
    func evolveKeepsCheckpoint() throws {
        let dir = CLI.folder()
        let first = try CLI.run(Self.evolve, folder: dir)
        try #require(first.status == 0, "\(first.stderr)")
        let checkpoint = "\(dir)/keep.json.checkpoint.json"
        let saved = try #require(Self.bytes(checkpoint))

        // Forgetting --resume (here with another task and seed) is refused before any work.
        var other = Self.evolve
        other[2] = "seek"
        let again = try CLI.run(other + ["--seed", "9"], folder: dir)
        #expect(again.status == Self.cannotCreate, "\(again.stderr)")
        #expect(again.stderr.contains("the checkpoint keep.json.checkpoint.json already exists"), "\(again.stderr)")
        #expect(again.stderr.contains("--resume") && again.stderr.contains("--force"))
        #expect(!again.stdout.contains("generation"), "work started: \(again.stdout)")
        #expect(Self.bytes(checkpoint) == saved)

        // --resume continues it; --force starts over and replaces it; both together are a usage error.
        let resumed = try CLI.run(Self.evolve.replacingGenerations(to: "2") + ["--resume"], folder: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("resuming"), "\(resumed.stdout)")
        let forced = try CLI.run(Self.evolve + ["--force"], folder: dir)
        #expect(forced.status == 0, "\(forced.stderr)")
        let both = try CLI.run(Self.evolve + ["--force", "--resume"], folder: dir)
        #expect(both.status == 64, "\(both.stderr)")
    }

    @Test("An output folder that does not exist is an error before any work starts, in every command")
    func missingOutputFolder() throws {
        let dir = try Self.networkAndMapping()
        let nowhere = "\(dir)/no-such-folder"
        let cases: [[String]] = [
            ["net", "run", "net.json", "--steps", "100000000", "-o", "\(nowhere)/o.json"],
            ["net", "run", "net.json", "--steps", "100000000", "--trace", "\(nowhere)/t.jsonl"],
            ["net", "create", "-o", "\(nowhere)/n.json"],
            ["sim", "--duration", "86400", "--record", "\(nowhere)/r.jsonl"],
            ["evolve", "--task", "avoid", "--population", "64", "--generations", "100", "-o", "\(nowhere)/x.json"],
            ["evolve", "--task", "avoid", "--population", "64", "--generations", "100", "-o", "x.json", "--log", "\(nowhere)/log.jsonl"],
            ["run", "--port", "\(dir)/absent", "--network", "net.json", "--mapping", "m.yaml", "--record", "\(nowhere)/r.jsonl"],
        ]
        for arguments in cases {
            let started = Date()
            // Each would run for minutes to hours if the check came after the work.
            let r = try CLI.run(arguments, folder: dir, timeout: 30)
            let seconds = Date().timeIntervalSince(started)
            #expect(r.status == Self.cannotCreate, "\(arguments): \(r.stderr)")
            #expect(r.stderr.contains("the folder \(nowhere) does not exist"), "\(arguments): \(r.stderr)")
            #expect(!r.stderr.contains("Usage:"))
            #expect(!r.stderr.contains("connecting"), "the board was opened: \(r.stderr)")
            #expect(seconds < 20, "\(arguments) took \(seconds) s")
        }
        let made = try CLI.run(["sim", "--duration", "1", "--record", "r.jsonl"], folder: dir)
        try #require(made.status == 0)
        let export = try CLI.run(["log", "export", "--csv", "r.jsonl", "-o", "\(nowhere)/r.csv"], folder: dir)
        #expect(export.status == Self.cannotCreate, "\(export.stderr)")
        let replay = try CLI.run(["replay", "r.jsonl", "--record", "\(nowhere)/rr.jsonl"], folder: dir)
        #expect(replay.status == Self.cannotCreate, "\(replay.stderr)")
        #expect(!replay.stdout.contains("replayed"), "the replay ran: \(replay.stdout)")
    }

    @Test("bench replay --path never overwrites and removes an existing file")
    func benchReplayKeepsExistingFile() throws {
        let dir = CLI.folder()
        try "keep me\n".write(toFile: "\(dir)/notes.txt", atomically: true, encoding: .utf8)
        let r = try CLI.run(["bench", "replay", "--duration", "1", "--path", "notes.txt"], folder: dir)
        #expect(r.status == Self.cannotCreate, "\(r.stderr)")
        #expect(Self.bytes("\(dir)/notes.txt") == Data("keep me\n".utf8))
        let fresh = try CLI.run(["bench", "replay", "--duration", "1", "--path", "bench.jsonl"], folder: dir)
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/bench.jsonl"))
    }

    @Test("A temporary file left by a killed atomic write is removed by the next write of that file")
    func staleTemporaryRemoved() throws {
        let dir = CLI.folder()
        // A writer that no longer runs: a finished process's number.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let stale = "\(dir)/.net.json.tmp-\(gone.processIdentifier)"
        try "{\"half\": ".write(toFile: stale, atomically: false, encoding: .utf8)
        let r = try CLI.run(["net", "create", "-o", "net.json"], folder: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: stale), "the stale temporary file is still there")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
        #expect(left.isEmpty, "\(left)")
        // What the folder holds is the whole new network, which loads.
        #expect(try CLI.run(["net", "info", "net.json"], folder: dir).status == 0)
    }
}

private extension Array where Element == String {
    /// The same arguments with `--generations` set to `value`.
    func replacingGenerations(to value: String) -> [String] {
        var copy = self
        if let i = copy.firstIndex(of: "--generations"), i + 1 < copy.count { copy[i + 1] = value }
        return copy
    }
}
