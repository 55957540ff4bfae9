import Foundation

/// A 2D world: a rectangular arena with walls on its border, obstacles, light sources and one
/// differential-drive robot, plus the physics and link settings of a run.
///
/// Units: lengths in metres, angles in radians, times in microseconds (whole numbers, so
/// simulated time never drifts). World files use degrees and milliseconds; see
/// `Docs/SIMULATION.md`.
public struct World: Sendable, Equatable {
    public var name: String
    /// The arena's size in metres. Its walls run along x = 0, x = width, y = 0 and y = height.
    public var arenaWidth: Double
    public var arenaHeight: Double
    public var obstacles: [Obstacle]
    public var lights: [LightSource]
    /// Dark lines on the light floor, for reflectance sensors; they block nothing.
    public var floor: [FloorMarking]
    /// Light reaching every light sensor from everywhere, in the same units as a source's
    /// intensity.
    public var ambientLight: Double
    /// Whether obstacles cast shadows: a light sensor sees no light from a source when the line
    /// between them crosses a wall or obstacle.
    public var lightOcclusion: Bool
    /// The robot is "near the light" while its centre is within this distance (metres) of any
    /// light source; the metrics count the time spent near and the first time it got there.
    public var nearLightRadius: Double
    public var robot: RobotSpec
    /// Starting poses; a run starts from the first unless told otherwise. Never empty.
    public var starts: [Pose]
    public var physics: PhysicsSettings
    public var link: LinkSettings

    public init(
        name: String, arenaWidth: Double, arenaHeight: Double, obstacles: [Obstacle] = [],
        lights: [LightSource] = [], floor: [FloorMarking] = [], ambientLight: Double = 0.02, lightOcclusion: Bool = true,
        nearLightRadius: Double = 0.3, robot: RobotSpec = .reference, starts: [Pose],
        physics: PhysicsSettings = PhysicsSettings(), link: LinkSettings = LinkSettings()
    ) {
        self.name = name
        self.arenaWidth = arenaWidth
        self.arenaHeight = arenaHeight
        self.obstacles = obstacles
        self.lights = lights
        self.floor = floor
        self.ambientLight = ambientLight
        self.lightOcclusion = lightOcclusion
        self.nearLightRadius = nearLightRadius
        self.robot = robot
        self.starts = starts
        self.physics = physics
        self.link = link
    }
}

/// An obstacle. Angles in radians, lengths in metres.
public enum Obstacle: Sendable, Equatable {
    /// A thin wall from one point to another.
    case segment(from: Vector2, to: Vector2)
    /// A rectangle of `size` (width along its own x, height along its own y) centred at `center`
    /// and turned by `angle` radians counter-clockwise.
    case box(center: Vector2, size: Vector2, angle: Double)
    /// A disc.
    case circle(center: Vector2, radius: Double)
}

/// A point light. The light a sensor receives from it is
/// E = intensity · max(0, cos φ) / (1 + (d / falloff)²),
/// with d the distance in metres and φ the angle between the sensor's axis and the light.
public struct LightSource: Sendable, Equatable {
    public var position: Vector2
    public var intensity: Double
    /// The distance (metres) at which the light has fallen to half its intensity.
    public var falloff: Double

    public init(position: Vector2, intensity: Double = 1, falloff: Double = 0.5) {
        self.position = position
        self.intensity = intensity
        self.falloff = falloff
    }
}

/// What happens when the robot's body meets a wall or obstacle.
public enum CollisionResponse: String, Sendable, Equatable, CaseIterable {
    /// The body is pushed back out along the contact normal, so motion along the wall remains.
    case slide
    /// Any motion that would enter the wall is cancelled: the robot stays where it was.
    case stop
}

/// The physics settings of a run.
public struct PhysicsSettings: Sendable, Equatable {
    /// The fixed physics step, in microseconds (default 1000 µs = 1 ms).
    public var stepMicros: Int
    public var collision: CollisionResponse

    public init(stepMicros: Int = 1000, collision: CollisionResponse = .slide) {
        self.stepMicros = stepMicros
        self.collision = collision
    }
}

