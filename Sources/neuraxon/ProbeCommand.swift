import ArgumentParser
import Foundation
import Glibc
import NeuraxonProtocol
import NeuraxonTransport
import Synchronization

/// Link settings shared by the commands that open a board.
struct LinkArguments: ParsableArguments {
    @Option(help: "Line speed in bits per second (standard or custom).")
    var baud: UInt32 = 115_200

    @Option(help: "Sampling period in ms.")
    var period: UInt16 = 10

    @Option(help: "Failsafe timeout in ms: the board stops its actuators this long after the last command or heartbeat.")
    var failsafe: UInt16 = 100

    @Option(help: "Enabled sensors as a bit mask (bit i = sensor i), e.g. 0x7f.")
    var mask: String = "0x7f"

    @Flag(help: "Do not drop DTR when the port closes (clears HUPCL), so the next open does not reset the board.")
    var noReset = false

    @Option(help: "Handshake timeout in ms (2500 covers a board that resets on open).")
    var handshakeTimeout: Double = 2500

    func validate() throws {
        guard sensorMask != nil else { throw ValidationError("--mask must be a number such as 0x7f or 127") }
        guard baud >= 50 else { throw ValidationError("--baud must be a line speed such as 115200") }
        guard period >= 1 else { throw ValidationError("--period must be at least 1 ms") }
    }

    var sensorMask: UInt16? {
        mask.hasPrefix("0x") ? UInt16(mask.dropFirst(2), radix: 16) : UInt16(mask)
    }

    func sessionOptions(selector: BoardSelector) -> SessionOptions {
        var options = SessionOptions(
            selector: selector,
            serial: SerialConfiguration(baudRate: baud, hangUpOnClose: !noReset),
            config: LinkConfig(periodMilliseconds: period, failsafeMilliseconds: failsafe, sensorMask: sensorMask ?? 0x7F))
        options.handshakeTimeoutMilliseconds = handshakeTimeout
        return options
    }
}

/// Ctrl-C as a flag the loops check, so they stop the actuators before the port closes.
enum Interrupt {
    static let requested = Atomic<Bool>(false)

    static func install() {
        signal(SIGINT) { _ in Interrupt.requested.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in Interrupt.requested.store(true, ordering: .relaxed) }
    }

    static var isRequested: Bool { requested.load(ordering: .relaxed) }
}

