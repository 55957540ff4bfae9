import Foundation
import Testing
@testable import NeuraxonSimulation

@Suite("Sensors")
struct SensorTests {
    /// A robot whose left range sensor looks straight ahead from its centre with one ray,
    /// placed so the east wall is `distance` metres in front of the sensor.
    func rangeReading(atDistance distance: Double) throws -> Int16 {
        var world = openWorld(width: 3, height: 2, start: Pose(x: 3 - distance, y: 1, heading: 0))
        world.robot.rangeLeft = RangeSensorSpec(position: .zero, angle: 0, fieldOfView: 0, rays: 1, noiseMillivolts: 0)
        let robot = try SimulatedRobot(world: world, seed: 1)
        robot.nextFrame()
        return robot.readings[ReferenceChannels.rangeLeft]
    }

    @Test("the infrared reading falls monotonically with distance and passes the curve's two points")
    func rangeCurve() throws {
        var previous = Int16.max
        for step in 0...36 {
            let d = 0.08 + Double(step) * 0.02
            let reading = try rangeReading(atDistance: d)
            #expect(reading < previous, "at \(d) m")
            previous = reading
        }
        #expect(abs(Int(try rangeReading(atDistance: 0.08)) - 3100) <= 1)
        #expect(abs(Int(try rangeReading(atDistance: 0.8)) - 400) <= 1)
        #expect(try rangeReading(atDistance: 0.07) == rangeReading(atDistance: 0.08))  // clamped below
        #expect(try rangeReading(atDistance: 1.5) == 400)  // nothing in range
        // The curve itself, between and beyond the two points.
        let spec = RangeSensorSpec(position: .zero, angle: 0)
        #expect(abs(spec.millivolts(atDistance: 0.08) - 3100) < 1e-9)
        #expect(abs(spec.millivolts(atDistance: 0.8) - 400) < 1e-9)
        #expect(spec.millivolts(atDistance: 0.2) > 1000 && spec.millivolts(atDistance: 0.2) < 2000)
    }

    @Test("an obstacle to the front left reads higher on the left range sensor")
    func rangeSides() throws {
        let world = openWorld(start: Pose(x: 1, y: 2, heading: 0),
                              obstacles: [.box(center: Vector2(1.25, 2.2), size: Vector2(0.1, 0.1), angle: 0)])
        let robot = try SimulatedRobot(world: world, seed: 1)
        robot.nextFrame()
        #expect(robot.readings[ReferenceChannels.rangeLeft] > 1000)
        #expect(robot.readings[ReferenceChannels.rangeRight] == 400)
    }

    func lightReadings(heading: Double, occlusion: Bool = true, blocked: Bool = false) throws -> (Int16, Int16) {
        var world = openWorld(width: 3, height: 2, start: Pose(x: 1.5, y: 1, heading: heading),
                              obstacles: blocked ? [.box(center: Vector2(2.1, 1), size: Vector2(0.05, 0.6), angle: 0)] : [],
                              lights: [LightSource(position: Vector2(2.6, 1), intensity: 1, falloff: 0.6)])
        world.lightOcclusion = occlusion
        let robot = try SimulatedRobot(world: world, seed: 1)
        robot.nextFrame()
        return (robot.readings[ReferenceChannels.lightLeft], robot.readings[ReferenceChannels.lightRight])
    }

    @Test("light sensors read higher facing the light, and the side nearer the light reads higher")
    func lightDirection() throws {
        let facing = try lightReadings(heading: 0)
        let away = try lightReadings(heading: .pi)
        #expect(facing.0 > away.0 + 300 && facing.1 > away.1 + 300)
        #expect(facing.0 == facing.1)  // symmetric
        let lightOnLeft = try lightReadings(heading: -.pi / 2)
        #expect(lightOnLeft.0 > lightOnLeft.1 + 300)
        // Facing away, only the ambient light remains: 5000·x/(1+x) with x = 0.02.
        let ambient = Int16((5000 * 0.02 / 1.02).rounded())
        #expect(away == (ambient, ambient))
    }

    @Test("an obstacle between sensor and light casts a shadow unless occlusion is off")
    func lightOcclusion() throws {
        let open = try lightReadings(heading: 0)
        let shadowed = try lightReadings(heading: 0, blocked: true)
        let ignored = try lightReadings(heading: 0, occlusion: false, blocked: true)
        #expect(shadowed.0 < open.0 - 300)
        #expect(ignored == open)
    }

