import Foundation
import NeuraxonTransport
import Testing

/// `neuraxon robot check` and `neuraxon robot info`, run as a user runs them.
@Suite("neuraxon robot")
struct RobotCommandTests {
    static let robots = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Firmware/robots").standardized.path

    static func json(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    /// name, kind, unit, minimum, maximum and safe of each channel of a `--json` report.
    static func channels(_ object: [String: Any]?, _ group: String) -> [String] {
        ((object?[group] as? [[String: Any]]) ?? []).map { c in
            ["name", "kind", "unit", "minimum", "maximum", "safe"].map { "\(c[$0] ?? "-")" }.joined(separator: " ")
        }
    }

    @Test("check: a good description exits 0 with its board and every channel by index, name, kind, unit, range and safe value")
    func checkGood() throws {
        let file = Self.robots + "/reference.yaml"
        let result = try CLI.run(["robot", "check", file])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("robot reference on atmega328p (Arduino Uno (ATmega328P))"), "\(result.stdout)")
        #expect(result.stdout.contains("sensor 0 range_left: analog, mV, 0…5000"), "\(result.stdout)")
        #expect(result.stdout.contains("sensor 5 wheel_left: encoder, ticks, -32768…32767"), "\(result.stdout)")
        #expect(result.stdout.contains("actuator 2 servo: servo, °, 0…180, safe 90"), "\(result.stdout)")
        #expect(result.stdout.contains("good: 7 sensor and 3 actuator channels"), "\(result.stdout)")
    }

    @Test("check: every shipped robot passes")
    func checkShipped() throws {
        for name in ["reference", "line-follower", "sonar-mega"] {
            let result = try CLI.run(["robot", "check", Self.robots + "/\(name).yaml"])
            #expect(result.status == 0, "\(name): \(result.stderr)")
        }
    }

