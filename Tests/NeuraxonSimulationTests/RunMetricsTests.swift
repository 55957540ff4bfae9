import Foundation
import Testing
@testable import NeuraxonSimulation

@Suite("Run metrics: contact, displacement, light progress, stuck time, going nowhere, coverage")
struct RunMetricsTests {
    @Test("time in contact counts every step pressed against a wall, not just the one collision")
    func timeInContact() throws {
        // 5 cm from the north wall at 0.3 m/s: in contact after about 0.2 s, for the rest of 3 s.
        let robot = try SimulatedRobot(world: openWorld(width: 1, height: 1, start: Pose(x: 0.5, y: 0.89, heading: .pi / 2)), seed: 1)
        drive(robot, 1000, 1000, seconds: 3)
        #expect(robot.metrics.collisions == 1)
        #expect(robot.metrics.timeInContact > 2.7 && robot.metrics.timeInContact < 2.85)
    }

    @Test("net displacement is the straight line from start to end, whatever the path")
    func netDisplacement() throws {
        // A full circle of radius 0.15 m (8 and 4 rad/s): 0.94 m travelled, back where it began.
        let robot = try SimulatedRobot(world: openWorld(), seed: 1)
        robot.apply(motorLeft: 800, motorRight: 400, servo: 90)
        robot.advance(byMicros: 100_000)  // past the motors' lag
        let start = robot.pose.position, travelled = robot.metrics.distanceTravelled
        robot.advance(byMicros: UInt64(2 * .pi / 1.2 * 1e6))  // one turn at w = 1.2 rad/s
        #expect(abs(robot.metrics.distanceTravelled - travelled - 2 * .pi * 0.15) < 0.005)
        #expect((robot.pose.position - start).length < 0.005)
        #expect(robot.metrics.netDisplacement < 0.06)  // the 0.1 s lead-in's chord at most
        drive(robot, 0, 0, seconds: 0.5)
        drive(robot, 1000, 1000, seconds: 1)
        #expect(abs(robot.metrics.netDisplacement - (robot.pose.position - Vector2(2, 2)).length) < 1e-12)
    }

    @Test("progress toward the light is the start distance less the end distance; no light, no light metrics")
    func lightProgress() throws {
        let light = LightSource(position: Vector2(3.5, 2))
        let robot = try SimulatedRobot(world: openWorld(start: Pose(x: 1, y: 2, heading: 0), lights: [light]), seed: 1)
        #expect(robot.metrics.startDistanceToLight == 2.5)
        drive(robot, 1000, 1000, seconds: 2)
        let progress = try #require(robot.metrics.progressTowardLight)
        #expect(abs(progress - (robot.pose.x - 1)) < 1e-9 && progress > 0.5)
        drive(robot, -1000, -1000, seconds: 3)
        #expect(try #require(robot.metrics.progressTowardLight) < 0)
        #expect(abs(try #require(robot.metrics.closestDistanceToLight) - (2.5 - progress)) < 0.05)

        let dark = try SimulatedRobot(world: openWorld(), seed: 1)
        drive(dark, 1000, 1000, seconds: 1)
        #expect(dark.metrics.startDistanceToLight == nil && dark.metrics.distanceToLight == nil)
        #expect(dark.metrics.progressTowardLight == nil && dark.metrics.closestDistanceToLight == nil)
    }

    @Test("stuck time: commanded but still for at least a second; turning in place or resting is not stuck")
    func stuck() throws {
        let pinned = try SimulatedRobot(world: openWorld(width: 1, height: 1, start: Pose(x: 0.5, y: 0.93, heading: .pi / 2)), seed: 1)
        drive(pinned, 600, 600, seconds: 0.9)
        #expect(pinned.metrics.timeStuck == 0)  // still for under a second: not yet
        drive(pinned, 600, 600, seconds: 2.1)
        // Against the wall from about 0.05 s: stuck for the whole stretch, about 2.95 s.
        #expect(pinned.metrics.timeStuck > 2.8 && pinned.metrics.timeStuck <= 3)

        let spinning = try SimulatedRobot(world: openWorld(), seed: 1)
        drive(spinning, 500, -500, seconds: 3)
        #expect(spinning.metrics.timeStuck == 0 && spinning.metrics.netDisplacement < 1e-9)

        let resting = try SimulatedRobot(world: openWorld(), seed: 1)
        drive(resting, 0, 0, seconds: 3)
        #expect(resting.metrics.timeStuck == 0)
    }

