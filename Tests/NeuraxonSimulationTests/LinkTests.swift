import Foundation
import Testing
@testable import NeuraxonSimulation

@Suite("Frames, latency, dropout and failsafe")
struct LinkTests {
    @Test("frames come every sampling period with consecutive sequence numbers; skipped instants show as gaps")
    func frameTiming() throws {
        var world = openWorld()
        world.link.samplePeriodMicros = 4000
        let robot = try SimulatedRobot(world: world, seed: 1)
        for k in 0..<10 {
            let stamp = robot.nextFrame()
            #expect(stamp == FrameStamp(timestampMicros: UInt64(k) * 4000, sequence: UInt32(k)))
        }
        robot.advance(byMicros: 10_000)  // now 46 ms: the instants at 40 and 44 ms are skipped
        let stamp = robot.nextFrame()
        #expect(stamp == FrameStamp(timestampMicros: 48_000, sequence: 12))
        #expect(robot.readings.count == ReferenceChannels.sensors.count)
    }

    @Test("a command takes effect only after the configured latency")
    func latency() throws {
        var world = openWorld()
        world.link.commandLatencyMicros = 50_000
        let robot = try SimulatedRobot(world: world, seed: 1)
        robot.apply(motorLeft: 1000, motorRight: 1000, servo: 90)
        robot.advance(toMicros: 50_000)
        #expect(robot.leftWheelSpeed == 0 && robot.motorLeft == 0)
        robot.advance(toMicros: 51_000)
        #expect(robot.leftWheelSpeed > 0 && robot.motorLeft == 1000)
        #expect(robot.linkCounters.commandsArrived == 1)
    }

    @Test("commands are lost at the configured dropout rate, drawn from the seed")
    func dropout() throws {
        var world = openWorld()
        world.link.dropout = 0.3
        let robot = try SimulatedRobot(world: world, seed: 3)
        for _ in 0..<5000 {
            robot.nextFrame()
            robot.apply(motorLeft: 100, motorRight: 100, servo: 90)
        }
        robot.nextFrame()
        let counters = robot.linkCounters
        #expect(counters.commandsSent == 5000)
        #expect(counters.commandsLost > 1300 && counters.commandsLost < 1700)  // 1500 ± 6σ
        #expect(counters.commandsArrived + counters.commandsLost == counters.commandsSent)

        world.link.dropout = 1
        let deaf = try SimulatedRobot(world: world, seed: 3)
        drive(deaf, 1000, 1000, seconds: 1)
        #expect(deaf.linkCounters.commandsLost == 1 && deaf.leftWheelSpeed == 0)
    }

    @Test("with no command for the failsafe timeout, the motors stop by themselves")
    func failsafe() throws {
        var world = openWorld()
        world.link.failsafeTimeoutMicros = 100_000
        let robot = try SimulatedRobot(world: world, seed: 1)
        robot.apply(motorLeft: 1000, motorRight: 1000, servo: 20)
        robot.advance(toMicros: 100_000)
        #expect(robot.motorLeft == 1000 && robot.servo == 20)
        robot.advance(toMicros: 101_000)
        #expect(robot.motorLeft == 0 && robot.motorRight == 0 && robot.servo == 90)
        #expect(robot.linkCounters.failsafeStops == 1)
        robot.advance(toMicros: 1_000_000)
        #expect(robot.leftWheelSpeed < 1e-6)

        // Regular commands keep it going.
        let fed = try SimulatedRobot(world: world, seed: 1)
        for _ in 0..<200 {
            fed.nextFrame()
            fed.apply(motorLeft: 1000, motorRight: 1000, servo: 90)
        }
        #expect(fed.motorLeft == 1000 && fed.linkCounters.failsafeStops == 0)
    }

    @Test("too many commands in flight drop the oldest and are counted")
    func queueOverflow() throws {
        var world = openWorld()
        world.link.commandLatencyMicros = 1_000_000
        let robot = try SimulatedRobot(world: world, seed: 1)
        for i in 0..<(SimulatedRobot.commandQueueCapacity + 10) {
            robot.apply(motorLeft: Int16(i), motorRight: 0, servo: 90)
        }
        #expect(robot.linkCounters.commandsOverflowed == 10)
        robot.advance(toMicros: 1_001_000)
        #expect(robot.motorLeft == Int16(SimulatedRobot.commandQueueCapacity + 9))
    }
}

@Suite("Determinism")
struct DeterminismTests {
    /// A run of the light world with every noise source and a lossy, slow link, driven by a
    /// controller that reacts to what it reads. Returns every reading and pose, as bits.
    func run(seed: UInt64) throws -> [UInt64] {
        var world = World.lightArena
        world.link.dropout = 0.2
        world.link.commandLatencyMicros = 15_000
        world.robot.bumper.flipProbability = 0.01
        let robot = try SimulatedRobot(world: world, seed: seed, start: 3)
        var trace: [UInt64] = []
        for _ in 0..<1000 {
            robot.nextFrame()
            let r = robot.readings
            let left = Int16(clamping: 300 + Int(r[3]) / 4 - Int(r[1]) / 3)
            let right = Int16(clamping: 300 + Int(r[2]) / 4 - Int(r[0]) / 3)
            robot.apply(motorLeft: left, motorRight: right, servo: 90)
            trace += r.map { UInt64(UInt16(bitPattern: $0)) }
            trace += [robot.pose.x.bitPattern, robot.pose.y.bitPattern, robot.pose.heading.bitPattern]
        }
        trace.append(robot.metrics.distanceTravelled.bitPattern)
        return trace
    }

    @Test("the same world, seed and commands give the same run bit for bit; another seed differs")
    func sameSeedSameRun() throws {
        let first = try run(seed: 42)
        let second = try run(seed: 42)
        let other = try run(seed: 43)
        #expect(first == second)
        #expect(first != other)
    }

    @Test("the generator is reproducible and its streams independent")
    func generator() {
        var a = SimulationRandom(seed: 9), b = SimulationRandom(seed: 9), c = SimulationRandom(seed: 9, stream: 1)
        let xs = (0..<100).map { _ in a.next() }
        #expect(xs == (0..<100).map { _ in b.next() })
        #expect(xs != (0..<100).map { _ in c.next() })
        var u = SimulationRandom(seed: 5)
        let mean = (0..<20_000).map { _ in u.uniform() }.reduce(0, +) / 20_000
        #expect(abs(mean - 0.5) < 0.01)
    }
}
