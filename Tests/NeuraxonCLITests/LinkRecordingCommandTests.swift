import Foundation
import Testing

/// A simulated run through the host-built firmware records its serial link: link lines about
/// once a second and the board's report of the final STOP, in JSON Lines and directly in MCAP,
/// read by the independent `mcap` reader; `log info` tells what replay leaves out.
@Suite(.serialized) struct LinkRecordingCommandTests {
    /// Builds the host firmware (`make -C Firmware host`), once.
    static let built: Bool = {
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/make")
        make.arguments = ["-s", "-C", SimCommandTests.firmwareFolder, "host"]
        guard (try? make.run()) != nil else { return false }
        make.waitUntilExit()
        return make.terminationStatus == 0
    }()

    @Test("sim --through-firmware host records link lines and the board's failsafe report; --record run.mcap holds the same on /neuraxon/link_status and /neuraxon/events")
    func simThroughTheHostFirmware() throws {
        try #require(Self.built, "make -C Firmware host failed")
        let environment = ["NEURAXON_FIRMWARE": SimCommandTests.firmwareFolder + "/build/host/neuraxon-firmware"]
        let dir = CLI.folder()
        let jsonl = try CLI.run(["sim", "--through-firmware", "host", "--duration", "3", "--record", "run.jsonl"], folder: dir, environment: environment)
        #expect(jsonl.status == 0, "\(jsonl.stderr)")
        let text = try String(contentsOfFile: dir + "/run.jsonl", encoding: .utf8)
        let links = text.split(separator: "\n").filter { $0.hasPrefix("{\"type\":\"link\"") }
        // At the first frame, then once per simulated second: 3 or 4 in 3 s.
        #expect(links.count >= 3 && links.count <= 4, "\(links.count) link lines")
        #expect(text.contains("\"event\":\"failsafe\"") && text.contains("\"failsafe\":\"stopped\""))

        let info = try CLI.run(["log", "info", "run.jsonl"], folder: dir)
        #expect(info.status == 0)
        #expect(info.stdout.contains("events:        1 failsafe"), "\(info.stdout)")
        #expect(info.stdout.contains("replay:        does not re-apply failsafe, link"), "\(info.stdout)")
        let infoJSON = try CLI.run(["log", "info", "--json", "run.jsonl"], folder: dir)
        let object = try JSONSerialization.jsonObject(with: Data(infoJSON.stdout.utf8)) as? [String: Any]
        #expect(object?["link_records"] as? Int == links.count)
        #expect(object?["not_replayed"] as? [String] == ["failsafe", "link"])
        let replay = try CLI.run(["replay", "run.jsonl"], folder: dir)
        #expect(replay.stdout.contains("every input trit, output trit and setpoint equals the recording"), "\(replay.stdout)")
        #expect(try CLI.run(["log", "export", "--format", "csv", "run.jsonl", "-o", "run.csv"], folder: dir).status == 0)

        // The same run recorded straight to MCAP: lockstep makes it the same run, but for wall-clock fields.
        let mcap = try CLI.run(["sim", "--through-firmware", "host", "--duration", "3", "--record", "run.mcap"], folder: dir, environment: environment)
        #expect(mcap.status == 0, "\(mcap.stderr)")
        let check = try MCAPCommandTests.pythonCheck(dir + "/run.mcap", dir + "/run.jsonl", otherRun: true)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("ok: \(links.count) link status messages equal the recording"), "\(check.output)")
    }
}
