import Foundation
import Glibc
import NeuraxonTransport
import Testing

/// One command line: the same link options and limits everywhere, one name for run length,
/// `--json` where a script reads the result, `--version`.
@Suite struct CommandLineTests {
    static func json(_ text: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    @Test("--version prints the one version string")
    func version() throws {
        let result = try CLI.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("neuraxon 0."), "\(result.stdout)")
        #expect(result.stdout.contains("protocol version 1"), "\(result.stdout)")
    }

    @Test("probe, run and bench link refuse a failsafe outside the protocol's 10…250 ms before opening any port",
          arguments: [["probe"], ["run", "--network", "n.json", "--mapping", "m.yaml"], ["bench", "link"]])
    func failsafeLimits(command: [String]) throws {
        for (value, fine) in [("9", false), ("10", true), ("250", true), ("251", false), ("1000", false)] {
            // A port that does not exist: a refusal about it would mean the port was tried first.
            let result = try CLI.run(command + ["--port", "/nonexistent/tty", "--failsafe", value, "--period", "5"])
            if fine {
                #expect(!result.stderr.contains("outside 10…250 ms"), "\(command) \(value): \(result.stderr)")
            } else {
                #expect(result.status == 64, "\(command) \(value): \(result.status)")
                #expect(result.stderr.contains("--failsafe \(value) is outside 10…250 ms, the protocol's range"), "\(result.stderr)")
            }
        }
        let slow = try CLI.run(command + ["--port", "/nonexistent/tty", "--failsafe", "20", "--period", "20"])
        #expect(slow.status == 64)
        #expect(slow.stderr.contains("--failsafe (20 ms) must be longer than --period (20 ms)"), "\(slow.stderr)")
        let both = try CLI.run(command + ["--port", "/dev/ttyACM0", "--board", "auto"])
        #expect(both.status == 64)
        #expect(both.stderr.contains("give --port or --board, not both"), "\(both.stderr)")
    }

    @Test("probe, run and bench link show the same link options with the same defaults")
    func sameLinkOptions() throws {
        var sections: [String] = []
        for command in [["probe"], ["run"], ["bench", "link"]] {
            let help = try CLI.run(command + ["--help"])
            // the group's help, from --port to --handshake-timeout, word for word
            let text = help.stdout
            let from = try #require(text.range(of: "  --port <port>"), "\(command): \(text)")
            let to = try #require(text.range(of: "  --handshake-timeout"), "\(command): \(text)")
            let block = String(text[from.lowerBound..<to.lowerBound])
            #expect(help.stdout.contains("--period <period>"), "\(command)")
            #expect(help.stdout.contains("(default: 10)"), "\(command): \(help.stdout)")
            #expect(help.stdout.contains("(default: 100)"), "\(command): \(help.stdout)")
            #expect(help.stdout.contains("(default: 115200)"), "\(command): \(help.stdout)")
            sections.append(block)
        }
        #expect(Set(sections).count == 1, "\(sections)")
    }

    @Test("run length is --duration in seconds in every command that has one")
    func durationEverywhere() throws {
        for command in [["sim"], ["run"], ["probe"], ["bench", "link"], ["bench", "loop"], ["bench", "sim"], ["bench", "replay"]] {
            let help = try CLI.run(command + ["--help"])
            #expect(help.stdout.contains("--duration <duration>"), "\(command)")
            #expect(!help.stdout.contains("--seconds"), "\(command)")
        }
    }

    @Test("replay --rate is a pace (a multiple of real time); bench replay's frame rate is --frequency in Hz")
    func rateMeansOneThing() throws {
        let replay = try CLI.run(["replay", "--help"])
        #expect(replay.stdout.contains("multiple of real time"), "\(replay.stdout)")
        let bench = try CLI.run(["bench", "replay", "--help"])
        #expect(!bench.stdout.contains("--rate <rate>"), "\(bench.stdout)")
        #expect(bench.stdout.contains("--frequency <frequency>"), "\(bench.stdout)")
    }

