import Foundation
import Neuraxon

/// A kind of work an executor runs: items of one type, each turned into one output by
/// `perform`, with a context shared by every item of a round. Its `name` tells a worker process
/// (`neuraxon evaluate CHUNK -o RESULT`) which kind a chunk file holds, so the worker runs the
/// same `perform` as a local executor would: the same item gives the same output, bit for bit,
/// wherever it runs.
public struct WorkKind<Context: Codable & Sendable, Item: Codable & Sendable, Output: Codable & Sendable>: Sendable {
    public let name: String
    public let perform: @Sendable (Context, Item) throws -> Output

    public init(name: String, perform: @escaping @Sendable (Context, Item) throws -> Output) {
        self.name = name
        self.perform = perform
    }

    /// Runs one item, turning an error into a failed outcome with the error's own wording.
    public func outcome(_ context: Context, _ item: Item) -> WorkOutcome<Output> {
        do { return WorkOutcome(value: try perform(context, item)) } catch {
            return WorkOutcome(error: "\(error)")
        }
    }
}

/// What became of one item: its output, or why it failed (worded for users).
public struct WorkOutcome<Output: Codable & Sendable>: Codable, Sendable {
    public var value: Output?
    public var error: String?

    public init(value: Output) { self.value = value; error = nil }
    public init(error: String) { value = nil; self.error = error }
}

/// One array task's share of a round, as the worker reads it (`chunk-N.json`).
public struct WorkChunk<Context: Codable & Sendable, Item: Codable & Sendable>: Codable, Sendable {
    public static var format: String { "neuraxon-work-chunk" }
    public var format = WorkChunk.format
    public var version = 1
    /// The `WorkKind` name.
    public var kind: String
    /// The array task's number.
    public var task: Int
    public var context: Context
    public var items: [Item]
}

/// What a worker wrote for one chunk (`result-N.json`): one outcome per item, in order.
public struct WorkResults<Output: Codable & Sendable>: Codable, Sendable {
    public static var format: String { "neuraxon-work-result" }
    public var format = WorkResults.format
    public var version = 1
    public var kind: String
    public var task: Int
    public var outcomes: [WorkOutcome<Output>]
}

/// The fields every chunk file starts with, read before its kind is known.
struct WorkHeader: Codable {
    var format: String
    var version: Int
    var kind: String
}

/// JSON as work files hold it: sorted keys, and non-finite numbers as strings so that a NaN
/// output reaches the caller (which refuses it) instead of failing the whole chunk.
enum WorkJSON {
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    static func write<T: Encodable>(_ value: T, to path: String) throws(ExecutorError) {
        let data: Data
        do { data = try encoder().encode(value) } catch { throw .file(path: path, message: "cannot encode: \(error)") }
        do { try AtomicFile.replace(path, with: Array(data) + [0x0a]) } catch { throw .file(path: path, message: error.message) }
    }

    static func read<T: Decodable>(_ type: T.Type, from path: String) throws(ExecutorError) -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .file(path: path, message: "cannot be read (missing or not readable)")
        }
        do { return try decoder().decode(type, from: data) } catch {
            throw .file(path: path, message: "is not a work file this program wrote (\(Self.describe(error)))")
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "unreadable" }
        switch error {
        case .keyNotFound(let key, _): return "missing field \(key.stringValue)"
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            let place = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return place.isEmpty ? "not JSON" : "bad value at \(place)"
        @unknown default: return "unreadable"
        }
    }
}

/// Everything an executor can fail with, worded for users.
public enum ExecutorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A work file could not be written or read.
    case file(path: String, message: String)
    /// A Slurm command could not be run or refused the request.
    case scheduler(command: String, message: String)
    /// An array task failed every time it was submitted.
    case taskFailed(task: Int, attempts: Int, log: String, lastLines: String)
    /// A chunk file names a kind of work this program does not know.
    case unknownKind(path: String, kind: String)
    /// `--dry-run`: the job script was printed and nothing was submitted.
    case dryRun

    public var description: String {
        switch self {
        case .file(let path, let message): "\(path): \(message)"
        case .scheduler(let command, let message): "\(command): \(message)"
        case .taskFailed(let task, let attempts, let log, let lastLines):
            "array task \(task) ended without a result \(attempts) times; its log is \(log)"
                + (lastLines.isEmpty ? "" : ", ending:\n\(lastLines)")
        case .unknownKind(let path, let kind):
            "\(path): work of kind `\(kind)` is not known to this neuraxon; run the same neuraxon build on every node"
        case .dryRun: "dry run: nothing submitted"
        }
    }
}

/// The worker's side: runs the items of one chunk file and writes their outcomes.
public enum Worker {
    /// The kind of work in the chunk file at `path`.
    public static func kind(ofChunk path: String) throws(ExecutorError) -> String {
        let header = try WorkJSON.read(WorkHeader.self, from: path)
        guard header.format == WorkChunk<Int, Int>.format else {
            throw .file(path: path, message: "is not a work chunk (format `\(header.format)`)")
        }
        return header.kind
    }

    /// Runs every item of the chunk at `chunkPath` in order on this thread and writes the
    /// outcomes to `resultPath` atomically (a result file either is whole or is not there).
    /// - Returns: how many items failed.
    @discardableResult
    public static func perform<C, I, O>(_ kind: WorkKind<C, I, O>, chunk chunkPath: String,
                                        result resultPath: String) throws(ExecutorError) -> Int {
        let chunk = try WorkJSON.read(WorkChunk<C, I>.self, from: chunkPath)
        guard chunk.kind == kind.name else { throw .unknownKind(path: chunkPath, kind: chunk.kind) }
        let outcomes = chunk.items.map { kind.outcome(chunk.context, $0) }
        try WorkJSON.write(WorkResults(kind: kind.name, task: chunk.task, outcomes: outcomes), to: resultPath)
        return outcomes.filter { $0.error != nil }.count
    }
}
