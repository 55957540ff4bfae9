import Foundation
import Testing

/// `neuraxon world generate`.
@Suite struct WorldCommandTests {
    @Test("world generate writes the same file for the same seed, and sim runs in it")
    func generate() throws {
        let folder = CLI.folder()
        for family in ["corridor", "clutter", "doorways", "light-behind", "arena"] {
            let a = try CLI.run(["world", "generate", "--family", family, "--seed", "3", "-o", folder + "/a.yaml"])
            #expect(a.status == 0, "\(a.stderr)")
            #expect(a.stdout.contains("wrote \(folder)/a.yaml: world \(family)-3"), "\(a.stdout)")
            let b = try CLI.run(["world", "generate", "--family", family, "--seed", "3", "-o", folder + "/b.yaml"])
            #expect(b.status == 0, "\(b.stderr)")
            let first = try Data(contentsOf: URL(fileURLWithPath: folder + "/a.yaml"))
            #expect(first == (try Data(contentsOf: URL(fileURLWithPath: folder + "/b.yaml"))))
            let sim = try CLI.run(["sim", "--world", folder + "/a.yaml", "--network", "avoid", "--duration", "2"])
            #expect(sim.status == 0, "\(family): \(sim.stderr)")
            #expect(sim.stdout.contains("world \(family)-3"), "\(sim.stdout)")
            #expect(sim.stdout.contains("progress toward light:") == ["corridor", "doorways", "light-behind"].contains(family))
        }
    }

    @Test("world generate refuses an unknown family and an output it cannot create, and writes nothing")
    func errors() throws {
        let folder = CLI.folder()
        let family = try CLI.run(["world", "generate", "--family", "maze", "--seed", "1", "-o", folder + "/w.yaml"])
        #expect(family.status == 64)
        #expect(family.stderr.contains("--family maze is not a world family; choose one of corridor, clutter, doorways, light-behind, arena"), "\(family.stderr)")
        let missing = try CLI.run(["world", "generate", "--family", "arena", "--seed", "1", "-o", folder + "/no/w.yaml"])
        #expect(missing.status == 73, "\(missing.stderr)")
        #expect(missing.stderr.contains("no/w.yaml"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/w.yaml"))
    }
}
