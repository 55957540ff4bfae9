import ArgumentParser
import Foundation
import Neuraxon
import NeuraxonEmbodiment

/// `neuraxon report`: a recording as one self-contained HTML page, and optionally its plots as PNG images.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a recording's report: one self-contained HTML file with its summary, metrics, path and plots.",
        discussion: """
            The page has no script and no reference outside itself: it opens anywhere and can be mailed. \
            Long runs are down-sampled (Docs/REPORTS.md). --png DIR also writes every plot as a PNG image. \
            A cut or damaged recording is reported up to where reading stopped, with a note saying where.
            """)

    @Argument(help: "The recording (JSON Lines or MCAP).")
    var recording: String

    @Option(name: .shortAndLong, help: "The HTML file to write.")
    var output: String

    @Option(help: ArgumentHelp("Also write every plot as a PNG image into this folder (created if missing).", valueName: "DIR"))
    var png: String?

    func validate() throws {
        if output.isEmpty { throw ValidationError("-o needs a file name, e.g. -o run.html") }
        if png?.isEmpty == true { throw ValidationError("--png needs a folder, e.g. --png figures") }
    }

    func run() throws {
        var files = FilePlan()
        files.input(recording, "the recording")
        files.output(output, "-o")
        try files.check()
        let data = try ReportData(path: recording)
        let metrics = try ReportMetrics.rows(besideRecording: recording)
        let html = ReportHTML.render(data, title: (recording as NSString).lastPathComponent, metrics: metrics)
        try AtomicFile.replace(output, with: Array(html.utf8))
        print("wrote \(output) (\(html.utf8.count) bytes): \(data.ticks) ticks"
              + (data.groupSize > 1 ? ", drawn in \(data.groupSeconds.count) groups of \(data.groupSize)" : ""))
        if let png {
            let images = ReportPNG.images(data)
            do { try ReportPNG.write(images, to: png) } catch { throw CommandError.cannotCreate("\(error)") }
            print("wrote \(images.count) images and index.txt to \(png)")
        }
        if data.stop != .complete {
            printError("note: \(ReportHTML.stopText(data))")
        }
    }
}
