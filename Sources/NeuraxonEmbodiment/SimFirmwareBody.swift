import Foundation
import Glibc
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

/// Which firmware a simulated robot is reached through (Docs/SIMULATION.md, "Firmware in the
/// loop").
public enum FirmwareInTheLoop: Sendable, Equatable, CustomStringConvertible {
    /// The host build of the firmware (`make -C Firmware host`) on its virtual clock.
    case host(firmware: String)
    /// The real AVR build (`make -C Firmware avr`) under the emulation harness
    /// (`make -C Firmware sim`), whose emulated time moves only when the simulation says so.
    case avr(harness: String, elf: String)

    /// The host firmware: `NEURAXON_FIRMWARE`, or its build under `folder`.
    public static func host(folder: String = "Firmware", environment: [String: String] = ProcessInfo.processInfo.environment) -> Self {
        .host(firmware: environment["NEURAXON_FIRMWARE"] ?? folder + "/build/host/neuraxon-firmware")
    }

    /// The AVR build under the harness: `NEURAXON_AVR_HARNESS` and `NEURAXON_AVR_ELF`, or their
    /// builds under `folder`.
    public static func avr(folder: String = "Firmware", environment: [String: String] = ProcessInfo.processInfo.environment) -> Self {
        .avr(harness: environment["NEURAXON_AVR_HARNESS"] ?? folder + "/build/sim/nx-avr-harness",
             elf: environment["NEURAXON_AVR_ELF"] ?? folder + "/build/avr/neuraxon-uno.elf")
    }

    public var description: String {
        switch self {
        case let .host(firmware): "the host firmware \(firmware)"
        case let .avr(harness, elf): "the AVR firmware \(elf) under \(harness)"
        }
    }
}

/// The simulated robot reached through its firmware, exactly as a serial robot: the control
/// loop talks to the firmware over a real pseudo-terminal through the transport layer
/// (`SerialRobotBody`); the firmware takes its sensor inputs from the simulated world and its
/// actuator outputs drive the simulated wheels.
///
/// The firmware runs in lockstep with the world: its clock moves only when the body moves it,
/// so a run is as reproducible as the direct simulation, however fast or slow the host is.
/// One tick:
/// 1. the world and the firmware run together until the firmware has sent its next SENSORS
///    frame (`LockstepDriver.runToSensors`): the host build samples the world's readings at
///    the world's sampling instant; the AVR build runs in 1 ms steps with its inputs refreshed
///    from the world at each (the harness turns each channel's value into its pins' levels,
///    from the robot's description), and samples on its own schedule;
/// 2. the control loop reads that frame through the serial session (any older frame still in
///    the pty is read first and passed over), runs the network and sends its COMMAND;
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
/// Not for the real-time path: the exchange with the firmware process allocates.
public final class SimFirmwareBody: Body, @unchecked Sendable {
    public let robot: SimulatedRobot
    /// The serial side: the session on the firmware's pseudo-terminal.
    public let serial: SerialRobotBody
    public var device: DeviceInfo { serial.device }
    /// Which firmware this is.
    public let firmware: FirmwareInTheLoop
    private let driver: LockstepDriver

    /// Starts `firmware`, connects to its pseudo-terminal and configures it with the world's
    /// sampling period, a 100 ms failsafe and all seven sensors.
    /// - Throws: `SimFirmwareError` when the firmware cannot be started or the world's sampling
    ///   period does not suit it, `LinkError` when the handshake fails.
    public init(robot: SimulatedRobot, firmware: FirmwareInTheLoop) throws {
        let period = robot.world.link.samplePeriodMicros
        guard period % 1000 == 0, (1000...1_000_000).contains(period) else {
            throw SimFirmwareError("the world's sampling period (\(period) µs) must be a whole number of ms from 1 to 1000 for the firmware")
        }
        self.robot = robot
        self.firmware = firmware
        driver = try LockstepDriver(firmware, samplePeriodMicros: period, sensorCount: robot.sensorChannels.count,
                                    safeActuators: robot.actuatorChannels.map(\.safe))
        var options = SessionOptions(selector: .path(driver.pty),
                                     config: LinkConfig(periodMilliseconds: UInt16(period / 1000), failsafeMilliseconds: 100, sensorMask: 0x7F))
        options.monitor = nil
        options.reconnect = false
        options.heartbeatMilliseconds = 3_600_000
        options.roundTripProbeMilliseconds = 3_600_000
        options.linkLossMilliseconds = 10_000
        options.dropsStaleFrames = false  // the firmware's clock is the simulation's, not real time
        let driver = driver, sessionOptions = options
        do {
            serial = try driver.running { try SerialRobotBody(options: sessionOptions) }
        } catch {
            driver.quit()
            throw error
        }
        // Frames the firmware sent while it was being configured are not this run's.
        var frame = SensorFrame(channelCount: robot.sensorChannels.count)
        while serial.session.counters.sensorFrames < driver.sensorFramesSent {
            guard serial.nextFrame(into: &frame, timeoutMicros: 1_000_000) == .frame else { break }
        }
        driver.startLockstep(robot: robot)
    }

