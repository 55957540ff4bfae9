import NeuraxonChannels

/// A described robot in a simulated world: exactly the channels of its description
/// (`RobotDescription`, the reference robot unless told otherwise), in order, sampled at a fixed
/// period, driven by setpoints that arrive with a configurable latency and dropout rate. Each
/// sensor reads through the model its kind and geometry call for (`RobotLayout`,
/// Docs/SIMULATION.md); a channel the simulator cannot place reads its minimum.
///
/// Simulated time advances in fixed physics steps of `PhysicsSettings.stepMicros`. Each step:
///
/// 1. commands due by now take effect; with none for `LinkSettings.failsafeTimeoutMicros`,
///    every actuator goes to its safe value;
/// 2. each motor's angular speed ω follows its duty u (‰) through the first-order response
///    τ dω/dt = (u/1000)·ω_max − ω, integrated exactly: ω ← ω + (1 − e^(−Δt/τ))·(target − ω);
///    each side's wheel turns at the mean of the speeds of the motors on that side (skid steer
///    with four motors); each servo turns toward its setpoint at `ServoModel.degreesPerSecond`;
/// 3. the body moves by the differential-drive kinematics v = r(ω_l + ω_r)/2,
///    w = r(ω_r − ω_l)/b, integrated exactly along the arc:
///    x ← x + (v/w)(sin(θ + wΔt) − sin θ), y ← y − (v/w)(cos(θ + wΔt) − cos θ), θ ← θ + wΔt
///    (x ← x + vΔt cos θ, y ← y + vΔt sin θ when w = 0);
/// 4. the move is split into pieces no longer than a quarter of the body radius, and after each
///    piece the body is pushed out of any wall it entered (`slide`) or put back (`stop`), so it
///    never passes through a wall however fast it goes;
/// 5. each wheel turns as the body's achieved motion lets it (`TractionModel`): with Δ_c the
///    commanded move, Δ_a the achieved one and f the heading at mid-step, the wheel turns by
///    ω_m Δt + (Δ_a − Δ_c)·f / r, so a wheel driving a blocked body stalls and its encoder
///    counts what it really turned;
/// 6. the metrics are updated.
///
/// Once built, sampling, applying commands and stepping allocate nothing. The robot is used from
/// one thread at a time.
public final class SimulatedRobot {
    /// The most commands in flight at once; more within one latency drop the oldest.
    public static let commandQueueCapacity = 256

    /// Everything that changes during a run, and the constants derived from the world, kept in
    /// one value so a step touches no shared state.
    private var engine: SimulationEngine

    /// Setpoints handed over by `apply(motorLeft:motorRight:servo:)`, reused.
    private var scratch: [Int16]

    /// Builds the robot `description` describes in `world` at its starting pose number
    /// `start`, with all randomness drawn from `seed`. Its body and sensor geometry come from
    /// the description; the world gives the simulation-only parameters (`RobotSpec`).
    /// - Throws: `WorldError` if the world is invalid or has no such starting pose.
    public init(description: RobotDescription = .reference, world: World, seed: UInt64, start: Int = 0) throws(WorldError) {
        let layout = RobotLayout(description: description, world: world.robot)
        var world = world
        world.robot = layout.spec
        try world.validate()
        guard world.starts.indices.contains(start) else {
            throw WorldError(field: "robot.starts", problem: "starting pose \(start) does not exist; world `\(world.name)` has \(world.starts.count) (0…\(world.starts.count - 1))")
        }
        engine = SimulationEngine(world: world, layout: layout, seed: seed, start: world.starts[start],
                                  queueCapacity: Self.commandQueueCapacity)
        scratch = layout.actuatorChannels.map(\.safe)
    }

    /// Builds a robot in `world` starting at `pose`.
    /// - Throws: `WorldError` if the world is invalid or the pose is inside a wall.
    public convenience init(description: RobotDescription = .reference, world: World, seed: UInt64, pose: Pose) throws(WorldError) {
        var placed = world
        placed.starts = [pose]
        try self.init(description: description, world: placed, seed: seed, start: 0)
    }

