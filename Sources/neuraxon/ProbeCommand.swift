import ArgumentParser
import Foundation
import Glibc
import NeuraxonChannels
import NeuraxonEmbodiment
import NeuraxonProtocol
import NeuraxonTransport

/// `neuraxon probe`: handshake, device info, round trips, a few seconds of sensor frames, counters.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Connect to a board, print its device info, measure round trips and stream its sensors.",
        discussion: "--port is a path (/dev/ttyACM0, a /dev/serial/by-id link, a pty) or a tty name (ttyACM0); --board is "
            + "serial:NUMBER, vendor:product in hex (2341:0043), or auto (the only known board present). "
            + "Ctrl-C, SIGTERM and SIGHUP stop the actuators and send STOP before the port closes (exit status 130, 143, 129)."
    )

    @Option(parsing: .unconditional, help: "PINGs to time.")
    var pings: Int = 100

    @Option(parsing: .unconditional, help: "Seconds of sensor frames to stream.")
    var duration: Double = 3

    @Flag(help: "Print one JSON object (device info, round trips, stream, counters, status) instead of text.")
    var json = false

    @OptionGroup var link: LinkArguments

    func validate() throws {
        guard pings >= 0 && pings <= 100_000 else { throw ValidationError("--pings must be 0…100000") }
        guard duration.isFinite && duration >= 0 && duration <= 3600 else { throw ValidationError("--duration must be 0…3600 seconds") }
    }

    func run() throws {
        let stop = StopSignals(notice: "stopping: actuators to their safe values, then STOP…")
        let selector = try link.selector()
        let session = LinkSession(options: link.sessionOptions(selector: selector, stopRequest: stop.request))
        let json = self.json
        session.onEvent = { event in
            if case .state = event { return }
            if json { printError("· \(event)") } else { print("· \(event)"); fflush(nil) }
        }
        let info: BoardInfo
        do { info = try session.connect() } catch {
            try stop.exitIfStopped()
            throw error
        }
        let path = session.devicePath ?? selector.description
        if !json { print(Self.describe(info, path: path)) }
        let sensorNames = DeviceInfo(board: info, samplePeriodMicros: 0).sensors.map(\.name)
        var rtts: [Double] = []
        var asked = 0
        while asked < pings && !stop.isRequested {   // in tens, so a stop is seen between them
            let batch = min(10, pings - asked)
            rtts += try session.ping(count: batch)
            asked += batch
        }
        if asked > 0 && !json { print(Self.roundTrips(rtts, asked: asked)) }
        var sample = SensorSample()
        let start = MonotonicTime.now()
        let end = start.adding(milliseconds: duration * 1000)
        var frames = 0
        var nextPrint = start
        var firstStamp: UInt32?
        var lastStamp: UInt32 = 0
        while MonotonicTime.now() < end && !stop.isRequested {
            let tick = min(end, MonotonicTime.now().adding(milliseconds: 100))
            switch session.nextSensors(into: &sample, deadline: tick) {
            case .sample(let seq):
                frames += 1
                if firstStamp == nil { firstStamp = sample.timestampMicros }
                lastStamp = sample.timestampMicros
                if !json && MonotonicTime.now() >= nextPrint {
                    print(Self.describe(sample, sequence: seq, sensors: sensorNames))
                    fflush(nil)   // the stream shows as it comes through a pipe too
                    nextPrint = MonotonicTime.now().adding(milliseconds: 500)
                }
            case .timeout, .linkLost, .reconnected:
                break
            }
        }
        let elapsed = MonotonicTime.now().milliseconds(since: start) / 1000
        let boardSpan = Double(lastStamp &- (firstStamp ?? lastStamp)) / 1e6
        let boardRate = boardSpan > 0 ? Double(max(0, frames - 1)) / boardSpan : 0
        if !json && elapsed > 0 {
            print(String(format: "streamed %d sensor frames in %.2f s (%.1f Hz host clock, %.1f Hz board clock)", frames,
                         elapsed, Double(frames) / elapsed, boardRate))
        }
        let status = stop.isRequested ? nil : try? session.status()
        let stopped = session.stop()
        if json {
            printJSON(Self.report(info: info, path: path, pings: asked, rtts: rtts, frames: frames, seconds: elapsed,
                                  boardRate: boardRate, counters: session.counters, status: status, stopped: stopped,
                                  stoppedBy: stop.signalName))
        } else {
            print(Self.counters(session.counters, roundTrip: session.roundTrip))
            if let status { print(Self.describe(status)) }
            print(stopped.map { "stopped: board reports failsafe \($0.failsafeState?.description ?? String($0.failsafe))" }
                  ?? "stop: the board did not acknowledge STOP (its failsafe stops the actuators within the timeout)")
            if let cause = stop.cause { print(cause) }
        }
        try stop.exitIfStopped()
    }

    /// Everything `probe` found, as one JSON object (`--json`).
    static func report(info: BoardInfo, path: String, pings: Int, rtts: [Double], frames: Int, seconds: Double,
                       boardRate: Double, counters c: LinkCounters, status: BoardStatus?, stopped: BoardStatus?,
                       stoppedBy: String?) -> [String: Any] {
        func channel(_ d: ChannelDescriptor) -> [String: Any] {
            ["name": d.name, "kind": d.kind.name, "unit": d.unit.symbol, "minimum": Int(d.minimum), "maximum": Int(d.maximum),
             "safe": Int(d.safe)]
        }
        let named = DeviceInfo(board: info, samplePeriodMicros: 0)
        let sorted = rtts.sorted()
        func pct(_ p: Double) -> Double { sorted[max(0, min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))] }
        var object: [String: Any] = [
            "port": path,
            "board": info.board,
            "firmware": info.firmwareVersionString,
            "unique_id": info.uniqueIDHex,
            "period_ms": ["min": Int(info.periodMinMilliseconds), "max": Int(info.periodMaxMilliseconds)],
            "failsafe_ms": ["min": Int(info.failsafeMinMilliseconds), "max": Int(info.failsafeMaxMilliseconds)],
            "channels_named_by": info.channelsNamed ? "board" : "host",
            "sensors": named.sensors.map(channel),
            "actuators": named.actuators.map(channel),
            "round_trip": (sorted.isEmpty ? ["pings": pings, "answered": 0]
                : ["pings": pings, "answered": sorted.count, "p50_ms": pct(50), "p99_ms": pct(99),
                   "min_ms": sorted.first!, "max_ms": sorted.last!]) as [String: Any],
            "stream": ["frames": frames, "seconds": seconds, "board_rate_hz": boardRate],
            "counters": [
                "frames_received": c.framesReceived, "sensor_frames": c.sensorFrames, "frames_sent": c.framesSent,
                "commands_sent": c.commandsSent, "pings_sent": c.pingsSent, "pongs_received": c.pongsReceived,
                "bytes_received": c.bytesReceived, "bytes_sent": c.bytesSent, "dropped_frames": c.droppedFrames,
                "crc_errors": c.crcErrors, "malformed_frames": c.malformedFrames, "rejected_frames": c.rejectedFrames,
                "board_errors": c.boardErrors, "link_losses": c.linkLosses, "reconnects": c.reconnects,
            ],
            "stop_acknowledged": stopped != nil,
        ]
        if let s = status {
            object["status"] = [
                "failsafe": s.failsafeState?.description ?? String(s.failsafe), "uptime_ms": s.uptimeMilliseconds,
                "reset_cause": Int(s.resetCause), "crc_errors": s.crcErrors, "malformed_frames": s.malformedFrames,
                "rejected_frames": s.rejectedFrames, "dropped_frames": s.droppedFrames, "rx_overflows": s.rxOverflows,
                "failsafe_trips": s.failsafeTrips, "loop_overruns": s.loopOverruns,
            ] as [String: Any]
        }
        if let stoppedBy { object["stopped_by"] = stoppedBy }
        return object
    }

    static func describe(_ info: BoardInfo, path: String) -> String {
        var lines = ["board \(info.board) on \(path)",
                     "  firmware \(info.firmwareVersionString), unique id \(info.uniqueIDHex)",
                     "  sampling period \(info.periodMinMilliseconds)…\(info.periodMaxMilliseconds) ms, failsafe "
                        + "\(info.failsafeMinMilliseconds)…\(info.failsafeMaxMilliseconds) ms"]
        let named = DeviceInfo(board: info, samplePeriodMicros: 0)
        if !info.channelsNamed {
            lines.append("  (a version-1 board names no channels: the names below are the host's)")
        }
        for (i, c) in named.sensors.enumerated() {
            lines.append("  sensor \(i) \(c.name): \(c.kind.name) \(c.minimum)…\(c.maximum) \(c.unit.symbol)")
        }
        for (i, c) in named.actuators.enumerated() {
            lines.append("  actuator \(i) \(c.name): \(c.kind.name) \(c.minimum)…\(c.maximum) \(c.unit.symbol), safe \(c.safe)")
        }
        return lines.joined(separator: "\n")
    }

    static func roundTrips(_ rtts: [Double], asked: Int) -> String {
        guard !rtts.isEmpty else { return "round trip: no PONG for any of \(asked) PINGs" }
        let sorted = rtts.sorted()
        func pct(_ p: Double) -> Double { sorted[max(0, min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))] }
        return String(format: "round trip over %d PINGs (%d answered): p50 %.3f ms, p99 %.3f ms, min %.3f ms, max %.3f ms",
                      asked, rtts.count, pct(50), pct(99), sorted.first!, sorted.last!)
    }

    static func describe(_ s: SensorSample, sequence: UInt8, sensors names: [String]) -> String {
        let values = (0..<min(names.count, ProtocolLimits.maxChannels)).filter { s.sensorMask & (1 << $0) != 0 }.map { i in
            "\(names[i])=\(s.readings[i])"
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
