import Foundation

/// The run's metrics file beside a recording (`FILE.metrics.json`, written by `neuraxon sim`
/// and `neuraxon run`), as rows for the report.
public enum ReportMetrics {
    /// The metrics beside `recordingPath`, flattened to `key.sub` → value text in key order;
    /// empty when there is no such file.
    /// - Throws: `RecordingError` when the file is there but is not a JSON object.
    public static func rows(besideRecording recordingPath: String) throws(RecordingError) -> [(String, String)] {
        let path = recordingPath + ".metrics.json"
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let bytes = FileManager.default.contents(atPath: path).map { Array($0) } ?? []
        let value = try? bytes.withUnsafeBufferPointer { (p) throws(JSONLineParser.Failure) in try JSONLineParser.parse(p) }
        guard let value, case .object = value else {
            throw RecordingError(path: path, "the run's metrics file is not a JSON object; the report was not written: move the file away or fix it")
        }
        var rows: [(String, String)] = []
        flatten(value, prefix: "", into: &rows)
        return rows
    }

    private static func flatten(_ value: JSONValue, prefix: String, into rows: inout [(String, String)]) {
        switch value {
        case let .object(object):
            for key in object.keys.sorted() { flatten(object[key]!, prefix: prefix.isEmpty ? key : prefix + "." + key, into: &rows) }
        case let .array(list):
            rows.append((prefix, list.map(text).joined(separator: ", ")))
        default:
            rows.append((prefix, text(value)))
        }
    }

    private static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: "–"
        case let .bool(b): b ? "true" : "false"
        case let .int(n): String(n)
        case let .double(d): Markup.label(d)
        case let .string(s): s
        case .array, .object: "…"
        }
    }
}
