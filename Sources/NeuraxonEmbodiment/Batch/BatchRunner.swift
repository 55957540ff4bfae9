import Foundation
import Neuraxon
import NeuraxonExecutors
import NeuraxonSimulation

/// What one run of a batch came to: its metrics, or why it failed.
public struct BatchRow: Codable, Sendable, Equatable {
    public var run: BatchRun
    public var key: String
    public var group: String
    /// `ok` or `failed`.
    public var status: String
    public var error: String?
    public var metrics: SimulationSummary?

    public init(run: BatchRun, outcome: WorkOutcome<SimulationSummary>) {
        self.run = run
        key = run.key
        group = run.group
        metrics = outcome.value
        error = outcome.value == nil ? (outcome.error ?? "no result") : nil
        status = metrics == nil ? "failed" : "ok"
    }

    public var succeeded: Bool { metrics != nil }
}

/// The context every run of a batch shares (none yet but the format's version).
public struct BatchContext: Codable, Sendable, Equatable {
    public var version = 1
    public init() {}
}

/// Runs a batch's runs through an executor in rounds, writing the results table after each
/// round, so that an interrupted batch resumes from the rows already done.
public enum BatchRunner {
    /// One simulated run, as a kind of work: the same function runs in this process (local
    /// executor) and in `neuraxon evaluate` on a cluster node.
    public static let work = WorkKind<BatchContext, BatchRun, SimulationSummary>(name: "sim-run") { _, run in
        try perform(run)
    }

    /// Runs one run to its end and returns its summary.
    /// - Throws: what building the world, network or mapping throws, and `BatchRunError` for a
    ///   run that ended before its duration.
    public static func perform(_ run: BatchRun) throws -> SimulationSummary {
        let world = try run.world.load()
        let robot = try SimulatedRobot(world: world, seed: run.seed, start: run.start)
        let device = DeviceInfo(simulated: robot)
        let network: NeuraxonNetwork
        let mapping: Mapping
        if let name = run.network.preset {
            guard let preset = RobotPreset.named(name) else { throw BatchRunError("`\(name)` is not a preset of this neuraxon build") }
            network = try preset.network(seed: run.seed)
            mapping = try Mapping(yaml: preset.mappingYAML, device: device, inputCount: network.inputCount, outputCount: network.outputCount)
        } else if let file = run.network.file, let mappingFile = run.network.mapping {
            network = try NeuraxonNetwork.load(contentsOf: file)
            mapping = try Mapping(contentsOf: mappingFile, device: device, inputCount: network.inputCount, outputCount: network.outputCount)
        } else {
            throw BatchRunError("the network has neither a preset nor a file")
        }
        let firmware: FirmwareInTheLoop?
        switch (run.firmware, run.firmwarePaths ?? []) {
        case (nil, _): firmware = nil
        case ("host", let paths) where paths.count == 1: firmware = .host(firmware: paths[0])
        case ("library", let paths) where paths.count == 1: firmware = .library(path: paths[0])
        case ("avr", let paths) where paths.count == 2: firmware = .avr(harness: paths[0], elf: paths[1])
        default: throw BatchRunError("through_firmware \(run.firmware ?? ""): the firmware's files are not known")
        }
        let result: SimulationOutcome
        if let firmware {
            result = try SimulationRun.run(robot: robot, network: network, mapping: mapping, durationSeconds: run.duration,
                                           throughFirmware: firmware)
        } else {
            result = try SimulationRun.run(robot: robot, network: network, mapping: mapping, durationSeconds: run.duration)
        }
        guard result.endReason == .durationReached else {
            throw BatchRunError(String(format: "the run ended after %.1f of %g simulated seconds: %@",
                                       result.metrics.simulatedSeconds, run.duration, "\(result.endReason)"))
        }
        return SimulationSummary(result, world: world.name, start: run.start, seed: run.seed, network: run.network.name,
                                 throughFirmware: firmware)
    }

    /// Runs `runs` through `executor`, `roundSize` at a time. Rows already in `done` (from an
    /// earlier, interrupted batch: same key, succeeded) are kept and not run again. After each
    /// round `save` receives every row so far, in run order.
    /// - Parameters:
    ///   - shouldContinue: asked before each round; a stopped batch returns the rows so far.
    /// - Returns: the rows, in run order (only those done when stopped early).
    public static func run(_ runs: [BatchRun], executor: any Executor, done: [BatchRow] = [], roundSize: Int,
                           save: ([BatchRow]) throws -> Void, progress: (Int, Int) -> Void = { _, _ in },
                           shouldContinue: () -> Bool = { true }) throws -> [BatchRow] {
        let kept = Dictionary(done.filter(\.succeeded).map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var rows: [Int: BatchRow] = [:]
        for run in runs {
            if var row = kept[run.key] {
                row.run = run
                rows[run.index] = row
            }
        }
        let todo = runs.filter { rows[$0.index] == nil }
        progress(rows.count, runs.count)
        var round = 0
        var next = 0
        while next < todo.count, shouldContinue() {
            let slice = Array(todo[next..<min(todo.count, next + max(1, roundSize))])
            let outcomes = try executor.run(work, context: BatchContext(), items: slice, label: "batch-round-\(round)")
            for (run, outcome) in zip(slice, outcomes) { rows[run.index] = BatchRow(run: run, outcome: outcome) }
            next += slice.count
            round += 1
            try save(rows.keys.sorted().compactMap { rows[$0] })
            progress(rows.count, runs.count)
        }
        return rows.keys.sorted().compactMap { rows[$0] }
    }
}

/// Why a run of a batch could not give a result.
public struct BatchRunError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
