import Foundation
import NeuraxonChannels

/// The state of a simulated run and the constants derived from its world, with the physics
/// step and the sensor models of `SimulatedRobot` (whose documentation states the equations).
/// Built once; after that nothing here allocates.
struct SimulationEngine {
    // Parameters.
    let world: World
    let seed: UInt64

    // Derived constants, computed once.
    private let geometry: WorldGeometry
    private let stepMicros: UInt64
    private let dt: Double
    private let samplePeriodMicros: UInt64
    private let latencyMicros: UInt64
    private let failsafeMicros: UInt64
    private let motorBlend: Double
    private let radius: Double
    private let maxPiece: Double
    private let cosHalfBumperArc: Double
    private let ticksPerRadian: Double
    private let wheelRadius: Double
    private let startPosition: Vector2
    /// The coverage grid (`CoverageGrid`): its cell side, size, and which cells are free and
    /// reachable from the start.
    private let coverageCell: Double
    private let coverageColumns: Int
    private let coverageRows: Int
    private let coverageFree: [Bool]
    /// Each range sensor's ray directions in the robot's frame (unit vectors).
    private let raysLeft: [Vector2]
    private let raysRight: [Vector2]
    /// Each light sensor's axis in the robot's frame (unit vectors).
    private let lightAxisLeft: Vector2
    private let lightAxisRight: Vector2

    // State.
    private(set) var readings: [Int16]
    private(set) var stamp = FrameStamp(timestampMicros: 0, sequence: 0)
    private(set) var timeMicros: UInt64 = 0
    private(set) var pose: Pose
    /// The unit vector of the heading, (cos θ, sin θ), kept with the pose.
    private var facing: Vector2
    private(set) var leftWheelSpeed: Double = 0
    private(set) var rightWheelSpeed: Double = 0
    private(set) var motorLeft: Int16 = 0
    private(set) var motorRight: Int16 = 0
    private(set) var servo: Int16 = 90
    private(set) var metrics = RunMetrics()
    private(set) var linkCounters = LinkCounters()
    private var sensorNoise: SimulationRandom
    private var linkRandom: SimulationRandom
    private var nextSampleIndex: UInt64 = 0
    private var lastArrivalMicros: UInt64 = 0
    /// The robot starts with its actuators at their safe values, as the firmware does.
    private var failsafeEngaged = true
    private var inContact = false
    private var bumperLatched = false
    private var directionLeft: Double = 1
    private var directionRight: Double = 1
    private var wheelAngleLeft: Double = 0
    private var wheelAngleRight: Double = 0
    private var sampledAngleLeft: Double = 0
    private var sampledAngleRight: Double = 0
    private var countedAngleLeft: Double = 0
    private var countedAngleRight: Double = 0
    private var coverageVisited: [Bool]
    /// Where and when the current still stretch began (`StuckRule`), and how far it has turned.
    private var stillAnchor: Vector2
    private var stillSinceMicros: UInt64 = 0
    private var stillTurn: Double = 0
    private var stuckNow = false

    // Commands in flight: a ring of fixed capacity.
    private let queueCapacity: Int
    private var queueDue: [UInt64]
    private var queueSetpoints: [(Int16, Int16, Int16)]
    private var queueHead = 0
    private var queueCount = 0

