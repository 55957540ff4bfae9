import Neuraxon
import NeuraxonChannels
import Yams

/// How a body's channels meet a network: encoders, decoders and reward rules, read from a
/// hand-editable YAML file (Docs/MAPPING.md) and validated against a device's channel list and
/// the network's input and output counts.
///
/// A `Mapping` is resolved: channel names are indices, every default is filled in, and every
/// number is checked. It is the single description the encoders, decoders, recorder and replay
/// are built from.
public struct Mapping: Sendable, Equatable {
    /// The YAML text the mapping was read from (recorded in each recording's header).
    public var source: String
    public var encoders: [EncoderSpec]
    public var decoders: [DecoderSpec]
    public var rewards: [RewardSpec]
    /// The most network steps one sensor frame may trigger; time beyond it is dropped and the
    /// tick is counted as an overrun.
    public var maxStepsPerTick: Int
    /// The device channel list the mapping was validated against.
    public var device: DeviceInfo
    /// The network's input neuron count the mapping was validated against.
    public var inputCount: Int
    /// The network's output neuron count the mapping was validated against.
    public var outputCount: Int

    /// The default bound on network steps per sensor frame.
    public static let defaultMaxStepsPerTick = 100
}

/// A mapping file that cannot be used, with the line (1-based) it concerns and what to change.
public struct MappingError: Error, Equatable, CustomStringConvertible {
    /// The line of the mapping file, or `nil` when the problem concerns the whole file.
    public var line: Int?
    public var message: String

    public init(line: Int?, _ message: String) {
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "mapping line \(line): \(message)" }
        return "mapping: \(message)"
    }
}

// MARK: - Specifications

/// Calibration from a raw reading (in the channel's unit) to a value in the user's unit.
public enum Calibration: Sendable, Equatable {
    /// value = raw.
    case identity
    /// value = raw·scale + offset.
    case linear(scale: Double, offset: Double)
    /// Piecewise-linear interpolation between (raw, value) points sorted by raw, strictly
    /// increasing; readings outside the table take the value of the nearest end point.
    case table(raw: [Double], value: [Double])

    /// The calibrated value of `raw`.
    /// - Complexity: O(log n) for a table of n points, O(1) otherwise.
    @inlinable public func apply(_ raw: Double) -> Double {
        switch self {
        case .identity:
            return raw
        case let .linear(scale, offset):
            return raw * scale + offset
        case let .table(xs, ys):
            let n = xs.count
            if raw <= xs[0] { return ys[0] }
            if raw >= xs[n - 1] { return ys[n - 1] }
            var lo = 0, hi = n - 1          // xs[lo] < raw < xs[hi]
            while hi - lo > 1 {
                let mid = (lo + hi) / 2
                if xs[mid] <= raw { lo = mid } else { hi = mid }
            }
            let f = (raw - xs[lo]) / (xs[hi] - xs[lo])
            return ys[lo] + f * (ys[hi] - ys[lo])
        }
    }
}

/// One sensor encoder: a channel's calibrated value → a trit on each of its input neurons.
///
/// Each neuron has a ternary comparator with a lower threshold `lo` and an upper threshold `hi`
/// (lo ≤ hi) and a hysteresis h ≥ 0, over the calibrated value v:
/// - in the upper region (v > hi on entry) it stays until v < hi − h, and emits `above`;
/// - in the lower region (v < lo on entry) it stays until v > lo + h, and emits `below`;
/// - otherwise it is in the dead band [lo, hi] and emits 0.
/// A comparator whose `below` is 0 (threshold, population, digital) has no lower region: it
/// is a two-state trigger that turns on above `hi` and off below `hi − h`.
/// `invert` negates the emitted trit. Noise smaller than h never changes the state, and with
/// lo < hi a value can reach −1 from +1 only by crossing the whole dead band.
public struct EncoderSpec: Sendable, Equatable {
    /// The kind of encoding, as written in the mapping file.
    public enum Mode: String, Sendable, Equatable, CaseIterable {
        /// One neuron: +1 above the threshold, 0 below.
        case threshold
        /// One neuron: +1 above set point + dead band/2, −1 below set point − dead band/2, 0 inside.
        case signed
        /// Several neurons with staggered thresholds (a thermometer code): neuron k is +1 above
        /// its threshold t_k, 0 below.
        case population
        /// One neuron: +1 when the reading is 1, 0 when it is 0.
        case digital
    }

