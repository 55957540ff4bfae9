// NeuraxonEvolutionTasks tests. Licence: MIT with the Aigarth licence restrictions (no military
// or dual-use applications); see Sources/NeuraxonEvolution/NOTICE.

import Foundation
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonEvolution
import NeuraxonEvolutionTasks
import NeuraxonSimulation
import Testing

@Suite(.serialized) struct FamilyTaskTests {
    func task(_ kind: SimulatorTask.Kind = .avoid, _ families: [WorldFamily] = [.corridor, .clutter, .arena],
              trials: Int = 3, validation: Int = 3) throws -> SimulatorTask {
        try SimulatorTask(kind, trials: trials, episodeSeconds: 2, families: families, validationTrials: validation)
    }

    @Test func trialsCycleThroughTheFamiliesAndTheThreeSetsNeverMeet() throws {
        let task = try task()
        for trial in 0..<6 {
            let setup = try task.training(trial: trial, seed: 42)
            #expect(setup.world.name.hasPrefix(task.families[trial % 3].rawValue + "-"))
            #expect(try task.validation(trial).world.name.hasPrefix(task.families[trial % 3].rawValue + "-"))
            #expect(try task.heldOut(trial).world.name.hasPrefix(task.families[trial % 3].rawValue + "-"))
            #expect(setup.pose == setup.world.starts[0])
        }
        #expect(try task.training(trial: 1, seed: 42) == task.training(trial: 1, seed: 42))
        #expect(try task.training(trial: 1, seed: 42) != task.training(trial: 1, seed: 43))
        let validation = Set(try (0..<30).map { try task.validation($0).world.name })
        let heldOut = Set(try (0..<30).map { try task.heldOut($0).world.name })
        #expect(validation.isDisjoint(with: heldOut))
        for generation in 0..<10 {
            for trial in 0..<task.trials {
                let name = try task.training(trial: trial, seed: EvolutionRandom.evaluationSeed(run: 1, generation: generation, trial: trial)).world.name
                #expect(!validation.contains(name) && !heldOut.contains(name))
            }
        }
    }

    @Test func aFamilyTaskNameReadsBackAndBadFamiliesAreRefused() throws {
        let task = try task(.seek, [.lightBehind, .corridor], trials: 4, validation: 6)
        #expect(task.name == "sim-seek trials 4 episode 2.0 s families light-behind,corridor validation 6")
        let back = try SimulatorTask(savedName: task.name)
        #expect(back.families == [.lightBehind, .corridor] && back.validationTrials == 6 && back.trials == 4)
        #expect { try SimulatorTask(.seek, families: [.clutter]) } throws: { error in
            "\(error)".contains("cannot train on clutter") && "\(error)".contains("corridor, doorways, light-behind")
        }
        #expect { try SimulatorTask.parseFamilies("corridor,maze") } throws: { "\($0)".contains("`maze` is not a world family") }
        #expect(throws: TaskError.self) { try SimulatorTask(.avoid, families: [.arena, .arena]) }
        #expect(throws: TaskError.self) { try SimulatorTask(.avoid, validationTrials: 3) }
    }

    /// A small family evolution: the same on 1 and 2 threads, the saved best is the elite with
    /// the best validation score, and the report has every family on every set.
    @Test func aFamilyEvolutionIsReproducibleAndReportsPerFamily() throws {
        let task = try task(trials: 3, validation: 3)
        var settings = EvolutionSettings(seed: 4, populationSize: 6, generations: 2)
        settings.selection.method = .tournament(size: 3)
        settings.selection.eliteCount = 1
        settings.eliteReevaluation = 2
        var states: [EvolutionState] = []
        var last: EvolutionRun?
        for workers in [1, 2] {
            let run = try EvolutionRun(settings: settings, task: task, initialPopulation: try task.initialPopulation(.preset, settings: settings),
                                       evaluator: Evaluator(workers: workers))
            try run.run()
            states.append(run.state)
            last = run
        }
        #expect(states[0] == states[1])
        let run = try #require(last)
        let best = try #require(run.state.best)
        let validation = try Evaluator(workers: 2).validate([best], task: task, generation: 0)[0]
        #expect(run.state.bestFitness == validation)

        var report = FamilyReport(task: task.name)
        try report.add("preset", task: task, count: 3, workers: 2) { i in try RobotPreset.avoid.network(seed: UInt64(i) + 1) }
        #expect(report.entries.count == 3 * 3)
        for family in task.families {
            #expect(Set(report.entries.filter { $0.family == family.rawValue }.map(\.set)) == ["training", "validation", "held-out"])
        }
        #expect(report.table().contains("clutter") && report.table().contains("held-out"))
        let decoded = try JSONDecoder().decode(FamilyReport.self, from: try report.json())
        #expect(decoded == report)
    }
}
