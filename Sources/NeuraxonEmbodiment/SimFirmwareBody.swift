import Foundation
import Glibc
import NeuraxonChannels
import NeuraxonProtocol
import NeuraxonSimulation
import NeuraxonTransport

/// Why the firmware-in-the-loop body could not start or went wrong.
public struct SimFirmwareError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }

    /// Runs `start`, reporting a firmware process that cannot start as a `SimFirmwareError`.
    static func rethrowing<T>(_ start: () throws -> T) throws -> T {
        do { return try start() } catch let error as FirmwareProcessError { throw SimFirmwareError(error.description) }
    }
}

/// Where a robot's firmware builds are: `make -C Firmware ROBOT=FILE` puts the reference
/// robot's in `Firmware/build/` and any other robot's in `Firmware/build/robots/<file stem>/`.
public struct FirmwareBuild: Sendable, Equatable {
    /// The robot's name (its description's `robot:`).
    public var name: String
    /// The description file's name without `.yaml`: the build folder's name.
    public var stem: String
    /// The description file as `make -C Firmware` reads it (relative to `Firmware/`).
    public var makeFile: String
    /// The board's name (`board_name:`), which names the AVR build.
    public var boardName: String

    /// The reference robot's builds.
    public static let reference = FirmwareBuild(name: "reference", stem: "reference",
                                                makeFile: "robots/reference.yaml", boardName: "neuraxon-uno")

    public init(name: String, stem: String, makeFile: String, boardName: String) {
        self.name = name
        self.stem = stem
        self.makeFile = makeFile
        self.boardName = boardName
    }

    /// The builds of `description`, read from `file` (a path, or nil for a shipped robot, whose
    /// file is `Firmware/robots/<name>.yaml`).
    public init(description: RobotDescription, file: String? = nil) {
        if let file {
            let base = (file as NSString).lastPathComponent
            let stem = base.hasSuffix(".yaml") ? String(base.dropLast(5)) : base
            let absolute = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
            self.init(name: description.robot, stem: stem, makeFile: absolute, boardName: description.boardName)
        } else {
            self.init(name: description.robot, stem: description.robot, makeFile: "robots/\(description.robot).yaml",
                      boardName: description.boardName)
        }
    }

    /// The folder holding the builds, under the firmware folder `root`.
    public func folder(in root: String) -> String {
        stem == "reference" ? root + "/build" : root + "/build/robots/" + stem
    }

    /// The `make` command that builds `target` for this robot.
    public func make(_ target: String) -> String {
        stem == "reference" ? "make -C Firmware \(target)" : "make -C Firmware ROBOT=\(makeFile) \(target)"
    }
}

/// Which firmware a simulated robot is reached through (Docs/SIMULATION.md, "Firmware in the
/// loop").
public enum FirmwareInTheLoop: Sendable, Equatable, CustomStringConvertible {
    /// The host build of the firmware (`make -C Firmware host`) on its virtual clock.
    case host(firmware: String)
    /// The same firmware built as a shared library (`make -C Firmware host-lib`), loaded into
    /// this process: its UART is two byte queues instead of a pseudo-terminal.
    case library(path: String)
    /// The real AVR build (`make -C Firmware avr`) under the emulation harness
    /// (`make -C Firmware sim`), whose emulated time moves only when the simulation says so.
    case avr(harness: String, elf: String)

    /// The host firmware: `NEURAXON_FIRMWARE`, or `robot`'s build under `folder`.
    public static func host(folder: String = "Firmware", robot: FirmwareBuild = .reference,
                            environment: [String: String] = ProcessInfo.processInfo.environment) -> Self {
        .host(firmware: environment["NEURAXON_FIRMWARE"] ?? robot.folder(in: folder) + "/host/neuraxon-firmware")
    }

