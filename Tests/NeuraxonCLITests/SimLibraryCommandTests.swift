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

    @Test("sim --through-firmware library prints the direct run's metrics, and names a missing library")
    func throughTheFirmwareLibrary() throws {
        try #require(Self.built, "make -C Firmware host-lib failed")
        let library = SimCommandTests.firmwareFolder + "/build/host/libneuraxon-firmware.so"
        let direct = try CLI.run(["sim", "--duration", "3", "--json"])
        let through = try CLI.run(["sim", "--through-firmware", "library", "--duration", "3", "--json"],
                                  environment: ["NEURAXON_FIRMWARE_LIB": library])
        #expect(direct.status == 0 && through.status == 0, "\(through.stderr)")
        func metrics(_ text: String) throws -> [String: Any] {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            for key in ["through_firmware", "wall_s", "speed", "start_time"] { object[key] = nil }
            return object
        }
        let a = try metrics(direct.stdout), b = try metrics(through.stdout)
        #expect(NSDictionary(dictionary: a).isEqual(to: b), "direct \(a)\nlibrary \(b)")
        #expect(through.stdout.contains("firmware library"), "\(through.stdout)")

        let folder = CLI.folder()
        let missing = try CLI.run(["sim", "--through-firmware", "library", "--duration", "1"],
                                  environment: ["NEURAXON_FIRMWARE_LIB": folder + "/missing.so"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no firmware library at \(folder)/missing.so: build it with `make -C Firmware host-lib`"), "\(missing.stderr)")
    }
}
