import Foundation
import Glibc
#if canImport(CAllocationCounter)
import CAllocationCounter
#endif
import Neuraxon
@testable import NeuraxonEmbodiment
import NeuraxonSimulation
import NeuraxonTransport
import Testing

/// Firmware in the loop through the one lockstep driver: no round trip over the pseudo-terminal
/// beyond the frames themselves, the host build's runs the direct simulation's exactly, and the
/// same firmware loaded as a library runs them too, with no pseudo-terminal at all.
@Suite struct LockstepTests {
    /// The host firmware built as a library, once per test run.
    static let library = Result { () throws(FirmwareProcessError) -> String in
        if let given = ProcessInfo.processInfo.environment["NEURAXON_FIRMWARE_LIB"] { return given }
        return try FirmwareProcess.build(in: SerialFirmware.firmwareFolder, targets: ["host-lib"],
                                         products: ["build/host/libneuraxon-firmware.so"])[0]
    }

    /// The same run three ways: direct, through the host firmware process over a pty, and through
    /// the firmware library in this process. All three give the same ticks and metrics; the
    /// library's frames went through the real codec (every tick's SENSORS and COMMAND counted)
    /// and no pseudo-terminal.
    @Test func theFirmwareLibraryInTheLoopIsTheDirectRunAndThePtyRunExactly() throws {
        let preset = RobotPreset.seek
        let world = try World.named(preset.world)
        func run(_ firmware: FirmwareInTheLoop?) throws -> SimulationOutcome {
            let network = try preset.network(seed: 4), mapping = try preset.mapping()
            guard let firmware else {
                return try SimulationRun.run(world: world, seed: 4, start: 1, network: network, mapping: mapping, durationSeconds: 4)
            }
            return try SimulationRun.run(world: world, seed: 4, start: 1, network: network, mapping: mapping, durationSeconds: 4,
                                         throughFirmware: firmware)
        }
        let direct = try run(nil)
        let pty = try run(.host(firmware: try SerialFirmware.binary.get()))
        let library = try run(.library(path: try Self.library.get()))
        #expect(direct.endReason == .durationReached && library.endReason == .durationReached)
        #expect(library.counters.ticks == direct.counters.ticks && library.counters.ticks == pty.counters.ticks)
        #expect(library.metrics == direct.metrics, "through the library \(library.metrics), direct \(direct.metrics)")
        #expect(library.metrics == pty.metrics, "through the library \(library.metrics), over the pty \(pty.metrics)")
        #expect(direct.metrics.distanceTravelled > 0.5, "the robot moved: \(direct.metrics.distanceTravelled) m")
    }