    /// The host firmware as a library: `NEURAXON_FIRMWARE_LIB`, or `robot`'s build under `folder`.
    public static func library(folder: String = "Firmware", robot: FirmwareBuild = .reference,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> Self {
        .library(path: environment["NEURAXON_FIRMWARE_LIB"] ?? robot.folder(in: folder) + "/host/libneuraxon-firmware.so")
    }

    /// The AVR build under the harness: `NEURAXON_AVR_HARNESS` and `NEURAXON_AVR_ELF`, or
    /// `robot`'s builds under `folder`.
    public static func avr(folder: String = "Firmware", robot: FirmwareBuild = .reference,
                           environment: [String: String] = ProcessInfo.processInfo.environment) -> Self {
        let builds = robot.folder(in: folder)
        return .avr(harness: environment["NEURAXON_AVR_HARNESS"] ?? builds + "/sim/nx-avr-harness",
                    elf: environment["NEURAXON_AVR_ELF"] ?? builds + "/avr/\(robot.boardName).elf")
    }

    /// The files this firmware needs, each with the `make` target that builds it.
    var files: [(what: String, path: String, target: String, access: Int32)] {
        switch self {
        case let .host(firmware): [("host firmware", firmware, "host", X_OK)]
        case let .library(path): [("firmware library", path, "host-lib", R_OK)]
        case let .avr(harness, elf): [("emulation harness", harness, "sim", X_OK), ("AVR firmware", elf, "avr", R_OK)]
        }
    }

    /// Refuses a firmware whose files are missing, naming the `make` command that builds them
    /// for `robot`.
    /// - Throws: `SimFirmwareError`.
    public func checkBuilt(for robot: FirmwareBuild) throws {
        let missing = files.filter { access($0.path, $0.access) != 0 }
        guard !missing.isEmpty else { return }
        throw SimFirmwareError("no \(missing.map { "\($0.what) at \($0.path)" }.joined(separator: " nor ")): build \(missing.count == 1 ? "it" : "them") with `\(robot.make(missing.map(\.target).joined(separator: " ")))`")
    }

    public var description: String {
        switch self {
        case let .host(firmware): "the host firmware \(firmware)"
        case let .library(path): "the host firmware library \(path)"
        case let .avr(harness, elf): "the AVR firmware \(elf) under \(harness)"
        }
    }
}

/// The simulated robot reached through its firmware, exactly as a serial robot: the control
/// loop talks to the firmware through the protocol's frames; the firmware takes its sensor
/// inputs from the simulated world and its actuator outputs drive the simulated wheels.
///
/// The frames travel one of two ways. Through a firmware process (`.host`, `.avr`) they cross a
/// real pseudo-terminal through the transport layer (`SerialRobotBody`), which tests the serial
/// path. Through the firmware library (`.library`) the same firmware code runs in this process
/// and the same frame codec encodes and decodes on the host side (`FirmwareLibraryLink`), with
/// no kernel round trip per tick; only the serial line is left out.
///
/// The firmware runs in lockstep with the world: its clock moves only when the body moves it,
/// so a run is as reproducible as the direct simulation, however fast or slow the host is.
/// One tick:
/// 1. the world and the firmware run together until the firmware has sent its next SENSORS
///    frame (`LockstepDriver.runToSensors`): the host build samples the world's readings at
///    the world's sampling instant; the AVR build runs in 1 ms steps with its inputs refreshed
///    from the world at each (the harness turns each channel's value into its pins' levels,
///    from the robot's description), and samples on its own schedule;
/// 2. the control loop reads that frame (any older frame still waiting is read first and
///    passed over), runs the network and sends its COMMAND;
/// 3. the firmware runs until it has handled the command (`LockstepDriver.handle`), and the
///    robot applies the firmware's actuator values, so the firmware's clamping, resolution and
///    failsafe act on the simulated wheels. The world's command latency and dropout
///    (`LinkSettings`) still apply after that, as in the direct simulation.
///
/// What the link adds, compared with the direct simulation: the firmware's own sampling
/// schedule and timestamps, its integer arithmetic (8-bit PWM duty on the AVR), and on the AVR
/// the time the frames and commands take on the wire at 115200 baud and wheel encoders that
/// count pulses in the firmware's own time.
///
/// Heartbeat and round-trip PINGs are off (the firmware's clock stands still between ticks, so
/// wall-clock silence means nothing); a firmware that dies ends the run as a lost link.
/// Not for the real-time path: the exchange with a firmware process allocates.
public final class SimFirmwareBody: Body, @unchecked Sendable {
    public let robot: SimulatedRobot
    /// The serial side: the session on the firmware's pseudo-terminal (nil for the library,
    /// which has no serial line).
    public let serial: SerialRobotBody?
    /// The host side of the library's in-process link (nil for a firmware process).
    public let libraryLink: FirmwareLibraryLink?
    public let device: DeviceInfo
    /// Which firmware this is.
    public let firmware: FirmwareInTheLoop
    private let driver: LockstepDriver

