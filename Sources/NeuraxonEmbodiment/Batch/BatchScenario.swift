import Foundation
import NeuraxonSimulation
import Yams

/// A problem with a batch's scenario file: the file, the line when known, and what to change.
public struct ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}

/// A world a batch runs in: a built-in world, a world file, or a world drawn from a family.
public struct BatchWorld: Codable, Sendable, Equatable, Hashable {
    /// A built-in name, a world file's absolute path, or a family name.
    public var name: String
    /// The family's seed; nil for a built-in world or a world file.
    public var familySeed: UInt64?

    enum CodingKeys: String, CodingKey {
        case name
        case familySeed = "family_seed"
    }

    /// The label runs are grouped by: the name, or `family NAME` for every seed of a family.
    public var group: String { familySeed == nil ? name : "family \(name)" }
    /// How a table names it: the built-in name, the file, or `FAMILY-SEED`.
    public var label: String { familySeed.map { "\(name)-\($0)" } ?? name }

    /// Builds the world.
    public func load() throws(WorldError) -> World {
        guard let seed = familySeed else { return try World.named(name) }
        guard let family = WorldFamily(rawValue: name) else {
            throw WorldError(field: "family", problem: "`\(name)` is not a family (\(WorldFamily.names.joined(separator: ", ")))")
        }
        return try World.generate(family, seed: seed)
    }
}

/// A controller a batch runs: a robot preset with its own mapping, or a network file with a
/// mapping file.
public struct BatchNetwork: Codable, Sendable, Equatable, Hashable {
    /// The name tables show (the preset's name, or `name:`, or the file's name).
    public var name: String
    /// A preset's name, or nil for a network file.
    public var preset: String?
    /// The network and mapping files' absolute paths (nil for a preset).
    public var file: String?
    public var mapping: String?
}

/// One run of a batch: everything it depends on, so it runs the same anywhere.
public struct BatchRun: Codable, Sendable, Equatable {
    /// The run's number in the expanded batch (0-based).
    public var index: Int
    public var world: BatchWorld
    public var network: BatchNetwork
    /// Seeds the world's noise and link, and a preset's network.
    public var seed: UInt64
    /// The world's starting pose number.
    public var start: Int
    /// Simulated seconds.
    public var duration: Double
    /// `host`, `library` or `avr` to run through that firmware, nil for the direct simulation; the
    /// firmware's files, resolved to absolute paths when the batch was expanded.
    public var firmware: String?
    public var firmwarePaths: [String]?

    enum CodingKeys: String, CodingKey {
        case index, world, network, seed, start, firmware
        case duration = "duration_s"
        case firmwarePaths = "firmware_paths"
    }

    /// The runs' group: world (or family), network, duration and firmware; seeds, starts and a
    /// family's worlds are what vary within it.
    public var group: String {
        "\(world.group) | \(network.name) | \(Self.number(duration)) s" + (firmware.map { " | \($0) firmware" } ?? "")
    }

    /// What makes a run this run, for resuming: a finished row is kept only for the same key.
    public var key: String {
        "\(world.label)|\(world.familySeed == nil ? "" : "family")|\(network.name)|\(network.preset ?? "")|\(network.file ?? "")|\(network.mapping ?? "")|\(seed)|\(start)|\(Self.number(duration))|\(firmware ?? "")"
    }

    static func number(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x) }
}

/// A batch's scenario file, read and expanded to runs: the cross product of worlds × networks ×
/// seeds × starts × durations × firmware choices, in that nesting order (the last varies
/// fastest).
///
/// ```yaml
/// duration: 20                  # simulated seconds per run, or a list: [10, 30]
/// worlds:
///   - light                     # a built-in world
///   - maze.yaml                 # a world file (relative to this file)
///   - family: corridor          # generated worlds of a family
///     seeds: 1-10               # a range, or a list [1, 4, 9]
/// networks:
///   - seek                      # a robot preset, with its own mapping
///   - network: evolved.json     # a network file (relative to this file)
///     mapping: evolved.mapping.yaml
///     name: evolved             # optional: the name tables show
/// seeds: 1-3                    # world noise and link seeds (default 1)
/// starts: [0]                   # starting pose numbers (default 0)
/// through_firmware: [none, host]  # none (default), host, library or avr
/// ```
public struct BatchScenario: Sendable {
    public var worlds: [BatchWorld] = []
    public var networks: [BatchNetwork] = []
    public var seeds: [UInt64] = [1]
    public var starts: [Int] = [0]
    public var durations: [Double] = [30]
    public var firmware: [String?] = [nil]

    /// The largest batch a scenario file may expand to.
    public static let maximumRuns = 1_000_000

