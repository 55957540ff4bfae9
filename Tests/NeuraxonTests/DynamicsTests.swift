import Testing
@testable import Neuraxon

/// The embodied dynamics' three departures, each on its own, and the reference's quirks they fix.
@Suite struct DynamicsTests {
    func tinyParameters() -> NetworkParameters {
        var p = NetworkParameters()
        p.numInputNeurons = 1
        p.numHiddenNeurons = 1
        p.numOutputNeurons = 1
        p.spontaneousFiringRate = 0
        p.synapseFormationProb = 0
        return p
    }

    @Test("Reference: a +1 input reaches its targets once and reads 0 after the next step")
    func referenceInputsFade() throws {
        let net = try NeuraxonNetwork(parameters: tinyParameters(), dynamics: .reference, seed: 1, synapses: [])
        net.setInputState(0, .excitatory)
        net.simulateStep()
        #expect(net.neuron(0).state == .neutral)
    }

    @Test("Held inputs: the input keeps the state the caller set, and skips the neuron equation")
    func heldInputs() throws {
        var dynamics = Dynamics.reference
        dynamics.heldInputs = true
        let net = try NeuraxonNetwork(parameters: tinyParameters(), dynamics: dynamics, seed: 1, synapses: [])
        net.setInputState(0, .excitatory)
        for _ in 0..<50 { net.simulateStep() }
        #expect(net.neuron(0).state == .excitatory)
        #expect(net.neuron(0).potential == net.parameters.firingThresholdExcitatory)
        #expect(net.neuron(0).adaptation == 0)
        #expect(net.neuron(0).health == 1)
    }

    func oneSynapse(_ dynamics: Dynamics) throws -> NeuraxonNetwork {
        try NeuraxonNetwork(parameters: tinyParameters(), dynamics: dynamics, seed: 1, synapses: [
            Synapse(pre: 0, post: 1, wFast: 0.8, wSlow: 0.4, wMeta: 0.2, restFast: 0.8, restSlow: 0.4, restMeta: 0.2),
        ])
    }

    @Test("Resting weights: weights relax to their resting values and the synapse lives; in the reference they fade and it is pruned")
    func restingWeights() throws {
        var dynamics = Dynamics.reference
        dynamics.restingWeights = true
        let living = try oneSynapse(dynamics)
        let fading = try oneSynapse(.reference)
        for _ in 0..<2000 { living.simulateStep(); fading.simulateStep() }
        #expect(living.synapseCount == 1)
        let s = living.synapses()[0]
        #expect(abs(s.wFast - 0.8) < 1e-12 && abs(s.wSlow - 0.4) < 1e-12 && abs(s.wMeta - 0.2) < 1e-12)
        #expect(fading.synapseCount == 0)
    }

    @Test("Resting weights: plasticity moves the weight away from rest while pre and post fire together")
    func plasticityAroundRest() throws {
        var dynamics = Dynamics.embodied
        dynamics.norepinephrineGain = false
        let net = try oneSynapse(dynamics)
        net.modulate(.dopamine, to: 1)
        // Make the post neuron fire: strong external current, input held at +1.
        net.setInputState(0, .excitatory)
        net.setExternalCurrent(50, neuron: 1)
        for _ in 0..<20 { net.simulateStep() }
        #expect(net.neuron(1).state == .excitatory)
        #expect(net.synapses()[0].wFast > 0.8)
    }

    @Test("Norepinephrine gain scales the synaptic current by 1 + 0.4·(NE − 0.5)")
    func norepinephrineGain() throws {
        var withGain = Dynamics.reference
        withGain.norepinephrineGain = true
        withGain.heldInputs = true
        var without = Dynamics.reference
        without.heldInputs = true
        let a = try oneSynapse(withGain)
        let b = try oneSynapse(without)
        a.modulate(.norepinephrine, to: 1.0)
        b.modulate(.norepinephrine, to: 1.0)
        for net in [a, b] {
            net.setInputState(0, .excitatory)
            net.simulateStep()  // the input's state reaches neuron 1 on the next step
            net.simulateStep()
        }
        // Second step: V1 = V1' + dt/τm·(−V1' + g·S); S = w_fast + w_slow after one update.
        let vA = a.neuron(1).potential, vB = b.neuron(1).potential
        #expect(vA > vB)
        #expect(a.neuron(1).potential != 0)
        let ratio = vA / vB
        #expect(ratio > 1.1 && ratio < 1.3)
    }

    @Test("Unknown neuromodulator names are an error; levels are clamped to 0…1")
    func modulate() throws {
        let net = try NeuraxonNetwork(seed: 1)
        #expect(throws: ModelError.unknownNeuromodulator("oxytocin")) { try net.modulate("oxytocin", to: 0.5) }
        try net.modulate("dopamine", to: 7)
        #expect(net.level(of: .dopamine) == 1)
        net.modulate(.serotonin, to: -3)
        #expect(net.level(of: .serotonin) == 0)
        #expect(throws: ModelError.self) { try net.modulate("dopamine", to: .nan) }
        // Relaxes back to baseline: about 1000 steps at the defaults.
        for _ in 0..<3000 { net.simulateStep() }
        #expect(abs(net.level(of: .dopamine) - 0.1) < 0.1)
    }

    @Test("Hand-wired synapses that break the wiring rules are refused")
    func handWiringRules() {
        let p = tinyParameters()
        #expect(throws: ModelError.self) { try NeuraxonNetwork(parameters: p, dynamics: .embodied, seed: 1, synapses: [Synapse(pre: 2, post: 0, wFast: 1, wSlow: 0, wMeta: 0)]) }
        #expect(throws: ModelError.self) { try NeuraxonNetwork(parameters: p, dynamics: .embodied, seed: 1, synapses: [Synapse(pre: 1, post: 1, wFast: 1, wSlow: 0, wMeta: 0)]) }
        #expect(throws: ModelError.self) { try NeuraxonNetwork(parameters: p, dynamics: .embodied, seed: 1, synapses: [Synapse(pre: 0, post: 9, wFast: 1, wSlow: 0, wMeta: 0)]) }
        #expect(throws: ModelError.self) { try NeuraxonNetwork(parameters: p, dynamics: .embodied, seed: 1, synapses: [Synapse(pre: 0, post: 1, wFast: .nan, wSlow: 0, wMeta: 0)]) }
        let pair = Synapse(pre: 0, post: 1, wFast: 1, wSlow: 0, wMeta: 0)
        #expect(throws: ModelError.self) { try NeuraxonNetwork(parameters: p, dynamics: .embodied, seed: 1, synapses: [pair, pair]) }
    }
}