    /// Starts `firmware`, connects to it and configures it with the world's sampling period, a
    /// 100 ms failsafe and all the robot's sensors.
    /// - Throws: `SimFirmwareError` when the firmware cannot be started, loaded or configured or
    ///   the world's sampling period does not suit it or the firmware was built for another
    ///   robot (its channels are not `robot`'s; the error names the `make` command for this
    ///   robot), `LinkError` when the handshake over the pseudo-terminal fails.
    public init(robot: SimulatedRobot, firmware: FirmwareInTheLoop) throws {
        let build = FirmwareBuild(description: robot.description)
        let period = robot.world.link.samplePeriodMicros
        guard period % 1000 == 0, (1000...1_000_000).contains(period) else {
            throw SimFirmwareError("the world's sampling period (\(period) µs) must be a whole number of ms from 1 to 1000 for the firmware")
        }
        self.robot = robot
        self.firmware = firmware
        let config = LinkConfig(periodMilliseconds: UInt16(period / 1000), failsafeMilliseconds: 100,
                                sensorMask: UInt16((1 << robot.sensorChannels.count) - 1))
        let safe = robot.actuatorChannels.map(\.safe)
        if case let .library(path) = firmware {
            let library = try FirmwareLibrary(path: path)
            guard library.sensorChannels == robot.sensorChannels.count, library.actuatorChannels == safe.count else {
                throw SimFirmwareError("\(path) was built for a robot with \(library.sensorChannels) sensors and \(library.actuatorChannels) actuators; the simulated robot has \(robot.sensorChannels.count) and \(safe.count): build the library for \(build.name) with `\(build.make("host-lib"))`")
            }
            let link = try FirmwareLibraryLink(firmware: library, config: config, samplePeriodMicros: period)
            driver = LockstepDriver(firmware: library, timing: .host(periodMicros: period),
                                    sensorCount: robot.sensorChannels.count, safeActuators: safe)
            serial = nil
            libraryLink = link
            device = link.device
        } else {
            let process = try LineFirmware(firmware, samplePeriodMicros: period, safeActuators: safe)
            driver = LockstepDriver(firmware: process, timing: process.timing,
                                    sensorCount: robot.sensorChannels.count, safeActuators: safe)
            var options = SessionOptions(selector: .path(process.pty), config: config)
            options.monitor = nil
            options.reconnect = false
            options.heartbeatMilliseconds = 3_600_000
            options.roundTripProbeMilliseconds = 3_600_000
            options.linkLossMilliseconds = 10_000
            options.dropsStaleFrames = false  // the firmware's clock is the simulation's, not real time
            let sessionOptions = options
            let body: SerialRobotBody
            do {
                body = try process.running { try SerialRobotBody(options: sessionOptions) }
            } catch {
                process.quit()
                throw error
            }
            serial = body
            libraryLink = nil
            device = body.device
            // Frames the firmware sent while it was being configured are not this run's.
            var frame = SensorFrame(channelCount: robot.sensorChannels.count)
            while body.session.counters.sensorFrames < process.sensorsSent {
                guard body.nextFrame(into: &frame, timeoutMicros: 1_000_000) == .frame else { break }
            }
        }
        let built = (device.sensors + device.actuators).map(\.name)
        let wanted = (robot.sensorChannels + robot.actuatorChannels).map(\.name)
        guard built == wanted else {
            throw SimFirmwareError("\(firmware) was built for another robot (\(device.name), channels \(built.joined(separator: ", "))); the simulated robot \(build.name) has \(wanted.joined(separator: ", ")): build it with `\(build.make(firmware.files.map(\.target).joined(separator: " ")))`")
        }
        driver.startLockstep(robot: robot)
    }

