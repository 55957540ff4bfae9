import Foundation
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonSimulation
import Testing

/// The presets on generated worlds of every family, held to the pass thresholds of
/// `PresetStandard` (chosen from the measurements in Docs/SIMULATION.md, "Presets across world
/// families"). A smaller sample than the documented tables (10 worlds per family, 30 simulated
/// seconds each) but the same worlds' first ten; everything runs in simulated time.
@Suite(.serialized) struct FamilyPresetTests {
    static let worlds = 10, seconds = 30.0

    @Test(arguments: RobotPreset.all.map(\.name))
    func thePresetMeetsItsStandardOnEveryFamily(_ name: String) throws {
        let preset = try #require(RobotPreset.named(name))
        for family in WorldFamily.allCases {
            let row = try FamilyBench.measure(preset, .preset, family: family, worlds: Self.worlds, seconds: Self.seconds, workers: 2)
            let problems = PresetStandard.of(preset, on: family).failures(row)
            #expect(problems.isEmpty, "\(FamilyBench.describe(row))\n\(problems.joined(separator: "\n"))")
        }
    }

    /// In corridors 0.46–0.53 m wide, walls on both sides stay inside `avoid`'s beams, so neither
    /// side ever reads clear. It used to go on turning on the spot for the whole run (within
    /// 0.16 m of its start, going nowhere all the time); it now drives on along the corridor.
    @Test(arguments: [2, 5, 12, 15, 19, 21, 23, 28, 31, 42, 43, 48])
    func avoidDrivesOnThroughANarrowCorridor(_ seed: Int) throws {
        let m = try FamilyBench.run(.avoid, .preset, family: .corridor, seed: UInt64(seed), seconds: 30)
        #expect(m.timeGoingNowhere < 10 && m.netDisplacement > 0.5,
                "corridor-\(seed): going nowhere \(m.timeGoingNowhere) s, \(m.netDisplacement) m from the start")
        #expect(m.collisions == 0)
    }

    /// The standard says something: a random network of the preset's size misses it on most
    /// families.
    @Test func aRandomNetworkMissesTheAvoidStandard() throws {
        var missed = 0
        for family in WorldFamily.allCases {
            let row = try FamilyBench.measure(.avoid, .random, family: family, worlds: Self.worlds, seconds: Self.seconds, workers: 2)
            if !PresetStandard.of(.avoid, on: family).failures(row).isEmpty { missed += 1 }
        }
        #expect(missed >= 4)
    }

    @Test func aStandardWithAGoingNowhereBoundNamesARowThatMissesIt() throws {
        var row = try FamilyBench.measure(.avoid, .preset, family: .arena, worlds: 1, seconds: 12)
        #expect(FamilyBench.describe(row).contains(String(format: "%9.1f", row.nowhereSeconds)))
        var standard = PresetStandard.of(.avoid, on: .arena)
        standard.maxNowhereShare = 0.1
        row.collisionsPerMinute = 0
        row.stuckSeconds = 0
        row.coverage = 0.5
        row.nowhereSeconds = 6  // half the run
        #expect(standard.failures(row) == ["avoid on arena: going nowhere 50% of the time, more than 10%"])
        standard.maxNowhereShare = nil
        #expect(standard.failures(row).isEmpty)
    }

    @Test func theSameWorldsGiveTheSameTableOnAnyNumberOfThreads() throws {
        let a = try FamilyBench.measure(.seek, .preset, family: .doorways, worlds: 3, seconds: 5, workers: 1)
        let b = try FamilyBench.measure(.seek, .preset, family: .doorways, worlds: 3, seconds: 5, workers: 3)
        #expect(a == b)
        #expect(a.progress != nil && a.reachedShare != nil)
        let c = try FamilyBench.measure(.seek, .preset, family: .clutter, worlds: 2, seconds: 5)
        #expect(c.progress == nil && c.reachedShare == nil && FamilyBench.describe(c).contains("–"))
    }
}
