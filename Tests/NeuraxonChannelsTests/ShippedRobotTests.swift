import Foundation
import NeuraxonChannels
import Testing

@Suite("The shipped robot descriptions")
struct ShippedRobotTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Firmware/robots").standardized.path

    @Test("the reference robot declares the channels its firmware has always had, in order")
    func reference() throws {
        let robot = try RobotDescription.load(path: Self.folder + "/reference.yaml")
        #expect(robot.board == .atmega328p)
        #expect(robot.sensorChannels.map(\.name) == ["range_left", "range_right", "light_left", "light_right", "bumper", "wheel_left", "wheel_right"])
        #expect(robot.actuatorChannels.map(\.name) == ["motor_left", "motor_right", "servo"])
        #expect(robot.actuatorChannels[2] == ChannelDescriptor(name: "servo", kind: .servo, unit: .degree, minimum: 0, maximum: 180, safe: 90))
    }

    @Test("a reflectance array is one channel per pin; a ranger is analog in millimetres")
    func expansion() throws {
        let line = try RobotDescription.load(path: Self.folder + "/line-follower.yaml")
        #expect(line.sensorChannels.prefix(5).map(\.name) == ["line_0", "line_1", "line_2", "line_3", "line_4"])
        let sonar = try RobotDescription.load(path: Self.folder + "/sonar-mega.yaml")
        #expect(sonar.board == .atmega2560)
        #expect(sonar.sensorChannels[0] == ChannelDescriptor(name: "sonar", kind: .analog, unit: .millimetre, minimum: 0, maximum: 4000))
        #expect(sonar.actuatorChannels.filter { $0.kind == .motor }.count == 4)
    }
}

@Suite("The descriptions the binary carries")
struct EmbeddedRobotTests {
    @Test("every file in Firmware/robots is embedded, word for word (run scripts/embed-robots.py after a change)")
    func embeddedMatchesFiles() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: ShippedRobotTests.folder).filter { $0.hasSuffix(".yaml") }
        #expect(Set(files.map { String($0.dropLast(5)) }) == Set(RobotDescription.shippedNames))
        for file in files {
            let text = try String(contentsOfFile: ShippedRobotTests.folder + "/" + file, encoding: .utf8)
            #expect(RobotDescription.shippedText[String(file.dropLast(5))] == text, "\(file) differs from its embedded copy")
        }
    }

    @Test("each shipped robot loads from its embedded text as from its file")
    func embeddedLoads() throws {
        for name in RobotDescription.shippedNames {
            let embedded = try #require(RobotDescription.shipped(name))
            #expect(embedded == (try RobotDescription.load(path: ShippedRobotTests.folder + "/\(name).yaml")))
        }
        #expect(RobotDescription.reference.robot == "reference")
    }
}
