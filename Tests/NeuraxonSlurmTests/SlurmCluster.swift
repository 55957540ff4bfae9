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
    /// The daemons this cluster started, newest last.
    private var daemons: [pid_t] = []

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
        for pid in daemons.reversed() { kill(pid, SIGTERM) }
        for pid in daemons.reversed() {
            let deadline = Date().addingTimeInterval(5)
            while !Spawn.exited(pid), Date() < deadline { usleep(20_000) }
            if !Spawn.exited(pid) {
                kill(pid, SIGKILL)
                _ = Spawn.wait(pid)
            }
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
            guard Date() < deadline, let munged = daemons.last, !Spawn.exited(munged) else {
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
            guard Date() < deadline, !daemons.contains(where: Spawn.exited) else {
                throw Failure(description: "the node did not become idle (state `\(state)`); slurmctld: \(Self.tail("\(folder)/slurmctld.log")); slurmd: \(Self.tail("\(folder)/slurmd.log"))")
            }
            usleep(100_000)
        }
    }

    private func launch(_ path: String, _ arguments: [String], log: String) throws -> pid_t {
        try Spawn.start(path, arguments, environment: environment, output: "\(folder)/\(log)")
    }

    static func tail(_ path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(5).joined(separator: " / ")
    }

    static func run(_ path: String, _ arguments: [String], environment: [String: String]) throws -> (Int32, String, String) {
        try Spawn.run(path, arguments, environment: environment)
    }
}

/// Child processes through posix_spawn and waitpid: started, waited for and reaped by this
/// code alone, with their output in files (nothing to block on).
enum Spawn {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Starts `path` with `arguments`, this process's environment plus `environment`, in
    /// `folder`, its input from /dev/null and its output and errors appended to `output`.
    static func start(_ path: String, _ arguments: [String], environment: [String: String] = [:], folder: String? = nil,
                      output: String, errors: String? = nil) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if let errors {
            posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0)=\($1)" }
        // In `folder` through `env -C`: this process's own folder stays put for other tests. And
        // through a shell that first closes every descriptor above 2: a daemon must not hold
        // the pipes of other tests' commands open (their readers would wait for it to end).
        let closeInherited = #"for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@""#
        let command = ["/bin/bash", "-c", closeInherited, "bash"] + (folder.map { ["/usr/bin/env", "-C", $0] } ?? []) + [path]
        let argv = (command + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, command[0], &actions, nil, argv, envp)
        guard status == 0 else { throw Failure(description: "\(path) cannot be started: \(String(cString: strerror(status)))") }
        return pid
    }

    /// Waits for `pid` and returns its exit status (128 + N for signal N).
    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return decode(status)
    }

    /// Whether `pid` has ended (reaping it if so).
    static func exited(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        return r == pid || (r < 0 && errno == ECHILD)
    }

    static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Runs a command to its end and returns its exit status, output and errors.
    static func run(_ path: String, _ arguments: [String], environment: [String: String] = [:], folder: String? = nil,
                    timeout: Double = 300, while then: (() throws -> Void)? = nil) throws -> (Int32, String, String) {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("neuraxon-spawn-\(getpid())-\(UUID().uuidString.prefix(8))").path
        let out = scratch + ".out", err = scratch + ".err"
        defer {
            unlink(out)
            unlink(err)
        }
        let pid = try start(path, arguments, environment: environment, folder: folder, output: out, errors: err)
        let killer = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        defer { killer.cancel() }
        do { try then?() } catch {
            kill(pid, SIGTERM)
            _ = wait(pid)
            throw error
        }
        let status = wait(pid)
        return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
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

    /// Runs `neuraxon ARGUMENTS` in `folder` and waits for it; `then`, when given, runs while
    /// the command does. Killed after `timeout` seconds.
    static func run(_ arguments: [String], folder: String, environment: [String: String] = [:], timeout: Double = 300,
                    while then: (() throws -> Void)? = nil) throws -> Result {
        let (status, out, err) = try Spawn.run(path, arguments, environment: environment, folder: folder, timeout: timeout, while: then)
        return Result(status: status, stdout: out, stderr: err)
    }

    static func folder() -> String {
        let f = FileManager.default.temporaryDirectory.appendingPathComponent("neuraxon-slurm-test-\(getpid())-\(UUID().uuidString.prefix(6))").path
        try? FileManager.default.createDirectory(atPath: f, withIntermediateDirectories: true)
        return f
    }

    static func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }
}
