import Foundation
import Testing
@testable import NeuraxonSimulation

/// The encoders' travel in metres over a run: sampled every frame, the wrapping 16-bit counters'
/// increments summed (each frame's increment is far below 2¹⁵ ticks).
private func encoderTravel(_ robot: SimulatedRobot, seconds: Double, left: Int16, right: Int16) -> (left: Double, right: Double) {
    let spec = robot.world.robot
    let metresPerTick = 2 * .pi * spec.wheelRadius / spec.encoders.ticksPerRevolution
    var last = (robot.readings[ReferenceChannels.wheelLeft], robot.readings[ReferenceChannels.wheelRight])
    var travel = (left: 0.0, right: 0.0)
    let end = UInt64(seconds * 1e6)
    while robot.timeMicros < end {
        robot.apply(motorLeft: left, motorRight: right, servo: 90)
        robot.nextFrame()
        let now = (robot.readings[ReferenceChannels.wheelLeft], robot.readings[ReferenceChannels.wheelRight])
        travel.left += Double(abs(Int(now.0 &- last.0))) * metresPerTick
        travel.right += Double(abs(Int(now.1 &- last.1))) * metresPerTick
        last = now
    }
    return travel
}

@Suite("Traction")
struct TractionTests {
    @Test("a robot pinned in a corner for 51.6 s: its encoders count its real motion, not its motors' spin")
    func pinnedInCorner() throws {
        // Facing the south-west corner, 5 cm from touching either wall, driving full ahead. The
        // reference robot's encoders (with their 1 % slip) are used as they are.
        var world = World(name: "corner", arenaWidth: 2, arenaHeight: 2,
                          starts: [Pose(x: 0.11, y: 0.11, heading: -3 * .pi / 4)])
        world.link.failsafeTimeoutMicros = 100_000
        let robot = try SimulatedRobot(world: world, seed: 7)
        let travel = encoderTravel(robot, seconds: 51.6, left: 1000, right: 1000)
        let real = robot.metrics.distanceTravelled
        // The motors spin at 0.3 m/s for 51.6 s (15.5 m); the body moves about 7 cm into the corner.
        #expect(real < 0.1)
        #expect(abs(travel.left - real) < 0.01, "left encoder \(travel.left) m for \(real) m of real motion")
        #expect(abs(travel.right - real) < 0.01, "right encoder \(travel.right) m for \(real) m of real motion")
        // Both motors commanded and stalled for all but the first 0.3 s.
        #expect(robot.metrics.stalledLeft > 51 && robot.metrics.stalledLeft <= 51.6)
        #expect(robot.metrics.stalledRight > 51 && robot.metrics.stalledRight <= 51.6)
        #expect(robot.metrics.slipLeft > 15)  // the tread slipped under the commanded 15.5 m
        #expect(robot.metrics.timeStuck > 51 && robot.metrics.timeStuck <= 51.6)
        #expect(robot.metrics.collisions == 1)
        #expect(robot.metrics.timeInContact > 51)
    }

    @Test("in the open the wheels never slip or stall and the encoders count the motors' rotation")
    func openDrive() throws {
        let robot = try SimulatedRobot(world: openWorld(), seed: 1)
        let travel = encoderTravel(robot, seconds: 3, left: 800, right: 400)
        let m = robot.metrics
        #expect(m.slipLeft == 0 && m.slipRight == 0 && m.stalledLeft == 0 && m.stalledRight == 0)
        // The centre's path is the mean of the wheels' paths (a 1-tick rounding per frame at most).
        #expect(abs((travel.left + travel.right) / 2 - m.distanceTravelled) < 0.002)
        #expect(abs(travel.left / travel.right - 2) < 0.01)
        #expect(m.timeStuck == 0 && m.collisions == 0 && m.timeInContact == 0)
    }

    @Test("sliding along a wall met at 45°, the wheels roll only the motion along the heading")
    func slideAlongWall() throws {
        // Heading north-east into the north wall: blocked northward, it slides east at
        // v·cos 45°, and its wheels roll v·cos² 45° = v/2 per second along its heading.
        let world = openWorld(width: 4, height: 1, start: Pose(x: 0.5, y: 0.8, heading: .pi / 4))
        let robot = try SimulatedRobot(world: world, seed: 1)
        drive(robot, 1000, 1000, seconds: 1)  // meets the wall after 0.2 m, within 0.8 s
        let before = robot.metrics
        let x0 = robot.pose.x
        var angle = 0.0
        robot.nextFrame()
        let ticks0 = robot.readings[ReferenceChannels.wheelLeft]
        drive(robot, 1000, 1000, seconds: 2)
        robot.sampleSensors()
        angle = Double(robot.readings[ReferenceChannels.wheelLeft] &- ticks0) / 360 * 2 * .pi
        let v = 0.3
        #expect(abs((robot.pose.x - x0) - 2 * v * cos(.pi / 4)) < 0.01)
        #expect(abs(angle * 0.03 - 2 * v / 2) < 0.01, "rolled \(angle * 0.03) m")
        #expect(robot.metrics.slipLeft - before.slipLeft > 0.29 && robot.metrics.slipLeft - before.slipLeft < 0.31)
        // It turns at half speed, more than the stall ratio: not stalled, not stuck.
        #expect(robot.metrics.stalledLeft == before.stalledLeft)
        #expect(robot.metrics.timeStuck == 0)
    }

    @Test("a stalled wheel's stall time counts only while its motor is commanded")
    func stallOnlyWhileCommanded() throws {
        let world = openWorld(width: 1, height: 1, start: Pose(x: 0.5, y: 0.93, heading: .pi / 2))
        let robot = try SimulatedRobot(world: world, seed: 1)
        drive(robot, 500, 500, seconds: 2)   // 1 cm from the north wall: against it within 0.1 s
        let stalled = robot.metrics.stalledLeft
        #expect(stalled > 1.8 && stalled <= 2)
        drive(robot, 0, 0, seconds: 2)
        #expect(robot.metrics.stalledLeft == stalled)
    }

    @Test("a blocked run with the stop response stalls the same way")
    func stopResponse() throws {
        var world = openWorld(width: 1, height: 1, start: Pose(x: 0.5, y: 0.8, heading: .pi / 2))
        world.physics.collision = .stop
        let robot = try SimulatedRobot(world: world, seed: 1)
        drive(robot, 1000, 1000, seconds: 3)
        #expect(robot.metrics.stalledLeft > 2.4 && robot.metrics.slipLeft > 0.6)
    }

    @Test("runs with traction and the new metrics stay bit-identical for one seed")
    func deterministic() throws {
        func run() throws -> (RunMetrics, [Int16], Pose) {
            let robot = try SimulatedRobot(world: .obstacleCourse, seed: 42, start: 0)
            for i in 0..<12_000 {  // 60 s of circles that meet walls, with reversals
                robot.nextFrame()
                robot.apply(motorLeft: i % 1000 < 800 ? 600 : -300, motorRight: 450, servo: 90)
            }
            return (robot.metrics, robot.readings, robot.pose)
        }
        let a = try run(), b = try run()
        #expect(a.0 == b.0 && a.1 == b.1 && a.2 == b.2)
        #expect(a.0.collisions > 0 && a.0.slipLeft > 0)
    }
}
