/// CRC-32 as MCAP requires it (the ISO-HDLC / zlib CRC: reflected polynomial 0xEDB88320,
/// initial value and final XOR 0xFFFFFFFF), table-driven, one byte at a time.
///
/// It is our own because the package takes no dependency for a 20-line checksum and Foundation
/// offers none on Linux; `MCAPTests` checks it against the standard check value
/// (CRC-32 of "123456789" is 0xCBF43926) and the Python `mcap` reader validates every CRC we write.
struct CRC32: Sendable {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    private var state: UInt32 = 0xFFFF_FFFF

    init() {}

    /// Adds `bytes` to the checksum.
    mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        var c = state
        Self.table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        }
        state = c
    }

    /// Adds the bytes in `pointer`.
    mutating func update(_ pointer: UnsafeRawBufferPointer) {
        var c = state
        Self.table.withUnsafeBufferPointer { t in
            for b in pointer { c = t[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        }
        state = c
    }

    /// The checksum of everything added so far.
    var value: UInt32 { state ^ 0xFFFF_FFFF }

    /// The checksum of `bytes`.
    static func of<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }
}