    /// Reads the scenario file at `path`. Relative world, network and mapping paths are taken
    /// from the file's folder and made absolute, so that every node of a cluster finds them on
    /// the shared filesystem.
    /// - Parameter firmware: resolves `host` / `avr` to the firmware's files.
    /// - Throws: `ScenarioError` naming the line and the fix; `FileProblem`-style reasons for a
    ///   file that cannot be read.
    public init(contentsOf path: String,
                firmware resolve: (String) -> [String] = BatchScenario.firmwarePaths) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioError(file: path, line: nil, "cannot be read: check the path (neuraxon sim --batch FILE)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ScenarioError(file: path, line: nil, "is not text; a scenario file is YAML")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        try self.init(yaml: text, file: path, folder: folder.path, resolveFirmware: resolve)
    }

    /// Reads a scenario from YAML text; `file` names it in errors and `folder` anchors relative paths.
    public init(yaml: String, file: String, folder: String,
                resolveFirmware: (String) -> [String] = BatchScenario.firmwarePaths) throws {
        let reader = ScenarioReader(file: file, folder: folder)
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch let error as YamlError {
            throw reader.yamlError(error)
        }
        guard let root, case .mapping(let mapping) = root else {
            throw ScenarioError(file: file, line: root?.mark?.line, "a scenario is a mapping with `worlds:` and `networks:` (see Docs/SCALING.md)")
        }
        var seen = Set<String>()
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            let line = keyNode.mark?.line
            guard seen.insert(key).inserted else { throw ScenarioError(file: file, line: line, "`\(key)` is given twice") }
            switch key {
            case "worlds": worlds = try reader.list(value, key).flatMap { try reader.world($0) }
            case "networks": networks = try reader.list(value, key).map { try reader.network($0) }
            case "seeds": seeds = try reader.numbers(value, key)
            case "starts":
                starts = try reader.numbers(value, key).map { n throws(ScenarioError) -> Int in
                    guard n <= 1000 else { throw ScenarioError(file: file, line: value.mark?.line, "starts: \(n) is not a starting pose number (0…1000)") }
                    return Int(n)
                }
            case "duration", "durations": durations = try reader.durations(value, key)
            case "through_firmware": firmware = try reader.firmware(value)
            default:
                throw ScenarioError(file: file, line: line, "unknown field `\(key)`; a scenario has worlds, networks, seeds, starts, duration, through_firmware")
            }
        }
        guard !worlds.isEmpty else { throw ScenarioError(file: file, line: nil, "no worlds: add `worlds:` with at least one world (e.g. `worlds: [light]`)") }
        guard !networks.isEmpty else { throw ScenarioError(file: file, line: nil, "no networks: add `networks:` with at least one (e.g. `networks: [seek]`)") }
        firmwareFiles = Dictionary(uniqueKeysWithValues: firmware.compactMap { $0 }.map { ($0, resolveFirmware($0)) })
        let count = worlds.count * networks.count * seeds.count * starts.count * durations.count * firmware.count
        guard count <= Self.maximumRuns else {
            throw ScenarioError(file: file, line: nil, "the scenario expands to \(count) runs, more than \(Self.maximumRuns); split it into several batches")
        }
    }

    var firmwareFiles: [String: [String]] = [:]

    /// The host firmware's or the AVR build's files, as absolute paths (see `FirmwareInTheLoop`).
    public static func firmwarePaths(_ choice: String) -> [String] {
        let cwd = FileManager.default.currentDirectoryPath
        func absolute(_ p: String) -> String { p.hasPrefix("/") ? p : cwd + "/" + p }
        switch choice {
        case "host": if case .host(let f) = FirmwareInTheLoop.host() { return [absolute(f)] }
        case "library": if case .library(let f) = FirmwareInTheLoop.library() { return [absolute(f)] }
        case "avr": if case .avr(let harness, let elf) = FirmwareInTheLoop.avr() { return [absolute(harness), absolute(elf)] }
        default: break
        }
        return []
    }

    /// Every run, numbered from 0.
    public func runs() -> [BatchRun] {
        var runs: [BatchRun] = []
        for world in worlds {
            for network in networks {
                for seed in seeds {
                    for start in starts {
                        for duration in durations {
                            for choice in firmware {
                                runs.append(BatchRun(index: runs.count, world: world, network: network, seed: seed, start: start,
                                                     duration: duration, firmware: choice,
                                                     firmwarePaths: choice.flatMap { firmwareFiles[$0] }))
                            }
                        }
                    }
                }
            }
        }
        return runs
    }
}

/// Reads the parts of a scenario file, each error with its line.
struct ScenarioReader {
    let file: String
    let folder: String

    func fail(_ node: Node?, _ message: String) -> ScenarioError { ScenarioError(file: file, line: node?.mark?.line, message) }

