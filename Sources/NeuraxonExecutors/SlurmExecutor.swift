import Foundation
import Glibc

/// How the Slurm executor submits and follows its job arrays.
public struct SlurmSettings: Sendable, Equatable {
    /// A folder every node sees at the same path (a shared filesystem): chunk files, result
    /// files, the job script and the tasks' logs go under it, one subfolder per round.
    public var workDirectory: String
    /// The `neuraxon` every node runs, by an absolute path on the shared filesystem.
    public var executable: String
    /// `--partition`; nil: the cluster's default.
    public var partition: String?
    /// `--time` of each array task (Slurm's syntax: `MM`, `HH:MM:SS`, `D-HH`); nil: the partition's default.
    public var timeLimit: String?
    /// At most this many array tasks run at once (`--array=…%N`); nil: no limit.
    public var arrayThrottle: Int?
    /// More `sbatch` arguments, passed as given (e.g. `--account=lab`, `--qos=short`).
    public var extraArguments: [String] = []
    /// Items per array task: several, so the scheduler's cost per task (about a second) stays
    /// small against the work.
    public var itemsPerTask: Int = 16
    /// How many times a task that ended without a result (failed, cancelled, node lost) is
    /// submitted again before the round fails.
    public var maxResubmits: Int = 3
    /// Print the job script and the `sbatch` command instead of submitting.
    public var dryRun = false
    /// Seconds between looks at the queue and the result files.
    public var pollSeconds: Double = 0.5

    public init(workDirectory: String, executable: String) {
        self.workDirectory = workDirectory
        self.executable = executable
    }
}

/// Runs items as a Slurm job array: writes the round's items into chunk files in a shared work
/// folder (`itemsPerTask` items each), submits one array with `sbatch --parsable` whose task N
/// runs `neuraxon evaluate chunk-N.json -o result-N.json`, follows it with `squeue` and the
/// result files, submits again the tasks that ended without a result (at most `maxResubmits`
/// times each), and reads the outcomes back in item order.
public struct SlurmExecutor: Executor {
    public let settings: SlurmSettings
    /// Receives progress and resubmission lines.
    public let log: @Sendable (String) -> Void

    public init(settings: SlurmSettings, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.settings = settings
        self.log = log
    }

    public var summary: String {
        "slurm, \(settings.itemsPerTask) items per array task" + (settings.partition.map { ", partition \($0)" } ?? "")
    }

    /// The folder of round `label`.
    public func folder(_ label: String) -> String { (settings.workDirectory as NSString).appendingPathComponent(label) }

    public func run<C, I, O>(_ kind: WorkKind<C, I, O>, context: C, items: [I], label: String) throws(ExecutorError) -> [WorkOutcome<O>] {
        guard !items.isEmpty else { return [] }
        let dir = folder(label)
        try prepare(dir)
        let per = max(1, settings.itemsPerTask)
        let tasks = (items.count + per - 1) / per
        for t in 0..<tasks {
            let slice = Array(items[(t * per)..<min(items.count, (t + 1) * per)])
            try WorkJSON.write(WorkChunk(kind: kind.name, task: t, context: context, items: slice), to: chunkPath(dir, t))
        }
        let script = jobScript(folder: dir, label: label)
        let scriptPath = (dir as NSString).appendingPathComponent("job.sh")
        do { try Data(script.utf8).write(to: URL(fileURLWithPath: scriptPath), options: .atomic) } catch {
            throw .file(path: scriptPath, message: "cannot be written")
        }
        if settings.dryRun {
            log(script)
            log("submit with: " + sbatchArguments(indices: Array(0..<tasks), script: scriptPath).joined(separator: " "))
            throw .dryRun
        }
        try follow(tasks: tasks, folder: dir, script: scriptPath)
        var outcomes: [WorkOutcome<O>] = []
        outcomes.reserveCapacity(items.count)
        for t in 0..<tasks {
            let expected = min(items.count, (t + 1) * per) - t * per
            let result = try WorkJSON.read(WorkResults<O>.self, from: resultPath(dir, t))
            guard result.kind == kind.name, result.task == t, result.outcomes.count == expected else {
                throw .file(path: resultPath(dir, t), message: "holds \(result.outcomes.count) outcomes of task \(result.task) (\(result.kind)); expected \(expected) of task \(t) (\(kind.name))")
            }
            outcomes += result.outcomes
        }
        return outcomes
    }

