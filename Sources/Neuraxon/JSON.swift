import Foundation

/// A JSON value that remembers where in its text it began, so that errors can name the place.
///
/// Numbers keep whether they were written as integers ("5") or reals ("5.0", "5e0"), the
/// distinction Python's `json` makes. Objects keep key order.
struct JSONValue {
    enum Kind {
        case null
        case bool(Bool)
        case integer(Int)
        case real(Double)
        case string(String)
        case array([JSONValue])
        case object([(key: String, value: JSONValue)])
    }

    let kind: Kind
    /// 1-based line and column of the value's first character.
    let line: Int
    let column: Int

    var typeName: String {
        switch kind {
        case .null: "null"
        case .bool: "a boolean"
        case .integer: "an integer"
        case .real: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let members) = kind { return members.first { $0.key == key }?.value }
        return nil
    }
}

/// Why a text is not valid JSON, and where.
struct JSONSyntaxError: Error, CustomStringConvertible {
    let message: String
    let line: Int
    let column: Int
    var description: String { "line \(line), column \(column): \(message)" }
}

/// A strict JSON parser (RFC 8259) over UTF-8 bytes. Python's extensions `NaN`, `Infinity` and
/// `-Infinity` are recognised only to be refused with a clear message.
struct JSONParser {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var lineStart = 0

    static func parse(_ data: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: data)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private var column: Int { index - lineStart + 1 }

    private func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(message: message, line: line, column: column)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0D: index += 1
            case 0x0A: index += 1; line += 1; lineStart = index
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard depth < 64 else { throw error("nesting deeper than 64 levels") }
        guard index < bytes.count else { throw error("unexpected end of file") }
        let (l, c) = (line, column)
        func made(_ kind: JSONValue.Kind) -> JSONValue { JSONValue(kind: kind, line: l, column: c) }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var members: [(key: String, value: JSONValue)] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return made(.object(members)) }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
                let key = try parseString()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after key \"\(key)\"") }
                index += 1
                skipWhitespace()
                if members.contains(where: { $0.key == key }) { throw error("duplicate key \"\(key)\"") }
                members.append((key, try parseValue(depth: depth + 1)))
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of file inside an object") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return made(.object(members)) }
                throw error("expected ',' or '}' in an object")
            }
        case UInt8(ascii: "["):
            index += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return made(.array(elements)) }
            while true {
                skipWhitespace()
                elements.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of file inside an array") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return made(.array(elements)) }
                throw error("expected ',' or ']' in an array")
            }
        case UInt8(ascii: "\""):
            return made(.string(try parseString()))
        case UInt8(ascii: "t"):
            try expectWord("true"); return made(.bool(true))
        case UInt8(ascii: "f"):
            try expectWord("false"); return made(.bool(false))
        case UInt8(ascii: "n"):
            try expectWord("null"); return made(.null)
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            throw error("NaN and Infinity are not numbers a network file may hold")
        default:
            return made(try parseNumber())
        }
    }

    private mutating func expectWord(_ word: String) throws(JSONSyntaxError) {
        let w = Array(word.utf8)
        guard index + w.count <= bytes.count, Array(bytes[index..<index + w.count]) == w else {
            throw error("unexpected character")
        }
        index += w.count
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue.Kind {
        let start = index
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "I") {
                throw error("NaN and Infinity are not numbers a network file may hold")
            }
        }
        func digits() -> Int {
            let from = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            return index - from
        }
        let intDigits = digits()
        guard intDigits > 0 else { index = start; throw error("unexpected character") }
        if intDigits > 1, bytes[index - intDigits] == 0x30 { throw error("a number may not start with 0") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard digits() > 0 else { throw error("expected digits after '.'") }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw error("expected digits in the exponent") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let value = Int(text) { return .integer(value) }
        guard let value = Double(text), value.isFinite else { throw error("number \(text) is out of range") }
        return .real(value)
    }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        index += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard index < bytes.count else { throw error("unterminated string") }
            let b = bytes[index]
            index += 1
            switch b {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw error("unterminated string") }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), index + 1 < bytes.count,
                       bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                        index += 2
                        let low = try hex4()
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8))
                default:
                    throw error("invalid escape in a string")
                }
            case 0x00..<0x20:
                throw error("control character in a string")
            default:
                out.append(b)
            }
        }
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
            throw error("invalid \\u escape")
        }
        index += 4
        return v
    }
}

/// Writes JSON the way Python's `json.dump(obj, f, indent=2)` lays it out: two-space indents,
/// `", "`-free item separators with newlines, `": "` after keys, empty containers as `[]`/`{}`.
/// Reals use the shortest text that reads back to the same double, always with a '.' or an
/// exponent, like Python's `repr`.
struct JSONWriter {
    private(set) var text = ""

    enum Item {
        case null
        case bool(Bool)
        case integer(Int)
        case real(Double)
        case string(String)
        case array([Item])
        case object([(String, Item)])
        /// A flat array of reals, written one per line like any array.
        case reals([Double])
    }

    static func render(_ item: Item) -> String {
        var w = JSONWriter()
        w.text.reserveCapacity(4096)
        w.write(item, indent: 0)
        return w.text
    }

    static func real(_ value: Double) -> String {
        var s = "\(value)"
        if value.isFinite, !s.contains("."), !s.contains("e") { s += ".0" }
        return s
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value > 0x7E {
                    // Python's ensure_ascii escaping.
                    if scalar.value > 0xFFFF {
                        let v = scalar.value - 0x10000
                        out += String(format: "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
                    } else {
                        out += String(format: "\\u%04x", scalar.value)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private mutating func newline(_ indent: Int) {
        text += "\n"
        text += String(repeating: " ", count: indent)
    }

    private mutating func write(_ item: Item, indent: Int) {
        switch item {
        case .null: text += "null"
        case .bool(let b): text += b ? "true" : "false"
        case .integer(let i): text += String(i)
        case .real(let d): text += Self.real(d)
        case .string(let s): text += Self.quoted(s)
        case .reals(let values):
            guard !values.isEmpty else { text += "[]"; return }
            text += "["
            for (i, v) in values.enumerated() {
                if i > 0 { text += "," }
                newline(indent + 2)
                text += Self.real(v)
            }
            newline(indent)
            text += "]"
        case .array(let items):
            guard !items.isEmpty else { text += "[]"; return }
            text += "["
            for (i, v) in items.enumerated() {
                if i > 0 { text += "," }
                newline(indent + 2)
                write(v, indent: indent + 2)
            }
            newline(indent)
            text += "]"
        case .object(let members):
            guard !members.isEmpty else { text += "{}"; return }
            text += "{"
            for (i, (k, v)) in members.enumerated() {
                if i > 0 { text += "," }
                newline(indent + 2)
                text += Self.quoted(k)
                text += ": "
                write(v, indent: indent + 2)
            }
            newline(indent)
            text += "}"
        }
    }
}
