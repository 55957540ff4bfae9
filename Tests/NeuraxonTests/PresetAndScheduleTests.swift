import Testing
@testable import Neuraxon

@Suite struct PresetAndScheduleTests {
    @Test("Every preset builds with valid parameters", arguments: NetworkPreset.all)
    func presetsBuild(preset: NetworkPreset) throws {
        #expect(preset.parameters.validate() == [])
        let net = try preset.build(seed: 1)
        #expect(net.synapseCount > 0)
        #expect(net.metadata["preset"] == preset.name)
    }

    @Test("The 'flowing' preset carries activity to hidden and output neurons, over several seeds", arguments: [1, 2, 3, 4, 5] as [UInt64])
    func flowingFires(seed: UInt64) throws {
        let net = try NetworkPreset.flowing.build(seed: seed)
        var hidden = 0, outputs = 0
        for step in 0..<300 {
            net.setInputStates(step / 50 % 2 == 0 ? [.excitatory, .excitatory, .neutral, .neutral, .neutral]
                                                  : [.neutral, .neutral, .excitatory, .inhibitory, .excitatory])
            net.simulateStep()
            hidden += (net.inputCount..<net.firstOutputId).filter { net.neuron($0).state != .neutral }.count
            outputs += (0..<net.outputCount).filter { net.outputState($0) != .neutral }.count
        }
        #expect(hidden > 50)
        #expect(outputs > 10)
    }

    @Test("The reference defaults stay quiet, as the reference does (θ+ = 1.2 at ACh 0.1)")
    func referenceIsQuiet() throws {
        let net = try NetworkPreset.reference.build(seed: 1)
        var fired = 0
        for _ in 0..<300 {
            net.setInputStates([.excitatory, .inhibitory, .neutral, .excitatory, .inhibitory])
            net.simulateStep()
            fired += (net.inputCount..<net.neuronCount).filter { net.neuron($0).state != .neutral }.count
        }
        #expect(fired == 0)
    }

    @Test("A schedule applies inputs, modulation and external currents before the right steps")
    func scheduleApplies() throws {
        let schedule = try StepSchedule.parse("""
            # comment
            {"step": 0, "inputs": [1, -1, 0, 1, -1]}
            {"steps": [2, 4], "external": {"7": 0.5}, "modulate": {"dopamine": 0.8}}

            """, neuronCount: 30)
        #expect(schedule.entries.count == 2)
        let net = try NeuraxonNetwork(seed: 1)
        #expect(schedule.apply(before: 0, to: net) == [:])
        #expect(net.neuron(1).state == .inhibitory)
        #expect(schedule.apply(before: 3, to: net) == [7: 0.5])
        #expect(net.level(of: .dopamine) == 0.8)
        #expect(schedule.apply(before: 5, to: net) == [:])
    }

    @Test("Schedule errors name the line", arguments: [
        ("{\"step\": 0, \"inputs\": [2]}", "line 1: inputs[0] must be -1, 0 or 1"),
        ("\n{\"inputs\": [1]}", "line 2: missing \"step\""),
        ("{\"step\": 0, \"modulate\": {\"gaba\": 1}}", "line 1: unknown neuromodulator \"gaba\""),
        ("{\"step\": 0, \"external\": {\"99\": 1}}", "line 1: external: \"99\" is not a neuron id (0…29)"),
        ("{\"step\": -1}", "line 1: \"step\" must be a whole number ≥ 0"),
        ("{\"step\": 0, \"speed\": 1}", "line 1: unknown key \"speed\""),
        ("{\"step\": 0", "line 1: not valid JSON"),
    ])
    func scheduleErrors(text: String, message: String) {
        #expect { try StepSchedule.parse(text, neuronCount: 30) } throws: { "\($0)".hasPrefix(message) }
    }
}