    deinit { driver.quit() }

    public func nextFrame(into frame: inout SensorFrame, timeoutMicros: Int) -> BodyEvent {
        guard let sent = driver.runToSensors(robot: robot) else { return .linkLost }
        if let libraryLink { return libraryLink.nextFrame(into: &frame, upTo: sent) }
        guard let serial else { return .linkLost }
        repeat {
            let event = serial.nextFrame(into: &frame, timeoutMicros: max(timeoutMicros, 1_000_000))
            guard event == .frame else { return event }
        } while serial.session.counters.sensorFrames < sent
        return .frame
    }

    public func send(_ setpoints: [Int16]) -> Bool {
        if let libraryLink {
            return libraryLink.send(setpoints) && driver.handle(bytesSent: libraryLink.counters.bytesSent, robot: robot)
        }
        guard let serial else { return false }
        return serial.send(setpoints) && driver.handle(bytesSent: serial.session.counters.bytesSent, robot: robot)
    }

    public func stopActuators() {
        if let libraryLink {
            libraryLink.stop()
        } else if let serial, let process = driver.firmware as? LineFirmware {
            _ = try? process.running { serial.stopActuators() }
        }
        driver.quit()
    }
}

// MARK: - The lockstep driver

/// How a firmware in the loop spends time, the one thing the lockstep driver needs to know
/// about it beyond its command line.
struct LockstepTiming: Sendable, Equatable {
    /// How the world gives the firmware its inputs.
    enum Inputs: Sendable, Equatable {
        /// Once per sampling period of this many µs: the world runs to its next sampling instant
        /// and samples, and the firmware, which samples the moment its clock says so, runs one
        /// period and sends those readings (the host build).
        case perSample(periodMicros: UInt64)
        /// The world and the firmware run together in steps of this many µs, the inputs
        /// refreshed at each, and the firmware samples on its own schedule (the AVR).
        case everyStep(micros: UInt64)
    }
    var inputs: Inputs
    /// Once every byte of a command has reached the firmware, it has this long to act on it, µs.
    var handlingMarginMicros: Int
    /// Time given to the firmware to boot before the first byte, µs.
    var bootMicros: Int

