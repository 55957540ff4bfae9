#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Neuraxon

/// A fast reader for tick lines as the recorder writes them: it fills a `TickRecord` straight
/// from the bytes, without building a JSON tree. Anything it does not expect (another key
/// order is fine; an unknown key, an escape, a nested value) makes it give up with `nil`, and
/// the caller falls back to the general JSON parser, which also words the error.
struct TickLineParser {
    private let b: UnsafeBufferPointer<UInt8>
    private var i = 0

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> TickRecord? {
        var p = TickLineParser(b: bytes)
        return p.record()
    }

    private init(b: UnsafeBufferPointer<UInt8>) { self.b = b }

    private mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0d { i += 1 }
    }

    private mutating func take(_ c: UInt8) -> Bool {
        skipSpace()
        guard i < b.count, b[i] == c else { return false }
        i += 1
        return true
    }

    /// A key or a short string without escapes, as a byte range.
    private mutating func plainString() -> Range<Int>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = i
        while i < b.count, b[i] != UInt8(ascii: "\"") {
            if b[i] == UInt8(ascii: "\\") { return nil }
            i += 1
        }
        guard i < b.count else { return nil }
        i += 1
        return start..<(i - 1)
    }

    private func equals(_ r: Range<Int>, _ s: StaticString) -> Bool {
        guard r.count == s.utf8CodeUnitCount else { return false }
        for k in 0..<r.count where b[r.lowerBound + k] != s.utf8Start[k] { return false }
        return true
    }

    private mutating func int() -> Int64? {
        skipSpace()
        var negative = false
        if i < b.count, b[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        let start = i
        var v: Int64 = 0
        while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(b[i] - UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            v = a
            i += 1
        }
        guard i > start else { return nil }
        if i < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") { return nil }
        return negative ? -v : v
    }

    /// A number (exact, through strtod) or `null` as NaN.
    private mutating func double() -> Double? {
        skipSpace()
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "n") {
            guard i + 4 <= b.count, b[i + 1] == UInt8(ascii: "u"), b[i + 2] == UInt8(ascii: "l"), b[i + 3] == UInt8(ascii: "l") else { return nil }
            i += 4
            return .nan
        }
        let start = i
        while i < b.count {
            let c = b[i]
            guard (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") else { break }
            i += 1
        }
        let n = i - start
        guard n > 0, n < 40 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 41) { buf -> Double? in
            for k in 0..<n { buf[k] = CChar(bitPattern: b[start + k]) }
            buf[n] = 0
            var end: UnsafeMutablePointer<CChar>?
            let v = strtod(buf.baseAddress!, &end)
            guard end == buf.baseAddress! + n, v.isFinite else { return nil }
            return v
        }
    }

    private mutating func list<T>(_ element: (inout TickLineParser) -> T?) -> [T]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var out: [T] = []
        out.reserveCapacity(8)
        if take(UInt8(ascii: "]")) { return out }
        repeat {
            guard let v = element(&self) else { return nil }
            out.append(v)
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]")) ? out : nil
    }

    private mutating func counters() -> TickCounters? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var c = TickCounters()
        if take(UInt8(ascii: "}")) { return c }
        repeat {
            guard let key = plainString(), take(UInt8(ascii: ":")), let v = int() else { return nil }
            let n = Int(v)
            if equals(key, "overruns") { c.overruns = n }
            else if equals(key, "late") { c.lateTicks = n }
            else if equals(key, "reading_errors") { c.readingErrors = n }
            else if equals(key, "clock_resets") { c.clockResets = n }
            else if equals(key, "dropped") { c.droppedFrames = n }
            else if equals(key, "record_drops") { c.recordDrops = n }
            else { return nil }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}")) ? c : nil
    }

    private mutating func record() -> TickRecord? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var tick: Int64?, t: Int64?, seq: Int64?, host: Int64?, sent: Int64 = 0, steps: Int64?
        var raw: [Int16]?, values: [Double]?, inputs: [Trit]?, outputs: [Trit]?, setpoints: [Int16]?, modulators: [Double]?
        var counters = TickCounters()
        var pose: RecordedPose?
        var isTick = false
        let int16: (inout TickLineParser) -> Int16? = { $0.int().flatMap { Int16(exactly: $0) } }
        let trit: (inout TickLineParser) -> Trit? = { $0.int().flatMap { Trit(Int($0)) } }
        let double: (inout TickLineParser) -> Double? = { $0.double() }
        repeat {
            guard let key = plainString(), take(UInt8(ascii: ":")) else { return nil }
            if equals(key, "type") {
                guard let v = plainString(), equals(v, "tick") else { return nil }
                isTick = true
            } else if equals(key, "tick") { tick = int() }
            else if equals(key, "t_us") { t = int() }
            else if equals(key, "seq") { seq = int() }
            else if equals(key, "host_ns") { host = int() }
            else if equals(key, "sent_ns") { guard let v = int() else { return nil }; sent = v }
            else if equals(key, "steps") { steps = int() }
            else if equals(key, "raw") { raw = list(int16) }
            else if equals(key, "values") { values = list(double) }
            else if equals(key, "inputs") { inputs = list(trit) }
            else if equals(key, "outputs") { outputs = list(trit) }
            else if equals(key, "setpoints") { setpoints = list(int16) }
            else if equals(key, "modulators") { modulators = list(double) }
            else if equals(key, "counters") { guard let c = self.counters() else { return nil }; counters = c }
            else if equals(key, "pose") { guard let p = self.pose() else { return nil }; pose = p }
            else { return nil }
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")) else { return nil }
        skipSpace()
        guard i == b.count, isTick, let tick, let t, let seq, let host, let steps, let raw, let values, let inputs,
              let outputs, let setpoints, let modulators,
              let timestamp = UInt64(exactly: t), let sequence = UInt32(exactly: seq) else { return nil }
        return TickRecord(tick: Int(tick), timestampMicros: timestamp, sequence: sequence,
                          hostReceiveNanos: UInt64(clamping: host), hostSendNanos: UInt64(clamping: sent), steps: Int(steps),
                          raw: raw, values: values, inputs: inputs, outputs: outputs, setpoints: setpoints,
                          modulators: modulators, counters: counters, pose: pose)
    }

    /// `{"x": …, "y": …, "heading": …}`, all three, in any order.
    private mutating func pose() -> RecordedPose? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var x: Double?, y: Double?, heading: Double?
        repeat {
            guard let key = plainString(), take(UInt8(ascii: ":")), let v = double() else { return nil }
            if equals(key, "x") { x = v }
            else if equals(key, "y") { y = v }
            else if equals(key, "heading") { heading = v }
            else { return nil }
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")), let x, let y, let heading else { return nil }
        return RecordedPose(x: x, y: y, heading: heading)
    }
}
