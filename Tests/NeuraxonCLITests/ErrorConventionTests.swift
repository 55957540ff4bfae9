import Dispatch
import Foundation
import Testing

/// Errors are plain, name the file, and end with the one exit-status convention of
/// Docs/RELIABILITY.md ("Exit statuses"): 64 usage, 65 bad content, 66 no input, 73 cannot create.
@Suite struct ErrorConventionTests {
    static let usage: Int32 = 64, dataError: Int32 = 65, noInput: Int32 = 66

    /// Framework text that must never reach a user.
    static let internals = ["NSCocoaErrorDomain", "Code=", "DecodingError", "Debug description", "NSError", "Foundation."]

    static func expectPlain(_ r: CLI.Result, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for text in internals {
            #expect(!r.stderr.contains(text), "\(context): \(r.stderr)", sourceLocation: sourceLocation)
        }
        #expect(r.stderr.hasPrefix("error: ") || r.stderr.contains("\nerror: "), "\(context): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains("Usage:"), "\(context): a usage banner after a runtime error: \(r.stderr)", sourceLocation: sourceLocation)
    }

    /// A folder with a network (`net.json`, 11 inputs and 4 outputs), the avoid mapping (`m.yaml`)
    /// and a recording made with them (`run.jsonl`).
    static func workspace() throws -> String {
        let dir = try FileSafetyTests.networkAndMapping()
        let made = try CLI.run(["sim", "--network", "net.json", "--mapping", "m.yaml", "--duration", "0.5", "--record", "run.jsonl"], folder: dir)
        try #require(made.status == 0, "\(made.stderr)")
        return dir
    }

    /// Every command, with the file `path` in the place of one of its inputs.
    static func commands(withInput path: String) -> [(what: String, arguments: [String])] {
        [
            ("the network file", ["net", "info", path]),
            ("the network file", ["net", "run", path, "--steps", "1"]),
            ("the schedule", ["net", "run", "net.json", "--steps", "1", "--inputs", path]),
            ("the network file", ["sim", "--network", path, "--mapping", "m.yaml", "--duration", "0.1"]),
            ("the mapping file", ["sim", "--network", "net.json", "--mapping", path, "--duration", "0.1"]),
            ("the world file", ["sim", "--world", path, "--duration", "0.1"]),
            ("the network file", ["run", "--port", "absent", "--network", path, "--mapping", "m.yaml"]),
            ("the mapping file", ["run", "--port", "absent", "--network", "net.json", "--mapping", path]),
            ("the recording", ["replay", path]),
            ("the network file", ["replay", "run.jsonl", "--network", path]),
            ("the mapping file", ["replay", "run.jsonl", "--mapping", path]),
            ("the recording", ["log", "info", path]),
            ("the recording", ["log", "export", "--csv", path]),
            ("the --from network file", ["evolve", "--task", "avoid", "--from", path, "-o", "e.json"]),
        ]
    }

    @Test("A missing input file exits 66 in every command, with a plain message naming it and no usage banner")
    func missingInput() throws {
        let dir = try Self.workspace()
        for (what, arguments) in Self.commands(withInput: "missing.file") {
            let r = try CLI.run(arguments, folder: dir)
            #expect(r.status == Self.noInput, "\(arguments): \(r.stderr)")
            #expect(r.stderr.contains("\(what) missing.file does not exist"), "\(arguments): \(r.stderr)")
            Self.expectPlain(r, "\(arguments)")
        }
        let resume = try CLI.run(["evolve", "--task", "avoid", "-o", "nothing.json", "--resume"], folder: dir)
        #expect(resume.status == Self.noInput, "\(resume.stderr)")
        #expect(resume.stderr.contains("the checkpoint to resume nothing.json.checkpoint.json does not exist"), "\(resume.stderr)")
    }

    @Test("A folder given as an input exits 66 and says it is a folder")
    func folderInput() throws {
        let dir = try Self.workspace()
        try FileManager.default.createDirectory(atPath: "\(dir)/sub", withIntermediateDirectories: true)
        for (what, arguments) in Self.commands(withInput: "sub") {
            let r = try CLI.run(arguments, folder: dir)
            #expect(r.status == Self.noInput, "\(arguments): \(r.stderr)")
            #expect(r.stderr.contains("\(what) sub is a folder, not a file"), "\(arguments): \(r.stderr)")
            Self.expectPlain(r, "\(arguments)")
        }
    }

