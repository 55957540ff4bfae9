import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Neuraxon
import NeuraxonChannels

/// The first line of a recording (Docs/LOG-FORMAT.md): what is needed to replay it.
public struct RecordingHeader: Sendable, Equatable, Codable {
    /// Always "neuraxon-recording".
    public var format: String
    /// The format version; this library reads version 1.
    public var version: Int
    /// When the run started, ISO 8601 in UTC.
    public var startTime: String
    /// The mapping file's text.
    public var mapping: String
    public var device: DeviceInfo
    public var network: NetworkIdentity
    /// The network step, in ms.
    public var dtMillis: Double
    public var inputCount: Int
    public var outputCount: Int
    /// One name per calibrated value column, in the mapping's encoder order.
    public var valueNames: [String]
    /// The control core's state before the first tick, for a recording that starts in the
    /// middle of a run (a replay's recording of a time range); nil for one that starts at the
    /// beginning. Replay starts from it.
    public var startState: ControlCoreState?
    /// The world file's text (Docs/SIMULATION.md) of a simulated run; nil for a run on a robot.
    /// It lets an MCAP export draw the world the robot moved in.
    public var world: String?

    public static let formatName = "neuraxon-recording"
    public static let currentVersion = 1

    enum CodingKeys: String, CodingKey {
        case type, format, version, mapping, device, network
        case startTime = "start_time", dtMillis = "dt_ms", inputCount = "input_count"
        case outputCount = "output_count", valueNames = "value_names", startState = "start_state", world
    }

    public init(mapping: Mapping, network: NetworkIdentity, dtMillis: Double, startTime: Date = Date()) {
        format = Self.formatName
        version = Self.currentVersion
        self.startTime = ISO8601DateFormatter().string(from: startTime)
        self.mapping = mapping.source
        device = mapping.device
        self.network = network
        self.dtMillis = dtMillis
        inputCount = mapping.inputCount
        outputCount = mapping.outputCount
        valueNames = Self.valueNames(mapping)
    }

    static func valueNames(_ mapping: Mapping) -> [String] {
        var seen: [String: Int] = [:]
        return mapping.encoders.map { e in
            seen[e.channel, default: 0] += 1
            return seen[e.channel]! == 1 ? e.channel : "\(e.channel)_\(seen[e.channel]!)"
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(String.self, forKey: .format)
        version = try c.decode(Int.self, forKey: .version)
        startTime = try c.decode(String.self, forKey: .startTime)
        mapping = try c.decode(String.self, forKey: .mapping)
        device = try c.decode(DeviceInfo.self, forKey: .device)
        network = try c.decode(NetworkIdentity.self, forKey: .network)
        dtMillis = try c.decode(Double.self, forKey: .dtMillis)
        inputCount = try c.decode(Int.self, forKey: .inputCount)
        outputCount = try c.decode(Int.self, forKey: .outputCount)
        valueNames = try c.decode([String].self, forKey: .valueNames)
        startState = try c.decodeIfPresent(ControlCoreState.self, forKey: .startState)
        world = try c.decodeIfPresent(String.self, forKey: .world)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("header", forKey: .type)
        try c.encode(format, forKey: .format)
        try c.encode(version, forKey: .version)
        try c.encode(startTime, forKey: .startTime)
        try c.encode(device, forKey: .device)
        try c.encode(network, forKey: .network)
        try c.encode(dtMillis, forKey: .dtMillis)
        try c.encode(inputCount, forKey: .inputCount)
        try c.encode(outputCount, forKey: .outputCount)
        try c.encode(valueNames, forKey: .valueNames)
        try c.encode(mapping, forKey: .mapping)
        try c.encodeIfPresent(startState, forKey: .startState)
        try c.encodeIfPresent(world, forKey: .world)
    }

    /// The header as one JSON line (without the newline).
    func jsonLine() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// `networkPath` (as a run was given it: absolute, or relative to the current folder) as a
    /// recording at `recordingPath` stores it: relative to the folder that holds the recording,
    /// with `..` where needed (`net.json` beside it, `../nets/a.json`), both sides with symbolic
    /// links resolved. "" stays "".
    public static func networkPath(_ networkPath: String, relativeToFolderOf recordingPath: String) -> String {
        guard !networkPath.isEmpty else { return "" }
        let target = LexicalPath.components(LexicalPath.resolved(networkPath))
        let folder = LexicalPath.components(LexicalPath.folder(of: LexicalPath.resolved(recordingPath)))
        var common = 0
        while common < min(target.count, folder.count), target[common] == folder[common] { common += 1 }
        let up = [String](repeating: "..", count: folder.count - common)
        let relative = (up + target[common...]).joined(separator: "/")
        return relative.isEmpty ? "." : relative
    }

    /// The files `network.path` may name for a recording at `recordingPath`, most likely first:
    /// the path relative to the recording's folder (how recordings are written), then the path
    /// as stored, relative to the current folder (how older recordings were written). Empty when
    /// the recording names no network file.
    public func networkFileCandidates(recordingPath: String) -> [String] {
        let stored = network.path
        guard !stored.isEmpty else { return [] }
        if stored.hasPrefix("/") { return [stored] }
        let beside = LexicalPath.folder(of: recordingPath) + "/" + stored
        return LexicalPath.resolved(beside) == LexicalPath.resolved(stored) ? [beside] : [beside, stored]
    }

    /// The network file this recording was made with, for a recording at `recordingPath`: the
    /// first of `networkFileCandidates` whose SHA-256 equals `network.digest`, else the first
    /// that exists (replay then warns that it differs); nil when none exists.
    public func networkFile(recordingPath: String) -> String? {
        let existing = networkFileCandidates(recordingPath: recordingPath).filter { FileManager.default.isReadableFile(atPath: $0) }
        if !network.digest.isEmpty {
            for path in existing {
                if let data = FileManager.default.contents(atPath: path), SHA256.hex(of: Array(data)) == network.digest { return path }
            }
        }
        return existing.first
    }

    /// The mapping of this recording, validated again against its own device and network sizes.
    public func resolvedMapping() throws -> Mapping {
        try Mapping(yaml: mapping, device: device, inputCount: inputCount, outputCount: outputCount)
    }
}

/// Per-tick counters as recorded (running totals).
public struct TickCounters: Sendable, Equatable {
    public var overruns = 0
    public var lateTicks = 0
    public var readingErrors = 0
    public var clockResets = 0
    public var droppedFrames = 0
    public var recordDrops = 0