    /// One comparator, per input neuron.
    public struct Comparator: Sendable, Equatable {
        public var lower: Double
        public var upper: Double
        public var above: Trit
        public var below: Trit
    }

    public var channel: String
    public var channelIndex: Int
    public var mode: Mode
    /// Input neuron indices (among the network's input neurons), one per comparator.
    public var neurons: [Int]
    public var comparators: [Comparator]
    public var calibration: Calibration
    /// The hysteresis h, in calibrated units.
    public var hysteresis: Double
    public var invert: Bool
    /// The mapping file line this encoder starts on.
    public var line: Int
}

/// Where a decoder takes its drive u ∈ [−1, 1] from.
public enum Drive: Sendable, Equatable {
    /// u = s, the output neuron's trit (−1/0/+1 → reverse/stop/forward).
    case neuron(Int)
    /// u = (s_push − s_pull)/2: a push–pull pair of output neurons.
    case pushPull(push: Int, pull: Int)
}

/// One actuator decoder: output trits → one setpoint.
///
/// Per sensor frame, with Δt the network time the frame advanced (ms):
/// 1. drive u ∈ [−1, 1] from `source`;
/// 2. leaky integrator y ← y + (u − y)·(1 − e^(−Δt/τ)) (y = u when τ = 0);
/// 3. `invert`: y ← −y; dead band: z = 0 when |y| < `deadBand`, else z = y;
/// 4. scaling: target = mid + z·half, mid = (lo + hi)/2, half = (hi − lo)/2 over `range`;
/// 5. slew limit: the setpoint moves towards target by at most `slewRate`·Δt/1000 (units/s);
/// 6. rounded to the nearest integer and clamped to the actuator's own range.
public struct DecoderSpec: Sendable, Equatable {
    /// The source of the drive.
    public enum Source: Sendable, Equatable {
        case drive(Drive)
        /// One wheel of a differential drive: left = forward − turn, right = forward + turn,
        /// clamped to [−1, 1].
        case differential(forward: Drive, turn: Drive?, rightWheel: Bool)
    }

    public var channel: String
    public var channelIndex: Int
    public var source: Source
    /// τ of the leaky integrator, in ms; 0 disables it.
    public var tau: Double
    /// Dead band on |y|, a fraction of full scale in [0, 1).
    public var deadBand: Double
    /// Slew-rate limit in actuator units per second; 0 disables it.
    public var slewRate: Double
    /// The setpoint range (lo, hi) that y = −1 and y = +1 map to, in actuator units.
    public var range: (lo: Double, hi: Double)
    public var invert: Bool
    public var line: Int

    public static func == (a: DecoderSpec, b: DecoderSpec) -> Bool {
        a.channel == b.channel && a.channelIndex == b.channelIndex && a.source == b.source
            && a.tau == b.tau && a.deadBand == b.deadBand && a.slewRate == b.slewRate
            && a.range == b.range && a.invert == b.invert && a.line == b.line
    }
}

/// A reward rule: a condition on a raw reading that sets or pulses neuromodulators.
public struct RewardSpec: Sendable, Equatable {
    public enum Comparison: String, Sendable, Equatable, CaseIterable {
        case greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<="

        @inlinable public func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .greater: a > b
            case .greaterOrEqual: a >= b
            case .less: a < b
            case .lessOrEqual: a <= b
            }
        }
    }

    public enum Action: String, Sendable, Equatable {
        /// Every frame while the condition holds, each level is set (overriding its decay).
        case set
        /// Once, when the condition starts to hold; the level then decays to its baseline.
        case pulse
    }

    public var channel: String
    public var channelIndex: Int
    public var comparison: Comparison
    /// The threshold in the channel's raw unit.
    public var threshold: Double
    public var action: Action
    /// The neuromodulator levels to apply, each in [0, 1].
    public var levels: [ModulatorLevel]
    public var line: Int
}

