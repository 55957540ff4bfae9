import ArgumentParser
import Foundation
import NeuraxonChannels
import NeuraxonProtocol
import NeuraxonTransport

/// `neuraxon robot`: check a robot description, and show what a description or a board declares.
struct RobotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robot",
        abstract: "Check a robot description, or show what a description or a board declares.",
        discussion: "A robot description (Docs/ROBOTS.md) names the board, every sensor and actuator with its pins, "
            + "range and safe value; the firmware is built from it (make -C Firmware ROBOT=FILE).",
        subcommands: [RobotCheckCommand.self, RobotInfoCommand.self]
    )
}

/// One channel as the commands print it.
struct ChannelLine {
    var index: Int
    var name: String
    var kind: String
    /// The unit's symbol, "" for none.
    var unit: String
    var minimum: Int
    var maximum: Int
    var safe: Int?
    /// From a description: what the file calls the part and its pins ("ultrasonic, trigger D22,
    /// echo D18"); nil for a board.
    var wiring: String?

    init(index: Int, _ c: NeuraxonChannels.ChannelDescriptor, actuator: Bool, wiring: String? = nil) {
        self.wiring = wiring
        self.index = index
        name = c.name
        kind = c.kind.name
        unit = c.unit.symbol
        minimum = Int(c.minimum)
        maximum = Int(c.maximum)
        safe = actuator ? Int(c.safe) : nil
    }

    /// A channel as a board declared it, from its protocol codes (`kind`, `unit`), so any
    /// descriptor type with those bytes prints alike; `name` nil prints as "(unnamed)".
    init(index: Int, name: String?, kindCode: UInt8, unitCode: UInt8, minimum: Int16, maximum: Int16, safe: Int16?) {
        self.index = index
        self.name = name ?? "(unnamed)"
        kind = NeuraxonChannels.ChannelDescriptor.Kind(rawValue: kindCode)?.name ?? "kind \(kindCode)"
        unit = NeuraxonChannels.ChannelDescriptor.Unit(rawValue: unitCode)?.symbol ?? "unit \(unitCode)"
        self.minimum = Int(minimum)
        self.maximum = Int(maximum)
        self.safe = safe.map(Int.init)
    }

    /// `sensor 0 range_left: analog, mV, 0…5000` (actuators add `, safe N`).
    var text: String {
        let group = safe == nil ? "sensor" : "actuator"
        return "  \(group) \(index) \(name): \(kind), \(unit.isEmpty ? "no unit" : unit), \(minimum)…\(maximum)"
            + (safe.map { ", safe \($0)" } ?? "") + (wiring.map { " (\($0))" } ?? "")
    }

    var json: [String: Any] {
        var object: [String: Any] = ["index": index, "name": name, "kind": kind, "unit": unit, "minimum": minimum, "maximum": maximum]
        if let safe { object["safe"] = safe }
        if let wiring { object["wiring"] = wiring }
        return object
    }
}

/// What a board declares (DEVICE_INFO, and CHANNEL_INFO's names), from a description or a board.
struct Declaration {
    var source: String
    var board: String
    var firmware: String?
    var protocolVersion: Int?
    var periodMilliseconds: ClosedRange<Int>
    var failsafeMilliseconds: ClosedRange<Int>
    var sensors: [ChannelLine]
    var actuators: [ChannelLine]
    /// From a description: its robot name and microcontroller.
    var robot: String?
    var mcu: String?

    init(description d: RobotDescription, file: String) {
        source = file
        board = d.boardName
        periodMilliseconds = d.periodMinMilliseconds...DescriptionLimits.periodMaxMilliseconds
        failsafeMilliseconds = d.limits.failsafeMinMilliseconds...d.limits.failsafeMaxMilliseconds
        let sensorWiring = d.sensors.flatMap(Self.wiring)
        let actuatorWiring = d.actuators.map(Self.wiring)
        sensors = d.sensorChannels.enumerated().map { ChannelLine(index: $0, $1, actuator: false, wiring: sensorWiring[$0]) }
        actuators = d.actuatorChannels.enumerated().map { ChannelLine(index: $0, $1, actuator: true, wiring: actuatorWiring[$0]) }
        robot = d.robot
        mcu = "\(d.board.rawValue) (\(d.board.facts.title))"
    }