    func yamlError(_ error: YamlError) -> ScenarioError {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return ScenarioError(file: file, line: mark.line, "not valid YAML: \(problem)")
        default:
            return ScenarioError(file: file, line: nil, "not valid YAML")
        }
    }

    func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : (folder as NSString).appendingPathComponent(path) }

    func list(_ node: Node, _ field: String) throws(ScenarioError) -> [Node] {
        switch node {
        case .sequence(let s):
            guard !s.isEmpty else { throw fail(node, "`\(field)` is empty; give at least one") }
            return Array(s)
        case .scalar, .mapping: return [node]
        default: throw fail(node, "`\(field)` must be a list")
        }
    }

    func world(_ node: Node) throws(ScenarioError) -> [BatchWorld] {
        if let name = node.scalar?.string {
            if World.builtinNames.contains(name) { return [BatchWorld(name: name)] }
            let path = absolute(name)
            guard FileManager.default.fileExists(atPath: path) else {
                throw fail(node, "world `\(name)` is neither a built-in world (\(World.builtinNames.joined(separator: ", "))) nor a world file (looked for \(path))")
            }
            return [BatchWorld(name: path)]
        }
        guard case .mapping(let m) = node else { throw fail(node, "a world is a name, a file, or `family: NAME` with `seeds:`") }
        var family: String?
        var seeds: [UInt64] = [1]
        for (k, v) in m {
            switch k.string ?? "" {
            case "family":
                guard let name = v.scalar?.string, WorldFamily(rawValue: name) != nil else {
                    throw fail(v, "`family` must be one of \(WorldFamily.names.joined(separator: ", "))")
                }
                family = name
            case "seeds": seeds = try numbers(v, "seeds")
            default: throw fail(k, "unknown field `\(k.string ?? "")` in a world; a family world has `family:` and `seeds:`")
            }
        }
        guard let family else { throw fail(node, "a world mapping needs `family:` (\(WorldFamily.names.joined(separator: ", ")))") }
        return seeds.map { BatchWorld(name: family, familySeed: $0) }
    }

    func network(_ node: Node) throws(ScenarioError) -> BatchNetwork {
        if let name = node.scalar?.string {
            guard RobotPreset.named(name) != nil else {
                throw fail(node, "`\(name)` is not a preset (\(RobotPreset.all.map(\.name).joined(separator: ", "))); a network file needs `network: FILE` and `mapping: FILE`")
            }
            return BatchNetwork(name: name, preset: name)
        }
        guard case .mapping(let m) = node else { throw fail(node, "a network is a preset name, or `network: FILE` with `mapping: FILE`") }
        var file: String?, mapping: String?, name: String?
        for (k, v) in m {
            guard let value = v.scalar?.string, !value.isEmpty else { throw fail(v, "`\(k.string ?? "")` needs a value") }
            switch k.string ?? "" {
            case "network": file = value
            case "mapping": mapping = value
            case "name": name = value
            default: throw fail(k, "unknown field `\(k.string ?? "")` in a network; give network, mapping and optionally name")
            }
        }
        guard let file else { throw fail(node, "this network needs `network: FILE`") }
        guard let mapping else { throw fail(node, "network \(file) needs `mapping: FILE` (a network file has no mapping of its own)") }
        for p in [file, mapping] where !FileManager.default.fileExists(atPath: absolute(p)) {
            throw fail(node, "\(p): no such file (looked for \(absolute(p)))")
        }
        return BatchNetwork(name: name ?? (file as NSString).lastPathComponent, preset: nil, file: absolute(file), mapping: absolute(mapping))
    }

    /// A number, a list of numbers, or a range `A-B` (inclusive).
    func numbers(_ node: Node, _ field: String) throws(ScenarioError) -> [UInt64] {
        var result: [UInt64] = []
        for item in try list(node, field) {
            guard let text = item.scalar?.string else { throw fail(item, "`\(field)` takes numbers, a list, or a range like 1-10") }
            let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 1, let n = UInt64(parts[0]) {
                result.append(n)
            } else if parts.count == 2, let a = UInt64(parts[0]), let b = UInt64(parts[1]), a <= b, b - a < 1_000_000 {
                result += Array(a...b)
            } else {
                throw fail(item, "`\(field)`: `\(text)` is not a whole number 0 or more, nor a range like 1-10")
            }
        }
        return result
    }

    func durations(_ node: Node, _ field: String) throws(ScenarioError) -> [Double] {
        try list(node, field).map { item throws(ScenarioError) -> Double in
            guard let text = item.scalar?.string, let d = Double(text), d.isFinite, d > 0, d <= 86_400 else {
                throw fail(item, "`\(field)` must be simulated seconds, more than 0 and at most 86400 (e.g. `duration: 30`)")
            }
            return d
        }
    }

    func firmware(_ node: Node) throws(ScenarioError) -> [String?] {
        try list(node, "through_firmware").map { item throws(ScenarioError) -> String? in
            switch item.scalar?.string {
            case "none": return nil
            case "host": return "host"
            case "library": return "library"
            case "avr": return "avr"
            default: throw fail(item, "`through_firmware` takes none, host, library or avr")
            }
        }
    }
}
