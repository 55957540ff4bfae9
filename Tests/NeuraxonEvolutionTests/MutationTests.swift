// NeuraxonEvolution tests. Licence: see Sources/NeuraxonEvolution/NOTICE.

import Neuraxon
import Testing
@testable import NeuraxonEvolution

@Suite struct MutationTests {
    @Test("Every operator keeps the wiring rules and the ranges over many random mutations")
    func invariantsHold() throws {
        var settings = MutationSettings()
        settings.maxHiddenNeurons = 12
        var spawned = 0, removedNeurons = 0, added = 0, removedSynapses = 0, jittered = 0, flipped = 0
        for lineage in UInt64(0)..<8 {
            var genome = try randomGenome(seed: lineage, inputs: 2, hidden: 2, outputs: 2, p: 0.5)
            var rng = EvolutionRandom(seed: 100 + lineage)
            for i in 0..<1500 {
                let op = MutationOperator.allCases[rng.below(MutationOperator.allCases.count)]
                for effect in genome.mutate(op, settings, using: &rng) {
                    switch effect {
                    case .neuronSpawned: spawned += 1
                    case .neuronRemoved: removedNeurons += 1
                    case .synapseAdded: added += 1
                    case .synapseRemoved: removedSynapses += 1
                    case .parameterJittered: jittered += 1
                    case .flagFlipped: flipped += 1
                    default: break
                    }
                }
                let problems = genome.violations()
                #expect(problems.isEmpty, "lineage \(lineage), mutation \(i) (\(op)): \(problems)")
                if !problems.isEmpty { return }
                #expect(genome.inputCount == 2 && genome.outputCount == 2)
                #expect(genome.hiddenCount >= 1 && genome.hiddenCount <= settings.maxHiddenNeurons)
                if i % 100 == 0 { _ = try genome.network(seed: 1) }  // the model accepts it too
            }
        }
        #expect(spawned > 0 && removedNeurons > 0 && added > 0 && removedSynapses > 0 && jittered > 0 && flipped > 0,
                "spawned \(spawned), removed neurons \(removedNeurons), added \(added), removed \(removedSynapses)")
    }

    @Test("Weights move on a lattice of the step and reach zero exactly")
    func latticeSteps() throws {
        let p = try randomGenome(seed: 1).parameters
        var genome = try Genome(parameters: p, genes: [Gene(pre: 0, post: 3, fast: 0.3, slow: 0.2)])
        var rng = EvolutionRandom(seed: 5)
        let settings = MutationSettings()
        for _ in 0..<40 {
            genome.mutate(.moveWeight, settings, using: &rng)
            for g in genome.genes {
                for kind in WeightKind.allCases where g[kind] != 0.3 && g[kind] != 0.2 {
                    let step = kind == .meta ? settings.weightStep / 2 : settings.weightStep
                    #expect((g[kind] / step).rounded() * step == g[kind])
                }
            }
        }
    }

    @Test("An overflowing weight spawns a hidden neuron that clones the neuron it reads from")
    func overflowSpawnsClone() throws {
        // 1 input (0), 2 hidden (1, 2), 1 output (3). Hidden 1 reads input 0 and hidden 2.
        let p = try randomGenome(seed: 1).parameters
        var genome = try Genome(parameters: p, genes: [
            Gene(pre: 0, post: 1, fast: 0.5), Gene(pre: 2, post: 1, fast: -0.25, isModulatory: true),
            Gene(pre: 1, post: 3, fast: 1, isSilent: true),
        ])
        let effect = genome.spawnClone(overflowing: 1, kind: .fast, 0.125)
        #expect(effect == .neuronSpawned(id: 3))
        #expect(genome.hiddenCount == 3 && genome.firstOutputId == 4)
        // The output moved from 3 to 4; the clone 3 receives copies of 1's inputs and carries the
        // overflow to the output with the overflowing synapse's flags.
        #expect(genome.genes == [
            Gene(pre: 0, post: 1, fast: 0.5), Gene(pre: 0, post: 3, fast: 0.5),
            Gene(pre: 1, post: 4, fast: 1, isSilent: true),
            Gene(pre: 2, post: 1, fast: -0.25, isModulatory: true), Gene(pre: 2, post: 3, fast: -0.25, isModulatory: true),
            Gene(pre: 3, post: 4, fast: 0.125, isSilent: true),
        ])
        #expect(genome.violations() == [])
    }

    @Test("An input neuron is cloned as a relay")
    func inputCloneIsRelay() throws {
        let p = try randomGenome(seed: 1).parameters
        var genome = try Genome(parameters: p, genes: [Gene(pre: 0, post: 3, fast: 0, slow: -1)])
        _ = genome.spawnClone(overflowing: 0, kind: .slow, -0.125)
        #expect(genome.genes == [Gene(pre: 0, post: 3, fast: 1, slow: 1), Gene(pre: 0, post: 4, fast: 0, slow: -1),
                                 Gene(pre: 3, post: 4, fast: 0, slow: -0.125)])
    }

    @Test("Moving past the limit saturates, and spawns only while the hidden layer has room")
    func overflowThroughMoveWeight() throws {
        let p = try randomGenome(seed: 1).parameters
        let start = try Genome(parameters: p, genes: [Gene(pre: 0, post: 3, fast: 1, slow: 1)])
        var settings = MutationSettings()
        settings.maxHiddenNeurons = 3
        var rng = EvolutionRandom(seed: 11)
        var sawSpawn = false
        for _ in 0..<200 {
            var genome = start
            let effects = genome.mutate(.moveWeight, settings, using: &rng)
            if effects.contains(where: { if case .neuronSpawned = $0 { true } else { false } }) {
                sawSpawn = true
                #expect(genome.hiddenCount == 3)
                let carry = MutationSettings().weightStep
                #expect(genome.genes.contains { $0.pre == 3 && $0.post == 4 && ($0.fast == carry || $0.slow == carry) })
            }
            #expect(genome.violations() == [])
        }
        #expect(sawSpawn)
        settings.maxHiddenNeurons = 2
        for _ in 0..<50 {
            var genome = start
            genome.mutate(.moveWeight, settings, using: &rng)
            #expect(genome.hiddenCount == 2)
        }
    }

    @Test("A hidden neuron whose weights all reach zero is removed and the ids above it move down")
    func zeroWeightsRemoveNeuron() throws {
        let p = try randomGenome(seed: 1).parameters  // ids: input 0, hidden 1 and 2, output 3
        var genome = try Genome(parameters: p, genes: [Gene(pre: 0, post: 1, fast: 0.125), Gene(pre: 0, post: 3, fast: 0.5),
                                                        Gene(pre: 2, post: 3, fast: 0.25)])
        let effects = genome.removeGene(at: 0)
        #expect(effects == [.synapseRemoved(pre: 0, post: 1), .neuronRemoved(id: 1)])
        #expect(genome.hiddenCount == 1)
        #expect(genome.genes == [Gene(pre: 0, post: 2, fast: 0.5), Gene(pre: 1, post: 2, fast: 0.25)])
        // The last hidden neuron stays (the model needs at least one).
        let last = genome.removeGene(at: 1)
        #expect(last == [.synapseRemoved(pre: 1, post: 2)])
        #expect(genome.hiddenCount == 1)
        // Through the operator: a gene with one weight one step from 0 loses it.
        var rng = EvolutionRandom(seed: 3)
        var sawRemoval = false
        for _ in 0..<100 {
            var g = try Genome(parameters: p, genes: [Gene(pre: 0, post: 1, fast: MutationSettings().weightStep),
                                                      Gene(pre: 2, post: 3, fast: 0.5)])
            let effects = g.mutate(.moveWeight, MutationSettings(), using: &rng)
            if effects.contains(.neuronRemoved(id: 1)) {
                sawRemoval = true
                #expect(g.genes == [Gene(pre: 1, post: 2, fast: 0.5)])
            }
        }
        #expect(sawRemoval)
    }

    @Test("Parameters jitter within their ranges")
    func parameterJitter() throws {
        var genome = try randomGenome(seed: 2)
        var settings = MutationSettings()
        settings.parameterJitter = 1
        var rng = EvolutionRandom(seed: 2)
        var changed = Set<String>()
        for _ in 0..<2000 {
            let before = genome.parameters
            genome.mutate(.jitterParameter, settings, using: &rng)
            for field in Genome.evolvableParameters where before.numericValue(of: field) != genome.parameters.numericValue(of: field) {
                changed.insert(field.key)
            }
            #expect(genome.parameters.validate() == [])
        }
        #expect(changed == Set(Genome.evolvableParameters.map(\.key)))
        // Only the evolvable ones move.
        var fixed = genome.parameters
        for field in Genome.evolvableParameters {
            if case .real(let path) = field.kind { fixed[keyPath: path] = flowingTemplate()[keyPath: path] }
        }
        var template = flowingTemplate()
        template.numInputNeurons = 1; template.numHiddenNeurons = 2; template.numOutputNeurons = 1
        #expect(fixed == template)
    }

    @Test("Crossover of same-sized parents keeps the rules and takes genes from both")
    func crossover() throws {
        var rng = EvolutionRandom(seed: 4)
        var fromOther = 0
        for seed in UInt64(0)..<30 {
            let a = try randomGenome(seed: seed, inputs: 2, hidden: 3, outputs: 2, p: 0.4)
            let b = try randomGenome(seed: seed + 1000, inputs: 2, hidden: 3, outputs: 2, p: 0.4)
            let child = a.crossed(with: b, using: &rng)
            #expect(child.violations() == [])
            let aPairs = Set(a.genes.map { [$0.pre, $0.post] })
            for g in child.genes where !aPairs.contains([g.pre, g.post]) {
                #expect(b.genes.contains(g))
                fromOther += 1
            }
            for g in a.genes where !b.genes.contains(where: { $0.pre == g.pre && $0.post == g.post }) {
                #expect(child.genes.contains(g))  // the fitter parent's own synapses are kept
            }
        }
        #expect(fromOther > 0)
        let small = try randomGenome(seed: 1, hidden: 2), large = try randomGenome(seed: 2, hidden: 3)
        #expect(small.crossed(with: large, using: &rng) == small)
    }

    @Test("Mutation settings out of range are refused, naming the setting and the fix")
    func settingsValidation() {
        var s = MutationSettings()
        s.weightStep = 0
        #expect(throws: EvolutionError.self) { try s.validate() }
        s = MutationSettings()
        s.maxHiddenNeurons = 5000
        do { try s.validate(); Issue.record("accepted") } catch { #expect(error.description.contains("max_hidden_neurons")) }
        s = MutationSettings()
        s.moveWeight = 0; s.addSynapse = 0; s.removeSynapse = 0; s.flipFlag = 0; s.jitterParameter = 0
        #expect(throws: EvolutionError.self) { try s.validate() }
    }
}
