import Foundation
import Glibc
@testable import Neuraxon
import Testing

/// The checks every command makes of its files before it starts (`FilePlan`, `InputFile`), and
/// the atomic writer's clean-up after a killed writer.
@Suite struct UserFilesTests {
    static func folder() -> String {
        let f = FileManager.default.temporaryDirectory.appendingPathComponent("neuraxon-files-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try? FileManager.default.createDirectory(atPath: f, withIntermediateDirectories: true)
        return f
    }

    static func kind(_ plan: FilePlan) -> FileProblem.Kind? {
        do { try plan.check(); return nil } catch { return error.kind }
    }

    @Test("An output is the same file as an input however it is spelled: ./, .., a symbolic link, a hard link")
    func identityNotSpelling() throws {
        let dir = Self.folder()
        try "{}".write(toFile: "\(dir)/n.json", atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: "\(dir)/sub", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/link.json", withDestinationPath: "n.json")
        try FileManager.default.linkItem(atPath: "\(dir)/n.json", toPath: "\(dir)/hard.json")
        for spelling in ["\(dir)/n.json", "\(dir)/./n.json", "\(dir)/sub/../n.json", "\(dir)//n.json", "\(dir)/link.json", "\(dir)/hard.json"] {
            var plan = FilePlan()
            plan.input("\(dir)/n.json", "the network file")
            plan.output(spelling, "--record")
            #expect(Self.kind(plan) == .outputIsInput, "\(spelling)")
        }
        var fine = FilePlan()
        fine.input("\(dir)/n.json", "the network file")
        fine.output("\(dir)/sub/n.json", "--record")
        #expect(Self.kind(fine) == nil)
    }

    @Test("Two outputs naming one file yet to be made are refused")
    func twoOutputsOneFile() {
        let dir = Self.folder()
        var plan = FilePlan()
        plan.output("\(dir)/r.jsonl", "--record")
        plan.output("\(dir)/sub/../r.jsonl", "-o")
        try? FileManager.default.createDirectory(atPath: "\(dir)/sub", withIntermediateDirectories: true)
        #expect(Self.kind(plan) == .outputIsInput)
    }

    @Test("An output in a missing folder, or naming a folder, cannot be created; a protected output is kept")
    func outputs() throws {
        let dir = Self.folder()
        var missing = FilePlan()
        missing.output("\(dir)/nowhere/x.json", "-o")
        #expect(Self.kind(missing) == .cannotCreate)
        do { try missing.check() } catch {
            #expect(error.message == "cannot create -o \(dir)/nowhere/x.json: the folder \(dir)/nowhere does not exist; create it first")
        }
        var folder = FilePlan()
        folder.output(dir, "-o")
        #expect(Self.kind(folder) == .cannotCreate)
        var protected = FilePlan()
        protected.protectedOutput("\(dir)/c.json", "the checkpoint", howToReplace: "pass --force")
        #expect(Self.kind(protected) == nil)
        try "{}".write(toFile: "\(dir)/c.json", atomically: false, encoding: .utf8)
        #expect(Self.kind(protected) == .wouldReplace)
    }

    @Test("A missing input, a folder and a binary file each get their own problem naming the file")
    func inputs() throws {
        let dir = Self.folder()
        #expect(throws: FileProblem(.missing, path: "\(dir)/none", "the mapping file \(dir)/none does not exist: check the path")) {
            try InputFile.text("\(dir)/none", what: "the mapping file")
        }
        #expect(throws: FileProblem(.folder, path: dir, "the mapping file \(dir) is a folder, not a file: name a file in it")) {
            try InputFile.text(dir, what: "the mapping file")
        }
        try Data([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00, 0xFF]).write(to: URL(fileURLWithPath: "\(dir)/a.out"))
        do {
            _ = try InputFile.text("\(dir)/a.out", what: "the mapping file")
            Issue.record("a binary file was read as text")
        } catch {
            #expect(error.kind == .notText)
            #expect(error.message.contains("\(dir)/a.out is not a text file"))
        }
        try "sensors: []\n".write(toFile: "\(dir)/m.yaml", atomically: false, encoding: .utf8)
        #expect(try InputFile.text("\(dir)/m.yaml", what: "the mapping file") == "sensors: []\n")
    }

    @Test("A killed writer's temporary file is removed by the next write; a running writer's is left alone")
    func staleTemporaries() throws {
        let dir = Self.folder()
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let stale = "\(dir)/.n.json.tmp-\(gone.processIdentifier)"
        let running = "\(dir)/.n.json.tmp-\(getppid())"
        let other = "\(dir)/.m.json.tmp-\(gone.processIdentifier)"
        for path in [stale, running, other] { try "half".write(toFile: path, atomically: false, encoding: .utf8) }
        try AtomicFile.replace("\(dir)/n.json", with: Array("{}".utf8))
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: running), "a live writer's file was removed")
        #expect(FileManager.default.fileExists(atPath: other), "another file's temporary was removed")
        #expect(FileManager.default.contents(atPath: "\(dir)/n.json") == Data("{}".utf8))
    }

    @Test("A network file with a weight beyond the range the step keeps it in is refused, naming the place")
    func weightRange() throws {
        let net = try NeuraxonNetwork(parameters: NetworkParameters(), seed: 1)
        let text = net.fileText()
        for (key, value, range) in [("w_fast", "1e308", "-1.0…1.0"), ("w_slow", "-1.5", "-1.0…1.0"), ("w_meta", "0.75", "-0.5…0.5")] {
            let found = try #require(text.range(of: "\"\(key)\": [-0-9.e]+", options: .regularExpression))
            let bad = text.replacingCharacters(in: found, with: "\"\(key)\": \(value)")
            do {
                _ = try NeuraxonNetwork.load(bytes: Array(bad.utf8), file: "n.json")
                Issue.record("\(key) = \(value) was accepted")
            } catch {
                #expect(error.location == "synapses[0].\(key)", "\(error)")
                #expect(error.message.contains("is outside \(range)"), "\(error)")
            }
        }
        #expect(try NeuraxonNetwork.load(bytes: Array(text.utf8)).synapseCount == net.synapseCount)
    }
}
