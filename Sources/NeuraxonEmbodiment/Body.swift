/// One sensor frame: the firmware's sample time and sequence number and one raw reading per
/// sensor channel, in the device's channel order.
///
/// A body fills a frame the loop owns; `readings` keeps its capacity (the device's sensor
/// count) so filling it allocates nothing.
public struct SensorFrame: Sendable, Equatable {
    /// The firmware's sample time in µs, unwrapped to 64 bits by the body.
    public var timestampMicros: UInt64
    /// The firmware's sequence number for this frame.
    public var sequence: UInt32
    /// When the host received the frame, in ns of CLOCK_MONOTONIC (0 when not measured).
    public var hostReceiveNanos: UInt64
    /// Frames the body knows were lost before this one (a running total, from sequence gaps).
    public var droppedFrames: UInt64
    /// Raw readings, one per sensor channel; only the first `count` are valid.
    public var readings: [Int16]
    /// How many channels this frame carries; a mapped channel at or beyond it is missing.
    public var count: Int

    /// A frame with room for `channelCount` readings, all zero.
    public init(channelCount: Int) {
        timestampMicros = 0
        sequence = 0
        hostReceiveNanos = 0
        droppedFrames = 0
        readings = [Int16](repeating: 0, count: channelCount)
        count = channelCount
    }
}

/// What `Body.nextFrame` found.
public enum BodyEvent: Sendable, Equatable {
    /// The frame was filled with a new sample.
    case frame
    /// No frame arrived within the timeout; the link may still be up.
    case timeout
    /// The link is down. A body that reconnects by itself returns frames again later.
    case linkLost
    /// The body has no more frames (a recording ran out, a simulation ended).
    case finished
}

/// A robot as the control loop sees it: a source of sensor frames and a sink of setpoints.
///
/// The serial robot, the simulated robot and a recording implement it, so the loop cannot tell
/// them apart. `nextFrame` and `send` are called on the loop's thread only; once the loop runs
/// they must not allocate. `stopActuators` may be called from the loop's thread at its end.
public protocol Body: AnyObject, SendableMetatype {
    /// The device's channel list; a mapping is validated against it.
    var device: DeviceInfo { get }

    /// Waits up to `timeoutMicros` for the next sensor frame and fills `frame` with it.
    /// After `.linkLost` a body must wait (not spin) before answering again.
    func nextFrame(into frame: inout SensorFrame, timeoutMicros: Int) -> BodyEvent

    /// Sends one setpoint per actuator channel, in the device's order. Returns `false` when the
    /// link is down.
    func send(_ setpoints: [Int16]) -> Bool

    /// Sends every actuator's safe value (the loop calls it first when it stops).
    func stopActuators()
}
