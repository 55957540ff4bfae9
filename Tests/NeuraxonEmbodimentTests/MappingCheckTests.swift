import Neuraxon
@testable import NeuraxonEmbodiment
import Foundation
import Testing

/// What a mapping can be checked for before a board is opened, and its warnings.
@Suite struct MappingCheckTests {
    static func file(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mapping-\(UUID().uuidString.prefix(8)).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("Neuron numbers are checked against the network's sizes without a board; channel names wait for the board")
    func sizesBeforeBoard() throws {
        let yaml = """
            sensors:
              - {channel: some_sensor_the_board_will_name, neuron: 4}
            actuators:
              - {channel: motor_left, push: 0, pull: 1}
            """
        let path = try Self.file(yaml)
        #expect(try Mapping.check(contentsOf: path, inputCount: 5, outputCount: 2).isEmpty)
        do {
            try Mapping.check(contentsOf: path, inputCount: 4, outputCount: 2)
            Issue.record("neuron 4 of a 4-input network was accepted")
        } catch let error as MappingError {
            #expect(error.line == 2)
            #expect(error.message.contains("`neuron` is 4; it must lie in 0…3"), "\(error)")
        }
        // The same file, with the board's channels, is refused for the unknown channel.
        #expect(throws: MappingError.self) {
            try Mapping(contentsOf: path, device: .referenceRobot, inputCount: 5, outputCount: 2)
        }
    }

    @Test("Two entries for one actuator are refused before the board too")
    func duplicatesBeforeBoard() throws {
        let path = try Self.file("""
            actuators:
              - {channel: motor_left, push: 0, pull: 1}
              - {channel: motor_left, push: 2, pull: 3}
            """)
        #expect(throws: MappingError.self) { try Mapping.check(contentsOf: path, inputCount: 5, outputCount: 4) }
    }

    @Test("An empty mapping warns that nothing drives the robot and that the network hears nothing")
    func emptyWarns() throws {
        let empty = try Mapping(yaml: "", device: .referenceRobot, inputCount: 5, outputCount: 5)
        #expect(empty.warnings.count == 2)
        #expect(empty.warnings[0].contains("nothing will move the robot"))
        #expect(try Mapping.check(contentsOf: try Self.file("# nothing\n"), inputCount: 5, outputCount: 5) == empty.warnings)
    }
}
