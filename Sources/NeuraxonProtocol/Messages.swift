import NeuraxonChannels

/// Constants of protocol versions 1 and 2 (Docs/PROTOCOL.md).
public enum ProtocolLimits {
    /// Protocol version 1: what a codec speaks unless told otherwise, and what every board speaks.
    public static let version: UInt8 = 1
    /// The newest protocol version this codec speaks (Docs/PROTOCOL.md section 11).
    public static let newestVersion: UInt8 = 2
    /// The versions this codec speaks.
    public static let versions: ClosedRange<UInt8> = 1...2
    /// Longest channel name of CHANNEL_INFO, bytes (version 2).
    public static let maxChannelNameLength = 24
    /// Header bytes: version, type, seq.
    public static let headerLength = 3
    /// CRC bytes after the body.
    public static let crcLength = 2
    /// Smallest packet: header and CRC, empty body.
    public static let minPacketLength = 5
    /// Largest packet (header, body, CRC).
    public static let maxPacketLength = 128
    /// Largest body.
    public static let maxBodyLength = 121
    /// Largest frame on the wire: COBS adds one byte to a packet of at most 128 bytes, plus the delimiter.
    public static let maxFrameLength = 130
    /// Most sensor or actuator channels a device may have.
    public static let maxChannels = 16
    /// Failsafe timeouts a device must accept, ms (`failsafe_min_ms`…`failsafe_max_ms` of
    /// DEVICE_INFO lie within it).
    public static let failsafeMilliseconds: ClosedRange<UInt16> = 10...250
}

/// Message types (Docs/PROTOCOL.md section 5). The top bit set means device → host.
public enum MessageType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case hello = 0x01
    case config = 0x02
    case command = 0x03
    case ping = 0x04
    case getStatus = 0x05
    case stop = 0x06
    /// Version 2.
    case getChannel = 0x07
    /// Version 2.
    case setBaud = 0x08
    case deviceInfo = 0x81
    case configAck = 0x82
    case pong = 0x84
    case status = 0x85
    /// Version 2.
    case channelInfo = 0x87
    /// Version 2.
    case baudAck = 0x88
    case sensors = 0x90
    case error = 0xFF

    /// The name used in Docs/PROTOCOL.md and the test vectors.
    public var description: String {
        switch self {
        case .hello: return "HELLO"
        case .config: return "CONFIG"
        case .command: return "COMMAND"
        case .ping: return "PING"
        case .getStatus: return "GET_STATUS"
        case .stop: return "STOP"
        case .getChannel: return "GET_CHANNEL"
        case .channelInfo: return "CHANNEL_INFO"
        case .setBaud: return "SET_BAUD"
        case .baudAck: return "BAUD_ACK"
        case .deviceInfo: return "DEVICE_INFO"
        case .configAck: return "CONFIG_ACK"
        case .pong: return "PONG"
        case .status: return "STATUS"
        case .sensors: return "SENSORS"
        case .error: return "ERROR"
        }
    }

    /// Which way a type travels: the top bit of its code.
    public enum Direction: Sendable {
        /// HELLO, CONFIG, COMMAND, PING, GET_STATUS, STOP: the device accepts only these.
        case hostToDevice
        /// DEVICE_INFO, CONFIG_ACK, PONG, STATUS, SENSORS, ERROR: the host accepts only these.
        case deviceToHost
    }

    /// Which way this type travels.
    public var direction: Direction { rawValue & 0x80 == 0 ? .hostToDevice : .deviceToHost }

    /// The first protocol version that has this type: a decoder of an older version reports it
    /// as `unknownType`.
    public var introducedInVersion: UInt8 {
        switch self {
        case .getChannel, .channelInfo, .setBaud, .baudAck: return 2
        default: return 1
        }
    }

    /// The fixed body length of this type, or nil when it depends on the content
    /// (COMMAND, DEVICE_INFO, SENSORS).
    public var fixedBodyLength: Int? {
        switch self {
        case .hello, .getStatus, .stop: return 0
        case .config, .configAck: return 6
        case .getChannel: return 2
        case .ping, .error, .setBaud, .baudAck: return 4
        case .pong: return 8
        case .status: return 34
        case .command, .deviceInfo, .sensors, .channelInfo: return nil
        }
    }
}

