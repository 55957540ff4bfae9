import Foundation

/// A Neuraxon network: trinary neurons with continuous-time membrane dynamics, synapses with
/// three weights on three timescales, four neuromodulators, and plasticity that grows and
/// removes synapses.
///
/// The API follows the published reference (`NeuraxonNetwork`, `set_input_states`,
/// `simulate_step`, `get_output_states`, `modulate`, `save_network`, `load_network`):
///
/// ```swift
/// let net = try NeuraxonNetwork(parameters: NetworkParameters(), seed: 42)
/// net.setInputStates([.excitatory, .inhibitory, .neutral, .excitatory, .inhibitory])
/// net.simulateStep()
/// let outputs = net.outputStates()
/// try net.modulate("dopamine", to: 0.8)
/// try net.save(to: "net.json")
/// ```
///
/// With `Dynamics.reference` and the same seed as Python's `random.seed(seed)`, building and
/// running a network gives exactly the reference's network and trajectory. The storage is laid
/// out for the step: neuron and synapse state as columns, synapses in creation order grouped by
/// their presynaptic neuron, and nothing allocated inside `simulateStep()` (the synapse columns
/// reserve room for growth; they reallocate only if formation outgrows it).
public final class NeuraxonNetwork {
    /// The parameters the network was built or loaded with.
    public let parameters: NetworkParameters
    /// The dynamics switches (see `Dynamics`).
    public let dynamics: Dynamics
    /// The integer seed the random generator started from, when known.
    public let seed: UInt64?
    /// Free-form facts saved with the network (for example the preset it came from).
    public var metadata: [String: String] = [:]
    /// What `load(contentsOf:)` accepted but found questionable (parameters outside their
    /// ranges, a missing random generator state). Empty for a network built in code.
    public internal(set) var loadWarnings: [String] = []

    public let inputCount: Int
    public let hiddenCount: Int
    public let outputCount: Int
    /// inputs + hidden + outputs.
    public let neuronCount: Int

    /// Simulated time in ms (advances by dt each step).
    public internal(set) var time: Double = 0
    /// Steps taken since creation.
    public internal(set) var stepCount: Int = 0

    /// The random generator's 625 words (see `MT19937`), drawn from in place by the step.
    let rngWords: Column<UInt32>

    // Neuron columns, by id.
    let potential: Column<Double>      // V
    let state: Column<Int8>            // s ∈ {−1, 0, 1}
    let adaptation: Column<Double>     // a
    let autoreceptor: Column<Double>   // r
    let health: Column<Double>         // h
    let active: Column<Bool>
    let externalCurrent: Column<Double>
    /// The four neuromodulator levels, in `Neuromodulator.allCases` order.
    let levels: Column<Double>
    /// Their baselines, in the same order.
    let baselines: Column<Double>
    /// Number of inactive (dead) neurons; while 0 the step skips every activity check.
    var deadNeurons = 0
    /// Ids of the active neurons in order; maintained only while `deadNeurons > 0`.
    let activeIds: Column<Int32>

    // Synapse columns, in creation (list) order.
    let synPre: Column<Int32>
    let synPost: Column<Int32>
    let wFast: Column<Double>
    let wSlow: Column<Double>
    let wMeta: Column<Double>
    let restFast: Column<Double>
    let restSlow: Column<Double>
    let restMeta: Column<Double>
    let integrity: Column<Double>
    let silent: Column<Bool>
    let modulatory: Column<Bool>
    let kind: Column<UInt8>

    // Derived structure, rebuilt whenever the synapse list changes.
    /// Synapses 0..<sortedPrefix have non-decreasing `pre`; the rest (synapses formed later,
    /// in formation order) form the tail.
    var sortedPrefix = 0
    /// For neuron p, its synapses in the sorted prefix are preStart[p]..<preStart[p + 1].
    let preStart: Column<Int32>
    /// Indices of modulatory synapses, in list order.
    let modulatoryIndices: Column<Int32>
    /// Synapses pruned but not yet removed from the columns: their integrity is
    /// `NeuraxonNetwork.tombstone`, which every loop skips (it is ≤ 0), and they are removed in
    /// one pass once they make up an eighth of the columns.
    var tombstones = 0
    /// The integrity value that marks a pruned synapse still in the columns.
    static let tombstone = -Double.infinity
    /// Whether a synapse that is not a tombstone may have integrity ≤ 0, which the step must skip:
    /// true when the pruning threshold is negative (only a file can set that) or a loaded file held
    /// such a synapse. Otherwise pruning keeps every integrity above the threshold, hence above 0.
    var mayHoldNonPositiveIntegrity: Bool {
        parameters.synapseIntegrityThreshold < 0 || loadedNonPositiveIntegrity
    }
    /// Set by the loader when a synapse in the file has integrity ≤ 0; cleared by pruning.
    var loadedNonPositiveIntegrity = false

