/// The four global neuromodulators of a Neuraxon network, in the order the model stores them.
///
/// - dopamine scales the plasticity step Δw = ±η·DA;
/// - serotonin scales the metabotropic weight's plasticity;
/// - acetylcholine lowers both firing thresholds by (ACh − 0.5)·0.5;
/// - norepinephrine is stored, modulated and decayed; it scales synaptic current only in the
///   embodied dynamics (gain g = 1 + 0.4·(NE − 0.5)).
///
/// Each level lies in [0, 1] and relaxes towards its baseline:
/// L ← L + (baseline − L)·neuromod_decay_rate·dt/100 per step.
public enum Neuromodulator: String, Sendable, CaseIterable, Hashable, Codable {
    case dopamine
    case serotonin
    case acetylcholine
    case norepinephrine

    /// The position of this neuromodulator in `allCases` and in the network's level storage.
    @inlinable public var index: Int {
        switch self {
        case .dopamine: 0
        case .serotonin: 1
        case .acetylcholine: 2
        case .norepinephrine: 3
        }
    }
}
