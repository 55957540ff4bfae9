import Foundation
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonProtocol
import NeuraxonTransport
@testable import NeuraxonView
import XCTest

/// The view of a robot run, against the firmware's host build on a pseudo-terminal, wired as
/// `neuraxon run --view` wires it: the session asks for STATUS while streaming, the tap on the
/// loop, the link panel reading the body.
final class RobotLinkPanelTests: XCTestCase {
    static let firmwareFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Firmware").path

    /// The link panel shows the board's failsafe state from its STATUS (active while the loop
    /// commands it), the PING → PONG round trip (p50 ≤ p99, in ms, from the session's own
    /// statistics) and the session's counters; a clamp is refused without `--view-control`.
    func testTheLinkPanelShowsRoundTripFailsafeAndCounters() throws {
        let binary = try FirmwareProcess.build(in: Self.firmwareFolder, targets: ["host"], products: ["build/host/neuraxon-firmware"])[0]
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = nil
        let firmware = try FirmwareProcess(executable: binary, arguments: ["--id", "6e78766965770001"], environment: environment)
        defer { firmware.quit() }
        let stop = StopRequest()
        var options = SessionOptions(selector: .path(firmware.path),
                                     config: LinkConfig(periodMilliseconds: 10, failsafeMilliseconds: 200, sensorMask: 0x7F))
        options.monitor = nil
        options.stopRequest = stop
        options.roundTripProbeMilliseconds = 100
        options.statusPollMilliseconds = 200
        let body = try SerialRobotBody(options: options)
        defer { body.stopActuators() }
        let network = try NetworkPreset.reference.build(seed: 3)
        let mapping = try Mapping(yaml: referenceMappingYAML, device: body.device,
                                  inputCount: network.inputCount, outputCount: network.outputCount)
        let tap = ViewTap(mapping: mapping, network: network, robot: nil, controlsEnabled: false)
        let loop = try ControlLoop(body: body, network: network, mapping: mapping, stopRequest: stop, observer: tap)
        let feed = LiveFeed(tap: tap, scene: "{}", stopRequest: stop, link: LinkPanel(body: body))
        loop.start()
        defer {
            stop.request()
            _ = loop.wait()
        }

        // Read the panel as the server does, 30 times a second, until it has round trips and a
        // STATUS from the streaming board (a generous bound: both come within a second).
        var link: [String: Any]?
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let message = feed.frame(watching: true) {
                for part in message.split(separator: "\u{1e}") {
                    let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(part.utf8)) as? [String: Any])
                    if object["type"] as? String == "ticks", let l = object["link"] as? [String: Any] { link = l }
                }
            }
            if let l = link, l["failsafe"] as? String == "active",
               let rt = l["round_trip_ms"] as? [String: Any], (rt["count"] as? Int ?? 0) >= 3 { break }
            Thread.sleep(forTimeInterval: 1.0 / 30)
        }
        let panel = try XCTUnwrap(link, "no ticks message carried the link panel")
        XCTAssertEqual(panel["state"] as? String, "streaming")
        XCTAssertEqual(panel["failsafe"] as? String, FailsafeState.active.description)
        let roundTrip = try XCTUnwrap(panel["round_trip_ms"] as? [String: Any])
        let count = try XCTUnwrap(roundTrip["count"] as? Int)
        XCTAssertGreaterThanOrEqual(count, 3)
        let p50 = try XCTUnwrap(roundTrip["p50"] as? Double), p99 = try XCTUnwrap(roundTrip["p99"] as? Double)
        XCTAssertGreaterThan(p50, 0)
        XCTAssertLessThanOrEqual(p50, p99)
        XCTAssertLessThan(p99, 1000, "a round trip over a pseudo-terminal takes milliseconds")
        let counters = try XCTUnwrap(panel["counters"] as? [String: Int])
        let now = body.link.counters
        XCTAssertGreaterThan(counters["sensor_frames"] ?? 0, 0)
        XCTAssertLessThanOrEqual(counters["sensor_frames"] ?? .max, Int(now.sensorFrames))
        XCTAssertGreaterThanOrEqual(counters["pongs_received"] ?? 0, count)
        XCTAssertEqual(counters["crc_errors"], 0)
        XCTAssertEqual(counters["link_losses"], 0)

        // Without --view-control a clamp changes nothing.
        let reply = try XCTUnwrap(feed.handle(.clamp(0, .excitatory)))
        XCTAssertTrue(reply.contains("--view-control"), reply)

        // The clean stop still gets the board's answer to STOP, not a late answer to a probe.
        stop.request()
        _ = loop.wait()
        body.stopActuators()
        XCTAssertEqual(body.finalStatus?.failsafe, FailsafeState.stopped.rawValue)
    }
}
