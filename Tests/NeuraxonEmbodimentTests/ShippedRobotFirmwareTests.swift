import Foundation
import Glibc
import Neuraxon
import NeuraxonChannels
@testable import NeuraxonEmbodiment
import NeuraxonSimulation
import NeuraxonTransport
import Testing

/// Each shipped robot other than the reference robot in the loop through its own firmware:
/// `make -C Firmware ROBOT=robots/<robot>.yaml host host-lib` builds it, `FirmwareInTheLoop`
/// finds it by the robot's name, the run through it is the direct run exactly, and its
/// recording replays exactly.
@Suite(.serialized) struct ShippedRobotFirmwareTests {
    /// The robot's host firmware and library, built from its description.
    static func builds(_ robot: String) throws -> (host: String, library: String) {
        let paths = try FirmwareProcess.build(
            in: SerialFirmware.firmwareFolder, targets: ["ROBOT=robots/\(robot).yaml", "host", "host-lib"],
            products: ["build/robots/\(robot)/host/neuraxon-firmware", "build/robots/\(robot)/host/libneuraxon-firmware.so"])
        return (paths[0], paths[1])
    }

    static func run(_ preset: RobotPreset, robot name: String, seconds: Double, firmware: FirmwareInTheLoop?,
                    recording: String? = nil) throws -> SimulationOutcome {
        let description = try #require(RobotDescription.shipped(name))
        let robot = try SimulatedRobot(description: description, world: try World.named(preset.world), seed: 3, start: 1)
        let network = try preset.network(seed: 3)
        let mapping = try preset.mapping(device: DeviceInfo(simulated: robot))
        let recorder = try recording.map {
            try Recorder(path: $0, header: RecordingHeader(mapping: mapping, network: NetworkIdentity(seed: 3), dtMillis: network.dt),
                         waitWhenFull: true)
        }
        guard let firmware else {
            return try SimulationRun.run(robot: robot, network: network, mapping: mapping, durationSeconds: seconds, recorder: recorder)
        }
        return try SimulationRun.run(robot: robot, network: network, mapping: mapping, durationSeconds: seconds, recorder: recorder,
                                     throughFirmware: firmware)
    }

    @Test("a shipped robot's preset runs through its own host firmware and library exactly as directly, and its recording replays exactly",
          arguments: [("line-follower", "line-follow"), ("sonar-mega", "sonar-scan")])
    func throughItsOwnFirmware(robot: String, presetName: String) throws {
        let built = try Self.builds(robot)
        let preset = try #require(RobotPreset.shipped.first { $0.name == presetName })
        let description = try #require(RobotDescription.shipped(robot))
        let folder = TemporaryFolder()
        // The paths `--through-firmware` picks for this robot are the ones make built.
        let build = FirmwareBuild(description: description)
        #expect(FirmwareInTheLoop.host(folder: SerialFirmware.firmwareFolder, robot: build, environment: [:]) == .host(firmware: built.host))
        #expect(FirmwareInTheLoop.library(folder: SerialFirmware.firmwareFolder, robot: build, environment: [:]) == .library(path: built.library))

        let direct = try Self.run(preset, robot: robot, seconds: 20, firmware: nil)
        let recording = folder.file("through-library.jsonl")
        let library = try Self.run(preset, robot: robot, seconds: 20, firmware: .library(path: built.library), recording: recording)
        #expect(library.endReason == .durationReached)
        #expect(library.counters.ticks == direct.counters.ticks)
        #expect(library.metrics == direct.metrics, "through the library \(library.metrics), direct \(direct.metrics)")
        #expect(direct.metrics.distanceTravelled > 0.5, "the robot moved: \(direct.metrics.distanceTravelled) m")

        let shortDirect = try Self.run(preset, robot: robot, seconds: 3, firmware: nil)
        let host = try Self.run(preset, robot: robot, seconds: 3, firmware: .host(firmware: built.host))
        #expect(host.endReason == .durationReached)
        #expect(host.metrics == shortDirect.metrics, "through the host firmware \(host.metrics), direct \(shortDirect.metrics)")

        let reader = try RecordingReader(path: recording)
        let report = try Replay.run(reader: reader, network: try preset.network(seed: 3), mapping: try reader.header.resolvedMapping())
        #expect(report.ticks == library.counters.ticks)
        #expect(report.identical, "\(report.firstDivergence.map(String.init(describing:)) ?? "")")
        #expect(report.stop == .complete)
    }

    @Test("a robot's firmware that is not built, or built for another robot, is refused naming the make command")
    func missingOrForeignBuildsAreRefused() throws {
        let sonar = try #require(RobotDescription.shipped("sonar-mega"))
        let build = FirmwareBuild(description: sonar)
        let folder = TemporaryFolder()
        for firmware in [FirmwareInTheLoop.host(folder: folder.path, robot: build, environment: [:]),
                         .library(folder: folder.path, robot: build, environment: [:]),
                         .avr(folder: folder.path, robot: build, environment: [:])] {
            #expect(throws: SimFirmwareError.self) { try firmware.checkBuilt(for: build) }
            do { try firmware.checkBuilt(for: build) } catch {
                #expect("\(error)".contains("\(folder.path)/build/robots/sonar-mega/"), "\(error)")
                #expect("\(error)".contains("make -C Firmware ROBOT=robots/sonar-mega.yaml"), "\(error)")
            }
        }
        #expect(FirmwareInTheLoop.avr(folder: "Firmware", robot: build, environment: [:])
                == .avr(harness: "Firmware/build/robots/sonar-mega/sim/nx-avr-harness", elf: "Firmware/build/robots/sonar-mega/avr/nx-sonar-mega.elf"))
        #expect(FirmwareInTheLoop.host(folder: "Firmware", robot: .reference, environment: [:]) == .host(firmware: "Firmware/build/host/neuraxon-firmware"))
        #expect(FirmwareInTheLoop.host(folder: "Firmware", robot: build, environment: ["NEURAXON_FIRMWARE": "/x/fw"]) == .host(firmware: "/x/fw"))

        let lineFollower = try Self.builds("line-follower")
        let robot = try SimulatedRobot(description: sonar, world: try World.named("room"), seed: 1, start: 0)
        for firmware in [FirmwareInTheLoop.host(firmware: lineFollower.host), .library(path: lineFollower.library)] {
            do {
                _ = try SimFirmwareBody(robot: robot, firmware: firmware)
                Issue.record("\(firmware) was accepted for the sonar Mega")
            } catch {
                #expect("\(error)".contains("make -C Firmware ROBOT=robots/sonar-mega.yaml"), "\(error)")
            }
        }
    }
}
