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
    /// Runs the preset (or a random network) once, continuously, recording every tick with the
    /// robot's pose, then measures the array centre's distance to the line and the progress along
    /// it every 250 ms of simulated time from the recording.
    func follow(seed: UInt64, start: Int, seconds: Double, random: Bool = false)
        throws -> (withinShare: Double, laps: Double, lapSeconds: Double?) {
        let description = try #require(RobotDescription.shipped("line-follower"))
        let world = World.lineTrack
        let robot = try SimulatedRobot(description: description, world: world, seed: seed, start: start)
        let preset = RobotPreset.lineFollow
        let net = random ? try preset.randomNetwork(seed: seed) : try preset.network(seed: seed)
        let mapping = try Mapping(yaml: preset.mappingYAML, device: DeviceInfo(simulated: robot),
                                  inputCount: net.inputCount, outputCount: net.outputCount)
        let folder = TemporaryFolder()
        let path = folder.file("follow.jsonl")
        let header = RecordingHeader(mapping: mapping, network: NetworkIdentity(seed: seed), dtMillis: net.dt)
        let recorder = try Recorder(path: path, header: header, waitWhenFull: true)
        let outcome = try SimulationRun.run(robot: robot, network: net, mapping: mapping, durationSeconds: seconds, recorder: recorder)
        #expect(outcome.endReason == .durationReached)

        let track = LineProgress(World.trackLine)
        let arrayOffset = 0.07
        func centre(_ p: RecordedPose) -> Vector2 {
            Vector2(p.x + arrayOffset * cos(p.heading), p.y + arrayOffset * sin(p.heading))
        }
        let reader = try RecordingReader(path: path)
        var last: Double?
        var progress = 0.0
        var within = 0, samples = 0
        var lapSeconds: Double?
        var nextSample: UInt64 = 250_000
        var first: UInt64?
        while let t = reader.nextTick() {
            guard let pose = t.pose else { continue }
            let here = track.locate(centre(pose))
            if let last {
                var step = here.arc - last
                if step > track.length / 2 { step -= track.length }
                if step < -track.length / 2 { step += track.length }
                progress += step
            }
            last = here.arc
            let since = t.timestampMicros - (first ?? t.timestampMicros)
            if first == nil { first = t.timestampMicros }
            if lapSeconds == nil && progress >= track.length { lapSeconds = Double(since) / 1e6 }
            if since >= nextSample {
                samples += 1
                if here.distance < 0.03 { within += 1 }
                nextSample += 250_000
            }
        }
        #expect(samples >= Int(seconds * 4) - 1, "a pose every tick")
        return (Double(within) / Double(max(1, samples)), progress / track.length, lapSeconds)
    }

    @Test("the line-follow preset keeps its array within 3 cm of the line and laps the track, from every start",
          arguments: [(UInt64(1), 0), (2, 1), (3, 2), (4, 3)])
    func followsTheTrack(seed: UInt64, start: Int) throws {
        let run = try follow(seed: seed, start: start, seconds: 60)
        #expect(run.withinShare > 0.9, "within 3 cm \(run.withinShare)")
        #expect(run.laps >= 1, "laps \(run.laps)")
        #expect((run.lapSeconds ?? .infinity) < 60, "lap time \(String(describing: run.lapSeconds))")
    }

    @Test("a random network of the preset's size does not follow the line")
    func randomDoesNot() throws {
        let run = try follow(seed: 1, start: 0, seconds: 60, random: true)
        #expect(run.withinShare < 0.5 || run.laps < 1, "within \(run.withinShare), laps \(run.laps)")
    }
}

