import NeuraxonChannels

/// Why a frame was discarded (Docs/PROTOCOL.md sections 2 and 7), checked in this order.
public enum FrameError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A COBS code byte promised more bytes than arrived before the delimiter.
    case cobs
    /// The decoded packet is shorter than 5 bytes.
    case tooShort
    /// The decoded packet would exceed 128 bytes.
    case tooLong
    /// The CRC does not match.
    case crc
    /// The frame's `version` is not the decoder's. The header layout is frozen, so type and seq are known.
    case unsupportedVersion(version: UInt8, type: UInt8, sequence: UInt8)
    /// The type code is not one of section 5 (or 11, in version 2), or the receiver does not
    /// accept it (a host → device type arriving at the host). Checked before the length.
    case unknownType(type: UInt8, sequence: UInt8)
    /// The body does not have the layout of its type: a wrong length (or one that disagrees with
    /// the counts the body announces), or a DEVICE_INFO with a board name byte outside
    /// 0x21...0x7E or a channel kind or unit that its version does not list, or a CHANNEL_INFO
    /// whose group, name length or name bytes section 11 does not allow.
    case badLength(type: MessageType, sequence: UInt8, length: Int)

    /// The error's name in Docs/PROTOCOL.md and the test vectors.
    public var name: String {
        switch self {
        case .cobs: return "cobs"
        case .tooShort: return "too_short"
        case .tooLong: return "too_long"
        case .crc: return "crc"
        case .unsupportedVersion: return "unsupported_version"
        case .unknownType: return "unknown_type"
        case .badLength: return "bad_length"
        }
    }

    /// Whether the frame failed before its CRC could be trusted (framing or CRC).
    public var isCorruption: Bool {
        switch self {
        case .cobs, .tooShort, .tooLong, .crc: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .cobs: return "malformed frame (COBS)"
        case .tooShort: return "malformed frame (shorter than 5 bytes)"
        case .tooLong: return "malformed frame (longer than 128 bytes)"
        case .crc: return "CRC mismatch"
        case let .unsupportedVersion(version, type, seq):
            return "protocol version \(version) frame (type 0x\(String(type, radix: 16)), seq \(seq)); this host speaks version \(ProtocolLimits.version) or \(ProtocolLimits.newestVersion)"
        case let .unknownType(type, seq): return "unknown message type 0x\(String(type, radix: 16)) (seq \(seq))"
        case let .badLength(type, seq, length): return "\(type) with a \(length)-byte body (seq \(seq))"
        }
    }
}

/// The header of a frame that passed every check of Docs/PROTOCOL.md section 7.
public struct FrameHeader: Equatable, Sendable {
    /// The sender's protocol version (the decoder's `version` once checked).
    public var version: UInt8
    public var type: MessageType
    /// The sender's sequence number.
    public var sequence: UInt8
    /// Body bytes between header and CRC.
    public var bodyLength: Int
}

/// An incremental frame decoder: COBS, CRC, version, type and length checks, byte by byte, in
/// the order of Docs/PROTOCOL.md section 7.
///
/// A decoder made for a receiver (`FrameDecoder(receiver: .host)`) accepts only the types that
/// travel towards it and reports any other as `unknownType`, whatever its length; one made with
/// `FrameDecoder()` accepts every type of section 5 (for tools and tests that read both ways).
///
/// It never assumes that one read holds one frame: feed it whatever arrived, in any pieces, and
/// it reports each frame when its `0x00` delimiter arrives. The decoded packet stays in the
/// decoder's own fixed 128-byte buffer until the next call of `decode`; read it with
/// `message()`, `readSensors(into:)` or `withBody(_:)`. Decoding allocates nothing.
public struct FrameDecoder: Sendable {
    /// What `decode` found.
    public enum Event: Equatable, Sendable {
        /// A frame passed every check; its body is available until the next `decode` call.
        case frame(FrameHeader)
        /// A frame was discarded.
        case error(FrameError)
    }

    /// Which side of the link decodes.
    public enum Receiver: Sendable {
        /// The host: accepts device → host types only.
        case host
        /// The device: accepts host → device types only.
        case device
    }

    /// The types this decoder accepts: nil for every type of section 5.
    public let accepted: MessageType.Direction?
    /// The protocol versions a frame may carry (Docs/PROTOCOL.md section 11); 1 unless set. A
    /// frame of another version is `unsupportedVersion`; a type or a unit that the frame's own
    /// version does not have is `unknownType` or `badLength`, as for a version-1 peer.
    public var versions: ClosedRange<UInt8> = ProtocolLimits.version...ProtocolLimits.version

