/// A problem with a world: which field, where in the world file (when it came from one), what is
/// wrong and how to fix it.
public struct WorldError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The world file's name, or `nil` for a world built in code.
    public var source: String?
    /// 1-based line and column in the world file, when known.
    public var line: Int?
    public var column: Int?
    /// The field's path, e.g. `obstacles[2].circle.radius`.
    public var field: String
    /// What is wrong and what to do about it.
    public var problem: String

    public init(source: String? = nil, line: Int? = nil, column: Int? = nil, field: String, problem: String) {
        self.source = source
        self.line = line
        self.column = column
        self.field = field
        self.problem = problem
    }

    public var description: String {
        var place = source ?? "world"
        if let line {
            place += ":\(line)"
            if let column { place += ":\(column)" }
        }
        return field.isEmpty ? "\(place): \(problem)" : "\(place): \(field): \(problem)"
    }
}

extension World {
    /// The longest arena side a world may have, in metres: positions keep millimetre resolution
    /// and ray lengths stay far from overflow well beyond it.
    public static let maximumArenaSide: Double = 1000

    /// Checks every field. Throws the first problem found, naming the field.
    public func validate() throws(WorldError) {
        try Check.positive(arenaWidth, "arena.width", unit: "m")
        try Check.positive(arenaHeight, "arena.height", unit: "m")
        for (side, field) in [(arenaWidth, "arena.width"), (arenaHeight, "arena.height")] where side > World.maximumArenaSide {
            throw WorldError(field: field, problem: "\(side) m is beyond the largest arena the simulation steps accurately, \(Int(World.maximumArenaSide)) m a side; make it smaller")
        }
        for (i, obstacle) in obstacles.enumerated() {
            switch obstacle {
            case let .segment(from, to):
                let f = "obstacles[\(i)].segment"
                try Check.finite(from, "\(f).from")
                try Check.finite(to, "\(f).to")
                if from == to {
                    throw WorldError(field: "\(f).to", problem: "the segment has zero length; give `to` a point other than `from`")
                }
            case let .box(center, size, angle):
                let f = "obstacles[\(i)].box"
                try Check.finite(center, "\(f).center")
                try Check.positive(size.x, "\(f).size", unit: "m")
                try Check.positive(size.y, "\(f).size", unit: "m")
                try Check.finite(angle, "\(f).angle")
            case let .circle(center, radius):
                let f = "obstacles[\(i)].circle"
                try Check.finite(center, "\(f).center")
                try Check.positive(radius, "\(f).radius", unit: "m")
            }
        }
        for (i, light) in lights.enumerated() {
            let f = "lights[\(i)]"
            try Check.finite(light.position, "\(f).position")
            try Check.atLeastZero(light.intensity, "\(f).intensity", unit: "")
            try Check.positive(light.falloff, "\(f).falloff", unit: "m")
            if !insideArena(light.position, margin: 0) {
                throw WorldError(field: "\(f).position", problem: "the light at (\(light.position.x), \(light.position.y)) is outside the \(arenaWidth) m × \(arenaHeight) m arena; move it inside")
            }
        }
        for (i, marking) in floor.enumerated() {
            let f = "floor[\(i)]"
            if marking.points.count < 2 {
                throw WorldError(field: "\(f).points", problem: "a floor marking needs at least two points, got \(marking.points.count)")
            }
            for (k, p) in marking.points.enumerated() { try Check.finite(p, "\(f).points[\(k)]") }
            try Check.positive(marking.width, "\(f).width", unit: "m")
        }
        try Check.atLeastZero(ambientLight, "ambient_light", unit: "")
        try Check.positive(nearLightRadius, "near_light_radius", unit: "m")
        try robot.validate()
        try physics.validate()
        try link.validate(physicsStepMicros: physics.stepMicros)
        if starts.isEmpty {
            throw WorldError(field: "robot.start", problem: "the world has no starting pose; add `start: {x: …, y: …, heading: …}` under `robot`")
        }
        let geometry = WorldGeometry(self)
        for (i, start) in starts.enumerated() {
            let f = i == 0 ? "robot.start" : "robot.starts[\(i - 1)]"
            try Check.finite(start.position, f)
            try Check.finite(start.heading, "\(f).heading")
            if let owner = geometry.overlap(circleAt: start.position, radius: robot.bodyRadius) {
                throw WorldError(field: f, problem: "the robot (a disc of radius \(robot.bodyRadius) m) starting at (\(start.x), \(start.y)) is inside or touching \(owner); move it at least \(robot.bodyRadius) m away from every wall and obstacle")
            }
            if !insideArena(start.position, margin: robot.bodyRadius) {
                throw WorldError(field: f, problem: "the robot starting at (\(start.x), \(start.y)) is outside the \(arenaWidth) m × \(arenaHeight) m arena; start it inside, at least \(robot.bodyRadius) m from the walls")
            }
        }
    }