    /// Builds the engine for a validated `world`.
    init(world: World, seed: UInt64, start: Pose, queueCapacity: Int) {
        self.world = world
        self.seed = seed
        pose = start
        facing = Vector2(angle: start.heading)
        geometry = WorldGeometry(world)
        stepMicros = UInt64(world.physics.stepMicros)
        dt = Double(world.physics.stepMicros) * 1e-6
        samplePeriodMicros = UInt64(world.link.samplePeriodMicros)
        latencyMicros = UInt64(world.link.commandLatencyMicros)
        failsafeMicros = UInt64(world.link.failsafeTimeoutMicros)
        let tau = world.robot.motorTimeConstant
        motorBlend = tau > 0 ? 1 - exp(-dt / tau) : 1
        radius = world.robot.bodyRadius
        maxPiece = radius / 4
        cosHalfBumperArc = cos(min(world.robot.bumper.arc, 2 * .pi) / 2)
        ticksPerRadian = world.robot.encoders.ticksPerRevolution / (2 * .pi)
        wheelRadius = world.robot.wheelRadius
        startPosition = start.position
        stillAnchor = start.position
        let grid = FreeSpaceGrid(world: world, geometry: geometry,
                                 cell: CoverageGrid.cellSize(width: world.arenaWidth, height: world.arenaHeight),
                                 clearance: world.robot.bodyRadius)
        coverageCell = grid.cell
        coverageColumns = grid.columns
        coverageRows = grid.rows
        coverageFree = grid.reachable(from: start.position)
        coverageVisited = [Bool](repeating: false, count: coverageFree.count)
        raysLeft = Self.rayDirections(world.robot.rangeLeft)
        raysRight = Self.rayDirections(world.robot.rangeRight)
        lightAxisLeft = Vector2(angle: world.robot.lightLeft.angle)
        lightAxisRight = Vector2(angle: world.robot.lightRight.angle)
        sensorNoise = SimulationRandom(seed: seed, stream: 1)
        linkRandom = SimulationRandom(seed: seed, stream: 2)
        readings = [Int16](repeating: 0, count: ReferenceChannels.sensors.count)
        self.queueCapacity = queueCapacity
        queueDue = [UInt64](repeating: 0, count: queueCapacity)
        queueSetpoints = [(Int16, Int16, Int16)](repeating: (0, 0, 90), count: queueCapacity)
        var p = pose.position
        let (_, _, gap, _) = contactPass(&p)
        metrics.closestWallApproach = max(gap, 0)
        metrics.freeCells = coverageFree.reduce(0) { $0 + ($1 ? 1 : 0) }
        metrics.coverageCell = coverageCell
        visitCell()
        if !world.lights.isEmpty {
            let d = nearestLightDistance()
            metrics.startDistanceToLight = d
            metrics.distanceToLight = d
            metrics.closestDistanceToLight = d
        }
    }

    /// Marks the coverage cell under the robot's centre as visited.
    private mutating func visitCell() {
        let column = min(max(Int(pose.position.x / coverageCell), 0), coverageColumns - 1)
        let row = min(max(Int(pose.position.y / coverageCell), 0), coverageRows - 1)
        let i = row * coverageColumns + column  // as FreeSpaceGrid.index(of:), without its copy
        if coverageFree[i] && !coverageVisited[i] {
            coverageVisited[i] = true
            metrics.cellsVisited += 1
        }
    }

    /// The distance from the robot's centre to the nearest light, metres (infinity without one).
    private func nearestLightDistance() -> Double {
        var nearest = Double.infinity
        let lights = world.lights
        for i in 0..<lights.count { nearest = min(nearest, (lights[i].position - pose.position).length) }
        return nearest
    }

    /// `rays` directions spread evenly over the field of view around the sensor's axis.
    private static func rayDirections(_ spec: RangeSensorSpec) -> [Vector2] {
        (0..<spec.rays).map { ray in
            let offset = spec.rays == 1 ? 0 : spec.fieldOfView * (Double(ray) / Double(spec.rays - 1) - 0.5)
            return Vector2(angle: spec.angle + offset)
        }
    }

    // MARK: Sensing

    mutating func nextFrame() -> FrameStamp {
        let due = (timeMicros + samplePeriodMicros - 1) / samplePeriodMicros
        let index = max(nextSampleIndex, due)
        advance(toMicros: index * samplePeriodMicros)
        sampleSensors()
        stamp = FrameStamp(timestampMicros: timeMicros, sequence: UInt32(truncatingIfNeeded: index))
        nextSampleIndex = index + 1
        return stamp
    }

