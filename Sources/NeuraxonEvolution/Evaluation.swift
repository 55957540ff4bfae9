// NeuraxonEvolution — Aigarth-style evolution of Neuraxon networks.
// Licence: MIT with the Aigarth licence restrictions (no military or dual-use applications);
// see Sources/NeuraxonEvolution/NOTICE.

import Dispatch
import Foundation
import Neuraxon

/// What evolution optimises. A task scores one network on one trial (a world, a start pose, a
/// noise seed — whatever the task means by it); a genome's fitness is the mean of its scores over
/// `trials` trials, so it cannot overfit one run. Higher is better.
///
/// `fitness` is called concurrently from several threads, each time with a network of its own;
/// it must not share mutable state between calls. Given the same network, trial and seed it must
/// return the same value, which makes a run reproducible.
public protocol FitnessTask: Sendable {
    /// A name saved in checkpoints, so a run resumes only with the task it was started with.
    var name: String { get }
    /// How many trials each genome is scored on, ≥ 1.
    var trials: Int { get }
    /// The score of `network` on trial `trial` (0..<trials). `seed` is the trial's seed for this
    /// generation, the same for every individual (see `EvolutionRandom.evaluationSeed`) and also
    /// the seed of the network's own random generator; derive the trial's world and noise from
    /// `trial` and `seed` only.
    func fitness(of network: NeuraxonNetwork, trial: Int, seed: UInt64) throws -> Double
    /// How many validation trials there are: a fixed set, the same every generation and kept
    /// apart from the training trials, on which a run chooses the best genome it keeps
    /// (0: none; the best is then chosen on fresh training trials).
    var validationTrials: Int { get }
    /// The score of `network` on validation trial `trial` (0..<validationTrials), with `seed`
    /// the network's seed. The same for every generation.
    func validationScore(of network: NeuraxonNetwork, trial: Int) throws -> Double
}

extension FitnessTask {
    public var validationTrials: Int { 0 }
    public func validationScore(of network: NeuraxonNetwork, trial: Int) throws -> Double { 0 }
}

/// A fitness task from a closure.
public struct FitnessFunction: FitnessTask {
    public let name: String
    public let trials: Int
    public let validationTrials: Int
    let body: @Sendable (NeuraxonNetwork, Int, UInt64) throws -> Double
    let validation: @Sendable (NeuraxonNetwork, Int) throws -> Double

    /// - Parameters:
    ///   - validationTrials: how many validation trials `validation` scores (0: none).
    ///   - validation: the score on validation trial `trial`.
    public init(name: String, trials: Int, validationTrials: Int = 0,
                validation: @escaping @Sendable (NeuraxonNetwork, Int) throws -> Double = { _, _ in 0 },
                _ body: @escaping @Sendable (NeuraxonNetwork, Int, UInt64) throws -> Double) {
        self.name = name
        self.trials = trials
        self.validationTrials = validationTrials
        self.body = body
        self.validation = validation
    }

    public func fitness(of network: NeuraxonNetwork, trial: Int, seed: UInt64) throws -> Double {
        try body(network, trial, seed)
    }

    public func validationScore(of network: NeuraxonNetwork, trial: Int) throws -> Double {
        try validation(network, trial)
    }
}

/// Scores a population in parallel. Each (individual, trial) evaluation is an independent job:
/// it builds its own network from the genome with the trial's seed
/// `EvolutionRandom.evaluationSeed(run:generation:trial:)` and writes its score into its own
/// slot; workers take jobs from a shared counter. A genome's fitness is then
/// (score₀ + … + score_{T−1}) / T, summed in trial order on the calling thread, so the result is
/// bit-identical for any number of workers.
public struct Evaluator: Sendable {
    /// How many threads evaluate; 1 evaluates on the calling thread.
    public let workers: Int
    /// Where evaluations run instead of this process's threads (nil: here); see `EvaluationBackend`.
    public var backend: (any EvaluationBackend)?

