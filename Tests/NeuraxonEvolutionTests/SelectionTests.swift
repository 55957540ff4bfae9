// NeuraxonEvolution tests. Licence: see Sources/NeuraxonEvolution/NOTICE.

import Neuraxon
import Testing
@testable import NeuraxonEvolution

@Suite struct SelectionTests {
    @Test("Ranking puts the fittest first and breaks ties by position")
    func ranking() {
        #expect(Selection.ranking([0.5, 0.9, 0.5, 0.1, 0.9]) == [1, 4, 0, 2, 3])
        #expect(Selection.ranking([]) == [])
    }

    @Test("Tournament selection favours rank, truncation stays within the best fraction")
    func parentChoice() {
        var rng = EvolutionRandom(seed: 1)
        var tournament = [Int](repeating: 0, count: 10)
        for _ in 0..<20000 { tournament[Selection.pickRank(count: 10, .tournament(size: 3), using: &rng)] += 1 }
        #expect(tournament[0] > tournament[4] && tournament[4] > tournament[9])
        // P(best of 3 draws is rank 0) = 1 − 0.9³ = 0.271.
        #expect(abs(Double(tournament[0]) / 20000 - 0.271) < 0.02)
        var truncation = Set<Int>()
        for _ in 0..<2000 { truncation.insert(Selection.pickRank(count: 10, .truncation(fraction: 0.3), using: &rng)) }
        #expect(truncation == [0, 1, 2])
        for _ in 0..<100 { #expect(Selection.pickRank(count: 10, .tournament(size: 1), using: &rng) < 10) }
    }

    @Test("The next generation keeps the elites and is the same for the same seed")
    func nextGenerationDeterministic() throws {
        let population = try (0..<12).map { try randomGenome(seed: UInt64($0), inputs: 2, hidden: 2, outputs: 1) }
        let fitness = (0..<12).map { Double(($0 * 7) % 12) }  // individual 5 is best (11), then 10 (10)
        var settings = SelectionSettings()
        settings.eliteCount = 2
        settings.crossoverChance = 0.5
        for method in [SelectionMethod.tournament(size: 3), .truncation(fraction: 0.25)] {
            settings.method = method
            var r1 = EvolutionRandom(seed: 99), r2 = EvolutionRandom(seed: 99), r3 = EvolutionRandom(seed: 100)
            let a = try Selection.nextGeneration(population, fitness: fitness, selection: settings, mutation: MutationSettings(), using: &r1)
            let b = try Selection.nextGeneration(population, fitness: fitness, selection: settings, mutation: MutationSettings(), using: &r2)
            let c = try Selection.nextGeneration(population, fitness: fitness, selection: settings, mutation: MutationSettings(), using: &r3)
            #expect(a == b)
            #expect(r1 == r2)
            #expect(a != c)
            #expect(a.count == 12)
            #expect(a[0] == population[5] && a[1] == population[10])
            #expect(a.allSatisfy { $0.violations().isEmpty })
        }
        var rng = EvolutionRandom(seed: 1)
        #expect(throws: EvolutionError.self) {
            try Selection.nextGeneration(population, fitness: [1, 2], selection: settings, mutation: MutationSettings(), using: &rng)
        }
    }

    @Test("Selection settings out of range are refused")
    func validation() {
        var s = SelectionSettings()
        s.eliteCount = 10
        #expect(throws: EvolutionError.self) { try s.validate(populationSize: 10) }
        s = SelectionSettings()
        s.method = .tournament(size: 0)
        #expect(throws: EvolutionError.self) { try s.validate(populationSize: 10) }
        s.method = .truncation(fraction: 1.5)
        do { try s.validate(populationSize: 10); Issue.record("accepted") } catch {
            #expect(error.description.contains("truncation_fraction"))
        }
        s.method = .truncation(fraction: 0.5)
        #expect(throws: Never.self) { try s.validate(populationSize: 10) }
    }
}

@Suite struct EvaluationTests {
    @Test("Fitness is bit-identical for any number of worker threads")
    func threadCountIndependent() throws {
        let population = try (0..<20).map { try randomGenome(seed: UInt64($0), inputs: 1, hidden: 3, outputs: 1, p: 0.5) }
        let reference = try Evaluator(workers: 1).evaluate(population, task: FollowTask(), runSeed: 5, generation: 2)
        for workers in [2, 3, 4, 8] {
            let result = try Evaluator(workers: workers).evaluate(population, task: FollowTask(), runSeed: 5, generation: 2)
            #expect(result.map(\.bitPattern) == reference.map(\.bitPattern), "\(workers) workers")
        }
        #expect(Set(reference).count > 1)  // the population is not uniform, so the check means something
        let other = try Evaluator(workers: 2).evaluate(population, task: FollowTask(), runSeed: 6, generation: 2)
        #expect(other != reference)
    }

    @Test("A genome's fitness is the mean over the task's trials; every individual meets the same trials")
    func meanOverTrials() throws {
        let genomes = try (0..<3).map { try randomGenome(seed: UInt64($0)) }
        let task = FitnessFunction(name: "seeds", trials: 4) { net, trial, seed in
            #expect(seed == EvolutionRandom.evaluationSeed(run: 1, generation: 5, trial: trial))
            #expect(net.seed == seed)
            return Double(trial)
        }
        #expect(try Evaluator(workers: 2).evaluate(genomes, task: task, runSeed: 1, generation: 5) == [1.5, 1.5, 1.5])
    }

    @Test("A failing or non-finite fitness is reported for the first individual and trial it hit")
    func failures() throws {
        struct Broken: Error, CustomStringConvertible { var description: String { "world file missing" } }
        // Individuals are told apart by their hidden-layer size: individual i has i + 1 hidden neurons.
        let population = try (0..<6).map { try randomGenome(seed: UInt64($0), hidden: $0 + 1) }
        let failing = FitnessFunction(name: "failing", trials: 2) { net, trial, _ in
            if trial == 1 && (net.hiddenCount == 5 || net.hiddenCount == 3) { throw Broken() }
            return 1
        }
        #expect(throws: EvolutionError.fitnessFailed(generation: 0, individual: 2, trial: 1, message: "world file missing")) {
            try Evaluator(workers: 4).evaluate(population, task: failing, runSeed: 1, generation: 0)
        }
        let nan = FitnessFunction(name: "nan", trials: 1) { _, _, _ in .nan }
        do {
            _ = try Evaluator(workers: 3).evaluate(population, task: nan, runSeed: 1, generation: 0)
            Issue.record("NaN accepted")
        } catch {
            guard case .fitnessNotFinite(_, let individual, _, _) = error else { Issue.record("\(error)"); return }
            #expect(individual == 0)
            #expect(error.description.contains("finite"))
        }
    }
}
