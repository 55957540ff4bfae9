import Foundation
import Testing
@testable import Neuraxon

@Suite struct FileFormatTests {
    func temporaryPath(_ name: String) -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("neuraxon-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(name).path
    }

    @Test("Files the reference saved load with every value intact", arguments: ["default-seed42", "neuron-death", "deterministic"])
    func loadsReferenceFiles(name: String) throws {
        let golden = try GoldenCase.load(name)
        let net = try NeuraxonNetwork.load(bytes: try GoldenCase.bytes("\(name).saved.json"), file: "\(name).saved.json")
        #expect(differences(net, golden.final) == [])
        #expect(net.dynamics == .reference)
        #expect(net.loadWarnings.contains { $0.contains("no random generator state") })
    }

    @Test("A file this project saves has exactly the reference's layout, plus one extra key")
    func layoutMatchesTheReference() throws {
        let reference = try JSONParser.parse(try GoldenCase.bytes("deterministic.saved.json"))
        let golden = try GoldenCase.load("deterministic")
        let ours = try JSONParser.parse(Array(try NeuraxonNetwork(parameters: golden.parameters, seed: 1).fileText().utf8))
        func keys(_ v: JSONValue?) -> [String] { if case .object(let m)? = v?.kind { m.map(\.key) } else { [] } }
        #expect(keys(ours) == keys(reference) + ["extensions"])
        #expect(keys(ours["parameters"]) == keys(reference["parameters"]))
        #expect(keys(ours["parameters"]) == NetworkParameters.fields.map(\.key))
        #expect(keys(ours["neurons"]) == keys(reference["neurons"]))
        #expect(keys(ours["neurons"]?["hidden"]?.items.first) == keys(reference["neurons"]?["hidden"]?.items.first))
        #expect(keys(ours["synapses"]?.items.first) == keys(reference["synapses"]?.items.first))
        #expect(keys(ours["neuromodulators"]) == keys(reference["neuromodulators"]))
        // Types as the reference's loader needs them: integers stay integers.
        #expect(ours["parameters"]?["num_hidden_neurons"]?.integerValue != nil)
        #expect(ours["parameters"]?["dt"]?.integerValue == nil)
        #expect(ours["neurons"]?["input"]?.items.first?["trinary_state"]?.integerValue != nil)
    }

    @Test("Create, save, load and run equals the reference's uninterrupted run", arguments: ["flowing", "stochastic"])
    func twoCommandsEqualOneProcess(name: String) throws {
        let golden = try GoldenCase.load(name)
        let path = temporaryPath("\(name)-created.json")
        try NeuraxonNetwork(parameters: golden.parameters, seed: golden.seed).save(to: path)
        let net = try NeuraxonNetwork.load(contentsOf: path)
        #expect(net.loadWarnings == [])
        for step in 0..<golden.steps { golden.runStep(step, on: net) }
        #expect(differences(net, golden.final) == [])
    }

    @Test("Save in the middle of a run, load, continue: identical to never stopping",
          arguments: [NetworkPreset.flowing, NetworkPreset.plastic, NetworkPreset.small])
    func saveLoadContinue(preset: NetworkPreset) throws {
        let inputs: [Trit] = [.excitatory, .inhibitory, .excitatory, .neutral, .excitatory]
        let straight = try preset.build(seed: 11)
        let stopped = try preset.build(seed: 11)
        for _ in 0..<150 {
            straight.setInputStates(inputs); straight.simulateStep()
            stopped.setInputStates(inputs); stopped.simulateStep()
        }
        let path = temporaryPath("continue-\(preset.name).json")
        try stopped.save(to: path)
        let resumed = try NeuraxonNetwork.load(contentsOf: path)
        #expect(resumed.dynamics == preset.dynamics)
        #expect(resumed.seed == 11)
        #expect(resumed.metadata["preset"] == preset.name)
        for _ in 0..<250 {
            straight.setInputStates(inputs); straight.simulateStep()
            resumed.setInputStates(inputs); resumed.simulateStep()
        }
        #expect(resumed.fileText() == straight.fileText())
        #expect(straight.stepCount == 400)
    }