/// Error codes a device sends in ERROR (Docs/PROTOCOL.md section 7).
public enum ErrorCode: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case unsupportedVersion = 0x01
    case unknownType = 0x02
    case badLength = 0x03
    case outOfRange = 0x04
    case configUnsupported = 0x05

    /// The name used in Docs/PROTOCOL.md and the test vectors.
    public var description: String {
        switch self {
        case .unsupportedVersion: return "unsupported_version"
        case .unknownType: return "unknown_type"
        case .badLength: return "bad_length"
        case .outOfRange: return "out_of_range"
        case .configUnsupported: return "config_unsupported"
        }
    }
}

/// DEVICE_INFO: who the board is and what it offers.
public struct BoardInfo: Equatable, Sendable {
    /// Firmware version, major.minor.patch.
    public var firmwareMajor: UInt8
    public var firmwareMinor: UInt8
    public var firmwarePatch: UInt8
    /// 8 bytes identifying this board, stable across resets.
    public var uniqueID: UInt64
    /// Shortest and longest sampling period, ms.
    public var periodMinMilliseconds: UInt16
    public var periodMaxMilliseconds: UInt16
    /// Shortest and longest failsafe timeout, ms.
    public var failsafeMinMilliseconds: UInt16
    public var failsafeMaxMilliseconds: UInt16
    /// Board name, printable ASCII, 1...16 characters.
    public var board: String
    /// Sensor channels, channel 0 first. Their names come from CHANNEL_INFO (version 2; the link
    /// session asks for them after DEVICE_INFO); a version-1 board sends none and they stay "".
    public var sensors: [ChannelDescriptor]
    /// Actuator channels, channel 0 first.
    public var actuators: [ChannelDescriptor]
    /// The protocol version the board speaks with this host: 1, or 2 once it answered a
    /// version-2 HELLO (the DEVICE_INFO frame's own version).
    public var protocolVersion: UInt8 = ProtocolLimits.version

    /// Whether every channel carries its name (a version-2 board answered CHANNEL_INFO for each).
    public var channelsNamed: Bool {
        (sensors + actuators).allSatisfy { !$0.name.isEmpty }
    }

    public init(firmwareMajor: UInt8, firmwareMinor: UInt8, firmwarePatch: UInt8, uniqueID: UInt64,
                periodMinMilliseconds: UInt16, periodMaxMilliseconds: UInt16,
                failsafeMinMilliseconds: UInt16, failsafeMaxMilliseconds: UInt16,
                board: String, sensors: [ChannelDescriptor], actuators: [ChannelDescriptor]) {
        self.firmwareMajor = firmwareMajor
        self.firmwareMinor = firmwareMinor
        self.firmwarePatch = firmwarePatch
        self.uniqueID = uniqueID
        self.periodMinMilliseconds = periodMinMilliseconds
        self.periodMaxMilliseconds = periodMaxMilliseconds
        self.failsafeMinMilliseconds = failsafeMinMilliseconds
        self.failsafeMaxMilliseconds = failsafeMaxMilliseconds
        self.board = board
        self.sensors = sensors
        self.actuators = actuators
    }

    /// The unique id as 16 lowercase hex digits, in wire order.
    public var uniqueIDHex: String {
        (0..<8).map { i in
            let b = UInt8(truncatingIfNeeded: uniqueID >> (8 * UInt64(i)))
            return (b < 16 ? "0" : "") + String(b, radix: 16)
        }.joined()
    }

    /// "major.minor.patch".
    public var firmwareVersionString: String { "\(firmwareMajor).\(firmwareMinor).\(firmwarePatch)" }
}

/// The two groups of channels GET_CHANNEL and CHANNEL_INFO name (version 2).
public enum ChannelGroup: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case sensor = 0
    case actuator = 1

    public var description: String { self == .sensor ? "sensor" : "actuator" }
}

/// CHANNEL_INFO (version 2): the name of one channel.
public struct ChannelName: Equatable, Sendable {
    public var group: ChannelGroup
    /// The channel's index in its group.
    public var index: UInt8
    /// 1...24 printable ASCII bytes.
    public var name: String

    public init(group: ChannelGroup, index: UInt8, name: String) {
        self.group = group
        self.index = index
        self.name = name
    }
}

