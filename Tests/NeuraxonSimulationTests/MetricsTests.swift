import Foundation
import Testing
@testable import NeuraxonSimulation

@Suite("Metrics and speed")
struct MetricsTests {
    @Test("driving at the light records when it got near and how long it stayed")
    func nearLight() throws {
        let world = openWorld(width: 3, height: 2, start: Pose(x: 1, y: 1, heading: 0),
                              lights: [LightSource(position: Vector2(2.6, 1))])
        let robot = try SimulatedRobot(world: world, seed: 1)
        robot.apply(motorLeft: 1000, motorRight: 1000, servo: 90)
        var reachedAt: Double?
        while robot.metrics.simulatedSeconds < 8 {
            robot.advance(byMicros: 1000)
            if reachedAt == nil && (robot.pose.position - Vector2(2.6, 1)).length <= 0.3 {
                reachedAt = robot.metrics.simulatedSeconds
            }
        }
        let reached = try #require(robot.metrics.timeToReachLight)
        #expect(reached == reachedAt)
        #expect(abs(reached - 4.383) < 0.01)  // 1.3 m at 0.3 m/s after a 50 ms lag
        // Near from x = 2.3 m to 2.9 m (0.6 m, 2 s); then it rests against the east wall at
        // x = 2.94 m, 0.34 m from the light: no longer near.
        #expect(abs(robot.metrics.timeNearLight - 2) < 0.01)
        #expect(robot.metrics.collisions == 1 && robot.metrics.closestWallApproach < 1e-6)
    }

    @Test("without a light, time near it stays zero and time to reach it stays empty")
    func noLight() throws {
        let robot = try SimulatedRobot(world: World.empty, seed: 1)
        for _ in 0..<400 {
            robot.nextFrame()
            robot.apply(motorLeft: 700, motorRight: 300, servo: 90)
        }
        #expect(robot.metrics.timeToReachLight == nil && robot.metrics.timeNearLight == 0)
        #expect(abs(robot.metrics.distanceTravelled - 0.29) < 0.01)  // 0.15 m/s for 1.995 s, less the lag
        #expect(robot.metrics.closestWallApproach > 0.1 && robot.metrics.closestWallApproach < 0.94)
        #expect(abs(robot.metrics.simulatedSeconds - 1.995) < 1e-9)
    }

    @Test("the speed measurement covers the asked time at 1 ms physics and 200 Hz sampling")
    func speedMeasurement() throws {
        let speed = try SimulatedRobot.measureSpeed(world: .obstacleCourse, simulatedSeconds: 5, seed: 1)
        #expect(speed.simulatedSeconds == 5)
        #expect(speed.physicsSteps == 5000)
        #expect(speed.frames == 1001)  // at 0, 5 ms, …, 5 s
        #expect(speed.world == "obstacles")
        #expect(speed.wallSeconds > 0)
        #expect(speed.realTimeFactor > 1)  // a generous bound: even a debug build is far faster
    }
}