    public init() {}

    init(_ c: RunCounters) {
        overruns = c.overruns
        lateTicks = c.lateTicks
        readingErrors = c.readingErrors
        clockResets = c.clockResets
        droppedFrames = c.droppedFrames
        recordDrops = c.recordDrops
    }
}

/// Where a simulated robot was at a tick: its centre in metres and its heading in radians,
/// counter-clockwise from the world's x axis.
public struct RecordedPose: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var heading: Double

    public init(x: Double, y: Double, heading: Double) {
        self.x = x
        self.y = y
        self.heading = heading
    }
}

/// One recorded control tick.
public struct TickRecord: Sendable, Equatable {
    /// The tick's number in the recording, from 0 (see `Recorder`).
    public var tick: Int
    /// The firmware's sample time, µs.
    public var timestampMicros: UInt64
    public var sequence: UInt32
    /// Host receive time, ns of CLOCK_MONOTONIC.
    public var hostReceiveNanos: UInt64
    /// When the command was sent, ns of CLOCK_MONOTONIC (0 in replay without a body).
    public var hostSendNanos: UInt64
    /// Network steps run for this frame.
    public var steps: Int
    /// Raw readings, one per sensor channel the frame carried.
    public var raw: [Int16]
    /// Calibrated value per encoder; NaN when the reading was bad.
    public var values: [Double]
    public var inputs: [Trit]
    public var outputs: [Trit]
    /// Setpoints sent, one per actuator channel.
    public var setpoints: [Int16]
    /// Neuromodulator levels in `Neuromodulator.allCases` order.
    public var modulators: [Double]
    public var counters: TickCounters
    /// The simulated robot's pose when the frame was sampled; nil for a run on a robot.
    public var pose: RecordedPose?
    /// Every neuron's state after the tick's steps, in neuron id order; nil unless the run was
    /// recorded with `--record-neurons` (`Recorder.recordNeurons(of:)`).
    public var neurons: [Trit]?

