// NeuraxonEvolution — Aigarth-style evolution of Neuraxon networks.
// Licence: MIT with the Aigarth licence restrictions (no military or dual-use applications);
// see Sources/NeuraxonEvolution/NOTICE.

import Dispatch
import Foundation
import Neuraxon

/// The settings of a run.
public struct EvolutionSettings: Sendable, Equatable, Codable {
    /// The run seed: it seeds the breeding generator and, with the generation and the trial,
    /// every evaluation (see `EvolutionRandom.evaluationSeed`).
    public var seed: UInt64
    /// Individuals per generation, 2…100000.
    public var populationSize: Int
    /// Generations to evaluate in all, ≥ 1 (a resumed run may raise it).
    public var generations: Int
    public var selection = SelectionSettings()
    public var mutation = MutationSettings()
    /// How many of each generation's fittest genomes are scored again, on fresh trials the
    /// generation was not selected on and on the task's validation trials, before one of them
    /// may become the run's best (0…population; 0: the best is the fittest genome of any
    /// generation on its own generation's trials, which favours lucky draws).
    public var eliteReevaluation = 3

    public init(seed: UInt64 = 1, populationSize: Int = 32, generations: Int = 50) {
        self.seed = seed
        self.populationSize = populationSize
        self.generations = generations
    }

    enum CodingKeys: String, CodingKey {
        case seed, populationSize = "population_size", generations, selection, mutation
        case eliteReevaluation = "elite_reevaluation"
    }

    /// Reads settings; a checkpoint written before `elite_reevaluation` existed resumes with 0,
    /// exactly as it ran.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        seed = try c.decode(UInt64.self, forKey: .seed)
        populationSize = try c.decode(Int.self, forKey: .populationSize)
        generations = try c.decode(Int.self, forKey: .generations)
        selection = try c.decode(SelectionSettings.self, forKey: .selection)
        mutation = try c.decode(MutationSettings.self, forKey: .mutation)
        eliteReevaluation = try c.decodeIfPresent(Int.self, forKey: .eliteReevaluation) ?? 0
    }

    /// Throws the first setting out of range.
    public func validate() throws(EvolutionError) {
        guard (2...100_000).contains(populationSize) else {
            throw .invalidSettings(field: "population", value: "\(populationSize)", fix: "use 2…100000 individuals")
        }
        guard generations >= 1 else {
            throw .invalidSettings(field: "generations", value: "\(generations)", fix: "use at least 1 generation")
        }
        guard (0...populationSize).contains(eliteReevaluation) else {
            throw .invalidSettings(field: "elite re-evaluation", value: "\(eliteReevaluation)",
                                   fix: "re-evaluate 0…\(populationSize) genomes (the population)")
        }
        try selection.validate(populationSize: populationSize)
        try mutation.validate()
    }
}

/// One generation's numbers, also one line of the generation log (JSON Lines).
public struct GenerationStatistics: Sendable, Equatable, Codable {
    /// The generation evaluated (0 is the initial population).
    public var generation: Int
    /// Best, mean and worst fitness of the generation.
    public var best: Double
    public var mean: Double
    public var worst: Double
    /// The score the run's best so far was kept for, this generation included: its mean over
    /// the validation trials when the task has them, else over fresh trials
    /// (`EvolutionSettings.eliteReevaluation`), else its generation's fitness.
    public var bestSoFar: Double
    /// Of this generation's re-evaluated elite, the one chosen (best on validation, else on fresh
    /// trials): its mean over fresh trials and over the validation trials (nil when not measured).
    public var eliteFresh: Double?
    public var eliteValidation: Double?
    /// The index of this generation's best individual.
    public var bestIndividual: Int
    /// Mean hidden neurons and synapses per genome.
    public var meanHiddenNeurons: Double
    public var meanSynapses: Double
    /// Evaluations (individuals × trials) in this generation.
    public var evaluations: Int
    /// Evaluations of the elite again (elite × (trials + validation trials)); nil in a log
    /// line written before the elite was re-evaluated.
    public var reevaluations: Int?
    /// Wall-clock seconds for the generation (evaluation and breeding), and evaluations per
    /// second of it.
    public var seconds: Double
    public var evaluationsPerSecond: Double
    /// Seconds the remaining generations should take at this process's mean pace so far.
    public var estimatedSecondsLeft: Double