    // Scratch for the step.
    let synapticSum: Column<Double>
    let modulatorySum: Column<Double>
    /// For the current step, the synapses whose pre neuron fired (+1) and whose post neuron is at
    /// ±1, in list order, with that post state; and room to save their values (4 per synapse).
    let plasticIndex: Column<UInt32>
    let plasticSign: Column<Int8>
    let plasticScratch: Column<Double>
    let unsilenceCandidates: Column<Int32>
    let keepMask: Column<Bool>
    let liveMask: Column<UInt8>

    /// Builds a random network exactly as the reference does after `random.seed(seed)`:
    /// neurons first (no draws), then for every ordered pair (pre, post) in id order, skipping
    /// pre == post and output → input, one draw decides whether a synapse exists (U < p), and a
    /// new synapse draws w_fast, w_slow, w_meta (uniform in their init ranges), then silent
    /// (U < 0.1) and modulatory (U < 0.2).
    ///
    /// In embodied dynamics the initial synapses rest at the weights they were drawn with;
    /// synapses formed later rest at 0.
    ///
    /// - Throws: `ParameterError` when a parameter is outside its range.
    public convenience init(parameters: NetworkParameters = NetworkParameters(),
                            dynamics: Dynamics = .reference, seed: UInt64) throws(ParameterError) {
        let parameters = try parameters.checked()
        self.init(uncheckedParameters: parameters, dynamics: dynamics, seed: seed, rng: PythonRandom(seed: seed))
        wireRandomly()
    }

    /// A network wired by hand: these synapses, in this order (hand-wired controllers, evolved
    /// genomes). Each synapse's resting weights are used when the dynamics have resting weights
    /// on. The random generator starts from `seed` and is used only by the step.
    ///
    /// - Throws: `ParameterError` for a parameter outside its range, `ModelError` for a synapse
    ///   that names a missing neuron, breaks the wiring rules or repeats a pair.
    public convenience init(parameters: NetworkParameters, dynamics: Dynamics, seed: UInt64,
                            synapses: [Synapse]) throws {
        let parameters = try parameters.checked()
        self.init(uncheckedParameters: parameters, dynamics: dynamics, seed: seed, rng: PythonRandom(seed: seed),
                  synapseCapacity: synapses.count + max(1024, synapses.count))
        var seen = Set<[Int]>()
        for (k, syn) in synapses.enumerated() {
            guard (0..<neuronCount).contains(syn.pre), (0..<neuronCount).contains(syn.post) else {
                throw ModelError.invalidSynapse(index: k, reason: "neuron ids run 0…\(neuronCount - 1)")
            }
            guard wiringAllows(pre: syn.pre, post: syn.post) else {
                throw ModelError.invalidSynapse(index: k, reason: "\(syn.pre) → \(syn.post) breaks the wiring rules (no self-synapse, no output → input)")
            }
            guard seen.insert([syn.pre, syn.post]).inserted else {
                throw ModelError.invalidSynapse(index: k, reason: "a second synapse \(syn.pre) → \(syn.post)")
            }
            for (name, w) in [("w_fast", syn.wFast), ("w_slow", syn.wSlow), ("w_meta", syn.wMeta), ("integrity", syn.integrity),
                              ("rest_fast", syn.restFast), ("rest_slow", syn.restSlow), ("rest_meta", syn.restMeta)] where !w.isFinite {
                throw ModelError.invalidSynapse(index: k, reason: "\(name) is \(w)")
            }
            appendColumns(syn)
        }
        loadedNonPositiveIntegrity = synapses.contains { $0.integrity <= 0 }
        rebuildIndexes()
    }

