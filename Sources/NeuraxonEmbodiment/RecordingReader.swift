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
    /// every complete line was read.
    case endedEarly(lines: Int)
    /// A line could not be read; everything before it was.
    case damaged(line: Int, byteOffset: Int, reason: String)

    public var description: String {
        switch self {
        case .complete:
            "complete"
        case let .endedEarly(lines):
            "the file ends after line \(lines) without an end record (the run was interrupted); every complete record was read"
        case let .damaged(line, offset, reason):
            "stopped at line \(line) (byte \(offset)): \(reason); every record before it was read"
        }
    }
}

/// Reads a recording line by line from its file, never holding more than one buffer of it.
///
/// A line that is cut short (a run killed mid-write) or damaged ends the reading; `stop` then
/// says where, and everything before it has been returned.
public final class RecordingReader {
    public let path: String
    public let header: RecordingHeader
    /// Why `next()` returned `nil`; `nil` while records remain.
    public private(set) var stop: ReadStop?

    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0              // first unread byte in buffer
    private var fileOffset = 0         // file offset of buffer[0]
    private var atEOF = false
    private(set) var lineNumber = 0

    /// Opens a recording and reads its header.
    /// - Throws: `RecordingError` when the file cannot be opened or its first line is not a
    ///   recording header of a version this library reads.
    public init(path: String) throws(RecordingError) {
        self.path = path
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
        guard decoded.format == RecordingHeader.formatName else {
            close(fd)
            throw RecordingError(path: path, "line 1 has format `\(decoded.format)`, not `\(RecordingHeader.formatName)`")
        }
        guard decoded.version == RecordingHeader.currentVersion else {
            close(fd)
            throw RecordingError(path: path, "the recording has format version \(decoded.version); this program reads version \(RecordingHeader.currentVersion): use a matching neuraxon")
        }
        header = decoded
    }

    deinit { close(fd) }

    /// The next tick or event, or `nil` at the end (see `stop`).
    public func next() -> RecordingEntry? {
        guard stop == nil else { return nil }
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
            return .tick(tick)
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
                return .tick(try TickRecord(json: value))
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
            let event = RecordingEvent(kind: kind, tick: Int(tick), timestampMicros: UInt64(clamping: t))
            if kind == .end { stop = .complete }
            return .event(event)
        default:
            stop = .damaged(line: lineNumber, byteOffset: offset, reason: "a record of unknown type")
            return nil
        }
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
            let chunk = 1 << 20
            let old = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: chunk))
            var n: Int
            repeat {
                n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + old, chunk) }
            } while n < 0 && errno == EINTR
            buffer.removeLast(chunk - max(0, n))
            if n <= 0 { atEOF = true }
        }
    }
}