    public init(tick: Int, timestampMicros: UInt64, sequence: UInt32, hostReceiveNanos: UInt64, hostSendNanos: UInt64,
                steps: Int, raw: [Int16], values: [Double], inputs: [Trit], outputs: [Trit], setpoints: [Int16],
                modulators: [Double], counters: TickCounters, pose: RecordedPose? = nil) {
        self.tick = tick
        self.timestampMicros = timestampMicros
        self.sequence = sequence
        self.hostReceiveNanos = hostReceiveNanos
        self.hostSendNanos = hostSendNanos
        self.steps = steps
        self.raw = raw
        self.values = values
        self.inputs = inputs
        self.outputs = outputs
        self.setpoints = setpoints
        self.modulators = modulators
        self.counters = counters
        self.pose = pose
    }

    /// The sensor frame this tick processed.
    public var frame: SensorFrame {
        var f = SensorFrame(channelCount: raw.count)
        f.timestampMicros = timestampMicros
        f.sequence = sequence
        f.hostReceiveNanos = hostReceiveNanos
        f.droppedFrames = UInt64(counters.droppedFrames)
        f.readings = raw
        f.count = raw.count
        return f
    }

    /// Appends the tick's JSON line (with its newline).
    func appendJSON(to out: inout JSONOutput) {
        out.raw("{\"type\":\"tick\",\"tick\":"); out.int(tick)
        out.raw(",\"t_us\":"); out.int(timestampMicros)
        out.raw(",\"seq\":"); out.int(sequence)
        out.raw(",\"host_ns\":"); out.int(hostReceiveNanos)
        out.raw(",\"sent_ns\":"); out.int(hostSendNanos)
        out.raw(",\"steps\":"); out.int(steps)
        out.raw(",\"raw\":"); out.array(raw) { $0.int($1) }
        out.raw(",\"values\":"); out.array(values) { $0.double($1) }
        out.raw(",\"inputs\":"); out.array(inputs) { $0.int($1.rawValue) }
        out.raw(",\"outputs\":"); out.array(outputs) { $0.int($1.rawValue) }
        out.raw(",\"setpoints\":"); out.array(setpoints) { $0.int($1) }
        out.raw(",\"modulators\":"); out.array(modulators) { $0.double($1) }
        out.raw(",\"counters\":{\"overruns\":"); out.int(counters.overruns)
        out.raw(",\"late\":"); out.int(counters.lateTicks)
        out.raw(",\"reading_errors\":"); out.int(counters.readingErrors)
        out.raw(",\"clock_resets\":"); out.int(counters.clockResets)
        out.raw(",\"dropped\":"); out.int(counters.droppedFrames)
        out.raw(",\"record_drops\":"); out.int(counters.recordDrops)
        out.raw("}")
        if let pose {
            out.raw(",\"pose\":{\"x\":"); out.double(pose.x)
            out.raw(",\"y\":"); out.double(pose.y)
            out.raw(",\"heading\":"); out.double(pose.heading)
            out.raw("}")
        }
        if let neurons {
            out.raw(",\"neurons\":\"")
            for s in neurons { out.bytes.append(Self.neuronCharacter(s)) }
            out.raw("\"")
        }
        out.raw("}\n")
    }

    init(json v: JSONValue) throws(RecordError) {
        func int(_ key: String) throws(RecordError) -> Int64 {
            guard let x = v[key]?.int else { throw RecordError("`\(key)` is missing or not a whole number") }
            return x
        }
        func list<T>(_ key: String, _ convert: (JSONValue) -> T?) throws(RecordError) -> [T] {
            guard let a = v[key]?.array else { throw RecordError("`\(key)` is missing or not a list") }
            var out: [T] = []
            out.reserveCapacity(a.count)
            for e in a {
                guard let x = convert(e) else { throw RecordError("`\(key)` holds a bad value") }
                out.append(x)
            }
            return out
        }
        let trit: (JSONValue) -> Trit? = { $0.int.flatMap { Trit(Int($0)) } }
        let int16: (JSONValue) -> Int16? = { $0.int.flatMap { Int16(exactly: $0) } }
        guard let t = UInt64(exactly: try int("t_us")), let seq = UInt32(exactly: try int("seq")) else {
            throw RecordError("`t_us` or `seq` is out of range")
        }
        tick = Int(try int("tick"))
        timestampMicros = t
        sequence = seq
        hostReceiveNanos = UInt64(clamping: try int("host_ns"))
        hostSendNanos = UInt64(clamping: v["sent_ns"]?.int ?? 0)
        steps = Int(try int("steps"))
        raw = try list("raw", int16)
        values = try list("values") { $0.double }
        inputs = try list("inputs", trit)
        outputs = try list("outputs", trit)
        setpoints = try list("setpoints", int16)
        modulators = try list("modulators") { $0.double }
        var c = TickCounters()
        if let counters = v["counters"] {
            c.overruns = Int(counters["overruns"]?.int ?? 0)
            c.lateTicks = Int(counters["late"]?.int ?? 0)
            c.readingErrors = Int(counters["reading_errors"]?.int ?? 0)
            c.clockResets = Int(counters["clock_resets"]?.int ?? 0)
            c.droppedFrames = Int(counters["dropped"]?.int ?? 0)
            c.recordDrops = Int(counters["record_drops"]?.int ?? 0)
        }
        counters = c
        if let p = v["pose"] {
            guard let x = p["x"]?.double, let y = p["y"]?.double, let heading = p["heading"]?.double else {
                throw RecordError("`pose` needs numbers `x`, `y` and `heading`")
            }
            pose = RecordedPose(x: x, y: y, heading: heading)
        }
        if let n = v["neurons"] {
            guard let text = n.string else { throw RecordError("`neurons` is not a string of `-`, `0` and `+`") }
            var states: [Trit] = []
            states.reserveCapacity(text.utf8.count)
            for c in text.utf8 {
                guard let s = Self.neuronState(c) else {
                    throw RecordError("`neurons` holds `\(String(UnicodeScalar(c)))`; each neuron is `-`, `0` or `+`")
                }
                states.append(s)
            }
            neurons = states
        }
    }