    /// The one protocol version a frame must carry (sets `versions` to it alone).
    public var version: UInt8 {
        get { versions.upperBound }
        set { versions = newValue...newValue }
    }
    private var packet: [UInt8]
    private var length = 0
    /// Bytes left in the current COBS block; 0 means the next byte is a code byte.
    private var remaining = 0
    /// The current block's code byte (0 before the first).
    private var code: UInt8 = 0
    /// Some byte other than the delimiter arrived since the last delimiter.
    private var started = false
    private var overflow = false
    private var header: FrameHeader?

    /// A decoder that accepts every type of section 5, in either direction.
    public init() {
        accepted = nil
        packet = [UInt8](repeating: 0, count: ProtocolLimits.maxPacketLength)
    }

    /// A decoder for `receiver`: the types travelling the other way are `unknownType`.
    public init(receiver: Receiver) {
        accepted = receiver == .host ? .deviceToHost : .hostToDevice
        packet = [UInt8](repeating: 0, count: ProtocolLimits.maxPacketLength)
    }

    /// Forgets any partial frame.
    public mutating func reset() {
        length = 0
        remaining = 0
        code = 0
        started = false
        overflow = false
        header = nil
    }

    /// Consumes bytes of `input` from `offset` until a frame ends, and reports it.
    ///
    /// - Parameter offset: where to start; advanced past the consumed bytes.
    /// - Returns: the frame or error that ended at the last consumed byte, or nil when `input`
    ///   ran out first (the partial frame is kept for the next call). Empty frames (`00 00`)
    ///   are skipped silently.
    /// - Complexity: O(consumed bytes); no allocation.
    public mutating func decode(_ input: UnsafeRawBufferPointer, offset: inout Int) -> Event? {
        header = nil
        while offset < input.count {
            let byte = input[offset]
            offset += 1
            if byte == 0 {
                guard started else { continue }
                let event = finishFrame()
                reset()
                if case let .frame(h) = event { header = h }
                return event
            }
            started = true
            if remaining == 0 {
                if code != 0 && code != 0xFF { append(0) }
                code = byte
                remaining = Int(byte) - 1
            } else {
                append(byte)
                remaining -= 1
            }
        }
        return nil
    }

    /// Decodes every frame in `bytes` (for tests and tools; allocates).
    public mutating func decodeAll(_ bytes: [UInt8]) -> [Result<(FrameHeader, Message), FrameError>] {
        var results: [Result<(FrameHeader, Message), FrameError>] = []
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while let event = decode(raw, offset: &offset) {
                switch event {
                case let .frame(h):
                    switch Result(catching: { () throws(FrameError) -> Message in try message() }) {
                    case let .success(m): results.append(.success((h, m)))
                    case let .failure(e): results.append(.failure(e))
                    }
                case let .error(e): results.append(.failure(e))
                }
            }
        }
        return results
    }

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        if length < ProtocolLimits.maxPacketLength {
            packet[length] = byte
            length += 1
        } else {
            overflow = true
        }
    }

    private func finishFrame() -> Event {
        if overflow { return .error(.tooLong) }
        if remaining > 0 { return .error(.cobs) }
        if length < ProtocolLimits.minPacketLength { return .error(.tooShort) }
        let bodyLength = length - ProtocolLimits.headerLength - ProtocolLimits.crcLength
        var crc = CRC16.initial
        for i in 0..<(length - 2) { crc = CRC16.update(crc, packet[i]) }
        let sent = UInt16(packet[length - 2]) | UInt16(packet[length - 1]) << 8
        if crc != sent { return .error(.crc) }
        let version = packet[0], rawType = packet[1], sequence = packet[2]
        if !versions.contains(version) {
            return .error(.unsupportedVersion(version: version, type: rawType, sequence: sequence))
        }
        guard let type = MessageType(rawValue: rawType), type.introducedInVersion <= version,
              accepted == nil || type.direction == accepted else {
            return .error(.unknownType(type: rawType, sequence: sequence))
        }
        let valid = packet.withUnsafeBytes { raw in
            BodyLayout.isValidLength(type, body: UnsafeRawBufferPointer(rebasing: raw[3..<(3 + bodyLength)]),
                                     version: version)
        }
        guard valid else { return .error(.badLength(type: type, sequence: sequence, length: bodyLength)) }
        return .frame(FrameHeader(version: version, type: type, sequence: sequence, bodyLength: bodyLength))
    }

    /// Calls `body` with the last good frame's body bytes (empty if the last event was not a frame).
    public func withBody<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let n = header?.bodyLength ?? 0
        return try packet.withUnsafeBytes { raw in try body(UnsafeRawBufferPointer(rebasing: raw[3..<(3 + n)])) }
    }

    /// The last good frame as a typed message (allocates for DEVICE_INFO, COMMAND and SENSORS).
    public func message() throws(FrameError) -> Message {
        guard let h = header else { throw FrameError.tooShort }
        let message = withBody { BodyLayout.decode(h.type, body: $0) }
        if case var .deviceInfo(info) = message {
            info.protocolVersion = h.version
            return .deviceInfo(info)
        }
        return message
    }

    /// Fills `sample` from the last good frame if it is SENSORS, without allocating.
    /// - Returns: false if the last frame was not SENSORS.
    public func readSensors(into sample: inout SensorSample) -> Bool {
        guard header?.type == .sensors else { return false }
        withBody { BodyLayout.readSensors($0, into: &sample) }
        return true
    }
}

