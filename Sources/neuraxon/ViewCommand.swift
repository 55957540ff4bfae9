import ArgumentParser
import Foundation
import Glibc
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonSimulation
import NeuraxonTransport
import NeuraxonView

/// The options that attach the browser view to a run (`sim`, `run`) or serve a recording.
struct ViewArguments: ParsableArguments {
    @Flag(help: "Serve the live browser view of the run (http://127.0.0.1:8765/ by default; Docs/VIEW.md). A simulation then runs at the wall-clock pace.")
    var view = false

    @Option(name: .customLong("view-port"), parsing: .unconditional, help: "The view's TCP port (0: any free port).")
    var viewPort: Int = 8765

    @Option(help: "The address the view listens on; anything but loopback prints a token that the page's address must carry.")
    var host: String = "127.0.0.1"

    func validate() throws {
        guard (0...65535).contains(viewPort) else { throw ValidationError("--view-port must be from 0 to 65535, e.g. --view-port 8765") }
        guard !host.isEmpty, host.utf8.count < 256, host.allSatisfy({ $0.isLetter || $0.isNumber || ".:-".contains($0) }) else {
            throw ValidationError("--host must be an IP address or host name, e.g. --host 127.0.0.1")
        }
    }

    var options: ViewServerOptions {
        var o = ViewServerOptions()
        o.host = host
        o.port = viewPort
        return o
    }

    /// Starts the server for `feed` and prints where to open it (on standard error, so that
    /// `--json` output stays clean).
    func start(_ feed: any ViewFeed) throws -> ViewServer {
        let server: ViewServer
        do {
            server = try ViewServer(options: options, feed: feed)
            try server.start()
        } catch {
            throw CommandError(ExitStatus.unavailable, "\(error)")
        }
        var text = "view: \(server.url)"
        if server.options.token != nil { text += "\n(the address carries the view's access token: share it only with people who may watch and steer this run)" }
        FileHandle.standardError.write(Data((text + "\n").utf8))
        return server
    }
}

/// `neuraxon view FILE`: plays a recording in the browser view.
struct ViewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Play a recording in the browser view with a timeline, or open the network playground.",
        discussion: """
            Serves the view on http://127.0.0.1:8765/ (Docs/VIEW.md) and plays FILE (JSON Lines or MCAP): \
            play, pause, step, speed and seek from the page. The network is drawn from the recording's network file \
            when it can be found. With --playground instead: a network with no robot, built from a preset and \
            parameters on the page; set its inputs by hand, move the neuromodulators, run, pause, step, and save it \
            to the -o file. Live runs take --view instead: neuraxon sim --view. Ctrl-C ends it.
            """
    )

    @Argument(help: "The recording to play.")
    var recording: String?

    @Flag(help: "Open the network playground instead of a recording.")
    var playground = false

    @Option(help: "The playground's first network: a network preset (\(NetworkPreset.all.map(\.name).joined(separator: ", "))).")
    var preset: String = "flowing"

    @Option(parsing: .unconditional, help: "The seed of the playground's first network.")
    var seed: UInt64 = 1

    @Option(name: .short, help: "Where the playground's Save button writes the network (JSON).")
    var output: String?

    @Option(name: .customLong("view-port"), parsing: .unconditional, help: "The view's TCP port (0: any free port).")
    var viewPort: Int = 8765

    @Option(help: "The address the view listens on; anything but loopback prints a token that the page's address must carry.")
    var host: String = "127.0.0.1"

    @Option(parsing: .unconditional, help: "Serve for this many seconds, then end (default: until Ctrl-C).")
    var duration: Double?

    func validate() throws {
        var arguments = ViewArguments()
        arguments.viewPort = viewPort
        arguments.host = host
        try arguments.validate()
        if let duration, !(duration.isFinite && duration > 0) { throw ValidationError("--duration must be more than 0 seconds") }
        if playground {
            guard recording == nil else { throw ValidationError("--playground plays no recording: drop \(recording!)") }
            guard NetworkPreset.named(preset) != nil else {
                throw ValidationError("--preset must be one of \(NetworkPreset.all.map(\.name).joined(separator: ", "))")
            }
        } else {
            guard recording != nil else { throw ValidationError("name a recording to play, e.g. neuraxon view run.jsonl, or give --playground") }
            guard output == nil else { throw ValidationError("-o applies to the playground: add --playground") }
        }
    }

    func run() throws {
        let stop = StopSignals()
        var files = FilePlan()
        files.input(recording, "the recording")
        files.output(output, "-o")
        try files.check()
        let feed: any ViewFeed
        if let recording {
            let playback: RecordingFeed
            do { playback = try RecordingFeed(path: recording) } catch { throw CommandError.dataError("\(error)") }
            feed = playback
            print("playing \(recording) (\(playback.tickCount) ticks); Ctrl-C ends")
        } else {
            feed = try PlaygroundFeed(preset: preset, seed: seed, savePath: output)
            print("playground: network preset \(preset), seed \(seed)" + (output.map { "; Save writes \($0)" } ?? "") + "; Ctrl-C ends")
        }
        var arguments = ViewArguments()
        arguments.viewPort = viewPort
        arguments.host = host
        let server = try arguments.start(feed)
        let deadline = duration.map { Date().addingTimeInterval($0) }
        while !stop.isRequested, deadline.map({ Date() < $0 }) ?? true {
            var fd = pollfd(fd: stop.request.fileDescriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&fd, 1, 200)
        }
        server.stop()
        try stop.exitIfStopped()
    }
}

/// For `bench sim --view`: the view's tap on the loop, and a thread that encodes its messages at
/// display rate as the server does for a watching page (without the sockets).
final class ViewWatcher: @unchecked Sendable {
    let tap: ViewTap
    private let feed: LiveFeed
    private let done = StopRequest()
    private let finished = DispatchSemaphore(value: 0)

    init(mapping: Mapping, network: NeuraxonNetwork, robot: SimulatedRobot) {
        tap = ViewTap(mapping: mapping, network: network, robot: robot)
        feed = LiveFeed(tap: tap, scene: "{}", stopRequest: StopRequest())
        let thread = Thread { [self] in
            while !done.isRequested {
                _ = feed.frame(watching: true)
                var fd = pollfd(fd: done.fileDescriptor, events: Int16(POLLIN), revents: 0)
                _ = poll(&fd, 1, 33)
            }
            finished.signal()
        }
        thread.start()
    }

    func stop() {
        done.request()
        finished.wait()
    }
}
