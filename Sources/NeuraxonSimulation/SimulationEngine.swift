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
    /// Per contact switch (`RobotLayout.contactSwitches`): its arc's axis in the robot's frame
    /// and the cosine of half its arc.
    private let contactAxes: [Vector2]
    private let cosHalfContactArcs: [Double]
    /// The robot's sensors, actuators and body (`RobotLayout`).
    let layout: RobotLayout
    private let sensorModels: [SensorModel]
    private let actuatorCount: Int
    private let actuatorMinimum: [Int16]
    private let actuatorMaximum: [Int16]
    private let actuatorSafe: [Int16]
    /// Per actuator: 0 left motor, 1 right motor, −1 not a motor.
    private let motorSide: [Int]
    private let motorsLeft: Int
    private let motorsRight: Int
    private let firstMotorLeft: Int?
    private let firstMotorRight: Int?
    private let firstServo: Int?
    /// Per actuator: the centre of a servo's range, degrees.
    private let servoCentre: [Double]
    private let servoStep: Double
    private let wheelRadius: Double
    private let startPosition: Vector2
    /// The coverage grid (`CoverageGrid`): its cell side, size, and which cells are free and
    /// reachable from the start.
    private let coverageCell: Double
    private let coverageColumns: Int
    private let coverageRows: Int
    private let coverageFree: [Bool]
    /// The floor markings' pieces and half widths.
    private let floorSegments: [WallSegment]
    private let floorHalfWidths: [Double]

    // State.
    private(set) var readings: [Int16]
    private(set) var stamp = FrameStamp(timestampMicros: 0, sequence: 0)
    private(set) var timeMicros: UInt64 = 0
    private(set) var pose: Pose
    /// The unit vector of the heading, (cos θ, sin θ), kept with the pose.
    private var facing: Vector2
    private(set) var leftWheelSpeed: Double = 0
    private(set) var rightWheelSpeed: Double = 0
    /// The setpoints in effect, one per actuator.
    private(set) var setpoints: [Int16]
    /// Each motor's speed through its first-order response, rad/s (0 for other actuators).
    private var motorSpeeds: [Double]
    /// Each motor's last non-zero command's sign.
    private var motorDirections: [Double]
    /// Each servo's simulated angle, degrees.
    private(set) var servoAngles: [Double]
    var motorLeft: Int16 { firstMotorLeft.map { setpoints[$0] } ?? 0 }
    var motorRight: Int16 { firstMotorRight.map { setpoints[$0] } ?? 0 }
    var servo: Int16 { firstServo.map { setpoints[$0] } ?? 0 }
    private(set) var metrics = RunMetrics()
    private(set) var linkCounters = LinkCounters()
    private var sensorNoise: SimulationRandom
    private var linkRandom: SimulationRandom
    private var nextSampleIndex: UInt64 = 0
    private var lastArrivalMicros: UInt64 = 0
    /// The robot starts with its actuators at their safe values, as the firmware does.
    private var failsafeEngaged = true
    private var inContact = false
    /// Bit k: contact switch k touched something since the last sample.
    private var contactsLatched: UInt64 = 0
    /// Per sensor channel of an encoder: the angle its wheel turned as the encoder sees it
    /// (signed by its direction rule), at the last sample, and counted with slip.
    private var encoderAngles: [Double]
    private var sampledAngles: [Double]
    private var countedAngles: [Double]
    /// The sensor channels that are encoders, with their side and direction motor (−1: none).
    private let encoderChannels: [Int]
    private let encoderSides: [Int]
    private let encoderDirectionMotors: [Int]
    private let encoderTicksPerRadian: [Double]
    private var coverageVisited: [Bool]
    /// Where and when the current still stretch began (`StuckRule`), and how far it has turned.
    private var stillAnchor: Vector2
    private var stillSinceMicros: UInt64 = 0
    private var stillTurn: Double = 0
    private var stuckNow = false
    /// Where and when the current stretch within `NowhereRule.radius` began, its time with a
    /// motor commanded so far (µs), how long the motors have now been off (µs), and whether it
    /// already counts.
    private var nowhereAnchor: Vector2
    private var nowhereSinceMicros: UInt64 = 0
    private var nowhereDrivenMicros: UInt64 = 0
    private var nowhereRestMicros: UInt64 = 0
    private var nowhereNow = false

    // Commands in flight: a ring of fixed capacity.
    private let queueCapacity: Int
    private var queueDue: [UInt64]
    /// `queueCapacity` × `actuatorCount` setpoints.
    private var queueSetpoints: [Int16]
    private var queueHead = 0
    private var queueCount = 0

    /// Builds the engine for a validated `world`.
    init(world: World, layout: RobotLayout, seed: UInt64, start: Pose, queueCapacity: Int) {
        self.world = world
        self.layout = layout
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
        contactAxes = layout.contactSwitches.map(\.axis)
        cosHalfContactArcs = layout.contactSwitches.map { cos(min($0.arc, 2 * .pi) / 2) }
        sensorModels = layout.sensors
        let actuators = layout.actuatorChannels
        actuatorCount = actuators.count
        actuatorMinimum = actuators.map(\.minimum)
        actuatorMaximum = actuators.map(\.maximum)
        actuatorSafe = actuators.map(\.safe)
        motorSide = layout.motorSides.map { $0?.rawValue ?? -1 }
        motorsLeft = layout.motorSides.filter { $0 == .left }.count
        motorsRight = layout.motorSides.filter { $0 == .right }.count
        firstMotorLeft = layout.motorSides.firstIndex { $0 == .left }
        firstMotorRight = layout.motorSides.firstIndex { $0 == .right }
        firstServo = layout.servos.first
        servoCentre = actuators.map { (Double($0.minimum) + Double($0.maximum)) / 2 }
        servoStep = ServoModel.degreesPerSecond * dt
        setpoints = actuatorSafe
        motorSpeeds = [Double](repeating: 0, count: actuators.count)
        motorDirections = [Double](repeating: 1, count: actuators.count)
        servoAngles = actuatorSafe.map(Double.init)
        var encoders: [(Int, Int, Int, Double)] = []
        for model in layout.sensors {
            if case let .encoder(channel, side, perRadian, motor) = model {
                encoders.append((channel, side.rawValue, motor ?? -1, perRadian))
            }
        }
        encoderTicksPerRadian = encoders.map(\.3)
        encoderChannels = encoders.map(\.0)
        encoderSides = encoders.map(\.1)
        encoderDirectionMotors = encoders.map(\.2)
        encoderAngles = [Double](repeating: 0, count: encoders.count)
        sampledAngles = encoderAngles
        countedAngles = encoderAngles
        var floorSegments: [WallSegment] = []
        var floorHalfWidths: [Double] = []
        for marking in world.floor {
            for (a, b) in marking.segments {
                floorSegments.append(WallSegment(from: a, to: b))
                floorHalfWidths.append(marking.width / 2)
            }
        }
        self.floorSegments = floorSegments
        self.floorHalfWidths = floorHalfWidths
        wheelRadius = world.robot.wheelRadius
        startPosition = start.position
        stillAnchor = start.position
        nowhereAnchor = start.position
        let grid = FreeSpaceGrid(world: world, geometry: geometry,
                                 cell: CoverageGrid.cellSize(width: world.arenaWidth, height: world.arenaHeight),
                                 clearance: world.robot.bodyRadius)
        coverageCell = grid.cell
        coverageColumns = grid.columns
        coverageRows = grid.rows
        coverageFree = grid.reachable(from: start.position)
        coverageVisited = [Bool](repeating: false, count: coverageFree.count)
        sensorNoise = SimulationRandom(seed: seed, stream: 1)
        linkRandom = SimulationRandom(seed: seed, stream: 2)
        readings = [Int16](repeating: 0, count: layout.sensorChannels.count)
        self.queueCapacity = queueCapacity
        queueDue = [UInt64](repeating: 0, count: queueCapacity)
        queueSetpoints = [Int16](repeating: 0, count: queueCapacity * actuators.count)
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
        let models = sensorModels
        for m in 0..<models.count {
            switch models[m] {
            case let .constant(channel, value):
                readings[channel] = value
            case let .irRange(channel, spec, rays, mount):
                readings[channel] = rangeReading(spec, rays: rays, turn: mountTurn(mount))
            case let .light(channel, spec, axis, mount):
                readings[channel] = lightReading(spec, axis: axis, turn: mountTurn(mount))
            case let .contact(channel, index):
                var pressed = contactsLatched & (1 << UInt64(index)) != 0
                let flip = world.robot.bumper.flipProbability
                if flip > 0 && sensorNoise.chance(flip) { pressed.toggle() }
                readings[channel] = pressed ? 1 : 0
            case .encoder:
                break
            case let .ultrasonic(channel, position, rays, maximum, timeout, mount):
                readings[channel] = ultrasonicReading(position: position, rays: rays, maximum: maximum,
                                                      timeoutMicros: timeout, turn: mountTurn(mount))
            case let .reflectance(first, positions):
                for k in 0..<positions.count { readings[first + k] = reflectanceReading(positions[k]) }
            }
        }
        contactsLatched = 0
        for e in 0..<encoderChannels.count {
            countedAngles[e] = countedAngle(countedAngles[e], turned: encoderAngles[e] - sampledAngles[e])
        }
        for e in 0..<encoderChannels.count {
            sampledAngles[e] = encoderAngles[e]
            readings[encoderChannels[e]] = ticks(countedAngles[e], ticksPerRadian: encoderTicksPerRadian[e])
        }
    }

    /// The unit vector of the angle a servo mount turns a sensor by: the servo's simulated
    /// angle less the centre of its range (a servo at its centre points the sensor along its
    /// geometry's heading).
    private func mountTurn(_ mount: Int?) -> Vector2? {
        guard let mount else { return nil }
        return Vector2(angle: (servoAngles[mount] - servoCentre[mount]) * .pi / 180)
    }

    private mutating func ultrasonicReading(position: Vector2, rays: [Vector2], maximum: Int16, timeoutMicros: Int,
                                            turn: Vector2?) -> Int16 {
        let origin = pose.position + position.rotated(byUnit: facing)
        let limit = Double(maximum) / 1000
        var nearest = limit
        for i in 0..<rays.count {
            var ray = rays[i]
            if let turn { ray = ray.rotated(byUnit: turn) }
            nearest = geometry.castRay(from: origin, direction: ray.rotated(byUnit: facing), limit: nearest)
        }
        let clean = UltrasonicModel.millimetres(distance: nearest >= limit ? .infinity : nearest,
                                                maximumMillimetres: maximum, timeoutMicros: timeoutMicros)
        if clean >= Double(maximum) { return maximum }
        let sigma = UltrasonicModel.noiseMillimetres + UltrasonicModel.noiseShare * clean
        let noisy = clean + sigma * sensorNoise.gaussian()
        return Int16(min(max(noisy, 0), Double(maximum)).rounded())
    }

    private mutating func reflectanceReading(_ position: Vector2) -> Int16 {
        let spot = pose.position + position.rotated(byUnit: facing)
        var value = ReflectanceModel.lightFloorMillivolts
        for i in 0..<floorSegments.count {
            let d = (spot - floorSegments[i].closestPoint(to: spot)).length
            value = min(value, ReflectanceModel.millivolts(distance: d, width: 2 * floorHalfWidths[i]))
        }
        return millivolts(value, noise: ReflectanceModel.noiseMillivolts)
    }

    private mutating func millivolts(_ value: Double, noise: Double) -> Int16 {
        let noisy = noise > 0 ? value + noise * sensorNoise.gaussian() : value
        return Int16(min(max(noisy, 0), 5000).rounded())
    }

    private mutating func rangeReading(_ spec: RangeSensorSpec, rays: [Vector2], turn: Vector2?) -> Int16 {
        let origin = pose.position + spec.position.rotated(byUnit: facing)
        var nearest = spec.maxRange
        for i in 0..<rays.count {
            var ray = rays[i]
            if let turn { ray = ray.rotated(byUnit: turn) }
            nearest = geometry.castRay(from: origin, direction: ray.rotated(byUnit: facing), limit: nearest)
        }
        return millivolts(spec.millivolts(atDistance: nearest), noise: spec.noiseMillivolts)
    }

    private mutating func lightReading(_ spec: LightSensorSpec, axis mountedAxis: Vector2, turn: Vector2?) -> Int16 {
        let origin = pose.position + spec.position.rotated(byUnit: facing)
        let axis = (turn.map { mountedAxis.rotated(byUnit: $0) } ?? mountedAxis).rotated(byUnit: facing)
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
    private func ticks(_ counted: Double, ticksPerRadian: Double) -> Int16 {
        let ticks = (counted * ticksPerRadian).rounded(.down).truncatingRemainder(dividingBy: 65536)
        return Int16(truncatingIfNeeded: Int64(ticks))
    }

    // MARK: Acting

    /// Queues one setpoint per actuator (`setpoints.count` must be the actuator count), each
    /// clamped to its channel's range.
    mutating func apply(_ setpoints: [Int16]) {
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
        for a in 0..<actuatorCount {
            queueSetpoints[slot * actuatorCount + a] = min(max(setpoints[a], actuatorMinimum[a]), actuatorMaximum[a])
        }
        queueCount += 1
    }

    // MARK: Time

    mutating func advance(toMicros target: UInt64) {
        while timeMicros < target { physicsStep() }
    }

    private mutating func physicsStep() {
        receiveCommands()
        let robot = world.robot
        // Skid steer: each side's wheel turns at the mean of its motors' speeds.
        var sumLeft = 0.0, sumRight = 0.0
        var leftOn = false, rightOn = false
        for a in 0..<actuatorCount {
            let side = motorSide[a]
            if side < 0 {
                if servoStep > 0 && servoAngles[a] != Double(setpoints[a]) {
                    let target = Double(setpoints[a])
                    let gap = target - servoAngles[a]
                    servoAngles[a] = abs(gap) <= servoStep ? target : servoAngles[a] + (gap > 0 ? servoStep : -servoStep)
                }
                continue
            }
            let duty = setpoints[a]
            motorSpeeds[a] += motorBlend * (Double(duty) / 1000 * robot.maxWheelSpeed - motorSpeeds[a])
            if duty != 0 { motorDirections[a] = duty > 0 ? 1 : -1 }
            if side == 0 {
                sumLeft += motorSpeeds[a]
                leftOn = leftOn || duty != 0
            } else {
                sumRight += motorSpeeds[a]
                rightOn = rightOn || duty != 0
            }
        }
        leftWheelSpeed = motorsLeft > 0 ? sumLeft / Double(motorsLeft) : 0
        rightWheelSpeed = motorsRight > 0 ? sumRight / Double(motorsRight) : 0

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
        for e in 0..<encoderChannels.count {
            let turned = encoderSides[e] == 0 ? turnedLeft : turnedRight
            let motor = encoderDirectionMotors[e]
            encoderAngles[e] += motor >= 0 ? abs(turned) * motorDirections[motor] : turned
        }
        if leftOn && abs(turnedLeft) < TractionModel.stallRatio * abs(leftWheelSpeed * dt) {
            metrics.stalledLeft += dt
        }
        if rightOn && abs(turnedRight) < TractionModel.stallRatio * abs(rightWheelSpeed * dt) {
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
        var commanded = false
        for a in 0..<actuatorCount where motorSide[a] >= 0 && setpoints[a] != 0 { commanded = true }
        updateStuck(turn: turn, commanded: commanded)
        updateNowhere(commanded: commanded)
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
    /// body by `turn` radians, and counts stuck time; `commanded` says whether a motor has a
    /// non-zero duty.
    private mutating func updateStuck(turn: Double, commanded: Bool) {
        stillTurn += turn
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

    /// Extends or ends the current stretch near one spot (`NowhereRule`) after a step, and counts
    /// the time going nowhere; `commanded` says whether a motor has a non-zero duty.
    private mutating func updateNowhere(commanded: Bool) {
        nowhereRestMicros = commanded ? 0 : nowhereRestMicros + stepMicros
        guard (pose.position - nowhereAnchor).length < NowhereRule.radius && nowhereRestMicros < NowhereRule.restMicros else {
            nowhereAnchor = pose.position
            nowhereSinceMicros = timeMicros
            nowhereDrivenMicros = 0
            nowhereNow = false
            return
        }
        guard commanded else { return }
        nowhereDrivenMicros += stepMicros
        if nowhereNow {
            metrics.timeGoingNowhere += dt
        } else if timeMicros - nowhereSinceMicros >= NowhereRule.windowMicros {
            metrics.timeGoingNowhere += Double(nowhereDrivenMicros) * 1e-6
            nowhereNow = true
        }
    }

    private mutating func receiveCommands() {
        while queueCount > 0 && queueDue[queueHead] <= timeMicros {
            for a in 0..<actuatorCount { setpoints[a] = queueSetpoints[queueHead * actuatorCount + a] }
            queueHead = (queueHead + 1) % queueCapacity
            queueCount -= 1
            linkCounters.commandsArrived += 1
            lastArrivalMicros = timeMicros
            failsafeEngaged = false
        }
        if failsafeMicros > 0 && !failsafeEngaged && timeMicros - lastArrivalMicros >= failsafeMicros {
            for a in 0..<actuatorCount { setpoints[a] = actuatorSafe[a] }
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
        var hits: UInt64 = 0
        var gap = Double.infinity
        var touches: UInt64 = 0
        var settled = false
        pieces: for _ in 0..<pieces {
            let previous = p
            p += piece
            settled = false
            for _ in 0..<3 {
                let pass = contactPass(&p)
                if !pass.moved {
                    (gap, touches, settled) = (pass.gap, pass.touches, true)
                    break
                }
                penetrated = true
                hits |= pass.hits
                if world.physics.collision == .stop {
                    p = previous
                    break pieces
                }
            }
        }
        if !settled {
            var q = p
            let pass = contactPass(&q)
            (gap, touches) = (pass.gap, pass.touches)
        }
        pose.position = p

        metrics.closestWallApproach = min(metrics.closestWallApproach, max(gap, 0))
        if penetrated || (inContact && gap < 0.002) {
            if !inContact { metrics.collisions += 1 }
            inContact = true
        } else {
            inContact = false
        }
        contactsLatched |= hits | touches
        return penetrated
    }

    /// One pass over every wall and obstacle: pushes a body centred at `p` out of each one it
    /// overlaps, along the contact normal, until it touches it. Returns whether it pushed, the
    /// contact switches (bit k: switch k) whose arc a push was against, the smallest gap between
    /// the body's edge and a wall before pushing (metres), and the switches with a wall or
    /// obstacle within 1 mm in their arc.
    private func contactPass(_ p: inout Vector2) -> (moved: Bool, hits: UInt64, gap: Double, touches: UInt64) {
        var moved = false
        var hits: UInt64 = 0
        var gap = Double.infinity
        var touches: UInt64 = 0
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
            let inArcs = switchesFacing(away, distance: distance)
            touches |= inArcs
            if distance < inside {
                let normal = distance > 1e-12
                    ? away * (1 / distance) : Vector2(-s.edge.y, s.edge.x) * (1 / s.edge.length)
                hits |= inArcs
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
            if distance - reach >= 0.001 { continue }
            let inArcs = switchesFacing(away, distance: distance)
            touches |= inArcs
            if distance < reach - 1e-9 {
                let normal = distance > 1e-12 ? away * (1 / distance) : facing * -1
                hits |= inArcs
                p = c.center + normal * reach
                moved = true
            }
        }
        return (moved, hits, gap, touches)
    }

    /// The contact switches (bit k: switch k) whose arc holds the point of contact of a body
    /// whose centre lies `away` from it (`distance` = its length, metres).
    private func switchesFacing(_ away: Vector2, distance: Double) -> UInt64 {
        var facingMask: UInt64 = 0
        for k in 0..<contactAxes.count {
            let axis = contactAxes[k].rotated(byUnit: facing)
            if -axis.dot(away) >= cosHalfContactArcs[k] * distance { facingMask |= 1 << UInt64(k) }
        }
        return facingMask
    }
}
