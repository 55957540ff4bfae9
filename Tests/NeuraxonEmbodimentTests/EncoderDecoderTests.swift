import Foundation
import Neuraxon
@testable import NeuraxonEmbodiment
import Testing

private func encoder(_ yaml: String) throws -> EncoderState {
    let m = try Mapping(yaml: "sensors:\n" + yaml, device: .referenceRobot, inputCount: 8, outputCount: 4)
    return EncoderState(m.encoders[0])
}

private func trits(_ e: inout EncoderState, _ value: Double) -> [Trit] {
    var out = [Trit](repeating: .neutral, count: e.spec.neurons.count)
    e.encode(value) { out[$0] = $1 }
    return out
}

private func decoder(_ yaml: String, outputs: Int = 4) throws -> DecoderState {
    let m = try Mapping(yaml: yaml, device: .referenceRobot, inputCount: 8, outputCount: outputs)
    return DecoderState(m.decoders[0], actuator: DeviceInfo.referenceRobot.actuators[m.decoders[0].channelIndex])
}

@Suite struct EncoderTests {
    @Test func noiseAroundTheThresholdsNeverFlickersBetweenMinusOneAndPlusOne() throws {
        var e = try encoder("  - {channel: light_left, neuron: 0, set_point: 2500, dead_band: 200, hysteresis: 50}\n")
        var rng = SplitMix(seed: 7)
        var previous = trits(&e, 2500)[0]
        var changes = 0
        var seen: Set<Trit> = []
        for k in 0..<10_000 {
            // A slow swing through the dead band with ±20 of noise on top: it lingers at both edges.
            let value = 2500 + 300 * sin(Double(k) / 500) + (rng.unit() - 0.5) * 40
            let t = trits(&e, value)[0]
            #expect(!(previous == .excitatory && t == .inhibitory) && !(previous == .inhibitory && t == .excitatory))
            if t != previous { changes += 1 }
            previous = t
            seen.insert(t)
        }
        #expect(seen.count == 3)
        // About 3.2 swings of 4 changes each (0→+1→0→−1→0); without hysteresis the noise would add hundreds.
        #expect(changes >= 8 && changes <= 16, "\(changes) changes")
    }

    @Test func hysteresisHoldsAStateUntilTheValueCrossesBackByItsWidth() throws {
        var e = try encoder("  - {channel: light_left, neuron: 0, mode: threshold, threshold: 1000, hysteresis: 100}\n")
        #expect(trits(&e, 999) == [.neutral])
        #expect(trits(&e, 1001) == [.excitatory])
        #expect(trits(&e, 950) == [.excitatory])    // within the hysteresis
        #expect(trits(&e, 1020) == [.excitatory])
        #expect(trits(&e, 899) == [.neutral])       // crossed back by more than 100
        #expect(trits(&e, 1000) == [.neutral])      // not above the threshold
    }

    @Test func aSignedEncoderHasADeadBandAroundItsSetPoint() throws {
        var e = try encoder("  - {channel: light_left, neuron: 0, set_point: 3000, dead_band: 1000, hysteresis: 0}\n")
        #expect(trits(&e, 3000) == [.neutral])
        #expect(trits(&e, 3499) == [.neutral])
        #expect(trits(&e, 3501) == [.excitatory])
        #expect(trits(&e, 2600) == [.neutral])
        #expect(trits(&e, 2499) == [.inhibitory])
    }

    @Test func aPopulationStaggersItsThresholdsEvenlyOverItsRange() throws {
        var e = try encoder("  - {channel: light_left, neurons: [0, 1, 2], range: [1000, 4000], hysteresis: 0}\n")
        #expect(e.spec.comparators.map(\.upper) == [1750, 2500, 3250])
        #expect(trits(&e, 500) == [.neutral, .neutral, .neutral])
        #expect(trits(&e, 2000) == [.excitatory, .neutral, .neutral])
        #expect(trits(&e, 3000) == [.excitatory, .excitatory, .neutral])
        #expect(trits(&e, 4500) == [.excitatory, .excitatory, .excitatory])
    }

    @Test func aPopulationTakesExplicitThresholds() throws {
        var e = try encoder("  - {channel: light_left, neurons: [3, 1], thresholds: [100, 200], hysteresis: 0}\n")
        #expect(e.spec.neurons == [3, 1])
        #expect(trits(&e, 150) == [.excitatory, .neutral])
    }

    @Test func aDigitalInputAndInvert() throws {
        var d = try encoder("  - {channel: bumper, neuron: 0}\n")
        #expect(trits(&d, 0) == [.neutral])
        #expect(trits(&d, 1) == [.excitatory])
        var inv = try encoder("  - {channel: bumper, neuron: 0, invert: true}\n")
        #expect(trits(&inv, 1) == [.inhibitory])
        var near = try encoder("""
              - channel: range_left
                neuron: 0
                calibration: {table: [[400, 80], [3100, 8]]}
                set_point: 30
                dead_band: 10
                invert: true
            """ + "\n")
        #expect(trits(&near, near.spec.calibration.apply(3000)) == [.excitatory])    // close: about 10.7 cm, below the set point, inverted
        #expect(trits(&near, near.spec.calibration.apply(2275)) == [.neutral])      // 30 cm: inside the dead band
        #expect(trits(&near, near.spec.calibration.apply(450)) == [.inhibitory])     // far
    }