    @Test("Saving replaces the file atomically and leaves no temporary file")
    func atomicSave() throws {
        let path = temporaryPath("atomic.json")
        try NeuraxonNetwork(seed: 1).save(to: path)
        let first = try String(contentsOfFile: path, encoding: .utf8)
        let second = try NeuraxonNetwork(seed: 2)
        try second.save(to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == second.fileText())
        #expect(first != second.fileText())
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).allSatisfy { !$0.contains(".tmp-") })
        #expect(throws: NetworkFileError.self) { try second.save(to: "/nonexistent-folder/x.json") }
    }

    /// A valid file's text, changed by one edit, must be refused with an error naming the place.
    @Test("Malformed files are refused with the place and the problem", arguments: [
        ("\"num_input_neurons\": 1", "\"num_input_neurons\": \"five\"", "parameters.num_input_neurons", "expected an integer"),
        ("\"num_input_neurons\": 1", "\"num_input_neurons\": 1.0", "parameters.num_input_neurons", "expected an integer"),
        ("\"tau_fast\": 5.0,", "", "parameters.tau_fast", "missing field"),
        ("\"dt\": 1.0", "\"dt\": 1.0, \"bogus\": 3", "parameters.bogus", "unknown parameter"),
        ("\"dt\": 1.0", "\"dt\": NaN", "line", "NaN and Infinity"),
        ("\"dt\": 1.0", "\"dt\": -Infinity", "line", "NaN and Infinity"),
        ("\"dt\": 1.0", "\"dt\": 0", "parameters.dt", "greater than 0"),
        ("\"pre_id\": 0", "\"pre_id\": 999", "synapses[0].pre_id", "does not exist"),
        ("\"post_id\": 1", "\"post_id\": 0", "synapses[0]", "onto itself"),
        ("\"synapse_type\": \"", "\"synapse_type\": \"x", "synapses[0].synapse_type", "unknown synapse type"),
        ("\"trinary_state\": 0", "\"trinary_state\": 2", "neurons.input[0].trinary_state", "expected -1, 0 or 1"),
        ("\"id\": 0", "\"id\": 3", "neurons.input[0].id", "expected id 0"),
        ("\"dopamine\": 0.1", "\"dopamine\": true", "neuromodulators.dopamine", "expected a number"),
        ("\"serotonin\": 0.1", "\"serotonin\": 0.1, \"oxytocin\": 0.5", "neuromodulators.oxytocin", "unknown neuromodulator"),
        ("\"step_count\": 0", "\"step_count\": 0,", "line", "not valid JSON"),
        ("\"format\": \"neuraxon-robotics\"", "\"format\": \"other\"", "extensions.format", "unknown format"),
        ("\"version\": 1", "\"version\": 9", "extensions.version", "newer than this program"),
    ])
    func refusesMalformedFiles(find: String, replace: String, place: String, problem: String) throws {
        var parameters = NetworkParameters()
        parameters.connectionProbability = 1.0
        parameters.numHiddenNeurons = 2
        parameters.numOutputNeurons = 1
        parameters.numInputNeurons = 1
        let text = try NeuraxonNetwork(parameters: parameters, seed: 3).fileText()
        #expect(text.contains(find), "the test's pattern \(find) must occur in a saved file")
        let broken = text.replacingOccurrences(of: find, with: replace, options: [], range: text.range(of: find))
        do {
            _ = try NeuraxonNetwork.load(bytes: Array(broken.utf8), file: "broken.json")
            Issue.record("accepted a file with \(replace)")
        } catch {
            #expect(error.description.hasPrefix("broken.json:"))
            if place == "line" {
                #expect(error.line != nil && error.column != nil, "\(error)")
            } else {
                #expect(error.description.contains(place), "\(error)")
            }
            #expect(error.description.contains(problem), "\(error)")
        }
    }

    @Test("Wiring rules: output → input and duplicate synapses are refused")
    func wiringRules() throws {
        var p = NetworkParameters()
        p.numInputNeurons = 1; p.numHiddenNeurons = 1; p.numOutputNeurons = 1; p.connectionProbability = 1
        let text = try NeuraxonNetwork(parameters: p, seed: 1).fileText()
        // 0→1, 0→2, 1→0, 1→2, 2→1 exist; make the last one 2→0 (output → input), then a duplicate.
        let outputToInput = text.replacingOccurrences(of: "\"pre_id\": 2,\n      \"post_id\": 1", with: "\"pre_id\": 2,\n      \"post_id\": 0")
        #expect(outputToInput != text)
        #expect { try NeuraxonNetwork.load(bytes: Array(outputToInput.utf8), file: "f") } throws: { error in
            "\(error)".contains("synapses[4]") && "\(error)".contains("output neuron may not synapse onto an input")
        }
        let duplicate = text.replacingOccurrences(of: "\"pre_id\": 2,\n      \"post_id\": 1", with: "\"pre_id\": 1,\n      \"post_id\": 2")
        #expect { try NeuraxonNetwork.load(bytes: Array(duplicate.utf8), file: "f") } throws: { error in
            "\(error)".contains("synapses[4]") && "\(error)".contains("a second synapse 1 → 2")
        }
    }

    @Test("A parameter outside its range in a file is kept and reported")
    func outOfRangeParameterFromAFile() throws {
        let text = try NeuraxonNetwork(seed: 1).fileText()
            .replacingOccurrences(of: "\"learning_rate\": 0.01", with: "\"learning_rate\": 0.5")
        let net = try NeuraxonNetwork.load(bytes: Array(text.utf8), file: "wide.json")
        #expect(net.parameters.learningRate == 0.5)
        #expect(net.loadWarnings.contains { $0.contains("learning_rate = 0.5 is outside its range 0…0.1") })
    }

    @Test("Unreadable and empty files give clear errors")
    func unreadableFiles() {
        #expect { try NeuraxonNetwork.load(contentsOf: "/nonexistent/net.json") } throws: { "\($0)".contains("cannot read the file") }
        #expect { try NeuraxonNetwork.load(bytes: [], file: "empty.json") } throws: { "\($0)".contains("unexpected end of file") }
        #expect { try NeuraxonNetwork.load(bytes: Array("[1, 2]".utf8), file: "a.json") } throws: { "\($0)".contains("expected an object") }
    }
}
