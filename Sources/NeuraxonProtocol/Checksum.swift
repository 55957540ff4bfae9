/// CRC-16/CCITT-FALSE (CRC-16/IBM-3740), the frame check of Docs/PROTOCOL.md section 3.
///
/// Width 16, polynomial 0x1021, initial value 0xFFFF, not reflected, no final XOR:
///
///     crc = 0xFFFF
///     for each byte b: crc ^= b << 8; 8 times: crc = (crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1
///
/// The check value (CRC of ASCII "123456789") is 0x29B1.
public enum CRC16 {
    /// The initial value, for computing a CRC in pieces with `update`.
    public static let initial: UInt16 = 0xFFFF

    /// Folds `byte` into `crc`.
    /// - Complexity: O(1).
    @inline(__always)
    public static func update(_ crc: UInt16, _ byte: UInt8) -> UInt16 {
        var c = crc ^ (UInt16(byte) << 8)
        for _ in 0..<8 {
            c = (c & 0x8000) != 0 ? (c << 1) ^ 0x1021 : c << 1
        }
        return c
    }

    /// The CRC of `bytes`.
    /// - Complexity: O(n); no allocation.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        var crc = initial
        for b in bytes { crc = update(crc, b) }
        return crc
    }

    /// The CRC of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt16 {
        bytes.withUnsafeBytes { checksum($0) }
    }
}

/// Consistent Overhead Byte Stuffing (Docs/PROTOCOL.md section 2), whole-buffer forms.
///
/// `FrameDecoder` decodes incrementally; these are used by the encoder and by tests.
public enum COBS {
    /// The largest encoded length of an `n`-byte packet: `n + 1 + n / 254`.
    public static func maxEncodedLength(_ n: Int) -> Int { n + 1 + n / 254 }

    /// Appends the COBS encoding of `packet` (without the `0x00` delimiter) to `output`.
    ///
    /// A block of 254 non-zero bytes (code `0xFF`) that ends the packet gets no empty block after
    /// it, as in the firmware and the shared vectors; decoders accept either form.
    /// - Complexity: O(n); does not allocate when `output` has the capacity.
    public static func encode(_ packet: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        var codeIndex = output.count
        output.append(1)
        var code: UInt8 = 1
        var blockOpen = true
        for b in packet {
            if !blockOpen {
                codeIndex = output.count
                output.append(1)
                code = 1
                blockOpen = true
            }
            if b == 0 {
                output[codeIndex] = code
                codeIndex = output.count
                output.append(1)
                code = 1
                continue
            }
            output.append(b)
            code += 1
            if code == 0xFF {
                output[codeIndex] = code
                blockOpen = false
            }
        }
        if blockOpen { output[codeIndex] = code }
    }

    /// The COBS encoding of `packet`, without the delimiter.
    public static func encode(_ packet: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(maxEncodedLength(packet.count))
        packet.withUnsafeBytes { encode($0, into: &out) }
        return out
    }

    /// Decodes `encoded` (no delimiter, no zero bytes). Returns nil when a code byte promises
    /// more bytes than follow, or the input holds a zero.
    public static func decode(_ encoded: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var i = 0
        while i < encoded.count {
            let code = Int(encoded[i])
            guard code != 0, i + code <= encoded.count else { return nil }
            let block = encoded[(i + 1)..<(i + code)]
            guard !block.contains(0) else { return nil }
            out += block
            i += code
            if code != 0xFF && i < encoded.count { out.append(0) }
        }
        return out
    }
}
