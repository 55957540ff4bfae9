import Foundation
import Neuraxon
import Testing
import NeuraxonEmbodiment
import NeuraxonSimulation

/// The run summary's version 2 fields (traction, contact, displacement, light progress, stuck
/// time and coverage) and version 3's time going nowhere.
@Suite struct SimSummaryMetricsTests {
    @Test func aClosedLoopRunPressedIntoACornerShowsItsStallsInTheSummary() throws {
        // A network of the avoid preset's size whose only synapses drive both wheels forward
        // while the left range sensor sees something, started facing into a corner 1.5 cm from
        // both walls: it drives into the corner and stays pressed there. The summary carries
        // the traction and contact figures of the run, consistent with the metrics.
        var world = World(name: "corner", arenaWidth: 2, arenaHeight: 2,
                          starts: [Pose(x: 0.075, y: 0.075, heading: -3 * .pi / 4)])
        world.link.failsafeTimeoutMicros = 100_000
        let preset = RobotPreset.avoid
        let forward = [26, 28].map { Synapse(pre: 0, post: $0, wFast: 1, wSlow: 1, wMeta: 0, restFast: 1, restSlow: 1) }
        let network = try NeuraxonNetwork(parameters: preset.parameters, dynamics: .embodied, seed: 3, synapses: forward)
        let outcome = try SimulationRun.run(world: world, seed: 3, network: network,
                                            mapping: try preset.mapping(), durationSeconds: 5)
        let m = outcome.metrics
        let summary = SimulationSummary(outcome, world: "corner", start: 0, seed: 3, network: preset.name)
        #expect(summary.version == 3)
        #expect(summary.timeGoingNowhere == m.timeGoingNowhere)
        #expect(summary.timeInContact == m.timeInContact && m.timeInContact > 0)
        #expect(summary.stalledLeft == m.stalledLeft && summary.stalledRight == m.stalledRight)
        #expect(summary.slipLeft == m.slipLeft && summary.slipRight == m.slipRight)
        #expect(summary.netDisplacement == m.netDisplacement && summary.timeStuck == m.timeStuck)
        #expect(summary.coverage == m.coverage && summary.freeCells == 324 && summary.coverageCell == 0.1)
        #expect(summary.progressTowardLight == nil && summary.startDistanceToLight == nil)
        let folder = TemporaryFolder()
        try summary.write(to: folder.file("corner.metrics.json"))
        #expect(try SimulationSummary.read(from: folder.file("corner.metrics.json")) == summary)
    }

    @Test func aVersionOneSummaryStillReads() throws {
        let folder = TemporaryFolder()
        let path = folder.file("old.metrics.json")
        let v1 = """
            {"closest_wall_approach_m": 0.22, "collisions": 0, "commands_arrived": 6000, "commands_lost": 0,
             "commands_sent": 6002, "distance_m": 7.08, "end_reason": "duration reached", "failsafe_stops": 0,
             "format": "neuraxon-sim-summary", "network": "seek", "network_steps": 30000, "seed": 1,
             "simulated_s": 30.0, "start": 0, "through_firmware": null, "ticks": 6001, "time_near_light_s": 21.62,
             "time_to_reach_light_s": 6.78, "version": 1, "world": "light"}
            """
        try Data(v1.utf8).write(to: URL(fileURLWithPath: path))
        let summary = try SimulationSummary.read(from: path)
        #expect(summary.version == 1 && summary.distanceTravelled == 7.08 && summary.timeToReachLight == 6.78)
        #expect(summary.timeInContact == nil && summary.coverage == nil && summary.timeStuck == nil)
        #expect(summary.timeGoingNowhere == nil)
    }

    @Test func aVersionTwoSummaryReadsWithoutTimeGoingNowhere() throws {
        let folder = TemporaryFolder()
        let summary = SimulationSummary(try SimulationRun.run(world: try World.named("empty"), seed: 1,
                                                              network: try RobotPreset.avoid.network(seed: 1),
                                                              mapping: try RobotPreset.avoid.mapping(), durationSeconds: 1),
                                        world: "empty", start: 0, seed: 1, network: "avoid")
        let encoder = JSONEncoder()
        var object = try #require(try JSONSerialization.jsonObject(with: encoder.encode(summary)) as? [String: Any])
        object["version"] = 2
        object["time_going_nowhere_s"] = nil
        let path = folder.file("v2.metrics.json")
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        let read = try SimulationSummary.read(from: path)
        #expect(read.version == 2 && read.timeGoingNowhere == nil && read.timeStuck == summary.timeStuck)
    }
}