    @Test("encoders count forward, count down on reverse commands, and wrap around 16 bits")
    func encoders() throws {
        var world = openWorld()
        world.robot.encoders.ticksPerRevolution = 20_000
        let robot = try SimulatedRobot(world: world, seed: 1)
        robot.apply(motorLeft: 1000, motorRight: 500, servo: 90)
        var total = (left: 0, right: 0)
        var last = (left: Int16(0), right: Int16(0))
        var wrapped = false
        for _ in 0..<400 {  // 2 s: about 64,000 left ticks, so the counter wraps
            robot.nextFrame()
            let l = robot.readings[ReferenceChannels.wheelLeft], r = robot.readings[ReferenceChannels.wheelRight]
            #expect(l &- last.left >= 0 && r &- last.right >= 0)
            wrapped = wrapped || l < last.left
            total.left += Int(l &- last.left)
            total.right += Int(r &- last.right)
            last = (l, r)
        }
        #expect(wrapped)
        let expectedLeft = distanceFromRest(world.robot, duty: 1, seconds: 1.995) / world.robot.wheelRadius / (2 * .pi) * 20_000
        #expect(abs(Double(total.left) - expectedLeft) < 0.002 * expectedLeft)
        #expect(abs(Double(total.right) - expectedLeft / 2) < 0.002 * expectedLeft)

        // A reverse command counts down at once, even while the wheel still turns forward.
        robot.apply(motorLeft: -1000, motorRight: -500, servo: 90)
        robot.nextFrame()
        robot.nextFrame()
        #expect(robot.leftWheelSpeed > 0)
        #expect(robot.readings[ReferenceChannels.wheelLeft] &- last.left < 0)
    }

    @Test("noisy sensors scatter around the noiseless reading with the configured spread")
    func sensorNoise() throws {
        var world = openWorld(width: 3, height: 2, start: Pose(x: 2.6, y: 1, heading: 0))
        world.robot.rangeLeft.noiseMillivolts = 50
        let robot = try SimulatedRobot(world: world, seed: 7)
        let quiet = try SimulatedRobot(world: openWorld(width: 3, height: 2, start: Pose(x: 2.6, y: 1, heading: 0)), seed: 7)
        quiet.nextFrame()
        let truth = Double(quiet.readings[ReferenceChannels.rangeLeft])
        var sum = 0.0, squares = 0.0
        let n = 2000
        for _ in 0..<n {
            robot.nextFrame()
            let error = Double(robot.readings[ReferenceChannels.rangeLeft]) - truth
            sum += error
            squares += error * error
        }
        let mean = sum / Double(n), spread = (squares / Double(n) - mean * mean).squareRoot()
        #expect(abs(mean) < 5)
        #expect(abs(spread - 50) < 5)
    }

    @Test("the bumper's flip probability and the encoders' slip add noise of the configured size")
    func bumperAndEncoderNoise() throws {
        func run(flip: Double, slip: Double) throws -> (pressed: Int, ticks: Int) {
            var world = openWorld()
            world.robot.bumper.flipProbability = flip
            world.robot.encoders.slip = slip
            let robot = try SimulatedRobot(world: world, seed: 11)
            robot.apply(motorLeft: 500, motorRight: 500, servo: 90)
            var pressed = 0, ticks = 0
            var previous: Int16 = 0
            for _ in 0..<2000 {
                robot.nextFrame()
                pressed += Int(robot.readings[ReferenceChannels.bumper])
                let counter = robot.readings[ReferenceChannels.wheelLeft]
                ticks += Int(counter &- previous)
                previous = counter
            }
            #expect(robot.metrics.collisions == 0)
            return (pressed, ticks)
        }
        let quiet = try run(flip: 0, slip: 0)
        let noisy = try run(flip: 0.25, slip: 0.1)
        #expect(quiet.pressed == 0)
        #expect(noisy.pressed > 400 && noisy.pressed < 600)  // 500 expected; nothing was touched
        // Slip of 10 % per frame averages out over 2000 frames to about 0.2 % of the total.
        #expect(noisy.ticks != quiet.ticks)
        #expect(abs(Double(noisy.ticks - quiet.ticks)) < 0.02 * Double(quiet.ticks))
    }
}
