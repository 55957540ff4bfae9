import Neuraxon

/// Ready-made controllers for the shipped robots other than the reference robot
/// (Docs/ROBOTS.md). Each names its robot (`RobotPreset.robot(of:)`) and its world.
extension RobotPreset {
    /// The presets of the line follower and the sonar Mega.
    public static let shipped: [RobotPreset] = [lineFollow, sonarScan]

    /// The robot a preset is wired for: its shipped name (`reference` for the reference robot's
    /// presets).
    public static func robot(of preset: RobotPreset) -> String {
        switch preset.name {
        case lineFollow.name: "line-follower"
        case sonarScan.name: "sonar-mega"
        default: "reference"
        }
    }

    /// Line following for the `line-follower` robot on the `track` world. Neurons: 0–4 the
    /// reflectance sensors `line_0` (left) … `line_4` (right), each signed around 2250 mV with
    /// 200 mV hysteresis, so s = +1 over the light floor and −1 over the dark line; 5 `lost`;
    /// 6, 7 spare hidden neurons; 8, 9 left wheel push, pull; 10, 11 right wheel push, pull
    /// (motor u = (push − pull)/2). As summed currents S (a neuron fires +1 when 1.12·S > 0.75):
    /// - `lost`: 0.2·Σ s: 1.0 (fires) only when every sensor sees the light floor;
    /// - left push: 0.5·(s₀ + s₁) + 0.2·(s₂ + s₃ + s₄) − 1.0·lost: 1.2 with the line under the
    ///   middle or right sensors (drive), at most 0.6 with it under a left one (stop: the robot
    ///   turns left onto the line), 0.6 when lost (it turns left, the way the track bends);
    /// - right push: the mirror image, without `lost` (1.6 when lost: it keeps driving).
    /// At 500 ‰ the robot runs at about 0.1 m/s; one wheel stopped pivots it about that wheel.
    public static let lineFollow: RobotPreset = {
        var p = NetworkParameters()
        p.networkName = "line-follow"
        p.numInputNeurons = 5
        p.numHiddenNeurons = 3
        p.numOutputNeurons = 4
        p.connectionProbability = 1.0
        p.membraneTimeConstant = 10
        p.acetylcholineBaseline = 1.0
        p.norepinephrineBaseline = 0.8
        p.synapseFormationProb = 0.01
        let lost = 5, leftPush = 8, rightPush = 10
        var synapses: [Synapse] = []
        for k in 0..<5 { synapses.append(wire(k, lost, 0.2)) }
        for k in 0..<5 {
            synapses.append(wire(k, leftPush, k < 2 ? 0.5 : 0.2))
            synapses.append(wire(k, rightPush, k > 2 ? 0.5 : 0.2))
        }
        synapses.append(wire(lost, leftPush, -1.0))
        return RobotPreset(
            name: "line-follow", summary: "line following on a reflectance array (line-follower robot)",
            world: "track", parameters: p, synapses: synapses, mappingYAML: lineFollowMappingYAML)
    }()
}

extension RobotPreset {
    /// Neuron ids of `sonarScan`.
    enum SonarNeuron {
        /// Inputs: the sonar, signed (+1 beyond 0.45 m, −1 nearer); the bumper (+1 pressed).
        static let clear = 0, bumper = 1
        /// Hidden: a tonic pair that stays on once started, and `wake`, which starts it with
        /// the sonar near; the two turn neurons; the sweep's ring of `ringLength` neurons from
        /// `ring`, and `ringOff`, on while the ring's first neuron is off.
        static let tonic = 2, tonicEcho = 3, turnLeft = 4, turnRight = 5, ringOff = 6, wake = 7, ring = 8
        static let ringLength = 7
        /// The ring neuron that says the sonar looks left (the servo lags the ring's first).
        static let lookingLeft = ring + 2
        static let hidden = ringLength + 6
        /// Outputs, after the hidden neurons.
        static let leftPush = ring + ringLength, leftPull = leftPush + 1, rightPush = leftPush + 2,
                   rightPull = leftPush + 3, servoPush = leftPush + 4, servoPull = leftPush + 5
    }