/// CONFIG and CONFIG_ACK: sampling period, failsafe timeout and enabled sensors.
public struct LinkConfig: Equatable, Hashable, Sendable {
    /// Sampling period, ms.
    public var periodMilliseconds: UInt16
    /// Failsafe timeout, ms: the board makes its actuators safe this long after the last valid
    /// COMMAND or PING.
    public var failsafeMilliseconds: UInt16
    /// Bit i set: sensor i is sampled and sent. 0 stops streaming.
    public var sensorMask: UInt16

    /// The mask that asks for every sensor the board has: a host narrows it to the board's
    /// channel count (`narrowed(toSensors:)`) before sending CONFIG.
    public static let allSensors: UInt16 = 0xFFFF

    /// The protocol's default: 10 ms (100 Hz), 100 ms failsafe, every sensor of the board.
    public init(periodMilliseconds: UInt16 = 10, failsafeMilliseconds: UInt16 = 100, sensorMask: UInt16 = LinkConfig.allSensors) {
        self.periodMilliseconds = periodMilliseconds
        self.failsafeMilliseconds = failsafeMilliseconds
        self.sensorMask = sensorMask
    }

    /// This configuration for a board of `count` sensors: `allSensors` becomes a mask of exactly
    /// those; any other mask is kept as asked.
    public func narrowed(toSensors count: Int) -> LinkConfig {
        guard sensorMask == LinkConfig.allSensors, count < 16 else { return self }
        var config = self
        config.sensorMask = UInt16((1 << max(0, count)) - 1)
        return config
    }
}

/// The board's failsafe state, as STATUS reports it.
public enum FailsafeState: UInt8, Sendable, CustomStringConvertible {
    /// Safe; no command since boot or HELLO.
    case idle = 0
    /// Applying commands.
    case active = 1
    /// Safe; the host went quiet for longer than the failsafe timeout.
    case timeout = 2
    /// Safe; STOP received.
    case stopped = 3

    public var description: String {
        switch self {
        case .idle: return "idle"
        case .active: return "active"
        case .timeout: return "timeout"
        case .stopped: return "stopped"
        }
    }
}

/// STATUS: the board's failsafe state and counters. Counters wrap modulo 2^32.
public struct BoardStatus: Equatable, Sendable {
    /// The failsafe state byte (see `FailsafeState`; unknown values are kept as sent).
    public var failsafe: UInt8
    /// Why the board last started: 0 power-on, 1 external reset, 2 brown-out, 3 watchdog, 4 unknown.
    public var resetCause: UInt8
    /// ms since the board started (wraps).
    public var uptimeMilliseconds: UInt32
    public var crcErrors: UInt32
    public var malformedFrames: UInt32
    public var rejectedFrames: UInt32
    public var droppedFrames: UInt32
    public var rxOverflows: UInt32
    public var failsafeTrips: UInt32
    public var loopOverruns: UInt32

    public init(failsafe: UInt8, resetCause: UInt8, uptimeMilliseconds: UInt32, crcErrors: UInt32 = 0,
                malformedFrames: UInt32 = 0, rejectedFrames: UInt32 = 0, droppedFrames: UInt32 = 0,
                rxOverflows: UInt32 = 0, failsafeTrips: UInt32 = 0, loopOverruns: UInt32 = 0) {
        self.failsafe = failsafe
        self.resetCause = resetCause
        self.uptimeMilliseconds = uptimeMilliseconds
        self.crcErrors = crcErrors
        self.malformedFrames = malformedFrames
        self.rejectedFrames = rejectedFrames
        self.droppedFrames = droppedFrames
        self.rxOverflows = rxOverflows
        self.failsafeTrips = failsafeTrips
        self.loopOverruns = loopOverruns
    }

    /// The failsafe state, if the byte is a known one.
    public var failsafeState: FailsafeState? { FailsafeState(rawValue: failsafe) }
}

/// ERROR: the board rejected a frame.
public struct ErrorReport: Equatable, Sendable, CustomStringConvertible {
    /// The error code byte (see `ErrorCode`; unknown codes are kept as sent).
    public var code: UInt8
    /// `type` of the offending frame.
    public var referencedType: UInt8
    /// `seq` of the offending frame.
    public var referencedSequence: UInt8
    /// Depends on the code: the device's version, the expected length, the bad channel, or the bad CONFIG field.
    public var detail: UInt8

