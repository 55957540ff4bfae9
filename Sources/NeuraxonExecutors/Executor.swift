import Dispatch
import Foundation

/// Runs the items of a kind of work and returns their outcomes in item order: on this
/// machine's cores (`LocalExecutor`) or as a Slurm job array (`SlurmExecutor`). Either gives the
/// same outcomes for the same items.
public protocol Executor: Sendable {
    /// A short description for progress lines, e.g. `local, 2 threads`.
    var summary: String { get }
    /// Runs `items` and returns one outcome per item, in order. `label` names the round (e.g.
    /// `generation-3`); the Slurm executor keeps its files under it.
    /// - Throws: `ExecutorError` when the work could not be run at all (an item's own failure
    ///   is its outcome, not an error).
    func run<C, I, O>(_ kind: WorkKind<C, I, O>, context: C, items: [I], label: String) throws(ExecutorError) -> [WorkOutcome<O>]
}

/// Runs items on this process's threads, taking them in turn from a shared counter.
public struct LocalExecutor: Executor {
    /// How many threads run items; 1 runs them on the calling thread.
    public let workers: Int

    /// - Parameter workers: threads to use; nil means one per active processor core.
    public init(workers: Int? = nil) {
        self.workers = max(1, workers ?? ProcessInfo.processInfo.activeProcessorCount)
    }

    public var summary: String { "local, \(workers) thread\(workers == 1 ? "" : "s")" }

    public func run<C, I, O>(_ kind: WorkKind<C, I, O>, context: C, items: [I], label: String) throws(ExecutorError) -> [WorkOutcome<O>] {
        let board = OutcomeBoard<O>(count: items.count)
        let threads = min(workers, items.count)
        if threads <= 1 {
            for (i, item) in items.enumerated() { board.set(i, kind.outcome(context, item)) }
        } else {
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                while let i = board.take() { board.set(i, kind.outcome(context, items[i])) }
            }
        }
        return board.outcomes()
    }
}

/// One slot per item, written by exactly one thread, and the counter handing items out.
private final class OutcomeBoard<O: Codable & Sendable>: @unchecked Sendable {
    private var slots: [WorkOutcome<O>?]
    private var next = 0
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func take() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < slots.count else { return nil }
        next += 1
        return next - 1
    }

    func set(_ i: Int, _ outcome: WorkOutcome<O>) {
        lock.lock()
        slots[i] = outcome
        lock.unlock()
    }

    func outcomes() -> [WorkOutcome<O>] { slots.map { $0 ?? WorkOutcome(error: "not run") } }
}
