import Foundation
import Glibc
import NeuraxonChannels
import NeuraxonProtocol
import NeuraxonTransport

/// The host port of the firmware built as a shared library (`make -C Firmware host-lib`,
/// `Firmware/ports/host/nx_firmware_lib.h`), loaded into this process: the firmware core and the
/// robot's generated tables on a virtual clock, with its UART as two byte queues. Its clock
/// moves only when `runToSensors` or `deliver` runs it.
///
/// The library keeps its firmware in static storage, so each instance loads a copy of its own
/// (the file copied to a temporary name, loaded, and the name removed at once): two runs in one
/// process never share a firmware. Not thread-safe: one thread uses an instance at a time.
final class FirmwareLibrary: LockstepFirmware {
    /// The interface version this loader speaks (`NX_LIB_API_VERSION`).
    static let apiVersion: UInt32 = 1

    let path: String
    private let handle: UnsafeMutableRawPointer
    private let setSensorFunction: @convention(c) (UInt8, Int16) -> Bool
    private let receiveFunction: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int
    private let run: @convention(c) (UInt32, Bool) -> UInt64
    private let takeSentFunction: @convention(c) (UnsafeMutablePointer<UInt8>?, Int) -> Int
    private let sensorsSentFunction: @convention(c) () -> UInt32
    private let actuator: @convention(c) (UInt8) -> Int16
    private let now: @convention(c) () -> UInt64

    private(set) var micros: UInt64 = 0
    private(set) var sensorsSent: UInt64 = 0
    private(set) var actuators: [Int16]
    /// The robot's sensor channel count, from the library's tables.
    let sensorChannels: Int
    /// The robot's actuator channel count.
    var actuatorChannels: Int { actuators.count }

    /// Loads a copy of the library at `path` and starts its firmware at virtual time 0.
    /// - Throws: `SimFirmwareError` naming the file and the fix when it is missing, cannot be
    ///   loaded, or is not a firmware library of this interface version.
    init(path: String, uniqueID: [UInt8] = Array("nxhost".utf8) + [0, 1]) throws {
        self.path = path
        guard access(path, R_OK) == 0 else {
            throw SimFirmwareError("no firmware library at \(path): build it with `make -C Firmware host-lib`")
        }
        let loaded = try Self.loadCopy(of: path)
        handle = loaded
        func symbol<T>(_ name: String, as type: T.Type) throws -> T {
            guard let address = dlsym(loaded, name) else {
                throw SimFirmwareError("\(path) has no \(name): it is not a firmware library; rebuild it with `make -C Firmware host-lib`")
            }
            return unsafeBitCast(address, to: type)
        }
        do {
            let version = try symbol("nx_lib_api_version", as: (@convention(c) () -> UInt32).self)()
            guard version == Self.apiVersion else {
                throw SimFirmwareError("\(path) speaks library interface \(version), this program \(Self.apiVersion): rebuild it with `make -C Firmware host-lib`")
            }
            let start = try symbol("nx_lib_start", as: (@convention(c) (UnsafePointer<UInt8>?) -> Void).self)
            let sensorCount = try symbol("nx_lib_sensor_count", as: (@convention(c) () -> UInt8).self)
            let actuatorCount = try symbol("nx_lib_actuator_count", as: (@convention(c) () -> UInt8).self)
            setSensorFunction = try symbol("nx_lib_set_sensor", as: (@convention(c) (UInt8, Int16) -> Bool).self)
            receiveFunction = try symbol("nx_lib_receive", as: (@convention(c) (UnsafePointer<UInt8>?, Int) -> Int).self)
            run = try symbol("nx_lib_run", as: (@convention(c) (UInt32, Bool) -> UInt64).self)
            takeSentFunction = try symbol("nx_lib_take_sent", as: (@convention(c) (UnsafeMutablePointer<UInt8>?, Int) -> Int).self)
            sensorsSentFunction = try symbol("nx_lib_sensors_sent", as: (@convention(c) () -> UInt32).self)
            actuator = try symbol("nx_lib_actuator", as: (@convention(c) (UInt8) -> Int16).self)
            now = try symbol("nx_lib_now_us", as: (@convention(c) () -> UInt64).self)
            sensorChannels = Int(sensorCount())
            actuators = Array(repeating: 0, count: Int(actuatorCount()))
            let id = Array((uniqueID + Array(repeating: 0, count: 8)).prefix(8))
            id.withUnsafeBufferPointer { start($0.baseAddress) }
        } catch {
            dlclose(loaded)
            throw error
        }
        readBack()
    }

    deinit { dlclose(handle) }

