// NeuraxonEvolution tests. Licence: see Sources/NeuraxonEvolution/NOTICE.

import Foundation
import Neuraxon
import Testing
@testable import NeuraxonEvolution

/// A task whose training score is pure luck (a number drawn from the trial's seed and the
/// genome's synapse count, 0…10) and whose validation score is what the genome is worth (its
/// synapse count, negated: fewer is better).
private func luckTask(validationTrials: Int) -> FitnessFunction {
    FitnessFunction(name: "luck", trials: 2, validationTrials: validationTrials,
                    validation: { network, _ in -Double(network.synapseCount) }) { network, _, seed in
        var rng = EvolutionRandom(seed: seed ^ UInt64(network.synapseCount) &* 0x9E37_79B9_7F4A_7C15)
        return 10 * rng.unit()
    }
}

@Suite struct EliteTests {
    func population(_ settings: EvolutionSettings) throws -> [Genome] {
        try EvolutionRun.randomPopulation(template: flowingTemplate(), inputs: 2, hidden: 4, outputs: 2,
                                          connectionProbability: 0.5, settings: settings)
    }

    @Test("Without re-evaluation the best is a lucky draw; with it, the best is kept for its validation score")
    func theBestIsKeptByValidation() throws {
        var settings = smallSettings(seed: 5, generations: 6)
        settings.eliteReevaluation = 0
        let lucky = try EvolutionRun(settings: settings, task: luckTask(validationTrials: 3), initialPopulation: try population(settings))
        try lucky.run()
        // The old rule keeps the highest training score of any generation: luck, near the top of 0…10.
        let luckyBest = try #require(lucky.state.bestFitness)
        #expect(luckyBest == lucky.history.map(\.best).max())
        #expect(luckyBest > 8)

        settings.eliteReevaluation = 3
        let run = try EvolutionRun(settings: settings, task: luckTask(validationTrials: 3), initialPopulation: try population(settings))
        try run.run()
        let best = try #require(run.state.best)
        let kept = try #require(run.state.bestFitness)
        // What the run kept is the best's validation score, recomputed here from the genome.
        let validation = try Evaluator(workers: 1).validate([best], task: luckTask(validationTrials: 3), generation: 0)[0]
        let synapses = try best.network(seed: 1).synapseCount
        #expect(kept == validation && kept == -Double(synapses))
        // It is the best validation score of every elite the run re-evaluated, and each
        // generation's log line says what its chosen elite scored on fresh and validation trials.
        #expect(run.history.allSatisfy { $0.eliteValidation != nil && $0.eliteFresh != nil && $0.reevaluations == 3 * (2 + 3) })
        #expect(kept == run.history.compactMap(\.eliteValidation).max())
        #expect(run.history.last?.bestSoFar == kept)
    }

    @Test("Without validation trials the elite is kept for its score on fresh trials, not its generation's")
    func freshTrialsWithoutValidation() throws {
        var settings = smallSettings(seed: 8, generations: 4)
        settings.eliteReevaluation = 2
        let run = try EvolutionRun(settings: settings, task: luckTask(validationTrials: 0), initialPopulation: try population(settings))
        try run.run()
        #expect(run.history.allSatisfy { $0.eliteValidation == nil && $0.eliteFresh != nil && $0.reevaluations == 2 * 2 })
        #expect(run.state.bestFitness == run.history.compactMap(\.eliteFresh).max())
        // Fresh trials are other trials: the kept score is not the generation's best by luck.
        #expect(run.state.bestFitness != run.history.map(\.best).max())
    }

    @Test("A run with re-evaluation and validation is the same on 1 and on 3 threads, and resumes bit for bit")
    func reproducibleWithValidation() throws {
        let settings = smallSettings(seed: 13, generations: 4)
        var finals: [EvolutionState] = []
        for workers in [1, 3] {
            let run = try EvolutionRun(settings: settings, task: luckTask(validationTrials: 2), initialPopulation: try population(settings),
                                       evaluator: Evaluator(workers: workers))
            try run.run()
            finals.append(run.state)
        }
        #expect(finals[0] == finals[1])
        let folder = temporaryFolder("elite-resume")
        var count = 0
        let part = try EvolutionRun(settings: settings, task: luckTask(validationTrials: 2), initialPopulation: try population(settings),
                                    checkpointPath: folder + "/cp.json")
        try part.run(shouldContinue: { count += 1; return count <= 2 })
        let resumed = try EvolutionRun.resume(checkpointPath: folder + "/cp.json", task: luckTask(validationTrials: 2))
        try resumed.run()
        #expect(resumed.state == finals[0])
    }

    @Test("A checkpoint written before elite re-evaluation resumes without it; bad counts are refused")
    func oldCheckpointsAndBadCounts() throws {
        let json = #"{"seed":1,"population_size":4,"generations":2,"selection":\#(String(decoding: try JSONEncoder().encode(SelectionSettings()), as: UTF8.self)),"mutation":\#(String(decoding: try JSONEncoder().encode(MutationSettings()), as: UTF8.self))}"#
        let old = try JSONDecoder().decode(EvolutionSettings.self, from: Data(json.utf8))
        #expect(old.eliteReevaluation == 0)
        var settings = smallSettings()
        settings.eliteReevaluation = settings.populationSize + 1
        #expect { try settings.validate() } throws: { "\($0)".contains("elite re-evaluation") }
    }
}