    /// An empty network (no synapses) with the given sizes; callers add synapses.
    init(uncheckedParameters parameters: NetworkParameters, dynamics: Dynamics, seed: UInt64?, rng: PythonRandom,
         synapseCapacity: Int = 0) {
        self.parameters = parameters
        self.dynamics = dynamics
        self.seed = seed
        rngWords = Column(rng.rawWords, filler: 0)
        inputCount = parameters.numInputNeurons
        hiddenCount = parameters.numHiddenNeurons
        outputCount = parameters.numOutputNeurons
        let n = inputCount + hiddenCount + outputCount
        neuronCount = n
        potential = Column(repeating: 0, count: n)
        state = Column(repeating: 0, count: n)
        adaptation = Column(repeating: 0, count: n)
        autoreceptor = Column(repeating: 0, count: n)
        health = Column(repeating: 1, count: n)
        active = Column(repeating: true, count: n)
        externalCurrent = Column(repeating: 0, count: n)
        levels = Column(Neuromodulator.allCases.map { parameters.baseline(of: $0) }, filler: 0)
        baselines = Column(Neuromodulator.allCases.map { parameters.baseline(of: $0) }, filler: 0)
        activeIds = Column(repeating: 0, count: 0, capacity: n)
        let capacity = max(64, synapseCapacity)
        synPre = Column(repeating: 0, count: 0, capacity: capacity)
        synPost = Column(repeating: 0, count: 0, capacity: capacity)
        wFast = Column(repeating: 0, count: 0, capacity: capacity)
        wSlow = Column(repeating: 0, count: 0, capacity: capacity)
        wMeta = Column(repeating: 0, count: 0, capacity: capacity)
        restFast = Column(repeating: 0, count: 0, capacity: capacity)
        restSlow = Column(repeating: 0, count: 0, capacity: capacity)
        restMeta = Column(repeating: 0, count: 0, capacity: capacity)
        integrity = Column(repeating: 0, count: 0, capacity: capacity)
        silent = Column(repeating: false, count: 0, capacity: capacity)
        modulatory = Column(repeating: false, count: 0, capacity: capacity)
        kind = Column(repeating: 0, count: 0, capacity: capacity)
        plasticIndex = Column(repeating: 0, count: 0, capacity: capacity)
        plasticSign = Column(repeating: 0, count: 0, capacity: capacity)
        plasticScratch = Column(repeating: 0, count: 0, capacity: 4 * capacity)
        keepMask = Column(repeating: true, count: 0, capacity: capacity)
        liveMask = Column(repeating: 1, count: 0, capacity: capacity)
        modulatoryIndices = Column(repeating: 0, count: 0, capacity: capacity)
        unsilenceCandidates = Column(repeating: 0, count: 0, capacity: capacity)
        preStart = Column(repeating: 0, count: n + 1)
        synapticSum = Column(repeating: 0, count: n)
        modulatorySum = Column(repeating: 0, count: n)
    }

    // MARK: Neurons

    /// The role of neuron `id`.
    public func role(of id: Int) -> NeuronRole {
        id < inputCount ? .input : id < inputCount + hiddenCount ? .hidden : .output
    }

    /// The id of the first output neuron.
    public var firstOutputId: Int { inputCount + hiddenCount }

    /// Sets the first min(states.count, inputCount) input neurons: s ← state and V ← state·θE,
    /// like the reference's `set_input_states`.
    public func setInputStates(_ states: [Trit]) {
        for (i, trit) in states.prefix(inputCount).enumerated() { setInputState(i, trit) }
    }

    /// Sets input neuron `index` (0..<inputCount): s ← state, V ← state·θE. Allocation-free.
    @inline(__always) public func setInputState(_ index: Int, _ trit: Trit) {
        guard index >= 0, index < inputCount else { return }
        state[index] = trit.rawValue
        potential[index] = Double(trit.rawValue) * parameters.firingThresholdExcitatory
    }

    /// Sets the external current added to neuron `id`'s membrane equation at every following
    /// step until changed (the reference's `external_inputs` of `simulate_step`).
    public func setExternalCurrent(_ current: Double, neuron id: Int) {
        guard id >= 0, id < neuronCount else { return }
        externalCurrent[id] = current
    }

    /// Sets every external current back to 0.
    public func clearExternalCurrents() { externalCurrent.fill(0) }

    /// Runs one step with these external currents (neuron id → current), then clears them;
    /// the reference's `simulate_step(external_inputs)`.
    public func simulateStep(externalCurrents: [Int: Double]) {
        for (id, current) in externalCurrents { setExternalCurrent(current, neuron: id) }
        simulateStep()
        for id in externalCurrents.keys where id >= 0 && id < neuronCount { externalCurrent[id] = 0 }
    }

    /// The state of output neuron `index` (0..<outputCount); `.neutral` when it has died.
    @inline(__always) public func outputState(_ index: Int) -> Trit {
        let id = firstOutputId + index
        guard index >= 0, index < outputCount, active[id] else { return .neutral }
        return Trit(rawValue: state[id]) ?? .neutral
    }

    /// The states of the active output neurons in id order, like `get_output_states`.
    public func outputStates() -> [Trit] {
        (firstOutputId..<neuronCount).compactMap { active[$0] ? Trit(rawValue: state[$0]) : nil }
    }

    /// Every neuron's state, in id order.
    public func states() -> [Trit] { (0..<neuronCount).map { Trit(rawValue: state[$0]) ?? .neutral } }
    /// Every neuron's membrane potential V, in id order.
    public func potentials() -> [Double] { potential.array }