    @Test("A binary file given as an input exits 65 with a plain message, never a framework's error text")
    func binaryInput() throws {
        let dir = try Self.workspace()
        var binary = [UInt8](repeating: 0, count: 4096)
        for i in binary.indices { binary[i] = UInt8(truncatingIfNeeded: i &* 167 &+ 13) }
        binary[0] = 0x7F
        binary[1] = 0xFF
        try Data(binary).write(to: URL(fileURLWithPath: "\(dir)/blob.bin"))
        for (_, arguments) in Self.commands(withInput: "blob.bin") {
            let r = try CLI.run(arguments, folder: dir)
            #expect(r.status == Self.dataError, "\(arguments): \(r.stderr)")
            #expect(r.stderr.contains("blob.bin"), "\(arguments): the message does not name the file: \(r.stderr)")
            Self.expectPlain(r, "\(arguments)")
        }
        let mapping = try CLI.run(["sim", "--network", "net.json", "--mapping", "blob.bin"], folder: dir)
        #expect(mapping.stderr.contains("the mapping file blob.bin is not a text file"), "\(mapping.stderr)")
    }

    @Test("A JSON line that is not a recording header is described in words, not by the decoder's debug text")
    func recordingHeaderInWords() throws {
        let dir = CLI.folder()
        try "{\"format\": \"neuraxon-recording\", \"version\": \"one\"}\n".write(toFile: "\(dir)/odd.jsonl", atomically: true, encoding: .utf8)
        try "{\"x\": 1}\n".write(toFile: "\(dir)/other.jsonl", atomically: true, encoding: .utf8)
        let odd = try CLI.run(["log", "info", "odd.jsonl"], folder: dir)
        #expect(odd.status == Self.dataError)
        #expect(odd.stderr.contains("field `version` must be a whole number"), "\(odd.stderr)")
        Self.expectPlain(odd, "odd.jsonl")
        let other = try CLI.run(["replay", "other.jsonl"], folder: dir)
        #expect(other.status == Self.dataError)
        #expect(other.stderr.contains("missing field `format`"), "\(other.stderr)")
        Self.expectPlain(other, "other.jsonl")
    }

    @Test("Help still prints with status 0, and a mistake on the command line gets the usage banner and 64")
    func helpAndUsage() throws {
        for arguments in [["--help"], ["sim", "--help"], ["help", "evolve"], ["net", "run", "--help"]] {
            let r = try CLI.run(arguments)
            #expect(r.status == 0, "\(arguments): \(r.stderr)")
            #expect(r.stdout.contains("OVERVIEW:") || r.stdout.contains("USAGE:"), "\(arguments): \(r.stdout)")
            #expect(!r.stderr.contains("error:"), "\(arguments): \(r.stderr)")
        }
        let unknown = try CLI.run(["sim", "--no-such-option"])
        #expect(unknown.status == Self.usage, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("Usage: neuraxon sim"), "\(unknown.stderr)")
    }

    @Test("Negative numbers parse as numbers: the message gives the range, not \"Missing value\"")
    func negativeNumbers() throws {
        let dir = try Self.workspace()
        let cases: [([String], String)] = [
            (["sim", "--duration", "-1"], "--duration must be more than 0"),
            (["sim", "--start", "-2"], "--start must be 0 or more"),
            (["sim", "--seed", "-1"], "'-1' is invalid for '--seed"),
            (["run", "--port", "absent", "--network", "net.json", "--mapping", "m.yaml", "--duration", "-5"], "--duration must be a positive number"),
            (["net", "run", "net.json", "--steps", "-3"], "--steps must be 0 or more"),
            (["replay", "run.jsonl", "--from", "-1"], "--from must be 0 or more"),
            (["replay", "run.jsonl", "--rate", "-2"], "--rate -2.0 is outside 0.1…10"),
            (["evolve", "--task", "avoid", "--population", "-4", "-o", "x.json"], "--population must be at least 2"),
            (["evolve", "--task", "avoid", "--episode", "-1", "-o", "x.json"], "--episode must be 0.5 to 600"),
        ]
        for (arguments, message) in cases {
            let r = try CLI.run(arguments, folder: dir)
            #expect(r.status == Self.usage, "\(arguments): \(r.stderr)")
            #expect(r.stderr.contains(message), "\(arguments): \(r.stderr)")
            #expect(!r.stderr.contains("Missing value"), "\(arguments): \(r.stderr)")
        }
    }

