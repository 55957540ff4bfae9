/// The Mersenne Twister MT19937 exactly as CPython's `random` module uses it.
///
/// For the same integer seed given to Python's `random.seed(n)`, the sequence of `random()`,
/// `uniform(a, b)` and `choice(seq)` results is identical, bit for bit:
///
/// - `seed(n)` runs `init_by_array` on the 32-bit words of |n|, least significant first (a seed
///   of 0 is the single word 0);
/// - `random() = (a >> 5 · 2²⁶ + b >> 6) / 2⁵³` from two successive 32-bit outputs a and b;
/// - `uniform(lo, hi) = lo + (hi − lo) · random()`;
/// - `randomBelow(n)` draws k = bit-length(n) bits (one output shifted right by 32 − k) until the
///   result is below n, which is what `choice` uses.
///
/// The generator state (624 words and a position) can be saved and restored, so a network file
/// continues exactly where a run stopped. `PythonRandom` is a value; the network keeps the same
/// 625 words in its own storage and draws from them with the same functions (`MT19937`).
public struct PythonRandom: Sendable, Equatable {
    /// Number of 32-bit words of state.
    public static let stateSize = MT19937.n

    /// 624 state words followed by the position.
    private var words: [UInt32]

    /// Seeds like Python's `random.seed(seed)` for a non-negative integer.
    public init(seed: UInt64) {
        words = [UInt32](repeating: 0, count: MT19937.n + 1)
        words.withUnsafeMutableBufferPointer { MT19937.seed($0.baseAddress!, with: seed) }
    }

    /// Restores a saved state: 624 words and a position in 0...624 (Python's `getstate()`
    /// holds the same 625 numbers).
    public init?(state: [UInt32], position: Int) {
        guard state.count == MT19937.n, (0...MT19937.n).contains(position) else { return nil }
        words = state + [UInt32(position)]
    }

    init(rawWords: [UInt32]) { words = rawWords }

    /// The state words, for saving.
    public var stateWords: [UInt32] { Array(words[0..<MT19937.n]) }
    /// The position of the next word to temper, for saving.
    public var statePosition: Int { Int(words[MT19937.n]) }
    /// The 625 words (state, then position) as the network stores them.
    var rawWords: [UInt32] { words }

    /// The next tempered 32-bit output (CPython's `genrand_uint32`).
    public mutating func nextUInt32() -> UInt32 {
        words.withUnsafeMutableBufferPointer { MT19937.next($0.baseAddress!) }
    }

    /// A double in [0, 1) with 53 random bits, like Python's `random.random()`.
    public mutating func random() -> Double {
        words.withUnsafeMutableBufferPointer { MT19937.random($0.baseAddress!) }
    }

    /// `lo + (hi − lo)·random()`, like Python's `random.uniform(lo, hi)`.
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * random() }

    /// A uniform integer in 0..<n (1 ≤ n ≤ 2³²) drawn like CPython's
    /// `_randbelow_with_getrandbits`, which `random.choice` uses.
    public mutating func randomBelow(_ n: Int) -> Int {
        words.withUnsafeMutableBufferPointer { MT19937.randomBelow(n, $0.baseAddress!) }
    }
}

/// The MT19937 algorithm over a caller-owned block of 625 words: 624 words of state and the
/// position of the next word to temper. One implementation, shared by `PythonRandom` and the
/// network's step.
enum MT19937 {
    static let n = 624
    static let m = 397
    private static let matrixA: UInt32 = 0x9908_b0df
    private static let upperMask: UInt32 = 0x8000_0000
    private static let lowerMask: UInt32 = 0x7fff_ffff

    /// CPython's `random_seed` for a non-negative integer: `init_by_array` over its 32-bit
    /// words, least significant first.
    static func seed(_ mt: UnsafeMutablePointer<UInt32>, with seed: UInt64) {
        let low = UInt32(truncatingIfNeeded: seed)
        let high = UInt32(truncatingIfNeeded: seed >> 32)
        let key: [UInt32] = high == 0 ? [low] : [low, high]
        // init_genrand(19650218)
        mt[0] = 19_650_218
        for i in 1..<n { mt[i] = 1_812_433_253 &* (mt[i - 1] ^ (mt[i - 1] >> 30)) &+ UInt32(i) }
        // init_by_array(key)
        var i = 1
        var j = 0
        for _ in 0..<max(n, key.count) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
            i += 1
            j += 1
            if i >= n { mt[0] = mt[n - 1]; i = 1 }
            if j >= key.count { j = 0 }
        }
        for _ in 0..<(n - 1) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= n { mt[0] = mt[n - 1]; i = 1 }
        }
        mt[0] = 0x8000_0000
        mt[n] = UInt32(n)
    }

    private static func regenerate(_ mt: UnsafeMutablePointer<UInt32>) {
        @inline(__always) func twist(_ k: Int, _ next: Int, _ far: Int) {
            let y = (mt[k] & upperMask) | (mt[next] & lowerMask)
            mt[k] = mt[far] ^ (y >> 1) ^ ((y & 1) == 0 ? 0 : matrixA)
        }
        for k in 0..<(n - m) { twist(k, k + 1, k + m) }
        for k in (n - m)..<(n - 1) { twist(k, k + 1, k + m - n) }
        twist(n - 1, 0, m - 1)
        mt[n] = 0
    }

    /// CPython's `genrand_uint32`.
    @inline(__always) static func next(_ mt: UnsafeMutablePointer<UInt32>) -> UInt32 {
        var position = Int(mt[n])
        if position >= n {
            regenerate(mt)
            position = 0
        }
        var y = mt[position]
        mt[n] = UInt32(position + 1)
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// CPython's `random()`: (a·2²⁶ + b)·2⁻⁵³ with a = next >> 5, b = next >> 6.
    @inline(__always) static func random(_ mt: UnsafeMutablePointer<UInt32>) -> Double {
        let a = Double(next(mt) >> 5)
        let b = Double(next(mt) >> 6)
        return (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// CPython's `_randbelow_with_getrandbits(n)` for 1 ≤ n ≤ 2³².
    static func randomBelow(_ bound: Int, _ mt: UnsafeMutablePointer<UInt32>) -> Int {
        let k = Int.bitWidth - bound.leadingZeroBitCount
        let shift = UInt32(32 - min(32, max(1, k)))
        var r = Int(next(mt) >> shift)
        while r >= bound { r = Int(next(mt) >> shift) }
        return r
    }
}
