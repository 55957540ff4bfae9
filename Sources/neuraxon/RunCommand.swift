import ArgumentParser
import Foundation
import Glibc
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonProtocol
import NeuraxonTransport

/// `neuraxon run`: a network drives a serial robot in a closed loop.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Drive a serial robot with a network: sensors → encoders → network → decoders → motors.",
        discussion: """
            Connects to the board (handshake, then the sampling period and failsafe timeout), runs the \
            loop until Ctrl-C or --duration, and shows a live status line (rate, latency, drops, outputs). \
            On Ctrl-C the actuators are stopped (safe values, then STOP) before the port closes. If the \
            link is lost the loop waits for the same board to come back and carries on (--no-reconnect \
            ends the run instead, with exit status 1). The mapping file is described in Docs/MAPPING.md, \
            the recording format in Docs/LOG-FORMAT.md.
            """
    )

    @Option(help: "The serial port, e.g. /dev/ttyACM0 or a pseudo-terminal.")
    var port: String?

    @Option(help: "Which board instead of a port: serial:NUMBER, vvvv:pppp (USB ids) or auto (the only known board).")
    var board: String?

    @Option(help: "The network file (neuraxon net create).")
    var network: String

    @Option(help: "The mapping file (YAML, Docs/MAPPING.md).")
    var mapping: String

    @Option(help: "Record every tick to this file (JSON Lines).")
    var record: String?

    @Option(parsing: .unconditional, help: "Stop after this many seconds of firmware time.")
    var duration: Double?

    @Option(help: "The board's sampling period in ms (one control tick per sample).")
    var period: Int = 5

    @Option(help: "The board's failsafe timeout in ms: it stops the actuators when commands stop for this long.")
    var failsafe: Int = 100

    @Option(help: "Line speed in bits per second.")
    var baud: UInt32 = 115_200

    @Flag(help: "End the run when the link is lost instead of waiting for the board to come back.")
    var noReconnect = false

    @Flag(help: "No live status line.")
    var quiet = false

    func validate() throws {
        if port != nil && board != nil {
            throw ValidationError("give --port or --board, not both")
        }
        if let board {
            do { _ = try BoardSelector(parsing: board) } catch { throw ValidationError("--board: \(error)") }
        }
        if let duration, !(duration > 0 && duration <= 86_400 * 365) {
            throw ValidationError("--duration must be a positive number of seconds")
        }
        guard (1...1000).contains(period) else {
            throw ValidationError("--period \(period) is outside 1…1000 ms (`neuraxon probe` shows the board's own limits)")
        }
        guard (10...60_000).contains(failsafe) else {
            throw ValidationError("--failsafe \(failsafe) is outside 10…60000 ms")
        }
        if failsafe <= period {
            throw ValidationError("--failsafe (\(failsafe) ms) must be longer than --period (\(period) ms), or the board stops between two commands")
        }
        guard baud >= 50 else { throw ValidationError("--baud \(baud) is not a line speed; give one such as 115200") }
    }

    func run() throws {
        let interrupted = Interruption()
        var files = FilePlan()
        files.input(network, "the network file")
        files.input(mapping, "the mapping file")
        files.recording(record)
        try files.check()

        let (net, bytes) = try loadNetwork(network)
        let identity = NetworkIdentity(path: network, bytes: bytes, network: net)
        // Everything the mapping can be checked for without the board, before the port is
        // opened (opening it resets some boards); its channels once the board has named them.
        for warning in try Mapping.check(contentsOf: mapping, inputCount: net.inputCount, outputCount: net.outputCount) {
            printError("warning: \(warning)")
        }

        let selector = try BoardSelector(parsing: port ?? board ?? "auto")
        var options = SessionOptions(selector: selector, serial: SerialConfiguration(baudRate: baud),
                                     config: LinkConfig(periodMilliseconds: UInt16(period), failsafeMilliseconds: UInt16(failsafe)))
        options.reconnect = !noReconnect
        printError("connecting to \(selector)…")
        let body = try SerialRobotBody(options: options)
        for event in body.takeEvents() { printError(event) }
        printError("\(body.device.name) firmware \(body.device.firmwareVersion): \(body.device.sensors.count) sensors, "
            + "\(body.device.actuators.count) actuators, sampling every \(period) ms, failsafe \(failsafe) ms")

        let map: Mapping
        let recorder: Recorder?
        let loop: ControlLoop<SerialRobotBody, NeuraxonNetwork>
        do {
            map = try Mapping(contentsOf: mapping, device: body.device, inputCount: net.inputCount, outputCount: net.outputCount)
            recorder = try record.map {
                try Recorder(path: $0, header: RecordingHeader(mapping: map, network: identity, dtMillis: net.dt))
            }
            loop = try ControlLoop(body: body, network: net, mapping: map, recorder: recorder,
                                   linkLossPolicy: noReconnect ? .end : .awaitReconnect,
                                   durationMicros: duration.map { UInt64(($0 * 1e6).rounded()) })
        } catch {
            body.stopActuators()
            throw error
        }

        loop.start()
        let live = !quiet && isatty(STDERR_FILENO) == 1
        let reason = SerialRunReport.monitor(loop, body: body, live: live, alsoStopWhen: { interrupted.happened }) { text in
            FileHandle.standardError.write(Data(text.utf8))
        }
        if let error = loop.recordingError { printError("recording failed: \(error)") }
        print(SerialRunReport.summary(reason: reason, status: loop.status(), link: body.link,
                                      roundTrip: body.session.roundTrip, boardStatus: body.finalStatus,
                                      recording: recorder.map { ($0.path, $0.droppedRecords) }))
        if reason == .linkLost { throw ExitCode(1) }
    }
}
