import Foundation
import NeuraxonChannels

/// One case of Tests/Vectors/protocol-v1.txt or protocol-v2.txt (format: Docs/PROTOCOL.md
/// sections 9 and 11).
struct VectorCase {
    var name: String
    var line: Int
    /// Keyword → argument lines, in file order (`message` and `error` may repeat).
    var entries: [(keyword: String, argument: String)] = []

    func first(_ keyword: String) -> String? { entries.first { $0.keyword == keyword }?.argument }
    func all(_ keyword: String) -> [String] { entries.filter { $0.keyword == keyword }.map(\.argument) }
    /// The `message` and `error` lines in order, as the decoder must report them.
    var expectedResults: [String] {
        entries.filter { $0.keyword == "message" || $0.keyword == "error" }.map { "\($0.keyword) \($0.argument)" }
    }
}

enum VectorFile {
    /// Tests/Vectors/protocol-v<version>.txt, found from this source file's location.
    static func path(version: UInt8) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Vectors/protocol-v\(version).txt").path
    }

    static func load(version: UInt8 = 1) throws -> [VectorCase] {
        let text = try String(contentsOfFile: path(version: version), encoding: .utf8)
        var cases: [VectorCase] = []
        var current: VectorCase?
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let keyword = line.prefix { $0 != " " }
            let argument = line.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces)
            switch keyword {
            case "case": current = VectorCase(name: argument, line: index + 1)
            case "end":
                if let c = current { cases.append(c) }
                current = nil
            default: current?.entries.append((String(keyword), argument))
            }
        }
        return cases
    }

    static func hex(_ text: String) -> [UInt8] {
        text.split(separator: " ").map { UInt8($0, radix: 16)! }
    }
}