    mutating func sampleSensors() {
        let robot = world.robot
        readings[ReferenceChannels.rangeLeft] = rangeReading(robot.rangeLeft, rays: raysLeft)
        readings[ReferenceChannels.rangeRight] = rangeReading(robot.rangeRight, rays: raysRight)
        readings[ReferenceChannels.lightLeft] = lightReading(robot.lightLeft, axis: lightAxisLeft)
        readings[ReferenceChannels.lightRight] = lightReading(robot.lightRight, axis: lightAxisRight)
        var pressed = bumperLatched
        if robot.bumper.flipProbability > 0 && sensorNoise.chance(robot.bumper.flipProbability) {
            pressed.toggle()
        }
        readings[ReferenceChannels.bumper] = pressed ? 1 : 0
        bumperLatched = false
        countedAngleLeft = countedAngle(countedAngleLeft, turned: wheelAngleLeft - sampledAngleLeft)
        countedAngleRight = countedAngle(countedAngleRight, turned: wheelAngleRight - sampledAngleRight)
        sampledAngleLeft = wheelAngleLeft
        sampledAngleRight = wheelAngleRight
        readings[ReferenceChannels.wheelLeft] = ticks(countedAngleLeft)
        readings[ReferenceChannels.wheelRight] = ticks(countedAngleRight)
    }

    private mutating func millivolts(_ value: Double, noise: Double) -> Int16 {
        let noisy = noise > 0 ? value + noise * sensorNoise.gaussian() : value
        return Int16(min(max(noisy, 0), 5000).rounded())
    }

    private mutating func rangeReading(_ spec: RangeSensorSpec, rays: [Vector2]) -> Int16 {
        let origin = pose.position + spec.position.rotated(byUnit: facing)
        var nearest = spec.maxRange
        for i in 0..<rays.count {
            let ray = rays[i]
            nearest = geometry.castRay(from: origin, direction: ray.rotated(byUnit: facing), limit: nearest)
        }
        return millivolts(spec.millivolts(atDistance: nearest), noise: spec.noiseMillivolts)
    }

    private mutating func lightReading(_ spec: LightSensorSpec, axis mountedAxis: Vector2) -> Int16 {
        let origin = pose.position + spec.position.rotated(byUnit: facing)
        let axis = mountedAxis.rotated(byUnit: facing)
        var light = world.ambientLight
        let lights = world.lights
        for i in 0..<lights.count {
            let source = lights[i]
            let toLight = source.position - origin
            let d = toLight.length
            if d < 1e-9 {
                light += source.intensity
                continue
            }
            let u = toLight * (1 / d)
            let cosine = axis.dot(u)
            if cosine <= 0 { continue }
            if world.lightOcclusion && geometry.castRay(from: origin, direction: u, limit: d) < d {
                continue
            }
            let ratio = d / source.falloff
            light += source.intensity * cosine / (1 + ratio * ratio)
        }
        let x = spec.sensitivity * light
        return millivolts(5000 * x / (1 + x), noise: spec.noiseMillivolts)
    }

    /// The encoder's counted angle after the wheel turned by `turned` radians (signed by the
    /// command's direction) since the previous frame, with slip noise.
    private mutating func countedAngle(_ counted: Double, turned: Double) -> Double {
        let slip = world.robot.encoders.slip
        return counted + (slip > 0 ? turned * (1 + slip * sensorNoise.gaussian()) : turned)
    }

    /// The wrapping 16-bit tick counter for a counted angle in radians: ⌊angle · ticks/rad⌋
    /// modulo 2¹⁶.
    private func ticks(_ counted: Double) -> Int16 {
        let ticks = (counted * ticksPerRadian).rounded(.down).truncatingRemainder(dividingBy: 65536)
        return Int16(truncatingIfNeeded: Int64(ticks))
    }

    // MARK: Acting

    mutating func apply(motorLeft: Int16, motorRight: Int16, servo: Int16) {
        linkCounters.commandsSent += 1
        let dropout = world.link.dropout
        if dropout > 0 && linkRandom.chance(dropout) {
            linkCounters.commandsLost += 1
            return
        }
        if queueCount == queueCapacity {
            queueHead = (queueHead + 1) % queueCapacity
            queueCount -= 1
            linkCounters.commandsOverflowed += 1
        }
        let slot = (queueHead + queueCount) % queueCapacity
        queueDue[slot] = timeMicros + latencyMicros
        queueSetpoints[slot] = (
            min(max(motorLeft, -1000), 1000), min(max(motorRight, -1000), 1000), min(max(servo, 0), 180)
        )
        queueCount += 1
    }

    // MARK: Time

    mutating func advance(toMicros target: UInt64) {
        while timeMicros < target { physicsStep() }
    }

