import Foundation
import NeuraxonExecutors
import NeuraxonSimulation
import Testing
@testable import NeuraxonEmbodiment

@Suite struct BatchScenarioTests {
    static func folder() -> String {
        let f = FileManager.default.temporaryDirectory.appendingPathComponent("neuraxon-batch-\(getpid())-\(UUID().uuidString.prefix(6))").path
        try? FileManager.default.createDirectory(atPath: f, withIntermediateDirectories: true)
        return f
    }

    @Test("A scenario expands to worlds × networks × seeds × starts × durations, families to one world per seed")
    func expands() throws {
        let s = try BatchScenario(yaml: """
            duration: [5, 10]
            worlds:
              - light
              - family: corridor
                seeds: 2-4
            networks: [seek, avoid]
            seeds: 1-2
            starts: [0]
            """, file: "s.yaml", folder: "/tmp")
        let runs = s.runs()
        #expect(runs.count == 4 * 2 * 2 * 1 * 2)
        #expect(runs.map(\.index) == Array(0..<runs.count))
        #expect(runs[0].world == BatchWorld(name: "light") && runs[0].network.name == "seek" && runs[0].seed == 1 && runs[0].duration == 5)
        #expect(runs[1].duration == 10)
        #expect(runs[8].world == BatchWorld(name: "corridor", familySeed: 2))
        #expect(runs[8].group == "family corridor | seek | 5 s")
        #expect(Set(runs.map(\.key)).count == runs.count)
        #expect(try runs[8].world.load().name == "corridor-2")
    }

    @Test("Bad scenarios are refused with the file, the line and the fix", arguments: [
        ("worlds: [light]\nnetworks: [seek]\nseeds: 3-1\n", "s.yaml:3: `seeds`: `3-1` is not a whole number 0 or more, nor a range like 1-10"),
        ("worlds: [light]\nnetworks:\n  - nope\n", "s.yaml:3: `nope` is not a preset"),
        ("worlds:\n  - family: castles\nnetworks: [seek]\n", "s.yaml:2: `family` must be one of corridor, clutter"),
        ("worlds: [nowhere.yaml]\nnetworks: [seek]\n", "s.yaml:1: world `nowhere.yaml` is neither a built-in world"),
        ("worlds: [light]\nnetworks: [seek]\nduration: -2\n", "s.yaml:3: `duration` must be simulated seconds"),
        ("worlds: [light]\nnetwork: [seek]\n", "s.yaml:2: unknown field `network`"),
        ("worlds: [light]\n", "s.yaml: no networks"),
        ("worlds: [light\n", "s.yaml:2: not valid YAML"),
        ("worlds: [light]\nnetworks:\n  - network: a.json\n", "s.yaml:3: network a.json needs `mapping: FILE`"),
    ])
    func refuses(yaml: String, message: String) throws {
        let dir = Self.folder()
        let error = #expect(throws: ScenarioError.self) {
            try BatchScenario(yaml: yaml, file: "s.yaml", folder: dir)
        }
        #expect(error?.description.hasPrefix(message) == true, "\(error?.description ?? "")")
    }

    @Test("Relative world, network and mapping paths are taken from the scenario's folder and made absolute")
    func absolutePaths() throws {
        let dir = Self.folder()
        try World.named("light").worldFileText().write(toFile: "\(dir)/w.yaml", atomically: true, encoding: .utf8)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: "\(dir)/n.json"))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: "\(dir)/m.yaml"))
        try "worlds: [w.yaml]\nnetworks:\n  - network: n.json\n    mapping: m.yaml\n".write(toFile: "\(dir)/s.yaml", atomically: true, encoding: .utf8)
        let run = try #require(try BatchScenario(contentsOf: "\(dir)/s.yaml").runs().first)
        #expect(run.world.name == "\(dir)/w.yaml")
        #expect(run.network.file == "\(dir)/n.json" && run.network.mapping == "\(dir)/m.yaml" && run.network.name == "n.json")
    }

    @Test("The runner keeps finished rows of the same runs, runs the rest, and reports failures with their reason")
    func resumesAndReportsFailures() throws {
        let s = try BatchScenario(yaml: "duration: 1\nworlds: [light, obstacles]\nnetworks: [seek]\nseeds: [1, 2]\n", file: "s.yaml", folder: "/tmp")
        let runs = s.runs()
        var saves = 0
        let all = try BatchRunner.run(runs, executor: LocalExecutor(workers: 2), roundSize: 3, save: { _ in saves += 1 })
        #expect(all.count == 4 && all.allSatisfy(\.succeeded) && saves == 2)
        // Resumed with two rows done: only the other two run, and the table is the same.
        let resumed = try BatchRunner.run(runs, executor: CountingExecutor(), done: [all[0], all[3]], roundSize: 10, save: { _ in })
        #expect(BatchTable(rows: resumed).csv == BatchTable(rows: all).csv)
        // A run that cannot run is a failed row with its reason, not an error.
        var bad = runs[0]
        bad.world = BatchWorld(name: "/nonexistent/w.yaml")
        let rows = try BatchRunner.run([bad], executor: LocalExecutor(workers: 1), roundSize: 1, save: { _ in })
        #expect(rows[0].status == "failed")
        #expect(rows[0].error?.contains("/nonexistent/w.yaml") == true, "\(rows[0].error ?? "")")
        #expect(BatchTable(rows: rows).summaryCSV.contains(",1,1,"))
    }
}

/// Runs items here and checks that only the runs not yet done come to it.
private struct CountingExecutor: Executor {
    var summary: String { "counting" }
    func run<C, I, O>(_ kind: WorkKind<C, I, O>, context: C, items: [I], label: String) throws(ExecutorError) -> [WorkOutcome<O>] {
        #expect(items.count == 2)
        return items.map { kind.outcome(context, $0) }
    }
}
