// `neuraxon evaluate` runs evolution's evaluations too: NeuraxonEvolution and
// NeuraxonEvolutionTasks are MIT with the Aigarth licence restrictions (no military or dual-use
// applications); see Sources/NeuraxonEvolution/NOTICE.

import ArgumentParser
import Foundation
import NeuraxonEmbodiment
import NeuraxonEvolution
import NeuraxonEvolutionTasks
import NeuraxonExecutors

/// `neuraxon evaluate CHUNK -o RESULT`: the worker an array task of the Slurm executor runs.
/// Reads a chunk file of work items, runs them in order and writes their outcomes atomically.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Run the work items of one chunk file (the worker of --executor slurm).",
        discussion: """
            Reads CHUNK (written by `neuraxon evolve` or `neuraxon sim --batch` with --executor slurm), \
            runs every item in order on one core and writes their outcomes to RESULT atomically: the \
            result file is whole or absent. An item that fails is an outcome with its reason, not an \
            error; the exit status is 0 unless the chunk cannot be read or the result cannot be written. \
            See Docs/SCALING.md.
            """,
        shouldDisplay: false
    )

    @Argument(help: "The chunk file (JSON).")
    var chunk: String

    @Option(name: [.customShort("o"), .long], help: "Where to write the outcomes (JSON).")
    var output: String

    func run() throws {
        do {
            let kind = try Worker.kind(ofChunk: chunk)
            switch kind {
            case BatchRunner.work.name: try Worker.perform(BatchRunner.work, chunk: chunk, result: output)
            case WorkKinds.evolution.name: try Worker.perform(WorkKinds.evolution, chunk: chunk, result: output)
            default: throw ExecutorError.unknownKind(path: chunk, kind: kind)
            }
        } catch let error as ExecutorError {
            if case .file(let path, _) = error, path == chunk { throw CommandError.dataError(error.description) }
            throw ExecutorOptions.commandError(error)
        }
    }
}

/// The kinds of work only the command line can run, because they join several libraries.
enum WorkKinds {
    /// Evolution's evaluations: the context is the task's saved name, from which every worker
    /// rebuilds the same task (`SimulatorTask(savedName:)`).
    static let evolution = WorkKind<String, EvaluationJob, Double>(name: "evolution-trial") { taskName, job in
        try job.score(with: try SimulatorTask(savedName: taskName))
    }
}

/// Evolution's evaluations through an executor: one round per call, `generation-N` (and
/// `generation-N-2`, … when a generation evaluates again, e.g. its elite on fresh trials).
/// An executor's own error (the scheduler refused, a task kept failing) cannot travel through
/// evolution's typed errors; it is kept here and thrown in their place (`rethrow`).
final class ExecutorEvaluation: EvaluationBackend, @unchecked Sendable {
    let executor: any Executor
    private let lock = NSLock()
    private var executorError: ExecutorError?
    private var rounds: [Int: Int] = [:]

    init(_ executor: any Executor) { self.executor = executor }

    func run(_ jobs: [EvaluationJob], taskName: String, generation: Int) throws(EvolutionError) -> [JobScore] {
        lock.lock()
        let round = rounds[generation, default: 0] + 1
        rounds[generation] = round
        lock.unlock()
        let label = "generation-\(generation)" + (round == 1 ? "" : "-\(round)")
        do {
            return try executor.run(WorkKinds.evolution, context: taskName, items: jobs, label: label).map { outcome in
                outcome.value.map(JobScore.score) ?? .failed(outcome.error ?? "no result")
            }
        } catch {
            lock.lock()
            executorError = error
            lock.unlock()
            throw .fitnessFailed(generation: generation, individual: 0, trial: 0, message: error.description)
        }
    }

    /// Runs `body`; an evolution error caused by the executor becomes the executor's own error.
    func rethrow<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch {
            lock.lock()
            let cause = executorError
            lock.unlock()
            if let cause { throw ExecutorOptions.commandError(cause) }
            throw error
        }
    }
}
