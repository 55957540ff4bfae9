import Foundation
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// One line of a recording after its header.
public enum RecordingEntry: Sendable, Equatable {
    case tick(TickRecord)
    case event(RecordingEvent)
}

/// Where reading a recording stopped.
public enum ReadStop: Sendable, Equatable, CustomStringConvertible {
    /// The recording ended with its end event.
    case complete
    /// The file ended without an end event (the run was killed or is still being written);
    /// every complete line was read. `lines` is 0 for an MCAP file, which has no lines.
    case endedEarly(lines: Int)
    /// A line could not be read; everything before it was.
    case damaged(line: Int, byteOffset: Int, reason: String)

    public var description: String {
        switch self {
        case .complete:
            "complete"
        case let .endedEarly(lines) where lines > 0:
            "the file ends after line \(lines) without an end record (the run was interrupted); every complete record was read"
        case .endedEarly:
            "the file ends without an end record (the run was interrupted); every complete chunk was read"
        case let .damaged(_, _, reason):
            "stopped at \(location): \(reason); every record before it was read"
        }
    }

    /// Where a damaged recording stopped: "line L (byte B)" in JSON Lines, "byte B" in MCAP
    /// (which has no lines: its `line` is 0); "" for the other cases.
    public var location: String {
        guard case let .damaged(line, offset, _) = self else { return "" }
        return line > 0 ? "line \(line) (byte \(offset))" : "byte \(offset)"
    }
}

/// Reads a recording line by line from its file, never holding more than one buffer of it.
/// An MCAP recording (a file starting with the MCAP magic, Docs/LOG-FORMAT.md) is read the same
/// way through `MCAPRecordingSource`: the same entries, the same checks, `stop` with byte
/// offsets (an MCAP file has no lines).
///
/// A line that is cut short (a run killed mid-write) or damaged ends the reading; `stop` then
/// says where, and everything before it has been returned. So does a tick out of order: tick
/// numbers must rise by one from line to line, or by more only where the recorder counted
/// dropped records (`record_drops`), so a repeated, swapped or deleted tick line is reported
/// where it is. A line after the `end` record is reported too.
public final class RecordingReader {
    public let path: String
    public let header: RecordingHeader
    /// Why `next()` returned `nil`; `nil` while records remain.
    public private(set) var stop: ReadStop?

    private let fd: Int32
    /// The MCAP file being read, when the recording is one.
    private let mcap: MCAPRecordingSource?
    private var buffer: [UInt8] = []
    private var start = 0              // first unread byte in buffer
    private var fileOffset = 0         // file offset of buffer[0]
    private var atEOF = false
    private(set) var lineNumber = 0
    /// The last tick returned: its number and its `record_drops` counter.
    private var previousTick: (tick: Int, recordDrops: Int)?

