// NeuraxonEvolution tests. Licence: see Sources/NeuraxonEvolution/NOTICE.

import Foundation
import Neuraxon
@testable import NeuraxonEvolution

/// A fresh folder for one test's files.
func temporaryFolder(_ name: String) -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("neuraxon-evolution-tests-\(getpid())-\(name)-\(UInt32.random(in: 0...UInt32.max))").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Parameters under which activity flows from inputs to outputs (the `flowing` preset's).
func flowingTemplate() -> NetworkParameters { NetworkPreset.flowing.parameters }

/// The toy task: output 0 should follow input 0. Each trial holds 12 input trits, four of each
/// value in a random order, for 10 steps each; the score is the fraction of steps, after the
/// first 3 of each block, on which output 0 equals input 0. A network that never fires scores
/// exactly ⅓ (the neutral blocks).
struct FollowTask: FitnessTask {
    var name = "follow"
    var trials = 3

    func fitness(of network: NeuraxonNetwork, trial: Int, seed: UInt64) throws -> Double {
        var rng = EvolutionRandom(seed: seed)
        var hits = 0, counted = 0
        var blocks: [Trit] = (0..<12).map { Trit($0 % 3 - 1)! }
        for i in stride(from: blocks.count - 1, to: 0, by: -1) { blocks.swapAt(i, rng.below(i + 1)) }
        for trit in blocks {
            for step in 0..<10 {
                network.setInputState(0, trit)
                network.simulateStep()
                if step >= 3 {
                    counted += 1
                    if network.outputState(0) == trit { hits += 1 }
                }
            }
        }
        return Double(hits) / Double(counted)
    }
}

/// A random genome of the toy task's shape.
func randomGenome(seed: UInt64, inputs: Int = 1, hidden: Int = 2, outputs: Int = 1, p: Double = 0.4) throws -> Genome {
    var rng = EvolutionRandom(seed: seed)
    return try Genome.random(template: flowingTemplate(), inputs: inputs, hidden: hidden, outputs: outputs,
                             connectionProbability: p, using: &rng)
}

/// Settings for a small, fast run.
func smallSettings(seed: UInt64 = 7, generations: Int = 6) -> EvolutionSettings {
    var s = EvolutionSettings(seed: seed, populationSize: 16, generations: generations)
    s.selection.eliteCount = 2
    s.selection.method = .tournament(size: 3)
    s.selection.crossoverChance = 0.3
    return s
}

func fileBytes(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path) ?? Data()) }
