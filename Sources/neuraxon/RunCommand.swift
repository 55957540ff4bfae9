import ArgumentParser
import Foundation
import Glibc
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonView
import NeuraxonProtocol
import NeuraxonTransport

/// `neuraxon run`: a network drives a serial robot in a closed loop.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Drive a serial robot with a network: sensors → encoders → network → decoders → motors.",
        discussion: """
            Connects to the board (handshake, then the sampling period and failsafe timeout), runs the \
            loop until --duration or a stop, and shows a live status line (rate, latency, drops, outputs). \
            Ctrl-C, SIGTERM and SIGHUP all stop it the same way: the actuators go to their safe values, \
            STOP goes to the board, the recording gets its end record, the summary is printed and -o saves \
            the network; the exit status is then 130, 143 or 129. If the \
            link is lost the loop waits for the same board to come back and carries on (--no-reconnect \
            ends the run instead, with exit status 1). The mapping file is described in Docs/MAPPING.md, \
            the recording format in Docs/LOG-FORMAT.md.
            """
    )

    @OptionGroup var link: LinkArguments

    @Option(help: "The network file (neuraxon net create).")
    var network: String

    @Option(help: "The mapping file (YAML, Docs/MAPPING.md).")
    var mapping: String

    @Option(help: "Record every tick to this file: MCAP when it ends in .mcap, JSON Lines otherwise.")
    var record: String?

    @Flag(help: "Record every neuron's state with each tick (JSON Lines only; Docs/LOG-FORMAT.md gives the size cost).")
    var recordNeurons = false

    @Option(parsing: .unconditional, help: "Stop after this many seconds of firmware time.")
    var duration: Double?

    @Option(name: [.customShort("o"), .long], help: "Save the network after the run, as plasticity left it (JSON, written atomically).")
    var output: String?

    @Flag(help: "End the run when the link is lost instead of waiting for the board to come back.")
    var noReconnect = false

    @Flag(help: "No live status line.")
    var quiet = false

    @OptionGroup(title: "Browser view")
    var view: ViewArguments

    @Flag(name: .customLong("view-control"), help: "Let the view's page change the robot's behaviour (neuromodulator sliders, input clamps); without it the page can only watch and STOP.")
    var viewControl = false

    func validate() throws {
        if recordNeurons { try RecordNeuronsOption.check(record: record) }
        if let duration, !(duration > 0 && duration <= 86_400 * 365) {
            throw ValidationError("--duration must be a positive number of seconds")
        }
        if viewControl && !view.view { throw ValidationError("--view-control applies to the browser view: add --view") }
    }

    func run() throws {
        let stop = StopSignals(notice: "stopping: actuators to their safe values, then STOP…")
        var files = FilePlan()
        files.input(network, "the network file")
        files.input(mapping, "the mapping file")
        files.recording(record)
        files.output(output, "-o")
        try files.check()

        let (net, bytes) = try loadNetwork(network)
        let identity = NetworkIdentity(path: network, bytes: bytes, network: net)
        // Everything the mapping can be checked for without the board, before the port is
        // opened (opening it resets some boards); its channels once the board has named them.
        for warning in try Mapping.check(contentsOf: mapping, inputCount: net.inputCount, outputCount: net.outputCount) {
            printError("warning: \(warning)")
        }

        let selector = try link.selector()
        var options = link.sessionOptions(selector: selector, stopRequest: stop.request)
        options.reconnect = !noReconnect
        // The view's link panel shows the board's failsafe state: ask for STATUS once a second.
        if view.view { options.statusPollMilliseconds = 1000 }
        printError("connecting to \(selector)…")
        let body: SerialRobotBody
        do { body = try SerialRobotBody(options: options) } catch {
            try stop.exitIfStopped()
            throw error
        }
        for event in body.takeEvents() { printError(event) }
        printError("\(body.device.name) firmware \(body.device.firmwareVersion): \(body.device.sensors.count) sensors, "
            + "\(body.device.actuators.count) actuators, sampling every \(link.period) ms, failsafe \(link.failsafe) ms")

        let map: Mapping
        let recorder: Recorder?
        let loop: ControlLoop<SerialRobotBody, NeuraxonNetwork>
        var tap: ViewTap?
        var server: ViewServer?
        do {
            map = try Mapping(contentsOf: mapping, device: body.device, inputCount: net.inputCount, outputCount: net.outputCount)
            recorder = try record.map {
                let recorder = try Recorder(path: $0, header: RecordingHeader(mapping: map, network: identity, dtMillis: net.dt))
                if recordNeurons { recorder.recordNeurons(of: net) }
                return recorder
            }
            tap = view.view ? ViewTap(mapping: map, network: net, robot: nil, controlsEnabled: viewControl) : nil
            loop = try ControlLoop(body: body, network: net, mapping: map, recorder: recorder,
                                   linkLossPolicy: noReconnect ? .end : .awaitReconnect,
                                   durationMicros: duration.map { UInt64(($0 * 1e6).rounded()) }, stopRequest: stop.request,
                                   observer: tap)
            server = try tap.map {
                try view.start(LiveFeed(tap: $0, scene: Scene.json(
                    mode: "robot", controls: viewControl, title: "run \(network) on \(body.device.name)", device: map.device,
                    valueNames: map.encoders.map(\.channel), inputCount: net.inputCount, outputCount: net.outputCount,
                    network: net, world: nil), stopRequest: stop.request, link: LinkPanel(body: body)))
            }
        } catch {
            body.stopActuators()
            throw error
        }
        defer { server?.stop() }

        loop.start()
        let live = !quiet && isatty(STDERR_FILENO) == 1
        let reason = SerialRunReport.monitor(loop, body: body, live: live) { text in
            FileHandle.standardError.write(Data(text.utf8))
        }
        if let error = loop.recordingError { printError("recording failed: \(error)") }
        print(SerialRunReport.summary(reason: reason, status: loop.status(), link: body.link,
                                      roundTrip: body.session.roundTrip, boardStatus: body.finalStatus,
                                      recording: recorder.map { ($0.path, $0.droppedRecords) }))
        if let output {
            try net.save(to: output)
            print("network saved to \(output) (as plasticity left it after \(net.stepCount) steps)")
        }
        if let cause = stop.cause { print(cause) }
        try stop.exitIfStopped()
        if reason == .linkLost { throw ExitCode(1) }
    }
}
