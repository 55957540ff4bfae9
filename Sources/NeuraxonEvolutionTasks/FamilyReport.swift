// NeuraxonEvolutionTasks — fitness tasks for NeuraxonEvolution in the simulator.
// Licence: MIT with the Aigarth licence restrictions (no military or dual-use applications);
// see Sources/NeuraxonEvolution/NOTICE.

import Dispatch
import Foundation
import Neuraxon
import NeuraxonEvolution
import NeuraxonSimulation

/// A controller's task score per world family on the three sets of worlds of a family task:
/// training (fresh draws from the training seed domain), validation (the run's fixed
/// validation worlds) and held-out (worlds from a domain neither ever uses).
public struct FamilyReport: Sendable, Equatable, Codable {
    /// One controller on one set of one family.
    public struct Entry: Sendable, Equatable, Codable {
        public var controller: String
        public var family: String
        /// `training`, `validation` or `held-out`.
        public var set: String
        public var trials: Int
        /// Mean task score and its standard error (s/√n).
        public var mean: Double
        public var standardError: Double
        /// Mean collisions per episode and share of episodes that reached the light (seek).
        public var meanCollisions: Double
        public var reachedShare: Double?

        enum CodingKeys: String, CodingKey {
            case controller, family, set, trials, mean
            case standardError = "standard_error"
            case meanCollisions = "mean_collisions"
            case reachedShare = "reached_share"
        }
    }

    public static let format = "neuraxon-evolution-family-report"
    public var format = FamilyReport.format
    public var version = 1
    /// The task's saved name (`SimulatorTask.name`).
    public var task: String
    public var entries: [Entry] = []

    public init(task: String) { self.task = task }

    /// Scores `network(i)` on `count` trials of each set (training trial i is drawn with the seed
    /// of trial i of generation −1 of run 0, which no run evaluates) (the validation set: all of the task's
    /// validation trials, or `count` when it has none) and adds one entry per family and set.
    /// `network` must return a fresh network each call (networks learn while they run).
    /// - Throws: the first failing trial's error.
    public mutating func add(_ controller: String, task: SimulatorTask, count: Int, workers: Int? = nil,
                             network: @escaping @Sendable (Int) throws -> NeuraxonNetwork) throws {
        guard !task.families.isEmpty else { throw TaskError("a family report needs a task with world families") }
        let sets: [(String, Int, @Sendable (Int) throws -> (TrialSetup, UInt64))] = [
            ("training", count, { i in
                let seed = EvolutionRandom.evaluationSeed(run: 0, generation: -1, trial: i)
                return (try task.training(trial: i, seed: seed), seed)
            }),
            ("validation", task.validationTrials > 0 ? task.validationTrials : count, { i in
                (try task.validation(i), task.validationNoiseSeed(i))
            }),
            ("held-out", count, { i in (try task.heldOut(i), task.heldOutNoiseSeed(i)) }),
        ]
        for (name, n, trial) in sets {
            let outcomes = try Self.run(count: n, workers: workers) { i in
                let (setup, noise) = try trial(i)
                let run = try task.run(try network(i), on: setup, noiseSeed: noise)
                return (run.metrics, task.score(run.metrics, setup: setup, finalPose: run.finalPose))
            }
            for family in task.families {
                let mine = outcomes.indices.filter { task.family(ofTrial: $0) == family }.map { outcomes[$0] }
                guard !mine.isEmpty else { continue }
                let scores = mine.map(\.1)
                let summary = HeldOutSummary(controller: controller, scores: scores, meanDistance: 0, meanCollisions: 0, reachedLight: 0)
                let lit = mine.allSatisfy { $0.0.startDistanceToLight != nil }
                entries.append(Entry(
                    controller: controller, family: family.rawValue, set: name, trials: mine.count,
                    mean: summary.mean, standardError: summary.standardError,
                    meanCollisions: Double(mine.reduce(0) { $0 + $1.0.collisions }) / Double(mine.count),
                    reachedShare: lit ? Double(mine.filter { $0.0.timeToReachLight != nil }.count) / Double(mine.count) : nil))
            }
        }
    }

    /// The table: one line per family, the score of each controller on each set.
    public func table() -> String {
        let controllers = entries.reduce(into: [String]()) { if !$0.contains($1.controller) { $0.append($1.controller) } }
        let families = entries.reduce(into: [String]()) { if !$0.contains($1.family) { $0.append($1.family) } }
        var lines = ["family        set         " + controllers.map { pad($0, 28) }.joined()]
        for family in families {
            for set in ["training", "validation", "held-out"] {
                var line = pad(family, 14) + pad(set, 12)
                for c in controllers {
                    if let e = entries.first(where: { $0.controller == c && $0.family == family && $0.set == set }) {
                        var cell = String(format: "%7.2f ± %.2f", e.mean, e.standardError)
                        if let r = e.reachedShare { cell += String(format: " (%3.0f%%)", 100 * r) }
                        line += pad(cell, 28)
                    } else {
                        line += pad("–", 28)
                    }
                }
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The report as JSON with sorted keys.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(self)
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }

    /// Runs `body(i)` for i in 0..<count on `workers` threads; results in index order.
    static func run(count: Int, workers: Int?, _ body: @escaping @Sendable (Int) throws -> (RunMetrics, Double)) throws
        -> [(RunMetrics, Double)] {
        let slots = ReportSlots(count: count)
        let threads = max(1, min(workers ?? ProcessInfo.processInfo.activeProcessorCount, count))
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            var i = worker
            while i < count {
                slots.set(i, Result { try body(i) })
                i += threads
            }
        }
        return try (0..<count).map { try slots.get($0) }
    }
}

/// One slot per trial, each written by exactly one worker.
private final class ReportSlots: @unchecked Sendable {
    private var slots: [Result<(RunMetrics, Double), any Error>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<(RunMetrics, Double), any Error>) { lock.withLock { slots[i] = r } }
    func get(_ i: Int) throws -> (RunMetrics, Double) {
        guard let r = lock.withLock({ slots[i] }) else { throw TaskError("trial \(i) did not run") }
        return try r.get()
    }
}
