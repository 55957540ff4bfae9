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
///    frame (`LockstepFirmware.runToSensors`): the host build samples the world's readings at
///    the world's sampling instant; the AVR build runs in 1 ms steps with its inputs refreshed
///    from the world at each, and samples on its own schedule;
/// 2. the control loop reads that frame through the serial session (any older frame still in
///    the pty is read first and passed over), runs the network and sends its COMMAND;
/// 3. the firmware runs until it has handled the command (`LockstepFirmware.handle`), and the
///    robot applies the firmware's actuator outputs, so the firmware's clamping, resolution and
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
    private let driver: any LockstepFirmware

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
        switch firmware {
        case let .host(path): driver = try HostFirmwareDriver(path: path, periodMicros: period)
        case let .avr(harness, elf): driver = try AVRHarnessDriver(harness: harness, elf: elf)
        }
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
        while serial.session.counters.sensorFrames < driver.sensorFramesSent(session: serial.session.counters.sensorFrames) {
            guard serial.nextFrame(into: &frame, timeoutMicros: 1_000_000) == .frame else { break }
        }
        driver.startLockstep(robot: robot)
    }

    deinit { driver.quit() }

    public func nextFrame(into frame: inout SensorFrame, timeoutMicros: Int) -> BodyEvent {
        guard let sent = driver.runToSensors(robot: robot, session: serial.session.counters.sensorFrames) else { return .linkLost }
        repeat {
            let event = serial.nextFrame(into: &frame, timeoutMicros: max(timeoutMicros, 1_000_000))
            guard event == .frame else { return event }
        } while serial.session.counters.sensorFrames < sent
        return .frame
    }

    public func send(_ setpoints: [Int16]) -> Bool {
        guard serial.send(setpoints), let outputs = driver.handle(session: serial.session, robot: robot) else { return false }
        robot.apply(motorLeft: outputs[0], motorRight: outputs[1], servo: outputs[2])
        return true
    }

    public func stopActuators() {
        let serial = serial
        _ = try? driver.running { serial.stopActuators() }
        driver.quit()
    }
}

// MARK: - The two firmwares

/// A firmware process whose clock the body moves.
protocol LockstepFirmware: AnyObject, Sendable {
    /// The pseudo-terminal it serves.
    var pty: String { get }
    /// Runs `work` (which talks to the firmware over the pty) while the firmware's clock runs.
    func running<T>(_ work: @escaping @Sendable () throws -> T) throws -> T
    /// The SENSORS frames the firmware has sent in all, as far as it knows; `received` is how
    /// many the session has received.
    func sensorFramesSent(session received: UInt64) -> UInt64
    /// Ties the firmware's clock to `robot`'s from now on.
    func startLockstep(robot: SimulatedRobot)
    /// Runs the world and the firmware until the firmware has sent its next SENSORS frame.
    /// Returns the SENSORS frames it has sent in all (nil if the firmware died).
    func runToSensors(robot: SimulatedRobot, session received: UInt64) -> UInt64?
    /// Runs the firmware until it has handled every byte `session` wrote (and the world with it).
    /// Returns its actuator outputs (motor left, motor right in ‰, servo in degrees), or nil if
    /// the firmware died.
    func handle(session: LinkSession, robot: SimulatedRobot) -> [Int16]?
    /// Ends the process (idempotent).
    func quit()
}

/// The host build on `--virtual-clock` (Docs/FIRMWARE.md, "The host port"): readings go in as
/// `sensor <i> <v>` lines, `advance <µs>` moves its clock, and it prints `actuator <i> <v>`.
/// It handles frames the moment they arrive, so the handshake needs no time to pass; a
/// PING/PONG after each COMMAND makes sure the command was handled.
final class HostFirmwareDriver: LockstepFirmware, @unchecked Sendable {
    let pty: String
    private let process: LineProcess
    private let periodMicros: Int
    private var actuators: [Int16]

    init(path: String, periodMicros: Int) throws {
        guard access(path, X_OK) == 0 else {
            throw SimFirmwareError("no host firmware at \(path): build it with `make -C Firmware host`")
        }
        self.periodMicros = periodMicros
        let process = try SimFirmwareError.rethrowing { try LineProcess(executable: path, arguments: ["--virtual-clock"]) }
        var actuators = ReferenceChannels.actuators.map(\.safeValue)
        pty = try SimFirmwareError.rethrowing { try process.awaitPty { HostFirmwareDriver.note($0, in: &actuators) } }
        self.process = process
        self.actuators = actuators
    }

    func running<T>(_ work: @escaping @Sendable () throws -> T) throws -> T { try work() }

    func sensorFramesSent(session received: UInt64) -> UInt64 { received }

    func startLockstep(robot: SimulatedRobot) {}

    /// The world runs to its next sampling instant; its readings go in as `sensor` lines and
    /// the firmware advances one sampling period, sending one frame.
    func runToSensors(robot: SimulatedRobot, session received: UInt64) -> UInt64? {
        robot.nextFrame()
        var text = ""
        for (k, v) in robot.readings.enumerated() { text += "sensor \(k) \(v)\n" }
        text += "advance \(periodMicros)\n"
        return exchange(text) != nil ? received + 1 : nil
    }

