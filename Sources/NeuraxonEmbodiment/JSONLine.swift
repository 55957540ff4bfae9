/// A JSON value as read from one line of a recording.
///
/// Numbers keep their integer value when they are written without a fraction or exponent, so
/// 64-bit timestamps read back exactly.
enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    subscript(key: String) -> JSONValue? {
        if case let .object(o) = self { return o[key] }
        return nil
    }

    var int: Int64? {
        switch self {
        case let .int(v): v
        case let .double(d) where d == d.rounded() && abs(d) < 9.2e18: Int64(d)
        default: nil
        }
    }

    /// A number; `null` reads as NaN (how a recording writes a value it could not compute).
    var double: Double? {
        switch self {
        case let .int(v): Double(v)
        case let .double(d): d
        case .null: .nan
        default: nil
        }
    }

    var string: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    var array: [JSONValue]? {
        if case let .array(a) = self { return a }
        return nil
    }
}

/// A strict JSON parser over the bytes of one line.
struct JSONLineParser {
    struct Failure: Error {
        var offset: Int
        var message: String
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var i = 0

    /// Parses exactly one JSON value filling `bytes` (surrounding spaces allowed).
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(Failure) -> JSONValue {
        var p = JSONLineParser(bytes: bytes)
        p.skipSpace()
        let value = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == bytes.count else { throw Failure(offset: p.i, message: "unexpected text after the record") }
        return value
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0d || bytes[i] == 0x0a { i += 1 }
    }

    private func fail(_ message: String) -> Failure { Failure(offset: i, message: message) }

    private mutating func expect(_ literal: StaticString) throws(Failure) {
        let n = literal.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("the record ends early") }
        for k in 0..<n where bytes[i + k] != literal.utf8Start[k] { throw fail("unexpected character") }
        i += n
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard depth < 32 else { throw fail("nesting too deep") }
        guard i < bytes.count else { throw fail("the record ends early") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            i += 1
            var object: [String: JSONValue] = [:]
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(object) }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                let key = try string()
                skipSpace()
                try expect(":")
                skipSpace()
                object[key] = try value(depth: depth + 1)
                skipSpace()
                guard i < bytes.count else { throw fail("the record ends early") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(object) }
                throw fail("expected , or }")
            }
        case UInt8(ascii: "["):
            i += 1
            var array: [JSONValue] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(array) }
            while true {
                skipSpace()
                array.append(try value(depth: depth + 1))
                skipSpace()
                guard i < bytes.count else { throw fail("the record ends early") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(array) }
                throw fail("expected , or ]")
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"):
            try expect("true"); return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false"); return .bool(false)
        case UInt8(ascii: "n"):
            try expect("null"); return .null
        default:
            return try number()
        }
    }

    private mutating func string() throws(Failure) -> String {
        i += 1
        let start = i
        var plain = true
        while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
            if bytes[i] == UInt8(ascii: "\\") { plain = false; i += 1 }
            i += 1
        }
        guard i < bytes.count else { throw fail("a string is not closed") }
        defer { i += 1 }
        let raw = UnsafeBufferPointer(rebasing: bytes[start..<i])
        if plain { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        var k = 0
        while k < raw.count {
            let c = raw[k]
            k += 1
            guard c == UInt8(ascii: "\\") else { out.append(c); continue }
            guard k < raw.count else { throw fail("bad escape") }
            let e = raw[k]
            k += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0d)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0c)
            case UInt8(ascii: "u"):
                guard k + 4 <= raw.count,
                      let code = UInt32(String(decoding: UnsafeBufferPointer(rebasing: raw[k..<k + 4]), as: UTF8.self), radix: 16)
                else { throw fail("bad \\u escape") }
                k += 4
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(code) ?? "\u{FFFD}")).utf8))
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func number() throws(Failure) -> JSONValue {
        let start = i
        var integral = true
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        while i < bytes.count {
            let c = bytes[i]
            if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") { i += 1; continue }
            if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
                || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { integral = false; i += 1; continue }
            break
        }
        guard i > start else { throw fail("unexpected character") }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        if integral, let v = Int64(text) { return .int(v) }
        guard let d = Double(text), d.isFinite else { throw fail("bad number `\(text)`") }
        return .double(d)
    }
}

/// Appends JSON text to a byte buffer without going through `String` for numbers.
struct JSONOutput {
    var bytes: [UInt8] = []

    mutating func raw(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    mutating func int<T: BinaryInteger>(_ v: T) {
        if v == 0 { bytes.append(UInt8(ascii: "0")); return }
        var magnitude = v.magnitude
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        let start = bytes.count
        while magnitude > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        }
        bytes[start...].reverse()
    }

    /// A double in its shortest form that reads back to the same value; NaN and ±∞ as null.
    mutating func double(_ v: Double) {
        guard v.isFinite else { raw("null"); return }
        if v == v.rounded(), abs(v) < 1e15 { int(Int64(v)); return }
        bytes.append(contentsOf: v.description.utf8)
    }

    mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0a: raw("\\n")
            case 0x0d: raw("\\r")
            case 0x09: raw("\\t")
            case 0..<0x20:
                raw("\\u00")
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(hex[Int(c >> 4)]); bytes.append(hex[Int(c & 0xf)])
            default: bytes.append(c)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func key(_ k: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        raw(k)
        raw("\":")
    }

    mutating func array<C: Collection>(_ c: C, _ element: (inout JSONOutput, C.Element) -> Void) {
        bytes.append(UInt8(ascii: "["))
        var first = true
        for e in c {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            element(&self, e)
        }
        bytes.append(UInt8(ascii: "]"))
    }
}
