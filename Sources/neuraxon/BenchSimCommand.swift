import ArgumentParser
import Foundation
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonSimulation
import NeuraxonView

/// `neuraxon bench sim`: the whole headless closed loop, timed.
struct BenchSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Time the headless simulated closed loop (1 ms physics, 200 Hz control, a 30-neuron preset).",
        discussion: "Runs a robot preset in its world through the control loop (one thread) as fast as possible "
            + "and prints simulated seconds per wall-clock second for each run and their median. "
            + "With --physics-only, times the simulation alone (every built-in world, a fixed command, no network); "
            + "with --through-firmware, the loop through the host-built firmware (a process or a library) or the emulated AVR build (Docs/SIMULATION.md)."
    )

    @Flag(help: "Time the simulation alone in every built-in world (no network, no control loop).")
    var physicsOnly = false

    @Option(help: "The robot preset to run (seek, avoid).")
    var network: String = "avoid"

    @Option(name: .customLong("duration"), parsing: .unconditional, help: "Simulated seconds per run.")
    var seconds: Double = 60

    @Option(help: "Runs (seeds 1…N).")
    var repeats: Int = 5

    @Flag(help: "Attach the browser view's tap to the loop and encode its messages at display rate on another thread, as for a watching page (Docs/VIEW.md).")
    var view = false

    @Option(help: ArgumentHelp("Run the loop through the firmware, as `neuraxon sim` does.", valueName: "host|library|avr"))
    var throughFirmware: FirmwareChoice?

    func validate() throws {
        guard RobotPreset.named(network) != nil else {
            throw ValidationError("--network must be a preset: \(RobotPreset.all.map(\.name).joined(separator: ", "))")
        }
        guard seconds.isFinite, seconds > 0, seconds <= 3600 else { throw ValidationError("--duration must be more than 0 and at most 3600 simulated seconds") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        if physicsOnly && throughFirmware != nil { throw ValidationError("--physics-only runs no firmware: drop --through-firmware") }
        if physicsOnly && view { throw ValidationError("--physics-only runs no control loop to view: drop --view") }
    }

    func run() throws {
        if physicsOnly {
            for name in World.builtinNames {
                let speed = try SimulatedRobot.measureSpeed(world: try World.named(name), simulatedSeconds: seconds, seed: 1)
                print(String(format: "%@: %.0f s simulated in %.3f s wall: %.0f× real time (%d frames, %d physics steps)",
                             name, speed.simulatedSeconds, speed.wallSeconds, speed.realTimeFactor, speed.frames, speed.physicsSteps))
            }
            return
        }
        let preset = RobotPreset.named(network)!
        let world = try World.named(preset.world)
        let mapping = try preset.mapping()
        let firmware = throughFirmware?.firmware
        print("preset \(preset.name) (\(preset.parameters.neuronCount) neurons) in world \(world.name): "
              + "physics step \(world.physics.stepMicros) µs, sampling period \(world.link.samplePeriodMicros) µs"
              + (firmware.map { ", through \($0)" } ?? "") + (view ? ", view attached" : ""))
        var factors: [Double] = []
        for seed in 1...repeats {
            let network = try preset.network(seed: UInt64(seed))
            let robot = try SimulatedRobot(world: world, seed: UInt64(seed))
            let watcher = view ? ViewWatcher(mapping: mapping, network: network, robot: robot) : nil
            let outcome = try firmware.map {
                try SimulationRun.run(robot: robot, network: network, mapping: mapping,
                                      durationSeconds: seconds, throughFirmware: $0, observer: watcher?.tap)
            } ?? SimulationRun.run(robot: robot, network: network, mapping: mapping, durationSeconds: seconds,
                                   observer: watcher?.tap)
            watcher?.stop()
            factors.append(outcome.realTimeFactor)
            print(String(format: "seed %d: %.0f s simulated in %.3f s wall: %.0f× real time (%d ticks, %d network steps, %d collisions, %.2f m)",
                         seed, outcome.metrics.simulatedSeconds, outcome.wallSeconds, outcome.realTimeFactor,
                         outcome.counters.ticks, outcome.counters.steps, outcome.metrics.collisions, outcome.metrics.distanceTravelled))
        }
        factors.sort()
        print(String(format: "median %.0f× real time (min %.0f×, max %.0f×)", factors[factors.count / 2], factors.first!, factors.last!))
    }
}
