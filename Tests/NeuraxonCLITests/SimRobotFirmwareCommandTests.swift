import Foundation
import Testing

/// `neuraxon sim --robot R --through-firmware …` runs R's own firmware builds, and refuses
/// missing ones naming the `make` command for R.
@Suite struct SimRobotFirmwareCommandTests {
    static let repository = URL(fileURLWithPath: SimCommandTests.firmwareFolder).deletingLastPathComponent().path

    @Test("sim --robot sonar-mega --through-firmware library runs the sonar Mega's library, the direct run's metrics, and names a missing build")
    func theRobotsOwnLibrary() throws {
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/make")
        make.arguments = ["-s", "-C", SimCommandTests.firmwareFolder, "ROBOT=robots/sonar-mega.yaml", "host-lib"]
        try make.run()
        make.waitUntilExit()
        try #require(make.terminationStatus == 0, "make -C Firmware ROBOT=robots/sonar-mega.yaml host-lib failed")

        let arguments = ["sim", "--robot", "sonar-mega", "--network", "sonar-scan", "--duration", "3", "--json"]
        let direct = try CLI.run(arguments, folder: Self.repository)
        let through = try CLI.run(arguments + ["--through-firmware", "library"], folder: Self.repository)
        #expect(direct.status == 0 && through.status == 0, "\(direct.stderr)\(through.stderr)")
        #expect(through.stdout.contains("Firmware/build/robots/sonar-mega/host/libneuraxon-firmware.so"), "\(through.stdout)")
        func metrics(_ text: String) throws -> NSDictionary {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            for key in ["through_firmware", "commands_sent"] { object[key] = nil }
            return NSDictionary(dictionary: object)
        }
        #expect(try metrics(through.stdout) == metrics(direct.stdout), "library \(through.stdout)\ndirect \(direct.stdout)")

        let empty = CLI.folder()
        for (choice, target) in [("library", "host-lib"), ("host", "host"), ("avr", "sim avr")] {
            let missing = try CLI.run(["sim", "--robot", "sonar-mega", "--network", "sonar-scan", "--duration", "1",
                                       "--through-firmware", choice], folder: empty)
            #expect(missing.status == 69, "\(missing.stderr)")
            #expect(missing.stderr.contains("Firmware/build/robots/sonar-mega/"), "\(missing.stderr)")
            #expect(missing.stderr.contains("`make -C Firmware ROBOT=robots/sonar-mega.yaml \(target)`"), "\(missing.stderr)")
        }
    }
}