    deinit { driver.quit() }

    public func nextFrame(into frame: inout SensorFrame, timeoutMicros: Int) -> BodyEvent {
        guard let sent = driver.runToSensors(robot: robot) else { return .linkLost }
        repeat {
            let event = serial.nextFrame(into: &frame, timeoutMicros: max(timeoutMicros, 1_000_000))
            guard event == .frame else { return event }
        } while serial.session.counters.sensorFrames < sent
        return .frame
    }

    public func send(_ setpoints: [Int16]) -> Bool {
        serial.send(setpoints) && driver.handle(session: serial.session, robot: robot)
    }

    public func stopActuators() {
        let serial = serial
        _ = try? driver.running { serial.stopActuators() }
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

/// A firmware process whose clock the body moves, driven through the lockstep lines both the
/// host build (`--virtual-clock`) and the emulation harness (`--lockstep --channels`) speak
/// (Docs/FIRMWARE.md, "Lockstep lines"): channel-level `sensor <k> <value>` lines in, `advance`,
/// `sensors`, `deliver` and `settle` to move its clock, and back `actuator <k> <value>`,
/// `sensors_sent <n>` and `time <µs>`. It knows channels, not pins: the firmware (or the harness,
/// from the robot's description) turns a channel's value into what its pins see and its pins
/// back into an actuator's value.
///
/// The firmware's clock = world time + a fixed offset: the time the handshake took, and for a
/// firmware given its inputs once per sampling period, that period (it sends at the end of a
/// period what the world sampled at its start). One tick: `runToSensors` runs both until the firmware has sent its next SENSORS frame; the
/// control loop reads it and writes its COMMAND to the pty; `handle` has the firmware take every
/// byte written (`deliver`, which answers once it has, with the actuator values that changed),
/// and the world catches up with the time that took. No PING/PONG or other pty round trip is
/// needed to know a command was applied.
final class LockstepDriver: @unchecked Sendable {
    /// The pseudo-terminal the firmware serves.
    let pty: String
    let timing: LockstepTiming
    private let process: LineProcess
    /// The firmware's actuator values as last reported, and as the robot was last given them.
    private(set) var actuators: [Int16]
    private var applied: [Int16]
    /// What the firmware was last told of each sensor channel (nil: nothing yet), so only
    /// changes are sent.
    private var told: [Int16?]
    private var sensorsSent: UInt64 = 0
    /// The firmware's clock, µs, as it last reported it; and its value at world time 0.
    private var firmwareMicros: UInt64 = 0
    private var offsetMicros: UInt64 = 0
    private var booted = false

    /// `runToSensors` gives up after this much firmware time without a frame, µs.
    static let frameLimitMicros: UInt64 = 2_000_000

    /// Starts `executable` with `arguments` and waits for its pty.
    init(executable: String, arguments: [String], timing: LockstepTiming, sensorCount: Int, safeActuators: [Int16]) throws {
        let process = try SimFirmwareError.rethrowing { try LineProcess(executable: executable, arguments: arguments) }
        self.timing = timing
        actuators = safeActuators
        applied = safeActuators
        told = Array(repeating: nil, count: sensorCount)
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

    /// The SENSORS frames the firmware has sent in all, as far as it has said.
    var sensorFramesSent: UInt64 { sensorsSent }

    /// Ties the firmware's clock to `robot`'s from now on.
    func startLockstep(robot: SimulatedRobot) {
        offsetMicros = firmwareMicros &- robot.timeMicros
        if case let .perSample(period) = timing.inputs {
            offsetMicros &+= period  // it sends at the end of a period what the world sampled at its start
        }
    }

    /// Runs the world and the firmware until the firmware has sent its next SENSORS frame.
    /// Returns the SENSORS frames it has sent in all (nil if the firmware died or sent none).
    func runToSensors(robot: SimulatedRobot) -> UInt64? {
        let before = sensorsSent
        let limit = firmwareMicros + Self.frameLimitMicros
        while sensorsSent == before {
            guard firmwareMicros < limit else { return nil }
            let runFor: UInt64
            switch timing.inputs {
            case let .perSample(period):
                robot.nextFrame()
                runFor = period
            case let .everyStep(step):
                // The world leads by up to one step; the firmware runs to it, or to its frame.
                if firmwareMicros >= robot.timeMicros + offsetMicros {
                    robot.advance(toMicros: (robot.timeMicros / step + 1) * step)
                    robot.sampleSensors()
                }
                runFor = max(robot.timeMicros + offsetMicros - min(firmwareMicros, robot.timeMicros + offsetMicros), 1)
            }
            guard exchange(sensorLines(robot.readings) + "sensors \(runFor)\n") else { return nil }
            // An output that changed on the way (a command the firmware took a while to act on,
            // its failsafe) drives the wheels from now on.
            if actuators != applied { applyOutputs(to: robot) }
        }
        return sensorsSent
    }

    /// Runs the firmware until it has taken every byte `session` wrote and had
    /// `timing.handlingMarginMicros` to act on them, the world with it, and gives the robot the
    /// firmware's actuator values. False if the firmware died.
    func handle(session: LinkSession, robot: SimulatedRobot) -> Bool {
        guard exchange("deliver \(session.counters.bytesSent) \(timing.handlingMarginMicros)\n") else { return false }
        if firmwareMicros > robot.timeMicros + offsetMicros {
            robot.advance(toMicros: firmwareMicros - offsetMicros)
        }
        applyOutputs(to: robot)
        return true
    }

    /// Ends the process (idempotent).
    func quit() { process.quit() }

    private func applyOutputs(to robot: SimulatedRobot) {
        try? robot.apply(actuators)
        applied = actuators
    }

    /// The `sensor` lines that give the firmware `readings`, changes only.
    private func sensorLines(_ readings: [Int16]) -> String {
        var text = ""
        for (k, value) in readings.enumerated() where k < told.count && told[k] != value {
            told[k] = value
            text += "sensor \(k) \(value)\n"
        }
        return text
    }

    private func exchange(_ text: String) -> Bool {
        let time = process.command(text) { line in
            if line.hasPrefix("sensors_sent "), let n = UInt64(line.dropFirst(13).prefix { $0 != " " }) {
                sensorsSent = n
            } else {
                Self.note(line, actuators: &actuators)
            }
        }
        guard let time else { return false }
        firmwareMicros = time
        return true
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

extension LockstepDriver {
    /// The driver for `firmware`: the host build on its virtual clock, or the AVR build under
    /// the harness reporting channel values (`--lockstep --channels`).
    convenience init(_ firmware: FirmwareInTheLoop, samplePeriodMicros: Int, sensorCount: Int, safeActuators: [Int16]) throws {
        switch firmware {
        case let .host(path):
            guard access(path, X_OK) == 0 else {
                throw SimFirmwareError("no host firmware at \(path): build it with `make -C Firmware host`")
            }
            try self.init(executable: path, arguments: ["--virtual-clock"], timing: .host(periodMicros: samplePeriodMicros),
                          sensorCount: sensorCount, safeActuators: safeActuators)
        case let .avr(harness, elf):
            guard access(harness, X_OK) == 0 else {
                throw SimFirmwareError("no emulation harness at \(harness): build it with `make -C Firmware sim`")
            }
            guard access(elf, R_OK) == 0 else {
                throw SimFirmwareError("no AVR firmware at \(elf): build it with `make -C Firmware avr`")
            }
            try self.init(executable: harness, arguments: ["--lockstep", "--channels", elf], timing: .avr,
                          sensorCount: sensorCount, safeActuators: safeActuators)
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