    @Test("run --baud 0 is refused as a usage error, like probe --baud 0, before any port is opened")
    func baudZero() throws {
        let dir = try Self.workspace()
        let run = try CLI.run(["run", "--port", "absent", "--network", "net.json", "--mapping", "m.yaml", "--baud", "0"], folder: dir)
        #expect(run.status == Self.usage, "\(run.stderr)")
        #expect(run.stderr.contains("--baud 0"), "\(run.stderr)")
        #expect(!run.stderr.contains("connecting"), "\(run.stderr)")
        let probe = try CLI.run(["probe", "--port", "absent", "--baud", "0"], folder: dir)
        #expect(probe.status == Self.usage, "\(probe.stderr)")
    }

    @Test("A weight of 1e308 in a network file is refused with its place and range")
    func hugeWeight() throws {
        let dir = try FileSafetyTests.networkAndMapping()
        let text = try String(contentsOfFile: "\(dir)/net.json", encoding: .utf8)
        // The first synapse's w_fast, whatever its value.
        let range = try #require(text.range(of: #""w_fast": [-0-9.e]+"#, options: .regularExpression))
        try text.replacingCharacters(in: range, with: "\"w_fast\": 1e308").write(toFile: "\(dir)/huge.json", atomically: true, encoding: .utf8)
        let r = try CLI.run(["net", "info", "huge.json"], folder: dir)
        #expect(r.status == Self.dataError, "\(r.stderr)")
        #expect(r.stderr.contains("synapses[0].w_fast: 1e+308 is outside -1.0…1.0"), "\(r.stderr)")
        let sim = try CLI.run(["sim", "--network", "huge.json", "--mapping", "m.yaml", "--duration", "0.5"], folder: dir)
        #expect(sim.status == Self.dataError, "\(sim.stderr)")
    }

    @Test("A 1e308-metre arena in a world file is refused with the field and the largest allowed side")
    func hugeArena() throws {
        let dir = CLI.folder()
        try "arena: {width: 1e308, height: 2}\nrobot:\n  start: {x: 1, y: 1, heading: 0}\n"
            .write(toFile: "\(dir)/huge.yaml", atomically: true, encoding: .utf8)
        let r = try CLI.run(["sim", "--world", "huge.yaml", "--duration", "0.5"], folder: dir)
        #expect(r.status == Self.dataError, "\(r.stderr)")
        #expect(r.stderr.contains("arena.width: 1e+308 m is beyond the largest arena"), "\(r.stderr)")
        #expect(r.stderr.contains("1000 m a side"), "\(r.stderr)")
        Self.expectPlain(r, "huge.yaml")
    }

    @Test("An empty mapping warns that nothing drives the robot")
    func emptyMappingWarns() throws {
        let dir = try FileSafetyTests.networkAndMapping()
        try "# nothing yet\n".write(toFile: "\(dir)/empty.yaml", atomically: true, encoding: .utf8)
        let r = try CLI.run(["sim", "--network", "net.json", "--mapping", "empty.yaml", "--duration", "0.5"], folder: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("warning: the mapping drives no actuator: nothing will move the robot"), "\(r.stderr)")
        let run = try CLI.run(["run", "--port", "absent", "--network", "net.json", "--mapping", "empty.yaml"], folder: dir)
        #expect(run.stderr.contains("warning: the mapping drives no actuator"), "\(run.stderr)")
    }

    @Test("run checks the mapping against the network before it opens the board")
    func mappingBeforeBoard() throws {
        let dir = try FileSafetyTests.networkAndMapping()
        // A network with 5 inputs: the avoid mapping needs 11.
        let small = try CLI.run(["net", "create", "--preset", "flowing", "-o", "small.json"], folder: dir)
        try #require(small.status == 0)
        let r = try CLI.run(["run", "--port", "\(dir)/no-board", "--network", "small.json", "--mapping", "m.yaml"], folder: dir)
        #expect(r.status == Self.dataError, "\(r.stderr)")
        #expect(r.stderr.contains("must lie in 0…4"), "\(r.stderr)")
        #expect(!r.stderr.contains("connecting"), "the board was opened first: \(r.stderr)")
        #expect(!r.stderr.contains("no such device"), "\(r.stderr)")
        Self.expectPlain(r, "small network")
        // A mapping with a syntax error is refused before the board too.
        try "sensors: [\n".write(toFile: "\(dir)/broken.yaml", atomically: true, encoding: .utf8)
        let broken = try CLI.run(["run", "--port", "\(dir)/no-board", "--network", "net.json", "--mapping", "broken.yaml"], folder: dir)
        #expect(broken.status == Self.dataError, "\(broken.stderr)")
        #expect(broken.stderr.contains("not valid YAML"), "\(broken.stderr)")
        #expect(!broken.stderr.contains("connecting"), "\(broken.stderr)")
    }

