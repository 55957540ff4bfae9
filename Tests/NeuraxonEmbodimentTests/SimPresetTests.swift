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

    @Test func theAvoidancePresetDrivesFurtherThanRandomNetworksWithFewCollisions() throws {
        let world = try World.named("obstacles")
        let preset = RobotPreset.avoid
        let mapping = try preset.mapping()
        var presetDistance = 0.0, randomDistance = 0.0, presetCollisions = 0, randomCollisions = 0
        var log: [String] = []
        for start in world.starts.indices {
            let s = seed(forStart: start)
            let a = try SimulationRun.run(world: world, seed: s, start: start, network: try preset.network(seed: s),
                                          mapping: mapping, durationSeconds: 60)
            let r = try SimulationRun.run(world: world, seed: s, start: start, network: try preset.randomNetwork(seed: s),
                                          mapping: mapping, durationSeconds: 60)
            #expect(a.endReason == .durationReached && a.metrics.simulatedSeconds >= 60)
            presetDistance += a.metrics.distanceTravelled
            randomDistance += r.metrics.distanceTravelled
            presetCollisions += a.metrics.collisions
            randomCollisions += r.metrics.collisions
            log.append(String(format: "start %d seed %d: preset %d collisions %.2f m, random %d collisions %.2f m", start, s,
                              a.metrics.collisions, a.metrics.distanceTravelled, r.metrics.collisions, r.metrics.distanceTravelled))
        }
        let runs = world.starts.count
        let summary = log.joined(separator: "\n")
        // Measured: preset 48.7 m and 3 collisions in total, random 30.0 m and 0 collisions.
        #expect(presetDistance >= 1.3 * randomDistance, "\(summary)")
        #expect(presetDistance >= 5.0 * Double(runs), "at least 5 m per minute on average\n\(summary)")
        #expect(presetCollisions <= runs, "at most one collision per minute on average\n\(summary)")
        #expect(presetCollisions <= randomCollisions + runs, "\(summary)")
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
