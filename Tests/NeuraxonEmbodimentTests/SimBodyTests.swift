import Foundation
import Neuraxon
@testable import NeuraxonEmbodiment
import NeuraxonSimulation
import Testing

/// The repository's root, found from this file's path.
private let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

private func readAll(_ path: String) throws -> [TickRecord] {
    let reader = try RecordingReader(path: path)
    var ticks: [TickRecord] = []
    while let t = reader.nextTick() { ticks.append(t) }
    return ticks
}

@Suite struct SimBodyTests {
    @Test func framesComeAtTheSamplingPeriodWithTheRobotsReadings() throws {
        let robot = try SimulatedRobot(world: try World.named("obstacles"), seed: 4, start: 1)
        let body = SimulatedBody(robot: robot)
        #expect(body.device.sensors.map(\.name) == DeviceInfo.referenceRobot.sensors.map(\.name))
        #expect(body.device.actuators.map(\.name) == DeviceInfo.referenceRobot.actuators.map(\.name))
        #expect(body.device.samplePeriodMicros == 5000)
        var frame = SensorFrame(channelCount: body.device.sensors.count)
        for k in 0..<50 {
            #expect(body.nextFrame(into: &frame, timeoutMicros: 0) == .frame)
            #expect(frame.timestampMicros == UInt64(k) * 5000)
            #expect(frame.sequence == UInt32(k))
            #expect(frame.count == 7)
            #expect(Array(frame.readings) == robot.readings)
            #expect(body.send([500, 500, 90]))
        }
        #expect(robot.metrics.distanceTravelled > 0.01, "the robot drove forward on 500 ‰")
    }

    @Test func commandsArriveAfterTheWorldsLatencyAndAreLostAtItsDropoutRate() throws {
        var world = try World.named("empty")
        world.link.commandLatencyMicros = 20_000
        let robot = try SimulatedRobot(world: world, seed: 1)
        let body = SimulatedBody(robot: robot)
        var frame = SensorFrame(channelCount: 7)
        _ = body.nextFrame(into: &frame, timeoutMicros: 0)
        _ = body.send([700, -700, 45])
        for _ in 0..<3 { _ = body.nextFrame(into: &frame, timeoutMicros: 0) }   // 15 ms later
        #expect(robot.motorLeft == 0, "a command must not act before its 20 ms latency")
        _ = body.nextFrame(into: &frame, timeoutMicros: 0)
        _ = body.nextFrame(into: &frame, timeoutMicros: 0)                       // 25 ms later
        #expect(robot.motorLeft == 700 && robot.motorRight == -700 && robot.servo == 45)
        body.stopActuators()
        for _ in 0..<5 { _ = body.nextFrame(into: &frame, timeoutMicros: 0) }
        #expect(robot.motorLeft == 0 && robot.servo == 90, "stopActuators sends the safe values")

        var lossy = try World.named("empty")
        lossy.link.dropout = 0.5
        let outcome = try SimulationRun.run(world: lossy, seed: 2, network: try RobotPreset.avoid.network(seed: 2),
                                            mapping: try RobotPreset.avoid.mapping(), durationSeconds: 2)
        #expect(outcome.link.commandsSent > 300)
        #expect(outcome.link.commandsLost > outcome.link.commandsSent / 4 && outcome.link.commandsLost < outcome.link.commandsSent * 3 / 4)
    }

    @Test func aRunIsTheSameForTheSameSeedAndDiffersForAnother() throws {
        let world = try World.named("light")
        func run(_ seed: UInt64) throws -> SimulationOutcome {
            try SimulationRun.run(world: world, seed: seed, start: 3, network: try RobotPreset.seek.network(seed: seed),
                                  mapping: try RobotPreset.seek.mapping(), durationSeconds: 5)
        }
        let a = try run(7), b = try run(7), c = try run(8)
        #expect(a.metrics == b.metrics)
        #expect(a.counters.ticks == 1001 && a.counters.steps == 5000)
        #expect(a.endReason == .durationReached)
        #expect(a.metrics != c.metrics)
    }

