// NeuraxonEvolution — Aigarth-style evolution of Neuraxon networks.
// Licence: MIT with the Aigarth licence restrictions (no military or dual-use applications);
// see Sources/NeuraxonEvolution/NOTICE.

/// The evolution's random generator: xoshiro256** (Blackman and Vigna), seeded through
/// SplitMix64. Its whole state is four words, saved in every checkpoint, so a resumed run draws
/// exactly the numbers the uninterrupted run would have drawn.
///
/// Only the single thread that breeds a generation draws from it; evaluations never do (each
/// gets its seed from `EvolutionRandom.evaluationSeed`), so results do not depend on how many
/// threads evaluate.
public struct EvolutionRandom: RandomNumberGenerator, Sendable, Equatable, Hashable {
    /// The four state words; never all zero.
    public private(set) var state: [UInt64]

    /// A generator seeded from `seed` by four SplitMix64 outputs.
    public init(seed: UInt64) {
        var sm = seed
        state = (0..<4).map { _ in Self.splitMix(&sm) }
    }

    /// A generator restored from saved state words.
    /// - Throws: `EvolutionError.invalidCheckpoint` unless there are four words, not all zero.
    public init(state: [UInt64]) throws(EvolutionError) {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else {
            throw .invalidCheckpoint(location: "random", reason: "expected four words, not all zero")
        }
        self.state = state
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
        return result
    }

    /// A double uniform in [0, 1): the top 53 bits of `next()` times 2⁻⁵³.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// An integer uniform in 0..<n, without modulo bias (Lemire's method); 0 when n ≤ 1.
    public mutating func below(_ n: Int) -> Int {
        guard n > 1 else { return 0 }
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// True with probability p.
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// +1 or −1, each with probability ½.
    public mutating func sign() -> Double { next() >> 63 == 0 ? 1 : -1 }

    /// The seed of trial `trial` of generation `generation`: SplitMix64's finaliser folded over
    /// the run seed, the generation and the trial. Every individual of a generation meets the
    /// same trials (the same worlds, the same noise: common random numbers), so differences in
    /// fitness within a generation come from the genomes, not from luck of the draw; each
    /// generation meets new ones, so nothing overfits one run. A pure function of its three
    /// numbers: the same on any thread, in any order, before or after a resume.
    public static func evaluationSeed(run: UInt64, generation: Int, trial: Int) -> UInt64 {
        var h = mix(run ^ 0x4E65_7572_6178_6F6E)  // "Neuraxon"
        for value in [generation, trial] { h = mix(h ^ UInt64(bitPattern: Int64(value))) }
        return h
    }

    /// The network seed of validation trial `trial`: the same in every generation and run.
    public static func validationSeed(trial: Int) -> UInt64 {
        mix(mix(0x7661_6C69_6461_7465) ^ UInt64(bitPattern: Int64(trial)))  // "validate"
    }

    /// The run seed from which the elite's fresh trials are drawn: generation g's fresh trials
    /// are those of `evaluationSeed(run: freshRunSeed(run), generation: g, trial:)`, never
    /// the trials the generation was selected on.
    public static func freshRunSeed(_ run: UInt64) -> UInt64 {
        mix(run ^ 0x6672_6573_6874_7269)  // "freshtri"
    }

    /// SplitMix64 step: advances `x` by the golden-ratio increment and returns its finalised value.
    static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        return mix(x)
    }

    /// SplitMix64's finaliser: z ← (z ⊕ z≫30)·0xBF58476D1CE4E5B9; z ← (z ⊕ z≫27)·0x94D049BB133111EB;
    /// z ⊕ z≫31.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
