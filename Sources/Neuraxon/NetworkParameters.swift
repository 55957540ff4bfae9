import Foundation

/// The 33 parameters of a Neuraxon network, with the reference's defaults.
///
/// Declaration order is the order of the reference's `NetworkParameters` and of the
/// `"parameters"` object in a network file. Times are in milliseconds. Each field has the
/// reference's documented range (bounds included); `validate()` lists every field outside it.
/// A value set by a user is refused when out of range (see `setting(_:to:)`); a value read from
/// a file is kept and reported as a warning.
public struct NetworkParameters: Sendable, Equatable {
    /// A name for identification; saved, not used by the dynamics.
    public var networkName = "My Neuraxon Net"

    // Architecture
    /// Number of input neurons (ids 0..<n_in), 1–100.
    public var numInputNeurons = 5
    /// Number of hidden neurons, 1–1000.
    public var numHiddenNeurons = 20
    /// Number of output neurons (the last ids), 1–100.
    public var numOutputNeurons = 5
    /// Probability of each allowed synapse at creation, 0–1. Initial wiring only.
    public var connectionProbability = 0.05

    // Neurons
    /// τm, membrane time constant in ms, 5–50.
    public var membraneTimeConstant = 20.0
    /// θE, base excitatory firing threshold, 0.5–2.
    public var firingThresholdExcitatory = 1.0
    /// θI, base inhibitory firing threshold, −2 – −0.5.
    public var firingThresholdInhibitory = -1.0
    /// Unused by the dynamics (the reference's adaptation uses a fixed 100 ms constant), 0–0.2.
    public var adaptationRate = 0.05
    /// Probability per ms of a spontaneous current ξ ~ U(−0.5, 0.5), 0–0.1.
    public var spontaneousFiringRate = 0.01
    /// Health lost per ms by a quiet neuron (|V|/2 < 0.01), 0–0.01.
    public var neuronHealthDecay = 0.001

    // Synapses
    /// τf, fast (ionotropic) weight time constant in ms, 1–10.
    public var tauFast = 5.0
    /// Lower bound of the initial fast weight draw, −1–0.
    public var wFastInitMin = -1.0
    /// Upper bound of the initial fast weight draw, 0–1.
    public var wFastInitMax = 1.0
    /// τs, slow (NMDA-like) weight time constant in ms, 20–100.
    public var tauSlow = 50.0
    /// Lower bound of the initial slow weight draw, −1–0.
    public var wSlowInitMin = -0.5
    /// Upper bound of the initial slow weight draw, 0–1.
    public var wSlowInitMax = 0.5
    /// τmeta, metabotropic weight time constant in ms, 500–5000.
    public var tauMeta = 1000.0
    /// Lower bound of the initial metabotropic weight draw, −0.5–0.
    public var wMetaInitMin = -0.3
    /// Upper bound of the initial metabotropic weight draw, 0–0.5.
    public var wMetaInitMax = 0.3

    // Plasticity
    /// η, learning rate of the dopamine-gated plasticity, 0–0.1.
    public var learningRate = 0.01
    /// Time constant (ms) of the STDP traces, which nothing reads, 10–50.
    public var stdpWindow = 20.0
    /// Synapses whose integrity falls to this level or below are removed, 0–0.5.
    public var synapseIntegrityThreshold = 0.1
    /// Probability per step of one attempt to form a random synapse, 0–0.2.
    public var synapseFormationProb = 0.05
    /// Integrity lost per ms by a synapse whose fast and slow weights are both below 0.01, 0–0.1.
    public var synapseDeathProb = 0.01
    /// A hidden neuron whose health is below this level may die (p = 0.001 per step), 0–0.3.
    public var neuronDeathThreshold = 0.1

    // Neuromodulators
    /// Dopamine baseline, 0–1.
    public var dopamineBaseline = 0.1
    /// Serotonin baseline, 0–1.
    public var serotoninBaseline = 0.1
    /// Acetylcholine baseline, 0–1.
    public var acetylcholineBaseline = 0.1
    /// Norepinephrine baseline, 0–1.
    public var norepinephrineBaseline = 0.1
    /// Relaxation rate of every level towards its baseline, per 100 ms, 0–0.5.
    public var neuromodDecayRate = 0.1

    // Simulation
    /// dt, the step in ms, 0.1–10.
    public var dt = 1.0
    /// Saved only; unused by the library, 1–10000.
    public var simulationSteps = 100

