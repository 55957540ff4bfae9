import NeuraxonSimulation

/// What a closed-loop simulated run did.
public struct SimulationOutcome: Sendable {
    /// Collisions, distance, time near the light, time to reach it, closest approach.
    public var metrics: RunMetrics
    /// What happened to the commands on the simulated link.
    public var link: LinkCounters
    /// The control loop's counters (ticks, network steps, overruns, …).
    public var counters: RunCounters
    public var endReason: EndReason
    /// Wall-clock time the run took, s.
    public var wallSeconds: Double
    /// A failure of the recorder, if any (the run itself went on).
    public var recordingError: RecordingError?

    /// Simulated seconds per wall-clock second.
    public var realTimeFactor: Double { wallSeconds > 0 ? metrics.simulatedSeconds / wallSeconds : .infinity }
}

/// Runs the closed loop (simulated body → encoder → network → decoder → simulated body) on the
/// control loop's own thread, exactly as a run on the serial robot, and reports the metrics.
public enum SimulationRun {
    /// Runs `network` with `mapping` on the reference robot in `world` at starting pose `start`
    /// for `durationSeconds` of simulated time.
    /// - Parameters:
    ///   - seed: seeds the world's noise and link (the network has its own seed).
    ///   - recorder: records every tick, as on the robot; finished when the run ends.
    ///   - realtime: pace the run to the wall clock instead of running as fast as possible.
    /// - Throws: `WorldError` for a bad world or starting pose, `MappingError` when the mapping
    ///   does not fit the network or the robot's channels. A mapping validated against another
    ///   device (e.g. `DeviceInfo.referenceRobot`) is validated again against the simulated robot's
    ///   channel list, so one mapping file serves both.
    public static func run<N: ControlledNetwork>(
        world: World, seed: UInt64, start: Int = 0, network: N, mapping: Mapping,
        durationSeconds: Double, recorder: Recorder? = nil, realtime: Bool = false
    ) throws -> SimulationOutcome {
        try run(robot: try SimulatedRobot(world: world, seed: seed, start: start), network: network, mapping: mapping,
                durationSeconds: durationSeconds, recorder: recorder, realtime: realtime)
    }

    /// Runs `network` with `mapping` on the robot in `world` at starting pose `start`, reached
    /// through the host-built firmware at `throughFirmware` over a pseudo-terminal
    /// (`SimFirmwareBody`).
    /// - Throws: `SimFirmwareError` when the firmware cannot be started, `LinkError` when the
    ///   handshake fails, and what the direct run throws.
    public static func run<N: ControlledNetwork>(
        world: World, seed: UInt64, start: Int = 0, network: N, mapping: Mapping,
        durationSeconds: Double, recorder: Recorder? = nil, throughFirmware: FirmwareInTheLoop
    ) throws -> SimulationOutcome {
        try run(robot: try SimulatedRobot(world: world, seed: seed, start: start), network: network, mapping: mapping,
                durationSeconds: durationSeconds, recorder: recorder, throughFirmware: throughFirmware)
    }

    /// Runs `network` with `mapping` on `robot`, from where it stands, until its clock reaches
    /// `durationSeconds` of simulated time.
    public static func run<N: ControlledNetwork>(
        robot: SimulatedRobot, network: N, mapping: Mapping,
        durationSeconds: Double, recorder: Recorder? = nil, realtime: Bool = false
    ) throws -> SimulationOutcome {
        try loop(body: SimulatedBody(robot: robot, realTime: realtime), robot: robot, network: network,
                        mapping: mapping, durationSeconds: durationSeconds, recorder: recorder)
    }

    /// Runs `network` with `mapping` on `robot` reached through `throughFirmware`
    /// (`SimFirmwareBody`).
    public static func run<N: ControlledNetwork>(
        robot: SimulatedRobot, network: N, mapping: Mapping,
        durationSeconds: Double, recorder: Recorder? = nil, throughFirmware: FirmwareInTheLoop
    ) throws -> SimulationOutcome {
        try loop(body: try SimFirmwareBody(robot: robot, firmware: throughFirmware), robot: robot, network: network,
                 mapping: mapping, durationSeconds: durationSeconds, recorder: recorder)
    }

    private static func loop<B: Body, N: ControlledNetwork>(
        body: B, robot: SimulatedRobot, network: N, mapping: Mapping, durationSeconds: Double, recorder: Recorder?
    ) throws -> SimulationOutcome {
        let durationMicros = UInt64(max(0, durationSeconds) * 1e6)
        let mapping = mapping.device == body.device ? mapping
            : try Mapping(yaml: mapping.source, device: body.device, inputCount: mapping.inputCount, outputCount: mapping.outputCount)
        let loop = try ControlLoop(body: body, network: network, mapping: mapping, recorder: recorder,
                                   linkLossPolicy: .end, durationMicros: durationMicros)
        let started = monotonicNanos()
        loop.start()
        let reason = loop.wait()
        let wall = Double(monotonicNanos() &- started) / 1e9
        return SimulationOutcome(metrics: robot.metrics, link: robot.linkCounters, counters: loop.status().counters,
                                 endReason: reason, wallSeconds: wall, recordingError: loop.recordingError)
    }
}
