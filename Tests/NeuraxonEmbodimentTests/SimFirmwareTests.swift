import Foundation
import Neuraxon
@testable import NeuraxonEmbodiment
import NeuraxonSimulation
import Testing

/// The simulated robot through its firmware over a real pseudo-terminal (the host build, and the
/// real AVR build under emulation) agrees with the direct simulation.
@Suite struct SimFirmwareTests {
    @Test func theFirmwareInTheLoopAgreesWithTheDirectSimulation() throws {
        let firmware = try SerialFirmware.binary.get()
        let world = try World.named("obstacles")
        let preset = RobotPreset.avoid
        let mapping = try preset.mapping()

        let direct = try SimulationRun.run(world: world, seed: 3, start: 1, network: try preset.network(seed: 3),
                                           mapping: mapping, durationSeconds: 5)

        let robot = try SimulatedRobot(world: world, seed: 3, start: 1)
        let body = try SimFirmwareBody(robot: robot, firmware: .host(firmware: firmware))
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
        #expect((body.serial?.link.counters.sensorFrames ?? 0) >= 1000, "every frame came over the pseudo-terminal")
    }

    @Test func theCommandLineRunThroughTheFirmwareToo() throws {
        let firmware = try SerialFirmware.binary.get()
        let preset = RobotPreset.seek
        let world = try World.named(preset.world)
        let direct = try SimulationRun.run(world: world, seed: 2, start: 3, network: try preset.network(seed: 2),
                                           mapping: try preset.mapping(), durationSeconds: 3)
        let viaFirmware = try SimulationRun.run(world: world, seed: 2, start: 3, network: try preset.network(seed: 2),
                                                mapping: try preset.mapping(), durationSeconds: 3, throughFirmware: .host(firmware: firmware))
        #expect(viaFirmware.endReason == .durationReached)
        #expect(viaFirmware.counters.ticks == direct.counters.ticks)
        #expect(abs(viaFirmware.metrics.distanceTravelled - direct.metrics.distanceTravelled) <= 0.1 * direct.metrics.distanceTravelled + 0.01)
        #expect(throws: SimFirmwareError.self) {
            _ = try SimulationRun.run(world: world, seed: 2, network: try preset.network(seed: 2), mapping: try preset.mapping(),
                                      durationSeconds: 1, throughFirmware: .host(firmware: "/nonexistent/neuraxon-firmware"))
        }
    }

    /// The AVR build reads the world through its ADC, bumper pin and encoder interrupts and drives
    /// the wheels through 8-bit PWM, on its own sampling schedule: the metrics agree with the
    /// direct simulation within what that adds. Measured (avoid, obstacles, start 1, seed 3, 5 s):
    /// the same collisions, distance within 2 %, ticks within 1.
    @Test func theRealAVRBuildUnderEmulationAgreesWithTheDirectSimulation() throws {
        let avr = try SerialFirmware.avr.get()
        let world = try World.named("obstacles")
        let preset = RobotPreset.avoid
        let direct = try SimulationRun.run(world: world, seed: 3, start: 1, network: try preset.network(seed: 3),
                                           mapping: try preset.mapping(), durationSeconds: 5)
        let robot = try SimulatedRobot(world: world, seed: 3, start: 1)
        let viaAVR = try SimulationRun.run(robot: robot, network: try preset.network(seed: 3), mapping: try preset.mapping(),
                                           durationSeconds: 5, throughFirmware: avr)
        #expect(viaAVR.endReason == .durationReached, "\(viaAVR.endReason)")
        #expect(abs(viaAVR.counters.ticks - direct.counters.ticks) <= 5, "\(viaAVR.counters.ticks) ticks, direct \(direct.counters.ticks)")
        #expect(robot.metrics.distanceTravelled > 0.2)
        #expect(abs(viaAVR.metrics.distanceTravelled - direct.metrics.distanceTravelled) <= 0.1 * direct.metrics.distanceTravelled,
                "through the AVR \(viaAVR.metrics.distanceTravelled) m, direct \(direct.metrics.distanceTravelled) m")
        #expect(viaAVR.metrics.collisions == direct.metrics.collisions)
        #expect(viaAVR.link.commandsSent >= 990, "every tick the firmware's outputs drove the wheels")
    }

    /// Emulated time moves only when the simulation moves it, so two runs are the same run.
    @Test func runsThroughTheEmulatedAVRAreReproducible() throws {
        let avr = try SerialFirmware.avr.get()
        let preset = RobotPreset.seek
        let world = try World.named(preset.world)
        var runs: [SimulationOutcome] = []
        for _ in 0..<2 {
            runs.append(try SimulationRun.run(world: world, seed: 2, start: 3, network: try preset.network(seed: 2),
                                              mapping: try preset.mapping(), durationSeconds: 2, throughFirmware: avr))
        }
        #expect(runs[0].metrics == runs[1].metrics)
        #expect(runs[0].counters.ticks == runs[1].counters.ticks && runs[0].counters.steps == runs[1].counters.steps)
    }

    /// A firmware that dies mid-run (here the harness, killed) ends the run as a lost link with
    /// the metrics so far; it does not take the controller down with it.
    @Test func aFirmwareThatDiesEndsTheRunAsALostLink() throws {
        guard case let .avr(harness, elf) = try SerialFirmware.avr.get() else { return }
        let folder = TemporaryFolder()
        let image = folder.file("doomed-\(getpid()).elf")
        try FileManager.default.copyItem(atPath: elf, toPath: image)
        let preset = RobotPreset.seek
        DispatchQueue.global().asyncAfter(deadline: .now() + 1.0) {
            let kill = Process()
            kill.executableURL = URL(fileURLWithPath: "/usr/bin/pkill")
            kill.arguments = ["-KILL", "-f", image]
            try? kill.run()
            kill.waitUntilExit()
        }
        let outcome = try SimulationRun.run(world: try World.named(preset.world), seed: 1, network: try preset.network(seed: 1),
                                            mapping: try preset.mapping(), durationSeconds: 600,
                                            throughFirmware: .avr(harness: harness, elf: image))
        #expect(outcome.endReason == .linkLost)
        #expect(outcome.metrics.simulatedSeconds > 0 && outcome.metrics.simulatedSeconds < 600)
        #expect(outcome.counters.ticks > 0)
    }

    @Test func aMissingHarnessOrImageIsNamedWithHowToBuildIt() throws {
        let world = try World.named("empty")
        let preset = RobotPreset.seek
        for (firmware, expected) in [(FirmwareInTheLoop.avr(harness: "/nonexistent/nx-avr-harness", elf: "x.elf"), "make -C Firmware sim"),
                                     (FirmwareInTheLoop.avr(harness: "/bin/true", elf: "/nonexistent/neuraxon-uno.elf"), "make -C Firmware avr")] {
            do {
                _ = try SimulationRun.run(world: world, seed: 1, network: try preset.network(seed: 1), mapping: try preset.mapping(),
                                          durationSeconds: 1, throughFirmware: firmware)
                Issue.record("\(firmware) should have been refused")
            } catch let error as SimFirmwareError {
                #expect(error.description.contains(expected), "\(error)")
            }
        }
    }

    /// Both firmwares report actuator values as channel lines (`actuator <k> <value>`, the
    /// harness with ` t=<µs>` after it); anything else is passed over.
    @Test func actuatorLinesReadBackAsChannelValues() {
        var actuators: [Int16] = [0, 0, 90]
        for line in ["actuator 0 502 t=12", "pwm D6 128 t=12", "actuator 1 -1000", "actuator 2 180 t=40",
                     "actuator 3 7", "actuator x 1", "actuator 0", "sensors_sent 3 t=6", "garbage"] {
            LineFirmware.note(line[...], actuators: &actuators)
        }
        #expect(actuators == [502, -1000, 180])
    }
}