    public init() {}

    /// The number of neurons: inputs, then hidden, then outputs.
    public var neuronCount: Int { numInputNeurons + numHiddenNeurons + numOutputNeurons }

    /// The baseline of one neuromodulator.
    public func baseline(of modulator: Neuromodulator) -> Double {
        switch modulator {
        case .dopamine: dopamineBaseline
        case .serotonin: serotoninBaseline
        case .acetylcholine: acetylcholineBaseline
        case .norepinephrine: norepinephrineBaseline
        }
    }
}

extension NetworkParameters {
    /// How a field is stored: a whole number, a real number, or the name.
    public enum FieldKind: Sendable {
        case integer(WritableKeyPath<NetworkParameters, Int> & Sendable)
        case real(WritableKeyPath<NetworkParameters, Double> & Sendable)
        case text(WritableKeyPath<NetworkParameters, String> & Sendable)
    }

    /// One parameter: its file key, where it lives, and its valid range (nil: any value).
    public struct Field: Sendable {
        public let key: String
        public let kind: FieldKind
        public let range: ClosedRange<Double>?
    }

    /// The 33 fields in declaration order: the single description of names, storage and ranges
    /// that validation, the file format and the command line all use.
    public static let fields: [Field] = [
        Field(key: "network_name", kind: .text(\.networkName), range: nil),
        Field(key: "num_input_neurons", kind: .integer(\.numInputNeurons), range: 1...100),
        Field(key: "num_hidden_neurons", kind: .integer(\.numHiddenNeurons), range: 1...1000),
        Field(key: "num_output_neurons", kind: .integer(\.numOutputNeurons), range: 1...100),
        Field(key: "connection_probability", kind: .real(\.connectionProbability), range: 0...1),
        Field(key: "membrane_time_constant", kind: .real(\.membraneTimeConstant), range: 5...50),
        Field(key: "firing_threshold_excitatory", kind: .real(\.firingThresholdExcitatory), range: 0.5...2),
        Field(key: "firing_threshold_inhibitory", kind: .real(\.firingThresholdInhibitory), range: -2 ... -0.5),
        Field(key: "adaptation_rate", kind: .real(\.adaptationRate), range: 0...0.2),
        Field(key: "spontaneous_firing_rate", kind: .real(\.spontaneousFiringRate), range: 0...0.1),
        Field(key: "neuron_health_decay", kind: .real(\.neuronHealthDecay), range: 0...0.01),
        Field(key: "tau_fast", kind: .real(\.tauFast), range: 1...10),
        Field(key: "w_fast_init_min", kind: .real(\.wFastInitMin), range: -1...0),
        Field(key: "w_fast_init_max", kind: .real(\.wFastInitMax), range: 0...1),
        Field(key: "tau_slow", kind: .real(\.tauSlow), range: 20...100),
        Field(key: "w_slow_init_min", kind: .real(\.wSlowInitMin), range: -1...0),
        Field(key: "w_slow_init_max", kind: .real(\.wSlowInitMax), range: 0...1),
        Field(key: "tau_meta", kind: .real(\.tauMeta), range: 500...5000),
        Field(key: "w_meta_init_min", kind: .real(\.wMetaInitMin), range: -0.5...0),
        Field(key: "w_meta_init_max", kind: .real(\.wMetaInitMax), range: 0...0.5),
        Field(key: "learning_rate", kind: .real(\.learningRate), range: 0...0.1),
        Field(key: "stdp_window", kind: .real(\.stdpWindow), range: 10...50),
        Field(key: "synapse_integrity_threshold", kind: .real(\.synapseIntegrityThreshold), range: 0...0.5),
        Field(key: "synapse_formation_prob", kind: .real(\.synapseFormationProb), range: 0...0.2),
        Field(key: "synapse_death_prob", kind: .real(\.synapseDeathProb), range: 0...0.1),
        Field(key: "neuron_death_threshold", kind: .real(\.neuronDeathThreshold), range: 0...0.3),
        Field(key: "dopamine_baseline", kind: .real(\.dopamineBaseline), range: 0...1),
        Field(key: "serotonin_baseline", kind: .real(\.serotoninBaseline), range: 0...1),
        Field(key: "acetylcholine_baseline", kind: .real(\.acetylcholineBaseline), range: 0...1),
        Field(key: "norepinephrine_baseline", kind: .real(\.norepinephrineBaseline), range: 0...1),
        Field(key: "neuromod_decay_rate", kind: .real(\.neuromodDecayRate), range: 0...0.5),
        Field(key: "dt", kind: .real(\.dt), range: 0.1...10),
        Field(key: "simulation_steps", kind: .integer(\.simulationSteps), range: 1...10000),
    ]

