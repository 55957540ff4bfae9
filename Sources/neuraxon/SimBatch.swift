import ArgumentParser
import Foundation
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonExecutors

/// `neuraxon sim --batch scenarios.yaml -o results.csv`: a scenario matrix expanded to runs,
/// run through an executor, with the results table, its JSON Lines and the summary per group.
struct BatchOptions: ParsableArguments {
    @Option(help: "Run every scenario of this file (YAML: worlds or families × networks × seeds × starts × durations; Docs/SCALING.md) instead of one run.")
    var batch: String?

    @Option(name: [.customShort("o"), .long], help: "With --batch: the results table (CSV); FILE.jsonl (every metric) and FILE.summary.csv (per group) go beside it.")
    var output: String?

    @Flag(help: "With --batch: keep the runs already done in the results (FILE.jsonl) and run only the others.")
    var resume = false

    @Option(parsing: .unconditional, help: "With --batch and --executor local: threads that run (default: one per core).")
    var workers: Int?

    @OptionGroup var executor: ExecutorOptions

    func validate() throws {
        if batch == nil {
            if output != nil || resume || workers != nil || executor.executor != .local {
                throw ValidationError("-o, --resume, --workers and --executor go with --batch FILE")
            }
            return
        }
        guard output != nil else { throw ValidationError("--batch needs -o FILE.csv for the results table") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
    }

    /// Runs the batch.
    func run() throws {
        guard let batch, let output else { return }
        let stop = StopSignals(notice: "stopping after this round of runs; the results so far are kept")
        let jsonl = BatchTable.jsonLinesPath(for: output), summary = BatchTable.summaryPath(for: output)
        var files = FilePlan()
        files.input(batch, "the scenario file")
        files.output(output, "-o")
        files.output(jsonl, "the results' JSON Lines beside -o")
        files.output(summary, "the summary beside -o")
        try files.check()
        let scenario: BatchScenario
        do { scenario = try BatchScenario(contentsOf: batch) } catch let e as ScenarioError { throw CommandError.dataError(e.description) }
        let runs = scenario.runs()
        let done = resume ? BatchTable.readJSONLines(jsonl) : []
        let stem = output.hasSuffix(".csv") ? String(output.dropLast(4)) : output
        let settings = executor.slurmSettings(defaultWorkDirectory: stem + ".slurm")
        let chosen = executor.make(defaultWorkDirectory: stem + ".slurm", workers: workers)
        let roundSize = settings.map { $0.itemsPerTask * 256 } ?? 64
        printError("batch: \(runs.count) runs from \(batch), executor \(chosen.summary)")
        let rows: [BatchRow]
        do {
            rows = try BatchRunner.run(runs, executor: chosen, done: done, roundSize: roundSize,
                                       save: { try BatchTable(rows: $0).write(csv: output) },
                                       progress: { finished, total in printError("\(finished) of \(total) runs done") },
                                       shouldContinue: { !stop.isRequested })
        } catch let error as ExecutorError {
            throw ExecutorOptions.commandError(error)
        }
        let table = BatchTable(rows: rows)
        try table.write(csv: output)
        print(table.summaryText)
        for row in table.failures {
            printError("failed: run \(row.run.index) (\(row.run.world.label), \(row.run.network.name), seed \(row.run.seed), start \(row.run.start)): \(row.error ?? "")")
        }
        print("results: \(output), \(jsonl), summary: \(summary)")
        if rows.count < runs.count {
            printError("\(stop.cause ?? "stopped") with \(rows.count) of \(runs.count) runs done; continue with the same command and --resume")
            try stop.exitIfStopped()
        }
        if !table.failures.isEmpty {
            printError("\(table.failures.count) of \(rows.count) runs failed")
            throw ExitCode.failure
        }
    }
}
