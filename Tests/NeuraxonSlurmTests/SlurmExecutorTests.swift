import Foundation
import Testing

/// Batches and evolution through a real Slurm cluster give exactly what the local executor
/// gives; a task killed mid-run is submitted again; a search moves between the cluster and
/// this machine through its checkpoint. Each test starts its own cluster and stops it.
@Suite(.serialized) struct SlurmExecutorTests {
    /// 2 worlds of a family and a built-in world × 2 presets × 2 seeds: 12 short runs.
    static let scenario = """
        duration: 4
        worlds:
          - light
          - family: clutter
            seeds: 3-4
        networks: [seek, avoid]
        seeds: [1, 2]
        """

    static let evolution = ["evolve", "--task", "avoid", "--population", "6", "--trials", "2", "--episode", "2", "--seed", "11"]

    @Test("A batch through Slurm writes the same table, JSON Lines and summary, byte for byte, as through the local executor")
    func batchMatchesLocal() throws {
        let cluster = try SlurmCluster()
        defer { cluster.stop() }
        let dir = Neuraxon.folder()
        try Self.scenario.write(toFile: "\(dir)/s.yaml", atomically: true, encoding: .utf8)
        let local = try Neuraxon.run(["sim", "--batch", "s.yaml", "-o", "local.csv"], folder: dir)
        #expect(local.status == 0, "\(local.stderr)")
        let slurm = try Neuraxon.run(["sim", "--batch", "s.yaml", "-o", "slurm.csv", "--executor", "slurm", "--items-per-task", "3"],
                                     folder: dir, environment: cluster.environment)
        #expect(slurm.status == 0, "\(slurm.stderr)")
        #expect(slurm.stderr.contains("4 array tasks"), "\(slurm.stderr)")
        for (a, b) in [("local.csv", "slurm.csv"), ("local.jsonl", "slurm.jsonl"), ("local.summary.csv", "slurm.summary.csv")] {
            let left = try #require(Neuraxon.bytes("\(dir)/\(a)")), right = try #require(Neuraxon.bytes("\(dir)/\(b)"))
            #expect(left == right, "\(a) and \(b) differ")
        }
        let rows = String(decoding: try #require(Neuraxon.bytes("\(dir)/slurm.csv")), as: UTF8.self).split(separator: "\n")
        #expect(rows.count == 13)
    }

    @Test("Evolution through Slurm saves the same best network and checkpoint as the local executor, and a search moves between them through its checkpoint")
    func evolutionMatchesLocalAndResumesAcross() throws {
        let cluster = try SlurmCluster()
        defer { cluster.stop() }
        let dir = Neuraxon.folder()
        let slurm = ["--executor", "slurm", "--items-per-task", "4"]
        let runs: [(String, [[String]])] = [
            ("local", [["--generations", "2"]]),
            ("slurm", [["--generations", "2"] + slurm]),
            // One generation on the cluster, the second here; and the other way round.
            ("cluster-then-local", [["--generations", "1"] + slurm, ["--generations", "2", "--resume"]]),
            ("local-then-cluster", [["--generations", "1"], ["--generations", "2", "--resume"] + slurm]),
        ]
        for (name, steps) in runs {
            for step in steps {
                let r = try Neuraxon.run(Self.evolution + ["-o", "\(name).json"] + step, folder: dir, environment: cluster.environment)
                #expect(r.status == 0, "\(name) \(step): \(r.stderr)")
            }
        }
        let best = try #require(Neuraxon.bytes("\(dir)/local.json"))
        let checkpoint = try #require(Neuraxon.bytes("\(dir)/local.json.checkpoint.json"))
        for (name, _) in runs.dropFirst() {
            #expect(Neuraxon.bytes("\(dir)/\(name).json") == best, "\(name): best network differs")
            #expect(Neuraxon.bytes("\(dir)/\(name).json.checkpoint.json") == checkpoint, "\(name): checkpoint differs")
        }
    }

    @Test("An array task cancelled mid-run is submitted again and the batch still equals the local one")
    func cancelledTaskIsResubmitted() throws {
        let cluster = try SlurmCluster()
        defer { cluster.stop() }
        let dir = Neuraxon.folder()
        // Four long runs, one per array task: each task is still running when it is cancelled.
        try """
            duration: 40
            worlds: [obstacles]
            networks: [avoid]
            seeds: 1-4
            """.write(toFile: "\(dir)/s.yaml", atomically: true, encoding: .utf8)
        var cancelled: String?
        let slurm = try Neuraxon.run(["sim", "--batch", "s.yaml", "-o", "slurm.csv", "--executor", "slurm", "--items-per-task", "1"],
                                     folder: dir, environment: cluster.environment) {
            let deadline = Date().addingTimeInterval(120)
            while cancelled == nil, Date() < deadline {
                if let task = cluster.runningTasks().first {
                    try cluster.command(["/usr/bin/scancel", task])
                    cancelled = task
                }
                usleep(100_000)
            }
        }
        let task = try #require(cancelled, "no array task was seen running")
        #expect(slurm.status == 0, "\(slurm.stderr)")
        let number = task.split(separator: "_").last.map(String.init) ?? "?"
        #expect(slurm.stderr.contains("array task \(number) ended without a result: submitted again"), "\(slurm.stderr)")
        let local = try Neuraxon.run(["sim", "--batch", "s.yaml", "-o", "local.csv"], folder: dir)
        #expect(local.status == 0, "\(local.stderr)")
        #expect(Neuraxon.bytes("\(dir)/slurm.csv") == Neuraxon.bytes("\(dir)/local.csv"))
    }

    @Test("A task that fails every time ends the round after the allowed resubmissions, naming its log")
    func failingTaskEndsTheRound() throws {
        let cluster = try SlurmCluster()
        defer { cluster.stop() }
        let dir = Neuraxon.folder()
        try "duration: 1\nworlds: [light]\nnetworks: [seek]\n".write(toFile: "\(dir)/s.yaml", atomically: true, encoding: .utf8)
        // A job whose log cannot be opened never runs the worker: every attempt fails at once.
        let r = try Neuraxon.run(["sim", "--batch", "s.yaml", "-o", "r.csv", "--executor", "slurm", "--max-resubmits", "1",
                                  "--sbatch-arg=--output=/nonexistent-folder/task.log"],
                                 folder: dir, environment: cluster.environment)
        #expect(r.status != 0)
        #expect(r.stderr.contains("array task 0 ended without a result 2 times"), "\(r.stderr)")
        #expect(r.stderr.contains("task-0.log"), "\(r.stderr)")
    }
}