    /// The wiring of `sonarScan`, as summed currents S (a neuron fires +1 when 1.12·S > 0.75,
    /// −1 when 1.12·S < −1.25), with clear = ±1 and the other neurons 0 or +1:
    /// - `tonic`: +0.8·clear, +1.0 from `wake` (−0.8·clear), +2.0 from `tonicEcho` (+1.0 from
    ///   `tonic`): it starts at once, the sonar near or clear, and stays on, a constant +1 the
    ///   rest uses as a bias;
    /// - the sweep: a ring of seven neurons, each exciting the next (+2.0), the last inhibiting
    ///   the first (−2.0), the first driven by `tonic` (+1.0): a wave runs round it and the
    ///   first neuron is on for about a quarter of a second, then off for as long (τm = 50 ms); the
    ///   servo's push is the first neuron (+2.0), its pull `ringOff` (+0.9 from `tonic`, −2.0
    ///   from the first), so the servo swings between 45° (right) and 135° (left);
    /// - `turnRight`: −0.6·clear + 0.6·`lookingLeft` (1.2, firing, only with the sonar near
    ///   while it looks left), −1.5 from `turnLeft`; `turnLeft`: −0.6·clear + 0.6 from `tonic`
    ///   − 0.6·`lookingLeft` (near while it looks right), −1.5 from `turnRight`;
    /// - left push: +0.9 from `tonic`, −2.2 from `turnLeft` and from the bumper; right push
    ///   the mirror image with `turnRight`; left pull: −1.2·clear (−1 while clear: the wheels drive;
    ///   +1 while near: the wheels stop unless turning), −2.4 from `turnRight`, +2.4 from the
    ///   bumper; right pull the mirror image. So the robot drives (at 600 ‰, the mapping's range) while the
    ///   sonar is clear, spins in place away from the side where it reads near, and reverses
    ///   on a bump.
    static let sonarScanWiring: [Synapse] = {
        typealias N = SonarNeuron
        var w: [Synapse] = [
            wire(N.clear, N.tonic, 0.8), wire(N.tonicEcho, N.tonic, 2.0), wire(N.tonic, N.tonicEcho, 1.0),
            wire(N.clear, N.wake, -0.8), wire(N.wake, N.tonic, 1.0),
        ]
        for k in 1..<N.ringLength { w.append(wire(N.ring + k - 1, N.ring + k, 2.0)) }
        w += [
            wire(N.tonic, N.ring, 1.0), wire(N.ring + N.ringLength - 1, N.ring, -2.0),
            wire(N.tonic, N.ringOff, 0.9), wire(N.ring, N.ringOff, -2.0),
            wire(N.clear, N.turnRight, -0.6), wire(N.lookingLeft, N.turnRight, 0.6), wire(N.turnLeft, N.turnRight, -1.5),
            wire(N.clear, N.turnLeft, -0.6), wire(N.tonic, N.turnLeft, 0.6), wire(N.lookingLeft, N.turnLeft, -0.6),
            wire(N.turnRight, N.turnLeft, -1.5),
            wire(N.tonic, N.leftPush, 0.9), wire(N.turnLeft, N.leftPush, -2.2), wire(N.bumper, N.leftPush, -2.2),
            wire(N.tonic, N.rightPush, 0.9), wire(N.turnRight, N.rightPush, -2.2), wire(N.bumper, N.rightPush, -2.2),
            wire(N.clear, N.leftPull, -1.2), wire(N.turnRight, N.leftPull, -2.4), wire(N.bumper, N.leftPull, 2.4),
            wire(N.clear, N.rightPull, -1.2), wire(N.turnLeft, N.rightPull, -2.4), wire(N.bumper, N.rightPull, 2.4),
            wire(N.ring, N.servoPush, 2.0), wire(N.ringOff, N.servoPull, 2.0),
        ]
        return w
    }()

