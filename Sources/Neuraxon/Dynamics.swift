/// Which dynamics a network runs: the published reference exactly, or the embodied dynamics a
/// robot controller needs. Each departure from the reference is a separate switch, saved in the
/// network file; `reference` has all three off.
public struct Dynamics: Sendable, Equatable, Hashable {
    /// Input neurons hold the state the caller sets and skip the neuron equation (no noise, no
    /// adaptation, no health), instead of relaxing back to 0 after one step.
    public var heldInputs: Bool
    /// Every weight relaxes towards its synapse's resting value, w ← w + dt/τ·(−(w − w_rest) + …),
    /// instead of towards 0.
    public var restingWeights: Bool
    /// The summed synaptic current S of each neuron is multiplied by g = 1 + 0.4·(NE − 0.5).
    public var norepinephrineGain: Bool

    public init(heldInputs: Bool, restingWeights: Bool, norepinephrineGain: Bool) {
        self.heldInputs = heldInputs
        self.restingWeights = restingWeights
        self.norepinephrineGain = norepinephrineGain
    }

    /// The published reference, quirks included: bit-identical to it for the same seed.
    public static let reference = Dynamics(heldInputs: false, restingWeights: false, norepinephrineGain: false)
    /// The reference plus all three departures: what the robot presets use.
    public static let embodied = Dynamics(heldInputs: true, restingWeights: true, norepinephrineGain: true)

    /// "reference", "embodied", or "custom" for any other combination.
    public var name: String {
        self == .reference ? "reference" : self == .embodied ? "embodied" : "custom"
    }
}

/// The role of a neuron, fixed by its id: inputs first, then hidden, then outputs.
public enum NeuronRole: String, Sendable, CaseIterable {
    case input, hidden, output
}

/// The kind a synapse is labelled with at creation (and again when it is unsilenced):
/// silent → `silent`; else modulatory → `metabotropic`; else |w_fast| > |w_slow| →
/// `ionotropicFast`; else `ionotropicSlow`.
public enum SynapseKind: UInt8, Sendable, CaseIterable {
    case ionotropicFast, ionotropicSlow, metabotropic, silent

    /// The name the file format uses.
    public var fileName: String {
        switch self {
        case .ionotropicFast: "ionotropic_fast"
        case .ionotropicSlow: "ionotropic_slow"
        case .metabotropic: "metabotropic"
        case .silent: "silent"
        }
    }

    public init?(fileName: String) {
        guard let kind = Self.allCases.first(where: { $0.fileName == fileName }) else { return nil }
        self = kind
    }

    static func classify(silent: Bool, modulatory: Bool, wFast: Double, wSlow: Double) -> SynapseKind {
        if silent { return .silent }
        if modulatory { return .metabotropic }
        return abs(wFast) > abs(wSlow) ? .ionotropicFast : .ionotropicSlow
    }
}

/// One synapse, as a value: for building, inspecting and saving networks (the network stores
/// synapses as columns, not as these).
public struct Synapse: Sendable, Equatable {
    public var pre: Int
    public var post: Int
    public var wFast: Double
    public var wSlow: Double
    public var wMeta: Double
    public var isSilent: Bool
    public var isModulatory: Bool
    public var integrity: Double
    public var kind: SynapseKind
    /// Resting values (used by the embodied dynamics; 0 in the reference).
    public var restFast: Double
    public var restSlow: Double
    public var restMeta: Double

    public init(pre: Int, post: Int, wFast: Double, wSlow: Double, wMeta: Double,
                isSilent: Bool = false, isModulatory: Bool = false, integrity: Double = 1,
                kind: SynapseKind? = nil, restFast: Double = 0, restSlow: Double = 0, restMeta: Double = 0) {
        self.pre = pre
        self.post = post
        self.wFast = wFast
        self.wSlow = wSlow
        self.wMeta = wMeta
        self.isSilent = isSilent
        self.isModulatory = isModulatory
        self.integrity = integrity
        self.kind = kind ?? SynapseKind.classify(silent: isSilent, modulatory: isModulatory, wFast: wFast, wSlow: wSlow)
        self.restFast = restFast
        self.restSlow = restSlow
        self.restMeta = restMeta
    }
}