/// Encodes messages into frames (COBS with the `0x00` delimiter) in a reused buffer.
///
/// Encoding allocates nothing once the encoder exists: the frame is built in `frame`, which is
/// valid until the next `encode`.
public struct FrameEncoder: Sendable {
    /// The version byte of every frame this encoder builds unless `encode` is told otherwise
    /// (1 or 2: the version of the session).
    public var version: UInt8 = ProtocolLimits.version
    private var packet: [UInt8] = []
    /// The last encoded frame, ending with the `0x00` delimiter.
    public private(set) var frame: [UInt8] = []

    public init() {
        packet.reserveCapacity(ProtocolLimits.maxPacketLength + ProtocolLimits.maxBodyLength)
        frame.reserveCapacity(2 * ProtocolLimits.maxFrameLength)
    }

    /// Encodes `message` with sequence number `sequence` into `frame`.
    /// - Parameter version: the version byte, when not the encoder's `version` (to test a peer's
    ///   version check, or to send a HELLO of another version).
    /// - Complexity: O(frame length).
    public mutating func encode(_ message: Message, sequence: UInt8, version: UInt8? = nil) {
        packet.removeAll(keepingCapacity: true)
        packet.append(version ?? self.version)
        packet.append(message.type.rawValue)
        packet.append(sequence)
        BodyLayout.encode(message, into: &packet)
        finishFrame()
    }

    /// Encodes a COMMAND straight from `setpoints` (no `Message` is built).
    public mutating func encodeCommand(_ setpoints: UnsafeBufferPointer<Int16>, sequence: UInt8) {
        packet.removeAll(keepingCapacity: true)
        packet.append(version)
        packet.append(MessageType.command.rawValue)
        packet.append(sequence)
        for v in setpoints { BodyLayout.put(UInt16(bitPattern: v), into: &packet) }
        finishFrame()
    }

    /// Appends the CRC to `packet` and COBS-encodes it with its delimiter into `frame`.
    private mutating func finishFrame() {
        let crc = CRC16.checksum(packet)
        packet.append(UInt8(truncatingIfNeeded: crc))
        packet.append(UInt8(truncatingIfNeeded: crc >> 8))
        frame.removeAll(keepingCapacity: true)
        packet.withUnsafeBytes { COBS.encode($0, into: &frame) }
        frame.append(0)
    }

    /// The frame of `message` (allocates; for tests and tools).
    public static func frame(_ message: Message, sequence: UInt8, version: UInt8 = ProtocolLimits.version) -> [UInt8] {
        var e = FrameEncoder()
        e.encode(message, sequence: sequence, version: version)
        return e.frame
    }
}