/// A neuromodulator and a level in [0, 1].
public struct ModulatorLevel: Sendable, Equatable {
    public var modulator: Neuromodulator
    public var level: Double
}

// MARK: - Reading the file

extension Mapping {
    /// Reads and validates a mapping.
    ///
    /// - Parameters:
    ///   - yaml: the file's text.
    ///   - device: the body's channel list; every channel name must be in it.
    ///   - inputCount: the network's input neuron count; every encoder neuron must be below it.
    ///   - outputCount: the network's output neuron count; every decoder neuron must be below it.
    /// - Throws: `MappingError` naming the line and the problem.
    public init(yaml: String, device: DeviceInfo, inputCount: Int, outputCount: Int) throws {
        try self.init(yaml: yaml, reader: MappingReader(device: device, inputCount: inputCount, outputCount: outputCount))
    }

    private init(yaml: String, reader: MappingReader) throws {
        // Checked without a body: no channel list yet.
        let device = reader.device ?? DeviceInfo(name: "the board", sensors: [], actuators: [])
        let inputCount = reader.inputCount, outputCount = reader.outputCount
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw MappingError(line: Self.line(of: error), "not valid YAML: \(Self.problem(of: error))")
        }
        let fields = try root.map { try reader.fields(of: $0, allowed: ["loop", "sensors", "actuators", "differential", "reward"], what: "the mapping") } ?? [:]
        self.source = yaml
        self.device = device
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.maxStepsPerTick = Self.defaultMaxStepsPerTick
        if let loop = fields["loop"] {
            let f = try reader.fields(of: loop, allowed: ["max_steps_per_tick"], what: "loop")
            if let n = f["max_steps_per_tick"] {
                self.maxStepsPerTick = try reader.int(n, "max_steps_per_tick", in: 1...100_000)
            }
        }
        self.encoders = try reader.list(fields["sensors"], "sensors").map { try reader.encoder($0) }
        var decoders = try reader.list(fields["actuators"], "actuators").map { try reader.decoder($0) }
        if let diff = fields["differential"] { decoders += try reader.differential(diff) }
        self.decoders = decoders
        self.rewards = try reader.list(fields["reward"], "reward").map { try reader.reward($0) }
        try reader.checkUnique(encoders: encoders, decoders: decoders)
    }

    /// Reads and validates the mapping file at `path` (see `init(yaml:device:inputCount:outputCount:)`).
    /// - Throws: `FileProblem` when the file cannot be read or is not text, `MappingError` when
    ///   its content is wrong.
    public init(contentsOf path: String, device: DeviceInfo, inputCount: Int, outputCount: Int) throws {
        let text = try readTextFile(path, what: "the mapping file")
        do {
            try self.init(yaml: text, device: device, inputCount: inputCount, outputCount: outputCount)
        } catch var error as MappingError {
            error.message += " (in \(path))"
            throw error
        }
    }

    /// Checks what can be checked of a mapping file before a board is opened (opening the port
    /// resets some boards): that it can be read, its syntax, every key and number, and every
    /// neuron index against the network's sizes. Channel names and ranges are checked once the
    /// board has said what channels it has (`init(contentsOf:device:inputCount:outputCount:)`).
    /// - Returns: the mapping's warnings (`warnings`).
    /// - Throws: `FileProblem` or `MappingError`, as `init(contentsOf:device:inputCount:outputCount:)`.
    @discardableResult
    public static func check(contentsOf path: String, inputCount: Int, outputCount: Int) throws -> [String] {
        let text = try readTextFile(path, what: "the mapping file")
        do {
            let reader = MappingReader(device: nil, inputCount: inputCount, outputCount: outputCount)
            return try Mapping(yaml: text, reader: reader).warnings
        } catch var error as MappingError {
            error.message += " (in \(path))"
            throw error
        }
    }

    /// What the mapping leaves undone that a user would want to know before a run: no decoder
    /// (nothing drives the robot) or no encoder (the network hears nothing of the robot).
    public var warnings: [String] {
        var result: [String] = []
        if decoders.isEmpty {
            result.append("the mapping drives no actuator: nothing will move the robot (add `actuators:` or `differential:`, Docs/MAPPING.md)")
        }
        if encoders.isEmpty {
            result.append("the mapping reads no sensor: the network gets no input from the robot (add `sensors:`, Docs/MAPPING.md)")
        }
        return result
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _):
            return mark.line
        default:
            return nil
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case let .scanner(_, problem, _, _), let .parser(_, problem, _, _), let .composer(_, problem, _, _):
            return problem
        default:
            return "\(error)"
        }
    }
}

