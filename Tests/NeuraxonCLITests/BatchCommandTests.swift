import Foundation
import Testing

/// `neuraxon sim --batch` with the local executor, `neuraxon evaluate`, and the Slurm options
/// that need no cluster (the dry run, the checks).
@Suite struct BatchCommandTests {
    static let scenario = """
        duration: 2
        worlds:
          - light
          - family: corridor
            seeds: 1-2
        networks: [seek, avoid]
        seeds: [1, 2]
        """

    @Test("A batch writes one row per run (CSV and JSON Lines) and a summary per group, and prints the summary")
    func writesTables() throws {
        let dir = CLI.folder()
        try Self.scenario.write(toFile: "\(dir)/s.yaml", atomically: true, encoding: .utf8)
        let r = try CLI.run(["sim", "--batch", "s.yaml", "-o", "r.csv"], folder: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let csv = try String(contentsOfFile: "\(dir)/r.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1 + 12)
        #expect(csv[0].hasPrefix("run,group,world,network,seed,start,duration_s,through_firmware,status,error,end_reason,"))
        #expect(csv[1].hasPrefix("0,light | seek | 2 s,light,seek,1,0,2,,ok,,"))
        let jsonl = try String(contentsOfFile: "\(dir)/r.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(jsonl.count == 12 && jsonl.allSatisfy { $0.contains("\"coverage\"") && $0.contains("\"status\":\"ok\"") })
        let summary = try String(contentsOfFile: "\(dir)/r.summary.csv", encoding: .utf8).split(separator: "\n")
        #expect(summary.count == 1 + 4)
        #expect(summary[3].hasPrefix("family corridor | seek | 2 s,4,0,"))
        #expect(r.stdout.contains("family corridor | avoid | 2 s"))
    }