/// `neuraxon probe`: handshake, device info, round trips, a few seconds of sensor frames, counters.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Connect to a board, print its device info, measure round trips and stream its sensors.",
        discussion: "BOARD is a path (/dev/ttyACM0, a /dev/serial/by-id link, a pty), a tty name (ttyACM0), "
            + "serial:NUMBER, vendor:product in hex (2341:0043), or auto (the only known board present). "
            + "Ctrl-C stops the actuators before the port closes."
    )

    @Argument(help: "The board to probe (default: auto).")
    var board: String = "auto"

    @Option(help: "PINGs to time.")
    var pings: Int = 100

    @Option(help: "Seconds of sensor frames to stream.")
    var seconds: Double = 3

    @OptionGroup var link: LinkArguments

    func validate() throws {
        guard pings >= 0 && pings <= 100_000 else { throw ValidationError("--pings must be 0…100000") }
        guard seconds >= 0 && seconds <= 3600 else { throw ValidationError("--seconds must be 0…3600") }
    }

    func run() throws {
        Interrupt.install()
        let selector = try BoardSelector(parsing: board)
        let session = LinkSession(options: link.sessionOptions(selector: selector))
        session.onEvent = { event in
            if case .state = event { return }
            print("· \(event)")
        }
        let info = try session.connect()
        print(Self.describe(info, path: session.devicePath ?? board))
        if pings > 0 {
            let rtts = try session.ping(count: pings)
            print(Self.roundTrips(rtts, asked: pings))
        }
        var sample = SensorSample()
        let start = MonotonicTime.now()
        let end = start.adding(milliseconds: seconds * 1000)
        var frames = 0
        var nextPrint = start
        var firstStamp: UInt32?
        var lastStamp: UInt32 = 0
        while MonotonicTime.now() < end && !Interrupt.isRequested {
            let tick = min(end, MonotonicTime.now().adding(milliseconds: 100))
            switch session.nextSensors(into: &sample, deadline: tick) {
            case .sample(let seq):
                frames += 1
                if firstStamp == nil { firstStamp = sample.timestampMicros }
                lastStamp = sample.timestampMicros
                if MonotonicTime.now() >= nextPrint {
                    print(Self.describe(sample, sequence: seq, sensors: info.sensors.count))
                    nextPrint = MonotonicTime.now().adding(milliseconds: 500)
                }
            case .timeout, .linkLost, .reconnected:
                break
            }
        }
        let elapsed = MonotonicTime.now().milliseconds(since: start) / 1000
        if elapsed > 0 {
            let boardSpan = Double(lastStamp &- (firstStamp ?? lastStamp)) / 1e6
            print(String(format: "streamed %d sensor frames in %.2f s (%.1f Hz host clock, %.1f Hz board clock)", frames,
                         elapsed, Double(frames) / elapsed, boardSpan > 0 ? Double(max(0, frames - 1)) / boardSpan : 0))
        }
        let status = try? session.status()
        let stopped = session.stop()
        print(Self.counters(session.counters, roundTrip: session.roundTrip))
        if let status { print(Self.describe(status)) }
        print(stopped.map { "stopped: board reports failsafe \($0.failsafeState?.description ?? String($0.failsafe))" }
              ?? "stop: the board did not acknowledge STOP (its failsafe stops the actuators within the timeout)")
    }

    static let sensorNames = ["range_left", "range_right", "light_left", "light_right", "bumper", "wheel_left", "wheel_right"]

    static func describe(_ info: BoardInfo, path: String) -> String {
        var lines = ["board \(info.board) on \(path)",
                     "  firmware \(info.firmwareVersionString), unique id \(info.uniqueIDHex)",
                     "  sampling period \(info.periodMinMilliseconds)…\(info.periodMaxMilliseconds) ms, failsafe "
                        + "\(info.failsafeMinMilliseconds)…\(info.failsafeMaxMilliseconds) ms"]
        for (i, c) in info.sensors.enumerated() {
            lines.append("  sensor \(i) \(i < sensorNames.count ? sensorNames[i] : "-"): \(c.kind) \(c.minimum)…\(c.maximum) \(unit(c.unit))")
        }
        let actuatorNames = ["motor_left", "motor_right", "servo"]
        for (i, c) in info.actuators.enumerated() {
            lines.append("  actuator \(i) \(i < actuatorNames.count ? actuatorNames[i] : "-"): \(c.kind) \(c.minimum)…\(c.maximum) \(unit(c.unit)), safe \(c.safe)")
        }
        return lines.joined(separator: "\n")
    }

    static func unit(_ u: ChannelDescriptor.Unit) -> String {
        switch u {
        case .none: return ""
        case .millivolt: return "mV"
        case .tick: return "ticks"
        case .perMille: return "‰"
        case .degree: return "°"
        }
    }

    static func roundTrips(_ rtts: [Double], asked: Int) -> String {
        guard !rtts.isEmpty else { return "round trip: no PONG for any of \(asked) PINGs" }
        let sorted = rtts.sorted()
        func pct(_ p: Double) -> Double { sorted[max(0, min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))] }
        return String(format: "round trip over %d PINGs (%d answered): p50 %.3f ms, p99 %.3f ms, min %.3f ms, max %.3f ms",
                      asked, rtts.count, pct(50), pct(99), sorted.first!, sorted.last!)
    }

    static func describe(_ s: SensorSample, sequence: UInt8, sensors: Int) -> String {
        let values = (0..<min(sensors, ProtocolLimits.maxChannels)).filter { s.sensorMask & (1 << $0) != 0 }.map { i in
            "\(i < sensorNames.count ? sensorNames[i] : "s\(i)")=\(s.readings[i])"
        }
        return String(format: "  t=%.3f s seq %3d  ", Double(s.timestampMicros) / 1e6, sequence) + values.joined(separator: " ")
    }

    static func counters(_ c: LinkCounters, roundTrip: RoundTripStatistics) -> String {
        var text = "counters: frames in \(c.framesReceived) (sensors \(c.sensorFrames)), out \(c.framesSent) "
            + "(commands \(c.commandsSent), pings \(c.pingsSent), pongs \(c.pongsReceived)); bytes in \(c.bytesReceived), "
            + "out \(c.bytesSent)\n          dropped \(c.droppedFrames), CRC errors \(c.crcErrors), malformed "
            + "\(c.malformedFrames), rejected \(c.rejectedFrames), board errors \(c.boardErrors), link losses "
            + "\(c.linkLosses), reconnects \(c.reconnects)"
        if let p50 = roundTrip.p50, let p99 = roundTrip.p99 {
            text += String(format: "\n          round trip (all %d PONGs): p50 %.3f ms, p99 %.3f ms", roundTrip.count, p50, p99)
        }
        return text
    }

    static func describe(_ s: BoardStatus) -> String {
        "board status: failsafe \(s.failsafeState?.description ?? String(s.failsafe)), uptime \(s.uptimeMilliseconds) ms, "
            + "reset cause \(s.resetCause), CRC errors \(s.crcErrors), malformed \(s.malformedFrames), rejected "
            + "\(s.rejectedFrames), dropped \(s.droppedFrames), rx overflows \(s.rxOverflows), failsafe trips "
            + "\(s.failsafeTrips), loop overruns \(s.loopOverruns)"
    }
}
