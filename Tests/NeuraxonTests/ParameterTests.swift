import Testing
@testable import Neuraxon

@Suite struct ParameterTests {
    @Test("There are 33 parameters with the reference's defaults, all valid")
    func defaults() {
        #expect(NetworkParameters.fields.count == 33)
        #expect(NetworkParameters().validate() == [])
        #expect(NetworkParameters().neuronCount == 30)
    }

    @Test("A value set by a user outside its range is refused, naming the field, the value and the range")
    func refusesOutOfRange() {
        #expect { try NetworkParameters().setting("tau_fast", to: "12") } throws: {
            "\($0)" == "tau_fast = 12 is outside its range 1…10"
        }
        #expect { try NetworkParameters().setting("num_hidden_neurons", to: "0") } throws: {
            "\($0)" == "num_hidden_neurons = 0 is outside its range 1…1000"
        }
        #expect { try NetworkParameters().setting("firing_threshold_inhibitory", to: "0.2") } throws: {
            "\($0)".contains("firing_threshold_inhibitory = 0.2 is outside its range -2…-0.5")
        }
        #expect { try NetworkParameters().setting("dt", to: "nan") } throws: { "\($0)".contains("not a finite number") }
        #expect { try NetworkParameters().setting("num_input_neurons", to: "2.5") } throws: { "\($0)".contains("not a whole number") }
        #expect { try NetworkParameters().setting("tau", to: "5") } throws: { "\($0)".contains("unknown parameter 'tau'") }
    }

    @Test("Values inside their ranges are accepted")
    func acceptsValid() throws {
        let p = try NetworkParameters().setting("dt", to: "0.5").setting("network_name", to: "rover").setting("num_hidden_neurons", to: "50")
        #expect(p.dt == 0.5 && p.networkName == "rover" && p.numHiddenNeurons == 50)
    }

    @Test("An inverted initial weight range is reported")
    func invertedRange() {
        var p = NetworkParameters()
        p.wFastInitMin = 0.5
        p.wFastInitMax = 0.2
        let problems = p.validate().map(\.description)
        #expect(problems.contains("w_fast_init_min = 0.5 is outside its range -1…0"))
        #expect(problems.contains("w_fast_init_min = 0.5 must not exceed w_fast_init_max = 0.2"))
    }

    @Test("Building a network refuses invalid parameters")
    func buildingChecks() {
        var p = NetworkParameters()
        p.connectionProbability = 1.5
        #expect(throws: ParameterError.self) { try NeuraxonNetwork(parameters: p, seed: 1) }
    }
}