    /// The field with this file key (`snake_case`), if any.
    public static func field(named key: String) -> Field? { fields.first { $0.key == key } }

    /// The value of a field as a double (nil for the name).
    public func numericValue(of field: Field) -> Double? {
        switch field.kind {
        case .integer(let path): Double(self[keyPath: path])
        case .real(let path): self[keyPath: path]
        case .text: nil
        }
    }

    /// Every field outside its range, plus the structural rules the dynamics need (each initial
    /// weight range must have min ≤ max). Empty when the parameters are valid.
    public func validate() -> [ParameterViolation] {
        var found: [ParameterViolation] = []
        for field in Self.fields {
            guard let range = field.range, let value = numericValue(of: field) else { continue }
            if !value.isFinite || !range.contains(value) {
                found.append(ParameterViolation(field: field.key, value: value, range: range))
            }
        }
        for (lo, hi) in [("w_fast_init_min", "w_fast_init_max"), ("w_slow_init_min", "w_slow_init_max"),
                         ("w_meta_init_min", "w_meta_init_max")] {
            let a = numericValue(of: Self.field(named: lo)!)!, b = numericValue(of: Self.field(named: hi)!)!
            if a > b { found.append(ParameterViolation(field: lo, value: a, range: nil, note: "must not exceed \(hi) = \(b)")) }
        }
        return found
    }

    /// A copy with one field set from text (as on the command line: `KEY=VALUE`), refused with
    /// a `ParameterError` that names the field, the value and the range when it does not fit.
    public func setting(_ key: String, to text: String) throws(ParameterError) -> NetworkParameters {
        guard let field = Self.field(named: key) else {
            throw .unknownField(key, known: Self.fields.map(\.key))
        }
        var copy = self
        switch field.kind {
        case .text(let path):
            copy[keyPath: path] = text
        case .integer(let path):
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw .notANumber(field: key, text: text, expected: "a whole number")
            }
            if let range = field.range, !range.contains(Double(value)) {
                throw .outOfRange(ParameterViolation(field: key, value: Double(value), range: range))
            }
            copy[keyPath: path] = value
        case .real(let path):
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                throw .notANumber(field: key, text: text, expected: "a finite number")
            }
            if let range = field.range, !range.contains(value) {
                throw .outOfRange(ParameterViolation(field: key, value: value, range: range))
            }
            copy[keyPath: path] = value
        }
        if let broken = copy.validate().first(where: { $0.field == key || $0.note?.contains(key) == true }) {
            throw .outOfRange(broken)
        }
        return copy
    }

    /// Throws the first violation, for parameters that come from a user rather than a file.
    public func checked() throws(ParameterError) -> NetworkParameters {
        if let first = validate().first { throw .outOfRange(first) }
        return self
    }
}

/// One parameter outside its valid range.
public struct ParameterViolation: Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let value: Double
    public let range: ClosedRange<Double>?
    public var note: String? = nil

    public var description: String {
        if let note { return "\(field) = \(formatNumber(value)) \(note)" }
        guard let range else { return "\(field) = \(formatNumber(value)) is not allowed" }
        return "\(field) = \(formatNumber(value)) is outside its range \(formatNumber(range.lowerBound))…\(formatNumber(range.upperBound))"
    }
}

/// A parameter a user tried to set that cannot be accepted.
public enum ParameterError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownField(String, known: [String])
    case notANumber(field: String, text: String, expected: String)
    case outOfRange(ParameterViolation)

    public var description: String {
        switch self {
        case .unknownField(let key, let known):
            "unknown parameter '\(key)'; the parameters are: \(known.joined(separator: ", "))"
        case .notANumber(let field, let text, let expected):
            "\(field): '\(text)' is not \(expected)"
        case .outOfRange(let violation):
            "\(violation)"
        }
    }
}

/// Whole numbers without a fraction, other values in Swift's shortest round-trip form.
func formatNumber(_ value: Double) -> String {
    if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    return "\(value)"
}