    private mutating func physicsStep() {
        receiveCommands()
        let robot = world.robot
        leftWheelSpeed += motorBlend * (Double(motorLeft) / 1000 * robot.maxWheelSpeed - leftWheelSpeed)
        rightWheelSpeed += motorBlend * (Double(motorRight) / 1000 * robot.maxWheelSpeed - rightWheelSpeed)
        if motorLeft != 0 { directionLeft = motorLeft > 0 ? 1 : -1 }
        if motorRight != 0 { directionRight = motorRight > 0 ? 1 : -1 }

        let v = robot.wheelRadius * (leftWheelSpeed + rightWheelSpeed) / 2
        let w = robot.wheelRadius * (rightWheelSpeed - leftWheelSpeed) / robot.wheelBase
        let turn = w * dt
        var heading = pose.heading + turn
        if abs(heading) > .pi { heading = remainder(heading, 2 * .pi) }
        let newFacing = Vector2(angle: heading)
        let displacement: Vector2
        if abs(turn) < 1e-12 {
            displacement = facing * (v * dt)
        } else {
            let k = v / w
            displacement = Vector2(k * (newFacing.y - facing.y), -k * (newFacing.x - facing.x))
        }
        let before = pose.position
        let blocked = move(by: displacement)

        // Traction: each wheel turns as the body's achieved motion lets it. The part of the
        // commanded move a wall took away, along the heading at mid-step, is rolling the
        // wheels could not do; sideways motion the wheels cannot roll is not theirs either.
        var turnedLeft = leftWheelSpeed * dt
        var turnedRight = rightWheelSpeed * dt
        if blocked {
            let lost = (pose.position - before - displacement).dot(Vector2(angle: pose.heading + turn / 2)) / wheelRadius
            turnedLeft += lost
            turnedRight += lost
            metrics.slipLeft += abs(lost) * wheelRadius
            metrics.slipRight += abs(lost) * wheelRadius
        }
        wheelAngleLeft += abs(turnedLeft) * directionLeft
        wheelAngleRight += abs(turnedRight) * directionRight
        if motorLeft != 0 && abs(turnedLeft) < TractionModel.stallRatio * abs(leftWheelSpeed * dt) {
            metrics.stalledLeft += dt
        }
        if motorRight != 0 && abs(turnedRight) < TractionModel.stallRatio * abs(rightWheelSpeed * dt) {
            metrics.stalledRight += dt
        }

        pose.heading = heading
        facing = newFacing
        timeMicros += stepMicros

        metrics.simulatedSeconds = Double(timeMicros) * 1e-6
        metrics.distanceTravelled += (pose.position - before).length
        metrics.netDisplacement = (pose.position - startPosition).length
        if inContact { metrics.timeInContact += dt }
        visitCell()
        updateStuck(turn: turn)
        let lights = world.lights
        if !lights.isEmpty {
            let d = nearestLightDistance()
            metrics.distanceToLight = d
            if d < metrics.closestDistanceToLight ?? .infinity { metrics.closestDistanceToLight = d }
        }
        for i in 0..<lights.count where (lights[i].position - pose.position).length <= world.nearLightRadius {
            metrics.timeNearLight += dt
            if metrics.timeToReachLight == nil { metrics.timeToReachLight = metrics.simulatedSeconds }
            break
        }
    }

    /// Extends or ends the current still stretch (`StuckRule`) after a step that turned the
    /// body by `turn` radians, and counts stuck time.
    private mutating func updateStuck(turn: Double) {
        stillTurn += turn
        let commanded = motorLeft != 0 || motorRight != 0
        if commanded && (pose.position - stillAnchor).length < StuckRule.radius && abs(stillTurn) < StuckRule.turn {
            let still = timeMicros - stillSinceMicros
            if stuckNow {
                metrics.timeStuck += dt
            } else if still >= StuckRule.windowMicros {
                metrics.timeStuck += Double(still) * 1e-6
                stuckNow = true
            }
        } else {
            stillAnchor = pose.position
            stillSinceMicros = timeMicros
            stillTurn = 0
            stuckNow = false
        }
    }