/// Walks the YAML nodes of a mapping file, filling in defaults and checking every value.
private struct MappingReader {
    /// The body's channels, or `nil` to check a mapping before the body is known: every channel
    /// name is then accepted, as a channel of the widest range (`Placeholders`).
    let device: DeviceInfo?
    let inputCount: Int
    let outputCount: Int
    private let placeholders = Placeholders()

    init(device: DeviceInfo?, inputCount: Int, outputCount: Int) {
        self.device = device
        self.inputCount = inputCount
        self.outputCount = outputCount
    }

    /// Channels made up, one index per name, for a check without a body.
    final class Placeholders {
        var indices: [String: Int] = [:]
        func index(of name: String) -> Int {
            if let i = indices[name] { return i }
            indices[name] = indices.count
            return indices.count - 1
        }
    }

    func sensorIndex(named name: String) -> Int? {
        guard let device else { return placeholders.index(of: "sensor " + name) }
        return device.sensorIndex(named: name)
    }

    func sensor(_ index: Int, named name: String) -> ChannelDescriptor {
        guard let device else { return ChannelDescriptor(name: name, kind: .analog, unit: .none, minimum: .min, maximum: .max) }
        return device.sensors[index]
    }

    func actuatorIndex(named name: String) -> Int? {
        guard let device else { return placeholders.index(of: "actuator " + name) }
        return device.actuatorIndex(named: name)
    }

    func actuator(_ index: Int, named name: String) -> ChannelDescriptor {
        guard let device else { return ChannelDescriptor(name: name, kind: .motor, unit: .none, minimum: .min, maximum: .max) }
        return device.actuators[index]
    }

    var sensorNames: String { device?.sensors.map(\.name).joined(separator: ", ") ?? "" }
    var actuatorNames: String { device?.actuators.map(\.name).joined(separator: ", ") ?? "" }
    var deviceName: String { device?.name ?? "the board" }

    func line(_ node: Node) -> Int? { node.mark?.line }

    func fail(_ node: Node?, _ message: String) -> MappingError {
        MappingError(line: node.flatMap(line), message)
    }

