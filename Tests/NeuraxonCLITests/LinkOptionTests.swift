import Foundation
import NeuraxonTransport
import Testing

/// The link options every command that opens a board shares (`LinkArguments`), against the
/// host-built firmware over a real pseudo-terminal.
@Suite("Link options: protocol version, line speed, sensor mask", .serialized)
struct LinkOptionTests {
    @Test("probe prints the board's own channel names; --protocol 1 gets none and says the names are the host's")
    func protocolVersion() throws {
        let firmwarePath = try #require(StopSignalTests.hostFirmware, "make -C Firmware host failed")
        let firmware = try FirmwareProcess(executable: firmwarePath)
        defer { firmware.quit() }
        let v2 = try CLI.run(["probe", "--port", firmware.path, "--pings", "0", "--duration", "0.2"])
        #expect(v2.status == 0, "\(v2.stderr)")
        #expect(v2.stdout.contains("sensor 0 range_left: analog 0…5000 mV"), "\(v2.stdout)")
        #expect(!v2.stdout.contains("names below are the host's"), "\(v2.stdout)")

        let v1 = try CLI.run(["probe", "--port", firmware.path, "--pings", "0", "--duration", "0.2", "--protocol", "1", "--json"])
        #expect(v1.status == 0, "\(v1.stderr)")
        let object = try #require(CommandLineTests.json(v1.stdout) as? [String: Any], "\(v1.stdout)")
        #expect(object["channels_named_by"] as? String == "host")
        let names = (object["sensors"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names?.first == "range_left", "a version-1 board shaped like the reference robot takes its names")
    }

    @Test("--line-baud raises the line after the handshake and the stream goes on at the new speed")
    func lineBaud() throws {
        let firmwarePath = try #require(StopSignalTests.hostFirmware, "make -C Firmware host failed")
        let firmware = try FirmwareProcess(executable: firmwarePath)
        defer { firmware.quit() }
        let result = try CLI.run(["probe", "--port", firmware.path, "--pings", "5", "--duration", "0.3", "--line-baud", "1000000"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("line raised to 1000000 baud"), "\(result.stdout)")
        #expect(result.stdout.contains("round trip over 5 PINGs (5 answered)"), "\(result.stdout)")
    }

    @Test("impossible link options are refused before any port is opened, naming the fix")
    func refused() throws {
        for (arguments, fragment) in [
            (["--protocol", "3"], "--protocol 3 is not a version this host speaks: use 1…2"),
            (["--line-baud", "1000000", "--protocol", "1"], "--line-baud needs protocol version 2"),
            (["--line-baud", "0"], "--line-baud 0 is not a line speed"),
            (["--mask", "most"], "--mask must be all or a number"),
        ] {
            let result = try CLI.run(["probe", "--port", "/nonexistent/tty"] + arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(fragment), "\(arguments): \(result.stderr)")
        }
    }
}
