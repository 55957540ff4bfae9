import Foundation
import Neuraxon
import NeuraxonChannels
import NeuraxonSimulation
import NeuraxonTransport

/// What a closed-loop simulated run did.
public struct SimulationOutcome: Sendable {
    /// Collisions, contact, distance, displacement, coverage, stuck and stalled time, and the
    /// light metrics (Docs/SIMULATION.md, "Metrics").
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
    ///   - stopRequest: ends the run early when asked, before the next tick: the actuators
    ///     stop, the recording is finished (its `end` record written) and the outcome, with the
    ///     metrics so far, has end reason `.stopped`.
    /// - Throws: `WorldError` for a bad world or starting pose, `MappingError` when the mapping
    ///   does not fit the network or the robot's channels. A mapping validated against another
    ///   device (e.g. `DeviceInfo.referenceRobot`) is validated again against the simulated robot's
    ///   channel list, so one mapping file serves both.
    public static func run<N: ControlledNetwork>(
        world: World, seed: UInt64, start: Int = 0, network: N, mapping: Mapping,
        durationSeconds: Double, recorder: Recorder? = nil, realtime: Bool = false,
        stopRequest: StopRequest? = nil
    ) throws -> SimulationOutcome {
        try run(robot: try SimulatedRobot(world: world, seed: seed, start: start), network: network, mapping: mapping,
                durationSeconds: durationSeconds, recorder: recorder, realtime: realtime, stopRequest: stopRequest)
    }

    /// Runs `network` with `mapping` on the robot in `world` at starting pose `start`, reached
    /// through the host-built firmware at `throughFirmware` over a pseudo-terminal
    /// (`SimFirmwareBody`).
    /// - Throws: `SimFirmwareError` when the firmware cannot be started, `LinkError` when the
    ///   handshake fails, and what the direct run throws.
    public static func run<N: ControlledNetwork>(
        world: World, seed: UInt64, start: Int = 0, network: N, mapping: Mapping,
        durationSeconds: Double, recorder: Recorder? = nil, throughFirmware: FirmwareInTheLoop,
        stopRequest: StopRequest? = nil
    ) throws -> SimulationOutcome {
        try run(robot: try SimulatedRobot(world: world, seed: seed, start: start), network: network, mapping: mapping,
                durationSeconds: durationSeconds, recorder: recorder, throughFirmware: throughFirmware, stopRequest: stopRequest)
    }

    /// Runs `network` with `mapping` on `robot`, from where it stands, until its clock reaches
    /// `durationSeconds` of simulated time.
    public static func run<N: ControlledNetwork>(
        robot: SimulatedRobot, network: N, mapping: Mapping,
        durationSeconds: Double, recorder: Recorder? = nil, realtime: Bool = false,
        stopRequest: StopRequest? = nil, observer: (any TickObserver)? = nil
    ) throws -> SimulationOutcome {
        try loop(body: SimulatedBody(robot: robot, realTime: realtime), robot: robot, network: network,
                 mapping: mapping, durationSeconds: durationSeconds, recorder: recorder, realTime: realtime,
                 stopRequest: stopRequest, observer: observer)
    }

    /// Runs `network` with `mapping` on `robot` reached through `throughFirmware`
    /// (`SimFirmwareBody`).
    public static func run<N: ControlledNetwork>(
        robot: SimulatedRobot, network: N, mapping: Mapping,
        durationSeconds: Double, recorder: Recorder? = nil, throughFirmware: FirmwareInTheLoop,
        stopRequest: StopRequest? = nil, observer: (any TickObserver)? = nil
    ) throws -> SimulationOutcome {
        try loop(body: try SimFirmwareBody(robot: robot, firmware: throughFirmware), robot: robot, network: network,
                 mapping: mapping, durationSeconds: durationSeconds, recorder: recorder, realTime: false,
                 stopRequest: stopRequest, observer: observer)
    }

