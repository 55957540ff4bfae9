#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// One MCAP message as read back: its channel's topic, times in ns and JSON data.
struct MCAPMessage {
    var channel: UInt16
    var sequence: UInt32
    var logTime: UInt64
    var publishTime: UInt64
    var data: ArraySlice<UInt8>
}

/// Reads an MCAP file (https://mcap.dev/spec) front to back without its summary, so it reads
/// a file that was cut off (a run killed mid-write) as far as it is whole.
///
/// It returns the data section's records in order and opens each chunk, returning the schemas,
/// channels and messages inside it; a chunk's CRC is checked. It stops at the data end record
/// (`stop == .complete`), at the end of the file after a whole record (`.endedEarly`: no data
/// end, the file was not finished), or at a record that is cut short or not valid (`.damaged`,
/// with the byte offset), so a file cut at any point yields every message of every chunk that
/// was written whole before the cut.
final class MCAPReader {
    enum Item {
        case schema(id: UInt16, name: String, encoding: String, data: ArraySlice<UInt8>)
        case channel(id: UInt16, schema: UInt16, topic: String, encoding: String)
        case message(MCAPMessage)
        case metadata(name: String, entries: [(String, String)])
        case attachment(name: String, mediaType: String, data: ArraySlice<UInt8>)
    }

    enum Stop: Equatable {
        case complete
        case endedEarly(records: Int)
        case damaged(byteOffset: Int, reason: String)
    }

    let path: String
    private(set) var stop: Stop?
    /// Records of the data section read so far (chunks count as one).
    private(set) var records = 0

    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var fileOffset = 0
    private var atEOF = false
    /// The open chunk's records and where the next one starts.
    private var chunk: [UInt8] = []
    private var chunkAt = 0
    private var chunkFileOffset = 0