    /// A neuron state's character in the `neurons` field: `-`, `0` or `+`.
    @inline(__always) static func neuronCharacter(_ state: Trit) -> UInt8 {
        switch state {
        case .inhibitory: UInt8(ascii: "-")
        case .neutral: UInt8(ascii: "0")
        case .excitatory: UInt8(ascii: "+")
        }
    }

    /// The state a character of the `neurons` field stands for, or nil.
    static func neuronState(_ c: UInt8) -> Trit? {
        switch c {
        case UInt8(ascii: "-"): .inhibitory
        case UInt8(ascii: "0"): .neutral
        case UInt8(ascii: "+"): .excitatory
        default: nil
        }
    }
}

/// A record of a recording that could not be read.
public struct RecordError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Lexical path helpers for the network path a recording stores.
enum LexicalPath {
    /// `path` made absolute (against the current folder) and, as far as it exists, with symbolic
    /// links resolved; `.` and `..` removed.
    static func resolved(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var parts = components(absolute)
        // Resolve symbolic links on the longest prefix that exists.
        var keep = parts.count
        while keep > 0 {
            let prefix = "/" + parts[0..<keep].joined(separator: "/")
            if let real = realpath(prefix, nil) {
                let resolved = String(cString: real)
                free(real)
                parts = components(resolved) + parts[keep...]
                break
            }
            keep -= 1
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The folder of `path` ("." for a bare name).
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The components of an absolute path, with `.`, `..` and empty ones resolved lexically.
    static func components(_ path: String) -> [String] {
        var out: [String] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { if !out.isEmpty { out.removeLast() }; continue }
            out.append(String(part))
        }
        return out
    }
}

/// An event line of a recording.
///
/// Events say what happened to the run between ticks: the link going down and coming back,
/// the board's own reports (its failsafe, a new handshake), what a user asked for (a stop, a
/// neuromodulator level) and, once a second, the link's counters and round trip (`link`, a
/// record of its own type in JSON Lines and on its own MCAP topic). Every field beyond `kind`,
/// `tick` and `timestampMicros` is optional, so recordings written before a field existed read
/// the same.
public struct RecordingEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The link went down.
        case linkLost = "link_lost"
        /// Frames came back after a link loss.
        case linkRestored = "link_restored"
        /// The run ended (the last line of a complete recording).
        case end
        /// A neuromodulator was set from outside the run (the browser view's slider) before the
        /// tick numbered `tick`: `modulator` and `level` say which and to what. Replay sets it too.
        case modulate
        /// The board reported (in a STATUS) that its failsafe holds the actuators at their safe
        /// values: `failsafeState` is `timeout` or `stopped`, or the board's `failsafeTrips`
        /// count rose since its previous STATUS. Reported by the board, never inferred.
        case failsafe
        /// The board reported (in a STATUS) that it applies commands again (`active`) after a
        /// `failsafe` event.
        case failsafeCleared = "failsafe_cleared"
        /// A new handshake with the same board after the device went away: `boardID`,
        /// `devicePath` and `afterMillis` (time since the loss) say which, where and when.
        case reconnect
        /// A stop was asked for: by `signal` (2 SIGINT, 15 SIGTERM, 1 SIGHUP), or with 0 from
        /// inside the program (the browser view's STOP button, the code that ran the loop).
        case stop
        /// The link's counters and round trip at this moment (`link`), written about once a
        /// second of firmware time; a `link` record, not an event line, in JSON Lines.
        case link
        /// An input neuron was clamped or released from outside the run (the browser view)
        /// before the tick numbered `tick`: `input` says which (among the inputs, 0 first) and
        /// `clampedState` to what (nil: released, the encoders drive it again). Replay does it too.
        case clamp
    }
    public var kind: Kind
    /// The number of ticks before the event: every tick the recording holds before it, plus any
    /// its recorder had to drop (`record_drops`). The `end` event's is the recording's length.
    public var tick: Int
    /// The last firmware timestamp before the event, µs.
    public var timestampMicros: UInt64
    /// For `modulate`: the neuromodulator and the level (0…1) it was set to; nil otherwise.
    public var modulator: Neuromodulator?
    public var level: Double?
    /// For `failsafe` and `failsafe_cleared`: the board's failsafe state as its STATUS named it
    /// (`idle`, `active`, `timeout`, `stopped`, or `unknown N`), its `failsafe_trips` counter
    /// and its uptime, ms.
    public var failsafeState: String?
    public var failsafeTrips: Int?
    public var boardUptimeMillis: Int?
    /// For `reconnect`: the board's unique id (hex), the device it answered on, and the time
    /// from the loss to the new handshake, ms.
    public var boardID: String?
    public var devicePath: String?
    public var afterMillis: Double?
    /// For `stop`: the signal that asked for it, 0 when asked from inside the program.
    public var signal: Int?
    /// For `link`: the link's counters and round trip.
    public var link: RecordedLinkStatus?
    /// For `clamp`: the input neuron (among the inputs, 0 first) and the state it is held at
    /// from this tick on, or nil when it was released; nil otherwise.
    public var input: Int?
    public var clampedState: Trit?

    public init(kind: Kind, tick: Int, timestampMicros: UInt64, modulator: Neuromodulator? = nil, level: Double? = nil) {
        self.kind = kind
        self.tick = tick
        self.timestampMicros = timestampMicros
        self.modulator = modulator
        self.level = level
    }

    func appendJSON(to out: inout JSONOutput) {
        if kind == .link {
            out.raw("{\"type\":\"link\",\"tick\":"); out.int(tick)
            out.raw(",\"t_us\":"); out.int(timestampMicros)
            (link ?? RecordedLinkStatus()).appendFields(to: &out)
            out.raw("}\n")
            return
        }
        out.raw("{\"type\":\"event\",\"event\":"); out.string(kind.rawValue)
        out.raw(",\"tick\":"); out.int(tick)
        out.raw(",\"t_us\":"); out.int(timestampMicros)
        if let modulator, let level {
            out.raw(",\"modulator\":"); out.string(modulator.rawValue)
            out.raw(",\"level\":"); out.double(level)
        }
        appendDetails(to: &out)
        out.raw("}\n")
    }

    /// The optional fields of the board's reports and the user's controls, each with its
    /// leading comma.
    func appendDetails(to out: inout JSONOutput) {
        if let failsafeState { out.raw(",\"failsafe\":"); out.string(failsafeState) }
        if let failsafeTrips { out.raw(",\"failsafe_trips\":"); out.int(failsafeTrips) }
        if let boardUptimeMillis { out.raw(",\"uptime_ms\":"); out.int(boardUptimeMillis) }
        if let boardID { out.raw(",\"board_id\":"); out.string(boardID) }
        if let devicePath { out.raw(",\"device\":"); out.string(devicePath) }
        if let afterMillis { out.raw(",\"after_ms\":"); out.double(afterMillis) }
        if let signal { out.raw(",\"signal\":"); out.int(signal) }
        appendClamp(to: &out)
    }

    /// Reads the optional fields `appendDetails` writes (absent ones stay nil).
    mutating func readDetails(_ v: JSONValue) {
        failsafeState = v["failsafe"]?.string
        failsafeTrips = v["failsafe_trips"]?.int.map { Int($0) }
        boardUptimeMillis = v["uptime_ms"]?.int.map { Int($0) }
        boardID = v["board_id"]?.string
        devicePath = v["device"]?.string
        afterMillis = v["after_ms"]?.double
        signal = v["signal"]?.int.map { Int($0) }
    }

    /// A `link` record (JSON Lines `"type":"link"`, or a `/neuraxon/link_status` message).
    static func linkRecord(_ v: JSONValue) -> RecordingEvent? {
        guard let tick = v["tick"]?.int, let t = v["t_us"]?.int else { return nil }
        var e = RecordingEvent(kind: .link, tick: Int(tick), timestampMicros: UInt64(clamping: t))
        e.link = RecordedLinkStatus(json: v)
        return e
    }

    /// The fields of a `clamp` event (`,"input":3,"state":-1|0|1|"released"`), nothing for
    /// other kinds; the same in JSON Lines and MCAP.
    func appendClamp(to out: inout JSONOutput) {
        guard kind == .clamp, let input else { return }
        out.raw(",\"input\":"); out.int(input)
        out.raw(",\"state\":")
        if let clampedState { out.int(Int(clampedState.rawValue)) } else { out.string("released") }
    }

    /// Reads `input` and `state` of a `clamp` event: the input and its state (nil: released);
    /// nil when they are missing or wrong.
    static func clamping(_ value: JSONValue) -> (input: Int, state: Trit?)? {
        guard let input = value["input"]?.int, (0...Int64(Int32.max)).contains(input) else { return nil }
        if value["state"]?.string == "released" { return (Int(input), nil) }
        guard let state = value["state"]?.int, let trit = Trit(rawValue: Int8(clamping: state)), (-1...1).contains(state) else { return nil }
        return (Int(input), trit)
    }

    /// Reads `modulator` and `level` of a `modulate` event; nil when they are missing or wrong.
    static func modulation(_ value: JSONValue) -> (Neuromodulator, Double)? {
        guard let name = value["modulator"]?.string, let m = Neuromodulator(rawValue: name),
              let level = value["level"]?.double, level.isFinite, (0...1).contains(level) else { return nil }
        return (m, level)
    }
}

