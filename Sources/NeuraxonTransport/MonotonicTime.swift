import Glibc

/// A point on the monotonic clock (`CLOCK_MONOTONIC`), in nanoseconds since an arbitrary origin.
///
/// Used for deadlines and round-trip times; it never jumps when the wall clock is set.
public struct MonotonicTime: Comparable, Hashable, Sendable {
    /// Nanoseconds since the clock's origin (boot, on Linux).
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// The current time. Does not allocate.
    public static func now() -> MonotonicTime {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return MonotonicTime(nanoseconds: UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec))
    }

    /// This time plus `milliseconds` ms.
    public func adding(milliseconds: Double) -> MonotonicTime {
        MonotonicTime(nanoseconds: nanoseconds &+ UInt64(max(0, milliseconds) * 1_000_000))
    }

    /// The time from `earlier` to `self` in milliseconds (negative if `earlier` is later).
    public func milliseconds(since earlier: MonotonicTime) -> Double {
        (Double(nanoseconds) - Double(earlier.nanoseconds)) / 1_000_000
    }

    /// Milliseconds from now until `self`, rounded up and clamped to `0...Int32.max`, as `poll`
    /// takes them. A deadline in the past gives 0 (poll once, do not wait).
    func pollTimeout(now: MonotonicTime = .now()) -> Int32 {
        guard self > now else { return 0 }
        let ms = (nanoseconds - now.nanoseconds + 999_999) / 1_000_000
        return Int32(min(ms, UInt64(Int32.max)))
    }

    public static func < (a: MonotonicTime, b: MonotonicTime) -> Bool { a.nanoseconds < b.nanoseconds }
}
