import Glibc

/// A pipe that one thread writes a byte to so that another thread, blocked in `poll`, wakes at
/// once: the self-pipe way of mixing "something happened" with file descriptors.
///
/// Both ends are non-blocking and closed on exec. A full pipe already means "wake up", so a
/// `wake()` that finds it full changes nothing. Kept as our own small type because the waits it
/// serves are plain `poll` calls on the tick thread and its watchers.
public final class WakePipe: Sendable {
    /// Readable after `wake()` until `drain()`: poll it for `POLLIN`. -1 if the pipe could not
    /// be made (then nothing ever wakes early, and waits end at their timeouts).
    public let fileDescriptor: Int32
    private let writeEnd: Int32

    public init() {
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for fd in ends {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            }
        } else {
            ends = [-1, -1]
        }
        fileDescriptor = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        if fileDescriptor >= 0 { close(fileDescriptor) }
        if writeEnd >= 0 { close(writeEnd) }
    }

    /// Makes the read end readable. Safe from any thread; allocates nothing.
    public func wake() {
        guard writeEnd >= 0 else { return }
        var one: UInt8 = 1
        _ = Glibc.write(writeEnd, &one, 1)
    }

    /// Empties the pipe, so the next `poll` blocks until the next `wake()`.
    public func drain() {
        guard fileDescriptor >= 0 else { return }
        var bytes = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        while withUnsafeMutableBytes(of: &bytes, { Glibc.read(fileDescriptor, $0.baseAddress, $0.count) }) > 0 {}
    }
}