    @Test("A resumed batch runs only the runs not done and ends with the same files")
    func resumes() throws {
        let dir = CLI.folder()
        try Self.scenario.write(toFile: "\(dir)/s.yaml", atomically: true, encoding: .utf8)
        #expect(try CLI.run(["sim", "--batch", "s.yaml", "-o", "r.csv"], folder: dir).status == 0)
        let full = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/r.csv"))
        // As if stopped part-way: five rows kept, the last one cut short.
        let lines = try String(contentsOfFile: "\(dir)/r.jsonl", encoding: .utf8).split(separator: "\n")
        try (lines.prefix(5).joined(separator: "\n") + "\n" + lines[5].prefix(40)).write(toFile: "\(dir)/r.jsonl", atomically: true, encoding: .utf8)
        try Data().write(to: URL(fileURLWithPath: "\(dir)/r.csv"))
        let r = try CLI.run(["sim", "--batch", "s.yaml", "-o", "r.csv", "--resume", "--workers", "1"], folder: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("5 of 12 runs done"), "\(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/r.csv")) == full)
    }

    @Test("A bad scenario is refused with its line (65), a missing one with 66, options that do not fit with 64")
    func failuresAndErrors() throws {
        let dir = CLI.folder()
        try "duration: 1\nworlds: [light]\nnetworks: [seek]\n".write(toFile: "\(dir)/ok.yaml", atomically: true, encoding: .utf8)
        try "duration: 1\nworlds: [light]\nnetworks:\n  - seek\n  - sook\n".write(toFile: "\(dir)/bad.yaml", atomically: true, encoding: .utf8)
        let bad = try CLI.run(["sim", "--batch", "bad.yaml", "-o", "b.csv"], folder: dir)
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("bad.yaml:5: `sook` is not a preset"), "\(bad.stderr)")
        let missing = try CLI.run(["sim", "--batch", "nothere.yaml", "-o", "b.csv"], folder: dir)
        #expect(missing.status == 66, "\(missing.stderr)")
        let noOutput = try CLI.run(["sim", "--batch", "ok.yaml"], folder: dir)
        #expect(noOutput.status == 64 && noOutput.stderr.contains("--batch needs -o FILE.csv"), "\(noOutput.stderr)")
        let slurmOnly = try CLI.run(["sim", "--batch", "ok.yaml", "-o", "b.csv", "--partition", "gpu"], folder: dir)
        #expect(slurmOnly.status == 64 && slurmOnly.stderr.contains("--partition applies to --executor slurm only"), "\(slurmOnly.stderr)")
    }

    @Test("A run that fails is a failed row with its reason; the others are kept and the batch exits 1")
    func failedRun() throws {
        let dir = CLI.folder()
        // A firmware that does not exist: each run through it fails, the direct runs succeed.
        try "duration: 1\nworlds: [light]\nnetworks: [seek]\nthrough_firmware: [none, host]\n".write(toFile: "\(dir)/s.yaml", atomically: true, encoding: .utf8)
        let r = try CLI.run(["sim", "--batch", "s.yaml", "-o", "r.csv"], folder: dir,
                            environment: ["NEURAXON_FIRMWARE": "\(dir)/no-such-firmware"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("failed: run 1 (light, seek, seed 1, start 0): "), "\(r.stderr)")
        #expect(r.stderr.contains("1 of 2 runs failed"))
        let csv = try String(contentsOfFile: "\(dir)/r.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv[1].contains(",ok,") && csv[2].contains(",failed,"))
    }

    @Test("--dry-run prints the job script and the sbatch command and submits nothing")
    func dryRun() throws {
        let dir = CLI.folder()
        try "duration: 1\nworlds: [light]\nnetworks: [seek]\nseeds: 1-5\n".write(toFile: "\(dir)/s.yaml", atomically: true, encoding: .utf8)
        let r = try CLI.run(["sim", "--batch", "s.yaml", "-o", "r.csv", "--executor", "slurm", "--dry-run", "--items-per-task", "2",
                             "--partition", "short", "--time-limit", "10", "--array-throttle", "4", "--sbatch-arg=--qos=low"],
                            folder: dir, environment: ["PATH": "/nonexistent"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("#SBATCH --partition=short") && r.stderr.contains("#SBATCH --time=10"), "\(r.stderr)")
        #expect(r.stderr.contains(" evaluate \"\(dir)/r.slurm/batch-round-0/chunk-$SLURM_ARRAY_TASK_ID.json\" -o "), "\(r.stderr)")
        #expect(r.stderr.contains("submit with: sbatch --parsable --array=0-2%4 --qos=low \(dir)/r.slurm/batch-round-0/job.sh"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/r.csv"))
        let evolve = try CLI.run(["evolve", "--task", "avoid", "--population", "4", "--generations", "1", "-o", "e.json",
                                  "--executor", "slurm", "--dry-run"], folder: dir, environment: ["PATH": "/nonexistent"])
        #expect(evolve.status == 0, "\(evolve.stderr)")
        #expect(evolve.stderr.contains("submit with: sbatch --parsable --array=0 \(dir)/e.json.slurm/generation-0/job.sh"), "\(evolve.stderr)")
    }

    @Test("Without sbatch the Slurm executor says what to install (69)")
    func noSlurm() throws {
        let dir = CLI.folder()
        try "duration: 1\nworlds: [light]\nnetworks: [seek]\n".write(toFile: "\(dir)/s.yaml", atomically: true, encoding: .utf8)
        let r = try CLI.run(["sim", "--batch", "s.yaml", "-o", "r.csv", "--executor", "slurm"], folder: dir, environment: ["PATH": "/nonexistent"])
        #expect(r.status == 69, "\(r.stderr)")
        #expect(r.stderr.contains("error: sbatch: not found on PATH; install the Slurm client"), "\(r.stderr)")
    }

    @Test("neuraxon evaluate runs a chunk's items and writes their outcomes; a damaged chunk is refused (65)")
    func worker() throws {
        let dir = CLI.folder()
        try "duration: 1\nworlds: [light]\nnetworks: [seek]\nseeds: 1-3\n".write(toFile: "\(dir)/s.yaml", atomically: true, encoding: .utf8)
        #expect(try CLI.run(["sim", "--batch", "s.yaml", "-o", "r.csv", "--executor", "slurm", "--dry-run"], folder: dir,
                             environment: ["PATH": "/nonexistent"]).status == 0)
        let chunk = "\(dir)/r.slurm/batch-round-0/chunk-0.json"
        let r = try CLI.run(["evaluate", chunk, "-o", "\(dir)/result.json"], folder: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let result = try String(contentsOfFile: "\(dir)/result.json", encoding: .utf8)
        #expect(result.contains("\"format\":\"neuraxon-work-result\"") && result.components(separatedBy: "\"end_reason\"").count == 4)
        try "{\"format\": \"neuraxon-work-chunk\", \"version\": 1}".write(toFile: "\(dir)/bad.json", atomically: true, encoding: .utf8)
        let bad = try CLI.run(["evaluate", "\(dir)/bad.json", "-o", "\(dir)/x.json"], folder: dir)
        #expect(bad.status == 65 && bad.stderr.contains("bad.json: is not a work file this program wrote (missing field kind)"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/x.json"))
    }
}