    /// The host build handles a frame the moment it arrives and samples exactly on time.
    static func host(periodMicros: Int) -> Self {
        LockstepTiming(inputs: .perSample(periodMicros: UInt64(periodMicros)), handlingMarginMicros: 0, bootMicros: 0)
    }
    /// The AVR at 16 MHz: a command's bytes reach the emulated UART one per 86.8 µs; once the
    /// CPU has taken the last, the firmware acts on it within about 150 µs when idle, up to about
    /// 1 ms when it is sampling; the world refreshes its inputs every 1 ms.
    static let avr = LockstepTiming(inputs: .everyStep(micros: 1000), handlingMarginMicros: 300, bootMicros: 50_000)
}

/// What the lockstep driver needs of a firmware whose clock it moves: a firmware process that
/// speaks the lockstep lines (`LineFirmware`), or the firmware library (`FirmwareLibrary`).
protocol LockstepFirmware: AnyObject {
    /// The firmware's clock as it last reported it, µs.
    var micros: UInt64 { get }
    /// The SENSORS frames it has sent in all, as far as it has said.
    var sensorsSent: UInt64 { get }
    /// Its actuator values as last reported, in each channel's unit.
    var actuators: [Int16] { get }
    /// Gives sensor channel `channel` the reading `value` (in its unit) from its next run on.
    func setSensor(_ channel: Int, _ value: Int16)
    /// Runs it until it has sent a SENSORS frame, for at most `micros` µs. False if it died.
    func runToSensors(atMost micros: UInt64) -> Bool
    /// Runs it until it has taken every byte the host sent (`bytesSent` in all), then for
    /// `marginMicros` µs more. False if it died.
    func deliver(bytesSent: UInt64, marginMicros: Int) -> Bool
    /// Ends it (idempotent).
    func quit()
}

/// Moves a firmware's clock with the world's (`LockstepFirmware`): channel-level sensor values
/// in, actuator values out. It knows channels, not pins: the firmware (or the harness, from the
/// robot's description) turns a channel's value into what its pins see and its pins back into an
/// actuator's value.
///
/// The firmware's clock = world time + a fixed offset: the time the handshake took, and for a
/// firmware given its inputs once per sampling period, that period (it sends at the end of a
/// period what the world sampled at its start). One tick: `runToSensors` runs both until the
/// firmware has sent its next SENSORS frame; the control loop reads it and sends its COMMAND;
/// `handle` has the firmware take every byte sent (answering once it has, with the actuator
/// values that changed), and the world catches up with the time that took. No PING/PONG or
/// other round trip is needed to know a command was applied.
final class LockstepDriver {
    let firmware: any LockstepFirmware
    let timing: LockstepTiming
    /// The actuator values the robot was last given.
    private var applied: [Int16]
    /// What the firmware was last told of each sensor channel (`notTold`: nothing yet), so only
    /// changes are sent.
    private var told: [Int32]
    private static let notTold = Int32.min
    /// The firmware's clock at world time 0, µs.
    private var offsetMicros: UInt64 = 0

    /// `runToSensors` gives up after this much firmware time without a frame, µs.
    static let frameLimitMicros: UInt64 = 2_000_000

    init(firmware: any LockstepFirmware, timing: LockstepTiming, sensorCount: Int, safeActuators: [Int16]) {
        self.firmware = firmware
        self.timing = timing
        applied = safeActuators
        told = Array(repeating: Self.notTold, count: sensorCount)
    }

    /// Ties the firmware's clock to `robot`'s from now on.
    func startLockstep(robot: SimulatedRobot) {
        offsetMicros = firmware.micros &- robot.timeMicros
        if case let .perSample(period) = timing.inputs {
            offsetMicros &+= period  // it sends at the end of a period what the world sampled at its start
        }
    }

    /// Runs the world and the firmware until the firmware has sent its next SENSORS frame.
    /// Returns the SENSORS frames it has sent in all (nil if the firmware died or sent none).
    func runToSensors(robot: SimulatedRobot) -> UInt64? {
        let before = firmware.sensorsSent
        let limit = firmware.micros + Self.frameLimitMicros
        while firmware.sensorsSent == before {
            let now = firmware.micros
            guard now < limit else { return nil }
            let runFor: UInt64
            switch timing.inputs {
            case let .perSample(period):
                robot.nextFrame()
                runFor = period
            case let .everyStep(step):
                // The world leads by up to one step; the firmware runs to it, or to its frame.
                if now >= robot.timeMicros + offsetMicros {
                    robot.advance(toMicros: (robot.timeMicros / step + 1) * step)
                    robot.sampleSensors()
                }
                runFor = max(robot.timeMicros + offsetMicros - min(now, robot.timeMicros + offsetMicros), 1)
            }
            tell(robot.readings)
            guard firmware.runToSensors(atMost: runFor) else { return nil }
            // An output that changed on the way (a command the firmware took a while to act on,
            // its failsafe) drives the wheels from now on.
            if firmware.actuators != applied { applyOutputs(to: robot) }
        }
        return firmware.sensorsSent
    }

