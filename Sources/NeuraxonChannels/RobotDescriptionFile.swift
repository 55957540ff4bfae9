import Foundation
import Yams

/// Why a robot description was refused: every problem found, each with its line
/// (`FILE:LINE: message`, as `robotgen.py check` prints them).
public struct RobotDescriptionError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Problem: Sendable, Equatable {
        /// The line of the file (1-based), or 0 when the problem is the whole file.
        public var line: Int
        public var message: String

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }
    }

    /// The file as named by the user.
    public var file: String
    public var problems: [Problem]

    public init(file: String, problems: [Problem]) {
        self.file = file
        self.problems = problems
    }

    public var description: String {
        problems.map { $0.line > 0 ? "\(file):\($0.line): \($0.message)" : "\(file): \($0.message)" }
            .joined(separator: "\n")
    }
}

extension RobotDescription {
    /// Reads the description at `path`.
    public static func load(path: String) throws(RobotDescriptionError) -> RobotDescription {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw RobotDescriptionError(file: path, problems: [.init(line: 0, message: "cannot read the file: check the path and that it is UTF-8 text")])
        }
        return try RobotDescription(yaml: text, file: path)
    }

    /// Parses a description from YAML text; `file` names it in errors.
    public init(yaml: String, file: String) throws(RobotDescriptionError) {
        var reader = DescriptionReader(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw RobotDescriptionError(file: file, problems: [.init(line: 0, message: "not valid YAML: check indentation and quoting")])
        }
        guard let root, let description = reader.description(root), reader.problems.isEmpty else {
            throw RobotDescriptionError(file: file, problems: reader.problems.isEmpty
                ? [.init(line: 0, message: "the file is empty: see Docs/ROBOTS.md for what a description holds")] : reader.problems)
        }
        self = description
    }
}

/// Reads a description's YAML nodes, collecting every problem with its line.
private struct DescriptionReader {
    let file: String
    var problems: [RobotDescriptionError.Problem] = []

    init(file: String) { self.file = file }

    mutating func fail(_ node: Node?, _ message: String) {
        problems.append(.init(line: node?.mark?.line ?? 0, message: message))
    }

    func fields(_ node: Node) -> [String: Node]? {
        guard let mapping = node.mapping else { return nil }
        var result: [String: Node] = [:]
        for (key, value) in mapping { if let k = key.string { result[k] = value } }
        return result
    }

    mutating func string(_ m: [String: Node], _ key: String, _ what: String, required: Bool = true) -> String? {
        guard let node = m[key] else {
            if required { problems.append(.init(line: 0, message: "\(what) needs '\(key)'")) }
            return nil
        }
        guard let s = node.string else { fail(node, "\(what) '\(key)' must be a single value"); return nil }
        return s
    }

    mutating func integer(_ m: [String: Node], _ key: String, _ what: String, default value: Int) -> Int {
        guard let node = m[key] else { return value }
        guard let s = node.string, let n = Int(s) else { fail(node, "\(what) '\(key)' must be a whole number"); return value }
        return n
    }

    mutating func number(_ m: [String: Node], _ key: String) -> Double? {
        guard let node = m[key] else { return nil }
        guard let s = node.string, let n = Double(s) else { fail(node, "'\(key)' must be a number"); return nil }
        return n
    }

    mutating func placement(_ m: [String: Node]) -> RobotDescription.Placement? {
        guard let node = m["geometry"] else { return nil }
        guard let g = fields(node) else { fail(node, "'geometry' must be a mapping"); return nil }
        var model: RobotDescription.AnalogModel?
        if let s = g["model"]?.string {
            model = RobotDescription.AnalogModel(rawValue: s)
            if model == nil { fail(g["model"], "geometry 'model' is '\(s)': use one of ir_range, light") }
        }
        return RobotDescription.Placement(
            xMillimetres: number(g, "x_mm") ?? 0, yMillimetres: number(g, "y_mm") ?? 0, zMillimetres: number(g, "z_mm") ?? 0,
            headingDegrees: number(g, "heading_deg") ?? 0, fieldOfViewDegrees: number(g, "fov_deg"),
            mount: g["mount"]?.string, model: model, spacingMillimetres: number(g, "spacing_mm"),
            ticksPerRevolution: number(g, "ticks_per_rev"))
    }