    init(board info: BoardInfo, path: String) {
        source = path
        board = info.board
        firmware = info.firmwareVersionString
        protocolVersion = Int(info.protocolVersion)
        periodMilliseconds = Int(info.periodMinMilliseconds)...Int(max(info.periodMinMilliseconds, info.periodMaxMilliseconds))
        failsafeMilliseconds = Int(info.failsafeMinMilliseconds)...Int(max(info.failsafeMinMilliseconds, info.failsafeMaxMilliseconds))
        sensors = info.sensors.enumerated().map { i, c in
            ChannelLine(index: i, name: c.name.isEmpty ? nil : c.name, kindCode: c.kind.rawValue,
                        unitCode: c.unit.rawValue, minimum: c.minimum, maximum: c.maximum, safe: nil)
        }
        actuators = info.actuators.enumerated().map { i, c in
            ChannelLine(index: i, name: c.name.isEmpty ? nil : c.name, kindCode: c.kind.rawValue,
                        unitCode: c.unit.rawValue, minimum: c.minimum, maximum: c.maximum, safe: c.safe)
        }
    }

    /// What the file calls each channel of `sensor` and its pins, one entry per channel.
    static func wiring(_ sensor: RobotDescription.Sensor) -> [String] {
        switch sensor.kind {
        case let .analog(pin, _, _): ["analog input \(pin)"]
        case let .digital(pin, pullUp, activeLow): ["digital input \(pin)\(pullUp ? ", pull-up" : "")\(activeLow ? ", active low" : "")"]
        case let .quadratureEncoder(a, b): ["quadrature encoder, A \(a), B \(b)"]
        case let .singleEncoder(a, motor): ["single-channel encoder \(a), direction from \(motor)"]
        case let .ultrasonic(trigger, echo, _, timeout): ["ultrasonic, trigger \(trigger), echo \(echo), timeout \(timeout) µs"]
        case let .reflectance(pins): pins.map { "reflectance \($0)" }
        }
    }

    /// What the file calls `actuator` and its pins.
    static func wiring(_ actuator: RobotDescription.Actuator) -> String {
        switch actuator.kind {
        case let .motor(pwm, in1, in2, driver): "motor through \(driver), PWM \(pwm), IN1 \(in1), IN2 \(in2)"
        case let .servo(pin, _, _, pulseMin, pulseMax): "servo \(pin), \(pulseMin)…\(pulseMax) µs"
        case let .output(pin, activeLow): "output \(pin)\(activeLow ? ", active low" : "")"
        }
    }

    var text: String {
        var lines: [String] = []
        if let robot, let mcu {
            lines.append("\(source): robot \(robot) on \(mcu), board name \(board)")
        } else {
            lines.append("board \(board) on \(source): firmware \(firmware ?? "?"), protocol version \(protocolVersion ?? 1)")
        }
        lines.append("  sampling period \(periodMilliseconds.lowerBound)…\(periodMilliseconds.upperBound) ms, failsafe "
                     + "\(failsafeMilliseconds.lowerBound)…\(failsafeMilliseconds.upperBound) ms")
        lines += sensors.map(\.text) + actuators.map(\.text)
        return lines.joined(separator: "\n")
    }

