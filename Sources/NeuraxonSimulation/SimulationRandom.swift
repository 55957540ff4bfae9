import Foundation

/// The simulation's own deterministic pseudo-random number generator: xoshiro256** seeded
/// through SplitMix64.
///
/// The same seed and stream give the same sequence on every run, so a world, a seed and a
/// sequence of commands always give the same simulated run, bit for bit. Nothing here reads the
/// system's entropy or the clock.
public struct SimulationRandom: Sendable, Equatable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64
    /// The second number of the last Box–Muller pair, not yet handed out.
    private var spare: Double?

    /// Creates a generator for one `stream` of a run's `seed`. Different streams of the same seed
    /// are independent, so drawing link dropouts never shifts the sensor noise.
    public init(seed: UInt64, stream: UInt64 = 0) {
        var state = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        s0 = Self.splitMix(&state)
        s1 = Self.splitMix(&state)
        s2 = Self.splitMix(&state)
        s3 = Self.splitMix(&state)
    }

    private static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 random bits.
    /// - Complexity: O(1).
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform number in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A standard normal number (mean 0, standard deviation 1) by the Box–Muller transform:
    /// z₁ = √(−2 ln u₁) · cos(2π u₂) and z₂ = √(−2 ln u₁) · sin(2π u₂), with u₁ in (0, 1];
    /// each pair serves two calls.
    public mutating func gaussian() -> Double {
        if let z = spare {
            spare = nil
            return z
        }
        let u1 = 1 - uniform()
        let u2 = uniform()
        let r = (-2 * log(u1)).squareRoot()
        spare = r * sin(2 * Double.pi * u2)
        return r * cos(2 * Double.pi * u2)
    }

    /// `true` with probability `p` (0 never draws true, 1 always does).
    public mutating func chance(_ p: Double) -> Bool {
        uniform() < p
    }
}
