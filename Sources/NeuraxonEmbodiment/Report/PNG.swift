/// An RGB image in memory, with the few drawing operations the report's plots need, written as
/// a PNG file.
///
/// Why a PNG writer of our own: Foundation on Linux has no zlib, and the report must not pull in
/// an image library. PNG needs only a zlib stream, and `Deflate` below writes one with LZ77
/// matches and the fixed Huffman codes of RFC 1951 — about a hundred lines, no dependency, no
/// system library target, and plots (flat background, thin lines) shrink by 15–150× with it
/// (a 1200 × 300 plot: 1 MB of pixels, 7–66 KB of file), where stored (uncompressed) blocks
/// would leave every plot at a megabyte and a 1200-neuron raster at several.
public struct PNGImage: Sendable, Equatable {
    /// An 8-bit RGB colour.
    public struct Color: Sendable, Equatable {
        public var r: UInt8, g: UInt8, b: UInt8
        public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { (self.r, self.g, self.b) = (r, g, b) }
        /// `#rrggbb`, for SVG.
        public var hex: String {
            let digits = Array("0123456789abcdef")
            return "#" + [r, g, b].map { "\(digits[Int($0 >> 4)])\(digits[Int($0 & 15)])" }.joined()
        }
    }

    public let width: Int
    public let height: Int
    /// Row-major, 3 bytes per pixel.
    public private(set) var pixels: [UInt8]

    public init(width: Int, height: Int, background: Color = Color(255, 255, 255)) {
        self.width = max(1, width)
        self.height = max(1, height)
        pixels = []
        pixels.reserveCapacity(self.width * self.height * 3)
        for _ in 0..<(self.width * self.height) { pixels += [background.r, background.g, background.b] }
    }