    enum CodingKeys: String, CodingKey {
        case generation, best, mean, worst, evaluations, reevaluations, seconds
        case bestSoFar = "best_so_far"
        case bestIndividual = "best_individual"
        case meanHiddenNeurons = "mean_hidden_neurons"
        case meanSynapses = "mean_synapses"
        case evaluationsPerSecond = "evaluations_per_second"
        case estimatedSecondsLeft = "estimated_seconds_left"
        case eliteFresh = "elite_fresh"
        case eliteValidation = "elite_validation"
    }

    /// The statistics without the wall-clock fields (which differ from run to run).
    public var withoutTiming: GenerationStatistics {
        var copy = self
        copy.seconds = 0
        copy.evaluationsPerSecond = 0
        copy.estimatedSecondsLeft = 0
        return copy
    }
}

/// Everything a run is, between two generations; exactly what a checkpoint holds.
public struct EvolutionState: Sendable, Equatable {
    public internal(set) var settings: EvolutionSettings
    /// The fitness task's name.
    public internal(set) var taskName: String
    /// The next generation to evaluate; the run is finished when it reaches
    /// `settings.generations`.
    public internal(set) var generation: Int
    /// The population of generation `generation`, not yet evaluated.
    public internal(set) var population: [Genome]
    /// The breeding generator, as it stands before breeding generation `generation` + 1.
    public internal(set) var random: EvolutionRandom
    /// The best genome evaluated so far, the score it was kept for (see
    /// `GenerationStatistics.bestSoFar`) and its generation (nil before the first generation).
    /// Ties keep the earlier one.
    public internal(set) var best: Genome?
    public internal(set) var bestFitness: Double?
    public internal(set) var bestGeneration: Int?
}

/// A run of evolution: evaluate the population in parallel, log the generation, breed the next
/// one, checkpoint; repeat.
///
/// ```swift
/// let run = try EvolutionRun(settings: settings, task: task,
///                            initialPopulation: try EvolutionRun.population(descendingFrom: ancestor, settings: settings),
///                            checkpointPath: "evolve.checkpoint.json", logPath: "evolve.jsonl")
/// try run.run { stats in print(stats.generation, stats.best) }
/// try run.saveBest(to: "best.json")
/// // after an interrupt:
/// let resumed = try EvolutionRun.resume(checkpointPath: "evolve.checkpoint.json", task: task, logPath: "evolve.jsonl")
/// ```
///
/// Reproducible: the next generation is a pure function of the state (the population, the
/// breeding generator) and the fitness values, and every fitness value is a pure function of a
/// genome and its evaluation seed. So the same settings and task give the same run on any number
/// of cores, and a run resumed from a checkpoint continues exactly as if never interrupted.
public final class EvolutionRun {
    public private(set) var state: EvolutionState
    public let task: any FitnessTask
    public let evaluator: Evaluator
    /// Where a checkpoint is written after every generation (nil: none).
    public let checkpointPath: String?
    /// Where one JSON line per generation is appended (nil: none).
    public let logPath: String?
    /// The statistics of the generations this object ran.
    public private(set) var history: [GenerationStatistics] = []

    /// The value of `format` in a checkpoint file, and its version.
    public static let checkpointFormat = "neuraxon-evolution-checkpoint"
    public static let checkpointVersion = 1

    /// A new run from generation 0. The log, if any, starts empty.
    /// - Throws: `EvolutionError` for bad settings, a population of the wrong size, genomes
    ///   whose inputs or outputs differ, or a log that cannot be written.
    public init(settings: EvolutionSettings, task: any FitnessTask, initialPopulation: [Genome],
                evaluator: Evaluator = Evaluator(), checkpointPath: String? = nil, logPath: String? = nil) throws(EvolutionError) {
        try settings.validate()
        try Self.checkTask(task)
        guard initialPopulation.count == settings.populationSize else {
            throw .invalidSettings(field: "initial population", value: "\(initialPopulation.count) genomes",
                                   fix: "give exactly population = \(settings.populationSize) genomes")
        }
        try Self.checkShapes(initialPopulation)
        state = EvolutionState(settings: settings, taskName: task.name, generation: 0, population: initialPopulation,
                               random: EvolutionRandom(seed: settings.seed), best: nil, bestFitness: nil, bestGeneration: nil)
        self.task = task
        self.evaluator = evaluator
        self.checkpointPath = checkpointPath
        self.logPath = logPath
        if let logPath { try Files.replaceAtomically(logPath, with: []) }
    }

    private init(state: EvolutionState, task: any FitnessTask, evaluator: Evaluator, checkpointPath: String?, logPath: String?) {
        self.state = state
        self.task = task
        self.evaluator = evaluator
        self.checkpointPath = checkpointPath
        self.logPath = logPath
    }