    func handle(session: LinkSession, robot: SimulatedRobot) -> [Int16]? {
        _ = try? session.ping(count: 1)
        return exchange("advance 0\n") != nil ? actuators : nil
    }

    func quit() { process.quit() }

    private func exchange(_ text: String) -> UInt64? {
        process.command(text) { Self.note($0, in: &actuators) }
    }

    private static func note(_ line: Substring, in actuators: inout [Int16]) {
        let parts = line.split(separator: " ")
        guard parts.count == 3, parts[0] == "actuator", let k = Int(parts[1]), let v = Int16(parts[2]),
              actuators.indices.contains(k) else { return }
        actuators[k] = v
    }
}

/// The real AVR build under `nx-avr-harness --lockstep` (Docs/FIRMWARE.md, "The AVR emulation
/// harness"), co-simulated with the world on one clock: emulated time = world time + a fixed
/// offset (the emulated time the handshake took).
///
/// The world's readings become the board's electrical inputs on the reference robot's pins
/// (Docs/HARDWARE.md): range and light sensors as millivolts on A0–A3, the bumper on D10 (low
/// when pressed), and each wheel's new encoder ticks as pulses on D2/D3. They are refreshed
/// from the world every `inputStepMicros` while the firmware runs towards its next SENSORS
/// frame (`sensors` in the harness), so the firmware samples them on its own schedule, as on
/// the robot. A COMMAND then reaches the UART at the wire's pace and the firmware takes it
/// (`deliver`, then `handlingMarginMicros`), and the world catches up with the time that took
/// before the outputs apply. The outputs come back as PWM duty and direction pins and are read
/// as the firmware meant them (`AVRPinState`); one that changes later (the firmware was busy
/// sampling, or its failsafe acted) drives the wheels from the next input step on.
final class AVRHarnessDriver: LockstepFirmware, @unchecked Sendable {
    let pty: String
    private let process: LineProcess
    private var pins = AVRPinState()
    /// The firmware's outputs as the robot was last given them.
    private var applied = AVRPinState()
    private var sensorsSent: UInt64 = 0
    /// What the harness was last told, so only changes are sent.
    private var inputs: [Int] = [-1, -1, -1, -1, 1]
    private var wheels: [Int16] = [0, 0]
    /// Emulated time, µs, as the harness last reported it; and its value at world time 0.
    private var emulatedMicros: UInt64 = 0
    private var offsetMicros: UInt64 = 0

    /// The world refreshes the firmware's inputs this often, µs.
    static let inputStepMicros: UInt64 = 1000
    /// A command's bytes reach the emulated UART one per 86.8 µs; once the CPU has taken the
    /// last, the firmware has this long to act on it, µs (it takes about 150 µs when idle, up to
    /// about 1 ms when it is sampling).
    static let handlingMarginMicros = 300
    /// Emulated time given to the firmware to boot before the first byte, µs.
    static let bootMicros = 50_000
    /// `runToSensors` gives up after this much emulated time without a frame, µs.
    static let frameLimitMicros: UInt64 = 2_000_000

    init(harness: String, elf: String) throws {
        guard access(harness, X_OK) == 0 else {
            throw SimFirmwareError("no emulation harness at \(harness): build it with `make -C Firmware sim`")
        }
        guard access(elf, R_OK) == 0 else {
            throw SimFirmwareError("no AVR firmware at \(elf): build it with `make -C Firmware avr`")
        }
        let process = try SimFirmwareError.rethrowing { try LineProcess(executable: harness, arguments: ["--lockstep", elf]) }
        pty = try SimFirmwareError.rethrowing { try process.awaitPty { _ in } }
        self.process = process
        guard process.send("pin D10 1\n") else { throw SimFirmwareError("\(harness) ended at start") }
    }

    /// Boots the firmware (`bootMicros` of emulated time), then runs `work` on a thread of its
    /// own while the harness runs the firmware through each frame `work` writes and its answer
    /// (`settle`): emulated time moves only while a frame is received and answered, so the
    /// handshake takes the same emulated time however fast the host is.
    func running<T>(_ work: @escaping @Sendable () throws -> T) throws -> T {
        if emulatedMicros == 0 { _ = exchange("advance \(Self.bootMicros)\n") }
        let outcome = Outcome<T>()
        let thread = Thread { outcome.set(Result { try work() }) }
        thread.stackSize = 1 << 20
        thread.start()
        while !outcome.isSet {
            guard exchange("settle 20\n") else { break }
        }
        return try outcome.wait().get()
    }

    func sensorFramesSent(session received: UInt64) -> UInt64 { sensorsSent }

    func startLockstep(robot: SimulatedRobot) {
        offsetMicros = emulatedMicros &- robot.timeMicros
    }