    /// Whether the file at `path` starts with the MCAP magic.
    static func isMCAP(path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: MCAP.magic.count)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        return n == MCAP.magic.count && head == MCAP.magic
    }

    /// Opens `path` and checks its magic and header record.
    init(path: String) throws(RecordingError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw RecordingError(path: path, "cannot open the recording (\(String(cString: strerror(errno)))): check the path")
        }
        buffer.reserveCapacity(1 << 20)
        guard fill(MCAP.magic.count), Array(buffer[0..<MCAP.magic.count]) == MCAP.magic else {
            close(fd)
            throw RecordingError(path: path, "the file does not start with the MCAP magic: it is not an MCAP file")
        }
        start = MCAP.magic.count
        guard let (opcode, _, _) = nextRecord(), opcode == MCAP.Opcode.header.rawValue else {
            close(fd)
            throw RecordingError(path: path, "the MCAP header record is missing or cut short: the file is not a whole MCAP recording")
        }
    }

    deinit { close(fd) }

    /// The next item of the data section, or nil at its end (see `stop`).
    func next() -> Item? {
        while stop == nil {
            if chunkAt < chunk.count {
                if let item = nextInChunk() { return item }
                continue
            }
            guard let (opcode, content, offset) = nextRecord() else { return nil }
            records += 1
            do throws(MCAPFieldError) {
                var f = MCAPFields(content)
                switch MCAP.Opcode(rawValue: opcode) {
                case .schema?, .channel?:
                    return try Self.definition(opcode, &f)
                case .chunk?:
                    _ = try f.u64("message_start_time"); _ = try f.u64("message_end_time")
                    let size = try f.u64("uncompressed_size")
                    let crc = try f.u32("uncompressed_crc")
                    let compression = try f.string("compression")
                    let body = try f.bytes64("records")
                    guard compression.isEmpty else {
                        stop = .damaged(byteOffset: offset, reason: "a chunk compressed with `\(compression)`, which this program does not read: export it uncompressed (mcap convert)")
                        return nil
                    }
                    guard UInt64(body.count) == size, crc == 0 || CRC32.of(body) == crc else {
                        stop = .damaged(byteOffset: offset, reason: "a chunk whose CRC or size does not match its records (the file is damaged)")
                        return nil
                    }
                    chunk = Array(body)
                    chunkAt = 0
                    chunkFileOffset = offset + 1 + 8 + (content.count - body.count)
                case .metadata?:
                    return .metadata(name: try f.string("name"), entries: try f.stringMap("metadata"))
                case .attachment?:
                    _ = try f.u64("log_time"); _ = try f.u64("create_time")
                    let name = try f.string("name"), mediaType = try f.string("media_type")
                    return .attachment(name: name, mediaType: mediaType, data: try f.bytes64("data"))
                case .message?:
                    return .message(try Self.message(&f))
                case .dataEnd?:
                    stop = .complete
                    return nil
                case .footer?:
                    stop = .complete
                    return nil
                default:
                    continue   // message indexes and anything this program does not use
                }
            } catch {
                stop = .damaged(byteOffset: offset + 9 + error.offset, reason: "a record that cannot be read: \(error.what)")
                return nil
            }
        }
        return nil
    }

    private func nextInChunk() -> Item? {
        let at = chunkAt
        guard chunk.count - at >= 9 else { return chunkDamaged(at, "a record inside a chunk is cut short") }
        var length: UInt64 = 0
        for k in 0..<8 { length |= UInt64(chunk[at + 1 + k]) << (8 * UInt64(k)) }
        guard length <= UInt64(chunk.count - at - 9) else { return chunkDamaged(at, "a record inside a chunk runs past its end") }
        let opcode = chunk[at]
        let content = chunk[(at + 9)..<(at + 9 + Int(length))]
        chunkAt = at + 9 + Int(length)
        do throws(MCAPFieldError) {
            var f = MCAPFields(content)
            switch MCAP.Opcode(rawValue: opcode) {
            case .message?: return .message(try Self.message(&f))
            case .schema?, .channel?: return try Self.definition(opcode, &f)
            default: return nil
            }
        } catch {
            return chunkDamaged(at, "a record inside a chunk cannot be read: \(error.what)")
        }
    }

    private func chunkDamaged(_ at: Int, _ reason: String) -> Item? {
        stop = .damaged(byteOffset: chunkFileOffset + at, reason: reason)
        chunk = []
        chunkAt = 0
        return nil
    }

    private static func definition(_ opcode: UInt8, _ f: inout MCAPFields) throws(MCAPFieldError) -> Item {
        if opcode == MCAP.Opcode.schema.rawValue {
            return .schema(id: try f.u16("schema id"), name: try f.string("schema name"), encoding: try f.string("schema encoding"),
                           data: try f.bytes32("schema data"))
        }
        let id = try f.u16("channel id"), schema = try f.u16("schema id")
        return .channel(id: id, schema: schema, topic: try f.string("topic"), encoding: try f.string("message encoding"))
    }

    private static func message(_ f: inout MCAPFields) throws(MCAPFieldError) -> MCAPMessage {
        MCAPMessage(channel: try f.u16("channel id"), sequence: try f.u32("sequence"), logTime: try f.u64("log_time"),
                    publishTime: try f.u64("publish_time"), data: f.rest())
    }

    /// The next whole record of the file: opcode, content, file offset of its opcode. Sets
    /// `stop` at the end of the file or at a record cut short.
    private func nextRecord() -> (UInt8, ArraySlice<UInt8>, Int)? {
        if start > 1 << 20 {
            buffer.removeSubrange(0..<start)
            fileOffset += start
            start = 0
        }
        let offset = fileOffset + start
        guard fill(start + 9) else {
            stop = buffer.count == start ? .endedEarly(records: records)
                : .damaged(byteOffset: offset, reason: "the last record is cut short (\(buffer.count - start) bytes): the run was interrupted; every chunk before it was read")
            return nil
        }
        var length: UInt64 = 0
        for k in 0..<8 { length |= UInt64(buffer[start + 1 + k]) << (8 * UInt64(k)) }
        guard length < 1 << 40, fill(start + 9 + Int(length)) else {
            stop = .damaged(byteOffset: offset, reason: "the last record is cut short (\(buffer.count - start) of \(length &+ 9) bytes): the run was interrupted; every chunk before it was read")
            return nil
        }
        let opcode = buffer[start]
        let content = buffer[(start + 9)..<(start + 9 + Int(length))]
        start += 9 + Int(length)
        return (opcode, content, offset)
    }

    /// Reads until `buffer` holds at least `count` bytes; false at the end of the file.
    private func fill(_ count: Int) -> Bool {
        while buffer.count < count {
            if atEOF { return false }
            let want = max(1 << 20, count - buffer.count)
            let old = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: want))
            var n: Int
            repeat { n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + old, want) } } while n < 0 && errno == EINTR
            buffer.removeSubrange((old + max(0, n))...)
            if n <= 0 { atEOF = true }
        }
        return true
    }
}

