import Foundation
import Glibc
import Neuraxon
import NeuraxonTransport
import Testing

/// The built `neuraxon` running in the background, its output collected as it comes, so a test
/// can wait for it to be under way, send it a signal and look at how it ended.
final class BackgroundCLI: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    private let finished = DispatchSemaphore(value: 0)

    /// Starts `neuraxon arguments`, or `launcher neuraxon arguments` (e.g. `/usr/bin/nohup`).
    init(_ arguments: [String], through launcher: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: launcher ?? CLI.path)
        process.arguments = launcher == nil ? arguments : [CLI.path] + arguments
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let group = DispatchGroup()
        for (pipe, isOut) in [(outPipe, true), (errPipe, false)] {
            group.enter()
            Thread { [self] in
                let handle = pipe.fileHandleForReading
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    lock.withLock { if isOut { out.append(chunk) } else { err.append(chunk) } }
                }
                group.leave()
            }.start()
        }
        Thread { [self] in
            process.waitUntilExit()
            group.wait()
            finished.signal()
        }.start()
    }

    var stdout: String { lock.withLock { String(decoding: out, as: UTF8.self) } }
    var stderr: String { lock.withLock { String(decoding: err, as: UTF8.self) } }

    /// Waits up to `seconds` until `condition` holds; false if it never did or the process ended.
    @discardableResult
    func waitUntil(seconds: Double = 60, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            if !process.isRunning { return condition() }
            usleep(20_000)
        }
        return false
    }

    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// The exit status once the process ended (within `seconds`), or -N when signal N killed it;
    /// nil when it did not end in time (it is then killed).
    func exitStatus(within seconds: Double = 30) -> Int32? {
        guard finished.wait(timeout: .now() + seconds) == .success else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
    }
}

