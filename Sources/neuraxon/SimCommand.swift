import ArgumentParser
import Foundation
import Glibc
import Neuraxon
import NeuraxonChannels
import NeuraxonEmbodiment
import NeuraxonSimulation
import NeuraxonView

/// `neuraxon sim`: runs a network on a simulated robot (the reference robot unless `--robot`
/// names another description), closed loop and headless, and prints what the run did.
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Drive the simulated robot with a network and print the run's metrics.",
        discussion: """
            Runs the closed loop (simulated sensors → encoder → network → decoder → simulated motors) \
            through the same control loop as the serial robot, as fast as possible unless --realtime. \
            With no options it runs the `seek` preset in its world (`light`) for 30 simulated seconds. \
            Presets: \((RobotPreset.all + RobotPreset.shipped).map { "\($0.name) (\($0.summary), world \($0.world))" }.joined(separator: "; ")). \
            --robot picks the simulated robot (a shipped name or a description file; Docs/ROBOTS.md). \
            Built-in worlds: \(World.builtinNames.joined(separator: ", ")); any other name is read as a world file \
            (Docs/SIMULATION.md). The same world, network, mapping and seed give the same run, bit for bit. \
            A recording is an ordinary recording: `neuraxon replay FILE` replays it. Ctrl-C, SIGTERM and \
            SIGHUP end the run early the same way: the recording gets its end record, the metrics are \
            printed and written, and the exit status is 130, 143 or 129.
            """
    )

    @Option(help: "A built-in world (empty, obstacles, light) or a world file (default: the preset's world).")
    var world: String?

    @Option(help: ArgumentHelp("The robot to simulate: a shipped robot (\(RobotDescription.shippedNames.joined(separator: ", "))) or a description file (Docs/ROBOTS.md); default: the preset's robot, else reference.", valueName: "name|file"))
    var robot: String?

    /// Every preset `--network` can name: the reference robot's and the shipped robots'.
    static func preset(named name: String) -> RobotPreset? {
        RobotPreset.named(name) ?? RobotPreset.shipped.first { $0.name == name }
    }

    @Option(help: "A robot preset (seek, avoid) or a network file (JSON).")
    var network: String = RobotPreset.all[0].name

    @Option(help: "A mapping file (YAML); required with a network file, optional with a preset.")
    var mapping: String?

    @Option(parsing: .unconditional, help: "Simulated seconds to run.")
    var duration: Double = 30

    @Option(parsing: .unconditional, help: "Seed of the world's noise and link, and of a preset's network.")
    var seed: UInt64 = 1

    @Option(parsing: .unconditional, help: "The world's starting pose number (0 is robot.start).")
    var start: Int = 0

    @Option(help: "Record every tick to this file (MCAP when it ends in .mcap, JSON Lines otherwise); the run's metrics go next to it as FILE.metrics.json, and a preset's network as FILE.network.json.")
    var record: String?

    @Flag(help: "Record every neuron's state with each tick (JSON Lines only; Docs/LOG-FORMAT.md gives the size cost).")
    var recordNeurons = false

    @Flag(help: "Run at the wall-clock pace instead of as fast as possible.")
    var realtime = false

    @Option(help: ArgumentHelp("Run the controller through the firmware: host (the host-built firmware over a pseudo-terminal, NEURAXON_FIRMWARE or the robot's build: Firmware/build/host/neuraxon-firmware for the reference robot, Firmware/build/robots/STEM/host/… for another), library (the same firmware loaded as a library, no pseudo-terminal, NEURAXON_FIRMWARE_LIB or the robot's libneuraxon-firmware.so) or avr (the AVR build under the emulation harness over a pseudo-terminal, NEURAXON_AVR_ELF and NEURAXON_AVR_HARNESS or the robot's builds).", valueName: "host|library|avr"))
    var throughFirmware: FirmwareChoice?

    @Flag(help: "Print the run's metrics as one JSON object (the fields of FILE.metrics.json) instead of text.")
    var json = false

    @OptionGroup(title: "Browser view")
    var view: ViewArguments

    @OptionGroup(title: "Batches of runs") var batch: BatchOptions

    func validate() throws {
        if recordNeurons { try RecordNeuronsOption.check(record: record) }
        guard duration.isFinite, duration > 0, duration <= 86_400 else {
            throw ValidationError("--duration must be more than 0 and at most 86400 simulated seconds, e.g. --duration 30")
        }
        guard start >= 0 else { throw ValidationError("--start must be 0 or more (a starting pose number of the world)") }
        guard throughFirmware == nil || !realtime else {
            throw ValidationError("--realtime does not apply with --through-firmware: the firmware runs on the simulation's clock")
        }
        if Self.preset(named: network) == nil && mapping == nil {
            throw ValidationError("--network \(network) is not a preset (\((RobotPreset.all + RobotPreset.shipped).map(\.name).joined(separator: ", "))); a network file needs --mapping FILE")
        }
    }

    func run() throws {
        if batch.batch != nil { return try batch.run() }
        let stop = StopSignals()
        let preset = Self.preset(named: network)
        var files = FilePlan()
        files.input(preset == nil ? network : nil, "the network file")
        files.input(mapping, "the mapping file")
        files.world(world)
        files.recording(record, metrics: true, network: preset != nil)
        try files.check()
        let worldName = world ?? preset?.world ?? RobotPreset.all[0].world
        let theWorld: World
        theWorld = try World.named(worldName)
        let description: RobotDescription
        do {
            description = try RobotDescription.named(self.robot ?? preset.map(RobotPreset.robot(of:)) ?? "reference")
        } catch {
            throw CommandError.dataError("--robot \(self.robot ?? "reference") is not a shipped robot (\(RobotDescription.shippedNames.joined(separator: ", "))) nor a description that loads: \(error)")
        }
        let robot: SimulatedRobot
        do {
            robot = try SimulatedRobot(description: description, world: theWorld, seed: seed, start: start)
        } catch where error.field == "robot.starts" {
            throw CommandError.usage("--start \(start): \(error.problem)")
        } catch {
            throw error  // a world that cannot hold the robot: its own message, naming the field
        }
        let device = DeviceInfo(simulated: robot)

        // The network, and the file a recording names so that replay can load it.
        let net: NeuraxonNetwork
        var identity: NetworkIdentity
        var networkFile: String?
        if let preset {
            net = try preset.network(seed: seed)
            if let record {
                let path = record + ".network.json"
                try net.save(to: path)
                let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
                identity = NetworkIdentity(path: path, bytes: bytes, network: net)
                networkFile = path
            } else {
                identity = NetworkIdentity(seed: seed)
            }
        } else {
            let bytes: [UInt8]
            (net, bytes) = try loadNetwork(network)
            for warning in net.loadWarnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            identity = NetworkIdentity(path: network, bytes: bytes, network: net)
        }

        let map: Mapping
        if let mapping {
            map = try Mapping(contentsOf: mapping, device: device, inputCount: net.inputCount, outputCount: net.outputCount)
        } else {
            map = try Mapping(yaml: preset!.mappingYAML, device: device, inputCount: net.inputCount, outputCount: net.outputCount)
        }
        printWarnings(map)
        let recorder = try record.map {
            var header = RecordingHeader(mapping: map, network: identity, dtMillis: net.dt)
            header.world = theWorld.worldFileText()
            let recorder = try Recorder(path: $0, header: header, waitWhenFull: true)
            if recordNeurons { recorder.recordNeurons(of: net) }
            return recorder
        }

        // Metrics left from an earlier run must never sit beside this recording looking current.
        let summaryPath = record.map { $0 + ".metrics.json" }
        if let summaryPath { try Self.removeStale(summaryPath) }

        let robotName = self.robot ?? preset.map(RobotPreset.robot(of:)) ?? "reference"
        let build = FirmwareBuild(description: description,
                                  file: RobotDescription.shippedNames.contains(robotName) ? nil : robotName)
        let firmware = throughFirmware?.firmware(for: build)
        do {
            try firmware?.checkBuilt(for: build)
        } catch let error as SimFirmwareError {
            throw CommandError(ExitStatus.unavailable, error.description)
        }
        // The browser view: a tap on the loop, its server, STOP and live controls from the page.
        let tap = view.view ? ViewTap(mapping: map, network: net, robot: robot) : nil
        let server = try tap.map {
            try view.start(LiveFeed(tap: $0, scene: Scene.json(
                mode: "live", controls: true, title: "sim \(preset?.name ?? network) in \(theWorld.name), seed \(seed)",
                device: map.device, valueNames: map.encoders.map(\.channel), inputCount: net.inputCount,
                outputCount: net.outputCount, network: net, world: theWorld), stopRequest: stop.request))
        }
        defer { server?.stop() }
        let paced = realtime || view.view
        let progress = ElapsedProgress("simulating \(String(format: "%g", duration)) s in \(theWorld.name)"
                                       + (firmware == nil ? "" : " through the firmware"),
                                       expectedSeconds: paced ? duration : nil)
        defer { progress.stop() }
        let outcome = try firmware.map {
            try SimulationRun.run(robot: robot, network: net, mapping: map, durationSeconds: duration, recorder: recorder,
                                  throughFirmware: $0, stopRequest: stop.request, observer: tap)
        } ?? SimulationRun.run(robot: robot, network: net, mapping: map, durationSeconds: duration, recorder: recorder,
                               realtime: paced, stopRequest: stop.request, observer: tap)
        progress.stop()
        // Ctrl-C on a terminal reaches a firmware child too, which may end the link first: a
        // stop that was asked for is a stop, whichever ended the run.
        let stopped = stop.isRequested && outcome.endReason != .durationReached
        let summary = SimulationSummary(outcome, world: theWorld.name, start: start, seed: seed,
                                        network: preset?.name ?? network, throughFirmware: firmware)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(summary) + Data("\n".utf8))
        } else {
            print(Self.describe(outcome, world: theWorld.name, network: preset.map { "\($0.name) (preset)" } ?? network,
                                seed: seed, start: start))
            if let firmware { print("through \(firmware)") }
        }
        if let error = outcome.recordingError { throw CommandError.ioError("the recording failed: \(error)") }
        if outcome.endReason != .durationReached && !stopped {
            let why = firmware.map { "\($0) stopped answering" } ?? "\(outcome.endReason)"
            fflush(nil)
            FileHandle.standardError.write(Data("error: the run ended after \(String(format: "%.1f", outcome.metrics.simulatedSeconds)) of \(duration) simulated seconds: \(why)\n".utf8))
        }
        if let record, let summaryPath {
            do { try summary.write(to: summaryPath) } catch { throw CommandError.cannotCreate("cannot write the run's metrics: \(error)") }
            let text = "recording: \(record) (\(outcome.counters.ticks) ticks)" + (networkFile.map { ", network: \($0)" } ?? "")
                + ", metrics: \(summaryPath)\nreplay it with: neuraxon replay \(record)"
            if json { printError(text) } else { print(text) }
        }
        if stopped, let cause = stop.cause {
            let text = String(format: "%@ after %.1f of %g simulated seconds", cause, outcome.metrics.simulatedSeconds, duration)
            if json { printError(text) } else { print(text) }
        }
        try stop.exitIfStopped()
        if outcome.endReason != .durationReached { throw ExitCode.failure }
    }

    /// Removes a file left by an earlier run; a missing file is fine.
    static func removeStale(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw CommandError.cannotCreate("cannot remove the earlier run's \(path) (\(String(cString: strerror(errno)))): remove it or record elsewhere")
        }
    }

    /// The run's metrics as text: only those that mean something in its world (the light
    /// metrics only where there is a light).
    static func describe(_ o: SimulationOutcome, world: String, network: String, seed: UInt64, start: Int) -> String {
        let m = o.metrics
        let factor = o.wallSeconds > 0 ? String(format: "%.0f× real time", o.realTimeFactor) : "instant"
        var lines = [
            "world \(world), start \(start), network \(network), seed \(seed)",
            String(format: "simulated %.1f s in %.2f s (%@), %d ticks, %d network steps", m.simulatedSeconds, o.wallSeconds, factor, o.counters.ticks, o.counters.steps),
            "collisions:               \(m.collisions)",
            String(format: "time in contact:          %.2f s", m.timeInContact),
            String(format: "distance travelled:       %.2f m", m.distanceTravelled),
            String(format: "net displacement:         %.2f m", m.netDisplacement),
            String(format: "coverage:                 %.0f %% of %d free cells of %g m", 100 * m.coverage, m.freeCells, m.coverageCell),
            String(format: "time stuck:               %.2f s", m.timeStuck),
        ]
        // Going nowhere needs a stretch of the rule's window: a shorter run cannot show it.
        if (m.simulatedSeconds * 1e6).rounded() >= Double(NowhereRule.windowMicros) {
            lines.append(String(format: "time going nowhere:       %.2f s", m.timeGoingNowhere))
        }
        lines += [
            String(format: "stalled motors:           left %.2f s, right %.2f s", m.stalledLeft, m.stalledRight),
            String(format: "wheel slip:               left %.2f m, right %.2f m", m.slipLeft, m.slipRight),
        ]
        if let start = m.startDistanceToLight, let end = m.distanceToLight, let progress = m.progressTowardLight {
            lines += [
                String(format: "progress toward light:    %.2f m (from %.2f m to %.2f m, closest %.2f m)", progress, start, end,
                       m.closestDistanceToLight ?? end),
                String(format: "time near the light:      %.2f s", m.timeNearLight),
                "time to reach the light:  " + (m.timeToReachLight.map { String(format: "%.2f s", $0) } ?? "not reached"),
            ]
        }
        lines += [
            "closest approach to wall: " + (m.closestWallApproach.isFinite ? String(format: "%.3f m", m.closestWallApproach) : "none"),
            "commands: \(o.link.commandsSent) sent, \(o.link.commandsLost) lost, \(o.link.commandsArrived) arrived, \(o.link.failsafeStops) failsafe stops",
        ]
        return lines.joined(separator: "\n")
    }
}
