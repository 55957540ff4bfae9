// NeuraxonEvolution — Aigarth-style evolution of Neuraxon networks.
// Licence: MIT with the Aigarth licence restrictions (no military or dual-use applications);
// see Sources/NeuraxonEvolution/NOTICE.

import Neuraxon

/// One evaluation as data, so that another process or machine can run it: genome `individual`
/// of the population on trial `trial` with the trial's seed. Its score is exactly what the
/// in-process evaluator computes: `task.fitness(of: genome.network(seed: seed), trial:, seed:)`.
public struct EvaluationJob: Codable, Sendable, Equatable {
    public var individual: Int
    public var trial: Int
    public var seed: UInt64
    public var genome: Genome

    public init(individual: Int, trial: Int, seed: UInt64, genome: Genome) {
        self.individual = individual
        self.trial = trial
        self.seed = seed
        self.genome = genome
    }

    /// The job's score on `task` (not checked for finiteness: the evaluator does that).
    public func score(with task: some FitnessTask) throws -> Double {
        try task.fitness(of: try genome.network(seed: seed), trial: trial, seed: seed)
    }
}

/// Where a generation's evaluations run when not on this process's threads (e.g. a Slurm job
/// array whose workers rebuild the task from its `name`).
public protocol EvaluationBackend: Sendable {
    /// For each job, in order, its score or why it failed (worded for users).
    /// - Throws: `EvolutionError` when the jobs could not be run at all.
    func run(_ jobs: [EvaluationJob], taskName: String, generation: Int) throws(EvolutionError) -> [JobScore]
}

/// A job's score, or why it failed.
public enum JobScore: Sendable, Equatable {
    case score(Double)
    case failed(String)
}

extension Evaluator {
    /// The fitness of every genome, evaluated by `backend`: the same jobs, seeds, checks and
    /// trial-order means as the in-process evaluation, so the result is bit-identical to it.
    func evaluate(_ population: [Genome], task: some FitnessTask, runSeed: UInt64, generation: Int,
                  on backend: any EvaluationBackend) throws(EvolutionError) -> [Double] {
        let trials = max(1, task.trials)
        var jobs: [EvaluationJob] = []
        jobs.reserveCapacity(population.count * trials)
        for individual in population.indices {
            for trial in 0..<trials {
                jobs.append(EvaluationJob(individual: individual, trial: trial,
                                          seed: EvolutionRandom.evaluationSeed(run: runSeed, generation: generation, trial: trial),
                                          genome: population[individual]))
            }
        }
        let results = try backend.run(jobs, taskName: task.name, generation: generation)
        guard results.count == jobs.count else {
            throw .fitnessFailed(generation: generation, individual: 0, trial: 0,
                                 message: "the evaluation backend returned \(results.count) scores for \(jobs.count) jobs")
        }
        var scores = [Double](repeating: 0, count: jobs.count)
        for (i, (job, result)) in zip(jobs, results).enumerated() {
            switch result {
            case .score(let s) where s.isFinite: scores[i] = s
            case .score(let s): throw .fitnessNotFinite(generation: generation, individual: job.individual, trial: job.trial, value: s)
            case .failed(let message):
                throw .fitnessFailed(generation: generation, individual: job.individual, trial: job.trial, message: message)
            }
        }
        return (0..<population.count).map { i in
            var sum = 0.0
            for t in 0..<trials { sum += scores[i * trials + t] }
            return sum / Double(trials)
        }
    }
}
