import NeuraxonSimulation

/// A simulated robot as a `Body`: each `nextFrame` runs the physics to the next
/// sampling instant and returns the simulated sensors; `send` applies setpoints, which take
/// effect after the world's command latency.
///
/// Simulated time is the frame clock, so a run is reproducible from the world and its seed.
/// By default the simulation runs as fast as it can; `realTime` paces frames to the wall clock.
public final class SimulatedBody: Body, @unchecked Sendable {
    public let robot: SimulatedRobot
    public let device: DeviceInfo
    /// Simulated time after which the body reports `.finished`, µs; `nil` to run until stopped.
    public let durationMicros: UInt64?
    public let realTime: Bool
    private var startNanos: UInt64 = 0
    private let safe: [Int16]

    /// - Parameters:
    ///   - robot: the simulated robot, placed in its world.
    ///   - durationMicros: end the run after this much simulated time.
    ///   - realTime: pace frames to the wall clock instead of running as fast as possible.
    public init(robot: SimulatedRobot, durationMicros: UInt64? = nil, realTime: Bool = false) {
        self.robot = robot
        self.durationMicros = durationMicros
        self.realTime = realTime
        device = DeviceInfo(simulated: robot)
        safe = robot.actuatorChannels.map(\.safe)
    }

    public func nextFrame(into frame: inout SensorFrame, timeoutMicros: Int) -> BodyEvent {
        if let durationMicros, robot.timeMicros >= durationMicros { return .finished }
        let stamp = robot.nextFrame()
        if realTime {
            if stamp.sequence == 0 || startNanos == 0 { startNanos = monotonicNanos() &- stamp.timestampMicros &* 1000 }
            sleepNanos(Int64(bitPattern: startNanos &+ stamp.timestampMicros &* 1000 &- monotonicNanos()))
        }
        frame.timestampMicros = stamp.timestampMicros
        frame.sequence = stamp.sequence
        frame.hostReceiveNanos = monotonicNanos()
        let readings = robot.readings
        let n = min(readings.count, frame.readings.count)
        for k in 0..<n { frame.readings[k] = readings[k] }
        frame.count = n
        return .frame
    }

    /// Applies one setpoint per actuator channel; false (nothing applied) for another count.
    public func send(_ setpoints: [Int16]) -> Bool {
        guard setpoints.count == safe.count else { return false }
        do { try robot.apply(setpoints) } catch { return false }
        return true
    }

    public func stopActuators() {
        _ = send(safe)
    }
}

extension DeviceInfo {
    /// The channel list of a simulated robot.
    public init(simulated robot: SimulatedRobot) {
        self.init(
            name: "simulated-\(robot.description.robot)-robot (\(robot.world.name))",
            samplePeriodMicros: robot.world.link.samplePeriodMicros,
            sensors: robot.sensorChannels,
            actuators: robot.actuatorChannels)
    }
}
