import NeuraxonChannels
/// A body that plays a fixed script of frames, link losses and timeouts, and keeps every
/// setpoint it is sent: fake hardware for tests and benchmarks, a real implementation of `Body`.
///
/// Once built it allocates nothing: the log of sent setpoints has room for one command per
/// scripted frame plus `extraCommands`.
public final class ScriptedBody: Body, @unchecked Sendable {
    /// One step of the script.
    public enum Step: Sendable, Equatable {
        case frame(timestampMicros: UInt64, readings: [Int16])
        case timeout
        case linkLost
    }

    public let device: DeviceInfo
    public let script: [Step]
    /// When true, `nextFrame` sleeps so frames arrive at their timestamps' pace (wall clock).
    public let paced: Bool
    /// When set, `send` fails (link down) for the command answering this script index.
    public var failSendAt: Int?

    private var position = 0
    private var sequence: UInt32 = 0
    private var startNanos: UInt64 = 0
    private var firstTimestamp: UInt64?
    private var sentFlat: [Int16]
    /// How many times `stopActuators` was called.
    public private(set) var stopCount = 0
    /// The setpoints last sent by `stopActuators`.
    public private(set) var lastStop: [Int16] = []

    public init(device: DeviceInfo = .referenceRobot, script: [Step], paced: Bool = false, extraCommands: Int = 16) {
        self.device = device
        self.script = script
        self.paced = paced
        sentFlat = []
        sentFlat.reserveCapacity((script.count + extraCommands) * device.actuators.count)
        lastStop = device.actuators.map(\.safe)
    }

    /// A script of `count` frames every `periodMicros`, with readings from `readings(i)`.
    public convenience init(device: DeviceInfo = .referenceRobot, count: Int, periodMicros: UInt64,
                            paced: Bool = false, readings: (Int) -> [Int16]) {
        self.init(device: device, script: (0..<count).map { .frame(timestampMicros: UInt64($0) * periodMicros, readings: readings($0)) },
                  paced: paced)
    }

    /// Every command sent, in order, one setpoint per actuator.
    public var sent: [[Int16]] {
        let n = device.actuators.count
        return stride(from: 0, to: sentFlat.count, by: n).map { Array(sentFlat[$0..<$0 + n]) }
    }

    public func nextFrame(into frame: inout SensorFrame, timeoutMicros: Int) -> BodyEvent {
        guard position < script.count else { return .finished }
        let step = script[position]
        position += 1
        switch step {
        case .timeout:
            return .timeout
        case .linkLost:
            return .linkLost
        case let .frame(t, readings):
            if paced {
                if firstTimestamp == nil { firstTimestamp = t; startNanos = monotonicNanos() }
                let due = startNanos &+ (t &- firstTimestamp!) &* 1000
                sleepNanos(Int64(bitPattern: due &- monotonicNanos()))
            }
            frame.timestampMicros = t
            frame.sequence = sequence
            sequence &+= 1
            frame.hostReceiveNanos = monotonicNanos()
            let n = min(readings.count, frame.readings.count)
            for k in 0..<n { frame.readings[k] = readings[k] }
            frame.count = n
            return .frame
        }
    }

    public func send(_ setpoints: [Int16]) -> Bool {
        if let failSendAt, position - 1 == failSendAt { return false }
        if sentFlat.count + setpoints.count <= sentFlat.capacity { sentFlat.append(contentsOf: setpoints) }
        return true
    }

    public func stopActuators() {
        stopCount += 1
        for (k, a) in device.actuators.enumerated() { lastStop[k] = a.safe }
    }
}

/// A body that plays back the sensor frames of a recording, so a control loop can run on a
/// recorded run exactly as on the robot. Recorded link losses come back as `.linkLost`.
///
/// Reading and parsing the file happen inside `nextFrame`, so this body allocates per frame;
/// it serves replay and tests, not the real-time path.
public final class RecordingBody: Body, @unchecked Sendable {
    public let reader: RecordingReader
    public var device: DeviceInfo { reader.header.device }
    /// Wall-clock pace: 1 for real time, 2 for twice as fast; `nil` as fast as possible.
    public let rate: Double?
    /// Every command sent, in order.
    public private(set) var sent: [[Int16]] = []
    public private(set) var stopCount = 0
    private var startNanos: UInt64 = 0
    private var firstTimestamp: UInt64?

    public init(reader: RecordingReader, rate: Double? = nil) {
        self.reader = reader
        self.rate = rate
    }

    /// Opens the recording at `path`.
    public convenience init(path: String, rate: Double? = nil) throws(RecordingError) {
        self.init(reader: try RecordingReader(path: path), rate: rate)
    }

    public func nextFrame(into frame: inout SensorFrame, timeoutMicros: Int) -> BodyEvent {
        while let entry = reader.next() {
            switch entry {
            case let .event(e) where e.kind == .linkLost:
                return .linkLost
            case .event:
                continue
            case let .tick(t):
                if let rate {
                    if firstTimestamp == nil { firstTimestamp = t.timestampMicros; startNanos = monotonicNanos() }
                    let due = startNanos &+ UInt64(Double(t.timestampMicros &- firstTimestamp!) * 1000 / rate)
                    sleepNanos(Int64(bitPattern: due &- monotonicNanos()))
                }
                frame.timestampMicros = t.timestampMicros
                frame.sequence = t.sequence
                frame.hostReceiveNanos = monotonicNanos()
                frame.droppedFrames = UInt64(t.counters.droppedFrames)
                let n = min(t.raw.count, frame.readings.count)
                for k in 0..<n { frame.readings[k] = t.raw[k] }
                frame.count = n
                return .frame
            }
        }
        return .finished
    }

    public func send(_ setpoints: [Int16]) -> Bool {
        sent.append(setpoints)
        return true
    }

    public func stopActuators() { stopCount += 1 }
}
