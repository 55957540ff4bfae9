// NeuraxonEvolution — Aigarth-style evolution of Neuraxon networks.
// Licence: MIT with the Aigarth licence restrictions (no military or dual-use applications);
// see Sources/NeuraxonEvolution/NOTICE.

import Neuraxon

/// One synapse of a genome: its two neurons, its resting weights and its flags.
///
/// In the embodied dynamics each weight relaxes towards its resting value,
/// w ← w + dt/τ·(−(w − w_rest) + plasticity), so the resting weights are what a controller is
/// born with and returns to; plasticity moves the live weights around them during a run.
public struct Gene: Sendable, Equatable, Hashable, Codable {
    /// Presynaptic neuron id.
    public var pre: Int
    /// Postsynaptic neuron id.
    public var post: Int
    /// Resting fast (ionotropic) weight, in [−1, 1].
    public var fast: Double
    /// Resting slow (NMDA-like) weight, in [−1, 1].
    public var slow: Double
    /// Resting metabotropic weight, in [−0.5, 0.5]; acts only when the synapse is modulatory.
    public var meta: Double
    /// A silent synapse carries no current until plasticity unsilences it.
    public var isSilent: Bool
    /// A modulatory synapse adds 0.3·w_meta to its post neuron's threshold shift.
    public var isModulatory: Bool

    public init(pre: Int, post: Int, fast: Double, slow: Double = 0, meta: Double = 0,
                isSilent: Bool = false, isModulatory: Bool = false) {
        self.pre = pre
        self.post = post
        self.fast = fast
        self.slow = slow
        self.meta = meta
        self.isSilent = isSilent
        self.isModulatory = isModulatory
    }

