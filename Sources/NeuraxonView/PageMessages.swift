import Foundation
import Neuraxon

/// A message from the page, checked like command-line input: one JSON object of at most
/// `PageCommand.maximumBytes` bytes, a known `type`, each field of the right type and range,
/// and no other field.
public enum PageCommand: Sendable, Equatable {
    /// Set a neuromodulator (`modulator`: dopamine, serotonin, acetylcholine, norepinephrine)
    /// to `level` in [0, 1].
    case modulate(Neuromodulator, Double)
    /// Stop the run (a robot's actuators stop and STOP is sent). Always allowed.
    case stop
    /// Recording playback: play, pause, step `count` ticks (1…1000), set the `speed` (0.1…100
    /// times the recorded pace), or seek to `tick` (0 or more).
    case play
    case pause
    case step(Int)
    case speed(Double)
    case seek(Int)
    /// Playground: hold input neuron `index` (among the inputs) at `state` (−1, 0 or 1).
    case input(Int, Trit)
    /// Live run: hold input neuron `index` (among the inputs) at `state` (−1, 0 or 1) from the
    /// next tick on, whatever its encoder says (`clamp`), or give it back to its encoder (nil,
    /// `release`).
    case clamp(Int, Trit?)
    /// Playground: build a network from `preset` with `seed` (0 or more) and `params`
    /// (parameter file names to values as text, checked like `net create --param`).
    case build(String, UInt64, [String: String])
    /// Playground: save the network to the file given on the command line.
    case save

    /// The fields any message may have, typed.
    private struct Fields: Decodable {
        var type: String
        var modulator: String?
        var level, count, value, tick, index, state, seed: Double?
        var preset: String?
        var params: [String: String]?
    }

    /// The largest page message accepted, bytes.
    public static let maximumBytes = 1024

    /// Parses and checks one page message.
    /// - Throws: `PageMessageError` saying what is wrong and what is accepted.
    public static func parse(_ text: String) throws(PageMessageError) -> PageCommand {
        guard text.utf8.count <= maximumBytes else {
            throw PageMessageError("message of \(text.utf8.count) bytes is over the limit of \(maximumBytes) bytes")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw PageMessageError("a message must be one JSON object")
        }
        guard let fields = try? JSONDecoder().decode(Fields.self, from: Data(text.utf8)) else {
            throw PageMessageError("a field has the wrong type: `type`, `modulator` and `preset` are strings, `params` an object of strings, the others numbers")
        }
        let type = fields.type
        func only(_ allowed: Set<String>) throws(PageMessageError) {
            let unknown = Set(object.keys).subtracting(allowed.union(["type"]))
            if let field = unknown.sorted().first { throw PageMessageError("`\(type)` has no field `\(field)`") }
        }
        func number(_ key: String, _ range: ClosedRange<Double>) throws(PageMessageError) -> Double {
            let given: Double? = switch key {
            case "level": fields.level
            case "count": fields.count
            case "value": fields.value
            case "index": fields.index
            case "state": fields.state
            case "seed": fields.seed
            default: fields.tick
            }
            guard let v = given else {
                throw PageMessageError("`\(key)` must be a number from \(range.lowerBound) to \(range.upperBound)")
            }
            guard v.isFinite, range.contains(v) else {
                throw PageMessageError("`\(key)` is \(v); it must be from \(range.lowerBound) to \(range.upperBound)")
            }
            return v
        }
        func integer(_ key: String, _ range: ClosedRange<Int>) throws(PageMessageError) -> Int {
            let v = try number(key, Double(range.lowerBound)...Double(range.upperBound))
            guard v == v.rounded() else { throw PageMessageError("`\(key)` must be a whole number") }
            return Int(v)
        }
        switch type {
        case "modulate":
            try only(["modulator", "level"])
            guard let name = fields.modulator, let m = Neuromodulator(rawValue: name) else {
                throw PageMessageError("`modulator` must be one of \(Neuromodulator.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return .modulate(m, try number("level", 0...1))
        case "stop": try only([]); return .stop
        case "play": try only([]); return .play
        case "pause": try only([]); return .pause
        case "step": try only(["count"]); return .step(object["count"] == nil ? 1 : try integer("count", 1...1000))
        case "speed": try only(["value"]); return .speed(try number("value", 0.1...100))
        case "seek": try only(["tick"]); return .seek(try integer("tick", 0...Int(Int32.max)))
        case "input":
            try only(["index", "state"])
            return .input(try integer("index", 0...99), Trit(rawValue: Int8(try integer("state", -1...1)))!)
        case "clamp":
            try only(["index", "state"])
            return .clamp(try integer("index", 0...9999), Trit(rawValue: Int8(try integer("state", -1...1)))!)
        case "release":
            try only(["index"])
            return .clamp(try integer("index", 0...9999), nil)
        case "build":
            try only(["preset", "seed", "params"])
            guard let preset = fields.preset, preset.utf8.count <= 40 else { throw PageMessageError("`preset` must be a preset's name") }
            let params = fields.params ?? [:]
            guard params.count <= 40 else { throw PageMessageError("`params` holds at most 40 parameters") }
            return .build(preset, UInt64(try integer("seed", 0...Int(Int32.max))), params)
        case "save": try only([]); return .save
        default:
            throw PageMessageError("unknown message type `\(type.prefix(40))`: expected modulate, clamp, release, stop, play, pause, step, speed, seek, input, build or save")
        }
    }
}

/// A page message that was refused, with why.
public struct PageMessageError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Builds the JSON texts the server sends to the page (Docs/VIEW.md, "Messages").
public struct JSONText {
    public private(set) var text = ""

    public init() { text.reserveCapacity(4096) }

    public mutating func raw(_ s: String) { text += s }

    public mutating func number(_ v: Double, digits: Int = 4) {
        guard v.isFinite else { text += "null"; return }
        if v == v.rounded(), abs(v) < 1e15 { text += String(Int64(v)); return }
        text += String(format: "%.\(digits)g", v)
    }

    public mutating func int<I: BinaryInteger>(_ v: I) { text += String(v) }

    public mutating func string(_ s: String) {
        text += "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            default:
                if c.value < 0x20 { text += String(format: "\\u%04x", c.value) } else { text.unicodeScalars.append(c) }
            }
        }
        text += "\""
    }

    public mutating func numbers<S: Sequence>(_ values: S, digits: Int = 4) where S.Element: BinaryFloatingPoint {
        text += "["
        var first = true
        for v in values {
            if !first { text += "," }
            first = false
            number(Double(v), digits: digits)
        }
        text += "]"
    }

    public mutating func ints<S: Sequence>(_ values: S) where S.Element: BinaryInteger {
        text += "["
        var first = true
        for v in values {
            if !first { text += "," }
            first = false
            text += String(v)
        }
        text += "]"
    }

    /// Trits as one string of `-`, `0` and `+`.
    public mutating func trits<S: Sequence>(_ values: S) where S.Element == Int8 {
        text += "\""
        for v in values { text += v > 0 ? "+" : v < 0 ? "-" : "0" }
        text += "\""
    }
}

/// Error and notice messages to the page.
enum Notice {
    static func error(_ message: String) -> String {
        var j = JSONText()
        j.raw("{\"type\":\"error\",\"message\":"); j.string(message); j.raw("}")
        return j.text
    }

    static func info(_ message: String) -> String {
        var j = JSONText()
        j.raw("{\"type\":\"info\",\"message\":"); j.string(message); j.raw("}")
        return j.text
    }
}