/// The link between the controller and the simulated robot: how often sensors are sampled and
/// how commands arrive.
public struct LinkSettings: Sendable, Equatable {
    /// Time between two sensor frames, in microseconds (default 5000 µs, 200 Hz). Must be a
    /// whole number of physics steps.
    public var samplePeriodMicros: Int
    /// Time from applying a command to its taking effect, in microseconds.
    public var commandLatencyMicros: Int
    /// The probability (0…1) that a command is lost on its way.
    public var dropout: Double
    /// Like the firmware, the robot puts every actuator at its safe value when no command has
    /// arrived for this long, in microseconds; 0 turns it off.
    public var failsafeTimeoutMicros: Int

    public init(
        samplePeriodMicros: Int = 5000, commandLatencyMicros: Int = 0, dropout: Double = 0,
        failsafeTimeoutMicros: Int = 100_000
    ) {
        self.samplePeriodMicros = samplePeriodMicros
        self.commandLatencyMicros = commandLatencyMicros
        self.dropout = dropout
        self.failsafeTimeoutMicros = failsafeTimeoutMicros
    }
}

/// The differential-drive robot's simulation settings: its body, drive and sensors. A simulated
/// robot takes its body, wheels and sensor placements from its description
/// (`RobotDescription.geometry` and each part's geometry); these values are the reference
/// robot's and the simulation-only parameters (top wheel speed, motor time constant, sensor
/// noise and curves). A world's `robot:` section that sets a geometry value to something other
/// than the reference robot's overrides the description. Positions of sensors are in the
/// robot's frame (x forward, y to the left, metres); angles in radians, counter-clockwise from
/// straight ahead.
public struct RobotSpec: Sendable, Equatable {
    /// The body is a disc of this radius (metres); it is what collides.
    public var bodyRadius: Double
    /// Distance between the two wheels' contact points, metres.
    public var wheelBase: Double
    public var wheelRadius: Double
    /// Wheel speed at full duty (±1000 ‰), radians per second.
    public var maxWheelSpeed: Double
    /// The motors' time constant τ in seconds: τ dω/dt = (duty/1000)·ω_max − ω.
    public var motorTimeConstant: Double
    public var rangeLeft: RangeSensorSpec
    public var rangeRight: RangeSensorSpec
    public var lightLeft: LightSensorSpec
    public var lightRight: LightSensorSpec
    public var bumper: BumperSpec
    public var encoders: EncoderSpec

    public init(
        bodyRadius: Double, wheelBase: Double, wheelRadius: Double, maxWheelSpeed: Double,
        motorTimeConstant: Double, rangeLeft: RangeSensorSpec, rangeRight: RangeSensorSpec,
        lightLeft: LightSensorSpec, lightRight: LightSensorSpec, bumper: BumperSpec,
        encoders: EncoderSpec
    ) {
        self.bodyRadius = bodyRadius
        self.wheelBase = wheelBase
        self.wheelRadius = wheelRadius
        self.maxWheelSpeed = maxWheelSpeed
        self.motorTimeConstant = motorTimeConstant
        self.rangeLeft = rangeLeft
        self.rangeRight = rangeRight
        self.lightLeft = lightLeft
        self.lightRight = lightRight
        self.bumper = bumper
        self.encoders = encoders
    }

    /// The reference robot of `Docs/HARDWARE.md`: a 12 cm disc, wheels 10 cm apart of 3 cm
    /// radius at up to 10 rad/s (0.3 m/s), two infrared range sensors 30° either side of
    /// straight ahead, two light sensors at 45°, a front bumper and 360-tick encoders.
    public static let reference = RobotSpec(
        bodyRadius: 0.06, wheelBase: 0.10, wheelRadius: 0.03, maxWheelSpeed: 10,
        motorTimeConstant: 0.05,
        rangeLeft: RangeSensorSpec(position: Vector2(0.05, 0.025), angle: .pi / 6),
        rangeRight: RangeSensorSpec(position: Vector2(0.05, -0.025), angle: -.pi / 6),
        lightLeft: LightSensorSpec(position: Vector2(0.04, 0.03), angle: .pi / 4),
        lightRight: LightSensorSpec(position: Vector2(0.04, -0.03), angle: -.pi / 4),
        bumper: BumperSpec(), encoders: EncoderSpec())
}

