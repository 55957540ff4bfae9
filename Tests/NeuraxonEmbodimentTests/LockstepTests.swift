import Foundation
import Neuraxon
@testable import NeuraxonEmbodiment
import NeuraxonSimulation
import Testing

/// Firmware in the loop through the one lockstep driver: no round trip over the pseudo-terminal
/// beyond the frames themselves, the host build's runs the direct simulation's exactly.
@Suite struct LockstepTests {
    /// Each command is known to be applied from the firmware's `deliver` answer, so the session
    /// sends no PING, and the run is the direct simulation's, metric for metric.
    @Test func theHostFirmwareInTheLoopSendsNoPingAndIsTheDirectRunExactly() throws {
        let firmware = try SerialFirmware.binary.get()
        let preset = RobotPreset.seek
        let world = try World.named(preset.world)
        let direct = try SimulationRun.run(world: world, seed: 2, start: 3, network: try preset.network(seed: 2),
                                           mapping: try preset.mapping(), durationSeconds: 3)

        let robot = try SimulatedRobot(world: world, seed: 2, start: 3)
        let body = try SimFirmwareBody(robot: robot, firmware: .host(firmware: firmware))
        let mapping = try Mapping(yaml: try preset.mapping().source, device: body.device, inputCount: 11, outputCount: 4)
        let loop = try ControlLoop(body: body, network: try preset.network(seed: 2), mapping: mapping,
                                   linkLossPolicy: .end, durationMicros: 3_000_000)
        loop.start()
        #expect(loop.wait() == .durationReached)
        let session = body.serial.session.counters
        #expect(session.pingsSent == 0, "\(session.pingsSent) PINGs")
        #expect(session.commandsSent >= 600 && session.sensorFrames >= 600)
        #expect(loop.status().counters.ticks == direct.counters.ticks)
        #expect(robot.metrics == direct.metrics, "through the firmware \(robot.metrics), direct \(direct.metrics)")
    }

    /// The emulated AVR through the same driver and lines: the harness (`--channels`) reports the
    /// firmware's actuator values itself, so a command's values come back as commanded, within
    /// the 8-bit PWM's resolution, and an encoder's count reaches the firmware as pulses.
    @Test func theEmulatedAVRAnswersInChannelValues() throws {
        let avr = try SerialFirmware.avr.get()
        let robot = try SimulatedRobot(world: try World.named("empty"), seed: 1, start: 0)
        let body = try SimFirmwareBody(robot: robot, firmware: avr)
        var frame = SensorFrame(channelCount: robot.sensorChannels.count)
        for _ in 0..<200 {
            #expect(body.nextFrame(into: &frame, timeoutMicros: 1_000_000) == .frame)
            #expect(body.send([600, -300, 120]))
        }
        #expect(body.nextFrame(into: &frame, timeoutMicros: 1_000_000) == .frame)
        #expect(abs(Int(robot.motorLeft) - 600) <= 2 && abs(Int(robot.motorRight) + 300) <= 2, "\(robot.motorLeft), \(robot.motorRight)")
        #expect(abs(Int(robot.servo) - 120) <= 1, "\(robot.servo)°")
        let counted = frame.readings[ReferenceChannels.wheelLeft], simulated = robot.readings[ReferenceChannels.wheelLeft]
        #expect(counted > 0 && simulated > 0 && abs(Int(counted) - Int(simulated)) <= Int(simulated) / 5 + 5,
                "the firmware counted \(counted) ticks, the world \(simulated)")
        body.stopActuators()
    }
}
