import ArgumentParser
import Dispatch
import Foundation
import Glibc
import Neuraxon
import NeuraxonEmbodiment

/// `neuraxon replay`: feeds a recording's sensor frames through encoder, network and decoder
/// and checks every tick against the recording.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a recorded run through the network and check every tick against it.",
        discussion: """
            The network and the mapping default to those of the recording (the network file named in \
            its header, the mapping stored in it). With the same network file, every output trit and \
            setpoint equals the recorded one; otherwise the first divergence is reported and the exit \
            status is 1. A truncated or damaged recording replays up to its last good record.
            """
    )

    @Argument(help: "The recording (JSON Lines), e.g. run.jsonl.")
    var recording: String

    @Option(help: "The network file to replay with (default: the one named in the recording).")
    var network: String?

    @Option(help: "A mapping file to replay with instead of the recording's own.")
    var mapping: String?

    @Option(parsing: .unconditional, help: "Pace: 1 for real time, 0.1…10 (default: as fast as possible).")
    var rate: Double?

    @Option(parsing: .unconditional, help: "Start at this many seconds after the first tick (earlier ticks still run, unpaced).")
    var from: Double?

    @Option(parsing: .unconditional, help: "Stop after this many seconds after the first tick.")
    var to: Double?

    @Flag(help: "Start again at the end, with a fresh network, until Ctrl-C.")
    var loop = false

    @Option(help: "Write the replayed ticks to a new recording.")
    var record: String?

    func validate() throws {
        if let rate, !ReplayOptions.rateRange.contains(rate) {
            throw ValidationError("--rate \(rate) is outside 0.1…10: use 1 for real time, 2 for twice as fast, or leave it out for full speed")
        }
        if let from, from < 0 { throw ValidationError("--from must be 0 or more seconds") }
        if let to, to < 0 { throw ValidationError("--to must be 0 or more seconds") }
        if let from, let to, to <= from { throw ValidationError("--to (\(to) s) must come after --from (\(from) s)") }
    }

    func run() throws {
        let interrupted = Interruption()
        try InputFile.check(recording, what: "the recording")
        let named = try RecordingReader(path: recording).header.network.path
        var files = FilePlan()
        files.input(recording, "the recording")
        files.input(network ?? (named.isEmpty ? nil : named), "the network file")
        files.input(mapping, "the mapping file")
        files.recording(record)
        try files.check()
        var pass = 0
        repeat {
            pass += 1
            let reader = try RecordingReader(path: recording)
            let header = reader.header
            guard let networkPath = network ?? (header.network.path.isEmpty ? nil : header.network.path) else {
                throw CommandError.usage("\(recording) names no network file: pass --network FILE")
            }
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
            let recorder = try pass == 1 ? record.map {
                try Recorder(path: $0, header: RecordingHeader(mapping: map, network: identity, dtMillis: net.dt), waitWhenFull: true)
            } : nil
            let started = Date()
            let report = try Replay.run(reader: reader, network: net, mapping: map,
                                        options: ReplayOptions(rate: rate, fromSeconds: from, toSeconds: to),
                                        recorder: recorder, shouldStop: { interrupted.happened })
            try recorder?.finish()
            let wall = Date().timeIntervalSince(started)
            print(Self.describe(report, wall: wall, pass: loop ? pass : nil))
            if interrupted.happened { print("stopped by Ctrl-C") }
            if let record, pass == 1 { print("wrote \(report.ticksInRange) ticks to \(record)") }
            if !report.identical { throw ExitCode(1) }
        } while loop && !interrupted.happened
    }

    static func describe(_ r: ReplayReport, wall: Double, pass: Int?) -> String {
        var lines: [String] = []
        let prefix = pass.map { "pass \($0): " } ?? ""
        lines.append(prefix + "replayed \(r.ticksInRange) ticks (up to t = \(String(format: "%.3f", r.seconds)) s of firmware time, \(r.steps) network steps) in \(String(format: "%.2f", wall)) s")
        if r.identical {
            lines.append("every input trit, output trit and setpoint equals the recording")
        } else {
            lines.append("\(r.firstDivergence.map(String.init(describing:)) ?? "diverged"); \(r.divergentTicks) of \(r.ticks) ticks differ")
        }
        if r.recordDrops > 0 {
            lines.append("note: the recording lost \(r.recordDrops) records while it was made; ticks after a lost record cannot match")
        }
        switch r.stop {
        case .complete: break
        case .endedEarly, .damaged: lines.append("reading stopped early: \(r.stop)")
        }
        return lines.joined(separator: "\n")
    }
}
