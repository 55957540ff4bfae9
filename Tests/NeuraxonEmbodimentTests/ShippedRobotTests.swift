import Foundation
import Neuraxon
import NeuraxonChannels
@testable import NeuraxonEmbodiment
import NeuraxonSimulation
import Testing

/// Where the reflectance array's centre is along a closed marking and how far it is from it.
struct LineProgress {
    let marking: FloorMarking
    let pieces: [(Vector2, Vector2, Double)]  // from, to, arc length at `from`
    let length: Double

    init(_ marking: FloorMarking) {
        self.marking = marking
        var at = 0.0
        var pieces: [(Vector2, Vector2, Double)] = []
        var points = marking.points
        if marking.closed { points.append(points[0]) }
        for k in 1..<points.count {
            pieces.append((points[k - 1], points[k], at))
            at += (points[k] - points[k - 1]).length
        }
        self.pieces = pieces
        length = at
    }

    /// The arc length of the point of the line nearest `p`, and the distance to it.
    func locate(_ p: Vector2) -> (arc: Double, distance: Double) {
        var best = (arc: 0.0, distance: Double.infinity)
        for (a, b, start) in pieces {
            let e = b - a
            let t = min(max((p - a).dot(e) / e.dot(e), 0), 1)
            let q = a + e * t
            let d = (p - q).length
            if d < best.distance { best = (start + t * e.length, d) }
        }
        return best
    }
}

@Suite struct LineFollowerTests {
    /// Runs the preset (or a random network) and measures, every 250 ms, the array centre's
    /// distance to the line and the progress along it.
    func follow(seed: UInt64, start: Int, seconds: Double, random: Bool = false)
        throws -> (withinShare: Double, laps: Double, lapSeconds: Double?) {
        let description = try #require(RobotDescription.shipped("line-follower"))
        let world = World.lineTrack
        let robot = try SimulatedRobot(description: description, world: world, seed: seed, start: start)
        let preset = RobotPreset.lineFollow
        let net = random ? try preset.randomNetwork(seed: seed) : try preset.network(seed: seed)
        let mapping = try Mapping(yaml: preset.mappingYAML, device: DeviceInfo(simulated: robot),
                                  inputCount: net.inputCount, outputCount: net.outputCount)
        let track = LineProgress(World.trackLine)
        let arrayOffset = Vector2(0.07, 0)
        func centre() -> Vector2 {
            let h = robot.pose.heading
            return robot.pose.position + Vector2(arrayOffset.x * cos(h), arrayOffset.x * sin(h))
        }
        var last = track.locate(centre()).arc
        var progress = 0.0
        var within = 0, samples = 0
        var lapSeconds: Double?
        var t = 0.25
        // Run in slices of 250 ms of simulated time on the same robot and network.
        while t <= seconds + 1e-9 {
            _ = try SimulationRun.run(robot: robot, network: net, mapping: mapping, durationSeconds: t)
            let here = track.locate(centre())
            var step = here.arc - last
            if step > track.length / 2 { step -= track.length }
            if step < -track.length / 2 { step += track.length }
            progress += step
            last = here.arc
            samples += 1
            if here.distance < 0.03 { within += 1 }
            if lapSeconds == nil && progress >= track.length { lapSeconds = robot.timeMicros.secondsValue }
            t += 0.25
        }
        return (Double(within) / Double(samples), progress / track.length, lapSeconds)
    }

    @Test("the line-follow preset keeps its array within 3 cm of the line and laps the track, from every start",
          arguments: [(UInt64(1), 0), (2, 1), (3, 2), (4, 3)])
    func followsTheTrack(seed: UInt64, start: Int) throws {
        let run = try follow(seed: seed, start: start, seconds: 60)
        #expect(run.withinShare > 0.9, "within 3 cm \(run.withinShare)")
        #expect(run.laps >= 1, "laps \(run.laps)")
        #expect((run.lapSeconds ?? .infinity) < 60, "lap time \(String(describing: run.lapSeconds))")
    }
}

extension UInt64 {
    fileprivate var secondsValue: Double { Double(self) / 1e6 }
}
