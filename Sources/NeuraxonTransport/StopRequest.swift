import Glibc
import Synchronization

/// A request to stop, made once from any thread (a signal's handler queue, a view's button, a
/// test) and seen by every wait of the thread that does the work within one poll.
///
/// It is a flag plus a file descriptor (a `WakePipe`) that becomes readable when the request is
/// made, so a thread blocked in `poll` on a serial port, a udev monitor or a timer wakes at once
/// instead of at its next timeout. The flag is read without locking or allocating, so the
/// real-time path may check it every tick.
///
/// Kept as our own type rather than a task cancellation: the tick thread is a plain thread that
/// polls file descriptors, and it needs a descriptor to poll, which Swift's structured
/// cancellation does not offer.
public final class StopRequest: Sendable {
    /// The signal number that made the request (`SIGINT`, `SIGTERM`, `SIGHUP`), 0 for a request
    /// made in code, or -1 while none was made.
    private let cause = Atomic<Int32>(-1)
    /// Becomes readable when the request is made and is never drained, so it stays readable.
    private let pipe = WakePipe()

    /// Readable once the request is made, and from then on: poll it for `POLLIN`.
    public var fileDescriptor: Int32 { pipe.fileDescriptor }

    public init() {}

    /// Asks the work to stop. The first request wins: its `signal` is the one reported. Safe to
    /// call from any thread, any number of times.
    /// - Parameter signal: the signal that asked (`SIGTERM`, …), or 0 when code asked.
    public func request(signal: Int32 = 0) {
        guard cause.compareExchange(expected: -1, desired: signal, ordering: .acquiringAndReleasing).exchanged else { return }
        pipe.wake()
    }

    /// Whether a stop was asked for. Lock-free, allocation-free.
    public var isRequested: Bool { cause.load(ordering: .acquiring) >= 0 }

    /// The signal that asked for the stop (nil while none was asked, 0 when code asked).
    public var signal: Int32? {
        let c = cause.load(ordering: .acquiring)
        return c >= 0 ? c : nil
    }
}
