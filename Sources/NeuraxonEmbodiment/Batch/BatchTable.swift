import Foundation
import Neuraxon

/// A batch's results: the table of runs (CSV, one row per run, and JSON Lines with every
/// field), the summary per group (CSV), and the failed runs with their reasons.
///
/// Nothing in them depends on the wall clock or on where a run ran, so the same batch gives
/// byte-identical files with either executor.
public struct BatchTable: Sendable {
    public var rows: [BatchRow]

    public init(rows: [BatchRow]) { self.rows = rows }

    /// The JSON Lines file beside a CSV table: `results.csv` → `results.jsonl`.
    public static func jsonLinesPath(for csv: String) -> String { stem(csv) + ".jsonl" }
    /// The summary beside a CSV table: `results.csv` → `results.summary.csv`.
    public static func summaryPath(for csv: String) -> String { stem(csv) + ".summary.csv" }

    static func stem(_ path: String) -> String { path.hasSuffix(".csv") ? String(path.dropLast(4)) : path }

    // MARK: The table

    /// The run's own columns, then every metric of `SimulationSummary` (its JSON names).
    public static let runColumns = ["run", "group", "world", "network", "seed", "start", "duration_s", "through_firmware", "status", "error"]
    public static var metricColumns: [String] { metricFields.map(\.name) }

    public var csv: String {
        var lines = [(Self.runColumns + Self.metricColumns).joined(separator: ",")]
        for row in rows {
            let r = row.run
            var cells = ["\(r.index)", row.group, r.world.label, r.network.name, "\(r.seed)", "\(r.start)",
                         BatchRun.number(r.duration), r.firmware ?? "", row.status, row.error ?? ""]
            cells += Self.metricFields.map { field in row.metrics.map(field.value) ?? "" }
            lines.append(cells.map(Self.csvCell).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One JSON object per run, keys sorted: the run, its key, group, status, error and metrics.
    public func jsonLines() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try rows.map { String(decoding: try encoder.encode($0), as: UTF8.self) + "\n" }.joined()
    }

    /// Reads the rows of a JSON Lines table written by `jsonLines()`; unreadable lines (a line
    /// cut short) are left out and run again.
    public static func readJSONLines(_ path: String) -> [BatchRow] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            try? decoder.decode(BatchRow.self, from: Data($0.utf8))
        }
    }

    /// Writes the table, its JSON Lines and its summary, each atomically.
    public func write(csv path: String) throws {
        try AtomicFile.replace(path, with: Array(csv.utf8))
        try AtomicFile.replace(Self.jsonLinesPath(for: path), with: Array(try jsonLines().utf8))
        try AtomicFile.replace(Self.summaryPath(for: path), with: Array(summaryCSV.utf8))
    }

    public var failures: [BatchRow] { rows.filter { !$0.succeeded } }

    // MARK: Summary per group

    /// One group's numbers: means over the runs that succeeded.
    public struct GroupSummary: Sendable, Equatable {
        public var group: String
        public var runs: Int
        public var failed: Int
        public var collisionsPerMinute: Double?
        public var distance: Double?
        public var timeStuck: Double?
        /// Mean seconds going nowhere (`NowhereRule`) over the runs that report it.
        public var timeGoingNowhere: Double?
        public var coverage: Double?
        /// Runs in worlds with a light that reached it, of those runs; nil without lights.
        public var reachedLight: (reached: Int, of: Int)?
        public var progressTowardLight: Double?

        public static func == (a: Self, b: Self) -> Bool {
            a.group == b.group && a.runs == b.runs && a.failed == b.failed && a.collisionsPerMinute == b.collisionsPerMinute
                && a.distance == b.distance && a.timeStuck == b.timeStuck
                && a.timeGoingNowhere == b.timeGoingNowhere && a.coverage == b.coverage
                && a.reachedLight?.reached == b.reachedLight?.reached && a.reachedLight?.of == b.reachedLight?.of
                && a.progressTowardLight == b.progressTowardLight
        }
    }

    /// The groups in the order their first run appears.
    public var groups: [GroupSummary] {
        var order: [String] = []
        var members: [String: [BatchRow]] = [:]
        for row in rows {
            if members[row.group] == nil { order.append(row.group) }
            members[row.group, default: []].append(row)
        }
        return order.map { group in
            let all = members[group]!
            let ok = all.compactMap(\.metrics)
            func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
            let lit = ok.filter { $0.startDistanceToLight != nil }
            return GroupSummary(
                group: group, runs: all.count, failed: all.count - ok.count,
                collisionsPerMinute: mean(ok.map { $0.simulatedSeconds > 0 ? Double($0.collisions) * 60 / $0.simulatedSeconds : 0 }),
                distance: mean(ok.map(\.distanceTravelled)),
                timeStuck: mean(ok.compactMap(\.timeStuck)),
                timeGoingNowhere: mean(ok.compactMap(\.timeGoingNowhere)),
                coverage: mean(ok.compactMap(\.coverage)),
                reachedLight: lit.isEmpty ? nil : (lit.filter { $0.timeToReachLight != nil }.count, lit.count),
                progressTowardLight: mean(lit.compactMap(\.progressTowardLight)))
        }
    }