    /// Sets one pixel; points outside the image are ignored.
    public mutating func set(_ x: Int, _ y: Int, _ c: Color) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = c.r; pixels[i + 1] = c.g; pixels[i + 2] = c.b
    }

    /// The colour at a pixel.
    public func color(_ x: Int, _ y: Int) -> Color {
        let i = (y * width + x) * 3
        return Color(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Fills the rectangle [x0, x1) × [y0, y1), clipped to the image.
    public mutating func fill(x0: Int, y0: Int, x1: Int, y1: Int, _ c: Color) {
        for y in max(0, y0)..<max(max(0, y0), min(height, y1)) {
            for x in max(0, x0)..<max(max(0, x0), min(width, x1)) { set(x, y, c) }
        }
    }

    /// A line from (x0, y0) to (x1, y1), `thickness` pixels wide (Bresenham, square pen).
    public mutating func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ c: Color, thickness: Int = 1) {
        guard x0.isFinite, y0.isFinite, x1.isFinite, y1.isFinite else { return }
        let limit = Double(4 * (width + height))
        func clamp(_ v: Double) -> Int { Int(max(-limit, min(limit, v)).rounded()) }
        var (x, y) = (clamp(x0), clamp(y0))
        let (xe, ye) = (clamp(x1), clamp(y1))
        let dx = abs(xe - x), dy = -abs(ye - y)
        let sx = x < xe ? 1 : -1, sy = y < ye ? 1 : -1
        var err = dx + dy
        let half = (thickness - 1) / 2
        while true {
            if thickness <= 1 { set(x, y, c) } else { fill(x0: x - half, y0: y - half, x1: x - half + thickness, y1: y - half + thickness, c) }
            if x == xe && y == ye { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// A filled disc of `radius` pixels centred at (cx, cy).
    public mutating func disc(_ cx: Double, _ cy: Double, radius: Double, _ c: Color) {
        guard cx.isFinite, cy.isFinite, radius.isFinite else { return }
        let r = max(0.5, radius)
        let limit = Double(width + height)
        guard abs(cx) < limit * 2, abs(cy) < limit * 2, r < limit else { return }
        for y in Int((cy - r).rounded(.down))...Int((cy + r).rounded(.up)) {
            for x in Int((cx - r).rounded(.down))...Int((cx + r).rounded(.up)) {
                let (ddx, ddy) = (Double(x) - cx, Double(y) - cy)
                if ddx * ddx + ddy * ddy <= r * r { set(x, y, c) }
            }
        }
    }

    /// Writes `text` with its top-left corner at (x, y) in a 3 × 5 pixel font scaled by `scale`.
    /// Only the characters of axis labels are drawn: digits, `.`, `-`, `+`, `e` and `s`; any
    /// other character leaves a blank of the same width.
    public mutating func text(_ text: String, x: Int, y: Int, scale: Int = 2, _ c: Color) {
        var left = x
        for ch in text {
            if let rows = Self.glyphs[ch] {
                for (row, bits) in rows.enumerated() {
                    for column in 0..<3 where bits & (4 >> column) != 0 {
                        fill(x0: left + column * scale, y0: y + row * scale, x1: left + (column + 1) * scale, y1: y + (row + 1) * scale, c)
                    }
                }
            }
            left += 4 * scale
        }
    }

    /// The width `text(_:x:y:scale:_:)` draws `text` in, in pixels.
    public static func textWidth(_ text: String, scale: Int = 2) -> Int { max(0, text.count * 4 * scale - scale) }

    /// Five rows of three bits (4 = left column) per character.
    private static let glyphs: [Character: [UInt8]] = [
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7], "4": [5, 5, 7, 1, 1],
        "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 1, 1], "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7],
        ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0], "+": [0, 2, 7, 2, 0], "e": [0, 7, 7, 4, 7], "s": [0, 3, 6, 1, 6],
    ]

    /// The image as a PNG file: 8-bit RGB, no interlace, each row with filter 0, one IDAT chunk
    /// holding a zlib stream from `Deflate`.
    public func pngData() -> [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity((width * 3 + 1) * height)
        for y in 0..<height {
            raw.append(0)
            raw.append(contentsOf: pixels[(y * width * 3)..<((y + 1) * width * 3)])
        }
        var out: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
        var ihdr: [UInt8] = []
        Self.append32(UInt32(width), to: &ihdr)
        Self.append32(UInt32(height), to: &ihdr)
        ihdr += [8, 2, 0, 0, 0]
        Self.chunk("IHDR", ihdr, to: &out)
        Self.chunk("IDAT", Deflate.zlib(raw), to: &out)
        Self.chunk("IEND", [], to: &out)
        return out
    }

    private static func append32(_ v: UInt32, to out: inout [UInt8]) {
        out += [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
    }

    private static func chunk(_ type: StaticString, _ data: [UInt8], to out: inout [UInt8]) {
        append32(UInt32(data.count), to: &out)
        let typeBytes = Array(UnsafeBufferPointer(start: type.utf8Start, count: 4))
        out += typeBytes
        out += data
        var crc = CRC32()
        crc.update(typeBytes)
        crc.update(data)
        append32(crc.value, to: &out)
    }
}

/// A DEFLATE (RFC 1951) compressor in a zlib (RFC 1950) wrapper: greedy LZ77 over a 32 KiB
/// window with a hash of three-byte prefixes, coded in one block with the fixed Huffman codes.
enum Deflate {
    private static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    /// `data` as a zlib stream (header 78 01, one fixed-Huffman block, Adler-32).
    static func zlib(_ data: [UInt8]) -> [UInt8] {
        var bits = BitWriter()
        bits.out = [0x78, 0x01]
        bits.write(1, count: 1)   // BFINAL
        bits.write(1, count: 2)   // BTYPE 01: fixed Huffman codes
        let window = 32768, maxChain = 48
        let hashBits = 15
        var head = [Int](repeating: -1, count: 1 << hashBits)
        var previous = [Int](repeating: -1, count: window)
        func hash(_ i: Int) -> Int {
            (Int(data[i]) << 10 ^ Int(data[i + 1]) << 5 ^ Int(data[i + 2])) & ((1 << hashBits) - 1)
        }
        func insert(_ i: Int) {
            guard i + 2 < data.count else { return }
            let h = hash(i)
            previous[i % window] = head[h]
            head[h] = i
        }
        var i = 0
        while i < data.count {
            var bestLength = 0, bestDistance = 0
            if i + 2 < data.count {
                var candidate = head[hash(i)]
                var chain = 0
                let limit = min(258, data.count - i)
                while candidate >= 0, i - candidate <= window, chain < maxChain {
                    var n = 0
                    while n < limit, data[candidate + n] == data[i + n] { n += 1 }
                    if n > bestLength { (bestLength, bestDistance) = (n, i - candidate) }
                    if n == limit { break }
                    let next = previous[candidate % window]
                    if next >= candidate { break }
                    candidate = next
                    chain += 1
                }
            }
            if bestLength >= 3 {
                bits.length(bestLength)
                bits.distance(bestDistance)
                for k in i..<(i + bestLength) { insert(k) }
                i += bestLength
            } else {
                bits.literal(Int(data[i]))
                insert(i)
                i += 1
            }
        }
        bits.literal(256)
        bits.flush()
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        let adler = b << 16 | a
        bits.out += [UInt8(adler >> 24), UInt8((adler >> 16) & 0xff), UInt8((adler >> 8) & 0xff), UInt8(adler & 0xff)]
        return bits.out
    }

    private struct BitWriter {
        var out: [UInt8] = []
        private var buffer: UInt64 = 0
        private var used = 0

        /// Writes `count` bits of `value`, least significant first.
        mutating func write(_ value: Int, count: Int) {
            buffer |= UInt64(value & ((1 << count) - 1)) << UInt64(used)
            used += count
            while used >= 8 {
                out.append(UInt8(buffer & 0xff))
                buffer >>= 8
                used -= 8
            }
        }

        /// Writes a Huffman code, most significant bit first.
        mutating func code(_ value: Int, length: Int) {
            var reversed = 0
            for k in 0..<length where value & (1 << k) != 0 { reversed |= 1 << (length - 1 - k) }
            write(reversed, count: length)
        }

        /// A literal/length symbol with its fixed code.
        mutating func literal(_ symbol: Int) {
            switch symbol {
            case 0...143: code(0x30 + symbol, length: 8)
            case 144...255: code(0x190 + symbol - 144, length: 9)
            case 256...279: code(symbol - 256, length: 7)
            default: code(0xc0 + symbol - 280, length: 8)
            }
        }

        mutating func length(_ n: Int) {
            var k = Deflate.lengthBase.count - 1
            while Deflate.lengthBase[k] > n { k -= 1 }
            literal(257 + k)
            write(n - Deflate.lengthBase[k], count: Deflate.lengthExtra[k])
        }

        mutating func distance(_ d: Int) {
            var k = Deflate.distanceBase.count - 1
            while Deflate.distanceBase[k] > d { k -= 1 }
            code(k, length: 5)
            write(d - Deflate.distanceBase[k], count: Deflate.distanceExtra[k])
        }

        mutating func flush() {
            if used > 0 { out.append(UInt8(buffer & 0xff)) }
            buffer = 0
            used = 0
        }
    }
}
