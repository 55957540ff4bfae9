/// A trinary neuron state: inhibitory (−1), neutral (0) or excitatory (+1).
///
/// Every neuron of a Neuraxon network is in exactly one of these three states after each step.
/// Input neurons take theirs from the caller (`NeuraxonNetwork.setInputStates(_:)`), hidden and
/// output neurons from comparing the membrane potential with the two adaptive thresholds.
public enum Trit: Int8, Sendable, CaseIterable, Hashable, Codable, CustomStringConvertible {
    case inhibitory = -1
    case neutral = 0
    case excitatory = 1

    /// The state as a signed integer, −1, 0 or +1.
    @inlinable public var value: Int { Int(rawValue) }

    /// The state as a double, −1.0, 0.0 or +1.0.
    @inlinable public var doubleValue: Double { Double(rawValue) }

    /// Creates a trit from −1, 0 or +1; any other integer gives `nil`.
    @inlinable public init?(_ value: Int) {
        guard let t = Trit(rawValue: Int8(truncatingIfNeeded: value)), Int(t.rawValue) == value else { return nil }
        self = t
    }

    public var description: String {
        switch self {
        case .inhibitory: "-1"
        case .neutral: "0"
        case .excitatory: "+1"
        }
    }
}
