import Neuraxon
@testable import NeuraxonEmbodiment
import Testing

private func mapping(_ yaml: String, inputs: Int = 5, outputs: Int = 5) throws -> Mapping {
    try Mapping(yaml: yaml, device: .referenceRobot, inputCount: inputs, outputCount: outputs)
}

private func error(_ yaml: String, inputs: Int = 5, outputs: Int = 5) -> MappingError? {
    do {
        _ = try mapping(yaml, inputs: inputs, outputs: outputs)
        return nil
    } catch let e as MappingError {
        return e
    } catch {
        return MappingError(line: nil, "unexpected \(error)")
    }
}

@Suite struct MappingFileTests {
    @Test func aMinimalFileTakesItsDefaultsFromTheChannelList() throws {
        let m = try mapping("""
            sensors:
              - {channel: bumper, neuron: 0}
              - {channel: light_left, neuron: 1}
            actuators:
              - {channel: motor_left, neuron: 0}
            """)
        #expect(m.encoders.count == 2)
        #expect(m.encoders[0].mode == .digital)
        #expect(m.encoders[0].channelIndex == 4)
        // An analog channel is signed around the middle of its range, dead band 10 %, hysteresis 2 %.
        #expect(m.encoders[1].mode == .signed)
        #expect(m.encoders[1].comparators[0].lower == 2250)
        #expect(m.encoders[1].comparators[0].upper == 2750)
        #expect(m.encoders[1].hysteresis == 100)
        #expect(m.decoders.count == 1)
        #expect(m.decoders[0].tau == 50)
        #expect(m.decoders[0].range == (-1000, 1000))
        #expect(m.maxStepsPerTick == Mapping.defaultMaxStepsPerTick)
    }

    @Test func theReferenceMappingIsValid() throws {
        let m = try mapping(referenceMappingYAML)
        #expect(m.encoders.map(\.channel) == ["range_left", "range_right", "light_left", "light_right", "bumper"])
        #expect(m.decoders.map(\.channel) == ["servo", "motor_left", "motor_right"])
        #expect(m.rewards.count == 1 && m.rewards[0].action == .pulse)
    }

    @Test func aTableCalibrationInterpolatesAndClampsAtItsEnds() throws {
        let m = try mapping("""
            sensors:
              - channel: range_left
                neuron: 0
                calibration: {table: [[3100, 8], [400, 80], [900, 35]]}
                set_point: 30
            """)
        let c = m.encoders[0].calibration
        #expect(c.apply(400) == 80)
        #expect(c.apply(3100) == 8)
        #expect(c.apply(650) == 57.5)   // halfway between (400, 80) and (900, 35)
        #expect(c.apply(100) == 80)
        #expect(c.apply(4000) == 8)
    }

    @Test func aLinearCalibrationScalesAndOffsets() throws {
        let m = try mapping("""
            sensors:
              - {channel: light_left, neuron: 0, calibration: {scale: 0.02, offset: -10}, set_point: 40}
            """)
        #expect(m.encoders[0].calibration.apply(2500) == 40)
    }

    @Test func errorsNameTheLineAndTheProblem() {
        let cases: [(String, Int, String)] = [
            ("sensors:\n  - channel: range_middle\n    neuron: 0\n", 2, "no sensor channel `range_middle`"),
            ("sensors:\n  - channel: bumper\n    neuron: 9\n", 3, "must lie in 0…4"),
            ("sensors:\n  - channel: bumper\n    neuron: 0\n    thresold: 3\n", 4, "unknown key `thresold`"),
            ("actuators:\n  - channel: motor_left\n    neuron: 0\n    dead_band: 2\n", 4, "`dead_band` is 2.0"),
            ("sensors:\n  - {channel: bumper, neuron: 0}\n  - {channel: light_left, neuron: 0}\n", 3, "input neuron 0 is already driven by the sensor entry on line 2"),
            ("actuators:\n  - {channel: motor_left, neuron: 0}\n  - {channel: motor_left, neuron: 1}\n", 3, "already driven"),
            ("sensors:\n  - channel: light_left\n    neuron: 0\n    hysteresis: .nan\n", 4, "finite number"),
            ("sensors: [\n", 2, "not valid YAML"),
            ("reward:\n  - when: bumper ~ 1\n    pulse: {dopamine: 1}\n", 2, "CHANNEL OP NUMBER"),
            ("reward:\n  - when: bumper > 0\n    pulse: {adrenaline: 1}\n", 3, "unknown key `adrenaline`"),
            ("actuators:\n  - channel: servo\n    neuron: 0\n    range: [0, 270]\n", 4, "leaves servo's range"),
            ("sensors:\n  - channel: light_left\n    neurons: [0, 1]\n    thresholds: [1]\n", 4, "1 thresholds for 2 neurons"),
            ("actuators:\n  - channel: motor_left\n    push: 1\n", 3, "needs a `pull:`"),
        ]
        for (yaml, line, text) in cases {
            let e = error(yaml)
            #expect(e != nil, "accepted: \(yaml)")
            #expect(e?.line == line, "\(yaml) → \(e.map(String.init(describing:)) ?? "")")
            #expect(e?.message.contains(text) == true, "\(yaml) → \(e.map(String.init(describing:)) ?? "")")
            #expect(e?.description.hasPrefix("mapping line \(line): ") == true)
        }
    }

    @Test func aMappingIsValidatedAgainstTheNetworkSize() {
        let e = error("actuators:\n  - {channel: motor_left, neuron: 3}\n", outputs: 2)
        #expect(e?.line == 2)
        #expect(e?.message.contains("0…1") == true)
    }

    @Test func aMappingFileThatCannotBeReadSaysWhich() {
        // A file that cannot be read is a file problem (exit status 66), not a mapping error (65).
        #expect(throws: FileProblem(.missing, path: "/nonexistent/robot.yaml",
                                    "the mapping file /nonexistent/robot.yaml does not exist: check the path")) {
            try Mapping(contentsOf: "/nonexistent/robot.yaml", device: .referenceRobot, inputCount: 5, outputCount: 5)
        }
    }
}