    @Test func aSimulatedRecordingReplaysToEveryOutputTrit() throws {
        let folder = TemporaryFolder()
        let world = try World.named("obstacles")
        let preset = RobotPreset.avoid
        let robot = try SimulatedRobot(world: world, seed: 5, start: 2)
        let device = DeviceInfo(simulated: robot)
        let network = try preset.network(seed: 5)
        let networkPath = folder.file("avoid.json")
        try network.save(to: networkPath)
        let (saved, identity) = try loadNetwork(networkPath)
        let mapping = try Mapping(yaml: preset.mappingYAML, device: device, inputCount: 11, outputCount: 4)
        let path = folder.file("run.jsonl")
        let recorder = try Recorder(path: path, header: RecordingHeader(mapping: mapping, network: identity, dtMillis: saved.dt),
                                    waitWhenFull: true)
        let outcome = try SimulationRun.run(robot: robot, network: saved, mapping: mapping, durationSeconds: 10, recorder: recorder)
        #expect(outcome.recordingError == nil)
        let recorded = try readAll(path)
        #expect(recorded.count == outcome.counters.ticks)
        #expect(Set(recorded.flatMap { $0.outputs }).count > 1, "the outputs must change during the run")

        let reader = try RecordingReader(path: path)
        // The header names the network relative to the recording's folder.
        #expect(reader.header.network.path == "avoid.json")
        let (fresh, _) = try loadNetwork(try #require(reader.header.networkFile(recordingPath: path)))
        let replayMapping = try reader.header.resolvedMapping()
        let report = try Replay.run(reader: reader, network: fresh, mapping: replayMapping)
        #expect(report.ticks == recorded.count)
        #expect(report.identical, "\(String(describing: report.firstDivergence))")
    }

    @Test func aRunsSummaryIsWrittenWholeAndReadsBack() throws {
        let preset = RobotPreset.seek
        let outcome = try SimulationRun.run(world: try World.named(preset.world), seed: 2, start: 1, network: try preset.network(seed: 2),
                                            mapping: try preset.mapping(), durationSeconds: 2)
        let summary = SimulationSummary(outcome, world: preset.world, start: 1, seed: 2, network: preset.name)
        #expect(summary.ticks == outcome.counters.ticks && summary.collisions == outcome.metrics.collisions)
        #expect(summary.distanceTravelled == outcome.metrics.distanceTravelled && summary.timeToReachLight == nil)
        let folder = TemporaryFolder()
        let path = folder.file("run.metrics.json")
        try summary.write(to: path)
        #expect(try SimulationSummary.read(from: path) == summary)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\"time_to_reach_light_s\" : null") && text.contains("\"through_firmware\" : null"), "unknown values are null, not left out")
        #expect(throws: AtomicFile.Failure.self) { try summary.write(to: folder.file("no-such-folder/run.metrics.json")) }
        do {
            try summary.write(to: folder.file("no-such-folder/run.metrics.json"))
        } catch let error as AtomicFile.Failure {
            #expect(error.description.contains("no-such-folder") && error.description.contains("No such file or directory"), "\(error)")
        }
    }

    @Test func aBadStartingPoseIsAClearError() throws {
        #expect {
            _ = try SimulationRun.run(world: try World.named("light"), seed: 1, start: 99, network: try RobotPreset.seek.network(seed: 1),
                                      mapping: try RobotPreset.seek.mapping(), durationSeconds: 1)
        } throws: { error in
            "\(error)".contains("starting pose 99 does not exist")
        }
    }
}

@Suite struct RobotPresetFileTests {
    @Test(arguments: RobotPreset.all)
    func theMappingFileInDocsIsThePresetsMapping(preset: RobotPreset) throws {
        let path = repositoryRoot + "/Docs/examples/\(preset.name).mapping.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == preset.mappingYAML, "Docs/examples/\(preset.name).mapping.yaml must equal RobotPreset.\(preset.name).mappingYAML")
        let fromFile = try Mapping(contentsOf: path, device: .referenceRobot, inputCount: 11, outputCount: 4)
        #expect(fromFile.encoders.count == 7 && fromFile.decoders.count == 2)
    }

    @Test(arguments: RobotPreset.all)
    func aPresetIsAThirtyNeuronEmbodiedNetworkWithPlasticityOn(preset: RobotPreset) throws {
        let net = try preset.network(seed: 1)
        #expect(net.neuronCount == 30 && net.inputCount == 11 && net.outputCount == 4)
        #expect(net.dynamics == .embodied)
        #expect(net.parameters.learningRate > 0 && net.parameters.synapseFormationProb > 0)
        #expect(net.synapseCount == preset.synapses.count)
        #expect(try preset.randomNetwork(seed: 1).neuronCount == 30)
        #expect(RobotPreset.named(preset.name)?.name == preset.name)
    }
}

extension RobotPreset: CustomTestStringConvertible {
    /// Test logs name a preset instead of printing all its wiring.
    public var testDescription: String { name }
}
