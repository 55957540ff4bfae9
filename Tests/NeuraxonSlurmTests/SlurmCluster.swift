import Foundation
import Testing

/// A real single-node Slurm cluster on 127.0.0.1, started from nothing in a scratch folder:
/// `munged` (unless one already answers), `slurmctld` and `slurmd`, all in the foreground as
/// children of the test, stopped by their PIDs in `stop()`.
final class SlurmCluster: @unchecked Sendable {
    /// The scratch folder: slurm.conf, state, spool, the daemons' logs.
    let folder: String
    /// `SLURM_CONF` for every Slurm command of this cluster.
    var environment: [String: String] { ["SLURM_CONF": "\(folder)/slurm.conf"] }
    private var daemons: [Process] = []

    /// The Debian packages the cluster needs (scripts/install-deps.sh installs them).
    static let programs = ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch", "/usr/bin/squeue", "/usr/bin/scancel",
                           "/usr/bin/sinfo", "/usr/sbin/munged", "/usr/bin/munge", "/usr/bin/setpriv"]

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Starts the cluster and waits until its node is idle.
    /// - Throws: `Failure` naming what is missing or which daemon did not come up (with its log).
    init() throws {
        let missing = Self.programs.filter { !FileManager.default.isExecutableFile(atPath: $0) }
        guard missing.isEmpty else {
            throw Failure(description: "the Slurm tests need \(missing.joined(separator: ", ")): install Debian's slurmctld, slurmd, slurm-client and munge with `bash scripts/install-deps.sh`")
        }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("neuraxon-slurm-\(getpid())-\(UUID().uuidString.prefix(6))").path
        for sub in ["state", "spool"] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(sub)", withIntermediateDirectories: true)
        }
        // Ports of this cluster only, so that a cluster left by a crashed run is no obstacle.
        let port = 20_000 + Int(getpid() % 10_000) * 2
        try Self.configuration(folder: folder, port: port).write(toFile: "\(folder)/slurm.conf", atomically: true, encoding: .utf8)
        do {
            try startMunge()
            daemons.append(try launch("/usr/sbin/slurmctld", ["-D", "-c"], log: "slurmctld.out"))
            daemons.append(try launch("/usr/sbin/slurmd", ["-D", "-N", "localhost"], log: "slurmd.out"))
            try waitForIdle()
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// Stops every daemon this cluster started, by PID: SIGTERM, then SIGKILL after 5 s.
    func stop() {
        for process in daemons.reversed() where process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(5)
        for process in daemons.reversed() {
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        daemons.removeAll()
    }

    /// Runs a Slurm command of this cluster and returns its standard output.
    @discardableResult
    func command(_ arguments: [String]) throws -> String {
        let (status, out, err) = try Self.run(arguments[0], Array(arguments.dropFirst()), environment: environment)
        guard status == 0 else { throw Failure(description: "\(arguments.joined(separator: " ")): exit \(status): \(err)") }
        return out
    }

    /// Array tasks running now, as `JOB_TASK`.
    func runningTasks() -> [String] {
        ((try? command(["/usr/bin/squeue", "-h", "-t", "R", "-o", "%i"])) ?? "").split(separator: "\n").map(String.init)
    }

    // MARK: Starting

    static func configuration(folder: String, port: Int) -> String {
        """
        ClusterName=neuraxontest
        SlurmctldHost=localhost(127.0.0.1)
        SlurmctldPort=\(port)
        SlurmdPort=\(port + 1)
        SlurmUser=root
        SlurmdUser=root
        AuthType=auth/munge
        CredType=cred/munge
        StateSaveLocation=\(folder)/state
        SlurmdSpoolDir=\(folder)/spool
        SlurmctldPidFile=\(folder)/slurmctld.pid
        SlurmdPidFile=\(folder)/slurmd.pid
        SlurmctldLogFile=\(folder)/slurmctld.log
        SlurmdLogFile=\(folder)/slurmd.log
        ProctrackType=proctrack/linuxproc
        TaskPlugin=task/none
        SelectType=select/cons_tres
        SelectTypeParameters=CR_Core
        SchedulerType=sched/backfill
        SchedulerParameters=batch_sched_delay=0
        MinJobAge=4
        ReturnToService=2
        MpiDefault=none
        MailProg=/bin/true
        JobAcctGatherType=jobacct_gather/none
        AccountingStorageType=accounting_storage/none
        NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN
        PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP

        """
    }

    /// munged refuses root with Debian's key: it runs as the `munge` user, in its own folders.
    private func startMunge() throws {
        if mungeAnswers() { return }
        for dir in ["/run/munge", "/var/log/munge", "/var/lib/munge"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            _ = try Self.run("/bin/chown", ["munge:munge", dir], environment: [:])
        }
        try? FileManager.default.removeItem(atPath: "/run/munge/munge.socket.2")
        daemons.append(try launch("/usr/bin/setpriv", ["--reuid=munge", "--regid=munge", "--init-groups", "/usr/sbin/munged", "-F"], log: "munged.out"))
        let deadline = Date().addingTimeInterval(20)
        while !mungeAnswers() {
            guard Date() < deadline, daemons.last?.isRunning == true else {
                throw Failure(description: "munged did not start: \(Self.tail("\(folder)/munged.out"))")
            }
            usleep(50_000)
        }
    }

    private func mungeAnswers() -> Bool {
        ((try? Self.run("/usr/bin/munge", ["-n"], environment: [:]))?.0 ?? 1) == 0
    }

    private func waitForIdle() throws {
        let deadline = Date().addingTimeInterval(60)
        while true {
            let state = ((try? command(["/usr/bin/sinfo", "-h", "-n", "localhost", "-o", "%t"])) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if state == "idle" { return }
            guard Date() < deadline, daemons.allSatisfy(\.isRunning) else {
                throw Failure(description: "the node did not become idle (state `\(state)`); slurmctld: \(Self.tail("\(folder)/slurmctld.log")); slurmd: \(Self.tail("\(folder)/slurmd.log"))")
            }
            usleep(100_000)
        }
    }

    private func launch(_ path: String, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        FileManager.default.createFile(atPath: "\(folder)/\(log)", contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(folder)/\(log)"))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    static func tail(_ path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(5).joined(separator: " / ")
    }

    static func run(_ path: String, _ arguments: [String], environment: [String: String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

/// The built `neuraxon`, run as a user runs it.
enum Neuraxon {
    static let path: String = {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("neuraxon").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return "neuraxon"
    }()

    struct Result { let status: Int32; let stdout: String; let stderr: String }

    /// Runs `neuraxon ARGUMENTS` in `folder`, in the background when `then` is given (which runs
    /// while the command does), and waits for it; killed after `timeout` seconds.
    static func run(_ arguments: [String], folder: String, environment: [String: String] = [:], timeout: Double = 300,
                    while then: (() throws -> Void)? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        // Files, not pipes: nothing blocks while `then` runs.
        let id = UUID().uuidString.prefix(6)
        let outPath = "\(folder)/.out-\(id)", errPath = "\(folder)/.err-\(id)"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        let pid = process.processIdentifier
        let killer = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        defer { killer.cancel() }
        do { try then?() } catch {
            kill(pid, SIGTERM)
            process.waitUntilExit()
            throw error
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }

    static func folder() -> String {
        let f = FileManager.default.temporaryDirectory.appendingPathComponent("neuraxon-slurm-test-\(getpid())-\(UUID().uuidString.prefix(6))").path
        try? FileManager.default.createDirectory(atPath: f, withIntermediateDirectories: true)
        return f
    }

    static func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }
}
