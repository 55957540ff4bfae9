// NeuraxonEvolutionTasks tests. Licence: MIT with the Aigarth licence restrictions (no military
// or dual-use applications); see Sources/NeuraxonEvolution/NOTICE.

import Foundation
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonEvolution
import NeuraxonEvolutionTasks
import NeuraxonSimulation
import Testing

/// A fresh empty folder for one test's files.
func scratchFolder(_ name: String) throws -> String {
    let path = NSTemporaryDirectory() + "neuraxon-evolve-\(name)-\(getpid())"
    try? FileManager.default.removeItem(atPath: path)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A small, fast configuration: short episodes, two trials (the built-in world and a generated one).
func smallTask(_ kind: SimulatorTask.Kind = .avoid) throws -> SimulatorTask {
    try SimulatorTask(kind, trials: 2, episodeSeconds: 2)
}

@Suite struct TrialWorldTests {
    @Test func trialsAreDrawnFromTheSeedAlone() throws {
        let task = try smallTask()
        for trial in 0..<4 {
            #expect(try task.training(trial: trial, seed: 42) == task.training(trial: trial, seed: 42))
        }
        #expect(try task.training(trial: 1, seed: 42) != task.training(trial: 1, seed: 43))
        #expect(try task.training(trial: 0, seed: 42).world.name == "obstacles")
        #expect(try task.training(trial: 1, seed: 42).world.name == "field")
        #expect(try task.heldOut(3) == task.heldOut(3))
        #expect(try task.heldOut(3) != task.heldOut(4))
    }

    @Test func everyGeneratedStartIsClearAndBuildsARobot() throws {
        for kind in SimulatorTask.Kind.allCases {
            let task = try SimulatorTask(kind)
            for i in 0..<60 {
                let setup = i % 2 == 0 ? try task.heldOut(i) : try task.training(trial: i, seed: UInt64(i) &* 7919)
                let robot = try SimulatedRobot(world: setup.world, seed: 1, pose: setup.pose)
                robot.sampleSensors()
                // The bumper (channel 6) is not pressed at a start pose.
                #expect(robot.readings[6] == 0, "\(setup.label)")
                #expect(setup.pose.position.x > 0 && setup.pose.position.x < setup.world.arenaWidth)
                if kind == .seek { #expect(setup.world.lights.count == 1) }
            }
        }
    }

    @Test func heldOutWorldsAreNotTrainingWorlds() throws {
        let task = try SimulatorTask(.avoid)
        let heldOut = Set(try (0..<50).map { try task.heldOut($0).world.arenaWidth })
        for generation in 0..<20 {
            for trial in 0..<task.trials {
                let seed = EvolutionRandom.evaluationSeed(run: 1, generation: generation, trial: trial)
                #expect(!heldOut.contains(try task.training(trial: trial, seed: seed).world.arenaWidth))
            }
        }
    }
}

@Suite struct ScoreTests {
    @Test func avoidScoresDistanceLessOneMetrePerCollision() throws {
        let task = try smallTask()
        var m = RunMetrics()
        m.distanceTravelled = 2.5
        m.collisions = 2
        let setup = try task.training(trial: 0, seed: 1)
        #expect(task.score(m, setup: setup, finalPose: setup.pose) == 0.5)
    }

    @Test func seekRewardsReachingTheLightEarly() throws {
        let task = try SimulatorTask(.seek, trials: 2, episodeSeconds: 10)
        let setup = try task.heldOut(0)
        let light = setup.world.lights[0].position
        var never = RunMetrics()
        never.timeToReachLight = nil
        let stayed = task.score(never, setup: setup, finalPose: setup.pose)
        #expect(stayed == 0)
        var reached = RunMetrics()
        reached.timeToReachLight = 4
        reached.timeNearLight = 5
        let atLight = Pose(x: light.x, y: light.y, heading: 0)
        let dx = setup.pose.position.x - light.x, dy = setup.pose.position.y - light.y
        let expected = 6 + 5 + (dx * dx + dy * dy).squareRoot() / 0.3
        #expect(abs(task.score(reached, setup: setup, finalPose: atLight) - expected) < 1e-9)
    }

    @Test func theHandWiredPresetMovesWithoutCrashingOnTheCourse() throws {
        let task = try SimulatorTask(.avoid, trials: 2, episodeSeconds: 5)
        let setup = TrialWorlds.builtin(World.obstacleCourse, seed: 3)
        let score = try task.score(try RobotPreset.avoid.network(seed: 1), on: setup, noiseSeed: 3)
        #expect(score > 0.2)
    }
}

@Suite struct BadInputTests {
    @Test func unknownTaskNamesTheTasks() {
        #expect { try SimulatorTask(named: "dance") } throws: { error in
            "\(error)".contains("unknown task `dance`") && "\(error)".contains("avoid, seek")
        }
    }

    @Test func aSavedTaskNameReadsBackAndAForeignOneIsRefused() throws {
        let task = try SimulatorTask(.seek, trials: 3, episodeSeconds: 7.5)
        let back = try SimulatorTask(savedName: task.name)
        #expect(back.kind == .seek && back.trials == 3 && back.episodeSeconds == 7.5)
        #expect { try SimulatorTask(savedName: "xor") } throws: { "\($0)".contains("`xor` is not a simulator task") }
    }

    @Test func badTrialsAndEpisodesAreRefused() {
        #expect(throws: TaskError.self) { try SimulatorTask(.avoid, trials: 0) }
        #expect(throws: TaskError.self) { try SimulatorTask(.avoid, episodeSeconds: 0.1) }
        #expect(throws: TaskError.self) { try SimulatorTask(.seek, episodeSeconds: .nan) }
    }

    @Test func anAncestorOfTheWrongShapeIsRefusedWithTheFix() throws {
        let folder = try scratchFolder("shape")
        var p = RobotPreset.avoid.parameters
        p.numInputNeurons = 3
        let path = folder + "/small.json"
        try NeuraxonNetwork(parameters: p, dynamics: .embodied, seed: 1).save(to: path)
        var settings = EvolutionSettings(seed: 1, populationSize: 4, generations: 1)
        settings.selection.eliteCount = 1
        #expect { try smallTask().initialPopulation(.file(path), settings: settings) } throws: { error in
            "\(error)".contains("small.json") && "\(error)".contains("needs 11 and 4")
        }
        #expect(throws: EvolutionError.self) {
            try smallTask().initialPopulation(.file(folder + "/missing.json"), settings: settings)
        }
    }
}
