import Foundation
import NeuraxonChannels
import Testing
@testable import NeuraxonSimulation

/// Every contact switch a description places is simulated on its own arc of the body's rim.
@Suite("Contact switches")
struct ContactSwitchTests {
    /// A two-wheeled Uno robot with three bumpers: front-left and front-right (90° arcs centred
    /// 60° either side of straight ahead) and one at the back (90° around straight behind).
    static let threeBumpers = """
        robot: three-bumpers
        board: atmega328p
        board_name: nx-bumpers
        sensors:
          - name: bump_front_left
            kind: digital
            pin: D10
            pull_up: true
            active: low
            geometry: {x_mm: 30, y_mm: 50, heading_deg: 60, fov_deg: 90}
          - name: bump_front_right
            kind: digital
            pin: D11
            pull_up: true
            active: low
            geometry: {x_mm: 30, y_mm: -50, heading_deg: -60, fov_deg: 90}
          - name: bump_back
            kind: digital
            pin: D12
            pull_up: true
            active: low
            geometry: {x_mm: -60, y_mm: 0, heading_deg: 180, fov_deg: 90}
        actuators:
          - name: motor_left
            kind: motor
            driver: tb6612
            pwm: D6
            in1: D4
            in2: D7
            geometry: {x_mm: 0, y_mm: 50}
          - name: motor_right
            kind: motor
            driver: tb6612
            pwm: D5
            in1: D8
            in2: A0
            geometry: {x_mm: 0, y_mm: -50}
        geometry:
          wheel_base_mm: 100
          wheel_radius_mm: 30
          body_length_mm: 120
          body_width_mm: 120
        """

    /// The three readings with the robot resting 0.5 mm from the arena's north wall (y = 2 m),
    /// facing `heading` (radians).
    func readings(facing heading: Double) throws -> [Int16] {
        let description = try RobotDescription(yaml: Self.threeBumpers, file: "three-bumpers.yaml")
        let world = openWorld(width: 2, height: 2, start: Pose(x: 1, y: 2 - 0.0605, heading: heading))
        let robot = try SimulatedRobot(description: description, world: world, seed: 1)
        #expect(robot.world.robot.bodyRadius == 0.06)
        robot.nextFrame()
        robot.nextFrame()
        return Array(robot.readings)
    }

    @Test("each bumper closes only when the wall is in its own arc")
    func eachBumperFeelsItsOwnArc() throws {
        #expect(try readings(facing: 0) == [1, 0, 0], "facing east, the wall on the left")
        #expect(try readings(facing: .pi) == [0, 1, 0], "facing west, the wall on the right")
        #expect(try readings(facing: -.pi / 2) == [0, 0, 1], "facing south, the wall behind")
        #expect(try readings(facing: .pi / 2) == [0, 0, 0], "facing the wall: straight ahead is in neither front arc")
    }

    /// The readings of the first frame with any switch closed, driving at `drive` ‰ from
    /// (1.5 m, 1 m) facing `degrees` toward the arena's east wall (x = 2 m).
    func firstContact(facing degrees: Double, drive: Int16) throws -> [Int16] {
        let description = try RobotDescription(yaml: Self.threeBumpers, file: "three-bumpers.yaml")
        let world = openWorld(width: 2, height: 2, start: Pose(x: 1.5, y: 1, heading: degrees * .pi / 180))
        let robot = try SimulatedRobot(description: description, world: world, seed: 1)
        try robot.apply([drive, drive])
        for _ in 0..<1000 {
            robot.nextFrame()
            if robot.readings.contains(1) { return Array(robot.readings) }
        }
        return Array(robot.readings)
    }

    @Test("driving or backing into a wall closes the switch whose arc meets it")
    func drivingAndBacking() throws {
        // the wall meets the body 30° left of straight ahead, 30° right of it, and 150° round
        #expect(try firstContact(facing: -30, drive: 1000) == [1, 0, 0])
        #expect(try firstContact(facing: 30, drive: 1000) == [0, 1, 0])
        #expect(try firstContact(facing: 210, drive: -1000) == [0, 0, 1])
    }

    @Test("the layout places one switch per contact channel, each with its own axis and arc")
    func layoutHasEverySwitch() throws {
        let description = try RobotDescription(yaml: Self.threeBumpers, file: "three-bumpers.yaml")
        let layout = RobotLayout(description: description, world: World.empty.robot)
        #expect(layout.contactSwitches.count == 3)
        for (k, heading) in [60.0, -60.0, 180.0].enumerated() {
            let axis = layout.contactSwitches[k].axis
            #expect(abs(axis.x - cos(heading * .pi / 180)) < 1e-12 && abs(axis.y - sin(heading * .pi / 180)) < 1e-12)
            #expect(abs(layout.contactSwitches[k].arc - .pi / 2) < 1e-12)
        }
    }
}
