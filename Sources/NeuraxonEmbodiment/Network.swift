import Neuraxon

/// The members of a Neuraxon network that the control loop uses: set input trits, step, read
/// output trits, and set or read neuromodulator levels.
///
/// The model's `NeuraxonNetwork` conforms; tests use small deterministic stand-ins. Every
/// member is called on the loop's thread only and must not allocate.
public protocol ControlledNetwork: AnyObject, SendableMetatype {
    /// The number of input neurons; `setInputState` takes an index below it.
    var inputCount: Int { get }
    /// The number of output neurons; `outputState` takes an index below it.
    var outputCount: Int { get }
    /// The step length, in ms.
    var dt: Double { get }
    /// Sets input neuron `index` (among the input neurons) to `state` for the next step.
    func setInputState(_ index: Int, _ state: Trit)
    /// Advances the network by one step of `dt` ms.
    func simulateStep()
    /// The state of output neuron `index` (among the output neurons); `.neutral` if it died.
    func outputState(_ index: Int) -> Trit
    /// Sets a neuromodulator's level, clamped to [0, 1].
    func modulate(_ modulator: Neuromodulator, to level: Double)
    /// A neuromodulator's level in [0, 1].
    func level(of modulator: Neuromodulator) -> Double
}

/// What identifies the network a run used, for the recording's header.
public struct NetworkIdentity: Sendable, Equatable, Codable {
    /// The network file's path as given, or "" for a network that was not loaded from a file.
    public var path: String
    /// SHA-256 of the network file's bytes, lowercase hex, or "" when unknown.
    public var digest: String
    /// The network's seed, if it has one.
    public var seed: UInt64?

    public init(path: String = "", digest: String = "", seed: UInt64? = nil) {
        self.path = path
        self.digest = digest
        self.seed = seed
    }
}
