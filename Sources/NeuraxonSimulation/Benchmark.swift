/// How fast the simulation runs on this machine.
public struct SimulationSpeed: Sendable, Equatable {
    public var world: String
    /// Simulated time covered, seconds.
    public var simulatedSeconds: Double
    /// Wall-clock time it took, seconds.
    public var wallSeconds: Double
    /// Sensor frames produced.
    public var frames: Int
    /// Physics steps run.
    public var physicsSteps: Int
    /// Simulated seconds per wall-clock second.
    public var realTimeFactor: Double { wallSeconds > 0 ? simulatedSeconds / wallSeconds : .infinity }
}

extension SimulatedRobot {
    /// Measures the simulation alone: the robot in `world` with its world's physics step and
    /// sampling period (1 ms and 5 ms, 200 Hz, by default), sampling every frame and sending a
    /// fixed command (left 600 ‰, right 450 ‰, so it circles and meets walls) after each,
    /// for `simulatedSeconds` of simulated time, timed by the wall clock on one thread.
    /// - Throws: `WorldError` if the world is invalid.
    public static func measureSpeed(
        world: World = .obstacleCourse, simulatedSeconds: Double = 60, seed: UInt64 = 1
    ) throws(WorldError) -> SimulationSpeed {
        let robot = try SimulatedRobot(world: world, seed: seed)
        let end = UInt64(max(simulatedSeconds, 0) * 1e6)
        let clock = ContinuousClock()
        var frames = 0
        let elapsed = clock.measure {
            while robot.timeMicros < end {
                robot.nextFrame()
                robot.apply(motorLeft: 600, motorRight: 450, servo: 90)
                frames += 1
            }
        }
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return SimulationSpeed(
            world: world.name, simulatedSeconds: Double(robot.timeMicros) * 1e-6, wallSeconds: wall,
            frames: frames, physicsSteps: Int(robot.timeMicros / UInt64(world.physics.stepMicros)))
    }
}