    // MARK: The job

    /// The job script: one array task runs one chunk.
    public func jobScript(folder dir: String, label: String) -> String {
        var lines = [
            "#!/bin/sh",
            "#SBATCH --job-name=neuraxon-\(label)",
            "#SBATCH --output=\(dir)/logs/task-%a.log",
            "#SBATCH --ntasks=1",
            "#SBATCH --cpus-per-task=1",
            "#SBATCH --chdir=\(dir)",
        ]
        if let p = settings.partition { lines.append("#SBATCH --partition=\(p)") }
        if let t = settings.timeLimit { lines.append("#SBATCH --time=\(t)") }
        lines += [
            "exec \(Self.quoted(settings.executable)) evaluate \"\(dir)/chunk-$SLURM_ARRAY_TASK_ID.json\" -o \"\(dir)/result-$SLURM_ARRAY_TASK_ID.json\"",
            "",
        ]
        return lines.joined(separator: "\n")
    }

    /// `sbatch` and its arguments for the tasks `indices` of the script.
    func sbatchArguments(indices: [Int], script: String) -> [String] {
        var array = "--array=" + Self.ranges(indices)
        if let n = settings.arrayThrottle { array += "%\(n)" }
        return ["sbatch", "--parsable", array] + settings.extraArguments + [script]
    }