    /// Runs the control loop on `body`. Only a run paced to the wall clock (`realTime`) can
    /// have late ticks: as fast as possible, or in lockstep with the firmware, there is no wall
    /// clock to be late against, so two runs of the same simulation record the same bytes but
    /// for the wall-clock fields (Docs/LOG-FORMAT.md).
    private static func loop<B: Body, N: ControlledNetwork>(
        body: B, robot: SimulatedRobot, network: N, mapping: Mapping, durationSeconds: Double, recorder: Recorder?,
        realTime: Bool, stopRequest: StopRequest?, observer: (any TickObserver)? = nil
    ) throws -> SimulationOutcome {
        let durationMicros = UInt64(max(0, durationSeconds) * 1e6)
        let mapping = mapping.device == body.device ? mapping
            : try Mapping(yaml: mapping.source, device: body.device, inputCount: mapping.inputCount, outputCount: mapping.outputCount)
        let loop = try ControlLoop(body: body, network: network, mapping: mapping, recorder: recorder,
                                   linkLossPolicy: .end, durationMicros: durationMicros,
                                   stopRequest: stopRequest ?? StopRequest(), countsLateTicks: realTime,
                                   observer: observer)
        recorder?.recordPose(of: robot)
        let started = monotonicNanos()
        loop.start()
        let reason = loop.wait()
        let wall = Double(monotonicNanos() &- started) / 1e9
        return SimulationOutcome(metrics: robot.metrics, link: robot.linkCounters, counters: loop.status().counters,
                                 endReason: reason, wallSeconds: wall, recordingError: loop.recordingError)
    }
}

/// What a simulated run is remembered by: where and how it ran and its metrics, written next to
/// its recording as `FILE.metrics.json` (Docs/LOG-FORMAT.md, "Run summary").
public struct SimulationSummary: Codable, Sendable, Equatable {
    public static let format = "neuraxon-sim-summary"
    public var format = SimulationSummary.format
    /// 2 added the traction, contact, displacement, light-progress, stuck and coverage fields;
    /// a version 1 file reads with them `nil`. 3 added `time_going_nowhere_s`; a version 1 or 2
    /// file reads with it `nil`.
    public var version = 3
    public var world: String
    public var start: Int
    public var seed: UInt64
    /// A preset's name or the network file's path.
    public var network: String
    /// `FirmwareInTheLoop.description`, or nil for the direct simulation.
    public var throughFirmware: String?
    public var endReason: String
    public var simulatedSeconds: Double
    public var ticks: Int
    public var networkSteps: Int
    public var collisions: Int
    /// Metres.
    public var distanceTravelled: Double
    /// Seconds.
    public var timeNearLight: Double
    /// Seconds; nil if the robot never came near a light.
    public var timeToReachLight: Double?
    /// Metres; nil if the run never came near enough to a wall to measure it.
    public var closestWallApproach: Double?
    public var commandsSent: Int
    public var commandsLost: Int
    public var commandsArrived: Int
    public var failsafeStops: Int
    /// Seconds in contact with a wall or obstacle.
    public var timeInContact: Double?
    /// Metres from the starting position to the final one.
    public var netDisplacement: Double?
    /// Metres from the robot's centre to the nearest light at the start, at the end, and at
    /// the closest; and the progress toward it (start − end). All `nil` in a world without lights.
    public var startDistanceToLight: Double?
    public var endDistanceToLight: Double?
    public var closestDistanceToLight: Double?
    public var progressTowardLight: Double?
    /// Seconds stuck (`StuckRule`).
    public var timeStuck: Double?
    /// Seconds going nowhere (`NowhereRule`).
    public var timeGoingNowhere: Double?
    /// Seconds each motor was commanded while its wheel was stalled (`TractionModel`).
    public var stalledLeft: Double?
    public var stalledRight: Double?
    /// Metres each wheel's tread slipped.
    public var slipLeft: Double?
    public var slipRight: Double?
    /// The share of the free coverage cells visited (0…1), the counts, and the cell side in metres.
    public var coverage: Double?
    public var cellsVisited: Int?
    public var freeCells: Int?
    public var coverageCell: Double?

    enum CodingKeys: String, CodingKey {
        case format, version, world, start, seed, network, ticks, collisions
        case throughFirmware = "through_firmware"
        case endReason = "end_reason"
        case simulatedSeconds = "simulated_s"
        case networkSteps = "network_steps"
        case distanceTravelled = "distance_m"
        case timeNearLight = "time_near_light_s"
        case timeToReachLight = "time_to_reach_light_s"
        case closestWallApproach = "closest_wall_approach_m"
        case commandsSent = "commands_sent"
        case commandsLost = "commands_lost"
        case commandsArrived = "commands_arrived"
        case failsafeStops = "failsafe_stops"
        case timeInContact = "time_in_contact_s"
        case netDisplacement = "net_displacement_m"
        case startDistanceToLight = "start_distance_to_light_m"
        case endDistanceToLight = "end_distance_to_light_m"
        case closestDistanceToLight = "closest_distance_to_light_m"
        case progressTowardLight = "progress_toward_light_m"
        case timeStuck = "time_stuck_s"
        case timeGoingNowhere = "time_going_nowhere_s"
        case stalledLeft = "stalled_left_s"
        case stalledRight = "stalled_right_s"
        case slipLeft = "slip_left_m"
        case slipRight = "slip_right_m"
        case coverage
        case cellsVisited = "coverage_cells_visited"
        case freeCells = "coverage_free_cells"
        case coverageCell = "coverage_cell_m"
    }