    public init(code: UInt8, referencedType: UInt8, referencedSequence: UInt8, detail: UInt8) {
        self.code = code
        self.referencedType = referencedType
        self.referencedSequence = referencedSequence
        self.detail = detail
    }

    public var description: String {
        let name = ErrorCode(rawValue: code)?.description ?? "code \(code)"
        let type = MessageType(rawValue: referencedType)?.description ?? "type \(referencedType)"
        return "\(name) for \(type) seq \(referencedSequence) (detail \(detail))"
    }
}

/// SENSORS: one sample. The readings are indexed by channel, so a caller keeps one sample and
/// has it refilled without allocating.
public struct SensorSample: Equatable, Sendable {
    /// The board's clock when the sample was taken, µs, wrapping every 2^32 µs.
    public var timestampMicros: UInt32
    /// The mask in force: bit i set means `readings[i]` holds channel i's reading.
    public var sensorMask: UInt16
    /// One slot per possible channel (`ProtocolLimits.maxChannels`); only slots whose bit is set
    /// in `sensorMask` hold readings of this sample, in the channel's unit.
    public var readings: [Int16]

    /// An empty sample with room for every channel.
    public init() {
        timestampMicros = 0
        sensorMask = 0
        readings = [Int16](repeating: 0, count: ProtocolLimits.maxChannels)
    }

    /// A sample with the given channel readings (`values` in channel order, one per set mask bit).
    public init(timestampMicros: UInt32, sensorMask: UInt16, values: [Int16]) {
        self.init()
        self.timestampMicros = timestampMicros
        self.sensorMask = sensorMask
        var v = values.makeIterator()
        for ch in 0..<ProtocolLimits.maxChannels where sensorMask & (1 << ch) != 0 {
            readings[ch] = v.next() ?? 0
        }
    }

    /// The readings of the set mask bits, lowest channel first (allocates; for printing and tests).
    public var values: [Int16] {
        (0..<ProtocolLimits.maxChannels).filter { sensorMask & (1 << $0) != 0 }.map { readings[$0] }
    }

    public static func == (a: SensorSample, b: SensorSample) -> Bool {
        a.timestampMicros == b.timestampMicros && a.sensorMask == b.sensorMask && a.values == b.values
    }
}

/// Every message of protocol versions 1 and 2, typed.
public enum Message: Equatable, Sendable {
    case hello
    case config(LinkConfig)
    /// One setpoint per actuator channel, channel 0 first, in the channel's unit.
    case command(setpoints: [Int16])
    /// `token` is chosen by the host and echoed in PONG.
    case ping(token: UInt32)
    case getStatus
    case stop
    /// Version 2: asks for one channel's name. `group` is the byte as sent (0 sensor, 1 actuator;
    /// the device answers another with ERROR out_of_range).
    case getChannel(group: UInt8, index: UInt8)
    /// Version 2: asks the board to change the line to `baud` (bits per second; Docs/PROTOCOL.md section 12).
    case setBaud(baud: UInt32)
    /// Version 2: the board changes its line to `baud` once this frame has left.
    case baudAck(baud: UInt32)
    case deviceInfo(BoardInfo)
    case configAck(LinkConfig)
    /// `timestampMicros`: the board clock when it answered, µs, wrapping.
    case pong(token: UInt32, timestampMicros: UInt32)
    case status(BoardStatus)
    /// Version 2: one channel's name.
    case channelInfo(ChannelName)
    case sensors(SensorSample)
    case error(ErrorReport)

    /// The message's type code.
    public var type: MessageType {
        switch self {
        case .hello: return .hello
        case .config: return .config
        case .command: return .command
        case .ping: return .ping
        case .getStatus: return .getStatus
        case .stop: return .stop
        case .getChannel: return .getChannel
        case .channelInfo: return .channelInfo
        case .setBaud: return .setBaud
        case .baudAck: return .baudAck
        case .deviceInfo: return .deviceInfo
        case .configAck: return .configAck
        case .pong: return .pong
        case .status: return .status
        case .sensors: return .sensors
        case .error: return .error
        }
    }
}
