/// What a link has carried and what went wrong on it, since it was created. Every counter only
/// grows. A serial link (`LinkSession`) counts frames and bytes; the simulated link
/// (`SimulatedRobot`) counts the commands it carried, lost and applied; each leaves the other's
/// counters at 0.
public struct LinkCounters: Equatable, Sendable {
    /// Frames that passed every check.
    public var framesReceived: UInt64 = 0
    /// Frames sent (of any type).
    public var framesSent: UInt64 = 0
    /// Bytes read from and written to the port.
    public var bytesReceived: UInt64 = 0
    public var bytesSent: UInt64 = 0
    /// SENSORS frames received.
    public var sensorFrames: UInt64 = 0
    /// COMMAND frames sent.
    public var commandsSent: UInt64 = 0
    /// PING frames sent (heartbeats and probes) and PONG frames received.
    public var pingsSent: UInt64 = 0
    public var pongsReceived: UInt64 = 0
    /// Frames from the board missing by sequence gap (Docs/PROTOCOL.md section 4).
    public var droppedFrames: UInt64 = 0
    /// SENSORS frames dropped unread because they were older than the failsafe timeout when
    /// the host got to them (the host itself was paused or overloaded): acting on them would
    /// command the robot from a stale view. See `LinkSession` for how age is measured.
    public var staleFrames: UInt64 = 0
    /// Frames discarded for a bad CRC.
    public var crcErrors: UInt64 = 0
    /// Frames discarded for bad framing (COBS, too short, too long).
    public var malformedFrames: UInt64 = 0
    /// Good-CRC frames discarded for a wrong version, unknown type or wrong length.
    public var rejectedFrames: UInt64 = 0
    /// ERROR frames from the board (it rejected one of ours).
    public var boardErrors: UInt64 = 0
    /// Times the link was declared lost, and times it came back.
    public var linkLosses: UInt64 = 0
    public var reconnects: UInt64 = 0
    /// HELLOs sent.
    public var helloAttempts: UInt64 = 0

    /// Commands lost on the way: to the simulated link's dropout rate, or (`commandsOverflowed`)
    /// because more were in flight within one latency than the link holds.
    public var commandsLost: UInt64 = 0
    public var commandsOverflowed: UInt64 = 0
    /// Commands that reached the actuators.
    public var commandsArrived: UInt64 = 0
    /// Times the failsafe put the actuators at their safe values.
    public var failsafeStops: UInt64 = 0

    public init() {}

    /// A serial link's counters by the names a recording's `link` records, `log info --json`
    /// and the browser view's link panel give them, in the order they are written: the one
    /// list each of them writes and reads through. (A constant: key paths are immutable values,
    /// but the standard library does not declare them `Sendable`.)
    nonisolated(unsafe) public static let serialCounters: [(name: String, counter: WritableKeyPath<LinkCounters, UInt64>)] = [
        ("frames_received", \.framesReceived), ("frames_sent", \.framesSent),
        ("bytes_received", \.bytesReceived), ("bytes_sent", \.bytesSent),
        ("sensor_frames", \.sensorFrames), ("commands_sent", \.commandsSent),
        ("pings_sent", \.pingsSent), ("pongs_received", \.pongsReceived),
        ("dropped_frames", \.droppedFrames), ("stale_frames", \.staleFrames),
        ("crc_errors", \.crcErrors), ("malformed_frames", \.malformedFrames), ("rejected_frames", \.rejectedFrames),
        ("board_errors", \.boardErrors), ("link_losses", \.linkLosses), ("reconnects", \.reconnects),
    ]
}