    /// The resting value of one weight.
    public subscript(kind: WeightKind) -> Double {
        get {
            switch kind {
            case .fast: fast
            case .slow: slow
            case .meta: meta
            }
        }
        set {
            switch kind {
            case .fast: fast = newValue
            case .slow: slow = newValue
            case .meta: meta = newValue
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case pre, post, fast, slow, meta
        case isSilent = "silent"
        case isModulatory = "modulatory"
    }

    /// Whether all three resting weights are zero.
    public var isZero: Bool { fast == 0 && slow == 0 && meta == 0 }
}

/// The three weights of a synapse, with the ranges the model clamps them to.
public enum WeightKind: String, Sendable, CaseIterable {
    case fast, slow, meta

    /// The largest magnitude the model allows: 1 for fast and slow, 0.5 for metabotropic.
    public var limit: Double { self == .meta ? 0.5 : 1 }
}

/// A Neuraxon network in embodied dynamics, as the thing evolution varies: its sizes, its
/// topology, each synapse's resting weights and flags, and every parameter.
///
/// Neuron ids follow the model: inputs 0..<inputCount, then hidden neurons, then outputs. The
/// sizes live in `parameters` (one source of truth). Genes are kept sorted by (pre, post), so a
/// genome has one canonical form and a genome saved as a network file loads back equal.
///
/// A genome always obeys the model's wiring rules (no self-synapse, no output → input synapse,
/// at most one synapse per ordered pair), keeps every weight within its range and every
/// parameter within its range. Evolution changes the parameters listed in `evolvableParameters`;
/// the others stay as the starting genome set them.
public struct Genome: Sendable, Equatable {
    /// Every network parameter; the neuron counts among them are the genome's sizes.
    public internal(set) var parameters: NetworkParameters
    /// The synapses, sorted by (pre, post).
    public internal(set) var genes: [Gene]

    public var inputCount: Int { parameters.numInputNeurons }
    public var hiddenCount: Int { parameters.numHiddenNeurons }
    public var outputCount: Int { parameters.numOutputNeurons }
    /// inputs + hidden + outputs.
    public var neuronCount: Int { parameters.neuronCount }
    /// The id of the first output neuron.
    public var firstOutputId: Int { inputCount + hiddenCount }

    /// The parameters evolution varies, each within its range from `NetworkParameters.fields`:
    /// the firing thresholds θE and θI, the membrane time constant τm (ms), and the four
    /// neuromodulator baselines.
    public static let evolvableParameters: [NetworkParameters.Field] = [
        "firing_threshold_excitatory", "firing_threshold_inhibitory", "membrane_time_constant",
        "dopamine_baseline", "serotonin_baseline", "acetylcholine_baseline", "norepinephrine_baseline",
    ].compactMap { NetworkParameters.field(named: $0) }

    /// A genome with these parameters and genes (in any order; they are sorted).
    /// - Throws: `EvolutionError.invalidGenome` naming the first broken rule.
    public init(parameters: NetworkParameters, genes: [Gene]) throws(EvolutionError) {
        self.init(unchecked: parameters, genes: genes)
        if let problem = violations().first { throw .invalidGenome(problem) }
    }

    /// A genome taken as given; callers keep the rules.
    init(unchecked parameters: NetworkParameters, genes: [Gene]) {
        self.parameters = parameters
        self.genes = genes.sorted(by: Self.geneOrder)
    }

    static func geneOrder(_ a: Gene, _ b: Gene) -> Bool { (a.pre, a.post) < (b.pre, b.post) }

    // MARK: Rules

    /// The role of neuron `id`.
    public func role(of id: Int) -> NeuronRole {
        id < inputCount ? .input : id < firstOutputId ? .hidden : .output
    }

    /// The model's wiring rules: no self-synapse and no output → input synapse.
    public func wiringAllows(pre: Int, post: Int) -> Bool {
        NeuraxonNetwork.wiringAllows(pre: pre, post: post, inputCount: inputCount, hiddenCount: hiddenCount)
    }

    /// Every rule the genome breaks, each naming the place and the reason; empty when valid.
    public func violations() -> [String] {
        var found = parameters.validate().map { "parameter \($0)" }
        let n = neuronCount
        for (k, g) in genes.enumerated() {
            let place = "gene \(k) (\(g.pre) → \(g.post))"
            guard (0..<n).contains(g.pre), (0..<n).contains(g.post) else {
                found.append("\(place): neuron ids run 0…\(n - 1)")
                continue
            }
            if g.pre == g.post { found.append("\(place): a neuron may not synapse onto itself") }
            if role(of: g.pre) == .output && role(of: g.post) == .input {
                found.append("\(place): an output neuron may not synapse onto an input neuron")
            }
            if k > 0, !Self.geneOrder(genes[k - 1], g) {
                found.append("\(place): " + (genes[k - 1].pre == g.pre && genes[k - 1].post == g.post
                    ? "a second synapse between the same two neurons" : "genes out of (pre, post) order"))
            }
            for kind in WeightKind.allCases {
                let w = g[kind]
                if !w.isFinite || abs(w) > kind.limit {
                    found.append("\(place): resting \(kind.rawValue) weight \(w) is outside −\(kind.limit)…\(kind.limit)")
                }
            }
        }
        return found
    }

    // MARK: Networks and files

    /// The network this genome describes, in embodied dynamics, every synapse at its resting
    /// weights with integrity 1; `seed` starts the network's own random generator (spontaneous
    /// firing, unsilencing, formation).
    public func network(seed: UInt64) throws(EvolutionError) -> NeuraxonNetwork {
        let synapses = genes.map {
            Synapse(pre: $0.pre, post: $0.post, wFast: $0.fast, wSlow: $0.slow, wMeta: $0.meta,
                    isSilent: $0.isSilent, isModulatory: $0.isModulatory, integrity: 1,
                    restFast: $0.fast, restSlow: $0.slow, restMeta: $0.meta)
        }
        do {
            return try NeuraxonNetwork(parameters: parameters, dynamics: .embodied, seed: seed, synapses: synapses)
        } catch {
            throw .invalidGenome("the network cannot be built: \(error)")
        }
    }

    /// The genome of a network in embodied dynamics: its parameters, and each synapse's resting
    /// weights and flags (live weights, integrity and neuron state are not part of a genome).
    /// - Throws: `EvolutionError.notEmbodied` for other dynamics, `.invalidGenome` when the
    ///   network breaks a genome rule (a parameter or resting weight out of range).
    public init(network: NeuraxonNetwork) throws(EvolutionError) {
        guard network.dynamics == .embodied else { throw .notEmbodied(dynamics: network.dynamics.name) }
        let genes = network.synapses().map {
            Gene(pre: $0.pre, post: $0.post, fast: $0.restFast, slow: $0.restSlow, meta: $0.restMeta,
                 isSilent: $0.isSilent, isModulatory: $0.isModulatory)
        }
        try self.init(parameters: network.parameters, genes: genes)
    }

    /// Saves the genome as an ordinary network file (see `network(seed:)`), atomically, with
    /// `metadata` among the file's free-form facts.
    public func save(to path: String, seed: UInt64, metadata: [String: String] = [:]) throws(EvolutionError) {
        let net = try network(seed: seed)
        net.metadata = metadata
        do { try net.save(to: path) } catch { throw .file(path: path, message: error.message) }
    }

    /// Loads the genome of a network file saved in embodied dynamics.
    public static func load(contentsOf path: String) throws(EvolutionError) -> Genome {
        let net: NeuraxonNetwork
        do { net = try NeuraxonNetwork.load(contentsOf: path) } catch {
            let place = (error.line.map { "line \($0): " } ?? "") + (error.location.isEmpty ? "" : "\(error.location): ")
            throw .file(path: path, message: place + error.message)
        }
        do { return try Genome(network: net) } catch { throw error.located(in: path) }
    }

    // MARK: Starting points

    /// A random genome: `template`'s parameters with these sizes, and each allowed ordered pair
    /// wired with probability `connectionProbability`, its resting fast and slow weights drawn
    /// uniformly from the lattice {k·step : |k·step| ≤ 1} (metabotropic 0), neither silent nor
    /// modulatory.
    /// - Throws: `EvolutionError.invalidSettings` for sizes or a probability out of range.
    public static func random(template: NetworkParameters, inputs: Int, hidden: Int, outputs: Int,
                              connectionProbability: Double, step: Double = MutationSettings().weightStep,
                              using rng: inout EvolutionRandom) throws(EvolutionError) -> Genome {
        var p = template
        p.numInputNeurons = inputs
        p.numHiddenNeurons = hidden
        p.numOutputNeurons = outputs
        if let broken = p.validate().first {
            throw .invalidSettings(field: broken.field, value: "\(broken.value)", fix: "\(broken)")
        }
        guard (0...1).contains(connectionProbability) else {
            throw .invalidSettings(field: "connection_probability", value: "\(connectionProbability)",
                                   fix: "use a probability between 0 and 1")
        }
        guard step > 0, step <= 1 else {
            throw .invalidSettings(field: "weight_step", value: "\(step)", fix: "use a step in (0, 1]")
        }
        var genome = Genome(unchecked: p, genes: [])
        let levels = Int((1 / step).rounded(.down))
        for pre in 0..<genome.neuronCount {
            for post in 0..<genome.neuronCount where genome.wiringAllows(pre: pre, post: post) {
                guard rng.chance(connectionProbability) else { continue }
                let fast = Double(rng.below(2 * levels + 1) - levels) * step
                let slow = Double(rng.below(2 * levels + 1) - levels) * step
                genome.genes.append(Gene(pre: pre, post: post, fast: fast, slow: slow))
            }
        }
        return genome
    }
}
