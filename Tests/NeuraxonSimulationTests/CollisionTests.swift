import Foundation
import Testing
@testable import NeuraxonSimulation

@Suite("Collisions")
struct CollisionTests {
    @Test("driving into a wall stops the robot at the wall, presses the bumper and counts once")
    func wallContact() throws {
        let robot = try SimulatedRobot(world: openWorld(width: 2, height: 2, start: Pose(x: 1, y: 1, heading: 0)), seed: 1)
        let radius = robot.world.robot.bodyRadius
        robot.apply(motorLeft: 1000, motorRight: 1000, servo: 90)
        for _ in 0..<2000 {
            robot.nextFrame()
            #expect(robot.pose.x <= 2 - radius + 1e-9)
        }
        #expect(abs(robot.pose.x - (2 - radius)) < 1e-6)
        #expect(robot.metrics.collisions == 1)
        #expect(robot.metrics.closestWallApproach < 1e-6)
        #expect(robot.readings[ReferenceChannels.bumper] == 1)

        // Backing away ends the contact; driving back in is a second collision.
        drive(robot, -1000, -1000, seconds: 1)
        robot.nextFrame()
        #expect(robot.readings[ReferenceChannels.bumper] == 1)  // touched since the previous frame
        robot.nextFrame()
        #expect(robot.readings[ReferenceChannels.bumper] == 0)
        #expect(robot.metrics.collisions == 1)
        drive(robot, 1000, 1000, seconds: 3)
        #expect(robot.metrics.collisions == 2)
    }

    @Test("the bumper only feels the front: backing into a wall counts a collision, bumper stays 0")
    func bumperIsInFront() throws {
        let robot = try SimulatedRobot(world: openWorld(width: 2, height: 2, start: Pose(x: 1, y: 1, heading: 0)), seed: 1)
        robot.apply(motorLeft: -1000, motorRight: -1000, servo: 90)
        var pressed = false
        for _ in 0..<1000 {
            robot.nextFrame()
            pressed = pressed || robot.readings[ReferenceChannels.bumper] == 1
        }
        #expect(robot.metrics.collisions == 1)
        #expect(abs(robot.pose.x - robot.world.robot.bodyRadius) < 1e-6)
        #expect(!pressed)
    }

    @Test("a very fast robot never passes through a thin wall", arguments: [CollisionResponse.slide, .stop])
    func noTunnelling(response: CollisionResponse) throws {
        var world = openWorld(width: 3, height: 2, start: Pose(x: 0.5, y: 1, heading: 0.3),
                              obstacles: [.segment(from: Vector2(1.5, 0), to: Vector2(1.5, 2))])
        world.robot.maxWheelSpeed = 3000  // 90 m/s: 9 cm per 1 ms step, more than the body radius
        world.physics.collision = response
        let robot = try SimulatedRobot(world: world, seed: 1)
        robot.apply(motorLeft: 1000, motorRight: 1000, servo: 90)
        for _ in 0..<1000 {
            robot.advance(byMicros: 1000)
            #expect(robot.pose.x <= 1.5 - world.robot.bodyRadius + 1e-9)
        }
        #expect(robot.metrics.collisions >= 1)
    }

    @Test("slide keeps moving along a wall met at an angle; stop holds the robot where it hit")
    func slideAndStop() throws {
        func run(_ response: CollisionResponse) throws -> (SimulatedRobot, Pose) {
            var world = openWorld(width: 2, height: 2, start: Pose(x: 1.8, y: 0.6, heading: .pi / 4))
            world.physics.collision = response
            let robot = try SimulatedRobot(world: world, seed: 1)
            drive(robot, 1000, 1000, seconds: 2)
            let earlier = robot.pose
            drive(robot, 1000, 1000, seconds: 1)
            return (robot, earlier)
        }
        let (slide, slideEarlier) = try run(.slide)
        let (stop, stopEarlier) = try run(.stop)
        let radius = slide.world.robot.bodyRadius
        #expect(abs(slide.pose.x - (2 - radius)) < 1e-6)
        #expect(slide.pose.y - slideEarlier.y > 0.15)  // still sliding north
        #expect(stop.pose == stopEarlier)  // stopped dead
        #expect(stop.pose.x < 2 - radius)
        #expect(slide.metrics.collisions == 1 && stop.metrics.collisions == 1)
        #expect(slide.metrics.distanceTravelled > stop.metrics.distanceTravelled + 0.15)
    }

    @Test("a disc obstacle stops the robot at the sum of the radii")
    func discObstacle() throws {
        let world = openWorld(start: Pose(x: 1, y: 2, heading: 0),
                              obstacles: [.circle(center: Vector2(2, 2), radius: 0.2)])
        let robot = try SimulatedRobot(world: world, seed: 1)
        drive(robot, 800, 800, seconds: 5)
        #expect(abs((robot.pose.position - Vector2(2, 2)).length - 0.26) < 1e-6)
        #expect(robot.metrics.collisions == 1)
    }
}
