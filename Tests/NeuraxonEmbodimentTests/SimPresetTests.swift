import Foundation
import Neuraxon
@testable import NeuraxonEmbodiment
import NeuraxonSimulation
import Testing

/// The presets against random networks of the same size (30 neurons, the presets' own
/// parameters, embodied dynamics), over every starting pose of their worlds with three seeds in
/// turn (start k uses seed 1 + k mod 3). The thresholds, and the measurements they were chosen
/// from, are in Docs/SIMULATION.md ("Robot presets").
@Suite struct SimPresetTests {
    private func seed(forStart start: Int) -> UInt64 { UInt64(1 + start % 3) }

    /// Two kinds of random network of the same size: `randomNetwork` (every allowed synapse,
    /// random weights), which mostly stands still or circles on the spot, and
    /// `randomlyWeightedNetwork` (the preset's own wiring with random weights), which drives
    /// and hits things.
    @Test func theAvoidancePresetDrivesFurtherWithFewerCollisionsThanRandomNetworks() throws {
        let world = try World.named("obstacles")
        let preset = RobotPreset.avoid
        let mapping = try preset.mapping()
        var distance = [0.0, 0.0, 0.0], collisions = [0, 0, 0]
        var log: [String] = []
        for start in world.starts.indices {
            let s = seed(forStart: start)
            var line = "start \(start) seed \(s):"
            for (k, network) in [try preset.network(seed: s), try preset.randomNetwork(seed: s),
                                 try preset.randomlyWeightedNetwork(seed: s)].enumerated() {
                let run = try SimulationRun.run(world: world, seed: s, start: start, network: network, mapping: mapping, durationSeconds: 60)
                #expect(run.endReason == .durationReached && run.metrics.simulatedSeconds >= 60)
                distance[k] += run.metrics.distanceTravelled
                collisions[k] += run.metrics.collisions
                line += String(format: " %@ %d collisions %.2f m", ["preset", "random", "random weights"][k],
                               run.metrics.collisions, run.metrics.distanceTravelled)
            }
            log.append(line)
        }
        let runs = world.starts.count
        let summary = log.joined(separator: "\n")
        // Measured: preset 69.8 m and 0 collisions in total; random networks 14.0 m and 0
        // collisions; random weights on the preset's wiring 20.1 m and 108 collisions.
        #expect(distance[0] >= 1.8 * distance[1] && distance[0] >= 1.8 * distance[2], "\(summary)")
        #expect(distance[0] >= 9.0 * Double(runs), "at least 9 m per minute on average\n\(summary)")
        #expect(collisions[0] <= 1, "at most one collision in \(runs) simulated minutes\n\(summary)")
        #expect(collisions[2] >= collisions[0] + 5, "clearly fewer collisions than random weights on the same wiring\n\(summary)")
    }

    @Test func theLightSeekingPresetReachesTheLightFromMostStartsWhereRandomNetworksMostlyDoNot() throws {
        let world = try World.named("light")
        let preset = RobotPreset.seek
        let mapping = try preset.mapping()
        var presetReached = 0, randomReached = 0
        var log: [String] = []
        for start in world.starts.indices {
            let s = seed(forStart: start)
            let a = try SimulationRun.run(world: world, seed: s, start: start, network: try preset.network(seed: s),
                                          mapping: mapping, durationSeconds: 30)
            let r = try SimulationRun.run(world: world, seed: s, start: start, network: try preset.randomNetwork(seed: s),
                                          mapping: mapping, durationSeconds: 30)
            if a.metrics.timeToReachLight != nil { presetReached += 1 }
            if r.metrics.timeToReachLight != nil { randomReached += 1 }
            if let t = a.metrics.timeToReachLight { #expect(t <= 30 && a.metrics.timeNearLight > 0) }
            log.append("start \(start) seed \(s): preset \(a.metrics.timeToReachLight.map { String(format: "%.1f s", $0) } ?? "not reached"), "
                       + "random \(r.metrics.timeToReachLight.map { String(format: "%.1f s", $0) } ?? "not reached")")
        }
        let summary = log.joined(separator: "\n")
        // Measured: the preset reaches the light from 8 of 8 starts, random networks from 1 of 8.
        #expect(presetReached >= 6, "\(summary)")
        #expect(randomReached <= 3, "\(summary)")
        #expect(presetReached >= randomReached + 4, "\(summary)")
    }
}