    @Test func badReadingsAreReportedWithTheChannel() throws {
        let e = try encoder("  - {channel: light_left, neuron: 0}\n")
        let channel = DeviceInfo.referenceRobot.sensors[2]
        #expect(e.check(raw: .nan, channel: channel) == .notANumber(channel: "light_left"))
        #expect(e.check(raw: 5001, channel: channel) == .outOfRange(channel: "light_left", value: 5001, minimum: 0, maximum: 5000))
        #expect(e.check(raw: -1, channel: channel) != nil)
        #expect(e.check(raw: 5000, channel: channel) == nil)
        #expect(ReadingProblem.outOfRange(channel: "light_left", value: 5001, minimum: 0, maximum: 5000).description.contains("light_left"))
    }
}

@Suite struct DecoderTests {
    @Test func oneNeuronPerMotorWithoutFiltering() throws {
        var d = try decoder("actuators:\n  - {channel: motor_left, neuron: 1, tau: 0, dead_band: 0}\n")
        #expect(d.update(drive: 1, elapsedMillis: 1) == 1000)
        #expect(d.update(drive: 0, elapsedMillis: 1) == 0)
        #expect(d.update(drive: -1, elapsedMillis: 1) == -1000)
        #expect(d.drive { $0 == 1 ? .inhibitory : .excitatory } == -1)
    }

    @Test func theLeakyIntegratorFollowsItsTimeConstant() throws {
        var d = try decoder("actuators:\n  - {channel: motor_left, neuron: 0, tau: 100, dead_band: 0}\n")
        // After one τ of constant drive 1, y = 1 − e^−1 ≈ 0.632.
        var s: Int16 = 0
        for _ in 0..<100 { s = d.update(drive: 1, elapsedMillis: 1) }
        #expect(abs(Double(s) - 632) <= 1)
        #expect(abs(d.integrated - (1 - exp(-1.0))) < 1e-9)
        // A drive flickering at the step rate averages out instead of chattering.
        var values: [Int16] = []
        for k in 0..<1000 { values.append(d.update(drive: k % 2 == 0 ? 1 : -1, elapsedMillis: 1)) }
        #expect(values.suffix(100).allSatisfy { abs($0) < 20 })
    }

    @Test func theDeadBandSilencesSmallDrives() throws {
        var d = try decoder("actuators:\n  - {channel: motor_left, push: 0, pull: 1, tau: 0, dead_band: 0.6}\n")
        #expect(d.update(drive: 0.5, elapsedMillis: 1) == 0)
        #expect(d.update(drive: 1, elapsedMillis: 1) == 1000)
        #expect(d.drive { $0 == 0 ? .excitatory : .neutral } == 0.5)   // push–pull: (s_push − s_pull)/2
    }

    @Test func theSlewLimitBoundsTheChangePerSecond() throws {
        var d = try decoder("actuators:\n  - {channel: motor_left, neuron: 0, tau: 0, dead_band: 0, slew: 2000}\n")
        // 2000 ‰/s: at most 10 ‰ per 5 ms.
        var last: Int16 = 0
        for _ in 0..<100 {
            let s = d.update(drive: 1, elapsedMillis: 5)
            #expect(s - last <= 10 && s >= last)
            last = s
        }
        #expect(last == 1000)
        #expect(d.update(drive: -1, elapsedMillis: 5) == 990)
    }

    @Test func scalingMapsTheDriveOntoTheRangeAndTheServoRestsAtItsCentre() throws {
        var servo = try decoder("actuators:\n  - {channel: servo, neuron: 0, tau: 0, dead_band: 0}\n")
        #expect(servo.update(drive: 0, elapsedMillis: 1) == 90)
        #expect(servo.update(drive: 1, elapsedMillis: 1) == 180)
        #expect(servo.update(drive: -1, elapsedMillis: 1) == 0)
        var slow = try decoder("actuators:\n  - {channel: motor_left, neuron: 0, tau: 0, dead_band: 0, range: [-300, 300], invert: true}\n")
        #expect(slow.update(drive: 1, elapsedMillis: 1) == -300)
    }

    @Test func theDifferentialDriveHelperMixesForwardAndTurn() throws {
        let m = try Mapping(yaml: "differential: {left: motor_left, right: motor_right, forward: 0, turn: {push: 1, pull: 2}, tau: 0, dead_band: 0}\n",
                            device: .referenceRobot, inputCount: 1, outputCount: 3)
        var left = DecoderState(m.decoders[0], actuator: DeviceInfo.referenceRobot.actuators[0])
        var right = DecoderState(m.decoders[1], actuator: DeviceInfo.referenceRobot.actuators[1])
        let outputs: [Trit] = [.excitatory, .excitatory, .neutral]   // forward, turn left at half
        #expect(left.update(drive: left.drive { outputs[$0] }, elapsedMillis: 1) == 500)
        #expect(right.update(drive: right.drive { outputs[$0] }, elapsedMillis: 1) == 1000)   // clamped to 1
    }
}

/// A small deterministic generator for test noise.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
