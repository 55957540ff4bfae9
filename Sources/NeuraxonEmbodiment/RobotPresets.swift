import Neuraxon

/// A ready-made controller for the reference robot: a hand-wired Neuraxon network in embodied
/// dynamics and the mapping that connects it to the robot's channels.
///
/// Both presets share one layout of 30 neurons, sized for the reference robot's 7 sensors and
/// 3 actuators (the same mapping serves the simulated and the serial robot):
///
/// | ids | role | encoder (mapping file) |
/// |---|---|---|
/// | 0, 1 | range left, right: seen | signed around 700 mV with 200 mV hysteresis: +1 once above 900 mV (an obstacle within about 0.34 m), −1 again below 500 mV (beyond about 0.63 m) |
/// | 2, 3 | range left, right: close | threshold: +1 above 1400 mV (within about 0.21 m), 0 below |
/// | 4–6, 7–9 | light left, right | population: +1 above 300, 700, 1500 mV |
/// | 10 | bumper | digital |
/// | 11–25 | hidden | |
/// | 26, 27 | left wheel push, pull | motor_left u = (s₂₆ − s₂₇)/2 |
/// | 28, 29 | right wheel push, pull | motor_right u = (s₂₈ − s₂₉)/2 |
///
/// Wiring is Braitenberg-style and written as resting weights: every synapse is an ionotropic
/// synapse whose w_fast and w_slow each rest at half its weight w, so a +1 on its pre neuron
/// adds w to the post neuron's summed current S. Acetylcholine rests at 1, so the thresholds are
/// θ+ = 0.75 and θ− = −1.25: a neuron fires +1 when g·S > 0.75 and −1 only when g·S < −1.25,
/// with g = 1 + 0.4·(NE − 0.5) = 1.12 at the norepinephrine baseline 0.8. Plasticity (η = 0.01,
/// gated by dopamine), synapse formation and fading, and the four neuromodulators all run; the
/// mapping's reward rules raise norepinephrine on a bump and dopamine near the light.
public struct RobotPreset: Sendable {
    public let name: String
    public let summary: String
    /// The built-in world the preset is meant for.
    public let world: String
    /// The network's sizes and constants (also those of a random network of the same size).
    public let parameters: NetworkParameters
    /// The hand-wired synapses, with resting weights.
    public let synapses: [Synapse]
    /// The mapping file's text (also in Docs/examples/NAME.mapping.yaml).
    public let mappingYAML: String

    /// The preset's network, built fresh; `seed` drives its noise and synapse formation.
    /// - Throws: `ModelError` or `ParameterError` only if the preset itself were inconsistent.
    public func network(seed: UInt64) throws -> NeuraxonNetwork {
        let net = try NeuraxonNetwork(parameters: parameters, dynamics: .embodied, seed: seed, synapses: synapses)
        net.metadata["preset"] = name
        return net
    }

    /// A randomly wired network of the same size and constants, for comparison.
    public func randomNetwork(seed: UInt64) throws -> NeuraxonNetwork {
        try NeuraxonNetwork(parameters: parameters, dynamics: .embodied, seed: seed)
    }

    /// The preset's mapping, validated against `device` (a body's channel list) and the
    /// preset's network size.
    public func mapping(device: DeviceInfo = .referenceRobot) throws -> Mapping {
        try Mapping(yaml: mappingYAML, device: device, inputCount: parameters.numInputNeurons,
                    outputCount: parameters.numOutputNeurons)
    }

    /// The preset with this name, if any.
    public static func named(_ name: String) -> RobotPreset? { all.first { $0.name == name } }

    /// Every robot preset; the first is the default of `neuraxon sim`.
    public static let all: [RobotPreset] = [seek, avoid]

    // MARK: The layout

    /// Neuron ids of the shared layout.
    public enum Neuron {
        public static let seenLeft = 0, seenRight = 1, closeLeft = 2, closeRight = 3
        public static let lightLeft = [4, 5, 6], lightRight = [7, 8, 9]
        public static let bumper = 10
        /// Hidden neurons the presets wire: both sides see an obstacle; both sides are clear;
        /// no light anywhere (searching).
        public static let bothSeen = 11, bothClear = 12, searching = 13
        public static let leftPush = 26, leftPull = 27, rightPush = 28, rightPull = 29
    }