    func fields(of node: Node, allowed: [String], what: String) throws -> [String: Node] {
        guard let mapping = node.mapping else {
            throw fail(node, "\(what) must be a set of `key: value` lines")
        }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw fail(key, "a key in \(what) must be a word") }
            guard allowed.contains(name) else {
                throw fail(key, "unknown key `\(name)` in \(what); the keys are: \(allowed.joined(separator: ", "))")
            }
            guard result[name] == nil else { throw fail(key, "`\(name)` appears twice in \(what)") }
            result[name] = value
        }
        return result
    }

    func list(_ node: Node?, _ name: String) throws -> [Node] {
        guard let node else { return [] }
        if case .scalar = node, node.null != nil { return [] }
        guard let sequence = node.sequence else {
            throw fail(node, "`\(name)` must be a list, one `- ` entry per item")
        }
        return Array(sequence)
    }

    func number(_ node: Node, _ name: String) throws -> Double {
        guard case .scalar = node, let value = node.float, value.isFinite else {
            throw fail(node, "`\(name)` must be a finite number, not `\(node.string ?? "a list or map")`")
        }
        return value
    }

    func number(_ node: Node, _ name: String, in range: ClosedRange<Double>) throws -> Double {
        let value = try number(node, name)
        guard range.contains(value) else {
            throw fail(node, "`\(name)` is \(value); it must lie in \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    func int(_ node: Node, _ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard case .scalar = node, let value = node.int else {
            throw fail(node, "`\(name)` must be a whole number, not `\(node.string ?? "a list or map")`")
        }
        guard range.contains(value) else {
            throw fail(node, "`\(name)` is \(value); it must lie in \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    func bool(_ node: Node, _ name: String) throws -> Bool {
        guard case .scalar = node, let value = node.bool else {
            throw fail(node, "`\(name)` must be true or false")
        }
        return value
    }

    func numbers(_ node: Node, _ name: String) throws -> [Double] {
        guard let seq = node.sequence else { throw fail(node, "`\(name)` must be a list of numbers, e.g. [1, 2]") }
        return try seq.map { try number($0, name) }
    }

    func pair(_ node: Node, _ name: String) throws -> (Double, Double) {
        let values = try numbers(node, name)
        guard values.count == 2, values[0] < values[1] else {
            throw fail(node, "`\(name)` must be two increasing numbers [low, high]")
        }
        return (values[0], values[1])
    }

    func inputNeuron(_ node: Node, _ name: String) throws -> Int {
        guard inputCount > 0 else { throw fail(node, "the network has no input neurons") }
        return try int(node, name, in: 0...(inputCount - 1))
    }

    func outputNeuron(_ node: Node, _ name: String) throws -> Int {
        guard outputCount > 0 else { throw fail(node, "the network has no output neurons") }
        return try int(node, name, in: 0...(outputCount - 1))
    }

    func sensorChannel(_ node: Node?, in entry: Node) throws -> (Int, ChannelDescriptor) {
        guard let node else { throw fail(entry, "missing `channel:`; the sensors are: \(sensorNames)") }
        guard let name = node.string, let index = sensorIndex(named: name) else {
            throw fail(node, "no sensor channel `\(node.string ?? "")` on \(deviceName); the sensors are: \(sensorNames)")
        }
        return (index, sensor(index, named: name))
    }

    func actuatorChannel(_ node: Node?, in entry: Node, key: String = "channel") throws -> (Int, ChannelDescriptor) {
        guard let node else { throw fail(entry, "missing `\(key):`; the actuators are: \(actuatorNames)") }
        guard let name = node.string, let index = actuatorIndex(named: name) else {
            throw fail(node, "no actuator channel `\(node.string ?? "")` on \(deviceName); the actuators are: \(actuatorNames)")
        }
        return (index, actuator(index, named: name))
    }

    // MARK: encoders

    func calibration(_ node: Node) throws -> Calibration {
        let f = try fields(of: node, allowed: ["scale", "offset", "table"], what: "calibration")
        if let table = f["table"] {
            guard f["scale"] == nil, f["offset"] == nil else {
                throw fail(node, "a calibration is either `table:` or `scale:`/`offset:`, not both")
            }
            guard let rows = table.sequence, rows.count >= 2 else {
                throw fail(table, "`table` must list at least two [raw, value] points")
            }
            var points: [(Double, Double)] = []
            for row in rows {
                let v = try numbers(row, "table")
                guard v.count == 2 else { throw fail(row, "each table point is [raw, value]") }
                points.append((v[0], v[1]))
            }
            points.sort { $0.0 < $1.0 }
            for i in 1..<points.count where points[i].0 == points[i - 1].0 {
                throw fail(table, "the table has two points at raw \(points[i].0); each raw reading may appear once")
            }
            return .table(raw: points.map(\.0), value: points.map(\.1))
        }
        let scale = try f["scale"].map { try number($0, "scale") } ?? 1
        let offset = try f["offset"].map { try number($0, "offset") } ?? 0
        guard scale != 0 else { throw fail(f["scale"], "`scale` must not be 0") }
        return .linear(scale: scale, offset: offset)
    }

    func encoder(_ entry: Node) throws -> EncoderSpec {
        let f = try fields(of: entry, allowed: ["channel", "neuron", "neurons", "mode", "calibration", "threshold",
                                                "set_point", "dead_band", "thresholds", "range", "hysteresis", "invert"],
                           what: "a sensor entry")
        let (index, channel) = try sensorChannel(f["channel"], in: entry)
        let calibration = try f["calibration"].map(calibration) ?? .identity
        // The span of calibrated values over the channel's raw range gives every default.
        let a = calibration.apply(Double(channel.minimum)), b = calibration.apply(Double(channel.maximum))
        var spanLo = min(a, b), spanHi = max(a, b)
        if case let .table(_, ys) = calibration { spanLo = ys.min()!; spanHi = ys.max()! }
        let span = spanHi - spanLo, middle = (spanLo + spanHi) / 2

        let mode: EncoderSpec.Mode
        if let m = f["mode"] {
            guard let name = m.string, let parsed = EncoderSpec.Mode(rawValue: name) else {
                throw fail(m, "unknown mode `\(m.string ?? "")`; the modes are: \(EncoderSpec.Mode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            mode = parsed
        } else if f["neurons"] != nil || f["thresholds"] != nil {
            mode = .population
        } else if f["threshold"] != nil {
            mode = .threshold
        } else {
            mode = channel.kind == .digital ? .digital : .signed
        }

        let neurons: [Int]
        if let list = f["neurons"] {
            guard f["neuron"] == nil else { throw fail(list, "write either `neuron:` or `neurons:`, not both") }
            guard let seq = list.sequence, !seq.isEmpty else { throw fail(list, "`neurons` must be a list of input neuron indices, e.g. [0, 1, 2]") }
            neurons = try seq.map { try inputNeuron($0, "neurons") }
        } else if let one = f["neuron"] {
            neurons = [try inputNeuron(one, "neuron")]
        } else {
            throw fail(entry, "missing `neuron:` (an input neuron index, 0…\(inputCount - 1))")
        }
        if mode != .population && neurons.count != 1 {
            throw fail(f["neurons"], "mode \(mode.rawValue) drives one neuron; use `mode: population` for several")
        }

        let defaultHysteresis = mode == .digital ? 0 : span * 0.02
        let hysteresis = try f["hysteresis"].map { try number($0, "hysteresis", in: 0...Double.greatestFiniteMagnitude) } ?? defaultHysteresis
        let invert = try f["invert"].map { try bool($0, "invert") } ?? false

        func forbid(_ keys: [String]) throws {
            for key in keys where f[key] != nil {
                throw fail(f[key], "`\(key)` does not apply to mode \(mode.rawValue)")
            }
        }
        var comparators: [EncoderSpec.Comparator] = []
        switch mode {
        case .threshold:
            try forbid(["set_point", "dead_band", "thresholds", "range"])
            let t = try f["threshold"].map { try number($0, "threshold") } ?? middle
            comparators = [.init(lower: t, upper: t, above: .excitatory, below: .neutral)]
        case .signed:
            try forbid(["threshold", "thresholds", "range"])
            let setPoint = try f["set_point"].map { try number($0, "set_point") } ?? middle
            let band = try f["dead_band"].map { try number($0, "dead_band", in: 0...Double.greatestFiniteMagnitude) } ?? span * 0.1
            comparators = [.init(lower: setPoint - band / 2, upper: setPoint + band / 2, above: .excitatory, below: .inhibitory)]
        case .population:
            try forbid(["threshold", "set_point", "dead_band"])
            let thresholds: [Double]
            if let list = f["thresholds"] {
                guard f["range"] == nil else { throw fail(list, "write either `thresholds:` or `range:`, not both") }
                thresholds = try numbers(list, "thresholds")
                guard thresholds.count == neurons.count else {
                    throw fail(list, "\(thresholds.count) thresholds for \(neurons.count) neurons; give one threshold per neuron")
                }
            } else {
                let (lo, hi) = try f["range"].map { try pair($0, "range") } ?? (spanLo, spanHi)
                let n = Double(neurons.count)
                thresholds = (0..<neurons.count).map { lo + Double($0 + 1) * (hi - lo) / (n + 1) }
            }
            comparators = thresholds.map { .init(lower: $0, upper: $0, above: .excitatory, below: .neutral) }
        case .digital:
            try forbid(["threshold", "set_point", "dead_band", "thresholds", "range"])
            if case .identity = calibration {} else { throw fail(f["calibration"], "a digital input takes no calibration") }
            comparators = [.init(lower: 0.5, upper: 0.5, above: .excitatory, below: .neutral)]
        }
        return EncoderSpec(channel: channel.name, channelIndex: index, mode: mode, neurons: neurons,
                           comparators: comparators, calibration: calibration, hysteresis: hysteresis,
                           invert: invert, line: line(entry) ?? 0)
    }

    // MARK: decoders

    func drive(_ f: [String: Node], in entry: Node, required: Bool = true) throws -> Drive? {
        if let n = f["neuron"] {
            guard f["push"] == nil, f["pull"] == nil else { throw fail(n, "write either `neuron:` or `push:`/`pull:`, not both") }
            return .neuron(try outputNeuron(n, "neuron"))
        }
        if let push = f["push"] {
            guard let pull = f["pull"] else { throw fail(push, "`push:` needs a `pull:` neuron too") }
            let a = try outputNeuron(push, "push"), b = try outputNeuron(pull, "pull")
            guard a != b else { throw fail(pull, "`push` and `pull` must be two different output neurons") }
            return .pushPull(push: a, pull: b)
        }
        if let pull = f["pull"] { throw fail(pull, "`pull:` needs a `push:` neuron too") }
        if required { throw fail(entry, "missing `neuron:` (an output neuron index, 0…\(outputCount - 1)) or `push:`/`pull:`") }
        return nil
    }

    /// A drive written either as a bare neuron index or as `{neuron: k}` / `{push: a, pull: b}`.
    func drive(_ node: Node, _ name: String) throws -> Drive {
        if case .scalar = node { return .neuron(try outputNeuron(node, name)) }
        return try drive(try fields(of: node, allowed: ["neuron", "push", "pull"], what: "`\(name)`"), in: node)!
    }

    struct Shaping {
        var tau = 50.0, deadBand = 0.05, slewRate = 0.0, range: (Double, Double)? = nil, invert = false
    }

    func shaping(_ f: [String: Node]) throws -> Shaping {
        var s = Shaping()
        if let n = f["tau"] { s.tau = try number(n, "tau", in: 0...1e9) }
        if let n = f["dead_band"] { s.deadBand = try number(n, "dead_band", in: 0...0.999) }
        if let n = f["slew"] { s.slewRate = try number(n, "slew", in: 0...1e12) }
        if let n = f["range"] { s.range = try pair(n, "range") }
        if let n = f["invert"] { s.invert = try bool(n, "invert") }
        return s
    }

    func decoderSpec(_ index: Int, _ channel: ChannelDescriptor, _ source: DecoderSpec.Source, _ s: Shaping,
                     rangeNode: Node?, line: Int) throws -> DecoderSpec {
        let range = s.range ?? (Double(channel.minimum), Double(channel.maximum))
        guard range.0 >= Double(channel.minimum), range.1 <= Double(channel.maximum) else {
            throw fail(rangeNode, "`range` [\(range.0), \(range.1)] leaves \(channel.name)'s range \(channel.minimum)…\(channel.maximum) \(channel.unit.symbol)")
        }
        return DecoderSpec(channel: channel.name, channelIndex: index, source: source, tau: s.tau,
                           deadBand: s.deadBand, slewRate: s.slewRate, range: (range.0, range.1),
                           invert: s.invert, line: line)
    }

    static let shapingKeys = ["tau", "dead_band", "slew", "range", "invert"]

    func decoder(_ entry: Node) throws -> DecoderSpec {
        let f = try fields(of: entry, allowed: ["channel", "neuron", "push", "pull"] + Self.shapingKeys, what: "an actuator entry")
        let (index, channel) = try actuatorChannel(f["channel"], in: entry)
        let drive = try drive(f, in: entry)!
        return try decoderSpec(index, channel, .drive(drive), try shaping(f), rangeNode: f["range"], line: line(entry) ?? 0)
    }

    func differential(_ node: Node) throws -> [DecoderSpec] {
        let f = try fields(of: node, allowed: ["left", "right", "forward", "turn"] + Self.shapingKeys, what: "differential")
        let (li, left) = try actuatorChannel(f["left"], in: node, key: "left")
        let (ri, right) = try actuatorChannel(f["right"], in: node, key: "right")
        guard li != ri else { throw fail(f["right"], "`left` and `right` must be two different actuators") }
        guard let fwd = f["forward"] else { throw fail(node, "missing `forward:` (an output neuron, or {push: a, pull: b})") }
        let forward = try drive(fwd, "forward")
        let turn = try f["turn"].map { try drive($0, "turn") }
        let s = try shaping(f)
        let l = line(node) ?? 0
        return [
            try decoderSpec(li, left, .differential(forward: forward, turn: turn, rightWheel: false), s, rangeNode: f["range"], line: l),
            try decoderSpec(ri, right, .differential(forward: forward, turn: turn, rightWheel: true), s, rangeNode: f["range"], line: l),
        ]
    }

    // MARK: reward

    func reward(_ entry: Node) throws -> RewardSpec {
        let f = try fields(of: entry, allowed: ["when", "set", "pulse"], what: "a reward entry")
        guard let when = f["when"], let text = when.string else {
            throw fail(entry, "missing `when:`, a condition such as `bumper > 0.5`")
        }
        let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard parts.count == 3, let comparison = RewardSpec.Comparison(rawValue: parts[1]),
              let threshold = Double(parts[2]), threshold.isFinite else {
            throw fail(when, "the condition `\(text)` must read `CHANNEL OP NUMBER` with OP one of > >= < <=, e.g. `bumper > 0.5`")
        }
        guard let index = sensorIndex(named: parts[0]) else {
            throw fail(when, "no sensor channel `\(parts[0])` on \(deviceName); the sensors are: \(sensorNames)")
        }
        let actionNode: Node, action: RewardSpec.Action
        switch (f["set"], f["pulse"]) {
        case let (set?, nil): (actionNode, action) = (set, .set)
        case let (nil, pulse?): (actionNode, action) = (pulse, .pulse)
        case (_?, _?): throw fail(entry, "a reward entry has either `set:` or `pulse:`, not both")
        case (nil, nil): throw fail(entry, "missing `set:` or `pulse:`, e.g. `pulse: {dopamine: 1.0}`")
        }
        let names = Neuromodulator.allCases.map(\.rawValue)
        let levels = try fields(of: actionNode, allowed: names, what: "`\(action.rawValue)`")
            .sorted { names.firstIndex(of: $0.key)! < names.firstIndex(of: $1.key)! }
            .map { ModulatorLevel(modulator: Neuromodulator(rawValue: $0.key)!, level: try number($0.value, $0.key, in: 0...1)) }
        guard !levels.isEmpty else { throw fail(actionNode, "name at least one neuromodulator: \(names.joined(separator: ", "))") }
        return RewardSpec(channel: parts[0], channelIndex: index, comparison: comparison, threshold: threshold,
                          action: action, levels: levels, line: line(entry) ?? 0)
    }

    // MARK: whole-file checks

    func checkUnique(encoders: [EncoderSpec], decoders: [DecoderSpec]) throws {
        var inputOwner: [Int: Int] = [:]
        for e in encoders {
            for n in e.neurons {
                if let other = inputOwner[n] {
                    throw MappingError(line: e.line, "input neuron \(n) is already driven by the sensor entry on line \(other); give each input neuron one encoder")
                }
                inputOwner[n] = e.line
            }
        }
        var actuatorOwner: [Int: Int] = [:]
        for d in decoders {
            if let other = actuatorOwner[d.channelIndex] {
                throw MappingError(line: d.line, "actuator `\(d.channel)` is already driven by the entry on line \(other); give each actuator one decoder")
            }
            actuatorOwner[d.channelIndex] = d.line
        }
    }
}