extension MCAPReader {
    /// The messages on `topic` in the file's last chunk, found through the summary without
    /// reading the rest of the file; nil when the file has no valid footer and summary.
    static func lastChunkMessages(path: String, topic: String) -> [MCAPMessage]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        func bytes(at offset: Int, count: Int) -> [UInt8]? {
            guard offset >= 0, count >= 0 else { return nil }
            var out = [UInt8](repeating: 0, count: count)
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, count, off_t(offset)) }
            return n == count ? out : nil
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        let size = Int(info.st_size), footerAt = size - 8 - 29
        guard footerAt > MCAP.magic.count, let footer = bytes(at: footerAt, count: 37),
              footer[0] == MCAP.Opcode.footer.rawValue, Array(footer[29...]) == MCAP.magic else { return nil }
        var f = MCAPFields(footer[9...])
        guard let summaryStart = try? Int(f.u64("summary_start")), summaryStart > 0, summaryStart < footerAt,
              let summary = bytes(at: summaryStart, count: footerAt - summaryStart) else { return nil }
        var channel: UInt16?
        var lastChunk: (offset: Int, length: Int)?
        var at = 0
        while at + 9 <= summary.count {
            var length = 0
            for k in 0..<8 { length |= Int(summary[at + 1 + k]) << (8 * k) }
            guard length >= 0, at + 9 + length <= summary.count else { return nil }
            var r = MCAPFields(summary[(at + 9)..<(at + 9 + length)])
            switch MCAP.Opcode(rawValue: summary[at]) {
            case .channel?:
                if let id = try? r.u16("id"), (try? r.u16("schema")) != nil, let t = try? r.string("topic"), t == topic { channel = id }
            case .chunkIndex?:
                if (try? r.u64("start")) != nil, (try? r.u64("end")) != nil, let offset = try? Int(r.u64("offset")),
                   let length = try? Int(r.u64("length")), offset > (lastChunk?.offset ?? -1) {
                    lastChunk = (offset, length)
                }
            default:
                break
            }
            at += 9 + length
        }
        guard let channel, let lastChunk, lastChunk.length > 9, let chunk = bytes(at: lastChunk.offset, count: lastChunk.length),
              chunk[0] == MCAP.Opcode.chunk.rawValue else { return nil }
        var c = MCAPFields(chunk[9...])
        guard (try? c.u64("start")) != nil, (try? c.u64("end")) != nil, (try? c.u64("size")) != nil, (try? c.u32("crc")) != nil,
              let compression = try? c.string("compression"), compression.isEmpty, let records = try? c.bytes64("records") else { return nil }
        var out: [MCAPMessage] = []
        var i = records.startIndex
        while i + 9 <= records.endIndex {
            var length = 0
            for k in 0..<8 { length |= Int(records[i + 1 + k]) << (8 * k) }
            guard length >= 0, i + 9 + length <= records.endIndex else { return nil }
            if records[i] == MCAP.Opcode.message.rawValue {
                var m = MCAPFields(records[(i + 9)..<(i + 9 + length)])
                if let message = try? message(&m), message.channel == channel { out.append(message) }
            }
            i += 9 + length
        }
        return out
    }
}
