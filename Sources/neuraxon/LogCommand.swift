import ArgumentParser
import Foundation
import Glibc
import Neuraxon
import NeuraxonChannels
import NeuraxonEmbodiment

/// `neuraxon log`: look into recordings.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Inspect and export recordings.",
        subcommands: [LogInfo.self, LogExport.self]
    )
}

/// `neuraxon log info RUN.jsonl` (or `RUN.mcap`).
struct LogInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Summarise a recording: device, network, ticks, rate, latency, counters, outputs."
    )

    @Argument(help: "The recording (JSON Lines or MCAP).")
    var recording: String

    @Flag(help: "Print the summary as one JSON object instead of text.")
    var json = false

    func run() throws {
        try InputFile.check(recording, what: "the recording")
        let summary = try RecordingSummary(path: recording)
        if json { printJSON(Self.report(summary)) } else { print(summary.lines.joined(separator: "\n")) }
    }

    /// What the text shows, as one JSON object (`--json`).
    static func report(_ s: RecordingSummary) -> [String: Any] {
        let h = s.header
        let c = s.counters
        var network: [String: Any] = ["path": h.network.path, "sha256": h.network.digest, "inputs": h.inputCount,
                                      "outputs": h.outputCount, "dt_ms": h.dtMillis]
        network["seed"] = h.network.seed.map { NSNumber(value: $0) } ?? NSNull()
        return [
            "format": h.format, "version": h.version, "started": h.startTime,
            "device": ["name": h.device.name, "firmware_version": h.device.firmwareVersion],
            "network": network,
            "ticks": s.ticks, "recorded_ticks": s.recordedTicks.map { NSNumber(value: $0) } ?? NSNull(),
            "seconds": s.seconds, "network_steps": s.steps,
            "rate_hz": s.seconds > 0 ? Double(max(0, s.ticks - 1)) / s.seconds : 0,
            "latency_us": ["p50": s.latencyP50Micros.isFinite ? s.latencyP50Micros : 0,
                           "p99": s.latencyP99Micros.isFinite ? s.latencyP99Micros : 0],
            "counters": ["overruns": c.overruns, "late_ticks": c.lateTicks, "reading_errors": c.readingErrors,
                         "clock_resets": c.clockResets, "dropped_frames": c.droppedFrames, "record_drops": c.recordDrops,
                         "link_losses": s.linkLosses],
            "outputs": s.outputHistogram.map { ["minus": $0[0], "zero": $0[1], "plus": $0[2]] },
            "end": "\(s.stop)",
            "events": Dictionary(uniqueKeysWithValues: s.eventCounts.filter { $0.key != .link }.map { ($0.key.rawValue, $0.value) }),
            "stop_signals": s.stopSignals,
            "link_records": s.eventCounts[.link] ?? 0,
            "link": s.lastLink.map { l -> Any in
                func ms(_ x: Double?) -> Any { x.map { NSNumber(value: $0) } ?? NSNull() }
                var object: [String: Any] = ["round_trip_ms": ["count": l.roundTripCount, "last": ms(l.roundTripLastMillis),
                                                               "p50": ms(l.roundTripP50Millis), "p99": ms(l.roundTripP99Millis)]]
                for field in LinkCounters.serialCounters { object[field.name] = l.counters[keyPath: field.counter] }
                return object
            } ?? NSNull(),
            "not_replayed": s.eventCounts.keys.filter { !RecordingSummary.replayedEventKinds.contains($0) }.map(\.rawValue).sorted(),
        ]
    }
}

/// The formats `neuraxon log export` writes.
enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
    case csv, mcap
}

/// `neuraxon log export --format csv|mcap RUN [-o OUT]`.
struct LogExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a recording as CSV columns or as an MCAP file.",
        discussion: "CSV columns: tick, t_us, seq, host_ns, sent_ns, steps, raw_<sensor>, value_<encoder>, in_<k>, out_<k>, "
            + "set_<actuator>, the four neuromodulator levels and the counters. MCAP: a complete, indexed file with one JSON "
            + "topic per kind of data, for Foxglove and other MCAP readers; it also repairs an MCAP recording that was cut "
            + "off (Docs/LOG-FORMAT.md). The recording may be JSON Lines or MCAP."
    )

    @Option(help: "The export format: csv or mcap.")
    var format: ExportFormat?

    @Flag(help: "Comma-separated values (the same as --format csv).")
    var csv = false

    @Argument(help: "The recording (JSON Lines or MCAP).")
    var recording: String

    @Option(name: .shortAndLong, help: "The file to write (default for CSV: standard output; required for MCAP).")
    var output: String?

    /// The format asked for.
    var chosen: ExportFormat? { format ?? (csv ? .csv : nil) }

    func validate() throws {
        guard let chosen else { throw ValidationError("choose the export format: --format csv or --format mcap") }
        if csv, format == .mcap { throw ValidationError("--csv and --format mcap ask for two formats: give one") }
        if chosen == .mcap, output == nil { throw ValidationError("--format mcap writes a binary file: name it with -o FILE.mcap") }
    }

    func run() throws {
        var files = FilePlan()
        files.input(recording, "the recording")
        files.output(output, "-o")
        try files.check()
        let reader = try RecordingReader(path: recording)
        let stop: ReadStop
        if chosen == .mcap, let output {
            let started = monotonicSeconds()
            let export = try RecordingMCAP.export(reader, to: output)
            let seconds = monotonicSeconds() - started
            print("wrote \(export.ticks) ticks and \(export.events) events as \(export.messages) messages (\(export.bytes) bytes) to \(output) in \(String(format: "%.2f", seconds)) s")
            stop = export.stop
        } else {
            var fd: Int32 = STDOUT_FILENO
            if let output {
                fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard fd >= 0 else {
                    throw CommandError.cannotCreate("cannot create \(output) (\(String(cString: strerror(errno)))): check the folder exists and is writable")
                }
            }
            defer { if output != nil { close(fd) } }
            let (rows, csvStop) = try RecordingCSV.export(reader, to: fd)
            if let output { print("wrote \(rows) rows to \(output)") }
            stop = csvStop
        }
        if stop != .complete {
            FileHandle.standardError.write(Data("note: reading stopped early: \(stop)\n".utf8))
        }
    }

    private func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