    /// The robot's description.
    public var description: RobotDescription { engine.layout.description }

    public var world: World { engine.world }
    public var seed: UInt64 { engine.seed }
    /// The sensor channels in the contract's order; `readings` follows it.
    public var sensorChannels: [ChannelDescriptor] { engine.layout.sensorChannels }
    /// The actuator channels in the contract's order.
    public var actuatorChannels: [ChannelDescriptor] { engine.layout.actuatorChannels }

    /// The latest sensor frame's readings, one per sensor channel.
    public var readings: [Int16] { engine.readings }
    /// The latest sensor frame's time and sequence number.
    public var stamp: FrameStamp { engine.stamp }
    /// Simulated time since the run began, microseconds.
    public var timeMicros: UInt64 { engine.timeMicros }
    public var pose: Pose { engine.pose }
    /// The motors' speeds, radians per second (positive drives forward): what each motor drives
    /// its wheel at through its first-order response. A wheel against a blocked body turns
    /// slower (`RunMetrics.stalledLeft`, `RunMetrics.slipLeft`).
    public var leftWheelSpeed: Double { engine.leftWheelSpeed }
    public var rightWheelSpeed: Double { engine.rightWheelSpeed }
    /// The setpoints in effect, one per actuator channel.
    public var setpoints: [Int16] { engine.setpoints }
    /// Each servo's simulated angle now, degrees (other actuators: their setpoint).
    public var servoAngles: [Double] { engine.servoAngles }
    /// The setpoints in effect of the first left and right motor (‰) and the first servo (°).
    public var motorLeft: Int16 { engine.motorLeft }
    public var motorRight: Int16 { engine.motorRight }
    public var servo: Int16 { engine.servo }
    public var metrics: RunMetrics { engine.metrics }
    public var linkCounters: LinkCounters { engine.linkCounters }

    /// Runs the physics up to the next sampling instant (k · sampling period, the first one at
    /// time 0), samples every sensor into `readings` and returns the frame's stamp. Its sequence
    /// number is k, so instants skipped by `advance` show as a gap.
    @discardableResult
    public func nextFrame() -> FrameStamp {
        engine.nextFrame()
    }

    /// Samples every sensor now into `readings`, without advancing time or the frame count.
    public func sampleSensors() {
        engine.sampleSensors()
    }

    /// Sends the reference robot's setpoints (motor_left, motor_right, servo): the first three
    /// actuator channels, the rest at their safe values. Each is clamped to its channel's range.
    /// The command may be lost (`LinkSettings.dropout`); otherwise it takes effect at the first
    /// physics step at or after now + the command latency.
    public func apply(motorLeft: Int16, motorRight: Int16, servo: Int16) {
        let n = scratch.count
        if n > 0 { scratch[0] = motorLeft }
        if n > 1 { scratch[1] = motorRight }
        if n > 2 { scratch[2] = servo }
        engine.apply(scratch)
    }

    /// Sends one setpoint per actuator channel, in the contract's order, each clamped to its
    /// channel's range (see `apply(motorLeft:motorRight:servo:)` for when it takes effect).
    /// - Throws: `SimulationError.wrongSetpointCount` unless there is one per actuator channel.
    public func apply(_ setpoints: [Int16]) throws(SimulationError) {
        guard setpoints.count == scratch.count else {
            let names = actuatorChannels.map(\.name)
            if names == ReferenceChannels.actuators.map(\.name) {
                throw SimulationError.wrongSetpointCount(got: setpoints.count, expected: names.count)
            }
            throw SimulationError.wrongSetpointCountFor(channels: names, got: setpoints.count)
        }
        engine.apply(setpoints)
    }

    /// Runs physics steps while simulated time is before `target` (microseconds), so time ends
    /// on the first step boundary at or after it.
    public func advance(toMicros target: UInt64) {
        engine.advance(toMicros: target)
    }

    /// Runs physics steps covering `micros` microseconds of simulated time.
    public func advance(byMicros micros: UInt64) {
        engine.advance(toMicros: engine.timeMicros + micros)
    }
}
