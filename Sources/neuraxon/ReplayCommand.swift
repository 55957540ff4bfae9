import ArgumentParser
import Dispatch
import Foundation
import Glibc
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonSimulation
import NeuraxonView

/// `neuraxon replay`: feeds a recording's sensor frames through encoder, network and decoder
/// and checks every tick against the recording.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a recorded run through the network and check every tick against it.",
        discussion: """
            The network and the mapping default to those of the recording (the network file named in \
            its header, found relative to the recording's folder, so it replays from any folder; the \
            mapping stored in it). With the same network file, every output trit and setpoint equals \
            the recorded one. The exit status is 0 only when every tick asked for was checked and \
            equals the recording; it is 1 when a tick differs (the first divergence is reported) or \
            not every tick could be checked: a damaged, cut or out-of-order recording replays up to \
            its last good record and says where it stopped. The summary says how many ticks of how \
            many were checked. --record writes the replayed range as a recording that replays on \
            its own (the network at its start beside it, as FILE.network.json).
            Ctrl-C, SIGTERM and SIGHUP stop it the same way: the summary of what was checked, a \
            --record file finished with its end record, exit status 130, 143 or 129.
            """
    )

    @Argument(help: "The recording (JSON Lines or MCAP), e.g. run.jsonl or run.mcap.")
    var recording: String

    @Option(help: "The network file to replay with (default: the one named in the recording).")
    var network: String?

    @Option(help: "A mapping file to replay with instead of the recording's own.")
    var mapping: String?

    @Option(parsing: .unconditional, help: "Pace as a multiple of real time: 1 for real time, 2 for twice as fast, 0.1…10 (default: as fast as possible).")
    var rate: Double?

    @Option(parsing: .unconditional, help: "Start at this many seconds after the first tick (earlier ticks still run, unpaced).")
    var from: Double?

    @Option(parsing: .unconditional, help: "Stop after this many seconds after the first tick.")
    var to: Double?

    @Flag(help: "Start again at the end, with a fresh network, until Ctrl-C.")
    var loop = false

    @Option(help: "Write the replayed ticks to a new recording (MCAP when it ends in .mcap).")
    var record: String?

    @Flag(help: "Record every neuron's state with each tick (JSON Lines only; Docs/LOG-FORMAT.md gives the size cost).")
    var recordNeurons = false

    @OptionGroup(title: "Browser view")
    var view: ViewArguments

    func validate() throws {
        if recordNeurons { try RecordNeuronsOption.check(record: record) }
        if let rate, !ReplayOptions.rateRange.contains(rate) {
            throw ValidationError("--rate \(rate) is outside 0.1…10: use 1 for real time, 2 for twice as fast, or leave it out for full speed")
        }
        if let from, from < 0 { throw ValidationError("--from must be 0 or more seconds") }
        if let to, to < 0 { throw ValidationError("--to must be 0 or more seconds") }
        if let from, let to, to <= from { throw ValidationError("--to (\(to) s) must come after --from (\(from) s)") }
    }

    func run() throws {
        let stop = StopSignals()
        try InputFile.check(recording, what: "the recording")
        let networkPath = try resolveNetworkPath(RecordingReader(path: recording).header)
        var files = FilePlan()
        files.input(recording, "the recording")
        files.input(networkPath, "the network file")
        files.input(mapping, "the mapping file")
        files.recording(record, network: true)
        try files.check()
        var pass = 0
        repeat {
            pass += 1
            let reader = try RecordingReader(path: recording)
            let header = reader.header
            let (net, bytes) = try loadNetwork(networkPath)
            let identity = NetworkIdentity(path: networkPath, bytes: bytes, network: net)
            if pass == 1, !header.network.digest.isEmpty, identity.digest != header.network.digest {
                FileHandle.standardError.write(Data("warning: \(networkPath) is not the network file the recording was made with (SHA-256 differs); expect a divergence\n".utf8))
            }
            let map: Mapping
            if let mapping {
                map = try Mapping(contentsOf: mapping, device: header.device, inputCount: net.inputCount, outputCount: net.outputCount)
            } else {
                map = try Mapping(yaml: header.mapping, device: header.device, inputCount: net.inputCount, outputCount: net.outputCount)
            }
            // The browser view: watch-only (a replay computes what the recording implies).
            let tap = view.view ? ViewTap(mapping: map, network: net, robot: nil, controlsEnabled: false) : nil
            let server = try tap.map {
                try view.start(LiveFeed(tap: $0, scene: Scene.json(
                    mode: "live", controls: false, title: "replay \(recording)", device: map.device,
                    valueNames: header.valueNames, inputCount: net.inputCount, outputCount: net.outputCount,
                    network: net, world: header.world.flatMap { try? World.parse(yaml: $0, source: recording) }),
                    stopRequest: stop.request))
            }
            defer { server?.stop() }
            let started = Date()
            let progress = ProgressLine(total: 0, unit: "ticks replayed")
            var polled = 0
            let report = try Replay.run(reader: reader, network: net, mapping: map,
                                        options: ReplayOptions(rate: rate ?? (view.view ? 1 : nil), fromSeconds: from, toSeconds: to),
                                        record: pass == 1 ? record : nil, recordNeurons: recordNeurons, shouldStop: {
                                            polled += 1
                                            progress.update(polled)
                                            return stop.isRequested
                                        }, observer: tap)
            progress.finish()
            let wall = Date().timeIntervalSince(started)
            print(Self.describe(report, wall: wall, pass: loop ? pass : nil))
            if let cause = stop.cause { print(cause) }
            if let record, pass == 1 {
                print("wrote \(report.ticksInRange) ticks to \(record) (its network as it stood at its first tick: \(record).network.json)")
            }
            try stop.exitIfStopped()
            if report.verdict != .verified { throw ExitCode(ExitStatus.failure) }
        } while loop
    }

    /// The network file to replay with: `--network`, or the one the recording names, looked for
    /// relative to the recording's folder first (so a recording replays from any folder).
    private func resolveNetworkPath(_ header: RecordingHeader) throws -> String {
        if let network { return network }
        guard !header.network.path.isEmpty else {
            throw CommandError.usage("\(recording) names no network file: pass --network FILE")
        }
        guard let found = header.networkFile(recordingPath: recording) else {
            throw CommandError(ExitStatus.noInput, "cannot find the network file \(header.network.path) that \(recording) names (looked in "
                + header.networkFileCandidates(recordingPath: recording).joined(separator: " and ") + "): pass --network FILE")
        }
        return found
    }

    static func describe(_ r: ReplayReport, wall: Double, pass: Int?) -> String {
        let prefix = pass.map { "pass \($0): " } ?? ""
        return prefix + r.summary(wallSeconds: wall).joined(separator: "\n")
    }
}