    /// - Parameter workers: threads to use; nil means one per active processor core.
    public init(workers: Int? = nil) {
        self.workers = max(1, workers ?? ProcessInfo.processInfo.activeProcessorCount)
    }

    /// The fitness of every genome, in population order.
    /// - Throws: `EvolutionError.fitnessFailed` / `.fitnessNotFinite` for the first failing
    ///   evaluation in (individual, trial) order.
    public func evaluate(_ population: [Genome], task: some FitnessTask, runSeed: UInt64,
                         generation: Int) throws(EvolutionError) -> [Double] {
        if let backend { return try evaluate(population, task: task, runSeed: runSeed, generation: generation, on: backend) }
        return try scores(population, trials: max(1, task.trials), generation: generation) { genome, trial in
            let seed = EvolutionRandom.evaluationSeed(run: runSeed, generation: generation, trial: trial)
            return try task.fitness(of: try genome.network(seed: seed), trial: trial, seed: seed)
        }
    }

    /// The mean score of every genome over the task's validation trials, in population order
    /// (each network seeded with `EvolutionRandom.validationSeed(trial:)`); all 0 when the task
    /// has none. Reported errors name generation `generation`.
    public func validate(_ population: [Genome], task: some FitnessTask, generation: Int) throws(EvolutionError) -> [Double] {
        guard task.validationTrials > 0 else { return population.map { _ in 0 } }
        return try scores(population, trials: task.validationTrials, generation: generation) { genome, trial in
            try task.validationScore(of: try genome.network(seed: EvolutionRandom.validationSeed(trial: trial)), trial: trial)
        }
    }

    /// Runs `score` for every (genome, trial) pair on the workers and averages each genome's
    /// scores in trial order.
    private func scores(_ population: [Genome], trials: Int, generation: Int,
                        _ score: @escaping @Sendable (Genome, Int) throws -> Double) throws(EvolutionError) -> [Double] {
        let jobs = population.count * trials
        let board = JobBoard(count: jobs)
        defer { board.release() }
        let work: @Sendable (Int) -> Void = { job in
            let individual = job / trials, trial = job % trials
            do {
                let score = try score(population[individual], trial)
                guard score.isFinite else {
                    board.fail(job, .fitnessNotFinite(generation: generation, individual: individual, trial: trial, value: score))
                    return
                }
                board.scores[job] = score
            } catch {
                board.fail(job, .fitnessFailed(generation: generation, individual: individual, trial: trial,
                                               message: "\(error)"))
            }
        }
        let threads = min(workers, jobs)
        if threads <= 1 {
            for job in 0..<jobs { work(job) }
        } else {
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                while let job = board.take() { work(job) }
            }
        }
        if let failure = board.firstFailure { throw failure }
        return (0..<population.count).map { i in
            var sum = 0.0
            for t in 0..<trials { sum += board.scores[i * trials + t] }
            return sum / Double(trials)
        }
    }
}

/// The shared state of one evaluation round: a slot per job, written by exactly one worker, and
/// a lock-protected counter and failure list.
private final class JobBoard: @unchecked Sendable {
    let scores: UnsafeMutableBufferPointer<Double>
    private let count: Int
    private var next = 0
    private var failures: [(job: Int, error: EvolutionError)] = []
    private let lock = NSLock()

    init(count: Int) {
        self.count = count
        scores = .allocate(capacity: count)
        scores.initialize(repeating: 0)
    }

    func release() { scores.deallocate() }

    /// The next job to run, or nil when all are taken.
    func take() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < count else { return nil }
        next += 1
        return next - 1
    }

    func fail(_ job: Int, _ error: EvolutionError) {
        lock.lock()
        failures.append((job, error))
        lock.unlock()
    }

    /// The failure of the lowest-numbered job, whatever order threads reported in.
    var firstFailure: EvolutionError? {
        lock.lock()
        defer { lock.unlock() }
        return failures.min { $0.job < $1.job }?.error
    }
}
