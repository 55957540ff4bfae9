import Foundation
import Testing

/// `neuraxon sim` through the real AVR build under emulation, and the recording it leaves.
@Suite struct SimCommandTests {
    static let firmwareFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Firmware").path

    /// Builds the AVR image and the harness (`make -C Firmware avr sim`), once.
    static let built: Bool = {
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/make")
        make.arguments = ["-s", "-C", firmwareFolder, "avr", "sim"]
        guard (try? make.run()) != nil else { return false }
        make.waitUntilExit()
        return make.terminationStatus == 0
    }()

    @Test("sim --through-firmware avr runs the emulated board, and its recording replays")
    func throughTheEmulatedAVR() throws {
        try #require(Self.built, "make -C Firmware avr sim failed")
        let folder = CLI.folder()
        let recording = folder + "/avr.jsonl"
        var environment = ["NEURAXON_AVR_HARNESS": Self.firmwareFolder + "/build/sim/nx-avr-harness",
                           "NEURAXON_AVR_ELF": Self.firmwareFolder + "/build/avr/neuraxon-uno.elf"]
        let run = try CLI.run(["sim", "--through-firmware", "avr", "--duration", "2", "--record", recording], environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("through the AVR firmware"), "\(run.stdout)")
        #expect(run.stdout.contains("simulated 2.0 s"), "\(run.stdout)")
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: recording + ".metrics.json"))) as? [String: Any]
        #expect((metrics?["through_firmware"] as? String)?.contains("AVR firmware") == true, "\(String(describing: metrics))")
        // the world runs until the firmware has stamped 2 s of frames: its first frame comes a few ms in
        #expect(abs((metrics?["simulated_s"] as? Double ?? 0) - 2) < 0.05, "\(String(describing: metrics))")
        #expect(metrics?["world"] as? String == "light" && metrics?["network"] as? String == "seek")
        #expect(run.stdout.contains("metrics: \(recording).metrics.json"))
        let replay = try CLI.run(["replay", recording])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.contains("every input trit, output trit and setpoint equals the recording"), "\(replay.stdout)")

        environment["NEURAXON_AVR_ELF"] = folder + "/missing.elf"
        let missing = try CLI.run(["sim", "--through-firmware", "avr", "--duration", "1"], environment: environment)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no AVR firmware at \(folder)/missing.elf: build it with `make -C Firmware avr`"), "\(missing.stderr)")
    }
}