    /// Obstacle avoidance with a scanning sonar for the `sonar-mega` robot in the `room` world
    /// (wiring: `sonarScanWiring`). Neurons: 0 the sonar (signed at 450 mm, 100 mm hysteresis),
    /// 1 the bumper; 2–14 hidden; 15–20 output: left wheels push, pull; right wheels push,
    /// pull (both motors of a side take the same drive: skid steer); servo push, pull. τm is
    /// 50 ms (the sweep's ring is slow enough for the servo to follow); ACh 1, NE 0.8; no
    /// neuron health decay (the turn neurons and the ring's rest silent by design, and would
    /// otherwise die).
    public static let sonarScan: RobotPreset = {
        var p = NetworkParameters()
        p.networkName = "sonar-scan"
        p.numInputNeurons = 2
        p.numHiddenNeurons = SonarNeuron.hidden
        p.numOutputNeurons = 6
        p.connectionProbability = 1.0
        p.membraneTimeConstant = 50
        p.neuronHealthDecay = 0
        p.acetylcholineBaseline = 1.0
        p.norepinephrineBaseline = 0.8
        p.synapseFormationProb = 0.01
        return RobotPreset(name: "sonar-scan", summary: "obstacle avoidance with a scanning sonar (sonar-mega robot)",
                           world: "room", parameters: p, synapses: sonarScanWiring, mappingYAML: sonarScanMappingYAML)
    }()
}

let sonarScanMappingYAML = """
    # Obstacle avoidance with a scanning sonar for the sonar-mega robot (neuraxon sim --robot sonar-mega --network sonar-scan).
    # Network: 2 input, 13 hidden, 6 output neurons (RobotPreset.sonarScan).
    sensors:
      - {channel: sonar, neuron: 0, mode: signed, set_point: 450, dead_band: 0, hysteresis: 100}
      - {channel: bumper, neuron: 1, mode: digital}
    actuators:
      - {channel: motor_front_left, push: 0, pull: 1, tau: 40, range: [-600, 600]}    # output neurons 0, 1 (15, 16)
      - {channel: motor_rear_left, push: 0, pull: 1, tau: 40, range: [-600, 600]}
      - {channel: motor_front_right, push: 2, pull: 3, tau: 40, range: [-600, 600]}   # output neurons 2, 3 (17, 18)
      - {channel: motor_rear_right, push: 2, pull: 3, tau: 40, range: [-600, 600]}
      - {channel: sonar_servo, push: 4, pull: 5, tau: 0, range: [0, 180]}             # output neurons 4, 5 (19, 20)

    """

let lineFollowMappingYAML = """
    # Line following for the line-follower robot (neuraxon sim --robot line-follower --network line-follow).
    # Network: 5 input, 3 hidden, 4 output neurons (RobotPreset.lineFollow).
    sensors:
      - {channel: line_0, neuron: 0, mode: signed, set_point: 2250, dead_band: 0, hysteresis: 200}
      - {channel: line_1, neuron: 1, mode: signed, set_point: 2250, dead_band: 0, hysteresis: 200}
      - {channel: line_2, neuron: 2, mode: signed, set_point: 2250, dead_band: 0, hysteresis: 200}
      - {channel: line_3, neuron: 3, mode: signed, set_point: 2250, dead_band: 0, hysteresis: 200}
      - {channel: line_4, neuron: 4, mode: signed, set_point: 2250, dead_band: 0, hysteresis: 200}
    actuators:
      - {channel: motor_left, push: 0, pull: 1, tau: 40, range: [-1000, 1000]}     # output neurons 8, 9
      - {channel: motor_right, push: 2, pull: 3, tau: 40, range: [-1000, 1000]}    # output neurons 10, 11

    """