    public init(_ outcome: SimulationOutcome, world: String, start: Int, seed: UInt64, network: String,
                throughFirmware: FirmwareInTheLoop? = nil) {
        let m = outcome.metrics
        self.world = world
        self.start = start
        self.seed = seed
        self.network = network
        self.throughFirmware = throughFirmware?.description
        endReason = outcome.endReason.description
        simulatedSeconds = m.simulatedSeconds
        ticks = outcome.counters.ticks
        networkSteps = outcome.counters.steps
        collisions = m.collisions
        distanceTravelled = m.distanceTravelled
        timeNearLight = m.timeNearLight
        timeToReachLight = m.timeToReachLight
        closestWallApproach = m.closestWallApproach.isFinite ? m.closestWallApproach : nil
        commandsSent = Int(outcome.link.commandsSent)
        commandsLost = Int(outcome.link.commandsLost + outcome.link.commandsOverflowed)
        commandsArrived = Int(outcome.link.commandsArrived)
        failsafeStops = Int(outcome.link.failsafeStops)
        timeInContact = m.timeInContact
        netDisplacement = m.netDisplacement
        startDistanceToLight = m.startDistanceToLight
        endDistanceToLight = m.distanceToLight
        closestDistanceToLight = m.closestDistanceToLight
        progressTowardLight = m.progressTowardLight
        timeStuck = m.timeStuck
        timeGoingNowhere = m.timeGoingNowhere
        stalledLeft = m.stalledLeft
        stalledRight = m.stalledRight
        slipLeft = m.slipLeft
        slipRight = m.slipRight
        coverage = m.coverage
        cellsVisited = m.cellsVisited
        freeCells = m.freeCells
        coverageCell = m.coverageCell
    }

    /// Encodes every field, an unknown one as `null` (not left out).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(format, forKey: .format)
        try c.encode(version, forKey: .version)
        try c.encode(world, forKey: .world)
        try c.encode(start, forKey: .start)
        try c.encode(seed, forKey: .seed)
        try c.encode(network, forKey: .network)
        try c.encode(throughFirmware, forKey: .throughFirmware)
        try c.encode(endReason, forKey: .endReason)
        try c.encode(simulatedSeconds, forKey: .simulatedSeconds)
        try c.encode(ticks, forKey: .ticks)
        try c.encode(networkSteps, forKey: .networkSteps)
        try c.encode(collisions, forKey: .collisions)
        try c.encode(distanceTravelled, forKey: .distanceTravelled)
        try c.encode(timeNearLight, forKey: .timeNearLight)
        try c.encode(timeToReachLight, forKey: .timeToReachLight)
        try c.encode(closestWallApproach, forKey: .closestWallApproach)
        try c.encode(commandsSent, forKey: .commandsSent)
        try c.encode(commandsLost, forKey: .commandsLost)
        try c.encode(commandsArrived, forKey: .commandsArrived)
        try c.encode(failsafeStops, forKey: .failsafeStops)
        try c.encode(timeInContact, forKey: .timeInContact)
        try c.encode(netDisplacement, forKey: .netDisplacement)
        try c.encode(startDistanceToLight, forKey: .startDistanceToLight)
        try c.encode(endDistanceToLight, forKey: .endDistanceToLight)
        try c.encode(closestDistanceToLight, forKey: .closestDistanceToLight)
        try c.encode(progressTowardLight, forKey: .progressTowardLight)
        try c.encode(timeStuck, forKey: .timeStuck)
        try c.encode(timeGoingNowhere, forKey: .timeGoingNowhere)
        try c.encode(stalledLeft, forKey: .stalledLeft)
        try c.encode(stalledRight, forKey: .stalledRight)
        try c.encode(slipLeft, forKey: .slipLeft)
        try c.encode(slipRight, forKey: .slipRight)
        try c.encode(coverage, forKey: .coverage)
        try c.encode(cellsVisited, forKey: .cellsVisited)
        try c.encode(freeCells, forKey: .freeCells)
        try c.encode(coverageCell, forKey: .coverageCell)
    }

    /// Writes the summary to `path` as one JSON object with sorted keys, atomically.
    /// - Throws: `AtomicFile.Failure` naming the file and the system's reason.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        var bytes = Array(try encoder.encode(self))
        bytes.append(0x0a)
        try AtomicFile.replace(path, with: bytes)
    }

    /// Reads a summary written by `write(to:)`.
    /// - Throws: the file's error, or a `DecodingError` naming the field.
    public static func read(from path: String) throws -> SimulationSummary {
        try JSONDecoder().decode(SimulationSummary.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
