import Foundation

/// The protocol's and the board's bounds a description must keep (Docs/PROTOCOL.md, Docs/ROBOTS.md).
/// The same numbers as `Firmware/tools/robotgen.py`; the shared corpus of refused descriptions
/// (`Firmware/robots/tests`) proves both checkers apply them alike.
public enum DescriptionLimits {
    /// Channels of one direction DEVICE_INFO carries.
    public static let channelsMax = 16
    /// The largest DEVICE_INFO body: 22 + board name + 8 × channels must fit.
    public static let deviceInfoBodyMax = 121
    /// The longest board name DEVICE_INFO carries, characters.
    public static let boardNameMax = 16
    /// The longest sampling period a board keeps, ms.
    public static let periodMaxMilliseconds = 1000
    /// The failsafe timeout's bounds, ms.
    public static let failsafeMilliseconds = 10...250
    /// One byte on the wire at 115200 baud 8N1, µs.
    public static let byteMicros = 10 * 1e6 / 115_200
    /// The share of the line a full SENSORS stream may use.
    public static let lineShare = 0.6
    /// An ultrasonic echo's time per millimetre of distance (sound at 343 m/s, there and back), µs.
    public static let ultrasonicMicrosPerMillimetre = 2000.0 / 343.0
    /// The quiet time after each ping before the next ranger fires, ms.
    public static let rangerGapMilliseconds = 1
}

extension RobotDescription {
    /// The shortest sampling period these channels can keep, ms: a full SENSORS frame within
    /// `DescriptionLimits.lineShare` of a 115200-baud line, and one ping of each ultrasonic
    /// ranger (its timeout plus `DescriptionLimits.rangerGapMilliseconds`).
    public var channelPeriodMinMilliseconds: Int {
        let count = sensorChannels.count
        let frame = Double(3 + 6 + 2 * max(count, 1) + 2 + 2)
        let stream = Int((frame * DescriptionLimits.byteMicros / DescriptionLimits.lineShare / 1000 - 1e-9).rounded(.up))
        let pings = sensors.reduce(0) { total, sensor in
            guard case let .ultrasonic(_, _, _, timeout) = sensor.kind else { return total }
            return total + Int((Double(timeout) / 1000).rounded(.up)) + DescriptionLimits.rangerGapMilliseconds
        }
        return max(stream, pings, 1)
    }

    /// The shortest sampling period the board reports in DEVICE_INFO, ms: `limits`' own or
    /// what the channels need.
    public var periodMinMilliseconds: Int { limits.periodMinMilliseconds ?? channelPeriodMinMilliseconds }
}

/// Checks a description's YAML with every rule of `robotgen.py check`, collecting every problem
/// with its line, and builds the `RobotDescription` when there is none.
struct DescriptionChecker {
    typealias Problem = RobotDescriptionError.Problem
    private(set) var problems: [Problem] = []

    static let sensorKinds = ["analog", "digital", "encoder", "ultrasonic", "reflectance"]
    static let actuatorKinds = ["motor", "servo", "output"]

    mutating func error(_ line: Int, _ message: String) { problems.append(Problem(line: line, message: message)) }

    // MARK: values

    /// The mapping's entries, reporting unknown keys and missing required ones.
    mutating func mapping(_ node: LinedYAML, _ what: String, required: [String], optional: [String]) -> LinedYAML? {
        guard let entries = node.entries else {
            error(node.line, "\(what) must be a mapping of keys to values")
            return nil
        }
        let allowed = required + optional
        for entry in entries where !allowed.contains(entry.key) {
            error(entry.keyLine, "unknown key '\(entry.key)' in \(what): the keys are \(allowed.joined(separator: ", "))")
        }
        for key in required where node[key] == nil {
            error(node.line, "\(what) needs '\(key)'")
        }
        return node
    }

    mutating func integer(_ m: LinedYAML, _ key: String, _ what: String, _ range: ClosedRange<Int>, _ unit: String,
                          default value: Int?) -> Int? {
        guard let n = m[key] else { return value }
        guard case let .integer(v) = n.content else {
            error(n.line, "\(what) '\(key)' must be a whole number of \(unit), got \(n.quoted)")
            return value
        }
        guard range.contains(v) else {
            error(n.line, "\(what) '\(key)' is \(v) \(unit): use \(range.lowerBound)..\(range.upperBound)")
            return value
        }
        return v
    }