    mutating func description(_ root: Node) -> RobotDescription? {
        guard let top = fields(root) else { fail(root, "a description is a mapping of keys to values"); return nil }
        let robot = string(top, "robot", "the description") ?? ""
        let boardText = string(top, "board", "the description") ?? ""
        let board = RobotDescription.Board(rawValue: boardText)
        if board == nil, !boardText.isEmpty { fail(top["board"], "board '\(boardText)': use one of atmega328p, atmega2560") }
        let boardName = string(top, "board_name", "the description") ?? ""
        var limits = RobotDescription.Limits()
        if let node = top["limits"], let l = fields(node) {
            if l["period_min_ms"] != nil { limits.periodMinMilliseconds = integer(l, "period_min_ms", "limits", default: 0) }
            limits.failsafeMinMilliseconds = integer(l, "failsafe_min_ms", "limits", default: 10)
            limits.failsafeMaxMilliseconds = integer(l, "failsafe_max_ms", "limits", default: 250)
        }
        var body: RobotDescription.BodyGeometry?
        if let node = top["geometry"], let g = fields(node) {
            body = .init(wheelBaseMillimetres: number(g, "wheel_base_mm") ?? 0, wheelRadiusMillimetres: number(g, "wheel_radius_mm") ?? 0,
                         bodyLengthMillimetres: number(g, "body_length_mm") ?? 0, bodyWidthMillimetres: number(g, "body_width_mm") ?? 0)
        }
        var sensors: [RobotDescription.Sensor] = []
        for item in top["sensors"]?.sequence ?? [] {
            guard let m = fields(item) else { fail(item, "each sensor must be a mapping with 'name' and 'kind'"); continue }
            let what = "sensor on line \(item.mark?.line ?? 0)"
            let name = string(m, "name", what) ?? ""
            let kind: RobotDescription.Sensor.Kind
            switch m["kind"]?.string {
            case "analog":
                kind = .analog(pin: string(m, "pin", what) ?? "", minimum: Int16(clamping: integer(m, "min", what, default: 0)),
                               maximum: Int16(clamping: integer(m, "max", what, default: 5000)))
            case "digital":
                kind = .digital(pin: string(m, "pin", what) ?? "", pullUp: m["pull_up"]?.bool ?? false,
                                activeLow: m["active"]?.string == "low")
            case "encoder":
                if m["mode"]?.string == "quadrature" {
                    kind = .quadratureEncoder(pinA: string(m, "pin_a", what) ?? "", pinB: string(m, "pin_b", what) ?? "")
                } else {
                    kind = .singleEncoder(pinA: string(m, "pin_a", what) ?? "", directionFrom: string(m, "direction_from", what) ?? "")
                }
            case "ultrasonic":
                kind = .ultrasonic(trigger: string(m, "trigger", what) ?? "", echo: string(m, "echo", what) ?? "",
                                   maximumMillimetres: Int16(clamping: integer(m, "max_mm", what, default: 4000)),
                                   timeoutMicros: integer(m, "timeout_us", what, default: 25000))
            case "reflectance":
                kind = .reflectance(pins: (m["pins"]?.sequence ?? []).compactMap(\.string))
            default:
                fail(m["kind"] ?? item, "\(what) needs 'kind': one of analog, digital, encoder, ultrasonic, reflectance")
                continue
            }
            sensors.append(.init(name: name, kind: kind, placement: placement(m), line: item.mark?.line ?? 0))
        }
        var actuators: [RobotDescription.Actuator] = []
        for item in top["actuators"]?.sequence ?? [] {
            guard let m = fields(item) else { fail(item, "each actuator must be a mapping with 'name' and 'kind'"); continue }
            let what = "actuator on line \(item.mark?.line ?? 0)"
            let name = string(m, "name", what) ?? ""
            let kind: RobotDescription.Actuator.Kind
            var safe: Int
            switch m["kind"]?.string {
            case "motor":
                kind = .motor(pwm: string(m, "pwm", what) ?? "", in1: string(m, "in1", what) ?? "", in2: string(m, "in2", what) ?? "",
                              driver: string(m, "driver", what, required: false) ?? "tb6612")
                safe = integer(m, "safe", what, default: 0)
            case "servo":
                let lo = integer(m, "min", what, default: 0), hi = integer(m, "max", what, default: 180)
                kind = .servo(pin: string(m, "pin", what) ?? "", minimum: Int16(clamping: lo), maximum: Int16(clamping: hi),
                              pulseMinMicros: integer(m, "pulse_min_us", what, default: 1000),
                              pulseMaxMicros: integer(m, "pulse_max_us", what, default: 2000))
                safe = integer(m, "safe", what, default: (lo + hi) / 2)
            case "output":
                kind = .output(pin: string(m, "pin", what) ?? "", activeLow: m["active"]?.string == "low")
                safe = integer(m, "safe", what, default: 0)
            default:
                fail(m["kind"] ?? item, "\(what) needs 'kind': one of motor, servo, output")
                continue
            }
            actuators.append(.init(name: name, kind: kind, safe: Int16(clamping: safe), placement: placement(m), line: item.mark?.line ?? 0))
        }
        guard let board else { return nil }
        return RobotDescription(robot: robot, board: board, boardName: boardName, about: top["about"]?.string, limits: limits,
                                sensors: sensors, actuators: actuators, geometry: body)
    }
}

extension RobotDescription {
    /// The names of the shipped robots, sorted.
    public static var shippedNames: [String] { shippedText.keys.sorted() }

    /// The shipped robot called `name` (`Firmware/robots/<name>.yaml`), or `nil`.
    public static func shipped(_ name: String) -> RobotDescription? {
        guard let text = shippedText[name] else { return nil }
        return try? RobotDescription(yaml: text, file: "Firmware/robots/\(name).yaml")
    }

    /// The reference robot (`Firmware/robots/reference.yaml`): what the simulator and the
    /// examples use unless told otherwise.
    public static let reference: RobotDescription = {
        guard let robot = shipped("reference") else { preconditionFailure("the embedded reference robot does not load") }
        return robot
    }()

    /// A shipped robot's name or a description file's path, read.
    public static func named(_ nameOrPath: String) throws(RobotDescriptionError) -> RobotDescription {
        if let text = shippedText[nameOrPath] { return try RobotDescription(yaml: text, file: "Firmware/robots/\(nameOrPath).yaml") }
        return try load(path: nameOrPath)
    }
}