    /// 11 input, 15 hidden and 4 output neurons; τm = 10 ms, ACh at 1 (θ+ = 0.75, θ− = −1.25),
    /// NE at 0.8 (gain 1.12), rare synapse formation. The connection probability only matters
    /// for a random network of the same size (`randomNetwork(seed:)`).
    static func layoutParameters(_ name: String) -> NetworkParameters {
        var p = NetworkParameters()
        p.networkName = name
        p.numInputNeurons = 11
        p.numHiddenNeurons = 15
        p.numOutputNeurons = 4
        p.connectionProbability = 1.0
        p.membraneTimeConstant = 10
        p.acetylcholineBaseline = 1.0
        p.norepinephrineBaseline = 0.8
        p.synapseFormationProb = 0.01
        return p
    }

    /// A synapse pre → post whose resting current per +1 of `pre` is `weight` (w_fast and w_slow
    /// each rest at weight/2).
    static func wire(_ pre: Int, _ post: Int, _ weight: Double) -> Synapse {
        Synapse(pre: pre, post: post, wFast: weight / 2, wSlow: weight / 2, wMeta: 0,
                restFast: weight / 2, restSlow: weight / 2, restMeta: 0)
    }

    /// The obstacle-avoiding reflexes both presets share (Braitenberg's vehicle 3 with an
    /// escape), as summed currents S (the neuron fires +1 when 1.12·S > 0.75, −1 when
    /// 1.12·S < −1.25):
    /// - left push: +0.4·seen_left − 1.3·seen_right: 0.9 with both sides clear (forward), 1.7
    ///   with an obstacle on the left only (the outer wheel drives on), −1.7 (−1: reverse) with
    ///   one on the right; +1.7 from `bothSeen`, so the robot turns right when both sides see
    ///   something; −1.5 from the bumper;
    /// - right push: the mirror image, and −2.0 from the bumper, so it backs away turning;
    /// - left pull: +0.7 from each seen neuron (−1.4 with both clear: the pull fires −1 and the
    ///   wheel runs at full speed; cancelled by −1.4 from `bothSeen`), +1 from close_right,
    ///   +1.2 from the bumper;
    /// - right pull: +0.7 from each seen neuron, +1 from close_left, +1 from `bothSeen`, +1.2
    ///   from the bumper;
    /// - `bothSeen`: +0.5 from each seen neuron (+1 only when both see an obstacle).
    /// The seen encoders' hysteresis (seen from 0.34 m, clear again beyond 0.63 m) makes a turn,
    /// once begun, go on until the side is clearly free, instead of dithering at the threshold.
    static let avoidance: [Synapse] = {
        typealias N = Neuron
        return [
            wire(N.seenLeft, N.leftPush, 0.4), wire(N.seenRight, N.leftPush, -1.3),
            wire(N.bothSeen, N.leftPush, 1.7), wire(N.bumper, N.leftPush, -1.5),
            wire(N.seenRight, N.rightPush, 0.4), wire(N.seenLeft, N.rightPush, -1.3),
            wire(N.bumper, N.rightPush, -2.0),
            wire(N.closeRight, N.leftPull, 1.0), wire(N.bumper, N.leftPull, 1.2),
            wire(N.seenLeft, N.leftPull, 0.7), wire(N.seenRight, N.leftPull, 0.7), wire(N.bothSeen, N.leftPull, -1.4),
            wire(N.closeLeft, N.rightPull, 1.0), wire(N.seenLeft, N.rightPull, 0.7), wire(N.seenRight, N.rightPull, 0.7), wire(N.bothSeen, N.rightPull, 1.0), wire(N.bumper, N.rightPull, 1.2),
            wire(N.seenLeft, N.bothSeen, 0.5), wire(N.seenRight, N.bothSeen, 0.5),
        ]
    }()