    /// Continues a run from its checkpoint, with the same task (checked by name). Later
    /// checkpoints go to the same file. The log keeps its lines for the generations before the
    /// checkpoint and drops any later ones (written just before an interruption), so it ends up
    /// as if the run had never stopped.
    /// - Parameter generations: a new total number of generations, to extend a finished run.
    public static func resume(checkpointPath: String, task: any FitnessTask, evaluator: Evaluator = Evaluator(),
                              logPath: String? = nil, generations: Int? = nil) throws(EvolutionError) -> EvolutionRun {
        var state = try loadCheckpoint(checkpointPath)
        guard state.taskName == task.name else {
            throw .checkpointMismatch(field: "task", checkpoint: state.taskName, requested: task.name)
        }
        try checkTask(task)
        if let generations {
            guard generations >= state.generation else {
                throw .invalidSettings(field: "generations", value: "\(generations)",
                                       fix: "the checkpoint has already evaluated \(state.generation); ask for at least that many")
            }
            state.settings.generations = generations
        }
        if let logPath { try trimLog(logPath, before: state.generation) }
        return EvolutionRun(state: state, task: task, evaluator: evaluator, checkpointPath: checkpointPath, logPath: logPath)
    }

    /// Whether every generation has been evaluated.
    public var isFinished: Bool { state.generation >= state.settings.generations }

    /// Runs generations until the run is finished or `shouldContinue` returns false (asked
    /// before each generation; an interrupted run resumes from its last checkpoint).
    public func run(progress: (GenerationStatistics) -> Void = { _ in },
                    shouldContinue: () -> Bool = { true }) throws(EvolutionError) {
        while !isFinished, shouldContinue() {
            progress(try step())
        }
    }

    /// Evaluates the current generation, records the best so far, appends the log line, breeds
    /// the next generation and writes the checkpoint. The new state is committed only once the
    /// checkpoint is written; after an error the run stands where it stood.
    @discardableResult
    public func step() throws(EvolutionError) -> GenerationStatistics {
        let started = DispatchTime.now().uptimeNanoseconds
        var next = state
        let g = next.generation
        let fitness = try evaluator.evaluate(next.population, task: task, runSeed: next.settings.seed, generation: g)
        let ranked = Selection.ranking(fitness)
        let top = ranked[0]
        var eliteFresh: Double?, eliteValidation: Double?
        let eliteCount = min(next.settings.eliteReevaluation, ranked.count)
        if eliteCount > 0 {
            // The elite again, on trials it was not selected on; kept by validation if any.
            let elite = ranked.prefix(eliteCount).map { next.population[$0] }
            let fresh = try evaluator.evaluate(elite, task: task, runSeed: EvolutionRandom.freshRunSeed(next.settings.seed),
                                               generation: g)
            let validation = task.validationTrials > 0 ? try evaluator.validate(elite, task: task, generation: g) : nil
            let kept = validation ?? fresh
            var chosen = 0
            for j in 1..<eliteCount where kept[j] > kept[chosen] { chosen = j }
            eliteFresh = fresh[chosen]
            eliteValidation = validation?[chosen]
            if next.bestFitness.map({ kept[chosen] > $0 }) ?? true {
                next.best = elite[chosen]
                next.bestFitness = kept[chosen]
                next.bestGeneration = g
            }
        } else if next.bestFitness.map({ fitness[top] > $0 }) ?? true {
            next.best = next.population[top]
            next.bestFitness = fitness[top]
            next.bestGeneration = g
        }
        let count = Double(fitness.count)
        var stats = GenerationStatistics(
            generation: g, best: fitness[top], mean: fitness.reduce(0, +) / count, worst: fitness[ranked[ranked.count - 1]],
            bestSoFar: next.bestFitness ?? fitness[top], eliteFresh: eliteFresh, eliteValidation: eliteValidation,
            bestIndividual: top,
            meanHiddenNeurons: Double(next.population.reduce(0) { $0 + $1.hiddenCount }) / count,
            meanSynapses: Double(next.population.reduce(0) { $0 + $1.genes.count }) / count,
            evaluations: fitness.count * max(1, task.trials),
            reevaluations: eliteCount * (max(1, task.trials) + task.validationTrials), seconds: 0, evaluationsPerSecond: 0, estimatedSecondsLeft: 0)
        next.population = try Selection.nextGeneration(next.population, fitness: fitness, selection: next.settings.selection,
                                                       mutation: next.settings.mutation, using: &next.random)
        next.generation = g + 1
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        stats.seconds = seconds
        stats.evaluationsPerSecond = seconds > 0 ? Double(stats.evaluations + (stats.reevaluations ?? 0)) / seconds : 0
        let pace = (history.reduce(0) { $0 + $1.seconds } + seconds) / Double(history.count + 1)
        stats.estimatedSecondsLeft = pace * Double(next.settings.generations - next.generation)
        // Log first, then checkpoint: a crash in between leaves a log line for a generation the
        // checkpoint has not recorded, which `resume` drops before running it again.
        if let logPath { try Files.appendLine(logPath, Self.logLine(stats)) }
        if let checkpointPath { try Self.writeCheckpoint(next, to: checkpointPath) }
        state = next
        history.append(stats)
        return stats
    }

