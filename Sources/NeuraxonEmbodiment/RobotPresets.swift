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
/// | 2, 3 | range left, right: close | threshold: +1 above 1400 mV (within about 0.21 m), 0 below (`avoid`: above 1100 mV, within about 0.27 m, and 0 again below 950 mV, beyond about 0.32 m) |
/// | 4–6, 7–9 | light left, right | population: +1 above 300, 700, 1500 mV (`avoid`: 4 and 7 are range left, right: wall, +1 above 600 mV, within about 0.52 m, 0 again below 550 mV, beyond about 0.57 m; 5, 6, 8, 9 unused) |
/// | 10 | bumper | digital |
/// | 11–25 | hidden (`seek`: 11–13; `avoid`: 14–24) | |
/// | 26, 27 | left wheel push, pull | motor_left u = (s₂₆ − s₂₇)/2 (range ±1000 ‰; `avoid`: ±900 ‰) |
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

    /// A randomly wired network of the same size and constants, for comparison: every allowed
    /// synapse drawn, with random weights (the presets' parameters have connection probability 1).
    public func randomNetwork(seed: UInt64) throws -> NeuraxonNetwork {
        try NeuraxonNetwork(parameters: parameters, dynamics: .embodied, seed: seed)
    }

    /// The preset's own wiring with random weights, for comparison: the same neurons and the
    /// same synapses, each resting at a weight drawn uniformly from −2…2 (the range the presets'
    /// weights and evolved genomes live in), with Python's Mersenne Twister seeded by `seed`.
    public func randomlyWeightedNetwork(seed: UInt64) throws -> NeuraxonNetwork {
        var random = PythonRandom(seed: seed)
        let shuffled = synapses.map { RobotPreset.wire($0.pre, $0.post, random.uniform(-2, 2)) }
        return try NeuraxonNetwork(parameters: parameters, dynamics: .embodied, seed: seed, synapses: shuffled)
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
        /// Hidden neurons `seek` wires: both sides see an obstacle; both sides are clear;
        /// no light anywhere (searching).
        public static let bothSeen = 11, bothClear = 12, searching = 13
        /// Hidden neurons `avoid` wires: a tonic pair that stays on once started (`tonic`,
        /// `tonicEcho`); both sides clear (`clear`); the turn-left memory (`turnLeft`,
        /// `turnLeftEcho`); turning right (`turnRight`); the left side clear (`leftClear`, which
        /// with `seenLeft` starts the tonic pair at once whatever the sensors see); something
        /// close or touching (`near`); pivoting in place to the left (`pivotLeft`) or right
        /// (`pivotRight`); walls on both sides, neither close (`corridor`).
        public static let tonic = 14, tonicEcho = 15, clear = 16, turnLeft = 17, turnLeftEcho = 18, turnRight = 19
        public static let leftClear = 20, near = 21, pivotLeft = 22, pivotRight = 23, corridor = 24
        /// Input neurons only `avoid` maps (in place of the light sensors, which it does not
        /// use): a wall within about 0.52 m on the left or right.
        public static let wallLeft = 4, wallRight = 7
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

    /// The obstacle-avoiding reflexes of `seek` (Braitenberg's vehicle 3 with an escape), as
    /// summed currents S (the neuron fires +1 when 1.12·S > 0.75, −1 when
    /// 1.12·S < −1.25):
    /// - left push: +0.4·seen_left − 1.3·seen_right: 0.9 with both sides clear (forward), 1.7
    ///   with an obstacle on the left only (the outer wheel drives on), −1.7 (−1: reverse) with
    ///   one on the right; +1.7 from `bothSeen`, so the robot turns right when both sides see
    ///   something; −2.0 from the bumper (−1: the left wheel reverses);
    /// - right push: the mirror image, and +0.6 from the bumper (the right wheel drives on), so
    ///   on a bump the robot pivots left, away from what it touched, instead of backing off
    ///   straight and driving into it again;
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
            wire(N.bothSeen, N.leftPush, 1.7), wire(N.bumper, N.leftPush, -2.0),
            wire(N.seenRight, N.rightPush, 0.4), wire(N.seenLeft, N.rightPush, -1.3),
            wire(N.bumper, N.rightPush, 0.6),
            wire(N.closeRight, N.leftPull, 1.0), wire(N.bumper, N.leftPull, 1.2),
            wire(N.seenLeft, N.leftPull, 0.7), wire(N.seenRight, N.leftPull, 0.7), wire(N.bothSeen, N.leftPull, -1.4),
            wire(N.closeLeft, N.rightPull, 1.0), wire(N.seenLeft, N.rightPull, 0.7), wire(N.seenRight, N.rightPull, 0.7), wire(N.bothSeen, N.rightPull, 1.0), wire(N.bumper, N.rightPull, 1.2),
            wire(N.seenLeft, N.bothSeen, 0.5), wire(N.seenRight, N.bothSeen, 0.5),
        ]
    }()

    /// Obstacle avoidance across world families: Braitenberg's vehicle 3 with a memory of the
    /// way it turns. From its first frame it drives at full speed while both range sensors are
    /// clear (in a wide left arc: its mapping caps the left wheel at ±900 ‰, so the beams sweep
    /// across the path ahead instead of running parallel to a thin wall). As soon as either
    /// sensor sees an obstacle it turns about its inner wheel (inner wheel stopped, outer wheel
    /// at half speed), and while something is close (the `close` encoders, within about
    /// 0.27 m) or touching the bumper it pivots in place (inner wheel backwards, outer wheel
    /// forwards), until both sides are clear again. It turns left when the right side alone
    /// sees something or on a bump, and right otherwise, and a turn, once begun, goes on to the
    /// end even when the other side then sees something, so it does not dither in a corner.
    /// The wheels follow the network through a slow leaky integrator (τ = 140 ms), so each turn
    /// runs on for a moment after the beams are clear: an obstacle that slipped between the two
    /// beams while the robot turned is left behind instead of met head-on. In a corridor too
    /// narrow for either side ever to read clear (under about 0.55 m), a wall on each side
    /// within about 0.52 m and neither close ends the turn: it drives straight on, at half speed,
    /// until a side comes close or clears, and the next turn is chosen afresh.
    ///
    /// As summed currents S (a neuron fires +1 when g·S > 0.75 and −1 when g·S < −1.25, with
    /// g = 1.12 at rest and up to 1.16 after a bump raises norepinephrine; every weight below
    /// keeps each state at least 0.1 from a threshold at either gain), with seen = ±1 and
    /// close, bumper = 0/1:
    /// - `leftClear`: −0.9·seen_left (+1 while the left side is clear);
    /// - `tonic`: +0.8·seen_left + 1.6 from `leftClear` (0.8 whatever the left side sees),
    ///   +2.0 from `tonicEcho` (+1.0 from `tonic`): on from the first frames and then for good,
    ///   a constant +1 the wiring below uses as a bias;
    /// - `clear`: −0.45·seen_left − 0.55·seen_right − 1.0·bumper: +1 only when both sides are
    ///   clear and nothing touches (±0.1 with one side seeing, −1.0 with both: never −1);
    /// - `turnLeft`: +0.6·seen_right − 0.3·seen_left, +1.7 from `turnLeftEcho`, +2.0 from the
    ///   bumper; `turnLeftEcho`: +1.0 from `turnLeft`, −0.9 from `clear`, +0.1·seen_left, −0.8
    ///   from `corridor`. The pair holds itself on until both sides are clear or the robot is in
    ///   a corridor;
    /// - `turnRight`: +1.0 from `tonic`, −0.8 from `clear`, −0.8 from `turnLeft`, −0.8 from
    ///   `corridor`: on while something is seen and the robot is neither turning left nor in a
    ///   corridor;
    /// - `corridor`: +0.4 from each wall neuron, −0.7 from each close neuron and from `clear`,
    ///   +0.15 from `tonic`: +1 only with a wall on both sides, neither close and not both
    ///   clear (0.95; 0.55 with one wall, 0.25 with both and one close or with both clear,
    ///   −0.15 with one wall and that side close); its −0.8 on `turnLeftEcho` releases the
    ///   turn-left memory, and on `turnRight` stops the right turn, so both wheels run at
    ///   u = +0.5;
    /// - `near`: +1.0 from each close neuron and the bumper, −0.1 from `tonic`;
    /// - `pivotLeft`: +0.6 from `turnLeft` and from `near`, −0.1 from `tonic` (on only with
    ///   both); `pivotRight`: the same with `turnRight`;
    /// - left push: +1.2 from `tonic`, −1.8 from `turnLeft`, +0.3·seen_left (the side that
    ///   sees drives its wheel on: vehicle 3's direct path, which the memory overrides);
    ///   left pull: −1.0 from `clear`, +0.25 from each seen neuron (−1.5 with both sides
    ///   clear: full speed only then; 0 with one seeing; 0.5, too little to fire, with both),
    ///   +1.0 from `pivotLeft` (backwards); right push and pull: the mirror image with
    ///   `turnRight`, seen_right and `pivotRight`.
    /// So the left wheel runs at u = +1 while clear, +0.5 while turning right, 0 while turning
    /// left and −0.5 while pivoting left; the right wheel likewise. Every hidden neuron's
    /// summed current stays at least 0.1 from 0 in every steady state, so none loses its
    /// health. Dynamics, plasticity and neuromodulators are those of the shared layout; the
    /// mapping pulses norepinephrine on a bump.
    static let avoidWiring: [Synapse] = {
        typealias N = Neuron
        return [
            wire(N.seenLeft, N.leftClear, -0.9),
            wire(N.seenLeft, N.tonic, 0.8), wire(N.leftClear, N.tonic, 1.6), wire(N.tonicEcho, N.tonic, 2.0),
            wire(N.tonic, N.tonicEcho, 1.0),
            wire(N.seenLeft, N.clear, -0.45), wire(N.seenRight, N.clear, -0.55), wire(N.bumper, N.clear, -1.0),
            wire(N.seenRight, N.turnLeft, 0.6), wire(N.seenLeft, N.turnLeft, -0.3),
            wire(N.turnLeftEcho, N.turnLeft, 1.7), wire(N.bumper, N.turnLeft, 2.0),
            wire(N.turnLeft, N.turnLeftEcho, 1.0), wire(N.clear, N.turnLeftEcho, -0.9), wire(N.seenLeft, N.turnLeftEcho, 0.1),
            wire(N.tonic, N.turnRight, 1.0), wire(N.clear, N.turnRight, -0.8), wire(N.turnLeft, N.turnRight, -0.8),
            wire(N.closeLeft, N.near, 1.0), wire(N.closeRight, N.near, 1.0), wire(N.bumper, N.near, 1.0), wire(N.tonic, N.near, -0.1),
            wire(N.turnLeft, N.pivotLeft, 0.6), wire(N.near, N.pivotLeft, 0.6), wire(N.tonic, N.pivotLeft, -0.1),
            wire(N.turnRight, N.pivotRight, 0.6), wire(N.near, N.pivotRight, 0.6), wire(N.tonic, N.pivotRight, -0.1),
            wire(N.tonic, N.leftPush, 1.2), wire(N.turnLeft, N.leftPush, -1.8), wire(N.seenLeft, N.leftPush, 0.3),
            wire(N.clear, N.leftPull, -1.0), wire(N.seenLeft, N.leftPull, 0.25), wire(N.seenRight, N.leftPull, 0.25),
            wire(N.pivotLeft, N.leftPull, 1.0),
            wire(N.tonic, N.rightPush, 1.2), wire(N.turnRight, N.rightPush, -1.8), wire(N.seenRight, N.rightPush, 0.3),
            wire(N.clear, N.rightPull, -1.0), wire(N.seenLeft, N.rightPull, 0.25), wire(N.seenRight, N.rightPull, 0.25),
            wire(N.pivotRight, N.rightPull, 1.0),
            wire(N.wallLeft, N.corridor, 0.4), wire(N.wallRight, N.corridor, 0.4),
            wire(N.closeLeft, N.corridor, -0.7), wire(N.closeRight, N.corridor, -0.7),
            wire(N.clear, N.corridor, -0.7), wire(N.tonic, N.corridor, 0.15),
            wire(N.corridor, N.turnLeftEcho, -0.8), wire(N.corridor, N.turnRight, -0.8),
        ]
    }()

    /// Obstacle avoidance, for the `obstacles` world and the world families (wiring:
    /// `avoidWiring`): drives in a wide arc while both range sensors are clear, turns away from
    /// an obstacle, pivoting in place while it is close, until both are clear again, keeping to
    /// the way it began turning, and turns away on a bump.
    public static let avoid = RobotPreset(
        name: "avoid", summary: "obstacle avoidance (Braitenberg vehicle 3 with a turning memory)",
        world: "obstacles", parameters: layoutParameters("avoid"), synapses: avoidWiring,
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

/// The sensors of the `seek` mapping (`avoid` has its own `close` thresholds).
private let presetSensorsYAML = """
    sensors:
      - {channel: range_left, neuron: 0, mode: signed, set_point: 700, dead_band: 0, hysteresis: 200}
      - {channel: range_right, neuron: 1, mode: signed, set_point: 700, dead_band: 0, hysteresis: 200}
      - {channel: range_left, neuron: 2, mode: threshold, threshold: 1400, hysteresis: 60}
      - {channel: range_right, neuron: 3, mode: threshold, threshold: 1400, hysteresis: 60}
      - {channel: light_left, neurons: [4, 5, 6], thresholds: [300, 700, 1500], hysteresis: 30}
      - {channel: light_right, neurons: [7, 8, 9], thresholds: [300, 700, 1500], hysteresis: 30}
      - {channel: bumper, neuron: 10}
    """

let avoidMappingYAML = """
    # Obstacle avoidance for the reference robot (neuraxon sim --network avoid).
    # Network: 11 input, 15 hidden, 4 output neurons (RobotPreset.avoid).
    sensors:
      - {channel: range_left, neuron: 0, mode: signed, set_point: 700, dead_band: 0, hysteresis: 200}
      - {channel: range_right, neuron: 1, mode: signed, set_point: 700, dead_band: 0, hysteresis: 200}
      - {channel: range_left, neuron: 2, mode: threshold, threshold: 1100, hysteresis: 150}    # close: within about 0.27 m
      - {channel: range_right, neuron: 3, mode: threshold, threshold: 1100, hysteresis: 150}
      - {channel: range_left, neuron: 4, mode: threshold, threshold: 600, hysteresis: 50}      # wall: within about 0.52 m
      - {channel: range_right, neuron: 7, mode: threshold, threshold: 600, hysteresis: 50}
      - {channel: bumper, neuron: 10}
    actuators:
      - {channel: motor_left, push: 0, pull: 1, tau: 140, range: [-900, 900]}      # output neurons 26, 27; 900: a wide left arc
      - {channel: motor_right, push: 2, pull: 3, tau: 140, range: [-1000, 1000]}   # output neurons 28, 29
    reward:
      - when: bumper > 0.5
        pulse: {norepinephrine: 0.9}

    """

let seekMappingYAML = """
    # Light seeking for the reference robot (neuraxon sim --network seek).
    # Network: 11 input, 15 hidden, 4 output neurons (RobotPreset.seek).
    \(presetSensorsYAML)
    actuators:
      - {channel: motor_left, push: 0, pull: 1, tau: 40, range: [-1000, 1000]}     # output neurons 26, 27
      - {channel: motor_right, push: 2, pull: 3, tau: 40, range: [-1000, 1000]}    # output neurons 28, 29
    reward:
      - when: bumper > 0.5
        pulse: {norepinephrine: 0.9}
      - when: light_left > 2000
        set: {dopamine: 0.6}

    """
