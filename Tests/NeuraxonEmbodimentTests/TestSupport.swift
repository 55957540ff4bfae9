import Foundation
import Neuraxon
@testable import NeuraxonEmbodiment

/// A network stand-in that logs what the loop does to it: the steps, the inputs held at each
/// step, and the modulations. Output k is input k as it was one step earlier.
final class ProbeNetwork: ControlledNetwork {
    let inputCount: Int
    let outputCount: Int
    let dt: Double
    var inputs: [Trit]
    var delayed: [Trit]
    var stepCount = 0
    var inputsAtLastStep: [Trit]
    var levels = [Double](repeating: 0.1, count: 4)
    var modulations: [(Neuromodulator, Double, Int)] = []

    init(inputCount: Int = 5, outputCount: Int = 5, dt: Double = 1) {
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.dt = dt
        inputs = [Trit](repeating: .neutral, count: inputCount)
        delayed = inputs
        inputsAtLastStep = inputs
        modulations.reserveCapacity(1024)
    }

    func setInputState(_ index: Int, _ state: Trit) { inputs[index] = state }
    func simulateStep() {
        stepCount += 1
        for k in 0..<inputCount { delayed[k] = inputs[k]; inputsAtLastStep[k] = inputs[k] }
    }
    func outputState(_ index: Int) -> Trit { delayed[index % inputCount] }
    func modulate(_ modulator: Neuromodulator, to level: Double) {
        levels[modulator.index] = min(1, max(0, level))
        if modulations.count < modulations.capacity { modulations.append((modulator, level, stepCount)) }
    }
    func level(of modulator: Neuromodulator) -> Double { levels[modulator.index] }
}

/// A temporary folder removed when the value is dropped.
final class TemporaryFolder {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "neuraxon-embodiment-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }
}

/// Readings of the reference robot for frame i: a slow sweep of every sensor, bumps now and then.
func sweepReadings(_ i: Int) -> [Int16] {
    let t = Double(i) * 0.005
    return [
        Int16(1700 + 1300 * sin(t * 1.3)), Int16(1700 + 1300 * sin(t * 0.8 + 1)),
        Int16(2500 + 2400 * sin(t * 0.5)), Int16(2500 + 2400 * cos(t * 0.45)),
        i % 300 < 15 ? 1 : 0, Int16(i % 1000), Int16(i % 700),
    ]
}

let referenceMapping = try! Mapping(yaml: referenceMappingYAML, device: .referenceRobot, inputCount: 5, outputCount: 5)

/// Saves a fresh network of the "flowing" preset (5/20/5, active outputs) and returns its path.
func savedFlowingNetwork(in folder: TemporaryFolder, seed: UInt64 = 11, name: String = "net.json") throws -> String {
    let path = folder.file(name)
    try NetworkPreset.flowing.build(seed: seed).save(to: path)
    return path
}

/// Loads a network file and its identity for a recording header.
func loadNetwork(_ path: String) throws -> (NeuraxonNetwork, NetworkIdentity) {
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    let network = try NeuraxonNetwork.load(bytes: bytes, file: path)
    return (network, NetworkIdentity(path: path, bytes: bytes, network: network))
}