/// An infrared distance sensor of the Sharp GP2Y0A21 kind. It casts `rays` rays spread evenly
/// over its field of view, takes the nearest hit d (metres), clamps it to
/// [minRange, maxRange] and answers
///
///     V(d) = k / (d + d₀)   millivolts,
///
/// the sensor's inverse-distance curve through (minRange, nearMillivolts) and
/// (maxRange, farMillivolts): d₀ = (V_far·d_max − V_near·d_min) / (V_near − V_far) and
/// k = V_near·(d_min + d₀). Nothing in range reads as `maxRange`. The real sensor's fold-back
/// below its minimum range is not modelled. Gaussian noise of `noiseMillivolts` (standard
/// deviation) is added, and the result is clamped to 0…5000 mV.
public struct RangeSensorSpec: Sendable, Equatable {
    public var position: Vector2
    public var angle: Double
    public var fieldOfView: Double
    public var rays: Int
    public var minRange: Double
    public var maxRange: Double
    public var nearMillivolts: Double
    public var farMillivolts: Double
    public var noiseMillivolts: Double

    public init(
        position: Vector2, angle: Double, fieldOfView: Double = 10 * .pi / 180, rays: Int = 3,
        minRange: Double = 0.08, maxRange: Double = 0.8, nearMillivolts: Double = 3100,
        farMillivolts: Double = 400, noiseMillivolts: Double = 20
    ) {
        self.position = position
        self.angle = angle
        self.fieldOfView = fieldOfView
        self.rays = rays
        self.minRange = minRange
        self.maxRange = maxRange
        self.nearMillivolts = nearMillivolts
        self.farMillivolts = farMillivolts
        self.noiseMillivolts = noiseMillivolts
    }

    /// The noiseless output in millivolts for an obstacle at `distance` metres (see above).
    public func millivolts(atDistance distance: Double) -> Double {
        let d = min(max(distance, minRange), maxRange)
        let d0 = (farMillivolts * maxRange - nearMillivolts * minRange)
            / (nearMillivolts - farMillivolts)
        return nearMillivolts * (minRange + d0) / (d + d0)
    }
}

/// A photoresistor in a voltage divider, pointing at `angle`. With E the light it receives
/// (the ambient light plus every visible source, see `LightSource`), it answers
///
///     V = 5000 · x / (1 + x)   millivolts,   x = sensitivity · E,
///
/// so brighter means higher and the output saturates towards 5 V. Gaussian noise of
/// `noiseMillivolts` is added and the result clamped to 0…5000 mV.
public struct LightSensorSpec: Sendable, Equatable {
    public var position: Vector2
    public var angle: Double
    public var sensitivity: Double
    public var noiseMillivolts: Double

    public init(position: Vector2, angle: Double, sensitivity: Double = 1, noiseMillivolts: Double = 10) {
        self.position = position
        self.angle = angle
        self.sensitivity = sensitivity
        self.noiseMillivolts = noiseMillivolts
    }
}

/// A front bumper: it reads 1 while the body touches a wall or obstacle (within 1 mm) in an arc
/// of `arc` radians centred straight ahead, or touched one since the previous frame.
/// `flipProbability` is the chance that a frame reports the opposite.
public struct BumperSpec: Sendable, Equatable {
    public var arc: Double
    public var flipProbability: Double

    public init(arc: Double = .pi, flipProbability: Double = 0) {
        self.arc = arc
        self.flipProbability = flipProbability
    }
}

/// Wheel encoders: single-channel counters, as the firmware has. Each counts
/// `ticksPerRevolution` ticks per turn its wheel really made (a stalled wheel counts nothing;
/// see `TractionModel`), in the direction of the last non-zero
/// motor command (not the wheel's true direction), into a wrapping 16-bit counter. `slip` is
/// the relative standard deviation of counting noise: each frame's increment is multiplied by
/// (1 + slip · n), n standard normal.
public struct EncoderSpec: Sendable, Equatable {
    public var ticksPerRevolution: Double
    public var slip: Double

    public init(ticksPerRevolution: Double = 360, slip: Double = 0.01) {
        self.ticksPerRevolution = ticksPerRevolution
        self.slip = slip
    }
}
