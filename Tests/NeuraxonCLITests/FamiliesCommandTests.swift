import Foundation
import Testing

/// `neuraxon bench families` and `neuraxon evolve --families`, run as a user runs them.
@Suite(.serialized) struct FamiliesCommandTests {
    static func folder(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "neuraxon-families-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func benchFamiliesPrintsARowPerFamilyAndControllerAndChecksTheThresholds() throws {
        let r = try CLI.run(["bench", "families", "--preset", "seek", "--worlds", "2", "--duration", "3", "--families", "corridor,arena"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = r.stdout.split(separator: "\n").filter { $0.hasPrefix("seek ") }
        #expect(rows.count == 4, "\(r.stdout)")
        #expect(rows.contains { $0.contains("preset") && $0.contains("corridor") && $0.contains("%") })
        #expect(rows.contains { $0.contains("random") && $0.contains("arena") && $0.contains("–") })
        // Three seconds cannot cover what the coverage threshold asks: the check fails, status 1.
        let checked = try CLI.run(["bench", "families", "--preset", "avoid", "--worlds", "1", "--duration", "3",
                                   "--families", "arena", "--no-baseline", "--check"])
        #expect(checked.status == 1, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.contains("below threshold: avoid on arena: coverage"), "\(checked.stdout)")
    }

    @Test func badFamilyOptionsAreUsageErrors() throws {
        let dir = try Self.folder("usage")
        let cases: [([String], String)] = [
            (["bench", "families", "--preset", "dance"], "--preset must be one of"),
            (["bench", "families", "--preset", "avoid", "--families", "maze"], "`maze` is not a family"),
            (["evolve", "--task", "seek", "--families", "clutter", "-o", "x.json"], "cannot train on clutter"),
            (["evolve", "--task", "avoid", "--validation", "4", "-o", "x.json"], "--validation needs --families"),
            (["evolve", "--task", "avoid", "--elite-reevaluation", "99", "-o", "x.json"], "--elite-reevaluation must be 0 to the population"),
        ]
        for (arguments, message) in cases {
            let r = try CLI.run(arguments, folder: dir)
            #expect(r.status == 64, "\(arguments): \(r.stderr)")
            #expect(r.stderr.contains(message), "\(arguments): \(r.stderr)")
        }
    }

    @Test func evolveOverFamiliesReportsEveryFamilyOnEverySetAndWritesTheReport() throws {
        let dir = try Self.folder("evolve")
        let r = try CLI.run(["evolve", "--task", "avoid", "--families", "corridor,clutter", "--population", "4", "--generations", "2",
                             "--trials", "2", "--validation", "2", "--episode", "1", "--from", "preset", "--held-out", "2",
                             "--elite-reevaluation", "2", "-o", "best.json"], folder: dir)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("families corridor,clutter validation 2"), "\(r.stdout)")
        #expect(r.stdout.contains("best: validation score"), "\(r.stdout)")
        for family in ["corridor", "clutter"] {
            for set in ["training", "validation", "held-out"] {
                #expect(r.stdout.split(separator: "\n").contains { $0.hasPrefix(family) && $0.contains(set) }, "\(family) \(set)\n\(r.stdout)")
            }
        }
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/best.families.json"))) as! [String: Any]
        #expect(report["format"] as? String == "neuraxon-evolution-family-report")
        #expect((report["entries"] as? [Any])?.count == 3 * 2 * 3)
    }
}