    private mutating func receiveCommands() {
        while queueCount > 0 && queueDue[queueHead] <= timeMicros {
            (motorLeft, motorRight, servo) = queueSetpoints[queueHead]
            queueHead = (queueHead + 1) % queueCapacity
            queueCount -= 1
            linkCounters.commandsArrived += 1
            lastArrivalMicros = timeMicros
            failsafeEngaged = false
        }
        if failsafeMicros > 0 && !failsafeEngaged && timeMicros - lastArrivalMicros >= failsafeMicros {
            motorLeft = 0
            motorRight = 0
            servo = 90
            failsafeEngaged = true
            linkCounters.failsafeStops += 1
        }
    }

    /// Moves the body by `displacement` in pieces of at most a quarter radius, resolving
    /// contacts after each, then updates contact, the collision count, the bumper and the
    /// closest approach. Returns whether a wall changed the move.
    private mutating func move(by displacement: Vector2) -> Bool {
        let length = displacement.length
        let pieces = length > maxPiece ? Int((length / maxPiece).rounded(.up)) : 1
        let piece = displacement * (1 / Double(pieces))
        var p = pose.position
        var penetrated = false
        var frontHit = false
        var gap = Double.infinity
        var frontTouch = false
        var settled = false
        pieces: for _ in 0..<pieces {
            let previous = p
            p += piece
            settled = false
            for _ in 0..<3 {
                let pass = contactPass(&p)
                if !pass.moved {
                    (gap, frontTouch, settled) = (pass.gap, pass.frontTouch, true)
                    break
                }
                penetrated = true
                frontHit = frontHit || pass.frontHit
                if world.physics.collision == .stop {
                    p = previous
                    break pieces
                }
            }
        }
        if !settled {
            var q = p
            let pass = contactPass(&q)
            (gap, frontTouch) = (pass.gap, pass.frontTouch)
        }
        pose.position = p

        metrics.closestWallApproach = min(metrics.closestWallApproach, max(gap, 0))
        if penetrated || (inContact && gap < 0.002) {
            if !inContact { metrics.collisions += 1 }
            inContact = true
        } else {
            inContact = false
        }
        bumperLatched = bumperLatched || frontHit || frontTouch
        return penetrated
    }

    /// One pass over every wall and obstacle: pushes a body centred at `p` out of each one it
    /// overlaps, along the contact normal, until it touches it. Returns whether it pushed,
    /// whether a push was against the bumper's arc, the smallest gap between the body's edge
    /// and a wall before pushing (metres), and whether a wall within 1 mm lies in the bumper's
    /// arc.
    private func contactPass(_ p: inout Vector2) -> (moved: Bool, frontHit: Bool, gap: Double, frontTouch: Bool) {
        var moved = false
        var frontHit = false
        var gap = Double.infinity
        var frontTouch = false
        let inside = radius - 1e-9
        var nearestSquared = Double.infinity
        let touchSquared = (radius + 0.001) * (radius + 0.001)
        let segments = geometry.segments
        for i in 0..<segments.count {
            let s = segments[i]
            let q = s.closestPoint(to: p)
            let away = p - q
            let squared = away.dot(away)
            nearestSquared = min(nearestSquared, squared)
            if squared >= touchSquared { continue }
            let distance = squared.squareRoot()
            let inFront = -facing.dot(away) >= cosHalfBumperArc * distance
            if inFront { frontTouch = true }
            if distance < inside {
                let normal = distance > 1e-12
                    ? away * (1 / distance) : Vector2(-s.edge.y, s.edge.x) * (1 / s.edge.length)
                frontHit = frontHit || inFront
                p = q + normal * radius
                moved = true
            }
        }
        gap = nearestSquared.squareRoot() - radius
        let circles = geometry.circles
        for i in 0..<circles.count {
            let c = circles[i]
            let away = p - c.center
            let distance = away.length
            let reach = radius + c.radius
            gap = min(gap, distance - reach)
            let inFront = -facing.dot(away) >= cosHalfBumperArc * distance
            if distance - reach < 0.001 && inFront { frontTouch = true }
            if distance < reach - 1e-9 {
                let normal = distance > 1e-12 ? away * (1 / distance) : facing * -1
                frontHit = frontHit || inFront
                p = c.center + normal * reach
                moved = true
            }
        }
        return (moved, frontHit, gap, frontTouch)
    }
}