    /// Loads a private copy of the library: `dlopen` of the same file twice gives the same
    /// copy, and with it the same firmware.
    private static func loadCopy(of path: String) throws -> UnsafeMutableRawPointer {
        var template = Array((NSTemporaryDirectory() + "/neuraxon-firmware-XXXXXX.so").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 3) }
        guard fd >= 0 else {
            throw SimFirmwareError("cannot copy the firmware library to the temporary folder \(NSTemporaryDirectory()): \(String(cString: strerror(errno)))")
        }
        let copy = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { unlink(copy) }
        let source = open(path, O_RDONLY | O_CLOEXEC)
        var failed = source < 0
        if !failed {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(source, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { failed = n < 0; break }
                if buffer.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, n) }) != n { failed = true; break }
            }
            close(source)
        }
        close(fd)
        guard !failed else {
            throw SimFirmwareError("cannot copy the firmware library \(path) to \(copy): \(String(cString: strerror(errno)))")
        }
        guard let handle = dlopen(copy, RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "unknown reason"
            throw SimFirmwareError("cannot load the firmware library \(path) (\(why)): rebuild it with `make -C Firmware host-lib`")
        }
        return handle
    }

    // MARK: LockstepFirmware

    func setSensor(_ channel: Int, _ value: Int16) {
        _ = setSensorFunction(UInt8(truncatingIfNeeded: channel), value)
    }

    func runToSensors(atMost micros: UInt64) -> Bool {
        _ = run(UInt32(min(micros, UInt64(UInt32.max))), true)
        readBack()
        return true
    }

    /// The bytes were queued as they were sent (`receive`): the firmware takes them now.
    func deliver(bytesSent: UInt64, marginMicros: Int) -> Bool {
        _ = run(UInt32(max(0, marginMicros)), false)
        readBack()
        return true
    }

    func quit() {}

    // MARK: The UART

    /// Queues `bytes` as received by the firmware's UART; false if its queue had no room for all.
    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.isEmpty || receiveFunction(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count) == bytes.count
    }

    /// Moves the bytes the firmware sent into `buffer`; returns the count.
    func takeSent(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        takeSentFunction(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), buffer.count)
    }

    /// Runs the firmware's main loop once without moving its clock (it takes what was received).
    func serviceOnce() {
        _ = run(0, false)
        readBack()
    }

    /// Reads the firmware's clock, SENSORS count and actuator values.
    private func readBack() {
        micros = now()
        sensorsSent = UInt64(sensorsSentFunction())
        for k in actuators.indices { actuators[k] = actuator(UInt8(k)) }
    }
}

/// The host side of the link to the firmware library: the protocol's frames, encoded and decoded
/// by the same codec as over a serial line (`FrameEncoder`, `FrameDecoder`), handed to and taken
/// from the firmware's UART queues in this process. The handshake is the serial session's
/// (Docs/PROTOCOL.md sections 6 and 11): HELLO → DEVICE_INFO, GET_CHANNEL → CHANNEL_INFO for
/// every channel's name, CONFIG → CONFIG_ACK. Each exchange runs the firmware's main loop once
/// without moving its clock, as a firmware process answers on its pseudo-terminal.
///
/// There is no line to lose and no wall clock: no heartbeat, no round trips, no reconnect. A
/// frame the codec refuses is counted (`counters`), as a serial session counts it.
public final class FirmwareLibraryLink {
    /// What the link has seen: frames, bytes, SENSORS frames, COMMANDs, dropped and bad frames.
    public private(set) var counters = LinkCounters()
    /// The firmware's DEVICE_INFO, with its channel names (set by the handshake).
    public private(set) var board: BoardInfo?
    /// The firmware's channels, named (see `DeviceInfo.init(board:samplePeriodMicros:)`).
    public private(set) var device = DeviceInfo(name: "", sensors: [], actuators: [])
    /// The configuration the firmware acknowledged.
    public private(set) var activeConfig = LinkConfig()

    private let firmware: FirmwareLibrary
    private var encoder = FrameEncoder()
    private var decoder = FrameDecoder(receiver: .host)
    private var sample = SensorSample()
    private var clock: SerialFrameClock
    private var txSequence: UInt8 = 0
    private var expectedSequence: UInt8?
    private let rx = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
    private var rxStart = 0
    private var rxEnd = 0
    private var stopped = false

    /// Connects to `firmware` and configures it with `config`.
    /// - Throws: `SimFirmwareError` saying which step of the handshake got no proper answer.
    init(firmware: FirmwareLibrary, config: LinkConfig, samplePeriodMicros: Int) throws {
        self.firmware = firmware
        clock = SerialFrameClock(samplePeriodMicros: UInt64(samplePeriodMicros))
        encoder.version = ProtocolLimits.newestVersion
        decoder.versions = ProtocolLimits.version...ProtocolLimits.newestVersion
        guard case var .deviceInfo(info)? = exchange(.hello, answer: .deviceInfo) else {
            rx.deallocate()
            throw SimFirmwareError("the firmware library \(firmware.path) did not answer HELLO with DEVICE_INFO")
        }
        decoder.version = info.protocolVersion
        encoder.version = info.protocolVersion
        if info.protocolVersion >= 2 {
            var names: [String] = []
            for (group, count) in [(ChannelGroup.sensor, info.sensors.count), (.actuator, info.actuators.count)] {
                for index in 0..<count {
                    guard case let .channelInfo(c)? = exchange(.getChannel(group: group.rawValue, index: UInt8(index)), answer: .channelInfo),
                          c.group == group, c.index == index else {
                        rx.deallocate()
                        throw SimFirmwareError("the firmware library \(firmware.path) did not name \(group) channel \(index)")
                    }
                    names.append(c.name)
                }
            }
            for (k, name) in names.enumerated() {
                if k < info.sensors.count { info.sensors[k].name = name } else { info.actuators[k - info.sensors.count].name = name }
            }
        }
        guard case let .configAck(ack)? = exchange(.config(config), answer: .configAck) else {
            rx.deallocate()
            throw SimFirmwareError("the firmware library \(firmware.path) did not acknowledge CONFIG (period \(config.periodMilliseconds) ms, failsafe \(config.failsafeMilliseconds) ms)")
        }
        board = info
        activeConfig = ack
        device = DeviceInfo(board: info, samplePeriodMicros: Int(ack.periodMilliseconds) * 1000)
    }

