import NeuraxonChannels

/// The reference robot's channel list, in the contract's fixed index order.
public enum ReferenceChannels {
    /// Sensors: 0 range_left, 1 range_right, 2 light_left, 3 light_right, 4 bumper,
    /// 5 wheel_left, 6 wheel_right.
    public static let sensors: [ChannelDescriptor] = RobotDescription.reference.sensorChannels

    /// Actuators: 0 motor_left, 1 motor_right, 2 servo.
    public static let actuators: [ChannelDescriptor] = RobotDescription.reference.actuatorChannels

    public static let rangeLeft = 0, rangeRight = 1, lightLeft = 2, lightRight = 3, bumper = 4
    public static let wheelLeft = 5, wheelRight = 6
    public static let motorLeft = 0, motorRight = 1, servo = 2
}

/// When a sensor frame was sampled: the simulated time in microseconds since the run began and
/// the frame's sequence number (the index of its sampling instant, so skipped instants show as
/// gaps, as with the firmware).
public struct FrameStamp: Sendable, Equatable {
    public var timestampMicros: UInt64
    public var sequence: UInt32

    public init(timestampMicros: UInt64, sequence: UInt32) {
        self.timestampMicros = timestampMicros
        self.sequence = sequence
    }
}

/// What a run did, measured on every physics step.
public struct RunMetrics: Sendable, Equatable {
    /// Simulated time so far, seconds.
    public var simulatedSeconds: Double = 0
    /// Times the body came into contact with a wall or obstacle. Staying in contact (sliding
    /// along a wall, pushing against it) counts once; contact ends when the body is more than
    /// 2 mm clear.
    public var collisions: Int = 0
    /// Path length of the robot's centre, metres.
    public var distanceTravelled: Double = 0
    /// Time with the robot's centre within `World.nearLightRadius` of a light source, seconds.
    public var timeNearLight: Double = 0
    /// The first simulated time (seconds) the robot's centre came within
    /// `World.nearLightRadius` of a light source, or `nil` if it never did.
    public var timeToReachLight: Double?
    /// The smallest gap seen between the body's edge and any wall or obstacle, metres (0 when
    /// touching).
    public var closestWallApproach: Double = .infinity
    /// Time the body spent touching a wall or obstacle (in contact as `collisions` counts it),
    /// seconds.
    public var timeInContact: Double = 0
    /// The straight-line distance from the starting position to the current one, metres.
    public var netDisplacement: Double = 0
    /// Distance from the robot's centre to the nearest light at the start, metres; `nil` in a
    /// world without lights.
    public var startDistanceToLight: Double?
    /// Distance from the robot's centre to the nearest light now, metres; `nil` without lights.
    public var distanceToLight: Double?
    /// The smallest distance from the robot's centre to a light seen so far, metres; `nil`
    /// without lights.
    public var closestDistanceToLight: Double?
    /// Progress toward the light: how much nearer the nearest light is now than at the start,
    /// metres (negative when farther); `nil` without lights.
    public var progressTowardLight: Double? {
        guard let start = startDistanceToLight, let now = distanceToLight else { return nil }
        return start - now
    }
    /// Time stuck: the time spent in stretches of at least `StuckRule.window` during which a
    /// motor was commanded (a non-zero duty) at every step and yet the body's centre stayed
    /// within `StuckRule.radius` and its heading within `StuckRule.turn`, seconds. A stretch
    /// counts whole once it lasts the window.
    public var timeStuck: Double = 0
    /// Time going nowhere, seconds: the time a motor was commanded (a non-zero duty) within
    /// stretches of at least `NowhereRule.window` during which the body's centre stayed within
    /// `NowhereRule.radius` of where the stretch began, however far it turned or wandered inside
    /// that circle, and the motors never rested (all off) for `NowhereRule.rest` or more. A
    /// stretch counts whole once it lasts the window. Long stuck stretches count here too;
    /// turning on the spot, or circling or shuttling within the radius, counts only here.
    public var timeGoingNowhere: Double = 0
    /// Time each motor was commanded (a non-zero duty) while its wheel was stalled: turning at
    /// less than `TractionModel.stallRatio` of the speed its motor drives it at, seconds.
    public var stalledLeft: Double = 0
    public var stalledRight: Double = 0
    /// How far each wheel's tread slipped over the ground: Σ r·|ω_motor − ω_wheel|·Δt, metres.
    public var slipLeft: Double = 0
    public var slipRight: Double = 0
    /// Free cells of the coverage grid the robot's centre has been in (`CoverageGrid`).
    public var cellsVisited: Int = 0
    /// Cells of the coverage grid where the robot's centre can be and can get to from its
    /// start (`CoverageGrid`).
    public var freeCells: Int = 0
    /// The coverage grid's cell side in this world, metres (`CoverageGrid.cellSize(width:height:)`).
    public var coverageCell: Double = CoverageGrid.cellSize
    /// The share of the free cells visited, 0…1.
    public var coverage: Double { freeCells > 0 ? Double(cellsVisited) / Double(freeCells) : 0 }