    @Test("going nowhere: driven for at least 10 s without getting 0.25 m from one spot, turning or not")
    func goingNowhere() throws {
        // Turning on the spot for 12 s: not stuck (it turns), but going nowhere for all of it.
        let spinning = try SimulatedRobot(world: openWorld(), seed: 1)
        drive(spinning, 500, -500, seconds: 9.9)
        #expect(spinning.metrics.timeGoingNowhere == 0)  // under 10 s: not yet
        drive(spinning, 500, -500, seconds: 2.1)
        #expect(spinning.metrics.timeGoingNowhere > 11.9 && spinning.metrics.timeGoingNowhere < 12.001)
        #expect(spinning.metrics.timeStuck == 0)

        // A circle of radius 0.1 m (900 and 300 ‰): never more than 0.2 m from its start.
        let small = try SimulatedRobot(world: openWorld(), seed: 1)
        drive(small, 900, 300, seconds: 20)
        #expect(small.metrics.timeGoingNowhere > 19.9 && small.metrics.distanceTravelled > 3)

        // A circle of radius 0.4 m (900 and 700 ‰): back near its start every 10.5 s, yet every
        // stretch leaves 0.25 m of where it began within a few seconds.
        let circling = try SimulatedRobot(world: openWorld(), seed: 1)
        drive(circling, 900, 700, seconds: 30)
        #expect(circling.metrics.timeGoingNowhere == 0 && circling.metrics.distanceTravelled > 6)

        let resting = try SimulatedRobot(world: openWorld(), seed: 1)
        drive(resting, 0, 0, seconds: 30)
        #expect(resting.metrics.timeGoingNowhere == 0)

        // Stretches of 9 s broken by a rest of 1 s (motors off) or by driving off: none counts.
        let broken = try SimulatedRobot(world: openWorld(), seed: 1)
        for _ in 0..<3 {
            drive(broken, 500, -500, seconds: 9)
            drive(broken, 0, 0, seconds: 1)
        }
        drive(broken, 500, -500, seconds: 9)
        drive(broken, 1000, 1000, seconds: 1.5)  // 0.4 m straight on
        drive(broken, 500, -500, seconds: 9)
        #expect(broken.metrics.timeGoingNowhere == 0)

        // A pause shorter than a second (a wheel reversing) does not end a stretch; only the time
        // driven counts: 9 s + 9 s of turning on the spot with 0.5 s off between.
        let paused = try SimulatedRobot(world: openWorld(), seed: 1)
        drive(paused, 500, -500, seconds: 9)
        drive(paused, 0, 0, seconds: 0.5)
        drive(paused, -500, 500, seconds: 9)
        #expect(paused.metrics.timeGoingNowhere > 17.9 && paused.metrics.timeGoingNowhere < 18.001)

        // Pinned against a wall for 12 s: stuck and going nowhere.
        let pinned = try SimulatedRobot(world: openWorld(width: 1, height: 1, start: Pose(x: 0.5, y: 0.93, heading: .pi / 2)), seed: 1)
        drive(pinned, 600, 600, seconds: 12)
        #expect(pinned.metrics.timeGoingNowhere > 11.9 && pinned.metrics.timeStuck > 11.8)
    }

    @Test("coverage is the share of free 0.1 m cells the centre visited")
    func coverage() throws {
        // The 2 m empty arena: cell centres 0.05 … 1.95 m; those 0.05 m from a wall are not free
        // (closer than the 0.06 m body radius), so 18 × 18 = 324 free cells.
        var world = openWorld(width: 2, height: 2, start: Pose(x: 1.01, y: 1.01, heading: 0))
        let robot = try SimulatedRobot(world: world, seed: 1)
        #expect(robot.metrics.freeCells == 324 && robot.metrics.cellsVisited == 1 && robot.metrics.coverageCell == 0.1)
        robot.apply(motorLeft: 1000, motorRight: 1000, servo: 90)
        while robot.pose.x < 1.55 { robot.advance(byMicros: 1000) }
        #expect(robot.metrics.cellsVisited == 6)  // columns 10 … 15 of row 10
        #expect(abs(robot.metrics.coverage - 6.0 / 324) < 1e-12)

        // A disc of radius 0.3 m in the middle removes the cells within 0.36 m of its centre.
        world.obstacles = [.circle(center: Vector2(1, 1), radius: 0.3)]
        world.starts = [Pose(x: 0.3, y: 0.3, heading: 0)]
        let blocked = try SimulatedRobot(world: world, seed: 1)
        var expected = 0
        for row in 1..<19 {
            for column in 1..<19 where (Vector2(Double(column) * 0.1 + 0.05, Double(row) * 0.1 + 0.05) - Vector2(1, 1)).length >= 0.36 {
                expected += 1
            }
        }
        #expect(blocked.metrics.freeCells == expected && expected < 324)
    }

    @Test("a huge arena's coverage grid grows its cells to stay within the cell budget")
    func coverageBudget() throws {
        let robot = try SimulatedRobot(world: openWorld(width: 1000, height: 1000, start: Pose(x: 500, y: 500, heading: 0)), seed: 1)
        #expect(robot.metrics.coverageCell == 2)
        #expect(robot.metrics.freeCells <= CoverageGrid.maximumCells && robot.metrics.freeCells > 240_000)
    }
}