    /// `0-3,7,9-10` for [0, 1, 2, 3, 7, 9, 10].
    static func ranges(_ indices: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        let sorted = indices.sorted()
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count, sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    static func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    // MARK: Following the array

    /// Submits the array, then watches the queue and the result files until every task has a
    /// result, resubmitting tasks that left the queue without one.
    private func follow(tasks: Int, folder dir: String, script: String) throws(ExecutorError) {
        var attempts = Array(repeating: 1, count: tasks)
        var missingPolls = Array(repeating: 0, count: tasks)
        var jobs = [try submit(Array(0..<tasks), script: script)]
        log("submitted job \(jobs[0]): \(tasks) array task\(tasks == 1 ? "" : "s") in \(dir)")
        var done = Set<Int>()
        var reported = -1
        var queueFailures = 0
        defer {
            // A round that ends by an error leaves nothing of its own running.
            if done.count < tasks { _ = try? Self.command(["scancel"] + jobs) }
        }
        while done.count < tasks {
            usleep(useconds_t(settings.pollSeconds * 1e6))
            // The queue first, then the files: a task writes its result before it leaves the queue.
            let queued: Set<Int>
            do {
                queued = try self.queued(jobs)
                queueFailures = 0
            } catch {
                queueFailures += 1
                if queueFailures >= 20 { throw error }
                continue
            }
            for t in 0..<tasks where !done.contains(t) {
                if FileManager.default.fileExists(atPath: resultPath(dir, t)) {
                    done.insert(t)
                    continue
                }
                // Not in the queue and no result: seen so twice in a row (a shared filesystem may
                // show a new file late), the task failed, was cancelled or lost its node.
                missingPolls[t] = queued.contains(t) ? 0 : missingPolls[t] + 1
            }
            let lost = (0..<tasks).filter { !done.contains($0) && missingPolls[$0] >= 2 }
            if !lost.isEmpty {
                for t in lost where attempts[t] > settings.maxResubmits {
                    let logPath = "\(dir)/logs/task-\(t).log"
                    throw .taskFailed(task: t, attempts: attempts[t], log: logPath, lastLines: Self.tail(logPath))
                }
                let job = try submit(lost, script: script)
                jobs.append(job)
                for t in lost {
                    attempts[t] += 1
                    missingPolls[t] = 0
                }
                log("array task\(lost.count == 1 ? "" : "s") \(Self.ranges(lost)) ended without a result: submitted again as job \(job) (attempt \(attempts[lost[0]]) of \(settings.maxResubmits + 1))")
            }
            if done.count != reported {
                reported = done.count
                log("\(done.count) of \(tasks) array tasks done")
            }
        }
    }

    private func submit(_ indices: [Int], script: String) throws(ExecutorError) -> String {
        let arguments = sbatchArguments(indices: indices, script: script)
        let (status, out, err) = try Self.command(arguments)
        let id = out.split(separator: "\n").last.map { String($0.split(separator: ";")[0]).trimmingCharacters(in: .whitespaces) } ?? ""
        guard status == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw .scheduler(command: "sbatch", message: err.isEmpty ? "refused the job (exit status \(status))" : err.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return id
    }

    /// The array task numbers still pending or running in `jobs`.
    private func queued(_ jobs: [String]) throws(ExecutorError) -> Set<Int> {
        let (status, out, err) = try Self.command(["squeue", "-h", "-r", "-j", jobs.joined(separator: ","), "-o", "%i"])
        if status != 0 {
            // Jobs that left the controller's memory are no longer known: none of them is queued.
            if err.contains("Invalid job id") { return [] }
            throw .scheduler(command: "squeue", message: err.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        var tasks = Set<Int>()
        for line in out.split(separator: "\n") {
            // `12_3`; a pending array not yet split shows `12_[3-5]`, expanded by `-r` in practice.
            guard let underscore = line.firstIndex(of: "_") else { continue }
            let rest = line[line.index(after: underscore)...].trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
            for part in rest.split(separator: ",") {
                let bounds = part.split(separator: "%")[0].split(separator: "-").compactMap { Int($0) }
                if bounds.count == 1 { tasks.insert(bounds[0]) } else if bounds.count == 2, bounds[0] <= bounds[1] {
                    tasks.formUnion(bounds[0]...bounds[1])
                }
            }
        }
        return tasks
    }

    private func prepare(_ dir: String) throws(ExecutorError) {
        do {
            try FileManager.default.createDirectory(atPath: "\(dir)/logs", withIntermediateDirectories: true)
            // A round starts clean: results of an earlier round with the same label are not this one's.
            for name in try FileManager.default.contentsOfDirectory(atPath: dir)
            where name.hasPrefix("chunk-") || name.hasPrefix("result-") || name.hasPrefix(".result-") {
                try FileManager.default.removeItem(atPath: "\(dir)/\(name)")
            }
        } catch {
            throw .file(path: dir, message: "cannot be made or cleared for the job's files; give --work-dir a folder you can write")
        }
    }

    private func chunkPath(_ dir: String, _ t: Int) -> String { "\(dir)/chunk-\(t).json" }
    private func resultPath(_ dir: String, _ t: Int) -> String { "\(dir)/result-\(t).json" }

    static func tail(_ path: String, lines: Int = 5) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Runs a command found on PATH and returns its exit status and output.
    static func command(_ arguments: [String]) throws(ExecutorError) -> (Int32, String, String) {
        guard let path = findExecutable(arguments[0]) else {
            throw .scheduler(command: arguments[0], message: "not found on PATH; install the Slurm client (Debian: slurm-client) or run with --executor local")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = Array(arguments.dropFirst())
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            throw .scheduler(command: arguments[0], message: "cannot be started")
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    static func findExecutable(_ name: String) -> String? {
        if name.contains("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") where access("\(dir)/\(name)", X_OK) == 0 { return "\(dir)/\(name)" }
        return nil
    }
}
