import Foundation
import NeuraxonChannels
@testable import NeuraxonSimulation
import Testing

@Suite("Robots built from their descriptions")
struct DescribedRobotTests {
    @Test("a shipped robot's simulated channels are exactly its description's, in order")
    func channelsComeFromTheDescription() throws {
        for name in RobotDescription.shippedNames {
            let description = try #require(RobotDescription.shipped(name))
            let robot = try SimulatedRobot(description: description, world: World.sonarRoom, seed: 1)
            #expect(robot.sensorChannels == description.sensorChannels)
            #expect(robot.actuatorChannels == description.actuatorChannels)
            robot.nextFrame()
            #expect(robot.readings.count == description.sensorChannels.count)
        }
    }

    @Test("the reflectance array reads low over the track's line and high beside it")
    func reflectanceSeesTheLine() throws {
        let robot = try SimulatedRobot(description: try #require(RobotDescription.shipped("line-follower")),
                                       world: World.lineTrack, seed: 1, start: 0)
        robot.nextFrame()
        let r = robot.readings  // line_0 … line_4, then the encoders
        #expect(r[2] < 1000, "middle sensor over the line: \(r[2])")
        #expect(r[0] > 3500 && r[4] > 3500, "outer sensors over the floor: \(r[0]), \(r[4])")
    }

    @Test("the sonar reads the distance to a wall ahead in millimetres, and max_mm with nothing in range")
    func sonarRanges() throws {
        let description = try #require(RobotDescription.shipped("sonar-mega"))
        let world = World(name: "wall", arenaWidth: 6, arenaHeight: 6, starts: [Pose(x: 5, y: 3, heading: 0)])
        let robot = try SimulatedRobot(description: description, world: world, seed: 1)
        robot.nextFrame()
        // The sonar sits 110 mm ahead of the axle: the east wall is 1000 − 110 = 890 mm away.
        #expect(abs(Double(robot.readings[0]) - 890) < 40, "\(robot.readings[0])")
        let far = try SimulatedRobot(description: description, world: world, seed: 1,
                                     pose: Pose(x: 0.5, y: 3, heading: 0))
        far.nextFrame()
        #expect(far.readings[0] == 4000)  // 5.39 m away: beyond max_mm
    }

    @Test("four motors steer as skid steer: all forward drives straight, left pair back turns left")
    func skidSteer() throws {
        let description = try #require(RobotDescription.shipped("sonar-mega"))
        var open = World.empty
        open.link.failsafeTimeoutMicros = 0  // one command holds for the whole test
        let straight = try SimulatedRobot(description: description, world: open, seed: 1)
        try straight.apply([800, 800, 800, 800, 90, 0])
        straight.advance(byMicros: 1_000_000)
        #expect(straight.pose.x > 1.2 && abs(straight.pose.y - 1) < 0.01 && abs(straight.pose.heading) < 0.02)
        let turning = try SimulatedRobot(description: description, world: open, seed: 1)
        try turning.apply([-500, -500, 500, 500, 90, 0])
        turning.advance(byMicros: 500_000)
        #expect(turning.pose.heading > 0.5 && (turning.pose.position - Vector2(1, 1)).length < 0.01)
        #expect(throws: SimulationError.self) { try turning.apply([0, 0, 0]) }
    }

    @Test("a servo-mounted sonar turns with its servo, at the servo's rate")
    func mountedSonarFollowsTheServo() throws {
        let description = try #require(RobotDescription.shipped("sonar-mega"))
        var world = World(name: "wall", arenaWidth: 6, arenaHeight: 6, starts: [Pose(x: 3, y: 5, heading: 0)])
        world.link.failsafeTimeoutMicros = 0
        let robot = try SimulatedRobot(description: description, world: world, seed: 1)
        robot.nextFrame()
        let ahead = robot.readings[0]  // the far east wall, about 2.9 m
        try robot.apply([0, 0, 0, 0, 180, 0])  // the sonar looks left: the north wall, 1 m
        robot.advance(byMicros: 100_000)
        #expect(robot.servoAngles[4] > 90 && robot.servoAngles[4] < 180)  // still turning at 400°/s
        robot.advance(byMicros: 400_000)
        robot.nextFrame()
        #expect(robot.servoAngles[4] == 180)
        #expect(ahead > 2500 && robot.readings[0] < 1100, "\(ahead) then \(robot.readings[0])")
    }
}