    @Test("check: a wrong description exits 65 with every problem as FILE:LINE: message naming the fix")
    func checkBad() throws {
        let folder = CLI.folder()
        let text = try String(contentsOfFile: Self.robots + "/tests/every-problem.yaml", encoding: .utf8)
        try text.write(toFile: folder + "/robot.yaml", atomically: true, encoding: .utf8)
        let result = try CLI.run(["robot", "check", "robot.yaml"], folder: folder)
        #expect(result.status == 65, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("the robot description has 2 problems"), "\(result.stderr)")
        #expect(result.stderr.contains("robot.yaml:10: sensor 'range' 'pin' is D8, which has no analog input: use one of A0, A1"),
                "\(result.stderr)")
        #expect(result.stderr.contains("robot.yaml:24: actuator 'motor' 'pwm' is D8, which has no PWM output: use one of D5, D6, D9, D10"),
                "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("check: a pin used twice names the line that took it first")
    func checkPinTwice() throws {
        let result = try CLI.run(["robot", "check", Self.robots + "/tests/pin-used-twice.yaml"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("pin-used-twice.yaml:25: actuator 'motor' 'in1' is D4, already used by sensor 'bumper' on line 13"),
                "\(result.stderr)")
    }

    @Test("check: a missing file exits 66")
    func checkMissing() throws {
        let result = try CLI.run(["robot", "check", "/nonexistent/robot.yaml"])
        #expect(result.status == 66, "\(result.stderr)")
        #expect(result.stderr.contains("/nonexistent/robot.yaml: cannot read the description: no such file"), "\(result.stderr)")
    }

    @Test("info FILE: what a board built from the description reports, as text and JSON")
    func infoFile() throws {
        let file = Self.robots + "/sonar-mega.yaml"
        let text = try CLI.run(["robot", "info", file])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("sensor 0 sonar: analog, mm, 0…4000 (ultrasonic, trigger D22, echo D18, timeout 25000 µs)"), "\(text.stdout)")
        let result = try CLI.run(["robot", "info", file, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(Self.json(result.stdout), "\(result.stdout)")
        #expect(object["mcu"] as? String == "atmega2560 (Arduino Mega 2560 (ATmega2560))")
        #expect(Self.channels(object, "sensors").first == "sonar analog mm 0 4000 -")
        #expect(Self.channels(object, "actuators").filter { $0.contains(" motor ") }.count == 4)
        let period = try #require(object["period_ms"] as? [String: Any])
        #expect((period["min"] as? Int ?? 0) >= 26, "a ping of 25 ms and the gap")
    }

    @Test("info PORT: the host-built firmware over a pty declares the reference description's channels, by name")
    func infoPort() throws {
        let firmwarePath = try #require(StopSignalTests.hostFirmware, "make -C Firmware host failed")
        let firmware = try FirmwareProcess(executable: firmwarePath)
        defer { firmware.quit() }
        let board = try CLI.run(["robot", "info", firmware.path, "--json"], timeout: 120)
        #expect(board.status == 0, "\(board.stderr)")
        let object = try #require(Self.json(board.stdout), "\(board.stdout)")
        #expect(object["protocol_version"] as? Int == 2)
        #expect(object["board"] as? String == "neuraxon-host")
        let file = try CLI.run(["robot", "info", Self.robots + "/reference.yaml", "--json"])
        let described = Self.json(file.stdout)
        #expect(Self.channels(object, "sensors") == Self.channels(described, "sensors"))
        #expect(Self.channels(object, "actuators") == Self.channels(described, "actuators"))
        #expect(Self.channels(object, "sensors").first == "range_left analog mV 0 5000 -")
    }

    @Test("info PORT: the host firmware built from the line follower and the sonar Mega declares each description's channels",
          arguments: ["line-follower", "sonar-mega"])
    func infoPortOtherRobots(robot: String) throws {
        let built = try FirmwareProcess.build(in: StopSignalTests.firmwareFolder, targets: ["host", "ROBOT=robots/\(robot).yaml"],
                                              products: ["build/robots/\(robot)/host/neuraxon-firmware"])
        let firmware = try FirmwareProcess(executable: built[0])
        defer { firmware.quit() }
        let board = try CLI.run(["robot", "info", firmware.path, "--json"], timeout: 120)
        #expect(board.status == 0, "\(board.stderr)")
        let object = Self.json(board.stdout)
        let described = Self.json(try CLI.run(["robot", "info", Self.robots + "/\(robot).yaml", "--json"]).stdout)
        #expect(!Self.channels(object, "sensors").isEmpty)
        #expect(Self.channels(object, "sensors") == Self.channels(described, "sensors"), "\(board.stdout)")
        #expect(Self.channels(object, "actuators") == Self.channels(described, "actuators"), "\(board.stdout)")
    }

    @Test("info PORT: link options the board cannot take (a mask beyond its sensors) do not hide what it declares")
    func infoPortOptionsThatDoNotFit() throws {
        let firmwarePath = try #require(StopSignalTests.hostFirmware, "make -C Firmware host failed")
        let firmware = try FirmwareProcess(executable: firmwarePath)
        defer { firmware.quit() }
        let result = try CLI.run(["robot", "info", firmware.path, "--mask", "0xff80"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("sensor 6 wheel_right: encoder, ticks, -32768…32767"), "\(result.stdout)")
    }

    @Test("info PORT: a version-1 session has no names, shown as (unnamed)")
    func infoPortVersion1() throws {
        let firmwarePath = try #require(StopSignalTests.hostFirmware, "make -C Firmware host failed")
        let firmware = try FirmwareProcess(executable: firmwarePath)
        defer { firmware.quit() }
        let result = try CLI.run(["robot", "info", "--port", firmware.path, "--protocol", "1"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("protocol version 1"), "\(result.stdout)")
        #expect(result.stdout.contains("sensor 0 (unnamed): analog, mV, 0…5000"), "\(result.stdout)")
        #expect(result.stdout.contains("actuator 2 (unnamed): servo, °, 0…180, safe 90"), "\(result.stdout)")
    }
}
