// NeuraxonEvolutionTasks — fitness tasks for NeuraxonEvolution in the simulator.
// Licence: MIT with the Aigarth licence restrictions (no military or dual-use applications);
// see Sources/NeuraxonEvolution/NOTICE.

import Dispatch
import Foundation
import Neuraxon
import NeuraxonSimulation

/// How one controller did over the held-out trials of a task.
public struct HeldOutSummary: Sendable, Equatable {
    /// What was judged, e.g. `evolved (best.json)`.
    public var controller: String
    /// The task's score per held-out trial, in trial order.
    public var scores: [Double]
    /// Mean distance travelled per episode, m.
    public var meanDistance: Double
    /// Mean collisions per episode.
    public var meanCollisions: Double
    /// Episodes in which the light was reached (seek), or 0.
    public var reachedLight: Int

    /// Mean score.
    public var mean: Double { scores.reduce(0, +) / Double(max(1, scores.count)) }
    /// Standard error of the mean score: s/√n with s the sample standard deviation.
    public var standardError: Double {
        let n = Double(scores.count)
        guard n > 1 else { return 0 }
        let m = mean
        let variance = scores.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)
        return (variance / n).squareRoot()
    }
}

/// Judges controllers on held-out trials: generated worlds and noise seeds from a seed domain
/// that training never draws from (`SimulatorTask.heldOut(_:)`), the same trials for every
/// controller.
public enum HeldOut {
    /// Runs `network(i)` on held-out trials 0..<count of `task`, in parallel on `workers`
    /// threads (nil: one per core), and summarises. `network` is called once per trial and must
    /// return a fresh network each time (networks learn while they run).
    /// - Throws: the first error of any trial, in trial order.
    public static func judge(_ controller: String, task: SimulatorTask, count: Int, workers: Int? = nil,
                             network: @escaping @Sendable (Int) throws -> NeuraxonNetwork) throws -> HeldOutSummary {
        let results = Results(count: count)
        let threads = max(1, min(workers ?? ProcessInfo.processInfo.activeProcessorCount, count))
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            var i = worker
            while i < count {
                let outcome = Result {
                    let setup = try task.heldOut(i)
                    let run = try task.run(try network(i), on: setup, noiseSeed: task.heldOutNoiseSeed(i))
                    return (run.metrics, task.score(run.metrics, setup: setup, finalPose: run.finalPose))
                }
                results.set(i, outcome)
                i += threads
            }
        }
        var summary = HeldOutSummary(controller: controller, scores: [], meanDistance: 0, meanCollisions: 0, reachedLight: 0)
        for i in 0..<count {
            let (metrics, score) = try results.get(i)
            summary.scores.append(score)
            summary.meanDistance += metrics.distanceTravelled / Double(count)
            summary.meanCollisions += Double(metrics.collisions) / Double(count)
            if metrics.timeToReachLight != nil { summary.reachedLight += 1 }
        }
        return summary
    }

    /// The per-trial difference a − b of two summaries over the same held-out trials: its mean,
    /// the standard error of that mean (s/√n), and on how many trials a scored higher than b.
    public static func paired(_ a: HeldOutSummary, _ b: HeldOutSummary) -> (mean: Double, standardError: Double, wins: Int) {
        let d = zip(a.scores, b.scores).map { $0 - $1 }
        let difference = HeldOutSummary(controller: "", scores: d, meanDistance: 0, meanCollisions: 0, reachedLight: 0)
        return (difference.mean, difference.standardError, d.filter { $0 > 0 }.count)
    }

    /// One line of a comparison table: controller, mean score ± standard error, mean distance,
    /// mean collisions (and episodes that reached the light, for seek).
    public static func describe(_ s: HeldOutSummary, task: SimulatorTask) -> String {
        let name = s.controller.count < 40 ? s.controller + String(repeating: " ", count: 40 - s.controller.count) : s.controller
        var line = name + String(format: " %8.3f ± %.3f   distance %.2f m   collisions %.2f",
                                 s.mean, s.standardError, s.meanDistance, s.meanCollisions)
        if task.kind == .seek { line += "   reached the light \(s.reachedLight)/\(s.scores.count)" }
        return line
    }
}

/// One slot per trial, each written by exactly one worker.
private final class Results: @unchecked Sendable {
    private var slots: [Result<(RunMetrics, Double), any Error>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<(RunMetrics, Double), any Error>) { lock.withLock { slots[i] = r } }
    func get(_ i: Int) throws -> (RunMetrics, Double) {
        guard let r = lock.withLock({ slots[i] }) else { throw TaskError("held-out trial \(i) did not run") }
        return try r.get()
    }
}