    @Test("The README's net create and run lines work together: the network fits the mapping the run names")
    func readmeRunExample() throws {
        let readme = try String(contentsOfFile: FileSafetyTests.repository + "/README.md", encoding: .utf8)
        func line(_ prefix: String) throws -> [String] {
            let found = try #require(readme.split(separator: "\n").first { $0.hasPrefix(prefix) }, "no `\(prefix)` line in README.md")
            let command = found.split(separator: "#", maxSplits: 1)[0]
            return command.split(separator: " ").map(String.init).dropFirst().map { $0 }
        }
        let create = try line("neuraxon net create")
        var run = try line("neuraxon run ")
        let dir = CLI.folder()
        try FileManager.default.createDirectory(atPath: "\(dir)/Docs/examples", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: FileSafetyTests.avoidMapping, toPath: "\(dir)/Docs/examples/avoid.mapping.yaml")
        let created = try CLI.run(create, folder: dir)
        #expect(created.status == 0, "\(create): \(created.stderr)")

        // Without a board attached, the run must get as far as looking for the board: the network
        // and the mapping were accepted.
        if let i = run.firstIndex(of: "--board") { run.replaceSubrange(i...(i + 1), with: ["--port", "\(dir)/no-board"]) }
        let ran = try CLI.run(run, folder: dir)
        #expect(ran.stderr.contains("connecting to"), "\(run): \(ran.stderr)")
        #expect(ran.status == 69, "\(run): \(ran.stderr)")
        #expect(!ran.stderr.contains("mapping"), "\(run): \(ran.stderr)")

        // With the host-built firmware as the board, the run runs, as written but for the port
        // and a duration.
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/make")
        make.arguments = ["-s", "-C", FileSafetyTests.repository + "/Firmware", "host"]
        try make.run()
        make.waitUntilExit()
        try #require(make.terminationStatus == 0, "make -C Firmware host failed")
        let board = Process()
        board.executableURL = URL(fileURLWithPath: FileSafetyTests.repository + "/Firmware/build/host/neuraxon-firmware")
        let control = Pipe(), announced = Pipe()
        board.standardInput = control
        board.standardOutput = announced
        try board.run()
        defer {
            try? control.fileHandleForWriting.close()  // the firmware ends when its input closes
            board.waitUntilExit()
        }
        var firstLine = Data()
        while !firstLine.contains(UInt8(ascii: "\n")), let byte = try announced.fileHandleForReading.read(upToCount: 1), !byte.isEmpty {
            firstLine.append(byte)
        }
        let pty = String(decoding: firstLine, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(pty.hasPrefix("pty "), "the firmware said \(pty)")
        let reports = announced.fileHandleForReading
        DispatchQueue.global().async { _ = reports.readDataToEndOfFile() }  // its actuator reports, so it never blocks on them
        if let i = run.firstIndex(of: "--port") { run[i + 1] = String(pty.dropFirst(4)) }
        let driven = try CLI.run(run + ["--duration", "1", "--quiet"], folder: dir, timeout: 60)
        #expect(driven.status == 0, "\(run): \(driven.stderr)")
        #expect(driven.stdout.contains("recorded"), "\(driven.stdout)")

        // And the same network and mapping drive the simulated reference robot, which has the board's channels.
        let network = try #require(run.firstIndex(of: "--network").map { run[$0 + 1] })
        let mapping = try #require(run.firstIndex(of: "--mapping").map { run[$0 + 1] })
        let sim = try CLI.run(["sim", "--network", network, "--mapping", mapping, "--duration", "1"], folder: dir)
        #expect(sim.status == 0, "\(sim.stderr)")
    }
}