    /// Runs the firmware until it has taken every byte the host sent (`bytesSent` in all) and had
    /// `timing.handlingMarginMicros` to act on them, the world with it, and gives the robot the
    /// firmware's actuator values. False if the firmware died.
    func handle(bytesSent: UInt64, robot: SimulatedRobot) -> Bool {
        guard firmware.deliver(bytesSent: bytesSent, marginMicros: timing.handlingMarginMicros) else { return false }
        if firmware.micros > robot.timeMicros + offsetMicros {
            robot.advance(toMicros: firmware.micros - offsetMicros)
        }
        applyOutputs(to: robot)
        return true
    }

    /// Ends the firmware (idempotent).
    func quit() { firmware.quit() }

    /// Gives the robot the firmware's actuator values (copied value by value, so `applied`
    /// never shares the firmware's storage and the next change to it allocates nothing).
    private func applyOutputs(to robot: SimulatedRobot) {
        let actuators = firmware.actuators
        try? robot.apply(actuators)  // as many as the robot has: the firmware was built for it
        for k in applied.indices where k < actuators.count { applied[k] = actuators[k] }
    }

    /// Tells the firmware the readings that changed since it was last told.
    private func tell(_ readings: [Int16]) {
        for k in 0..<min(readings.count, told.count) where told[k] != Int32(readings[k]) {
            told[k] = Int32(readings[k])
            firmware.setSensor(k, readings[k])
        }
    }
}

/// A firmware process whose clock the body moves, driven through the lockstep lines both the
/// host build (`--virtual-clock`) and the emulation harness (`--lockstep --channels`) speak
/// (Docs/FIRMWARE.md, "Lockstep lines"): channel-level `sensor <k> <value>` lines in, `advance`,
/// `sensors`, `deliver` and `settle` to move its clock, and back `actuator <k> <value>`,
/// `sensors_sent <n>` and `time <µs>`. It serves the protocol on a pseudo-terminal.
final class LineFirmware: LockstepFirmware, @unchecked Sendable {
    /// The pseudo-terminal the firmware serves.
    let pty: String
    let timing: LockstepTiming
    private let process: LineProcess
    private(set) var actuators: [Int16]
    private(set) var sensorsSent: UInt64 = 0
    private(set) var micros: UInt64 = 0
    /// `sensor` lines waiting to go out with the next command that runs the firmware.
    private var pendingLines = ""
    /// When the last SENSORS frame's first byte went to the UART, µs of the firmware's clock
    /// (the harness's `first=`; nil from the host build).
    private(set) var sensorsFirstByteMicros: UInt64?
    /// When an actuator's value changed, µs of the firmware's clock (the harness's `t=`), since
    /// `actuatorChanges` was last emptied.
    var actuatorChanges: [UInt64] = []
    private var booted = false

    /// Starts `executable` with `arguments` and waits for its pty.
    init(executable: String, arguments: [String], timing: LockstepTiming, safeActuators: [Int16]) throws {
        let process = try SimFirmwareError.rethrowing { try LineProcess(executable: executable, arguments: arguments) }
        self.timing = timing
        var initial = safeActuators
        pty = try SimFirmwareError.rethrowing { try process.awaitPty { Self.note($0, actuators: &initial) } }
        actuators = initial
        self.process = process
    }

    /// Boots the firmware (`timing.bootMicros` of its time), then runs `work` on a thread of its
    /// own while the firmware takes each frame `work` writes and answers it (`settle`): its clock
    /// moves only while a frame is received and answered, so the handshake takes the same time
    /// however fast the host is.
    func running<T>(_ work: @escaping @Sendable () throws -> T) throws -> T {
        if !booted {
            booted = true
            guard exchange("advance \(timing.bootMicros)\n") else { throw SimFirmwareError("the firmware ended at start") }
        }
        let outcome = Outcome<T>()
        let thread = Thread { outcome.set(Result { try work() }) }
        thread.stackSize = 1 << 20
        thread.start()
        while !outcome.isSet {
            guard exchange("settle 20\n") else { break }
        }
        return try outcome.wait().get()
    }

