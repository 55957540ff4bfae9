import ArgumentParser
import Foundation
import Neuraxon

/// `neuraxon demo`: a network with activity flowing from inputs to outputs, printed as a
/// raster, for a first look without any hardware.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the 'flowing' preset on a changing input pattern and print its outputs."
    )

    @Option(help: "Steps to run.")
    var steps: Int = 200

    @Option(help: "Seed.")
    var seed: UInt64 = 1

    func run() throws {
        let net = try NetworkPreset.flowing.build(seed: seed)
        print("network: preset 'flowing', \(net.inputCount)/\(net.hiddenCount)/\(net.outputCount) neurons, \(net.synapseCount) synapses, embodied dynamics, seed \(seed)")
        print("each row is 10 ms; columns: input pattern | output neurons (+ excitatory, - inhibitory, . neutral)")
        let patterns: [[Trit]] = [
            [.excitatory, .excitatory, .neutral, .neutral, .neutral],
            [.neutral, .neutral, .excitatory, .excitatory, .excitatory],
            [.inhibitory, .neutral, .excitatory, .neutral, .inhibitory],
        ]
        var firedHidden = 0, firedOutput = 0
        for step in 0..<steps {
            let pattern = patterns[(step / 50) % patterns.count]
            net.setInputStates(pattern)
            net.simulateStep()
            for id in net.inputCount..<net.firstOutputId where net.neuron(id).state != .neutral { firedHidden += 1 }
            for k in 0..<net.outputCount where net.outputState(k) != .neutral { firedOutput += 1 }
            if step % 10 == 9 {
                let input = pattern.map(symbol).joined()
                let output = (0..<net.outputCount).map { symbol(net.outputState($0)) }.joined()
                print(String(format: "t=%4.0f ms  %@ | %@", net.time, input, output))
            }
        }
        print("hidden firings: \(firedHidden), output firings: \(firedOutput), synapses now: \(net.synapseCount)")
    }

    private func symbol(_ t: Trit) -> String { t == .excitatory ? "+" : t == .inhibitory ? "-" : "." }
}
