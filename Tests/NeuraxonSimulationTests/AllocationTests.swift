#if canImport(CAllocationCounter)
import CAllocationCounter
import Testing
@testable import NeuraxonSimulation

@Suite("Allocation")
struct AllocationTests {
    @Test("a control tick (frame, readings, command, physics) allocates nothing once built")
    func tickAllocatesNothing() throws {
        var world = World.obstacleCourse
        world.link.commandLatencyMicros = 12_000
        world.link.dropout = 0.1
        world.robot.bumper.flipProbability = 0.01
        let robot = try SimulatedRobot(world: world, seed: 5)
        for _ in 0..<10 {
            robot.nextFrame()
            robot.apply(motorLeft: 500, motorRight: 400, servo: 90)
        }
        var checksum = 0
        nx_alloc_counter_start()
        for tick in 0..<2000 {
            let stamp = robot.nextFrame()
            let readings = robot.readings
            checksum &+= Int(readings[0]) &+ Int(readings[6]) &+ Int(stamp.sequence)
            robot.apply(motorLeft: Int16(tick % 1000), motorRight: 300, servo: 90)
        }
        checksum &+= robot.metrics.collisions
        let allocations = nx_alloc_counter_stop()
        #expect(allocations == 0)
        #expect(checksum != 0)
    }
}
#endif