    mutating func number(_ m: LinedYAML, _ key: String, _ what: String, _ range: ClosedRange<Double>, _ unit: String) -> Double? {
        guard let n = m[key] else { return nil }
        let v: Double
        switch n.content {
        case let .integer(i): v = Double(i)
        case let .number(x): v = x
        default:
            error(n.line, "\(what) '\(key)' must be a number of \(unit), got \(n.quoted)")
            return nil
        }
        guard range.contains(v) else {
            error(n.line, "\(what) '\(key)' is \(n.quoted) \(unit): use \(Int(range.lowerBound))..\(Int(range.upperBound))")
            return nil
        }
        return v
    }

    mutating func choice(_ m: LinedYAML, _ key: String, _ what: String, _ choices: [String], default value: String?) -> String? {
        guard let n = m[key] else { return value }
        guard let s = n.string, choices.contains(s) else {
            error(n.line, "\(what) '\(key)' is \(n.quoted): use one of \(choices.joined(separator: ", "))")
            return value
        }
        return s
    }

    mutating func boolean(_ m: LinedYAML, _ key: String, _ what: String, default value: Bool) -> Bool {
        guard let n = m[key] else { return value }
        guard case let .boolean(b) = n.content else {
            error(n.line, "\(what) '\(key)' must be true or false, got \(n.quoted)")
            return value
        }
        return b
    }

    // MARK: the description

    private enum PinUse { case any, adc, pwm, interrupt }
    private enum TimerRole { case motor, servo
        var text: String { self == .motor ? "motor PWM at 976 Hz" : "servo pulses at 50 Hz" }
    }

