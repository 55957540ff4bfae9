/// The pieces of the MCAP container format (https://mcap.dev/spec, version 0) this package
/// writes and reads: the magic, the record opcodes and little-endian field encoding.
///
/// A file is `magic, Header, data records…, DataEnd, summary records…, Footer, magic`; every
/// record is `opcode: u8, length: u64, content`. Strings and byte arrays carry a u32 length,
/// maps a u32 byte length, a chunk's records a u64 length.
enum MCAP {
    /// The 8 bytes that start and end an MCAP file: 0x89 "MCAP0\r\n".
    static let magic: [UInt8] = [0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a]

    /// Record opcodes.
    enum Opcode: UInt8 {
        case header = 0x01, footer = 0x02, schema = 0x03, channel = 0x04, message = 0x05, chunk = 0x06
        case messageIndex = 0x07, chunkIndex = 0x08, attachment = 0x09, attachmentIndex = 0x0a
        case statistics = 0x0b, metadata = 0x0c, metadataIndex = 0x0d, summaryOffset = 0x0e, dataEnd = 0x0f
    }

    /// The profile written in the header: none (the JSON encoding is self-describing).
    static let profile = ""
    /// The library named in the header.
    static let library = "neuraxon"
}

/// Little-endian MCAP field encoding, appended to a byte buffer.
struct MCAPBytes {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { for k in 0..<2 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * k))) } }
    mutating func u32(_ v: UInt32) { for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(k)))) } }
    mutating func u64(_ v: UInt64) { for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) } }

    /// A string: u32 byte length, then UTF-8.
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        u32(UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// Bytes with a u32 length.
    mutating func bytes32(_ b: [UInt8]) {
        u32(UInt32(b.count))
        bytes.append(contentsOf: b)
    }

    /// A map: u32 byte length, then its entries, each written by `entry`.
    mutating func map<T>(_ entries: [T], _ entry: (inout MCAPBytes, T) -> Void) {
        var inner = MCAPBytes()
        for e in entries { entry(&inner, e) }
        u32(UInt32(inner.bytes.count))
        bytes.append(contentsOf: inner.bytes)
    }

    mutating func stringMap(_ entries: [(String, String)]) {
        map(entries) { $0.string($1.0); $0.string($1.1) }
    }

    /// One whole record: opcode, u64 length, then what `content` appends.
    mutating func record(_ opcode: MCAP.Opcode, _ content: (inout MCAPBytes) -> Void) {
        u8(opcode.rawValue)
        let lengthAt = bytes.count
        u64(0)
        let start = bytes.count
        content(&self)
        let length = UInt64(bytes.count - start)
        for k in 0..<8 { bytes[lengthAt + k] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(k))) }
    }
}

/// A field of an MCAP record that could not be read.
struct MCAPFieldError: Error {
    /// Offset within the record's content.
    var offset: Int
    var what: String
}

/// Reads little-endian MCAP fields from a record's content.
struct MCAPFields {
    let bytes: ArraySlice<UInt8>
    private(set) var i: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        i = bytes.startIndex
    }

    var remaining: Int { bytes.endIndex - i }

    private mutating func take(_ n: Int, _ what: String) throws(MCAPFieldError) -> ArraySlice<UInt8> {
        guard n >= 0, remaining >= n else { throw MCAPFieldError(offset: i - bytes.startIndex, what: "\(what) runs past the end of its record") }
        defer { i += n }
        return bytes[i..<(i + n)]
    }

    private mutating func integer(_ n: Int, _ what: String) throws(MCAPFieldError) -> UInt64 {
        let b = try take(n, what)
        var v: UInt64 = 0
        for (k, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(k)) }
        return v
    }

    mutating func u8(_ what: String) throws(MCAPFieldError) -> UInt8 { UInt8(try integer(1, what)) }
    mutating func u16(_ what: String) throws(MCAPFieldError) -> UInt16 { UInt16(try integer(2, what)) }
    mutating func u32(_ what: String) throws(MCAPFieldError) -> UInt32 { UInt32(try integer(4, what)) }
    mutating func u64(_ what: String) throws(MCAPFieldError) -> UInt64 { try integer(8, what) }

    mutating func string(_ what: String) throws(MCAPFieldError) -> String {
        let n = Int(try u32(what))
        return String(decoding: try take(n, what), as: UTF8.self)
    }

    mutating func bytes32(_ what: String) throws(MCAPFieldError) -> ArraySlice<UInt8> {
        try take(Int(try u32(what)), what)
    }

    mutating func bytes64(_ what: String) throws(MCAPFieldError) -> ArraySlice<UInt8> {
        let n = try u64(what)
        guard n <= UInt64(remaining) else { throw MCAPFieldError(offset: i - bytes.startIndex, what: "\(what) runs past the end of its record") }
        return try take(Int(n), what)
    }

    mutating func stringMap(_ what: String) throws(MCAPFieldError) -> [(String, String)] {
        var inner = MCAPFields(try take(Int(try u32(what)), what))
        var out: [(String, String)] = []
        while inner.remaining > 0 { out.append((try inner.string(what), try inner.string(what))) }
        return out
    }

    /// The rest of the content.
    mutating func rest() -> ArraySlice<UInt8> {
        defer { i = bytes.endIndex }
        return bytes[i...]
    }
}
