import ArgumentParser
import Glibc

/// The exit statuses of every `neuraxon` command, one convention for all of them: the BSD
/// `sysexits.h` codes for errors, and the shell's 128 + N for a run stopped by signal N.
/// Docs/RELIABILITY.md lists them for users and scripts.
enum ExitStatus {
    /// The command did all it was asked.
    static let success: Int32 = 0
    /// It ran, but did not do what was asked: a replay that diverged or could not check every
    /// tick, a run that ended on a lost link, a simulation that ended early.
    static let failure: Int32 = 1
    /// The command line was wrong: an unknown option, a value out of range (`EX_USAGE`).
    static let usage: Int32 = 64
    /// An input file was read but its content is wrong: malformed JSON or YAML, a binary file,
    /// a mapping that does not fit the network (`EX_DATAERR`).
    static let dataError: Int32 = 65
    /// An input file does not exist or cannot be read (`EX_NOINPUT`).
    static let noInput: Int32 = 66
    /// The board is not there or does not answer (`EX_UNAVAILABLE`).
    static let unavailable: Int32 = 69
    /// An output cannot be created, or creating it would destroy an input or an existing
    /// checkpoint (`EX_CANTCREAT`).
    static let cannotCreate: Int32 = 73
    /// Reading or writing failed part-way (`EX_IOERR`).
    static let ioError: Int32 = 74

    /// The status of a command that stopped cleanly because `signal` asked it to: 130 for
    /// SIGINT (Ctrl-C), 143 for SIGTERM, 129 for SIGHUP.
    static func stopped(by signal: Int32) -> Int32 { 128 + signal }

    /// The status as ArgumentParser's exit code.
    static func code(_ status: Int32) -> ExitCode { ExitCode(status) }
}
