import ArgumentParser
import Foundation
import Glibc
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonEvolution
import NeuraxonEvolutionTasks
import NeuraxonSimulation
import NeuraxonTransport

/// An error found while a command runs (after its arguments were parsed), worded for the user
/// and with its exit status (`ExitStatus`). The command line prints `error: MESSAGE` and exits
/// with `status`; it prints no usage banner, since the command line itself was fine.
struct CommandError: Error, CustomStringConvertible {
    let status: Int32
    let message: String

    init(_ status: Int32, _ message: String) {
        self.status = status
        self.message = message
    }

    /// A value given on the command line that does not fit (exit status 64).
    static func usage(_ message: String) -> CommandError { CommandError(ExitStatus.usage, message) }
    /// An input whose content is wrong, or that does not fit another input (65).
    static func dataError(_ message: String) -> CommandError { CommandError(ExitStatus.dataError, message) }
    /// An output that cannot be written (73).
    static func cannotCreate(_ message: String) -> CommandError { CommandError(ExitStatus.cannotCreate, message) }
    /// Reading or writing failed part-way (74).
    static func ioError(_ message: String) -> CommandError { CommandError(ExitStatus.ioError, message) }

    var description: String { message }
}

/// What the command line tells the user about an error thrown while a command runs, and the
/// exit status it ends with: one place, so every command reports the same problem the same way.
enum ErrorReport {
    /// The exit status for `error` (Docs/RELIABILITY.md, "Exit statuses").
    static func status(of error: any Error) -> Int32 {
        switch error {
        case let e as CommandError: return e.status
        case let e as ExitCode: return e.rawValue
        case is ValidationError: return ExitStatus.usage
        case let e as FileProblem: return status(of: e.kind)
        case is NetworkFileError, is WorldError, is MappingError, is ScheduleError, is RecordingError, is ParameterError, is TaskError:
            return ExitStatus.dataError
        case let e as EvolutionError:
            switch e {
            case .file: return ExitStatus.cannotCreate
            case .invalidCheckpoint, .checkpointMismatch, .invalidGenome, .notEmbodied: return ExitStatus.dataError
            case .invalidSettings: return ExitStatus.usage
            default: return ExitStatus.failure
            }
        case is AtomicFile.Failure: return ExitStatus.cannotCreate
        case is SerialError, is DiscoveryError, is LinkError: return ExitStatus.unavailable
        default: return ExitStatus.failure
        }
    }

    static func status(of kind: FileProblem.Kind) -> Int32 {
        switch kind {
        case .missing, .folder, .unreadable: return ExitStatus.noInput
        case .notText: return ExitStatus.dataError
        case .outputIsInput, .wouldReplace, .cannotCreate: return ExitStatus.cannotCreate
        }
    }

    /// The message for `error`: its own wording (every error type of the libraries describes
    /// itself for users), never a framework's debug text.
    static func message(of error: any Error) -> String {
        switch error {
        case let e as ValidationError: return e.message
        case let e as CustomStringConvertible: return e.description
        default: return "\(error)"
        }
    }

    /// Whether `error` is one of ArgumentParser's own (help requested, a clean exit, a parse
    /// error), which ArgumentParser reports itself; `ValidationError` and `ExitCode` thrown by a
    /// command's `run()` are not among them.
    static func isArgumentParserOwn(_ error: any Error) -> Bool {
        if error is ValidationError || error is ExitCode { return false }
        return String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }

    /// Prints `error: MESSAGE` (unless the error is a bare exit status) and ends the process.
    static func exit(with error: any Error) -> Never {
        fflush(nil)
        if !(error is ExitCode) {
            FileHandle.standardError.write(Data("error: \(message(of: error))\n".utf8))
        }
        Glibc.exit(status(of: error))
    }
}

/// Reads a network file with plain errors: a missing, unreadable or folder path as a
/// `FileProblem`, bad content as a `NetworkFileError` naming the place. Returns the network and
/// the file's bytes (a recording's header keeps their digest).
func loadNetwork(_ path: String, seed: UInt64? = nil) throws -> (network: NeuraxonNetwork, bytes: [UInt8]) {
    let bytes = try InputFile.bytes(path, what: "the network file")
    let network = try NeuraxonNetwork.load(bytes: bytes, file: path, seed: seed)
    return (network, bytes)
}

/// Prints the mapping's warnings (e.g. an empty mapping that drives nothing).
func printWarnings(_ mapping: Mapping) {
    for warning in mapping.warnings { printError("warning: \(warning)") }
}

extension FilePlan {
    /// A recording given with `--record`, and the files written beside it: its metrics
    /// (`FILE.metrics.json`) and a preset's network (`FILE.network.json`).
    mutating func recording(_ path: String?, metrics: Bool = false, network: Bool = false) {
        guard let path else { return }
        output(path, "--record")
        if metrics { output(path + ".metrics.json", "--record's metrics file") }
        if network { output(path + ".network.json", "--record's network file") }
    }

    /// A world given by name: a world file unless it names a built-in world.
    mutating func world(_ name: String?) {
        if let name, World.builtin(named: name) == nil { input(name, "the world file") }
    }
}
