import ArgumentParser
import Foundation
import Glibc
import Neuraxon
import NeuraxonChannels
import NeuraxonEmbodiment
import NeuraxonProtocol
import NeuraxonTransport

/// `neuraxon bench loop`: the closed loop's figures in Docs/PERFORMANCE.md, measured against the
/// host-built firmware over a pseudo-terminal.
struct BenchLoopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loop",
        abstract: "A sustained closed loop against the host-built firmware, and the loop's own cost per tick.",
        discussion: "First the loop's own cost in process: 20,000 frames of a scripted body through a ControlLoop "
            + "with a network whose step costs nothing (EmbodimentBenchmarks.loop). Then it starts the host build of "
            + "the firmware (make -C Firmware host), connects through its pseudo-terminal at the reference robot's "
            + "shortest sampling period (its description's period_min_ms; --period to choose another), "
            + "and runs the full loop (SerialRobotBody → encoders → network → decoders → COMMAND, every tick recorded) "
            + "for --duration seconds of firmware time: first with the 30-neuron network, then with a network whose step costs "
            + "nothing, which leaves the loop's own cost per tick over a real link (sensor frame received → command "
            + "written). A missed tick is a frame lost on the link (sequence gap), a sample the board could not take "
            + "on time (its loop_overruns), or a command that left after the next frame was due. Targets: no missed "
            + "ticks at the board's shortest period; loop overhead p99 ≤ 50 µs."
    )

    @Option(help: "The host-built firmware executable.")
    var firmware: String = "Firmware/build/host/neuraxon-firmware"

    @Option(name: .customLong("duration"), parsing: .unconditional, help: "Seconds of firmware time per run.")
    var seconds: Double = 10

    @Option(help: "The board's sampling period in ms (default: the reference robot's shortest).")
    var period: Int = RobotDescription.reference.periodMinMilliseconds

    @Option(help: "A network file to drive the loop (default: the `flowing` preset, 5/20/5 = 30 neurons, seed 1).")
    var network: String?

    @Flag(help: "Do not record the ticks.")
    var noRecord = false

    func validate() throws {
        guard access(firmware, X_OK) == 0 else {
            throw ValidationError("no firmware executable at \(firmware): build it with `make -C Firmware host` "
                + "or pass --firmware PATH")
        }
        guard seconds >= 0.5 && seconds <= 3600 else { throw ValidationError("--duration must be 0.5…3600 seconds") }
        guard (1...1000).contains(period) else { throw ValidationError("--period must be 1…1000 ms") }
    }

    func run() throws {
        let net: NeuraxonNetwork
        let name: String
        if let network {
            net = try loadNetwork(network).network
            name = network
        } else {
            net = try NetworkPreset.flowing.build(seed: 1)
            name = "flowing preset, seed 1"
        }
        let scriptedPath = NSTemporaryDirectory() + "neuraxon-bench-loop-scripted-\(getpid()).jsonl"
        defer { unlink(scriptedPath) }
        print("in process (ScriptedBody, IdleNetwork, recording on): "
            + (try EmbodimentBenchmarks.loop(ticks: 20_000, recordingPath: scriptedPath)).description)
        print("sampling period: \(period) ms (\(String(format: "%g", 1000 / Double(period))) Hz)")
        print("network: \(name), \(net.neuronCount) neurons (\(net.inputCount) in, \(net.outputCount) out), "
            + "\(net.synapseCount) synapses, dt \(net.dt) ms")
        let full = try measure(net)
        print("with the network: " + full.describe(period: period))
        let idle = try measure(IdleNetwork(inputCount: net.inputCount, outputCount: net.outputCount, dt: net.dt))
        print("network excluded: " + idle.describe(period: period))
        print(String(format: "loop overhead per tick (network excluded, frame received → command written): p50 %.0f µs, "
            + "p99 %.0f µs, max %.0f µs (target p99 ≤ 50 µs)", idle.p50, idle.p99, idle.max))
    }

    struct Result {
        var ticks: Int
        var expected: Int
        var rate: Double
        var dropped: UInt64
        var boardMissed: UInt32?
        var late: Int
        var overruns: Int
        var recordDrops: Int
        var p50: Double
        var p99: Double
        var max: Double

        var missed: Int { Int(dropped) + Int(boardMissed ?? 0) + late }

        func describe(period: Int) -> String {
            String(format: "%d ticks (expected %d) at %.1f Hz; missed %d (frames dropped %d, samples the board missed %@, "
                + "late ticks %d); overruns %d, records dropped %d; sensor-to-command latency p50 %.0f µs, p99 %.0f µs, "
                + "max %.0f µs", ticks, expected, rate, missed, dropped, boardMissed.map { "\($0)" } ?? "unknown",
                late, overruns, recordDrops, p50, p99, max)
        }
    }

    private func measure<N: ControlledNetwork>(_ network: N) throws -> Result {
        let board = try FirmwareProcess(executable: firmware, keepsLines: false)
        var options = SessionOptions(selector: .path(board.path),
                                     config: LinkConfig(periodMilliseconds: UInt16(period), failsafeMilliseconds: 100))
        options.monitor = nil
        options.reconnect = false
        let body = try SerialRobotBody(options: options)
        let mapping = try Mapping(yaml: referenceMappingYAML, device: body.device,
                                  inputCount: network.inputCount, outputCount: network.outputCount)
        let recordingPath = NSTemporaryDirectory() + "neuraxon-bench-loop-\(getpid()).jsonl"
        let recorder = noRecord ? nil : try Recorder(
            path: recordingPath, header: RecordingHeader(mapping: mapping, network: NetworkIdentity(), dtMillis: network.dt))
        let loop = try ControlLoop(body: body, network: network, mapping: mapping, recorder: recorder,
                                   linkLossPolicy: .end, durationMicros: UInt64(seconds * 1e6))
        loop.start()
        let reason = loop.wait()
        defer { unlink(recordingPath) }
        board.quit()
        guard reason == .durationReached else { throw CommandError(ExitStatus.failure, "the run ended early: \(reason)") }
        let s = loop.status()
        return Result(ticks: s.counters.ticks, expected: Int(seconds * 1000) / period + 1, rate: s.rate,
                      dropped: body.link.counters.droppedFrames, boardMissed: body.finalStatus?.loopOverruns,
                      late: s.counters.lateTicks, overruns: s.counters.overruns, recordDrops: s.counters.recordDrops,
                      p50: s.latency.quantileMicros(0.5), p99: s.latency.quantileMicros(0.99),
                      max: Double(s.latency.maximumNanos) / 1000)
    }
}