/// Body layouts of Docs/PROTOCOL.md section 5: the one place that knows where each field sits.
enum BodyLayout {
    static func u16(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
    static func i16(_ b: UnsafeRawBufferPointer, _ at: Int) -> Int16 { Int16(bitPattern: u16(b, at)) }
    static func u32(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(u16(b, at)) | UInt32(u16(b, at + 2)) << 16
    }

    static func put(_ v: UInt16, into out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: v))
        out.append(UInt8(truncatingIfNeeded: v >> 8))
    }
    static func put(_ v: UInt32, into out: inout [UInt8]) {
        put(UInt16(truncatingIfNeeded: v), into: &out)
        put(UInt16(truncatingIfNeeded: v >> 16), into: &out)
    }
    static func put(_ v: Int16, into out: inout [UInt8]) { put(UInt16(bitPattern: v), into: &out) }

    /// Whether `body` has the exact length its type (and its own counts) call for, and lists only
    /// what `version` lists.
    static func isValidLength(_ type: MessageType, body: UnsafeRawBufferPointer, version: UInt8) -> Bool {
        if let fixed = type.fixedBodyLength { return body.count == fixed }
        switch type {
        case .command:
            return body.count % 2 == 0 && (1...ProtocolLimits.maxChannels).contains(body.count / 2)
        case .sensors:
            return body.count >= 6 && body.count == 6 + 2 * u16(body, 4).nonzeroBitCount
        case .channelInfo:
            guard body.count >= 3, ChannelGroup(rawValue: body[0]) != nil else { return false }
            let nameLength = Int(body[2])
            guard (1...ProtocolLimits.maxChannelNameLength).contains(nameLength), body.count == 3 + nameLength else {
                return false
            }
            for i in 3..<body.count where !(0x21...0x7E).contains(body[i]) { return false }
            return true
        case .deviceInfo:
            guard body.count >= 22 else { return false }
            let sensors = Int(body[19]), actuators = Int(body[20]), boardLength = Int(body[21])
            let channels = 1...ProtocolLimits.maxChannels
            guard channels.contains(sensors), channels.contains(actuators), (1...16).contains(boardLength),
                  body.count == 22 + boardLength + ChannelDescriptor.wireLength * (sensors + actuators) else {
                return false
            }
            for i in 22..<(22 + boardLength) where !(0x21...0x7E).contains(body[i]) { return false }
            for k in 0..<(sensors + actuators) {
                let at = 22 + boardLength + ChannelDescriptor.wireLength * k
                guard ChannelDescriptor.Kind(rawValue: body[at]) != nil,
                      let unit = ChannelDescriptor.Unit(rawValue: body[at + 1]), unit.introducedInVersion <= version else {
                    return false
                }
            }
            return true
        default:
            return false
        }
    }

    /// The message in `body` (whose layout `isValidLength` accepted, so every kind and unit is listed).
    static func decode(_ type: MessageType, body b: UnsafeRawBufferPointer) -> Message {
        switch type {
        case .hello: return .hello
        case .getStatus: return .getStatus
        case .stop: return .stop
        case .config: return .config(config(b))
        case .configAck: return .configAck(config(b))
        case .command: return .command(setpoints: (0..<(b.count / 2)).map { i16(b, 2 * $0) })
        case .ping: return .ping(token: u32(b, 0))
        case .getChannel: return .getChannel(group: b[0], index: b[1])
        case .setBaud: return .setBaud(baud: u32(b, 0))
        case .baudAck: return .baudAck(baud: u32(b, 0))
        case .channelInfo:
            return .channelInfo(ChannelName(group: ChannelGroup(rawValue: b[0]) ?? .sensor, index: b[1],
                                            name: String(decoding: UnsafeRawBufferPointer(rebasing: b[3..<b.count]), as: UTF8.self)))
        case .pong: return .pong(token: u32(b, 0), timestampMicros: u32(b, 4))
        case .error: return .error(ErrorReport(code: b[0], referencedType: b[1], referencedSequence: b[2], detail: b[3]))
        case .status:
            return .status(BoardStatus(failsafe: b[0], resetCause: b[1], uptimeMilliseconds: u32(b, 2),
                                       crcErrors: u32(b, 6), malformedFrames: u32(b, 10), rejectedFrames: u32(b, 14),
                                       droppedFrames: u32(b, 18), rxOverflows: u32(b, 22), failsafeTrips: u32(b, 26),
                                       loopOverruns: u32(b, 30)))
        case .sensors:
            var s = SensorSample()
            readSensors(b, into: &s)
            return .sensors(s)
        case .deviceInfo:
            var id: UInt64 = 0
            for i in 0..<8 { id |= UInt64(b[3 + i]) << (8 * UInt64(i)) }
            let sensorCount = Int(b[19]), actuatorCount = Int(b[20]), boardLength = Int(b[21])
            let board = String(decoding: UnsafeRawBufferPointer(rebasing: b[22..<(22 + boardLength)]), as: UTF8.self)
            func channel(_ k: Int) -> ChannelDescriptor {
                let at = 22 + boardLength + ChannelDescriptor.wireLength * k
                return ChannelDescriptor(kind: ChannelDescriptor.Kind(rawValue: b[at]) ?? .analog,
                                         unit: ChannelDescriptor.Unit(rawValue: b[at + 1]) ?? .none,
                                         minimum: i16(b, at + 2), maximum: i16(b, at + 4), safe: i16(b, at + 6))
            }
            return .deviceInfo(BoardInfo(
                firmwareMajor: b[0], firmwareMinor: b[1], firmwarePatch: b[2], uniqueID: id,
                periodMinMilliseconds: u16(b, 11), periodMaxMilliseconds: u16(b, 13),
                failsafeMinMilliseconds: u16(b, 15), failsafeMaxMilliseconds: u16(b, 17), board: board,
                sensors: (0..<sensorCount).map(channel),
                actuators: (0..<actuatorCount).map { channel(sensorCount + $0) }))
        }
    }

    static func config(_ b: UnsafeRawBufferPointer) -> LinkConfig {
        LinkConfig(periodMilliseconds: u16(b, 0), failsafeMilliseconds: u16(b, 2), sensorMask: u16(b, 4))
    }

    /// Fills `sample` from a SENSORS body without allocating (its `readings` keep their storage).
    static func readSensors(_ b: UnsafeRawBufferPointer, into sample: inout SensorSample) {
        sample.timestampMicros = u32(b, 0)
        sample.sensorMask = u16(b, 4)
        if sample.readings.count < ProtocolLimits.maxChannels {
            sample.readings = [Int16](repeating: 0, count: ProtocolLimits.maxChannels)
        }
        var at = 6
        for ch in 0..<ProtocolLimits.maxChannels where sample.sensorMask & (1 << ch) != 0 {
            sample.readings[ch] = i16(b, at)
            at += 2
        }
    }

    /// Appends the body of `message`.
    static func encode(_ message: Message, into out: inout [UInt8]) {
        switch message {
        case .hello, .getStatus, .stop: break
        case let .config(c), let .configAck(c):
            put(c.periodMilliseconds, into: &out)
            put(c.failsafeMilliseconds, into: &out)
            put(c.sensorMask, into: &out)
        case let .command(setpoints):
            for v in setpoints { put(v, into: &out) }
        case let .ping(token): put(token, into: &out)
        case let .getChannel(group, index): out += [group, index]
        case let .setBaud(baud), let .baudAck(baud): put(baud, into: &out)
        case let .channelInfo(c):
            let name = Array(c.name.utf8)
            out += [c.group.rawValue, c.index, UInt8(truncatingIfNeeded: name.count)]
            out += name
        case let .pong(token, timestamp):
            put(token, into: &out)
            put(timestamp, into: &out)
        case let .error(e): out += [e.code, e.referencedType, e.referencedSequence, e.detail]
        case let .status(s):
            out += [s.failsafe, s.resetCause]
            for v in [s.uptimeMilliseconds, s.crcErrors, s.malformedFrames, s.rejectedFrames, s.droppedFrames,
                      s.rxOverflows, s.failsafeTrips, s.loopOverruns] { put(v, into: &out) }
        case let .sensors(s):
            put(s.timestampMicros, into: &out)
            put(s.sensorMask, into: &out)
            for ch in 0..<ProtocolLimits.maxChannels where s.sensorMask & (1 << ch) != 0 { put(s.readings[ch], into: &out) }
        case let .deviceInfo(d):
            out += [d.firmwareMajor, d.firmwareMinor, d.firmwarePatch]
            for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: d.uniqueID >> (8 * UInt64(i)))) }
            for v in [d.periodMinMilliseconds, d.periodMaxMilliseconds, d.failsafeMinMilliseconds, d.failsafeMaxMilliseconds] {
                put(v, into: &out)
            }
            let name = Array(d.board.utf8)
            out += [UInt8(d.sensors.count), UInt8(d.actuators.count), UInt8(name.count)]
            out += name
            for c in d.sensors + d.actuators {
                out += [c.kind.rawValue, c.unit.rawValue]
                put(c.minimum, into: &out)
                put(c.maximum, into: &out)
                put(c.safe, into: &out)
            }
        }
    }
}