    /// Saves the best genome so far as an ordinary network file, with the run's seed as the
    /// network's seed and the run's facts in its metadata.
    /// - Throws: `EvolutionError.invalidSettings` before the first generation has been evaluated.
    public func saveBest(to path: String) throws(EvolutionError) {
        guard let best = state.best, let fitness = state.bestFitness, let generation = state.bestGeneration else {
            throw .invalidSettings(field: "best genome", value: "none yet", fix: "run at least one generation first")
        }
        try best.save(to: path, seed: state.settings.seed, metadata: [
            "evolution.task": state.taskName,
            "evolution.seed": "\(state.settings.seed)",
            "evolution.generation": "\(generation)",
            "evolution.fitness": "\(fitness)",
            "evolution.licence": "evolved with NeuraxonEvolution: MIT with the Aigarth licence restrictions "
                + "(no military or dual-use applications); see Sources/NeuraxonEvolution/NOTICE",
        ])
    }

    // MARK: Starting populations

    /// `settings.populationSize` genomes: `ancestor` itself, then mutants of it, drawn from a
    /// generator seeded by the run seed (kept apart from the breeding generator).
    public static func population(descendingFrom ancestor: Genome, settings: EvolutionSettings) throws(EvolutionError) -> [Genome] {
        try settings.validate()
        var rng = EvolutionRandom(seed: EvolutionRandom.mix(settings.seed ^ 0x5EED_0F_A_9E0E))
        return [ancestor] + (1..<settings.populationSize).map { _ in ancestor.mutated(settings.mutation, using: &rng) }
    }

    /// `settings.populationSize` random genomes (see `Genome.random`), drawn from a generator
    /// seeded by the run seed (kept apart from the breeding generator).
    public static func randomPopulation(template: NetworkParameters, inputs: Int, hidden: Int, outputs: Int,
                                        connectionProbability: Double, settings: EvolutionSettings) throws(EvolutionError) -> [Genome] {
        try settings.validate()
        var rng = EvolutionRandom(seed: EvolutionRandom.mix(settings.seed ^ 0x5EED_0F_A_9E0E))
        var genomes: [Genome] = []
        for _ in 0..<settings.populationSize {
            genomes.append(try Genome.random(template: template, inputs: inputs, hidden: hidden, outputs: outputs,
                                             connectionProbability: connectionProbability,
                                             step: settings.mutation.weightStep, using: &rng))
        }
        return genomes
    }

    // MARK: Checkpoints

    /// The checkpoint file's layout.
    struct Checkpoint: Codable {
        var format: String
        var version: Int
        var task: String
        var settings: EvolutionSettings
        var generation: Int
        /// The breeding generator's four words, as 16-digit hex.
        var random: [String]
        var population: [Genome]
        var best: Genome?
        var bestFitness: Double?
        var bestGeneration: Int?

        enum CodingKeys: String, CodingKey {
            case format, version, task, settings, generation, random, population, best
            case bestFitness = "best_fitness"
            case bestGeneration = "best_generation"
        }
    }

    /// Writes the whole state atomically (temporary file, flush, rename).
    public func writeCheckpoint(to path: String) throws(EvolutionError) { try Self.writeCheckpoint(state, to: path) }

    static func writeCheckpoint(_ state: EvolutionState, to path: String) throws(EvolutionError) {
        let checkpoint = Checkpoint(
            format: checkpointFormat, version: checkpointVersion, task: state.taskName, settings: state.settings,
            generation: state.generation,
            random: state.random.state.map { word in
                let hex = String(word, radix: 16)
                return String(repeating: "0", count: 16 - hex.count) + hex
            },
            population: state.population, best: state.best, bestFitness: state.bestFitness,
            bestGeneration: state.bestGeneration)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do { data = try encoder.encode(checkpoint) } catch {
            throw .file(path: path, message: "cannot encode the checkpoint: \(error)")
        }
        try Files.replaceAtomically(path, with: Array(data))
    }

