// NeuraxonEvolution tests. Licence: see Sources/NeuraxonEvolution/NOTICE.

import Foundation
import Neuraxon
import Testing
@testable import NeuraxonEvolution

@Suite struct GenomeTests {
    @Test("A genome saved as a network file loads back to the same genome")
    func networkFileRoundTrip() throws {
        let folder = temporaryFolder("roundtrip")
        for seed in UInt64(1)...5 {
            var genome = try randomGenome(seed: seed, inputs: 3, hidden: 5, outputs: 2, p: 0.3)
            var rng = EvolutionRandom(seed: seed)
            for _ in 0..<20 { genome = genome.mutated(MutationSettings(), using: &rng) }
            let path = folder + "/genome-\(seed).json"
            try genome.save(to: path, seed: seed, metadata: ["origin": "test"])
            let loaded = try Genome.load(contentsOf: path)
            #expect(loaded == genome)
            let net = try NeuraxonNetwork.load(contentsOf: path)
            #expect(net.dynamics == .embodied)
            #expect(net.metadata["origin"] == "test")
            #expect(net.synapseCount == genome.genes.count)
        }
    }

    @Test("An embodied preset's network becomes a genome and back without change")
    func presetNetwork() throws {
        let net = try NetworkPreset.flowing.build(seed: 3)
        let genome = try Genome(network: net)
        #expect(genome.parameters == net.parameters)
        #expect(genome.genes.count == net.synapseCount)
        let rebuilt = try genome.network(seed: 3)
        #expect(try Genome(network: rebuilt) == genome)
        // Every synapse starts at its resting weights.
        for s in rebuilt.synapses() {
            #expect(s.wFast == s.restFast && s.wSlow == s.restSlow && s.wMeta == s.restMeta && s.integrity == 1)
        }
    }

    @Test("A network in reference dynamics is refused with a message saying what to use")
    func referenceRefused() throws {
        let net = try NetworkPreset.small.build(seed: 1)
        #expect(throws: EvolutionError.notEmbodied(dynamics: "reference")) { try Genome(network: net) }
        let path = temporaryFolder("reference") + "/ref.json"
        try net.save(to: path)
        do {
            _ = try Genome.load(contentsOf: path)
            Issue.record("a reference network loaded as a genome")
        } catch {
            #expect(error.description.contains(path))
            #expect(error.description.contains("embodied"))
        }
        // A damaged file: the error names the file and the place in it, once.
        let broken = temporaryFolder("broken") + "/broken.json"
        let text = String(decoding: fileBytes(path), as: UTF8.self).replacingOccurrences(of: "\"w_fast\":", with: "\"w_fast\": \"x\", \"y\":")
        try Files.replaceAtomically(broken, with: Array(text.utf8))
        do {
            _ = try Genome.load(contentsOf: broken)
            Issue.record("a damaged file loaded")
        } catch {
            #expect(error.description.hasPrefix(broken + ": "), "\(error)")
            #expect(error.description.components(separatedBy: broken).count == 2, "\(error)")
            #expect(error.description.contains("synapses[0]"), "\(error)")
        }
    }

    @Test("Genomes that break a rule are refused, naming the gene and the rule")
    func invalidGenomes() throws {
        let p = try randomGenome(seed: 1).parameters  // 1 input, 2 hidden, 1 output: output id 3
        let cases: [(Gene, String)] = [
            (Gene(pre: 1, post: 1, fast: 0.5), "itself"),
            (Gene(pre: 3, post: 0, fast: 0.5), "output neuron may not synapse onto an input"),
            (Gene(pre: 0, post: 4, fast: 0.5), "neuron ids run 0…3"),
            (Gene(pre: 0, post: 1, fast: 1.5), "fast weight 1.5"),
            (Gene(pre: 0, post: 1, fast: 0, meta: 0.75), "meta weight 0.75"),
            (Gene(pre: 0, post: 1, fast: .nan), "fast weight nan"),
        ]
        for (gene, expected) in cases {
            do {
                _ = try Genome(parameters: p, genes: [gene])
                Issue.record("accepted \(gene)")
            } catch {
                #expect(error.description.contains("gene 0"), "\(error)")
                #expect(error.description.contains(expected), "\(error)")
            }
        }
        do {
            _ = try Genome(parameters: p, genes: [Gene(pre: 0, post: 1, fast: 0.5), Gene(pre: 0, post: 1, fast: -0.5)])
            Issue.record("accepted a duplicate pair")
        } catch {
            #expect(error.description.contains("second synapse"))
        }
        var bad = p
        bad.firingThresholdExcitatory = 3
        #expect(throws: EvolutionError.self) { try Genome(parameters: bad, genes: []) }
    }

    @Test("Genes are kept in (pre, post) order whatever order they are given in")
    func canonicalOrder() throws {
        let p = try randomGenome(seed: 1).parameters
        let genes = [Gene(pre: 2, post: 3, fast: 0.25), Gene(pre: 0, post: 2, fast: 0.5), Gene(pre: 0, post: 1, fast: -0.5)]
        let genome = try Genome(parameters: p, genes: genes)
        #expect(genome.genes.map { [$0.pre, $0.post] } == [[0, 1], [0, 2], [2, 3]])
        #expect(try Genome(parameters: p, genes: genes.reversed()) == genome)
    }

    @Test("Checkpoint coding keeps every double bit for bit")
    func codableRoundTrip() throws {
        var genome = try randomGenome(seed: 9, inputs: 2, hidden: 3, outputs: 2)
        var rng = EvolutionRandom(seed: 9)
        for _ in 0..<50 { genome.mutate(.jitterParameter, MutationSettings(), using: &rng) }
        let data = try JSONEncoder().encode(genome)
        let back = try JSONDecoder().decode(Genome.self, from: data)
        #expect(back == genome)
        for field in Genome.evolvableParameters {
            #expect(back.parameters.numericValue(of: field)!.bitPattern == genome.parameters.numericValue(of: field)!.bitPattern)
        }
    }

    @Test("The random generator is reproducible, restorable and in range")
    func randomGenerator() throws {
        var a = EvolutionRandom(seed: 42), b = EvolutionRandom(seed: 42), c = EvolutionRandom(seed: 43)
        let xs = (0..<100).map { _ in a.next() }
        #expect(xs == (0..<100).map { _ in b.next() })
        #expect(xs != (0..<100).map { _ in c.next() })
        var restored = try EvolutionRandom(state: a.state)
        #expect(restored.next() == a.next())
        #expect(throws: EvolutionError.self) { try EvolutionRandom(state: [0, 0, 0, 0]) }
        var counts = [Int](repeating: 0, count: 5)
        for _ in 0..<5000 { counts[a.below(5)] += 1 }
        #expect(counts.allSatisfy { $0 > 800 && $0 < 1200 })
        for _ in 0..<1000 { let u = a.unit(); #expect(u >= 0 && u < 1) }
        let s1 = EvolutionRandom.evaluationSeed(run: 1, generation: 2, trial: 3)
        #expect(s1 == EvolutionRandom.evaluationSeed(run: 1, generation: 2, trial: 3))
        #expect(s1 != EvolutionRandom.evaluationSeed(run: 1, generation: 3, trial: 2))
        #expect(s1 != EvolutionRandom.evaluationSeed(run: 1, generation: 2, trial: 4))
        #expect(s1 != EvolutionRandom.evaluationSeed(run: 2, generation: 2, trial: 3))
    }
}