    /// Whether `s` is 1…`longest` of lower-case letters, digits and `extra`, starting with a letter.
    private static func isWord(_ s: String, longest: Int, extra: Unicode.Scalar) -> Bool {
        let scalars = Array(s.unicodeScalars)
        guard let first = scalars.first, ("a"..."z").contains(first), scalars.count <= longest else { return false }
        return scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == extra }
    }

    /// The unit a kind of channel reads in, as the file writes it.
    static func fileUnit(of kind: String) -> String {
        switch kind {
        case "analog", "reflectance": "mV"
        case "encoder": "tick"
        case "ultrasonic": "mm"
        case "motor": "per_mille"
        case "servo": "degree"
        default: "none"
        }
    }

    /// Checks `root`; the description when it has no problem.
    mutating func check(_ root: LinedYAML) -> RobotDescription? {
        guard let top = mapping(root, "the description", required: ["robot", "board", "board_name", "sensors", "actuators"],
                                optional: ["about", "limits", "geometry"]) else { return nil }

        let robotNode = top["robot"]
        let robot = robotNode?.string ?? "robot"
        if let robotNode, robotNode.string.map({ !Self.isWord($0, longest: 32, extra: "-") }) ?? true {
            error(robotNode.line, "robot \(robotNode.quoted): use 1..32 lower-case letters, digits and '-', starting with a letter")
        }
        let boardName = choice(top, "board", "the description", BoardFacts.all.map(\.board), default: nil)
        let board = boardName.flatMap(RobotDescription.Board.init(rawValue:))
        let facts = board?.facts
        var shownName = "board"
        if let bn = top["board_name"] {
            if let v = bn.string, (1...DescriptionLimits.boardNameMax).contains(v.unicodeScalars.count),
               v.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) {
                shownName = v
            } else {
                error(bn.line, "board_name \(bn.quoted): use 1..16 printable ASCII characters without spaces (DEVICE_INFO carries it)")
            }
        }

        var used: [String: (line: Int, what: String)] = [:]
        var timerRoles: [Int: (role: TimerRole, line: Int)] = [:]

        func pin(_ n: LinedYAML?, _ key: String, _ what: String, _ need: PinUse = .any) -> String? {
            guard let n, let facts else { return nil }
            guard let v = n.string, let p = facts.pin(v) else {
                error(n.line, "\(what) '\(key)' is \(n.quoted): the \(facts.board) has pins \(facts.pinNames)")
                return nil
            }
            if facts.reserved.contains(v) {
                error(n.line, "\(what) '\(key)' is \(v), the serial port the protocol runs on: use another pin")
                return nil
            }
            if need == .adc && p.adc == nil {
                let adcs = facts.pins.filter { $0.adc != nil }.map(\.name).joined(separator: ", ")
                error(n.line, "\(what) '\(key)' is \(v), which has no analog input: use one of \(adcs)")
                return nil
            }
            let freePWM = facts.pwm.filter { $0.timer != facts.tickTimer }.map(\.pin).joined(separator: ", ")
            if need == .pwm {
                guard let out = facts.pwm(on: v) else {
                    error(n.line, "\(what) '\(key)' is \(v), which has no PWM output: use one of \(freePWM)")
                    return nil
                }
                if out.timer == facts.tickTimer {
                    error(n.line, "\(what) '\(key)' is \(v), whose timer (Timer\(out.timer)) is the firmware's millisecond tick: use one of \(freePWM)")
                    return nil
                }
            }
            if need == .interrupt && facts.interrupt(on: v) == nil {
                error(n.line, "\(what) '\(key)' is \(v), which has no external interrupt: use one of \(facts.interrupts.map(\.pin).joined(separator: ", "))")
                return nil
            }
            if let first = used[v] {
                error(n.line, "\(what) '\(key)' is \(v), already used by \(first.what) on line \(first.line): give each function its own pin")
                return nil
            }
            used[v] = (n.line, what)
            return v
        }

        func timer(_ v: String, _ role: TimerRole, _ line: Int, _ what: String) {
            guard let facts, let t = facts.pwm(on: v)?.timer else { return }
            if role == .servo && !facts.timers16Bit.contains(t) {
                let pins = facts.pwm.filter { facts.timers16Bit.contains($0.timer) }.map(\.pin).joined(separator: ", ")
                error(line, "\(what) is on Timer\(t), which cannot make 50 Hz servo pulses: use a pin of a 16-bit timer (\(pins))")
                return
            }
            if let other = timerRoles[t], other.role != role {
                error(line, "\(what) needs Timer\(t) for \(role.text), but line \(other.line) uses it for \(other.role.text): put them on pins of different timers")
                return
            }
            if timerRoles[t] == nil { timerRoles[t] = (role, line) }
        }

        // sensors and actuators --------------------------------------------------------------
        var names: [String: Int] = [:]
        var mounts: [(node: LinedYAML, label: String)] = []
        var directions: [(node: LinedYAML, sensor: Int)] = []

        func channelName(_ m: LinedYAML, _ what: String) -> String? {
            guard let n = m["name"] else { return nil }
            guard let v = n.string, Self.isWord(v, longest: 24, extra: "_") else {
                error(n.line, "\(what) name \(n.quoted): use 1..24 lower-case letters, digits and '_', starting with a letter")
                return nil
            }
            if let first = names[v] {
                error(n.line, "channel name '\(v)' is already used on line \(first): names are unique")
                return nil
            }
            names[v] = n.line
            return v
        }

        func unitCheck(_ m: LinedYAML, _ kind: String, _ what: String) {
            let want = Self.fileUnit(of: kind)
            if let n = m["unit"], n.string != want {
                error(n.line, "\(what) unit is \(n.quoted), but a \(kind) channel reads in \(want): write 'unit: \(want)' or leave it out")
            }
        }

        func placement(_ m: LinedYAML, _ what: String) -> RobotDescription.Placement? {
            guard let g = m["geometry"] else { return nil }
            let w = "\(what) geometry"
            guard let gm = mapping(g, w, required: [], optional: ["x_mm", "y_mm", "z_mm", "heading_deg", "fov_deg", "mount",
                                                                   "model", "spacing_mm", "ticks_per_rev"]) else { return nil }
            var p = RobotDescription.Placement()
            p.xMillimetres = number(gm, "x_mm", w, -2000...2000, "mm") ?? 0
            p.yMillimetres = number(gm, "y_mm", w, -2000...2000, "mm") ?? 0
            p.zMillimetres = number(gm, "z_mm", w, -2000...2000, "mm") ?? 0
            p.headingDegrees = number(gm, "heading_deg", w, -180...180, "degrees") ?? 0
            p.fieldOfViewDegrees = number(gm, "fov_deg", w, 0...360, "degrees")
            p.spacingMillimetres = number(gm, "spacing_mm", w, 1...100, "mm")
            p.ticksPerRevolution = number(gm, "ticks_per_rev", w, 1...10000, "ticks")
            if gm["model"] != nil {
                p.model = choice(gm, "model", w, RobotDescription.AnalogModel.allCases.map(\.rawValue), default: nil)
                    .flatMap(RobotDescription.AnalogModel.init(rawValue:))
            }
            if let mount = gm["mount"] {
                p.mount = mount.string
                mounts.append((mount, what))
            }
            return p
        }

        var sensors: [RobotDescription.Sensor] = []
        var sensorChannelCount = 0
        let sensorsNode = top["sensors"]
        if let sensorsNode, sensorsNode.elements == nil {
            error(sensorsNode.line, "'sensors' must be a list of channels (lines starting '- ')")
        } else if let items = sensorsNode?.elements {
            for item in items {
                let kindNode = item.entries != nil ? item["kind"] : nil
                let what = "sensor on line \(item.line)"
                guard let kind = kindNode?.string, Self.sensorKinds.contains(kind) else {
                    if item.entries != nil, kindNode == nil {
                        error(item.line, "\(what) needs 'kind': one of \(Self.sensorKinds.joined(separator: ", "))")
                    } else if let kindNode {
                        error(kindNode.line, "\(what) kind \(kindNode.quoted): use one of \(Self.sensorKinds.joined(separator: ", ")) (actuators go under 'actuators')")
                    } else {
                        error(item.line, "each sensor must be a mapping with 'name' and 'kind'")
                    }
                    continue
                }
                let extra: ([String], [String]) = switch kind {
                case "analog": (["pin"], ["min", "max"])
                case "digital": (["pin"], ["pull_up", "active"])
                case "encoder": (["mode", "pin_a"], ["pin_b", "direction_from"])
                case "ultrasonic": (["trigger", "echo"], ["max_mm", "timeout_us"])
                default: (["pins"], [])
                }
                guard let m = mapping(item, "\(what) (\(kind))", required: ["name", "kind"] + extra.0,
                                      optional: ["unit", "geometry"] + extra.1) else { continue }
                let name = channelName(m, "sensor")
                let label = name.map { "sensor '\($0)'" } ?? what
                unitCheck(m, kind, label)
                let place = placement(m, label)
                var sensorKind: RobotDescription.Sensor.Kind?
                switch kind {
                case "analog":
                    let p = pin(m["pin"], "pin", label, .adc)
                    let lo = integer(m, "min", label, 0...5000, "mV", default: 0) ?? 0
                    let hi = integer(m, "max", label, 0...5000, "mV", default: 5000) ?? 5000
                    if lo >= hi {
                        error(m["max"]?.line ?? item.line, "\(label): 'min' (\(lo) mV) must be below 'max' (\(hi) mV)")
                    }
                    sensorKind = .analog(pin: p ?? "", minimum: Int16(lo), maximum: Int16(hi))
                    sensorChannelCount += 1
                case "reflectance":
                    let pn = m["pins"]
                    if let pn, !(pn.elements.map { (1...16).contains($0.count) } ?? false) {
                        error(pn.line, "\(label) 'pins' must be a list of 1..16 analog pins, e.g. [A0, A1, A2]")
                    } else if let elements = pn?.elements {
                        var pins: [String] = []
                        for (k, p) in elements.enumerated() {
                            let sub = name.map { "\($0)_\(k)" }
                            pins.append(pin(p, "pin", "\(label) pins[\(k)]", .adc) ?? "")
                            if let sub {
                                if let first = names[sub] {
                                    error(p.line, "channel name '\(sub)' (from \(label)) is already used on line \(first)")
                                }
                                names[sub] = p.line
                            }
                            sensorChannelCount += 1
                        }
                        sensorKind = .reflectance(pins: pins)
                    }
                case "digital":
                    let p = pin(m["pin"], "pin", label)
                    let pullUp = boolean(m, "pull_up", label, default: false)
                    let activeLow = choice(m, "active", label, ["high", "low"], default: "high") == "low"
                    sensorKind = .digital(pin: p ?? "", pullUp: pullUp, activeLow: activeLow)
                    sensorChannelCount += 1
                case "encoder":
                    let mode = choice(m, "mode", label, ["single", "quadrature"], default: nil)
                    let a = pin(m["pin_a"], "pin_a", label, .interrupt)
                    if mode == "quadrature" {
                        var b: String?
                        if m["pin_b"] == nil {
                            error(item.line, "\(label) is quadrature: it needs 'pin_b' (the second channel, any free pin)")
                        } else {
                            b = pin(m["pin_b"], "pin_b", label)
                        }
                        if let d = m["direction_from"] {
                            error(d.line, "\(label) is quadrature: it reads its direction from pin_b, remove 'direction_from'")
                        }
                        sensorKind = .quadratureEncoder(pinA: a ?? "", pinB: b ?? "")
                    } else if mode == "single" {
                        if let b = m["pin_b"] {
                            error(b.line, "\(label) is single-channel: remove 'pin_b', or write 'mode: quadrature'")
                        }
                        if let d = m["direction_from"] {
                            directions.append((d, sensors.count))
                            sensorKind = .singleEncoder(pinA: a ?? "", directionFrom: d.string ?? "")
                        } else {
                            error(item.line, "\(label) is single-channel: it needs 'direction_from', the motor whose command sign gives the direction")
                        }
                    }
                    sensorChannelCount += 1
                default: // ultrasonic
                    let trigger = pin(m["trigger"], "trigger", label)
                    let echo = pin(m["echo"], "echo", label, .interrupt)
                    let maxMM = integer(m, "max_mm", label, 20...4000, "mm", default: 4000)
                    let timeout = integer(m, "timeout_us", label, 1000...30000, "µs", default: 25000)
                    if let maxMM, let timeout {
                        let need = Int((Double(maxMM) * DescriptionLimits.ultrasonicMicrosPerMillimetre).rounded(.up))
                        if timeout < need {
                            error(m["timeout_us"]?.line ?? item.line, "\(label): an echo from max_mm \(maxMM) mm takes \(need) µs, longer than timeout_us \(timeout): raise timeout_us to at least \(need) or lower max_mm")
                        }
                    }
                    sensorKind = .ultrasonic(trigger: trigger ?? "", echo: echo ?? "", maximumMillimetres: Int16(maxMM ?? 4000),
                                             timeoutMicros: timeout ?? 25000)
                    sensorChannelCount += 1
                }
                if let sensorKind {
                    sensors.append(.init(name: name ?? "", kind: sensorKind, placement: place, line: item.line))
                }
            }
        }

        var actuators: [RobotDescription.Actuator] = []
        var motors: [String] = []
        let actuatorsNode = top["actuators"]
        if let actuatorsNode, actuatorsNode.elements == nil {
            error(actuatorsNode.line, "'actuators' must be a list of channels (lines starting '- ')")
        } else if let items = actuatorsNode?.elements {
            for item in items {
                let kindNode = item.entries != nil ? item["kind"] : nil
                let what = "actuator on line \(item.line)"
                guard let kind = kindNode?.string, Self.actuatorKinds.contains(kind) else {
                    if item.entries != nil, kindNode == nil {
                        error(item.line, "\(what) needs 'kind': one of \(Self.actuatorKinds.joined(separator: ", "))")
                    } else if let kindNode {
                        error(kindNode.line, "\(what) kind \(kindNode.quoted): use one of \(Self.actuatorKinds.joined(separator: ", ")) (sensors go under 'sensors')")
                    } else {
                        error(item.line, "each actuator must be a mapping with 'name' and 'kind'")
                    }
                    continue
                }
                let extra: ([String], [String]) = switch kind {
                case "motor": (["pwm", "in1", "in2"], ["driver", "safe"])
                case "servo": (["pin"], ["min", "max", "safe", "pulse_min_us", "pulse_max_us"])
                default: (["pin"], ["active", "safe"])
                }
                guard let m = mapping(item, "\(what) (\(kind))", required: ["name", "kind"] + extra.0,
                                      optional: ["unit", "geometry"] + extra.1) else { continue }
                let name = channelName(m, "actuator")
                let label = name.map { "actuator '\($0)'" } ?? what
                unitCheck(m, kind, label)
                let place = placement(m, label)
                let actuatorKind: RobotDescription.Actuator.Kind
                let safe: Int
                switch kind {
                case "motor":
                    let driver = choice(m, "driver", label, ["tb6612", "l298n"], default: "tb6612") ?? "tb6612"
                    let pwm = pin(m["pwm"], "pwm", label, .pwm)
                    if let pwm, let line = m["pwm"]?.line { timer(pwm, .motor, line, "\(label) pwm \(pwm)") }
                    let in1 = pin(m["in1"], "in1", label), in2 = pin(m["in2"], "in2", label)
                    safe = integer(m, "safe", label, -1000...1000, "‰", default: 0) ?? 0
                    if let name { motors.append(name) }
                    actuatorKind = .motor(pwm: pwm ?? "", in1: in1 ?? "", in2: in2 ?? "", driver: driver)
                case "servo":
                    let p = pin(m["pin"], "pin", label, .pwm)
                    if let p, let line = m["pin"]?.line { timer(p, .servo, line, "\(label) pin \(p)") }
                    let lo = integer(m, "min", label, 0...180, "degrees", default: 0) ?? 0
                    let hi = integer(m, "max", label, 0...180, "degrees", default: 180) ?? 180
                    let pulseMin = integer(m, "pulse_min_us", label, 500...2500, "µs", default: 1000) ?? 1000
                    let pulseMax = integer(m, "pulse_max_us", label, 500...2500, "µs", default: 2000) ?? 2000
                    if lo >= hi { error(item.line, "\(label): 'min' (\(lo)°) must be below 'max' (\(hi)°)") }
                    if pulseMin >= pulseMax { error(item.line, "\(label): 'pulse_min_us' must be below 'pulse_max_us'") }
                    safe = integer(m, "safe", label, lo...max(lo, hi), "degrees", default: (lo + hi) / 2) ?? (lo + hi) / 2
                    actuatorKind = .servo(pin: p ?? "", minimum: Int16(lo), maximum: Int16(hi), pulseMinMicros: pulseMin,
                                          pulseMaxMicros: pulseMax)
                default: // output
                    let p = pin(m["pin"], "pin", label)
                    let activeLow = choice(m, "active", label, ["high", "low"], default: "high") == "low"
                    safe = integer(m, "safe", label, 0...1, "(0 off, 1 on)", default: 0) ?? 0
                    actuatorKind = .output(pin: p ?? "", activeLow: activeLow)
                }
                actuators.append(.init(name: name ?? "", kind: actuatorKind, safe: Int16(safe), placement: place, line: item.line))
            }
        }

        // cross references -------------------------------------------------------------------
        for (node, _) in directions where !(node.string.map(motors.contains) ?? false) {
            error(node.line, "direction_from \(node.quoted) is not a motor of this robot: name one of \(motors.isEmpty ? "(no motors)" : motors.joined(separator: ", "))")
        }
        let servos = actuators.filter { if case .servo = $0.kind { true } else { false } }.map(\.name)
        for (node, label) in mounts where !(node.string.map(servos.contains) ?? false) {
            error(node.line, "\(label) geometry mount \(node.quoted) is not a servo of this robot: name one of \(servos.isEmpty ? "(no servos)" : servos.joined(separator: ", ")), or leave 'mount' out")
        }

        // counts and limits ------------------------------------------------------------------
        let ns = sensorChannelCount, na = actuators.count
        let maxCount = DescriptionLimits.channelsMax
        if let sensorsNode, sensorsNode.elements != nil {
            if ns == 0 && problems.isEmpty { error(sensorsNode.line, "no sensors: the protocol needs at least one") }
            if ns > maxCount {
                error(sensorsNode.line, "\(ns) sensor channels: the protocol carries at most \(maxCount); remove \(ns - maxCount)")
            }
        }
        if let actuatorsNode, actuatorsNode.elements != nil {
            if na == 0 && problems.isEmpty { error(actuatorsNode.line, "no actuators: the protocol needs at least one") }
            if na > maxCount {
                error(actuatorsNode.line, "\(na) actuator channels: the protocol carries at most \(maxCount); remove \(na - maxCount)")
            }
        }
        let nameLength = shownName.unicodeScalars.count
        let body = 22 + nameLength + 8 * (ns + na)
        if ns <= maxCount && na <= maxCount && body > DescriptionLimits.deviceInfoBodyMax {
            let remove = (body - DescriptionLimits.deviceInfoBodyMax + 7) / 8
            error(sensorsNode?.line ?? 1, "DEVICE_INFO would be \(body) bytes (22 + \(nameLength) board name + 8 x \(ns + na) channels), more than the \(DescriptionLimits.deviceInfoBodyMax) the protocol carries: remove \(remove) channels or shorten board_name")
        }

        let frame = 3 + 6 + 2 * max(ns, 1) + 2 + 2
        let frameMillis = Double(frame) * DescriptionLimits.byteMicros / 1000
        let streamMillis = Int((frameMillis / DescriptionLimits.lineShare - 1e-9).rounded(.up))
        var rangers: [String] = []
        var pingMillis = 0
        for sensor in sensors {
            if case let .ultrasonic(_, _, _, timeout) = sensor.kind {
                rangers.append("'\(sensor.name)'")
                pingMillis += Int((Double(timeout) / 1000).rounded(.up)) + DescriptionLimits.rangerGapMilliseconds
            }
        }
        let needed = max(streamMillis, pingMillis, 1)
        var limits = RobotDescription.Limits()
        if let limitsNode = top["limits"],
           let lm = mapping(limitsNode, "limits", required: [], optional: ["period_min_ms", "failsafe_min_ms", "failsafe_max_ms"]) {
            let p = integer(lm, "period_min_ms", "limits", 1...DescriptionLimits.periodMaxMilliseconds, "ms", default: nil)
            if let p, p < needed, let line = lm["period_min_ms"]?.line {
                var why: [String] = []
                if streamMillis == needed {
                    why.append(String(format: "a SENSORS frame of %d sensors (%d bytes) takes %.2f ms at 115200 baud, at most %d %% of the line",
                                      ns, frame, frameMillis, Int(DescriptionLimits.lineShare * 100)))
                }
                if pingMillis == needed {
                    why.append("\(rangers.joined(separator: " and ")) takes up to \(pingMillis) ms per ping (timeout_us plus \(DescriptionLimits.rangerGapMilliseconds) ms)")
                }
                error(line, "limits period_min_ms \(p) ms is shorter than the channels can keep: \(why.joined(separator: "; ")); use period_min_ms: \(needed) or more")
            } else if let p {
                limits.periodMinMilliseconds = p
            }
            let bounds = DescriptionLimits.failsafeMilliseconds
            let fmin = integer(lm, "failsafe_min_ms", "limits", bounds, "ms", default: bounds.lowerBound)
            let fmax = integer(lm, "failsafe_max_ms", "limits", bounds, "ms", default: bounds.upperBound)
            if let fmin, let fmax {
                if fmin > fmax {
                    error(lm["failsafe_max_ms"]?.line ?? limitsNode.line, "limits failsafe_min_ms \(fmin) is above failsafe_max_ms \(fmax): swap them")
                }
                limits.failsafeMinMilliseconds = fmin
                limits.failsafeMaxMilliseconds = fmax
            }
        }

        var body_: RobotDescription.BodyGeometry?
        if let g = top["geometry"],
           let gm = mapping(g, "geometry", required: [], optional: ["wheel_base_mm", "wheel_radius_mm", "body_length_mm", "body_width_mm"]) {
            var values: [String: Double] = [:]
            for entry in gm.entries ?? [] { values[entry.key] = number(gm, entry.key, "geometry", 1...2000, "mm") }
            body_ = .init(wheelBaseMillimetres: values["wheel_base_mm"] ?? 0, wheelRadiusMillimetres: values["wheel_radius_mm"] ?? 0,
                          bodyLengthMillimetres: values["body_length_mm"] ?? 0, bodyWidthMillimetres: values["body_width_mm"] ?? 0)
        }

        guard problems.isEmpty, let board else { return nil }
        return RobotDescription(robot: robot, board: board, boardName: shownName, about: top["about"]?.string, limits: limits,
                                sensors: sensors, actuators: actuators, geometry: body_)
    }
}