    deinit { rx.deallocate() }

    /// Reads the frames the firmware sent until the SENSORS frame that makes `sent` in all (older
    /// ones are passed over) and fills `frame` with it, as `SerialRobotBody` does.
    func nextFrame(into frame: inout SensorFrame, upTo sent: UInt64) -> BodyEvent {
        while counters.sensorFrames < sent {
            guard let header = nextHeader() else { return .linkLost }
            guard header.type == .sensors, decoder.readSensors(into: &sample) else { continue }
            clock.advance(stamp: sample.timestampMicros, sequence: header.sequence)
        }
        frame.timestampMicros = clock.timestampMicros
        frame.sequence = clock.sequence
        frame.hostReceiveNanos = monotonicNanos()
        frame.droppedFrames = counters.droppedFrames
        // Readings stay at their channel's index; a channel outside the mask reads 0.
        let n = min(frame.readings.count, ProtocolLimits.maxChannels)
        var count = 0
        for channel in 0..<n {
            if sample.sensorMask & (1 << channel) != 0 {
                frame.readings[channel] = sample.readings[channel]
                count = channel + 1
            } else {
                frame.readings[channel] = 0
            }
        }
        frame.count = count
        return .frame
    }

    /// Sends one COMMAND (queued on the firmware's UART; `LockstepDriver.handle` has it taken).
    func send(_ setpoints: [Int16]) -> Bool {
        guard !stopped else { return false }
        setpoints.withUnsafeBufferPointer { encoder.encodeCommand($0, sequence: txSequence) }
        txSequence &+= 1
        guard write() else { return false }
        counters.commandsSent += 1
        return true
    }

    /// The clean stop: every actuator's safe value, then STOP and the firmware's STATUS.
    /// Calling it again does nothing.
    func stop() {
        guard !stopped else { return }
        _ = send((board?.actuators ?? []).map(\.safe))
        firmware.serviceOnce()
        _ = exchange(.stop, answer: .status)
        stopped = true
    }

    // MARK: Internals

    /// Sends `message`, runs the firmware once, and returns the first answer of type `answer`.
    private func exchange(_ message: Message, answer: MessageType) -> Message? {
        encoder.encode(message, sequence: txSequence)
        txSequence &+= 1
        guard write() else { return nil }
        firmware.serviceOnce()
        while let header = nextHeader() {
            if header.type == answer { return try? decoder.message() }
        }
        return nil
    }

    private func write() -> Bool {
        let ok = encoder.frame.withUnsafeBytes { firmware.receive($0) }
        guard ok else { return false }
        counters.framesSent += 1
        counters.bytesSent += UInt64(encoder.frame.count)
        return true
    }

    /// The next good frame the firmware sent (its body in the decoder), or nil when it sent no
    /// more. Bad frames are counted on the way.
    private func nextHeader() -> FrameHeader? {
        while true {
            if rxStart < rxEnd {
                var offset = rxStart
                let event = decoder.decode(UnsafeRawBufferPointer(rebasing: rx[0..<rxEnd]), offset: &offset)
                rxStart = offset
                switch event {
                case let .frame(header)?:
                    note(header)
                    return header
                case let .error(error)?:
                    note(error)
                    continue
                case nil:
                    break
                }
            }
            rxStart = 0
            rxEnd = firmware.takeSent(into: rx)
            if rxEnd == 0 { return nil }
            counters.bytesReceived += UInt64(rxEnd)
        }
    }

    private func note(_ header: FrameHeader) {
        counters.framesReceived += 1
        if header.type == .sensors { counters.sensorFrames += 1 }
        if header.type == .error { counters.boardErrors += 1 }
        // sequence gaps count as dropped frames (Docs/PROTOCOL.md section 4)
        if let expected = expectedSequence, header.type != .deviceInfo {
            counters.droppedFrames += UInt64(header.sequence &- expected)
        }
        expectedSequence = header.sequence &+ 1
    }

    private func note(_ error: FrameError) {
        switch error {
        case .crc: counters.crcErrors += 1
        case .cobs, .tooShort, .tooLong: counters.malformedFrames += 1
        case .unsupportedVersion, .unknownType, .badLength: counters.rejectedFrames += 1
        }
    }
}