    /// Reads and checks a checkpoint.
    public static func loadCheckpoint(_ path: String) throws(EvolutionError) -> EvolutionState {
        guard let bytes = try Files.read(path) else {
            throw .file(path: path, message: "no such checkpoint; start a new run without resuming")
        }
        let c: Checkpoint
        do {
            c = try JSONDecoder().decode(Checkpoint.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw .invalidCheckpoint(location: path, reason: describe(error))
        } catch {
            throw .invalidCheckpoint(location: path, reason: "\(error)")
        }
        guard c.format == checkpointFormat else {
            throw .invalidCheckpoint(location: "\(path): format", reason: "'\(c.format)' is not '\(checkpointFormat)'")
        }
        guard c.version <= checkpointVersion else {
            throw .invalidCheckpoint(location: "\(path): version",
                                     reason: "version \(c.version) is newer than this program reads (\(checkpointVersion))")
        }
        do { try c.settings.validate() } catch { throw .invalidCheckpoint(location: "\(path): settings", reason: "\(error)") }
        guard c.population.count == c.settings.populationSize else {
            throw .invalidCheckpoint(location: "\(path): population",
                                     reason: "\(c.population.count) genomes for a population of \(c.settings.populationSize)")
        }
        guard (0...c.settings.generations).contains(c.generation) else {
            throw .invalidCheckpoint(location: "\(path): generation", reason: "\(c.generation) is outside 0…\(c.settings.generations)")
        }
        let words = c.random.compactMap { UInt64($0, radix: 16) }
        guard words.count == c.random.count else {
            throw .invalidCheckpoint(location: "\(path): random", reason: "expected 16-digit hexadecimal words")
        }
        let random: EvolutionRandom
        do { random = try EvolutionRandom(state: words) } catch { throw error.located(in: path) }
        guard (c.best == nil) == (c.bestFitness == nil), (c.best == nil) == (c.bestGeneration == nil) else {
            throw .invalidCheckpoint(location: "\(path): best", reason: "best, best_fitness and best_generation go together")
        }
        return EvolutionState(settings: c.settings, taskName: c.task, generation: c.generation, population: c.population,
                              random: random, best: c.best, bestFitness: c.bestFitness, bestGeneration: c.bestGeneration)
    }

    // MARK: Helpers

    static func checkTask(_ task: any FitnessTask) throws(EvolutionError) {
        guard task.trials >= 1 else {
            throw .invalidSettings(field: "trials", value: "\(task.trials)", fix: "a fitness task needs at least 1 trial")
        }
    }

    static func checkShapes(_ population: [Genome]) throws(EvolutionError) {
        for (i, genome) in population.enumerated() {
            if let problem = genome.violations().first { throw .invalidGenome("individual \(i): \(problem)") }
            let first = population[0]
            guard genome.inputCount == first.inputCount, genome.outputCount == first.outputCount else {
                throw .invalidGenome("individual \(i) has \(genome.inputCount) inputs and \(genome.outputCount) outputs, "
                                     + "individual 0 has \(first.inputCount) and \(first.outputCount); a task needs one shape")
            }
        }
    }

    /// One log line: the statistics as JSON with sorted keys.
    static func logLine(_ stats: GenerationStatistics) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(stats)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Keeps the log's lines for generations before `generation` (and drops unreadable ones,
    /// such as a line cut short by a crash).
    static func trimLog(_ path: String, before generation: Int) throws(EvolutionError) {
        guard let bytes = try Files.read(path) else { return }
        let decoder = JSONDecoder()
        let kept = String(decoding: bytes, as: UTF8.self).split(separator: "\n").filter { line in
            guard let stats = try? decoder.decode(GenerationStatistics.self, from: Data(line.utf8)) else { return false }
            return stats.generation < generation
        }
        try Files.replaceAtomically(path, with: Array(kept.map { $0 + "\n" }.joined().utf8))
    }

    static func describe(_ error: DecodingError) -> String {
        func place(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .dataCorrupted(let c): return "\(place(c.codingPath)): \(c.debugDescription)"
        case .keyNotFound(let key, let c): return "\(place(c.codingPath + [key])): missing field"
        case .typeMismatch(let type, let c): return "\(place(c.codingPath)): expected \(type)"
        case .valueNotFound(let type, let c): return "\(place(c.codingPath)): expected \(type), found null"
        @unknown default: return "\(error)"
        }
    }
}