    func setSensor(_ channel: Int, _ value: Int16) {
        pendingLines += "sensor \(channel) \(value)\n"
    }

    func runToSensors(atMost micros: UInt64) -> Bool {
        let text = pendingLines + "sensors \(micros)\n"
        pendingLines = ""
        return exchange(text)
    }

    func deliver(bytesSent: UInt64, marginMicros: Int) -> Bool {
        exchange("deliver \(bytesSent) \(marginMicros)\n")
    }

    /// Runs the firmware's clock `micros` µs. False if it died.
    func advance(micros: UInt64) -> Bool {
        let text = pendingLines + "advance \(micros)\n"
        pendingLines = ""
        return exchange(text)
    }

    func quit() { process.quit() }

    private func exchange(_ text: String) -> Bool {
        let time = process.command(text) { line in
            if line.hasPrefix("sensors_sent "), let n = UInt64(line.dropFirst(13).prefix { $0 != " " }) {
                sensorsSent = n
                sensorsFirstByteMicros = Self.field("first=", of: line)
            } else if line.hasPrefix("actuator ") {
                Self.note(line, actuators: &actuators)
                if let t = Self.field("t=", of: line) { actuatorChanges.append(t) }
            }
        }
        guard let time else { return false }
        micros = time
        return true
    }

    /// The number after ` <name>` in `line` (`t=`, `first=`), if there is one.
    static func field(_ name: String, of line: Substring) -> UInt64? {
        guard let range = line.range(of: " " + name) else { return nil }
        return UInt64(line[range.upperBound...].prefix { $0 != " " })
    }

    /// Takes an `actuator <k> <value>` line (a ` t=<µs>` after it is allowed) into `actuators`;
    /// other lines are ignored.
    static func note(_ line: Substring, actuators: inout [Int16]) {
        guard line.hasPrefix("actuator ") else { return }
        let parts = line.split(separator: " ", maxSplits: 3)
        guard parts.count >= 3, let k = Int(parts[1]), let v = Int16(parts[2]), actuators.indices.contains(k) else { return }
        actuators[k] = v
    }
}

extension LineFirmware {
    /// The process for `firmware`: the host build on its virtual clock, or the AVR build under
    /// the harness reporting channel values (`--lockstep --channels`).
    convenience init(_ firmware: FirmwareInTheLoop, samplePeriodMicros: Int, safeActuators: [Int16]) throws {
        switch firmware {
        case let .host(path):
            guard access(path, X_OK) == 0 else {
                throw SimFirmwareError("no host firmware at \(path): build it with `make -C Firmware host`")
            }
            try self.init(executable: path, arguments: ["--virtual-clock"], timing: .host(periodMicros: samplePeriodMicros),
                          safeActuators: safeActuators)
        case let .avr(harness, elf):
            guard access(harness, X_OK) == 0 else {
                throw SimFirmwareError("no emulation harness at \(harness): build it with `make -C Firmware sim`")
            }
            guard access(elf, R_OK) == 0 else {
                throw SimFirmwareError("no AVR firmware at \(elf): build it with `make -C Firmware avr`")
            }
            try self.init(executable: harness, arguments: ["--lockstep", "--channels", elf], timing: .avr,
                          safeActuators: safeActuators)
        case .library:
            throw SimFirmwareError("the firmware library is loaded, not started as a process")
        }
    }
}

/// A value one thread sets and another waits for.
private final class Outcome<T>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Result<T, any Error>?

    var isSet: Bool { condition.lock(); defer { condition.unlock() }; return value != nil }

    func set(_ result: Result<T, any Error>) {
        condition.lock()
        value = result
        condition.signal()
        condition.unlock()
    }

    func wait() -> Result<T, any Error> {
        condition.lock()
        defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}