/// How a command stopped by a signal ends: cleanly, with its files finished, and 128 + N.
@Suite(.serialized) struct StopSignalTests {
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    static func name(_ signal: Int32) -> String {
        [SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP"][signal] ?? "signal \(signal)"
    }

    static let firmwareFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Firmware").path
    static let mappingFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Docs/examples").path

    /// The host build of the firmware (`make -C Firmware host`), built once.
    static let hostFirmware: String? = try? FirmwareProcess.build(in: firmwareFolder, targets: ["host"],
                                                                  products: ["build/host/neuraxon-firmware"])[0]

    /// The last line of a recording.
    static func lastLine(_ path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").last.map(String.init) ?? ""
    }

    static func fileExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    static func json(_ path: String) -> [String: Any]? {
        (try? Data(contentsOf: URL(fileURLWithPath: path))).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    /// A network file that fits `Docs/examples/seek.mapping.yaml`: the one a `seek` simulation saves.
    static func seekNetwork(in folder: String) throws -> String {
        let made = try CLI.run(["sim", "--duration", "0.1", "--record", folder + "/seed.jsonl"])
        #expect(made.status == 0, "\(made.stderr)")
        return folder + "/seed.jsonl.network.json"
    }

    @Test("sim: each signal ends the run with its end record, summary and fresh metrics, status 128 + N", arguments: signals)
    func sim(signal: Int32) throws {
        let folder = CLI.folder()
        let recording = folder + "/run.jsonl"
        let metrics = recording + ".metrics.json"
        try "{\"stale\": true}\n".write(toFile: metrics, atomically: true, encoding: .utf8)
        let cli = try BackgroundCLI(["sim", "--realtime", "--duration", "600", "--record", recording])
        #expect(cli.waitUntil { Self.lastLine(recording).contains("\"tick\"") }, "\(cli.stderr)")
        // the stale metrics are gone before the run is under way
        #expect(!Self.fileExists(metrics))
        cli.send(signal)
        let status = cli.exitStatus()
        #expect(status == 128 + signal, "\(cli.stdout)\n\(cli.stderr)")
        #expect(cli.stdout.contains("collisions:"), "\(cli.stdout)")
        #expect(cli.stdout.contains("stopped by \(Self.name(signal))"), "\(cli.stdout)")
        #expect(cli.stdout.contains("metrics: \(metrics)"), "\(cli.stdout)")
        #expect(Self.lastLine(recording).contains("\"event\":\"end\""), "\(Self.lastLine(recording))")
        let summary = Self.json(metrics)
        #expect(summary?["end_reason"] as? String == "stopped", "\(String(describing: summary))")
        #expect((summary?["ticks"] as? Int ?? 0) > 0)
    }

    @Test("sim: a run killed outright leaves no metrics from an earlier run beside its recording")
    func simKilledLeavesNoStaleMetrics() throws {
        let folder = CLI.folder()
        let recording = folder + "/run.jsonl"
        let metrics = recording + ".metrics.json"
        try "{\"stale\": true}\n".write(toFile: metrics, atomically: true, encoding: .utf8)
        let cli = try BackgroundCLI(["sim", "--realtime", "--duration", "600", "--record", recording])
        #expect(cli.waitUntil { Self.lastLine(recording).contains("\"tick\"") }, "\(cli.stderr)")
        cli.send(SIGKILL)
        #expect(cli.exitStatus() == -SIGKILL)
        #expect(!Self.fileExists(metrics))
    }

    @Test("a signal ignored when the command starts stays ignored: under nohup, SIGHUP does not stop a run; SIGTERM still does")
    func nohupKeepsHangUpsIgnored() throws {
        let folder = CLI.folder()
        let recording = folder + "/run.jsonl"
        let cli = try BackgroundCLI(["sim", "--realtime", "--duration", "600", "--record", recording], through: "/usr/bin/nohup")
        #expect(cli.waitUntil { Self.lastLine(recording).contains("\"tick\"") }, "\(cli.stderr)")
        cli.send(SIGHUP)
        usleep(500_000)
        #expect(cli.process.isRunning, "\(cli.stdout)\n\(cli.stderr)")
        cli.send(SIGTERM)
        #expect(cli.exitStatus() == 128 + SIGTERM, "\(cli.stdout)\n\(cli.stderr)")
        #expect(Self.lastLine(recording).contains("\"event\":\"end\""))
    }

    @Test("run: each signal sends STOP to the firmware, finishes the recording, prints the summary, saves -o, status 128 + N",
          arguments: signals)
    func run(signal: Int32) throws {
        let firmwarePath = try #require(Self.hostFirmware, "make -C Firmware host failed")
        let folder = CLI.folder()
        let network = try Self.seekNetwork(in: folder)
        let firmware = try FirmwareProcess(executable: firmwarePath)
        defer { firmware.quit() }
        let recording = folder + "/robot.jsonl"
        let saved = folder + "/after.json"
        let cli = try BackgroundCLI(["run", "--port", firmware.path, "--network", network, "--mapping",
                                     Self.mappingFolder + "/seek.mapping.yaml", "--record", recording, "-o", saved, "--quiet"])
        #expect(cli.waitUntil { cli.stderr.contains("sampling every") }, "\(cli.stderr)")
        // under way: the board has been commanded
        #expect(firmware.waitFor("failsafe active", milliseconds: 30_000), "\(firmware.snapshot())")
        usleep(300_000)
        let before = firmware.snapshot().count
        cli.send(signal)
        let status = cli.exitStatus()
        #expect(status == 128 + signal, "\(cli.stdout)\n\(cli.stderr)")
        #expect(firmware.waitFor("failsafe stopped", after: before, milliseconds: 5000), "\(firmware.snapshot().suffix(10))")
        #expect(cli.stdout.contains("run ended: stopped"), "\(cli.stdout)")
        #expect(cli.stdout.contains("board after STOP: failsafe stopped"), "\(cli.stdout)")
        #expect(cli.stdout.contains("stopped by \(Self.name(signal))"), "\(cli.stdout)")
        #expect(Self.lastLine(recording).contains("\"event\":\"end\""), "\(Self.lastLine(recording))")
        // saved as the run left it: the steps it ran are in the file
        let after = try NeuraxonNetwork.load(contentsOf: saved)
        #expect(cli.stdout.contains("network saved to \(saved) (as plasticity left it after \(after.stepCount) steps)"), "\(cli.stdout)")
    }

    @Test("probe: each signal sends STOP to the firmware and prints the counters, status 128 + N", arguments: signals)
    func probe(signal: Int32) throws {
        let firmwarePath = try #require(Self.hostFirmware, "make -C Firmware host failed")
        let firmware = try FirmwareProcess(executable: firmwarePath)
        defer { firmware.quit() }
        let cli = try BackgroundCLI(["probe", "--port", firmware.path, "--pings", "10", "--duration", "600"])
        #expect(cli.waitUntil { cli.stdout.contains("t=") }, "\(cli.stdout)\n\(cli.stderr)")
        let before = firmware.snapshot().count
        cli.send(signal)
        let status = cli.exitStatus()
        #expect(status == 128 + signal, "\(cli.stdout)\n\(cli.stderr)")
        #expect(firmware.waitFor("failsafe stopped", after: before, milliseconds: 5000), "\(firmware.snapshot().suffix(10))")
        #expect(cli.stdout.contains("counters:"), "\(cli.stdout)")
        #expect(cli.stdout.contains("stopped: board reports failsafe stopped"), "\(cli.stdout)")
        #expect(cli.stdout.contains("stopped by \(Self.name(signal))"), "\(cli.stdout)")
    }

    @Test("replay: each signal ends the replay with its summary and a finished --record file, status 128 + N", arguments: signals)
    func replay(signal: Int32) throws {
        let folder = CLI.folder()
        let recording = folder + "/run.jsonl"
        let made = try CLI.run(["sim", "--duration", "60", "--record", recording])
        #expect(made.status == 0, "\(made.stderr)")
        let again = folder + "/again.jsonl"
        let cli = try BackgroundCLI(["replay", recording, "--rate", "1", "--record", again])
        #expect(cli.waitUntil { Self.fileExists(again) }, "\(cli.stderr)")
        usleep(300_000)
        cli.send(signal)
        let status = cli.exitStatus()
        #expect(status == 128 + signal, "\(cli.stdout)\n\(cli.stderr)")
        #expect(cli.stdout.contains("ticks checked, all equal to the recording so far"), "\(cli.stdout)")
        #expect(cli.stdout.contains("stopped by \(Self.name(signal))"), "\(cli.stdout)")
        #expect(Self.lastLine(again).contains("\"event\":\"end\""), "\(Self.lastLine(again))")
    }

    @Test("net run: each signal stops after the current step, -o saves the network and says so, status 128 + N", arguments: signals)
    func netRun(signal: Int32) throws {
        let folder = CLI.folder()
        let created = try CLI.run(["net", "create", "--preset", "flowing", "--seed", "3", "-o", folder + "/net.json"])
        #expect(created.status == 0, "\(created.stderr)")
        let saved = folder + "/after.json"
        let trace = folder + "/trace.jsonl"
        let cli = try BackgroundCLI(["net", "run", folder + "/net.json", "--steps", "1000000000", "--trace", trace, "-o", saved])
        #expect(cli.waitUntil { Self.fileExists(trace) }, "\(cli.stderr)")
        usleep(300_000)
        cli.send(signal)
        let status = cli.exitStatus()
        #expect(status == 128 + signal, "\(cli.stdout)\n\(cli.stderr)")
        let after = try NeuraxonNetwork.load(contentsOf: saved)
        #expect(after.stepCount > 0)
        #expect(cli.stdout.contains("stopped by \(Self.name(signal)) after \(after.stepCount) of 1000000000 steps"), "\(cli.stdout)")
        #expect(cli.stdout.contains("saved the network as it is after step \(after.stepCount) to \(saved)"), "\(cli.stdout)")
        // the trace is whole: one line per step run
        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == after.stepCount)
    }

    @Test("evolve: each signal stops after the generation, saves the best and the checkpoint, status 128 + N", arguments: signals)
    func evolve(signal: Int32) throws {
        let folder = CLI.folder()
        let best = folder + "/best.json"
        let cli = try BackgroundCLI(["evolve", "--task", "avoid", "--population", "4", "--generations", "1000", "--trials", "1",
                                     "--episode", "0.5", "--workers", "1", "-o", best])
        #expect(cli.waitUntil { cli.stdout.contains("generation 1/1000") }, "\(cli.stdout)\n\(cli.stderr)")
        cli.send(signal)
        let status = cli.exitStatus(within: 120)
        #expect(status == 128 + signal, "\(cli.stdout)\n\(cli.stderr)")
        #expect(cli.stdout.contains("stopped by \(Self.name(signal)) after generation"), "\(cli.stdout)")
        #expect(Self.fileExists(best + ".checkpoint.json"))
        #expect(try NeuraxonNetwork.load(contentsOf: best).neuronCount > 0)
    }

    @Test("evolve: a second signal quits at once, with the status of the first")
    func evolveSecondSignalQuits() throws {
        let folder = CLI.folder()
        let cli = try BackgroundCLI(["evolve", "--task", "avoid", "--population", "64", "--generations", "1000", "--trials", "4",
                                     "--episode", "60", "--workers", "1", "-o", folder + "/best.json"])
        #expect(cli.waitUntil { cli.stdout.contains("evolving ") }, "\(cli.stdout)\n\(cli.stderr)")
        cli.send(SIGTERM)
        #expect(cli.waitUntil(seconds: 10) { cli.stderr.contains("SIGTERM again to quit now") }, "\(cli.stderr)")
        let sent = Date()
        cli.send(SIGINT)
        let status = cli.exitStatus(within: 30)
        #expect(status == 128 + SIGTERM, "\(cli.stdout)\n\(cli.stderr)")
        // a generation of 64 genomes × 4 trials of 60 s takes far longer than this
        #expect(Date().timeIntervalSince(sent) < 10)
    }
}