    public init() {}
}

/// When a run counts as stuck (see `RunMetrics.timeStuck`).
public enum StuckRule {
    /// The shortest stretch that counts, microseconds (1 s).
    public static let windowMicros: UInt64 = 1_000_000
    /// How far the centre may move within the stretch, metres (1 cm).
    public static let radius: Double = 0.01
    /// How far the heading may turn within the stretch, radians (0.1 rad, about 6°).
    public static let turn: Double = 0.1
}

/// When a run counts as going nowhere (see `RunMetrics.timeGoingNowhere`): driven, but not
/// getting away from one spot, whether still or turning.
public enum NowhereRule {
    /// The shortest stretch that counts, microseconds (10 s).
    public static let windowMicros: UInt64 = 10_000_000
    /// The shortest rest (every motor off at every step) that ends a stretch, microseconds
    /// (1 s); a wheel reversing, both passing through 0 at once, does not.
    public static let restMicros: UInt64 = 1_000_000
    /// How far the centre may get from where the stretch began, metres (0.25 m, about two body
    /// diameters).
    public static let radius: Double = 0.25
}

/// The wheels' traction (Docs/SIMULATION.md, "Traction"): each motor drives its wheel at the
/// speed ω_m of its first-order response; the body moves as those speeds ask unless a wall
/// blocks it; the wheel then turns only as the body's achieved motion lets it,
/// ω_w = ω_m + (Δ_achieved − Δ_commanded)·f / (r Δt), f the heading at mid-step.
public enum TractionModel {
    /// A commanded wheel is stalled while it turns at less than this share of its motor's speed.
    public static let stallRatio: Double = 0.1
}

/// The grid on which `RunMetrics.coverage` is counted: square cells of `cellSize` metres from
/// the arena's south-west corner (0.1 m, just under the body's 0.12 m diameter), grown so that
/// the arena has at most `maximumCells` cells. A cell counts as free when a robot centred at
/// its centre would touch no wall or obstacle and the robot can get there from its start
/// (through neighbouring free cells, the body fitting between their centres too).
public enum CoverageGrid {
    public static let cellSize: Double = 0.1
    public static let maximumCells = 250_000

    /// The cell side used for an arena of `width` × `height` metres.
    public static func cellSize(width: Double, height: Double) -> Double {
        max(cellSize, (width * height / Double(maximumCells)).squareRoot())
    }
}

/// A problem with a command handed to the simulated robot.
public enum SimulationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A command had the wrong number of setpoints.
    /// A command to the reference robot had the wrong number of setpoints.
    case wrongSetpointCount(got: Int, expected: Int)
    /// A command to another robot had the wrong number of setpoints; `channels` names its
    /// actuator channels in order.
    case wrongSetpointCountFor(channels: [String], got: Int)

    public var description: String {
        switch self {
        case let .wrongSetpointCountFor(channels, got):
            return "a command needs one setpoint per actuator (\(channels.count): \(channels.joined(separator: ", "))), got \(got)"
        case let .wrongSetpointCount(got, expected):
            return "a command needs one setpoint per actuator (\(expected): motor_left, motor_right, servo), got \(got)"
        }
    }
}