    func insideArena(_ p: Vector2, margin: Double) -> Bool {
        p.x >= margin && p.x <= arenaWidth - margin && p.y >= margin && p.y <= arenaHeight - margin
    }
}

extension RobotSpec {
    func validate() throws(WorldError) {
        try Check.positive(bodyRadius, "robot.body_radius", unit: "m")
        try Check.positive(wheelBase, "robot.wheel_base", unit: "m")
        try Check.positive(wheelRadius, "robot.wheel_radius", unit: "m")
        try Check.positive(maxWheelSpeed, "robot.max_wheel_speed", unit: "rad/s")
        if wheelRadius * maxWheelSpeed > 100 {
            throw WorldError(field: "robot.max_wheel_speed", problem: "the robot's top speed r·ω_max = \(wheelRadius * maxWheelSpeed) m/s is beyond what the simulation steps safely; keep it at most 100 m/s")
        }
        try Check.atLeastZero(motorTimeConstant * 1000, "robot.motor_time_constant_ms", unit: "ms")
        for (spec, name) in [(rangeLeft, "range_left"), (rangeRight, "range_right")] {
            let f = "robot.sensors.\(name)"
            try Check.finite(spec.position, "\(f).position")
            try Check.finite(spec.angle, "\(f).angle")
            try Check.atLeastZero(spec.fieldOfView, "\(f).field_of_view", unit: "rad")
            if spec.fieldOfView >= .pi {
                throw WorldError(field: "\(f).field_of_view", problem: "the field of view must be less than 180°")
            }
            if spec.rays < 1 || spec.rays > 64 {
                throw WorldError(field: "\(f).rays", problem: "needs 1 to 64 rays, got \(spec.rays)")
            }
            try Check.positive(spec.minRange, "\(f).min_range", unit: "m")
            try Check.positive(spec.maxRange, "\(f).max_range", unit: "m")
            if spec.maxRange <= spec.minRange {
                throw WorldError(field: "\(f).max_range", problem: "max_range (\(spec.maxRange) m) must be greater than min_range (\(spec.minRange) m)")
            }
            try Check.positive(spec.farMillivolts, "\(f).far_mv", unit: "mV")
            try Check.positive(spec.nearMillivolts, "\(f).near_mv", unit: "mV")
            if spec.nearMillivolts <= spec.farMillivolts || spec.nearMillivolts > 5000 {
                throw WorldError(field: "\(f).near_mv", problem: "near_mv (\(spec.nearMillivolts)) must be above far_mv (\(spec.farMillivolts)) and at most 5000: the sensor's voltage falls with distance")
            }
            try Check.atLeastZero(spec.noiseMillivolts, "\(f).noise_mv", unit: "mV")
        }
        for (spec, name) in [(lightLeft, "light_left"), (lightRight, "light_right")] {
            let f = "robot.sensors.\(name)"
            try Check.finite(spec.position, "\(f).position")
            try Check.finite(spec.angle, "\(f).angle")
            try Check.positive(spec.sensitivity, "\(f).sensitivity", unit: "")
            try Check.atLeastZero(spec.noiseMillivolts, "\(f).noise_mv", unit: "mV")
        }
        try Check.positive(bumper.arc, "robot.sensors.bumper.arc", unit: "rad")
        try Check.probability(bumper.flipProbability, "robot.sensors.bumper.flip_probability")
        try Check.positive(encoders.ticksPerRevolution, "robot.sensors.encoders.ticks_per_revolution", unit: "")
        if encoders.ticksPerRevolution > 1_000_000 {
            throw WorldError(field: "robot.sensors.encoders.ticks_per_revolution", problem: "at most 1,000,000 ticks per revolution, got \(encoders.ticksPerRevolution)")
        }
        try Check.atLeastZero(encoders.slip, "robot.sensors.encoders.slip", unit: "")
    }
}

extension PhysicsSettings {
    func validate() throws(WorldError) {
        if stepMicros <= 0 || stepMicros > 100_000 {
            throw WorldError(field: "physics.step_ms", problem: "the physics step must be more than 0 and at most 100 ms, got \(stepMicros) µs; 1 ms is the usual value")
        }
    }
}

extension LinkSettings {
    func validate(physicsStepMicros: Int) throws(WorldError) {
        if samplePeriodMicros <= 0 || physicsStepMicros <= 0 || samplePeriodMicros % physicsStepMicros != 0 {
            throw WorldError(field: "link.sample_period_ms", problem: "the sampling period (\(samplePeriodMicros) µs) must be a positive whole number of physics steps (\(physicsStepMicros) µs)")
        }
        if commandLatencyMicros < 0 {
            throw WorldError(field: "link.command_latency_ms", problem: "the latency cannot be negative, got \(commandLatencyMicros) µs")
        }
        try Check.probability(dropout, "link.dropout")
        if failsafeTimeoutMicros < 0 {
            throw WorldError(field: "link.failsafe_timeout_ms", problem: "the failsafe timeout cannot be negative; use 0 to turn it off")
        }
    }
}

