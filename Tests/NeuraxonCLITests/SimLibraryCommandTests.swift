import Foundation
import Testing

/// `neuraxon sim --through-firmware library`: the firmware loaded into the process, its run the
/// direct run's.
@Suite struct SimLibraryCommandTests {
    /// Builds the firmware library (`make -C Firmware host-lib`), once.
    static let built: Bool = {
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/make")
        make.arguments = ["-s", "-C", SimCommandTests.firmwareFolder, "host-lib"]
        guard (try? make.run()) != nil else { return false }
        make.waitUntilExit()
        return make.terminationStatus == 0
    }()

    /// The summary equals the run over the pty's, field for field, and the direct run's but for
    /// the final safe command, which a firmware body sends to the firmware, not to the world.
    @Test("sim --through-firmware library prints the pty run's and the direct run's metrics, and names a missing library")
    func throughTheFirmwareLibrary() throws {
        try #require(Self.built, "make -C Firmware host-lib failed")
        let firmware = SimCommandTests.firmwareFolder + "/build/host/"
        let environment = ["NEURAXON_FIRMWARE_LIB": firmware + "libneuraxon-firmware.so", "NEURAXON_FIRMWARE": firmware + "neuraxon-firmware"]
        let direct = try CLI.run(["sim", "--duration", "3", "--json"])
        let pty = try CLI.run(["sim", "--through-firmware", "host", "--duration", "3", "--json"], environment: environment)
        let through = try CLI.run(["sim", "--through-firmware", "library", "--duration", "3", "--json"], environment: environment)
        #expect(direct.status == 0 && pty.status == 0 && through.status == 0, "\(pty.stderr)\(through.stderr)")
        func metrics(_ text: String, dropping: [String] = []) throws -> NSDictionary {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            for key in ["through_firmware"] + dropping { object[key] = nil }
            return NSDictionary(dictionary: object)
        }
        #expect(try metrics(through.stdout) == metrics(pty.stdout), "library \(through.stdout)\npty \(pty.stdout)")
        #expect(try metrics(through.stdout, dropping: ["commands_sent"]) == metrics(direct.stdout, dropping: ["commands_sent"]),
                "library \(through.stdout)\ndirect \(direct.stdout)")
        #expect(through.stdout.contains("firmware library"), "\(through.stdout)")

        let folder = CLI.folder()
        let missing = try CLI.run(["sim", "--through-firmware", "library", "--duration", "1"],
                                  environment: ["NEURAXON_FIRMWARE_LIB": folder + "/missing.so"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no firmware library at \(folder)/missing.so: build it with `make -C Firmware host-lib`"), "\(missing.stderr)")
    }
}
