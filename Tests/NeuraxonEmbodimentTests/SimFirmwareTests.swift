import Foundation
import Neuraxon
@testable import NeuraxonEmbodiment
import NeuraxonSimulation
import Testing

/// The simulated robot through the host-built firmware over a real pseudo-terminal agrees with
/// the direct simulation.
@Suite struct SimFirmwareTests {
    @Test func theFirmwareInTheLoopAgreesWithTheDirectSimulation() throws {
        let firmware = try SerialFirmware.binary.get()
        let world = try World.named("obstacles")
        let preset = RobotPreset.avoid
        let mapping = try preset.mapping()

        let direct = try SimulationRun.run(world: world, seed: 3, start: 1, network: try preset.network(seed: 3),
                                           mapping: mapping, durationSeconds: 5)

        let robot = try SimulatedRobot(world: world, seed: 3, start: 1)
        let body = try SimFirmwareBody(robot: robot, firmwarePath: firmware)
        #expect(body.device.sensors.map(\.name) == DeviceInfo.referenceRobot.sensors.map(\.name))
        let loopMapping = try Mapping(yaml: mapping.source, device: body.device, inputCount: 11, outputCount: 4)
        let loop = try ControlLoop(body: body, network: try preset.network(seed: 3), mapping: loopMapping,
                                   linkLossPolicy: .end, durationMicros: 5_000_000)
        loop.start()
        let reason = loop.wait()
        let counters = loop.status().counters
        #expect(reason == .durationReached, "\(reason)")
        #expect(counters.ticks == direct.counters.ticks && counters.steps == direct.counters.steps)
        #expect(robot.metrics.distanceTravelled > 0.2)
        #expect(abs(robot.metrics.distanceTravelled - direct.metrics.distanceTravelled) <= 0.1 * direct.metrics.distanceTravelled,
                "through the firmware \(robot.metrics.distanceTravelled) m, direct \(direct.metrics.distanceTravelled) m")
        #expect(robot.metrics.collisions == direct.metrics.collisions)
        #expect(body.serial.link.counters.sensorFrames >= 1000, "every frame came over the pseudo-terminal")
    }

    @Test func theCommandLineRunThroughTheFirmwareToo() throws {
        let firmware = try SerialFirmware.binary.get()
        let preset = RobotPreset.seek
        let world = try World.named(preset.world)
        let direct = try SimulationRun.run(world: world, seed: 2, start: 3, network: try preset.network(seed: 2),
                                           mapping: try preset.mapping(), durationSeconds: 3)
        let viaFirmware = try SimulationRun.run(world: world, seed: 2, start: 3, network: try preset.network(seed: 2),
                                                mapping: try preset.mapping(), durationSeconds: 3, throughFirmware: firmware)
        #expect(viaFirmware.endReason == .durationReached)
        #expect(viaFirmware.counters.ticks == direct.counters.ticks)
        #expect(abs(viaFirmware.metrics.distanceTravelled - direct.metrics.distanceTravelled) <= 0.1 * direct.metrics.distanceTravelled + 0.01)
        #expect(throws: SimFirmwareError.self) {
            _ = try SimulationRun.run(world: world, seed: 2, network: try preset.network(seed: 2), mapping: try preset.mapping(),
                                      durationSeconds: 1, throughFirmware: "/nonexistent/neuraxon-firmware")
        }
    }
}