    /// Obstacle avoidance, for the `obstacles` world: drives straight while both range sensors
    /// are clear, turns away from the side that sees an obstacle, pivots right when both do,
    /// and backs away turning on a bump.
    public static let avoid = RobotPreset(
        name: "avoid", summary: "obstacle avoidance (Braitenberg vehicle 3 with an escape reflex)",
        world: "obstacles", parameters: layoutParameters("avoid"), synapses: avoidance,
        mappingYAML: avoidMappingYAML)

    /// Light seeking, for the `light` world: the avoidance reflexes plus crossed wiring from the
    /// light sensors (Braitenberg's vehicle 2b): each light neuron on the left adds −0.6 to the
    /// left push and +0.6 to the right push, and the mirror image on the right, so once the left
    /// side is one threshold brighter the left wheel stops and the robot arcs towards the light.
    /// While both sides are clear and neither sees the light above 300 mV, `searching` (+0.9
    /// from `bothClear`, −0.8 from each side's lowest light neuron) fires and stops the left
    /// wheel (−0.6 on its push): the robot circles until a light sensor picks the light up.
    public static let seek: RobotPreset = {
        typealias N = Neuron
        var synapses = avoidance
        for k in 0..<3 {
            synapses.append(wire(N.lightLeft[k], N.leftPush, -0.6))
            synapses.append(wire(N.lightLeft[k], N.rightPush, 0.6))
            synapses.append(wire(N.lightRight[k], N.rightPush, -0.6))
            synapses.append(wire(N.lightRight[k], N.leftPush, 0.6))
        }
        synapses += [
            wire(N.seenLeft, N.bothClear, -0.5), wire(N.seenRight, N.bothClear, -0.5),
            wire(N.bothClear, N.searching, 0.9),
            wire(N.lightLeft[0], N.searching, -0.8), wire(N.lightRight[0], N.searching, -0.8),
            wire(N.searching, N.leftPush, -0.6),
        ]
        return RobotPreset(
            name: "seek", summary: "light seeking (Braitenberg vehicle 2b) with obstacle avoidance",
            world: "light", parameters: layoutParameters("seek"), synapses: synapses,
            mappingYAML: seekMappingYAML)
    }()
}

/// The sensor and actuator part both preset mappings share.
private let presetChannelsYAML = """
    sensors:
      - {channel: range_left, neuron: 0, mode: signed, set_point: 700, dead_band: 0, hysteresis: 200}
      - {channel: range_right, neuron: 1, mode: signed, set_point: 700, dead_band: 0, hysteresis: 200}
      - {channel: range_left, neuron: 2, mode: threshold, threshold: 1400, hysteresis: 60}
      - {channel: range_right, neuron: 3, mode: threshold, threshold: 1400, hysteresis: 60}
      - {channel: light_left, neurons: [4, 5, 6], thresholds: [300, 700, 1500], hysteresis: 30}
      - {channel: light_right, neurons: [7, 8, 9], thresholds: [300, 700, 1500], hysteresis: 30}
      - {channel: bumper, neuron: 10}
    actuators:
      - {channel: motor_left, push: 0, pull: 1, tau: 40, range: [-1000, 1000]}     # output neurons 26, 27
      - {channel: motor_right, push: 2, pull: 3, tau: 40, range: [-1000, 1000]}    # output neurons 28, 29
    """

let avoidMappingYAML = """
    # Obstacle avoidance for the reference robot (neuraxon sim --network avoid).
    # Network: 11 input, 15 hidden, 4 output neurons (RobotPreset.avoid).
    \(presetChannelsYAML)
    reward:
      - when: bumper > 0.5
        pulse: {norepinephrine: 0.9}

    """

let seekMappingYAML = """
    # Light seeking for the reference robot (neuraxon sim --network seek).
    # Network: 11 input, 15 hidden, 4 output neurons (RobotPreset.seek).
    \(presetChannelsYAML)
    reward:
      - when: bumper > 0.5
        pulse: {norepinephrine: 0.9}
      - when: light_left > 2000
        set: {dopamine: 0.6}

    """