    public static let summaryColumns = ["group", "runs", "failed", "collisions_per_min", "distance_m", "time_stuck_s",
                                        "time_going_nowhere_s", "coverage", "reached_light", "progress_toward_light_m"]

    public var summaryCSV: String {
        var lines = [Self.summaryColumns.joined(separator: ",")]
        for g in groups {
            let cells = [g.group, "\(g.runs)", "\(g.failed)", Self.fixed(g.collisionsPerMinute), Self.fixed(g.distance),
                         Self.fixed(g.timeStuck), Self.fixed(g.timeGoingNowhere), Self.fixed(g.coverage), g.reachedLight.map { "\($0.reached)/\($0.of)" } ?? "",
                         Self.fixed(g.progressTowardLight)]
            lines.append(cells.map(Self.csvCell).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The summary as an aligned text table for a terminal.
    public var summaryText: String {
        let header = ["group", "runs", "failed", "coll/min", "distance m", "stuck s", "nowhere s", "coverage", "reached light", "progress m"]
        let body = groups.map { g in
            [g.group, "\(g.runs)", "\(g.failed)", Self.fixed(g.collisionsPerMinute), Self.fixed(g.distance), Self.fixed(g.timeStuck),
             Self.fixed(g.timeGoingNowhere),
             g.coverage.map { String(format: "%.0f %%", 100 * $0) } ?? "", g.reachedLight.map { "\($0.reached) of \($0.of)" } ?? "",
             Self.fixed(g.progressTowardLight)]
        }
        let widths = header.indices.map { i in ([header] + body).map { $0[i].count }.max() ?? 0 }
        return ([header] + body).map { cells in
            cells.enumerated().map { i, c in
                i == 0 ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - c.count) + c
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func text(_ x: Double?) -> String { x.map { "\($0)" } ?? "" }
    static func text(_ x: Int?) -> String { x.map { "\($0)" } ?? "" }

    static func fixed(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "" }

    static func csvCell(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Every metric of a summary, by its JSON name (`SimulationSummary.CodingKeys`), as text
    /// (numbers in their shortest exact form; an unknown value empty).
    static var metricFields: [(name: String, value: (SimulationSummary) -> String)] {
        typealias K = SimulationSummary.CodingKeys
        return [
            (K.endReason.stringValue, { $0.endReason }),
            (K.simulatedSeconds.stringValue, { text($0.simulatedSeconds) }),
            (K.ticks.stringValue, { text($0.ticks) }),
            (K.networkSteps.stringValue, { text($0.networkSteps) }),
            (K.collisions.stringValue, { text($0.collisions) }),
            (K.distanceTravelled.stringValue, { text($0.distanceTravelled) }),
            (K.netDisplacement.stringValue, { text($0.netDisplacement) }),
            (K.timeInContact.stringValue, { text($0.timeInContact) }),
            (K.timeStuck.stringValue, { text($0.timeStuck) }),
            (K.timeGoingNowhere.stringValue, { text($0.timeGoingNowhere) }),
            (K.coverage.stringValue, { text($0.coverage) }),
            (K.cellsVisited.stringValue, { text($0.cellsVisited) }),
            (K.freeCells.stringValue, { text($0.freeCells) }),
            (K.coverageCell.stringValue, { text($0.coverageCell) }),
            (K.timeNearLight.stringValue, { text($0.timeNearLight) }),
            (K.timeToReachLight.stringValue, { text($0.timeToReachLight) }),
            (K.startDistanceToLight.stringValue, { text($0.startDistanceToLight) }),
            (K.endDistanceToLight.stringValue, { text($0.endDistanceToLight) }),
            (K.closestDistanceToLight.stringValue, { text($0.closestDistanceToLight) }),
            (K.progressTowardLight.stringValue, { text($0.progressTowardLight) }),
            (K.closestWallApproach.stringValue, { text($0.closestWallApproach) }),
            (K.stalledLeft.stringValue, { text($0.stalledLeft) }),
            (K.stalledRight.stringValue, { text($0.stalledRight) }),
            (K.slipLeft.stringValue, { text($0.slipLeft) }),
            (K.slipRight.stringValue, { text($0.slipRight) }),
            (K.commandsSent.stringValue, { text($0.commandsSent) }),
            (K.commandsLost.stringValue, { text($0.commandsLost) }),
            (K.commandsArrived.stringValue, { text($0.commandsArrived) }),
            (K.failsafeStops.stringValue, { text($0.failsafeStops) }),
        ]
    }
}
