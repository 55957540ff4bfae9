// NeuraxonEvolutionTasks tests. Licence: MIT with the Aigarth licence restrictions (no military
// or dual-use applications); see Sources/NeuraxonEvolution/NOTICE.

import Foundation
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonEvolution
import NeuraxonEvolutionTasks
import NeuraxonSimulation
import Testing

@Suite(.serialized) struct EvolveTests {
    static func settings(generations: Int) -> EvolutionSettings {
        var s = EvolutionSettings(seed: 11, populationSize: 8, generations: generations)
        s.selection.method = .tournament(size: 3)
        return s
    }

    /// A small evolution from random networks: the last generation does better than the first,
    /// and its elite, judged on fixed held-out trials, beats the first generation's average.
    @Test func aSmallEvolutionImprovesFitness() throws {
        let task = try SimulatorTask(.avoid, trials: 2, episodeSeconds: 3)
        var settings = EvolutionSettings(seed: 11, populationSize: 12, generations: 8)
        settings.selection.method = .tournament(size: 3)
        let firstPopulation = try task.initialPopulation(.random, settings: settings)
        let run = try EvolutionRun(settings: settings, task: task, initialPopulation: firstPopulation)
        try run.run()
        let first = run.history[0], last = run.history[run.history.count - 1]
        #expect(run.history.count == 8)
        #expect(last.mean > first.mean)
        func judged(_ genome: Genome) throws -> Double {
            try (0..<4).map { i in
                try task.score(try genome.network(seed: 5), on: try task.heldOut(i), noiseSeed: task.heldOutNoiseSeed(i))
            }.reduce(0, +) / 4
        }
        let before = try firstPopulation.map(judged).reduce(0, +) / Double(firstPopulation.count)
        let elite = try judged(run.state.population[0])
        #expect(elite > before)
    }

    /// Interrupted after two generations and resumed, the run ends exactly as the uninterrupted one.
    @Test func resumingGivesTheUninterruptedResult() throws {
        let folder = try scratchFolder("resume")
        let task = try smallTask()
        let settings = Self.settings(generations: 4)
        let first = try task.initialPopulation(.random, settings: settings)

        let whole = try EvolutionRun(settings: settings, task: task, initialPopulation: first, evaluator: Evaluator(workers: 2),
                                     checkpointPath: folder + "/a.checkpoint.json", logPath: folder + "/a.jsonl")
        try whole.run()
        try whole.saveBest(to: folder + "/a.json")

        var count = 0
        let part = try EvolutionRun(settings: settings, task: task, initialPopulation: first, evaluator: Evaluator(workers: 1),
                                    checkpointPath: folder + "/b.checkpoint.json", logPath: folder + "/b.jsonl")
        try part.run(shouldContinue: { count += 1; return count <= 2 })
        #expect(!part.isFinished)
        let resumed = try EvolutionRun.resume(checkpointPath: folder + "/b.checkpoint.json", task: task,
                                              evaluator: Evaluator(workers: 3), logPath: folder + "/b.jsonl")
        #expect(resumed.state.generation == 2)
        try resumed.run()
        try resumed.saveBest(to: folder + "/b.json")

        func bytes(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)) }
        #expect(try bytes("a.json") == bytes("b.json"))
        #expect(try bytes("a.checkpoint.json") == bytes("b.checkpoint.json"))
        func fitnessLines(_ name: String) throws -> [String] {
            // Timing fields differ between runs; everything else must match.
            try String(decoding: bytes(name), as: UTF8.self).split(separator: "\n").map { line in
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                return ["generation", "best", "mean", "worst", "best_so_far", "best_individual"]
                    .map { "\(object[$0] ?? "missing")" }.joined(separator: " ")
            }
        }
        #expect(try fitnessLines("a.jsonl").count == 4)
        #expect(try fitnessLines("a.jsonl") == fitnessLines("b.jsonl"))
    }

    /// The evolved file is an ordinary network file: it loads and drives the simulated robot
    /// through the same closed loop as `neuraxon sim`, with the preset's mapping.
    @Test func theEvolvedFileLoadsAndRunsInTheSimulator() throws {
        let folder = try scratchFolder("sim")
        let task = try smallTask()
        let settings = Self.settings(generations: 2)
        let run = try EvolutionRun(settings: settings, task: task,
                                   initialPopulation: try task.initialPopulation(.preset, settings: settings))
        try run.run()
        try run.saveBest(to: folder + "/best.json")

        let network = try NeuraxonNetwork.load(contentsOf: folder + "/best.json")
        #expect(network.metadata["evolution.task"] == "sim-avoid trials 2 episode 2.0 s")
        #expect(network.metadata["evolution.licence"]?.contains("NOTICE") == true)
        let world = World.obstacleCourse
        let mapping = try Mapping(yaml: RobotPreset.avoid.mappingYAML, device: .referenceRobot,
                                  inputCount: network.inputCount, outputCount: network.outputCount)
        let outcome = try SimulationRun.run(world: world, seed: 1, start: 0, network: network, mapping: mapping,
                                            durationSeconds: 3)
        #expect(outcome.endReason == .durationReached)
        #expect(outcome.counters.ticks >= 590)
        #expect(abs(outcome.metrics.simulatedSeconds - 3) < 0.01)
        #expect(outcome.metrics.distanceTravelled > 0)
    }
}
