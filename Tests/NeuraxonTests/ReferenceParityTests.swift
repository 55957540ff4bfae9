import Foundation
import Testing
@testable import Neuraxon

/// The reference dynamics against trajectories produced by the published reference itself.
@Suite struct ReferenceParityTests {
    @Test("Same seed, same network: every synapse drawn as the reference draws it", arguments: GoldenCase.names)
    func buildsTheReferenceNetwork(name: String) throws {
        let golden = try GoldenCase.load(name)
        let net = try NeuraxonNetwork(parameters: golden.parameters, dynamics: .reference, seed: golden.seed)
        #expect(differences(net, golden.initial) == [])
    }

    @Test("Step by step, every neuron's state and potential are bit-identical", arguments: GoldenCase.names)
    func followsTheReferenceTrajectory(name: String) throws {
        let golden = try GoldenCase.load(name)
        let net = try NeuraxonNetwork(parameters: golden.parameters, dynamics: .reference, seed: golden.seed)
        #expect(golden.trajectory.count == golden.steps)
        for (step, expected) in golden.trajectory.enumerated() {
            golden.runStep(step, on: net)
            let states = expected["states"]!.items.map { $0.integerValue! }
            let potentials = expected["potentials"]!.items.map { doubleFromHex($0.stringValue!) }
            let levels = expected["neuromodulators"]!.items.map { doubleFromHex($0.stringValue!) }
            let inactive = expected["active"]!.items.map { $0.integerValue! }
            let ours = net.states().map(\.value)
            let oursV = net.potentials()
            guard ours == states, oursV.map(\.bitPattern) == potentials.map(\.bitPattern) else {
                let first = (0..<states.count).first { ours[$0] != states[$0] || oursV[$0].bitPattern != potentials[$0].bitPattern }!
                Issue.record("\(name): diverged at step \(step + 1), neuron \(first): s \(ours[first]) vs \(states[first]), V \(oursV[first]) vs \(potentials[first])")
                return
            }
            #expect(Neuromodulator.allCases.map { net.level(of: $0).bitPattern } == levels.map(\.bitPattern), "\(name) step \(step + 1)")
            #expect(net.synapseCount == expected["synapses"]!.integerValue!, "\(name) step \(step + 1)")
            #expect((0..<net.neuronCount).filter { !net.neuron($0).isActive } == inactive, "\(name) step \(step + 1)")
        }
        #expect(differences(net, golden.final) == [])
    }

    @Test("The golden cases really exercise every stochastic feature")
    func casesCoverEveryFeature() throws {
        var deaths = 0, hiddenFired = 0, outputFired = 0, unsilenced = 0
        for name in GoldenCase.names {
            let golden = try GoldenCase.load(name)
            let net = try NeuraxonNetwork(parameters: golden.parameters, dynamics: .reference, seed: golden.seed)
            for step in 0..<golden.steps {
                let silentBefore = Set(net.synapses().filter(\.isSilent).map { [$0.pre, $0.post] })
                golden.runStep(step, on: net)
                unsilenced += net.synapses().filter { !$0.isSilent && silentBefore.contains([$0.pre, $0.post]) }.count
                for id in net.inputCount..<net.neuronCount where net.neuron(id).state != .neutral {
                    if net.role(of: id) == .hidden { hiddenFired += 1 } else { outputFired += 1 }
                }
            }
            deaths += (0..<net.neuronCount).filter { !net.neuron($0).isActive }.count
        }
        #expect(deaths > 0)
        #expect(hiddenFired > 0)
        #expect(outputFired > 0)
        #expect(unsilenced > 0)
    }

    @Test("Loaded from a reference file without stochastic features, the trajectory is the reference's")
    func deterministicParityFromAFile() throws {
        let golden = try GoldenCase.load("deterministic")
        // Write the case's `initial` network as the reference would and load it: no RNG state.
        let root = try JSONParser.parse(try GoldenCase.bytes("deterministic.json"))
        let text = String(decoding: try GoldenCase.bytes("deterministic.json"), as: UTF8.self)
        _ = root
        let initialText = extractObject(named: "initial", from: text)
        let net = try NeuraxonNetwork.load(bytes: Array(initialText.utf8), file: "initial", seed: 99_999)
        for (step, expected) in golden.trajectory.enumerated() {
            golden.runStep(step, on: net)
            let potentials = expected["potentials"]!.items.map { doubleFromHex($0.stringValue!).bitPattern }
            #expect(net.potentials().map(\.bitPattern) == potentials, "step \(step + 1)")
            if net.potentials().map(\.bitPattern) != potentials { return }
        }
    }
}

/// The text of the JSON object under a top-level key (the file is `json.dump`-style, one key per line).
func extractObject(named key: String, from text: String) -> String {
    let start = text.range(of: "\"\(key)\": ")!.upperBound
    var depth = 0
    var index = start
    var inString = false
    var escaped = false
    while index < text.endIndex {
        let c = text[index]
        if inString {
            if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
        } else if c == "\"" {
            inString = true
        } else if c == "{" || c == "[" {
            depth += 1
        } else if c == "}" || c == "]" {
            depth -= 1
            if depth == 0 { return String(text[start...index]) }
        }
        index = text.index(after: index)
    }
    return String(text[start...])
}
