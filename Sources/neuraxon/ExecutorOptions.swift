import ArgumentParser
import Foundation
import NeuraxonExecutors

/// Where independent evaluations run: `--executor local` (this machine's cores) or
/// `--executor slurm` (a Slurm job array), with the Slurm executor's options. Shared by
/// `neuraxon evolve` and `neuraxon sim --batch` (Docs/SCALING.md).
struct ExecutorOptions: ParsableArguments {
    enum Kind: String, ExpressibleByArgument, CaseIterable { case local, slurm }

    @Option(help: ArgumentHelp("Where evaluations run: local (this machine's cores) or slurm (a Slurm job array; Docs/SCALING.md).", valueName: "local|slurm"))
    var executor: Kind = .local

    @Option(help: "Slurm: a folder every node sees at the same path, for the job's files (default: beside the output, OUTPUT.slurm).")
    var workDir: String?

    @Option(help: "Slurm: the partition to submit to (default: the cluster's default).")
    var partition: String?

    @Option(help: "Slurm: the time limit of each array task, in Slurm's syntax (MM, HH:MM:SS, D-HH).")
    var timeLimit: String?

    @Option(parsing: .unconditional, help: "Slurm: at most this many array tasks run at once.")
    var arrayThrottle: Int?

    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("Slurm: one more argument for sbatch, as given (repeat it for several, e.g. --sbatch-arg=--qos=short).", valueName: "arg"))
    var sbatchArg: [String] = []

    @Option(parsing: .unconditional, help: "Slurm: evaluations per array task (several, so the scheduler's second per task stays small).")
    var itemsPerTask: Int = 16

    @Option(parsing: .unconditional, help: "Slurm: how many times an array task that ended without a result is submitted again.")
    var maxResubmits: Int = 3

    @Flag(help: "Slurm: print the job script and the sbatch command for the first round, and submit nothing.")
    var dryRun = false

    func validate() throws {
        guard itemsPerTask >= 1 else { throw ValidationError("--items-per-task must be at least 1, e.g. --items-per-task 16") }
        guard maxResubmits >= 0 else { throw ValidationError("--max-resubmits must be 0 or more") }
        if let arrayThrottle, arrayThrottle < 1 { throw ValidationError("--array-throttle must be at least 1") }
        if executor == .local {
            let slurmOnly = [(workDir != nil, "--work-dir"), (partition != nil, "--partition"), (timeLimit != nil, "--time-limit"),
                             (arrayThrottle != nil, "--array-throttle"), (!sbatchArg.isEmpty, "--sbatch-arg"), (dryRun, "--dry-run")]
            if let given = slurmOnly.first(where: \.0) {
                throw ValidationError("\(given.1) applies to --executor slurm only")
            }
        }
    }

    /// The Slurm executor's settings, or nil for the local executor.
    /// - Parameter workDirectory: the default work folder (made absolute).
    func slurmSettings(defaultWorkDirectory: String) -> SlurmSettings? {
        guard executor == .slurm else { return nil }
        var s = SlurmSettings(workDirectory: Self.absolute(workDir ?? defaultWorkDirectory), executable: Self.executablePath)
        s.partition = partition
        s.timeLimit = timeLimit
        s.arrayThrottle = arrayThrottle
        s.extraArguments = sbatchArg
        s.itemsPerTask = itemsPerTask
        s.maxResubmits = maxResubmits
        s.dryRun = dryRun
        return s
    }

    /// The executor these options ask for.
    func make(defaultWorkDirectory: String, workers: Int?) -> any Executor {
        guard let settings = slurmSettings(defaultWorkDirectory: defaultWorkDirectory) else { return LocalExecutor(workers: workers) }
        return SlurmExecutor(settings: settings, log: { printError($0) })
    }

    /// This program, by its absolute path: what every array task runs.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? absolute(CommandLine.arguments[0])
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    }

    /// The command line's error for an executor's: a scheduler that cannot be used is
    /// unavailable (69), a work file that cannot be written cannot be created (73), a task that
    /// kept failing did not do what was asked (1), a dry run is a success.
    static func commandError(_ error: ExecutorError) -> any Error {
        switch error {
        case .dryRun: return ExitCode.success
        case .scheduler: return CommandError(ExitStatus.unavailable, error.description)
        case .file: return CommandError.cannotCreate(error.description)
        case .unknownKind: return CommandError.dataError(error.description)
        case .taskFailed: return CommandError(ExitStatus.failure, error.description)
        }
    }
}