    func runToSensors(robot: SimulatedRobot, session received: UInt64) -> UInt64? {
        let before = sensorsSent
        let limit = emulatedMicros + Self.frameLimitMicros
        while sensorsSent == before {
            guard emulatedMicros < limit else { return nil }
            // The world leads by up to one input step; the firmware runs to it, or to its frame.
            let worldTarget = (robot.timeMicros / Self.inputStepMicros + 1) * Self.inputStepMicros
            if emulatedMicros >= robot.timeMicros + offsetMicros {
                robot.advance(toMicros: worldTarget)
                robot.sampleSensors()
            }
            let runFor = robot.timeMicros + offsetMicros - min(emulatedMicros, robot.timeMicros + offsetMicros)
            guard exchange(inputLines(robot.readings) + "sensors \(max(runFor, 1))\n") else { return nil }
            // An output that changed on the way (a command the firmware took a while to act on,
            // its failsafe) drives the wheels from now on.
            if pins != applied {
                let outputs = pins.setpoints
                robot.apply(motorLeft: outputs[0], motorRight: outputs[1], servo: outputs[2])
                applied = pins
            }
        }
        return sensorsSent
    }

    func handle(session: LinkSession, robot: SimulatedRobot) -> [Int16]? {
        guard exchange("deliver \(session.counters.bytesSent) \(Self.handlingMarginMicros)\n") else { return nil }
        if emulatedMicros > robot.timeMicros + offsetMicros {
            robot.advance(toMicros: emulatedMicros - offsetMicros)
        }
        applied = pins
        return pins.setpoints
    }

    func quit() { process.quit() }

    /// The harness lines that set the board's inputs to `readings`, changes only.
    private func inputLines(_ readings: [Int16]) -> String {
        var text = ""
        for channel in ReferenceChannels.rangeLeft...ReferenceChannels.lightRight {
            let millivolts = min(max(Int(readings[channel]), 0), 5000)
            if inputs[channel] != millivolts {
                inputs[channel] = millivolts
                text += "adc \(channel) \(millivolts)\n"
            }
        }
        let level = readings[ReferenceChannels.bumper] != 0 ? 0 : 1
        if inputs[4] != level {
            inputs[4] = level
            text += "pin D10 \(level)\n"
        }
        for (k, channel) in [ReferenceChannels.wheelLeft, ReferenceChannels.wheelRight].enumerated() {
            let ticks = Int(readings[channel] &- wheels[k]).magnitude
            wheels[k] = readings[channel]
            if ticks > 0 { text += "pulses \(k == 0 ? "D2" : "D3") \(ticks)\n" }
        }
        return text
    }

    private func exchange(_ text: String) -> Bool {
        let time = process.command(text) { line in
            if line.hasPrefix("sensors_sent "), let n = UInt64(line.dropFirst(13).prefix { $0 != " " }) {
                sensorsSent = n
            } else {
                pins.note(line)
            }
        }
        guard let time else { return false }
        emulatedMicros = time
        return true
    }
}

/// The AVR firmware's actuator outputs as the harness reports them (`pwm D6 128 t=…`,
/// `pin D4 1 t=…`), and the setpoints they stand for.
struct AVRPinState: Equatable {
    /// Timer0 duty 0…255: left motor (D6, OC0A), right motor (D5, OC0B).
    var duty: [Int] = [0, 0]
    /// H-bridge inputs: left IN1 (D4), IN2 (D7); right IN1 (D8), IN2 (D12).
    var forward: [Bool] = [false, false]
    var reverse: [Bool] = [false, false]
    /// Timer1 compare value in 0.5 µs ticks (D9, OC1A): 2000 = 0°, 3000 = 90°, 4000 = 180°.
    var servoTicks = 3000

    /// Takes one harness line into account (other lines are ignored).
    mutating func note(_ line: Substring) {
        let parts = line.split(separator: " ")
        guard parts.count >= 3, let value = Int(parts[2]) else { return }
        switch (parts[0], parts[1]) {
        case ("pwm", "D6"): duty[0] = value
        case ("pwm", "D5"): duty[1] = value
        case ("pwm", "D9"): servoTicks = value
        case ("pin", "D4"): forward[0] = value != 0
        case ("pin", "D7"): reverse[0] = value != 0
        case ("pin", "D8"): forward[1] = value != 0
        case ("pin", "D12"): reverse[1] = value != 0
        default: break
        }
    }

    /// Motor left and right in ‰ (±round(duty × 1000 / 255), 0 when the bridge is off or both
    /// inputs are high) and the servo in degrees (round((ticks / 2 − 1000) × 180 / 1000),
    /// clamped to 0…180).
    var setpoints: [Int16] {
        var out: [Int16] = (0..<2).map { m in
            guard forward[m] != reverse[m] else { return 0 }
            let permille = (duty[m] * 1000 + 127) / 255
            return Int16(forward[m] ? permille : -permille)
        }
        let halfTicks = Double(servoTicks) / 2 - 1000
        out.append(Int16(min(max((halfTicks * 180 / 1000).rounded(), 0), 180)))
        return out
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
