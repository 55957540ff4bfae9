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


@Suite struct SonarMegaTests {
    /// One continuous 60 s run of the preset (or a random network of its size) in `room`,
    /// recorded: its metrics and the servo's setpoint on every tick.
    func roam(seed: UInt64, start: Int, random: Bool = false) throws -> (metrics: RunMetrics, servo: [Int16]) {
        let description = try #require(RobotDescription.shipped("sonar-mega"))
        let robot = try SimulatedRobot(description: description, world: World.sonarRoom, seed: seed, start: start)
        let preset = RobotPreset.sonarScan
        let net = random ? try preset.randomNetwork(seed: seed) : try preset.network(seed: seed)
        let mapping = try preset.mapping(device: DeviceInfo(simulated: robot))
        let folder = TemporaryFolder()
        let path = folder.file("roam.jsonl")
        let header = RecordingHeader(mapping: mapping, network: NetworkIdentity(seed: seed), dtMillis: net.dt)
        let recorder = try Recorder(path: path, header: header, waitWhenFull: true)
        let outcome = try SimulationRun.run(robot: robot, network: net, mapping: mapping, durationSeconds: 60, recorder: recorder)
        #expect(outcome.endReason == .durationReached)
        let servoIndex = try #require(mapping.decoders.first { $0.channel == "sonar_servo" }).channelIndex
        let reader = try RecordingReader(path: path)
        var servo: [Int16] = []
        while let t = reader.nextTick() { servo.append(t.setpoints[servoIndex]) }
        return (outcome.metrics, servo)
    }

    static let starts: [(UInt64, Int)] = [(1, 0), (2, 1), (3, 2), (4, 3), (5, 4)]

    /// Measured (these five 60 s runs): the preset 1 collision in 5 minutes and 49.0 m, its
    /// sonar swinging 216–230 times a minute; a random network of its size 28 collisions and
    /// 19.9 m.
    @Test("the sonar-scan preset sweeps its sonar and collides far less often than a random network of its size, from every start")
    func avoidsObstacles() throws {
        var presetCollisions = 0, randomCollisions = 0, presetDistance = 0.0
        for (seed, start) in Self.starts {
            let run = try roam(seed: seed, start: start)
            presetCollisions += run.metrics.collisions
            presetDistance += run.metrics.distanceTravelled
            // The servo swings between 45° (right) and 135° (left), again and again.
            let left = run.servo.filter { $0 >= 130 }.count, right = run.servo.filter { $0 <= 50 }.count
            var swings = 0
            var last: Bool?
            for s in run.servo where s >= 130 || s <= 50 {
                let isLeft = s >= 130
                if let last, last != isLeft { swings += 1 }
                last = isLeft
            }
            #expect(left > run.servo.count / 5 && right > run.servo.count / 5, "left \(left), right \(right) of \(run.servo.count)")
            #expect(swings >= 60, "the sonar swung \(swings) times in 60 s")
            randomCollisions += try roam(seed: seed, start: start, random: true).metrics.collisions
        }
        let minutes = Double(Self.starts.count)
        #expect(Double(presetCollisions) / minutes <= 1, "the preset: \(presetCollisions) collisions in \(minutes) min")
        #expect(Double(randomCollisions) / minutes >= 3, "a random network: \(randomCollisions) collisions in \(minutes) min")
        #expect(presetDistance / minutes > 5, "the preset drove \(presetDistance / minutes) m a minute")
    }

    @Test func theMappingFileInDocsIsThePresetsMapping() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let text = try String(contentsOfFile: root + "/Docs/examples/sonar-mega.mapping.yaml", encoding: .utf8)
        #expect(text == RobotPreset.sonarScan.mappingYAML)
        #expect(RobotPreset.robot(of: .sonarScan) == "sonar-mega")
    }
}