    var json: [String: Any] {
        var object: [String: Any] = [
            "board": board,
            "period_ms": ["min": periodMilliseconds.lowerBound, "max": periodMilliseconds.upperBound],
            "failsafe_ms": ["min": failsafeMilliseconds.lowerBound, "max": failsafeMilliseconds.upperBound],
            "sensors": sensors.map(\.json),
            "actuators": actuators.map(\.json),
        ]
        if let robot { object["robot"] = robot; object["file"] = source }
        if let mcu { object["mcu"] = mcu }
        if let firmware { object["firmware"] = firmware; object["port"] = source }
        if let protocolVersion { object["protocol_version"] = protocolVersion }
        return object
    }
}

/// Reads and checks a description, as a `CommandError`: exit 66 when it cannot be read, 65 with
/// every problem (`FILE:LINE: message`) when it is wrong.
func loadRobotDescription(_ path: String) throws -> RobotDescription {
    do {
        return try RobotDescription.load(path: path)
    } catch {
        let status = error.cause == .unreadable ? ExitStatus.noInput : ExitStatus.dataError
        let count = error.problems.count
        let heading = error.cause == .unreadable ? "" : "the robot description has \(count) problem\(count == 1 ? "" : "s"):\n"
        throw CommandError(status, heading + error.description)
    }
}

/// `neuraxon robot check FILE`.
struct RobotCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a robot description with every rule the firmware's build applies.",
        discussion: "Exit status 0 and a summary (board, channels by index) when it is good; 65 with every problem, "
            + "each as FILE:LINE: message, when it is not; 66 when the file cannot be read."
    )

    @Argument(help: "The robot description (YAML, Docs/ROBOTS.md).")
    var file: String

    func run() throws {
        let robot = try loadRobotDescription(file)
        print(Declaration(description: robot, file: file).text)
        print("\(file): good: \(robot.sensorChannels.count) sensor and \(robot.actuatorChannels.count) actuator channels")
    }
}

/// `neuraxon robot info FILE|PORT`.
struct RobotInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show what a robot description or a connected board declares: board name, limits and every channel.",
        discussion: "A FILE shows what a board built from it reports. A PORT (or --port, --board) connects, shakes "
            + "hands and prints the board's DEVICE_INFO with each channel's name from a version-2 board; a version-1 "
            + "board sends no names, shown as (unnamed)."
    )

    @Argument(help: ArgumentHelp("A robot description file, or a serial port (/dev/ttyACM0, a tty name, a pseudo-terminal).",
                                 valueName: "file-or-port"))
    var target: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @OptionGroup var link: LinkArguments

    func validate() throws {
        if target != nil && (link.port != nil || link.board != nil) {
            throw ValidationError("give a FILE or PORT argument, or --port/--board, not both")
        }
    }

    /// Whether `target` names a description file rather than a port.
    static func isFile(_ path: String) -> Bool {
        var status = stat()
        if stat(path, &status) == 0 { return (status.st_mode & S_IFMT) == S_IFREG }
        return path.hasSuffix(".yaml") || path.hasSuffix(".yml")
    }

    func run() throws {
        if let target, Self.isFile(target) {
            let robot = try loadRobotDescription(target)
            let declaration = Declaration(description: robot, file: target)
            if json { printJSON(declaration.json) } else { print(declaration.text) }
            return
        }
        let stop = StopSignals()
        let selector = try target.map { try BoardSelector(parsing: $0) } ?? link.selector()
        let session = LinkSession(options: link.sessionOptions(selector: selector, stopRequest: stop.request))
        var info: BoardInfo
        do { info = try session.connect() } catch {
            try stop.exitIfStopped()
            // What the board declares is in once DEVICE_INFO (and its names) arrived, even when
            // the link options do not fit it (a sensor mask beyond its sensors, a period shorter
            // than it keeps): showing it needs no configured link.
            guard case .configInvalid = error, let board = session.board else { throw error }
            info = board
        }
        let path = session.devicePath ?? selector.description
        session.stop()
        let declaration = Declaration(board: info, path: path)
        if json { printJSON(declaration.json) } else { print(declaration.text) }
        try stop.exitIfStopped()
    }
}
