import ArgumentParser
import Foundation
import Neuraxon

/// `neuraxon bench`: measurements behind every figure in Docs/PERFORMANCE.md.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (the network step by default).",
        subcommands: [BenchModel.self, BenchLink.self, BenchLoopCommand.self, BenchReplay.self, BenchSimCommand.self,
                      BenchLatencyCommand.self, BenchFamiliesCommand.self],
        defaultSubcommand: BenchModel.self
    )
}

struct BenchModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Time the network step at 30, 224 and 1200 neurons (p = 0.05, reference dynamics).",
        discussion: "Each network is built fresh and its first steps are timed one by one, before pruning "
            + "thins the network (synapses start dying after about 200 steps). Prints µs per step (median and mean) "
            + "and the synapse count."
    )

    @Option(help: "Steps timed per network.")
    var steps: Int = 100

    @Option(help: "Networks built per size (seeds 1…N); the figures pool their steps.")
    var repeats: Int = 5

    @Option(help: "Only these sizes, e.g. --sizes 30,1200.")
    var sizes: String = "30,224,1200"

    func validate() throws {
        guard (1...190).contains(steps) else { throw ValidationError("--steps must be 1…190 (the figures describe the unpruned network)") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }

    func run() throws {
        let shapes: [Int: (Int, Int, Int)] = [30: (5, 20, 5), 224: (16, 200, 8), 1200: (100, 1000, 100)]
        print("synapse update kernel: \(NeuraxonNetwork.synapseKernel)")
        let chosen = sizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        for size in chosen {
            guard let (i, h, o) = shapes[size] else { throw ValidationError("size \(size) is not one of 30, 224, 1200") }
            var parameters = NetworkParameters()
            parameters.numInputNeurons = i
            parameters.numHiddenNeurons = h
            parameters.numOutputNeurons = o
            var samples: [Double] = []
            var synapseCounts: [Int] = []
            let clock = ContinuousClock()
            for seed in 1...repeats {
                let net = try NeuraxonNetwork(parameters: parameters, dynamics: .reference, seed: UInt64(seed))
                synapseCounts.append(net.synapseCount)
                for _ in 0..<steps {
                    let start = clock.now
                    net.simulateStep()
                    let elapsed = clock.now - start
                    samples.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
                }
            }
            samples.sort()
            let median = samples[samples.count / 2]
            let mean = samples.reduce(0, +) / Double(samples.count)
            let synapses = synapseCounts.reduce(0, +) / synapseCounts.count
            print(String(format: "%5d neurons (%d/%d/%d)  %6d synapses  median %9.2f µs/step  mean %9.2f µs/step  (%d steps)",
                         size, i, h, o, synapses, median, mean, samples.count))
        }
    }
}
