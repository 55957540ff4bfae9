import Foundation
import Testing
@testable import NeuraxonSimulation

@Suite("Kinematics and motors")
struct KinematicsTests {
    @Test("full duty on both wheels drives a straight line of the predicted length")
    func straightLine() throws {
        let robot = try SimulatedRobot(world: openWorld(start: Pose(x: 1, y: 2, heading: 0)), seed: 1)
        drive(robot, 1000, 1000, seconds: 1)
        let expected = distanceFromRest(robot.world.robot, duty: 1, seconds: 1)
        #expect(robot.pose.y == 2)
        #expect(robot.pose.heading == 0)
        #expect(abs(robot.pose.x - 1 - expected) < 2e-3 * expected)
        #expect(abs(robot.metrics.distanceTravelled - (robot.pose.x - 1)) < 1e-9)
        #expect(robot.metrics.collisions == 0)
    }

    @Test("opposite duties turn in place at r·(ω_r − ω_l)/b")
    func turnInPlace() throws {
        let robot = try SimulatedRobot(world: openWorld(), seed: 1)
        drive(robot, -500, 500, seconds: 1)
        let spec = robot.world.robot
        let arcLength = distanceFromRest(spec, duty: 0.5, seconds: 1)  // each wheel's path
        let expectedTurn = 2 * arcLength / spec.wheelBase
        #expect((robot.pose.position - Vector2(2, 2)).length < 1e-12)
        #expect(abs(remainder(robot.pose.heading - expectedTurn, 2 * .pi)) < 2e-3)
        #expect(robot.metrics.distanceTravelled < 1e-9)
    }

    @Test("unequal duties drive a circle of radius (b/2)·(ω_l + ω_r)/(ω_l − ω_r)")
    func arcRadius() throws {
        let robot = try SimulatedRobot(world: openWorld(), seed: 1)
        drive(robot, 1000, 500, seconds: 0.5)
        var points: [Vector2] = []
        for _ in 0..<500 {
            robot.advance(byMicros: 10_000)
            points.append(robot.pose.position)
        }
        let xs = points.map(\.x), ys = points.map(\.y)
        let center = Vector2((xs.min()! + xs.max()!) / 2, (ys.min()! + ys.max()!) / 2)
        let expected = robot.world.robot.wheelBase / 2 * 1.5 / 0.5
        for p in points {
            #expect(abs((p - center).length - expected) < 1e-3)
        }
        // A right turn: the centre is to the right of the start heading (east), i.e. south.
        #expect(center.y < 2)
    }

    @Test("the motor follows a first-order response with time constant τ")
    func motorResponse() throws {
        let robot = try SimulatedRobot(world: openWorld(), seed: 1)
        let spec = robot.world.robot
        robot.apply(motorLeft: 1000, motorRight: -500, servo: 90)
        robot.advance(byMicros: UInt64(spec.motorTimeConstant * 1e6))
        let oneTau = spec.maxWheelSpeed * (1 - exp(-1))
        #expect(abs(robot.leftWheelSpeed - oneTau) < 1e-9 * spec.maxWheelSpeed)
        #expect(abs(robot.rightWheelSpeed + oneTau / 2) < 1e-9 * spec.maxWheelSpeed)
        robot.advance(byMicros: UInt64(9 * spec.motorTimeConstant * 1e6))
        #expect(abs(robot.leftWheelSpeed - spec.maxWheelSpeed) < 1e-3)
        #expect(abs(robot.rightWheelSpeed + spec.maxWheelSpeed / 2) < 1e-3)
        // Setpoints are clamped to the channel's range.
        robot.apply(motorLeft: 5000, motorRight: -5000, servo: 400)
        robot.advance(byMicros: 1000)
        #expect(robot.motorLeft == 1000 && robot.motorRight == -1000 && robot.servo == 180)
    }

    @Test("the servo angle is stored, and a command needs exactly three setpoints")
    func servoAndSetpointCount() throws {
        let robot = try SimulatedRobot(world: openWorld(), seed: 1)
        try robot.apply([0, 0, 30])
        robot.advance(byMicros: 1000)
        #expect(robot.servo == 30)
        #expect(throws: SimulationError.wrongSetpointCount(got: 2, expected: 3)) {
            try robot.apply([0, 0])
        }
        let message = SimulationError.wrongSetpointCount(got: 2, expected: 3).description
        #expect(message.contains("motor_left, motor_right, servo"))
    }
}