/// Field checks shared by every part of a world.
enum Check {
    static func finite(_ x: Double, _ field: String) throws(WorldError) {
        if !x.isFinite {
            throw WorldError(field: field, problem: "must be a finite number, got \(x)")
        }
    }

    static func finite(_ p: Vector2, _ field: String) throws(WorldError) {
        if !p.x.isFinite || !p.y.isFinite {
            throw WorldError(field: field, problem: "must be a point of two finite numbers, got (\(p.x), \(p.y))")
        }
    }

    static func positive(_ x: Double, _ field: String, unit: String) throws(WorldError) {
        if !(x.isFinite && x > 0) {
            throw WorldError(field: field, problem: "must be a finite number greater than 0\(unit.isEmpty ? "" : " (\(unit))"), got \(x)")
        }
    }

    static func atLeastZero(_ x: Double, _ field: String, unit: String) throws(WorldError) {
        if !(x.isFinite && x >= 0) {
            throw WorldError(field: field, problem: "must be a finite number of at least 0\(unit.isEmpty ? "" : " (\(unit))"), got \(x)")
        }
    }

    static func probability(_ x: Double, _ field: String) throws(WorldError) {
        if !(x >= 0 && x <= 1) {
            throw WorldError(field: field, problem: "must be a probability between 0 and 1, got \(x)")
        }
    }
}

/// The world's walls and obstacles as segments and circles, ready for queries. Boxes become
/// their four sides.
struct WorldGeometry: Sendable {
    let segments: [WallSegment]
    let circles: [WallCircle]
    /// What each segment and circle belongs to, for error messages.
    private let segmentOwners: [String]
    private let circleOwners: [String]
    private let boxes: [(center: Vector2, size: Vector2, angle: Double, owner: String)]

    init(_ world: World) {
        let w = world.arenaWidth, h = world.arenaHeight
        var segments = [
            WallSegment(from: Vector2(0, 0), to: Vector2(w, 0)),
            WallSegment(from: Vector2(w, 0), to: Vector2(w, h)),
            WallSegment(from: Vector2(w, h), to: Vector2(0, h)),
            WallSegment(from: Vector2(0, h), to: Vector2(0, 0)),
        ]
        var segmentOwners = [
            "the south arena wall (y = 0)", "the east arena wall (x = \(w))",
            "the north arena wall (y = \(h))", "the west arena wall (x = 0)",
        ]
        var circles: [WallCircle] = []
        var circleOwners: [String] = []
        var boxes: [(center: Vector2, size: Vector2, angle: Double, owner: String)] = []
        for (i, obstacle) in world.obstacles.enumerated() {
            let owner = "obstacles[\(i)]"
            switch obstacle {
            case let .segment(from, to):
                segments.append(WallSegment(from: from, to: to))
                segmentOwners.append(owner)
            case let .box(center, size, angle):
                let corners = [Vector2(-1, -1), Vector2(1, -1), Vector2(1, 1), Vector2(-1, 1)].map {
                    center + Vector2($0.x * size.x / 2, $0.y * size.y / 2).rotated(by: angle)
                }
                for k in 0..<4 {
                    segments.append(WallSegment(from: corners[k], to: corners[(k + 1) % 4]))
                    segmentOwners.append(owner)
                }
                boxes.append((center, size, angle, owner))
            case let .circle(center, radius):
                circles.append(WallCircle(center: center, radius: radius))
                circleOwners.append(owner)
            }
        }
        self.segments = segments
        self.circles = circles
        self.segmentOwners = segmentOwners
        self.circleOwners = circleOwners
        self.boxes = boxes
    }

    /// The owner of a wall or obstacle that a disc at `p` of `radius` overlaps or lies inside,
    /// or `nil` if it is clear of all of them.
    func overlap(circleAt p: Vector2, radius: Double) -> String? {
        for (s, owner) in zip(segments, segmentOwners) where (p - s.closestPoint(to: p)).length < radius {
            return owner
        }
        for (c, owner) in zip(circles, circleOwners) where (p - c.center).length < radius + c.radius {
            return owner
        }
        for box in boxes {
            let local = (p - box.center).rotated(by: -box.angle)
            if abs(local.x) <= box.size.x / 2 && abs(local.y) <= box.size.y / 2 {
                return box.owner
            }
        }
        return nil
    }

    /// The distance along the unit ray from `origin` to the nearest wall or obstacle, or
    /// `limit` if nothing is nearer.
    @inline(__always)
    func castRay(from origin: Vector2, direction: Vector2, limit: Double) -> Double {
        var nearest = limit
        // Index loops: they stay free of allocation even in unoptimized builds.
        for i in 0..<segments.count {
            if let t = segments[i].rayDistance(origin: origin, direction: direction, limit: nearest) { nearest = t }
        }
        for i in 0..<circles.count {
            if let t = circles[i].rayDistance(origin: origin, direction: direction), t < nearest { nearest = t }
        }
        return nearest
    }
}
