import Foundation
import Neuraxon
@testable import NeuraxonEmbodiment
import NeuraxonSimulation
import Testing

@Suite struct SimulatedBodyTests {
    @Test func theSimulatedRobotHasTheReferenceChannels() throws {
        let robot = try SimulatedRobot(world: World.obstacleCourse, seed: 1)
        let device = DeviceInfo(simulated: robot)
        #expect(device.sensors == DeviceInfo.referenceRobot.sensors)
        #expect(device.actuators == DeviceInfo.referenceRobot.actuators)
    }

    @Test func aNetworkDrivesTheSimulatedRobotAndTheRunReplays() throws {
        let folder = TemporaryFolder()
        let networkPath = try savedFlowingNetwork(in: folder, seed: 4)
        let (network, identity) = try loadNetwork(networkPath)
        let robot = try SimulatedRobot(world: World.obstacleCourse, seed: 9)
        let body = SimulatedBody(robot: robot, durationMicros: 5_000_000)
        let mapping = try Mapping(yaml: referenceMappingYAML, device: body.device, inputCount: 5, outputCount: 5)
        let run = folder.file("sim.jsonl")
        let recorder = try Recorder(path: run, header: RecordingHeader(mapping: mapping, network: identity, dtMillis: network.dt))
        let loop = try ControlLoop(body: body, network: network, mapping: mapping, recorder: recorder)
        loop.start()
        #expect(loop.wait() == .finished)
        let status = loop.status()
        #expect(status.counters.ticks >= 999)                 // 5 s at the world's 200 Hz
        #expect(robot.metrics.distanceTravelled > 0.01)       // the network moved the robot

        let reader = try RecordingReader(path: run)
        let report = try Replay.run(reader: reader, network: try loadNetwork(networkPath).0, mapping: try reader.header.resolvedMapping())
        #expect(report.ticks == status.counters.ticks)
        #expect(report.identical, "\(report.firstDivergence.map(String.init(describing:)) ?? "")")
    }
}
