import Neuraxon

/// Ready-made controllers for the shipped robots other than the reference robot
/// (Docs/ROBOTS.md). Each names its robot (`RobotPreset.robot(of:)`) and its world.
extension RobotPreset {
    /// The presets of the line follower and the sonar Mega.
    public static let shipped: [RobotPreset] = [lineFollow]

    /// The robot a preset is wired for: its shipped name (`reference` for the reference robot's
    /// presets).
    public static func robot(of preset: RobotPreset) -> String {
        switch preset.name {
        case lineFollow.name: "line-follower"
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
