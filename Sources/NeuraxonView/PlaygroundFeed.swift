import Foundation
import Neuraxon
import NeuraxonEmbodiment

/// `neuraxon view --playground`: a network with no robot. The page builds it from a preset and
/// parameters (checked by the same rules as `neuraxon net create --param`), sets input neurons
/// by hand, moves the neuromodulators, runs, pauses and steps it, and saves it.
///
/// The network lives here and is touched only under this feed's lock, by the server's display
/// loop (which runs `stepsPerFrame` steps a frame while running) and by the page's commands.
public final class PlaygroundFeed: ViewFeed, @unchecked Sendable {
    private let lock = NSLock()
    private var network: NeuraxonNetwork        // guarded by lock
    private var presetName: String              // guarded by lock
    private var inputs: [Trit]                  // guarded by lock
    private var running = false                 // guarded by lock
    private var scene: String                   // guarded by lock
    private var pending: [String] = []          // guarded by lock: messages for the next frame
    private var steps = 0                       // guarded by lock
    /// Network steps a display frame runs while running.
    public let stepsPerFrame: Int
    /// Where `save` writes the network; nil when the playground was started without `-o`.
    public let savePath: String?

    /// - Throws: `ParameterError` when the preset's network cannot be built.
    public init(preset: String = "flowing", seed: UInt64 = 1, savePath: String?, stepsPerFrame: Int = 5) throws {
        guard let p = NetworkPreset.named(preset) else { throw PageMessageError("no network preset `\(preset)`") }
        network = try p.build(seed: seed)
        presetName = p.name
        inputs = [Trit](repeating: .neutral, count: network.inputCount)
        self.savePath = savePath
        self.stepsPerFrame = stepsPerFrame
        scene = ""
        scene = makeScene()
    }

    public var sceneJSON: String { lock.withLock { scene } }

    /// The network as it stands (a copy of its file text, for tests and saving).
    public var networkFileText: String { lock.withLock { network.fileText() } }

    public func frame(watching: Bool) -> String? {
        lock.withLock {
            var parts = pending
            pending.removeAll()
            if running {
                for _ in 0..<stepsPerFrame { step() }
                parts.append(tickMessage())
            }
            return parts.isEmpty ? nil : parts.joined(separator: "\u{1e}")
        }
    }

    public func handle(_ command: PageCommand) -> String? {
        lock.withLock {
            switch command {
            case let .modulate(m, level):
                network.modulate(m, to: level)
                return tickMessage()
            case let .input(index, state):
                guard index < inputs.count else {
                    return Notice.error("input \(index) does not exist: this network has inputs 0…\(inputs.count - 1)")
                }
                inputs[index] = state
                return tickMessage()
            case .play:
                running = true
                return position()
            case .pause:
                running = false
                return position()
            case let .step(count):
                running = false
                for _ in 0..<count { step() }
                return tickMessage() + "\u{1e}" + position()
            case let .build(preset, seed, parameters):
                guard let base = NetworkPreset.named(preset) else {
                    return Notice.error("no network preset `\(preset)`: \(NetworkPreset.all.map(\.name).joined(separator: ", "))")
                }
                var chosen = base.parameters
                do {
                    for (key, value) in parameters.sorted(by: { $0.key < $1.key }) { chosen = try chosen.setting(key, to: value) }
                    network = try NeuraxonNetwork(parameters: chosen, dynamics: base.dynamics, seed: seed)
                } catch {
                    return Notice.error("cannot build the network: \(error)")
                }
                network.metadata["preset"] = base.name
                presetName = base.name
                inputs = [Trit](repeating: .neutral, count: network.inputCount)
                running = false
                steps = 0
                scene = makeScene()
                return scene
            case .save:
                guard let savePath else {
                    return Notice.error("start the playground with -o FILE to save its network")
                }
                do { try network.save(to: savePath) } catch {
                    return Notice.error("cannot save the network: \(error)")
                }
                return Notice.info("saved \(savePath): \(network.inputCount)/\(network.hiddenCount)/\(network.outputCount) neurons, \(network.synapseCount) synapses, after \(steps) steps")
            case .stop:
                running = false
                return position()
            case .speed, .seek:
                return Notice.error("speed and seek apply to a recording; the playground runs, pauses and steps")
            case .clamp:
                return Notice.error("clamp and release apply to a live run; the playground holds inputs with `input`")
            }
        }
    }

    /// One step with the inputs held (under the lock).
    private func step() {
        for k in 0..<inputs.count { network.setInputState(k, inputs[k]) }
        network.simulateStep()
        steps += 1
    }

    private func position() -> String {
        "{\"type\":\"position\",\"tick\":\(steps),\"tick_count\":\(steps),\"playing\":\(running),\"speed\":1}"
    }

    /// The network now, as one tick (under the lock).
    private func tickMessage() -> String {
        var s = ViewSnapshot(sensors: 0, values: 0, inputs: 0, outputs: 0, actuators: 0, neurons: 0)
        s.tick = steps
        s.timestampMicros = UInt64(network.time * 1000)
        s.inputs = inputs.map(\.rawValue)
        s.outputs = (0..<network.outputCount).map { network.outputState($0).rawValue }
        s.modulators = Neuromodulator.allCases.map { network.level(of: $0) }
        s.states = network.states().map(\.rawValue)
        s.potentials = network.potentials()
        s.synapseCount = network.synapseCount
        s.hasNeurons = true
        var j = JSONText()
        j.raw("{\"type\":\"ticks\",\"ticks\":[")
        Scene.append(s, to: &j)
        j.raw("]}")
        return j.text
    }

    private func makeScene() -> String {
        var text = Scene.json(mode: "playground", controls: true, title: "playground: \(presetName)",
                              device: DeviceInfo(name: "playground", sensors: [], actuators: []), valueNames: [],
                              inputCount: network.inputCount, outputCount: network.outputCount, network: network, world: nil)
        // The parameters the page may set, each with its range and current value.
        var j = JSONText()
        j.raw(",\"presets\":["); j.raw(NetworkPreset.all.map { "\"\($0.name)\"" }.joined(separator: ",")); j.raw("]")
        j.raw(",\"preset\":"); j.string(presetName)
        j.raw(",\"can_save\":"); j.raw(savePath == nil ? "false" : "true")
        j.raw(",\"parameters\":[")
        let p = network.parameters
        var first = true
        for field in NetworkParameters.fields {
            let value: Double
            switch field.kind {
            case let .integer(path): value = Double(p[keyPath: path])
            case let .real(path): value = p[keyPath: path]
            case .text: continue
            }
            if !first { j.raw(",") }
            first = false
            j.raw("{\"key\":"); j.string(field.key); j.raw(",\"value\":"); j.number(value, digits: 6)
            if let r = field.range { j.raw(",\"min\":"); j.number(r.lowerBound); j.raw(",\"max\":"); j.number(r.upperBound) }
            j.raw("}")
        }
        j.raw("]")
        text.removeLast()   // the closing brace
        return text + j.text + "}"
    }
}