    /// A snapshot of one neuron.
    public func neuron(_ id: Int) -> Neuron {
        Neuron(id: id, role: role(of: id), potential: potential[id], state: Trit(rawValue: state[id]) ?? .neutral,
               adaptation: adaptation[id], autoreceptor: autoreceptor[id], health: health[id], isActive: active[id])
    }

    /// Number of active neurons.
    public var activeNeuronCount: Int { neuronCount - deadNeurons }

    // MARK: Neuromodulators

    /// Sets a neuromodulator to clamp(level, 0, 1); it then relaxes back to its baseline.
    public func modulate(_ modulator: Neuromodulator, to level: Double) {
        guard !level.isNaN else { return }
        // Python's max(0.0, min(1.0, level)), including its choice of operand on ties.
        let capped = level < 1.0 ? level : 1.0
        levels[modulator.index] = capped > 0.0 ? capped : 0.0
    }

    /// Like `modulate(_:to:)` with the modulator's name; an unknown name is an error.
    public func modulate(_ name: String, to level: Double) throws(ModelError) {
        guard let modulator = Neuromodulator(rawValue: name) else {
            throw .unknownNeuromodulator(name)
        }
        guard level.isFinite else { throw .invalidValue(what: "level of \(name)", value: level) }
        modulate(modulator, to: level)
    }

    /// The current level of a neuromodulator.
    public func level(of modulator: Neuromodulator) -> Double { levels[modulator.index] }

    /// dt in ms.
    public var dt: Double { parameters.dt }

    // MARK: Synapses

    /// Number of synapses.
    public var synapseCount: Int { synPre.count - tombstones }

    /// Number of synapse slots in the columns, pruned ones not yet removed included.
    var storedSynapseCount: Int { synPre.count }

    /// Column indices of the synapses, in list order (pruned ones left out).
    var liveSynapseIndices: [Int] {
        (0..<storedSynapseCount).filter { integrity[$0] != Self.tombstone }
    }

    /// A snapshot of the synapse in column slot `index`.
    func synapse(at index: Int) -> Synapse {
        Synapse(pre: Int(synPre[index]), post: Int(synPost[index]), wFast: wFast[index], wSlow: wSlow[index],
                wMeta: wMeta[index], isSilent: silent[index], isModulatory: modulatory[index],
                integrity: integrity[index], kind: SynapseKind(rawValue: kind[index]) ?? .ionotropicSlow,
                restFast: restFast[index], restSlow: restSlow[index], restMeta: restMeta[index])
    }

    /// Every synapse in list order.
    public func synapses() -> [Synapse] { liveSynapseIndices.map(synapse(at:)) }

    /// Calls `body` with each synapse's ends and weights, in list order, allocating nothing (for
    /// copying them on a real-time thread).
    public func forEachSynapse(_ body: (_ pre: Int, _ post: Int, _ wFast: Double, _ wSlow: Double, _ wMeta: Double,
                                        _ isSilent: Bool, _ isModulatory: Bool) -> Void) {
        for k in 0..<storedSynapseCount where integrity[k] != Self.tombstone {
            body(Int(synPre[k]), Int(synPost[k]), wFast[k], wSlow[k], wMeta[k], silent[k], modulatory[k])
        }
    }

    /// The random generator's state, for saving.
    public var randomState: PythonRandom { PythonRandom(rawWords: rngWords.array) }

    /// Python's `random.random()` on the network's generator.
    @inline(__always) func draw() -> Double { MT19937.random(rngWords.base) }
    /// Python's `random.uniform(lo, hi)` on the network's generator.
    @inline(__always) func drawUniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * draw() }
    /// Python's `_randbelow(n)` (as in `random.choice`) on the network's generator.
    @inline(__always) func drawBelow(_ n: Int) -> Int { MT19937.randomBelow(n, rngWords.base) }
}

/// A snapshot of one neuron.
public struct Neuron: Sendable, Equatable {
    public let id: Int
    public let role: NeuronRole
    /// Membrane potential V (dimensionless; thresholds near ±1).
    public let potential: Double
    public let state: Trit
    public let adaptation: Double
    public let autoreceptor: Double
    /// Health in (−∞, 1]; a hidden neuron below neuron_death_threshold may die.
    public let health: Double
    public let isActive: Bool
}

/// Errors of the model's API.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownNeuromodulator(String)
    case invalidValue(what: String, value: Double)
    case invalidSynapse(index: Int, reason: String)

    public var description: String {
        switch self {
        case .unknownNeuromodulator(let name):
            "unknown neuromodulator '\(name)'; the neuromodulators are "
                + Neuromodulator.allCases.map(\.rawValue).joined(separator: ", ")
        case .invalidValue(let what, let value):
            "\(what) must be a finite number, got \(value)"
        case .invalidSynapse(let index, let reason):
            "synapse \(index): \(reason)"
        }
    }
}