    /// The library's link is the protocol's: the handshake names every channel as the pty's
    /// session does, each tick is one SENSORS frame and one COMMAND through the codec with no
    /// frame lost or refused, and the firmware checks what it is sent (a setpoint beyond the
    /// servo's range is refused with an ERROR, the command not applied).
    @Test func theLibraryLinkSpeaksTheProtocol() throws {
        let robot = try SimulatedRobot(world: try World.named("empty"), seed: 1, start: 0)
        let body = try SimFirmwareBody(robot: robot, firmware: .library(path: try Self.library.get()))
        let pty = try SimFirmwareBody(robot: try SimulatedRobot(world: try World.named("empty"), seed: 1, start: 0),
                                      firmware: .host(firmware: try SerialFirmware.binary.get()))
        #expect(body.device == pty.device, "library \(body.device), pty \(pty.device)")
        pty.stopActuators()
        let link = try #require(body.libraryLink)
        #expect(body.serial == nil)
        var frame = SensorFrame(channelCount: robot.sensorChannels.count)
        for _ in 0..<100 {
            #expect(body.nextFrame(into: &frame, timeoutMicros: 1_000_000) == .frame)
            #expect(frame.count == robot.sensorChannels.count)
            #expect(body.send([400, -200, 120]))
        }
        #expect(link.counters.sensorFrames == 100 && link.counters.commandsSent == 100)
        #expect(link.counters.droppedFrames == 0 && link.counters.crcErrors == 0 && link.counters.rejectedFrames == 0
                && link.counters.malformedFrames == 0 && link.counters.boardErrors == 0, "\(link.counters)")
        #expect(robot.motorLeft == 400 && robot.motorRight == -200 && robot.servo == 120)
        #expect(body.nextFrame(into: &frame, timeoutMicros: 1_000_000) == .frame)
        #expect(body.send([0, 0, 500]))
        #expect(body.nextFrame(into: &frame, timeoutMicros: 1_000_000) == .frame)  // the ERROR comes before it
        #expect(link.counters.boardErrors == 1, "a servo setpoint of 500° is refused: \(link.counters)")
        #expect(robot.motorLeft == 400 && robot.servo == 120, "the refused command is not applied")
        body.stopActuators()
        #expect(!body.send([400, -200, 90]), "nothing goes out after the stop")
    }

    /// Each body loads a firmware of its own: two runs side by side in one process, their ticks
    /// interleaved, each end exactly where the same run alone ends, with no frame lost.
    @Test func twoLibraryFirmwaresInOneProcessDoNotShareState() throws {
        let path = try Self.library.get()
        let world = try World.named("light")
        func command(_ k: Int, _ tick: Int) -> [Int16] { k == 0 ? [500, 450, 90] : [200, 600, Int16(tick % 180)] }
        func drive(_ indices: [Int]) throws -> [SimulatedRobot] {
            let robots = try indices.map { try SimulatedRobot(world: world, seed: UInt64($0 + 1), start: $0) }
            let bodies = try robots.map { try SimFirmwareBody(robot: $0, firmware: .library(path: path)) }
            var frame = SensorFrame(channelCount: robots[0].sensorChannels.count)
            for tick in 0..<300 {
                for (body, k) in zip(bodies, indices) {
                    #expect(body.nextFrame(into: &frame, timeoutMicros: 1_000_000) == .frame)
                    #expect(body.send(command(k, tick)))
                }
            }
            for body in bodies {
                #expect(body.libraryLink?.counters.sensorFrames == 300 && body.libraryLink?.counters.droppedFrames == 0)
            }
            return robots
        }
        let together = try drive([0, 1])
        let alone = [try drive([0])[0], try drive([1])[0]]
        for k in 0..<2 {
            #expect(together[k].metrics == alone[k].metrics, "robot \(k): together \(together[k].metrics), alone \(alone[k].metrics)")
            #expect(together[k].metrics.distanceTravelled > 0.1)
        }
    }

    #if canImport(CAllocationCounter)
    /// Through the library, a tick of the body (the world to the firmware's frame, the frame
    /// decoded, the command encoded and applied) allocates nothing once running.
    @Test func aTickThroughTheLibraryAllocatesNothing() throws {
        let robot = try SimulatedRobot(world: try World.named("light"), seed: 1, start: 0)
        let body = try SimFirmwareBody(robot: robot, firmware: .library(path: try Self.library.get()))
        var frame = SensorFrame(channelCount: robot.sensorChannels.count)
        var commands: [[Int16]] = [[300, 500, 90], [500, 300, 100]]
        func tick(_ k: Int) {
            _ = body.nextFrame(into: &frame, timeoutMicros: 1_000_000)
            _ = body.send(commands[k % 2])
        }
        for k in 0..<100 { tick(k) }  // warm up
        nx_alloc_counter_start()
        for k in 0..<1000 { tick(k) }
        let allocations = nx_alloc_counter_stop()
        #expect(allocations == 0)
        #expect(body.libraryLink?.counters.sensorFrames == 1100)
        commands.removeAll()
    }
    #endif

    /// A missing or foreign library is refused with the file and the fix, not a crash.
    @Test func aMissingOrForeignLibraryIsRefusedClearly() throws {
        let robot = try SimulatedRobot(world: try World.named("empty"), seed: 1, start: 0)
        #expect {
            try SimFirmwareBody(robot: robot, firmware: .library(path: "/nonexistent/libneuraxon-firmware.so"))
        } throws: { error in
            "\(error)".contains("no firmware library at /nonexistent/libneuraxon-firmware.so") && "\(error)".contains("make -C Firmware host-lib")
        }
        let folder = TemporaryFolder()
        let notALibrary = folder.file("libneuraxon-firmware.so")
        try Data("not a shared object".utf8).write(to: URL(fileURLWithPath: notALibrary))
        #expect {
            try SimFirmwareBody(robot: robot, firmware: .library(path: notALibrary))
        } throws: { error in
            "\(error)".contains("cannot load the firmware library \(notALibrary)") && "\(error)".contains("host-lib")
        }
        let candidates = ["/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6", "/lib/aarch64-linux-gnu/libm.so.6"]
        let foreign = try #require(candidates.first { Glibc.access($0, R_OK) == 0 })
        #expect {
            try SimFirmwareBody(robot: robot, firmware: .library(path: foreign))
        } throws: { error in
            "\(error)".contains("has no nx_lib_api_version") && "\(error)".contains("host-lib")
        }
        let sonarMega = try FirmwareProcess.build(in: SerialFirmware.firmwareFolder, targets: ["ROBOT=robots/sonar-mega.yaml", "host-lib"],
                                                     products: ["build/robots/sonar-mega/host/libneuraxon-firmware.so"])[0]
        #expect {
            try SimFirmwareBody(robot: robot, firmware: .library(path: sonarMega))
        } throws: { error in
            "\(error)".contains("was built for a robot with") && "\(error)".contains("the simulated robot has 7 and 3")
        }
    }

    /// Each command is known to be applied from the firmware's `deliver` answer, so the session
    /// sends no PING, and the run is the direct simulation's, metric for metric.
    @Test func theHostFirmwareInTheLoopSendsNoPingAndIsTheDirectRunExactly() throws {
        let firmware = try SerialFirmware.binary.get()
        let preset = RobotPreset.seek
        let world = try World.named(preset.world)
        let direct = try SimulationRun.run(world: world, seed: 2, start: 3, network: try preset.network(seed: 2),
                                           mapping: try preset.mapping(), durationSeconds: 3)

        let robot = try SimulatedRobot(world: world, seed: 2, start: 3)
        let body = try SimFirmwareBody(robot: robot, firmware: .host(firmware: firmware))
        let mapping = try Mapping(yaml: try preset.mapping().source, device: body.device, inputCount: 11, outputCount: 4)
        let loop = try ControlLoop(body: body, network: try preset.network(seed: 2), mapping: mapping,
                                   linkLossPolicy: .end, durationMicros: 3_000_000)
        loop.start()
        #expect(loop.wait() == .durationReached)
        let session = try #require(body.serial).session.counters
        #expect(session.pingsSent == 0, "\(session.pingsSent) PINGs")
        #expect(session.commandsSent >= 600 && session.sensorFrames >= 600)
        #expect(loop.status().counters.ticks == direct.counters.ticks)
        #expect(robot.metrics == direct.metrics, "through the firmware \(robot.metrics), direct \(direct.metrics)")
    }

    /// The emulated AVR through the same driver and lines: the harness (`--channels`) reports the
    /// firmware's actuator values itself, so a command's values come back as commanded, within
    /// the 8-bit PWM's resolution, and an encoder's count reaches the firmware as pulses.
    @Test func theEmulatedAVRAnswersInChannelValues() throws {
        let avr = try SerialFirmware.avr.get()
        let robot = try SimulatedRobot(world: try World.named("empty"), seed: 1, start: 0)
        let body = try SimFirmwareBody(robot: robot, firmware: avr)
        var frame = SensorFrame(channelCount: robot.sensorChannels.count)
        for _ in 0..<200 {
            #expect(body.nextFrame(into: &frame, timeoutMicros: 1_000_000) == .frame)
            #expect(body.send([600, -300, 120]))
        }
        #expect(body.nextFrame(into: &frame, timeoutMicros: 1_000_000) == .frame)
        #expect(abs(Int(robot.motorLeft) - 600) <= 2 && abs(Int(robot.motorRight) + 300) <= 2, "\(robot.motorLeft), \(robot.motorRight)")
        #expect(abs(Int(robot.servo) - 120) <= 1, "\(robot.servo)°")
        let counted = frame.readings[ReferenceChannels.wheelLeft], simulated = robot.readings[ReferenceChannels.wheelLeft]
        #expect(counted > 0 && simulated > 0 && abs(Int(counted) - Int(simulated)) <= Int(simulated) / 5 + 5,
                "the firmware counted \(counted) ticks, the world \(simulated)")
        body.stopActuators()
    }
}