/// The link at one moment, as a `link` record holds it: the serial session's counters (all
/// running totals since the run connected) and the PING → PONG round trip, ms.
public struct RecordedLinkStatus: Sendable, Equatable {
    /// The session's counters (`LinkCounters.serialCounters`; the simulated link's stay 0).
    public var counters = LinkCounters()
    /// Round trips measured so far on the run.
    public var roundTripCount: Int = 0
    /// The latest round trip, ms; nil before the first.
    public var roundTripLastMillis: Double?
    /// Median and 99th percentile of the latest round trips (up to `RecordedLinkStatus.roundTripWindow`), ms.
    public var roundTripP50Millis: Double?
    public var roundTripP99Millis: Double?

    /// How many of the latest round trips the percentiles cover.
    public static let roundTripWindow = 128

    public init() {}

    /// The fields in JSON, each with its leading comma.
    func appendFields(to out: inout JSONOutput) {
        out.raw(",\"counters\":{")
        for (k, field) in LinkCounters.serialCounters.enumerated() {
            if k > 0 { out.raw(",") }
            out.string(field.name); out.raw(":"); out.int(counters[keyPath: field.counter])
        }
        out.raw("},\"round_trip\":{\"count\":"); out.int(roundTripCount)
        out.raw(",\"last_ms\":"); optional(roundTripLastMillis, &out)
        out.raw(",\"p50_ms\":"); optional(roundTripP50Millis, &out)
        out.raw(",\"p99_ms\":"); optional(roundTripP99Millis, &out)
        out.raw("}")
    }

    private func optional(_ x: Double?, _ out: inout JSONOutput) {
        if let x { out.double(x) } else { out.raw("null") }
    }

    init(json v: JSONValue) {
        let c = v["counters"]
        for field in LinkCounters.serialCounters { counters[keyPath: field.counter] = UInt64(clamping: c?[field.name]?.int ?? 0) }
        let r = v["round_trip"]
        // `null` (no round trip yet) reads as NaN: nil here.
        func ms(_ key: String) -> Double? { r?[key]?.double.flatMap { $0.isNaN ? nil : $0 } }
        roundTripCount = Int(r?["count"]?.int ?? 0)
        roundTripLastMillis = ms("last_ms")
        roundTripP50Millis = ms("p50_ms")
        roundTripP99Millis = ms("p99_ms")
    }
}
