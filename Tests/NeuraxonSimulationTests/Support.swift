import Foundation
@testable import NeuraxonSimulation

/// The reference robot with every noise source turned off.
func noiselessRobot() -> RobotSpec {
    var robot = RobotSpec.reference
    robot.rangeLeft.noiseMillivolts = 0
    robot.rangeRight.noiseMillivolts = 0
    robot.lightLeft.noiseMillivolts = 0
    robot.lightRight.noiseMillivolts = 0
    robot.encoders.slip = 0
    return robot
}

/// An open arena with a noiseless robot and no failsafe, so one command holds.
func openWorld(
    width: Double = 4, height: Double = 4, start: Pose = Pose(x: 2, y: 2, heading: 0),
    obstacles: [Obstacle] = [], lights: [LightSource] = []
) -> World {
    var world = World(
        name: "test", arenaWidth: width, arenaHeight: height, obstacles: obstacles,
        lights: lights, robot: noiselessRobot(), starts: [start])
    world.link.failsafeTimeoutMicros = 0
    return world
}

/// Drives with fixed duties for `seconds` of simulated time.
func drive(_ robot: SimulatedRobot, _ left: Int16, _ right: Int16, seconds: Double) {
    robot.apply(motorLeft: left, motorRight: right, servo: 90)
    robot.advance(byMicros: UInt64(seconds * 1e6))
}

/// The distance the reference drive covers from rest at constant wheel speed ω_max·u after
/// `t` seconds: r·ω_max·u·(t − τ(1 − e^(−t/τ))).
func distanceFromRest(_ robot: RobotSpec, duty: Double, seconds t: Double) -> Double {
    let tau = robot.motorTimeConstant
    return robot.wheelRadius * robot.maxWheelSpeed * duty * (t - tau * (1 - exp(-t / tau)))
}

/// The repository's root folder, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
