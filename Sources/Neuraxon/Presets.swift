/// Ready-made starting points: parameters and dynamics under a name.
public struct NetworkPreset: Sendable {
    public let name: String
    public let summary: String
    public let parameters: NetworkParameters
    public let dynamics: Dynamics

    /// Builds the preset's network with `seed` (see `NeuraxonNetwork.init(parameters:dynamics:seed:)`).
    public func build(seed: UInt64) throws(ParameterError) -> NeuraxonNetwork {
        let net = try NeuraxonNetwork(parameters: parameters, dynamics: dynamics, seed: seed)
        net.metadata["preset"] = name
        return net
    }

    /// The preset with this name, if any.
    public static func named(_ name: String) -> NetworkPreset? { all.first { $0.name == name } }

    /// Every preset, in the order `neuraxon net create --help` lists them.
    public static let all: [NetworkPreset] = [reference, small, large, plastic, flowing]

    /// The reference's defaults: 5/20/5 neurons, p = 0.05, reference dynamics. Faithful, and
    /// quiet: hidden and output neurons essentially never fire (θ+ = 1.2 at ACh = 0.1).
    public static let reference = NetworkPreset(
        name: "reference", summary: "the reference's defaults (5/20/5, reference dynamics)",
        parameters: NetworkParameters(), dynamics: .reference)

    /// 3/8/2 neurons, densely wired: small enough to read every neuron's trace.
    public static let small: NetworkPreset = {
        var p = NetworkParameters()
        p.networkName = "small"
        p.numInputNeurons = 3
        p.numHiddenNeurons = 8
        p.numOutputNeurons = 2
        p.connectionProbability = 0.3
        return NetworkPreset(name: "small", summary: "3/8/2 neurons at p = 0.3, reference dynamics",
                             parameters: p, dynamics: .reference)
    }()

    /// 100/1000/100 neurons at p = 0.05 (about 72,000 synapses), the benchmark's largest size.
    public static let large: NetworkPreset = {
        var p = NetworkParameters()
        p.networkName = "large"
        p.numInputNeurons = 100
        p.numHiddenNeurons = 1000
        p.numOutputNeurons = 100
        return NetworkPreset(name: "large", summary: "100/1000/100 neurons at p = 0.05, reference dynamics",
                             parameters: p, dynamics: .reference)
    }()

    /// Plasticity turned up to the top of its ranges: fast learning, dopamine and serotonin
    /// high, frequent synapse formation and faster synapse death.
    public static let plastic: NetworkPreset = {
        var p = NetworkParameters()
        p.networkName = "plastic"
        p.connectionProbability = 0.2
        p.learningRate = 0.1
        p.dopamineBaseline = 0.8
        p.serotoninBaseline = 0.8
        p.acetylcholineBaseline = 0.9
        p.synapseFormationProb = 0.2
        p.synapseDeathProb = 0.05
        p.spontaneousFiringRate = 0.05
        return NetworkPreset(name: "plastic", summary: "learning, formation and neuromodulators at the top of their ranges",
                             parameters: p, dynamics: .embodied)
    }()

    /// Activity that flows from inputs through hidden neurons to outputs: embodied dynamics
    /// (held inputs, resting weights, norepinephrine gain), acetylcholine at 1 (θ+ = 0.75,
    /// θ− = −1.25), fast membranes and denser wiring.
    public static let flowing: NetworkPreset = {
        var p = NetworkParameters()
        p.networkName = "flowing"
        p.numInputNeurons = 5
        p.numHiddenNeurons = 20
        p.numOutputNeurons = 5
        p.connectionProbability = 0.3
        p.membraneTimeConstant = 5
        p.acetylcholineBaseline = 1.0
        p.norepinephrineBaseline = 0.8
        p.spontaneousFiringRate = 0.05
        return NetworkPreset(name: "flowing", summary: "5/20/5, embodied dynamics, activity reaching hidden and output neurons",
                             parameters: p, dynamics: .embodied)
    }()
}
