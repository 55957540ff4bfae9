import Foundation
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonSimulation
@testable import NeuraxonView
import XCTest

/// `neuraxon view FILE`: a recording played with a timeline.
final class RecordingFeedTests: XCTestCase {
    private func ticks(in message: String) -> [Int] {
        let json = message.split(separator: "\u{1e}").first.map(String.init) ?? ""
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let ticks = object["ticks"] as? [[String: Any]] else { return [] }
        return ticks.compactMap { $0["tick"] as? Int }
    }

    func testPlayPauseStepSpeedAndSeek() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let preset = RobotPreset.named("seek")!
        let world = try World.named(preset.world)
        let robot = try SimulatedRobot(world: world, seed: 2)
        let network = try preset.network(seed: 2)
        let mapping = try Mapping(yaml: preset.mappingYAML, device: DeviceInfo(simulated: robot),
                                  inputCount: network.inputCount, outputCount: network.outputCount)
        var header = RecordingHeader(mapping: mapping, network: NetworkIdentity(seed: 2), dtMillis: network.dt)
        header.world = world.worldFileText()
        let path = folder + "/run.jsonl"
        let recorder = try Recorder(path: path, header: header, waitWhenFull: true)
        _ = try SimulationRun.run(robot: robot, network: network, mapping: mapping, durationSeconds: 2, recorder: recorder)

        let feed = try RecordingFeed(path: path)
        XCTAssertEqual(feed.tickCount, 401)
        XCTAssertTrue(feed.sceneJSON.contains("\"mode\":\"recording\""))
        XCTAssertTrue(feed.sceneJSON.contains("\"world\":{\"name\":\"light\""))

        // Paused, a step shows the next tick only; a seek shows the tick sought.
        XCTAssertNil(feed.handle(.pause).flatMap { ticks(in: $0).isEmpty ? nil : $0 })
        _ = feed.frame(watching: true)
        let first = ticks(in: try XCTUnwrap(feed.handle(.step(1))))
        XCTAssertEqual(first.count, 1)
        XCTAssertEqual(ticks(in: try XCTUnwrap(feed.handle(.step(3)))), [first[0] + 1, first[0] + 2, first[0] + 3])
        XCTAssertEqual(ticks(in: try XCTUnwrap(feed.handle(.seek(200)))), [200])
        let position = try XCTUnwrap(feed.handle(.pause))
        XCTAssertTrue(position.contains("\"tick\":200"), position)
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertNil(feed.frame(watching: true), "a paused recording moved")

        // Playing at 20×: 0.3 s of wall-clock time is about 6 recorded seconds, past the end.
        _ = feed.handle(.speed(20))
        _ = feed.handle(.play)
        var seen: [Int] = []
        let deadline = Date().addingTimeInterval(10)
        while seen.last != 400 && Date() < deadline {
            if let m = feed.frame(watching: true) { seen += ticks(in: m) }
            Thread.sleep(forTimeInterval: 0.03)
        }
        XCTAssertEqual(seen.last, 400)
        XCTAssertTrue(seen.allSatisfy { $0 > 200 }, "played from before the tick sought")
        XCTAssertEqual(seen, seen.sorted())

        // A recording cannot be steered.
        XCTAssertTrue(feed.handle(.modulate(.dopamine, 1))?.contains("cannot be steered") == true)
    }
}