    @Test("sim --json prints the metrics file's fields; net info and log info --json print one object")
    func jsonOutputs() throws {
        let folder = CLI.folder()
        let recording = folder + "/run.jsonl"
        let sim = try CLI.run(["sim", "--duration", "1", "--record", recording, "--json"])
        #expect(sim.status == 0, "\(sim.stderr)")
        let metrics = try #require(Self.json(sim.stdout) as? [String: Any], "\(sim.stdout)")
        let written = try #require(Self.json(try String(contentsOfFile: recording + ".metrics.json", encoding: .utf8)) as? [String: Any])
        #expect(Set(metrics.keys) == Set(written.keys))
        #expect(metrics["ticks"] as? Int == written["ticks"] as? Int)
        #expect(metrics["end_reason"] as? String == "duration reached" || metrics["end_reason"] as? String == written["end_reason"] as? String)
        #expect(sim.stderr.contains("replay it with"), "\(sim.stderr)")

        let info = try CLI.run(["log", "info", recording, "--json"])
        #expect(info.status == 0, "\(info.stderr)")
        let log = try #require(Self.json(info.stdout) as? [String: Any], "\(info.stdout)")
        #expect(log["ticks"] as? Int == written["ticks"] as? Int)
        #expect(log["end"] as? String == "complete")
        #expect(log["recorded_ticks"] as? Int == written["ticks"] as? Int)

        let net = try CLI.run(["net", "info", recording + ".network.json", "--json"])
        #expect(net.status == 0, "\(net.stderr)")
        let object = try #require(Self.json(net.stdout) as? [String: Any], "\(net.stdout)")
        let neurons = object["neurons"] as? [String: Any]
        #expect((neurons?["input"] as? Int ?? 0) > 0)
        #expect(object["health"] is [Any])

        let devices = try CLI.run(["devices", "--json"])
        #expect(devices.status == 0, "\(devices.stderr)")
        #expect(Self.json(devices.stdout) is [Any], "\(devices.stdout)")
    }

    @Test("probe --json against the host-built firmware prints one object with the device, round trips and counters")
    func probeJSON() throws {
        let firmwarePath = try #require(StopSignalTests.hostFirmware, "make -C Firmware host failed")
        let firmware = try FirmwareProcess(executable: firmwarePath)
        defer { firmware.quit() }
        let result = try CLI.run(["probe", "--port", firmware.path, "--pings", "20", "--duration", "0.5", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(Self.json(result.stdout) as? [String: Any], "\(result.stdout)")
        #expect(object["board"] as? String == "neuraxon-host")
        #expect((object["sensors"] as? [Any])?.count == 7)
        #expect((object["round_trip"] as? [String: Any])?["answered"] as? Int == 20)
        #expect(((object["stream"] as? [String: Any])?["frames"] as? Int ?? 0) > 0)
        #expect(object["stop_acknowledged"] as? Bool == true)
        #expect(result.stderr.contains("connected to neuraxon-host"), "\(result.stderr)")
    }

    @Test("bench loop runs with its defaults against the host firmware, at the reference robot's shortest period")
    func benchLoopDefaults() throws {
        let firmwarePath = try #require(StopSignalTests.hostFirmware, "make -C Firmware host failed")
        let result = try CLI.run(["bench", "loop", "--firmware", firmwarePath, "--duration", "0.5"], timeout: 300)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("sampling period: 4 ms (250 Hz)"), "\(result.stdout)")
        #expect(result.stdout.contains("with the network: ") && result.stdout.contains("network excluded: "), "\(result.stdout)")
        // A period shorter than the board can keep is refused with the board's range.
        let fast = try CLI.run(["bench", "loop", "--firmware", firmwarePath, "--duration", "0.5", "--period", "1"], timeout: 300)
        #expect(fast.status != 0)
        #expect(fast.stderr.contains("sampling period 1 ms is outside this board's 4...1000 ms"), "\(fast.stderr)")
    }

    @Test("run -o saves the network as plasticity left it, and refuses to overwrite its inputs")
    func runSavesNetwork() throws {
        let firmwarePath = try #require(StopSignalTests.hostFirmware, "make -C Firmware host failed")
        let folder = CLI.folder()
        let network = try StopSignalTests.seekNetwork(in: folder)
        let mapping = StopSignalTests.mappingFolder + "/seek.mapping.yaml"
        let refused = try CLI.run(["run", "--port", "/nonexistent/tty", "--network", network, "--mapping", mapping, "-o", network])
        #expect(refused.status == 73, "\(refused.stderr)")
        #expect(refused.stderr.contains("-o \(network) is the network file: writing it would destroy it"), "\(refused.stderr)")

        let firmware = try FirmwareProcess(executable: firmwarePath)
        defer { firmware.quit() }
        let saved = folder + "/after.json"
        let result = try CLI.run(["run", "--port", firmware.path, "--network", network, "--mapping", mapping,
                                  "--duration", "1", "--quiet", "-o", saved])
        #expect(result.status == 0, "\(result.stderr)")
        let before = try String(contentsOfFile: network, encoding: .utf8)
        let after = try String(contentsOfFile: saved, encoding: .utf8)
        #expect(before != after)
        #expect(result.stdout.contains("network saved to \(saved)"), "\(result.stdout)")
    }
}