    /// Opens a recording and reads its header.
    /// - Throws: `RecordingError` when the file cannot be opened or its first line is not a
    ///   recording header of a version this library reads.
    public init(path: String) throws(RecordingError) {
        self.path = path
        if MCAPReader.isMCAP(path: path) {
            let source = try MCAPRecordingSource(path: path)
            try Self.checkFormat(source.header, path: path)
            mcap = source
            header = source.header
            fd = -1
            return
        }
        mcap = nil
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw RecordingError(path: path, "cannot open the recording (\(String(cString: strerror(errno)))): check the path")
        }
        buffer.reserveCapacity(1 << 20)
        guard let (range, _) = Self.nextLine(fd: fd, buffer: &buffer, start: &start, fileOffset: &fileOffset, atEOF: &atEOF) else {
            close(fd)
            throw RecordingError(path: path, "the file is empty or its first line is incomplete: it is not a Neuraxon recording")
        }
        lineNumber = 1
        let decoded: RecordingHeader
        do {
            decoded = try JSONDecoder().decode(RecordingHeader.self, from: Data(buffer[range]))
        } catch {
            close(fd)
            throw RecordingError(path: path, "line 1 is not a Neuraxon recording header (\(describeDecodingProblem(error))); is this a recording file?")
        }
        do {
            try Self.checkFormat(decoded, path: path)
        } catch {
            close(fd)
            throw error
        }
        header = decoded
    }

    private static func checkFormat(_ decoded: RecordingHeader, path: String) throws(RecordingError) {
        guard decoded.format == RecordingHeader.formatName else {
            throw RecordingError(path: path, "line 1 has format `\(decoded.format)`, not `\(RecordingHeader.formatName)`")
        }
        guard decoded.version == RecordingHeader.currentVersion else {
            throw RecordingError(path: path, "the recording has format version \(decoded.version); this program reads version \(RecordingHeader.currentVersion): use a matching neuraxon")
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Whether the recording is an MCAP file.
    public var isMCAP: Bool { mcap != nil }

    /// The next tick or event, or `nil` at the end (see `stop`).
    public func next() -> RecordingEntry? {
        guard stop == nil else { return nil }
        if let mcap { return nextFromMCAP(mcap) }
        guard let (range, offset) = Self.nextLine(fd: fd, buffer: &buffer, start: &start, fileOffset: &fileOffset, atEOF: &atEOF) else {
            if start < buffer.count {
                stop = .damaged(line: lineNumber + 1, byteOffset: fileOffset + start,
                                reason: "the last line is cut short (\(buffer.count - start) bytes without a newline)")
            } else {
                stop = .endedEarly(lines: lineNumber)
            }
            return nil
        }
        lineNumber += 1
        if let tick = buffer.withUnsafeBufferPointer({ TickLineParser.parse(UnsafeBufferPointer(rebasing: $0[range])) }) {
            return checkedInOrder(tick, offset: offset)
        }
        let value: JSONValue
        do {
            value = try buffer.withUnsafeBufferPointer { (p) throws(JSONLineParser.Failure) in
                try JSONLineParser.parse(UnsafeBufferPointer(rebasing: p[range]))
            }
        } catch {
            stop = .damaged(line: lineNumber, byteOffset: offset + error.offset, reason: "not valid JSON (\(error.message))")
            return nil
        }
        switch value["type"]?.string {
        case "tick":
            do {
                return checkedInOrder(try TickRecord(json: value), offset: offset)
            } catch {
                stop = .damaged(line: lineNumber, byteOffset: offset, reason: "a bad tick record: \(error)")
                return nil
            }
        case "event":
            guard let name = value["event"]?.string, let kind = RecordingEvent.Kind(rawValue: name),
                  let tick = value["tick"]?.int, let t = value["t_us"]?.int else {
                stop = .damaged(line: lineNumber, byteOffset: offset, reason: "a bad event record")
                return nil
            }
            var event = RecordingEvent(kind: kind, tick: Int(tick), timestampMicros: UInt64(clamping: t))
            event.readDetails(value)
            if kind == .modulate {
                guard let (m, level) = RecordingEvent.modulation(value) else {
                    stop = .damaged(line: lineNumber, byteOffset: offset, reason: "a modulate event needs `modulator` and a `level` from 0 to 1")
                    return nil
                }
                event.modulator = m
                event.level = level
            }
            if kind == .clamp {
                guard let (input, state) = RecordingEvent.clamping(value) else {
                    stop = .damaged(line: lineNumber, byteOffset: offset, reason: "a clamp event needs an `input` index and a `state` of -1, 0, 1 or \"released\"")
                    return nil
                }
                event.input = input
                event.clampedState = state
            }
            if kind == .end {
                stop = .complete
                if let (_, after) = Self.nextLine(fd: fd, buffer: &buffer, start: &start, fileOffset: &fileOffset, atEOF: &atEOF) {
                    stop = .damaged(line: lineNumber + 1, byteOffset: after,
                                    reason: "a line follows the end record (two recordings in one file?)")
                } else if start < buffer.count {
                    stop = .damaged(line: lineNumber + 1, byteOffset: fileOffset + start,
                                    reason: "bytes follow the end record (two recordings in one file?)")
                }
            }
            return .event(event)
        case "link":
            guard let link = RecordingEvent.linkRecord(value) else {
                stop = .damaged(line: lineNumber, byteOffset: offset, reason: "a link record needs `tick` and `t_us`")
                return nil
            }
            return .event(link)
        default:
            stop = .damaged(line: lineNumber, byteOffset: offset, reason: "a record of unknown type")
            return nil
        }
    }

    private func nextFromMCAP(_ source: MCAPRecordingSource) -> RecordingEntry? {
        guard let entry = source.next() else {
            stop = source.stop ?? .complete
            return nil
        }
        lineNumber += 1
        switch entry {
        case let .tick(t):
            return checkedInOrder(t, offset: 0)
        case let .event(e):
            if e.kind == .end, let after = source.next() {
                let what = if case .tick = after { "a tick" } else { "an event" }
                stop = .damaged(line: 0, byteOffset: 0, reason: "\(what) follows the end event (two recordings in one file?)")
            }
            return entry
        }
    }

    /// `tick` if its number follows the previous tick's; otherwise ends the reading there.
    private func checkedInOrder(_ tick: TickRecord, offset: Int) -> RecordingEntry? {
        if let previous = previousTick {
            let gap = tick.tick - previous.tick - 1
            if tick.tick <= previous.tick {
                stop = .damaged(line: lineNumber, byteOffset: offset,
                                reason: "tick \(tick.tick) comes after tick \(previous.tick): a tick is repeated or out of order")
                return nil
            }
            if gap > tick.counters.recordDrops - previous.recordDrops {
                stop = .damaged(line: lineNumber, byteOffset: offset,
                                reason: gap == 1 ? "tick \(previous.tick + 1) is missing (tick \(tick.tick) follows tick \(previous.tick))"
                                    : "ticks \(previous.tick + 1)…\(tick.tick - 1) are missing (tick \(tick.tick) follows tick \(previous.tick))")
                return nil
            }
        }
        previousTick = (tick.tick, tick.counters.recordDrops)
        return .tick(tick)
    }

    /// The `end` record on the file's last line, read without moving through the file (for the
    /// length of a recording whose reading stopped early); nil when the last line is not one.
    /// For MCAP, the `end` event in the last chunk, found through the summary.
    public func endRecordAtFileEnd() -> RecordingEvent? {
        if mcap != nil { return MCAPRecordingSource.endEvent(path: path) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return nil }
        let size = Int(info.st_size)
        let length = min(size, 4096)
        var tail = [UInt8](repeating: 0, count: length)
        let n = tail.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, length, off_t(size - length)) }
        guard n == length else { return nil }
        guard tail.last == 0x0a else { return nil }
        let body = tail.dropLast()
        let lineStart = (body.lastIndex(of: 0x0a).map { $0 + 1 }) ?? body.startIndex
        guard lineStart > body.startIndex || length == size else { return nil }
        let line = Array(body[lineStart...])
        guard let value = try? line.withUnsafeBufferPointer({ (p) throws(JSONLineParser.Failure) in try JSONLineParser.parse(p) }),
              value["type"]?.string == "event", value["event"]?.string == RecordingEvent.Kind.end.rawValue,
              let tick = value["tick"]?.int, let t = value["t_us"]?.int else { return nil }
        return RecordingEvent(kind: .end, tick: Int(tick), timestampMicros: UInt64(clamping: t))
    }

    /// The next tick record, skipping events; `nil` at the end.
    public func nextTick() -> TickRecord? {
        while let entry = next() {
            if case let .tick(t) = entry { return t }
        }
        return nil
    }

    /// The next complete line (without its newline) as a range of `buffer`, and its file
    /// offset, or `nil` when no complete line remains.
    private static func nextLine(fd: Int32, buffer: inout [UInt8], start: inout Int, fileOffset: inout Int,
                                 atEOF: inout Bool) -> (Range<Int>, Int)? {
        var scan = start
        while true {
            let found: Int? = buffer.withUnsafeBufferPointer { p in
                guard scan < p.count, let hit = memchr(p.baseAddress! + scan, 0x0a, p.count - scan) else { return nil }
                return p.baseAddress!.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            }
            if let nl = found {
                let range = start..<nl
                let offset = fileOffset + start
                start = nl + 1
                return (range, offset)
            }
            if atEOF { return nil }
            // Drop consumed bytes, then read more.
            if start > 0 {
                buffer.removeSubrange(0..<start)
                fileOffset += start
                start = 0
            }
            scan = buffer.count
            // Read into a heap buffer (1 MB does not belong on a thread's stack), then append.
            let chunk = 1 << 20
            let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
            defer { scratch.deallocate() }
            var n: Int
            repeat { n = read(fd, scratch, chunk) } while n < 0 && errno == EINTR
            if n > 0 { buffer.append(contentsOf: UnsafeBufferPointer(start: scratch, count: n)) }
            if n <= 0 { atEOF = true }
        }
    }
}
