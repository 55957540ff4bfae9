import Foundation
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonTransport
@testable import NeuraxonView
import XCTest

/// A feed that sends a numbered message every frame and counts the commands it is given.
final class CountingFeed: ViewFeed, @unchecked Sendable {
    let sceneJSON = "{\"type\":\"scene\"}"
    private let lock = NSLock()
    private var frames = 0
    private(set) var commands: [PageCommand] = []
    /// Bytes of padding in each message.
    let padding: Int

    init(padding: Int = 2000) { self.padding = padding }

    func frame(watching: Bool) -> String? {
        lock.withLock {
            frames += 1
            return "{\"type\":\"ticks\",\"frame\":\(frames),\"padding\":\"\(String(repeating: "x", count: padding))\"}"
        }
    }

    func handle(_ command: PageCommand) -> String? {
        lock.withLock { commands.append(command) }
        return nil
    }

    var commandCount: Int { lock.withLock { commands.count } }
}

final class ViewSecurityTests: XCTestCase {
    private func serve(_ feed: any ViewFeed = CountingFeed(), configure: (inout ViewServerOptions) -> Void = { _ in }) throws -> ViewServer {
        var options = ViewServerOptions()
        options.port = 0
        configure(&options)
        let server = try ViewServer(options: options, feed: feed)
        try server.start()
        return server
    }

    private func origin(_ server: ViewServer) -> String { "http://127.0.0.1:\(server.port)" }

    /// A refused WebSocket upgrade: an HTTP client error (400 or 403), never 101.
    private func assertRefused(_ status: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue((400..<500).contains(status), "the upgrade was answered \(status)", file: file, line: line)
    }

    /// By default the server listens on 127.0.0.1 only, with no token.
    func testListensOnLoopbackByDefault() throws {
        XCTAssertEqual(ViewServerOptions().host, "127.0.0.1")
        let server = try serve()
        defer { server.stop() }
        XCTAssertNil(server.options.token)
        XCTAssertEqual(server.url, "http://127.0.0.1:\(server.port)/")
        // The kernel's table of listening sockets: our port, bound to 127.0.0.1 (0100007F).
        let table = try String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)
        let port = String(format: "%04X", server.port)
        let listening = table.split(separator: "\n").filter { $0.contains(":\(port) ") && $0.contains(" 0A ") }
        XCTAssertFalse(listening.isEmpty, "no listening socket on port \(server.port)")
        XCTAssertTrue(listening.allSatisfy { $0.contains("0100007F:\(port)") }, "\(listening)")
        XCTAssertEqual(try RawClient.get(port: server.port, path: "/").status, 200)
    }

    /// Another address needs a token, generated and printed with the address; without it
    /// nothing is served, with it (once in the address, then as a cookie) everything is.
    func testAnotherAddressNeedsTheToken() throws {
        let server = try serve { $0.host = "0.0.0.0" }
        defer { server.stop() }
        let token = try XCTUnwrap(server.options.token)
        XCTAssertEqual(token.count, 32)
        XCTAssertTrue(server.url.hasSuffix("/?token=\(token)"))
        let port = server.port
        XCTAssertEqual(try RawClient.get(port: port, path: "/").status, 403)
        XCTAssertEqual(try RawClient.get(port: port, path: "/?token=0123456789abcdef0123456789abcdef").status, 403)
        XCTAssertEqual(try RawClient.get(port: port, path: "/scene.json").status, 403)
        let page = try RawClient.get(port: port, path: "/?token=\(token)")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.text.lowercased().contains("set-cookie: neuraxon_view=\(token)"), page.text)
        XCTAssertEqual(try RawClient.get(port: port, path: "/scene.json", headers: ["Cookie": "neuraxon_view=\(token)"]).status, 200)
        assertRefused(try RawClient(port: port).upgrade(port: port, origin: origin(server)))
        let client = try RawClient(port: port)
        XCTAssertEqual(client.upgrade(port: port, origin: origin(server), path: "/ws?token=\(token)"), 101)
        XCTAssertEqual(client.nextText(), "{\"type\":\"scene\"}")
    }

    /// The WebSocket checks its Origin: a page of another site (or none) cannot connect, nor a
    /// page that reached the server through DNS rebinding (its own host name in Host).
    func testTheWebSocketChecksItsOrigin() throws {
        let server = try serve()
        defer { server.stop() }
        let port = server.port
        assertRefused(try RawClient(port: port).upgrade(port: port, origin: "http://evil.example"))
        assertRefused(try RawClient(port: port).upgrade(port: port, origin: nil))
        assertRefused(try RawClient(port: port).upgrade(port: port, origin: "http://127.0.0.1:\(port + 1)"))
        assertRefused(try RawClient(port: port).upgrade(port: port, origin: "http://evil.example:\(port)", host: "evil.example:\(port)"))
        XCTAssertEqual(try RawClient.get(port: port, path: "/", headers: ["Host": "evil.example:\(port)"]).status, 403)
        XCTAssertEqual(try RawClient(port: port).upgrade(port: port, origin: origin(server)), 101)
        XCTAssertEqual(try RawClient(port: port).upgrade(port: port, origin: "http://localhost:\(port)", host: "localhost:\(port)"), 101)
    }

    /// Every message from the page is checked like command-line input: what is wrong is
    /// refused with a reason, and nothing of it reaches the run.
    func testEveryPageMessageIsValidated() throws {
        let refused = [
            "not json", "[1,2]", "{}", "{\"type\":3}", "{\"type\":\"explode\"}",
            "{\"type\":\"modulate\",\"modulator\":\"dopamine\"}",
            "{\"type\":\"modulate\",\"modulator\":\"dopamine\",\"level\":1.5}",
            "{\"type\":\"modulate\",\"modulator\":\"dopamine\",\"level\":-0.1}",
            "{\"type\":\"modulate\",\"modulator\":\"dopamine\",\"level\":\"0.5\"}",
            "{\"type\":\"modulate\",\"modulator\":\"dopamine\",\"level\":true}",
            "{\"type\":\"modulate\",\"modulator\":\"adrenaline\",\"level\":0.5}",
            "{\"type\":\"modulate\",\"modulator\":\"dopamine\",\"level\":0.5,\"extra\":1}",
            "{\"type\":\"step\",\"count\":0}", "{\"type\":\"step\",\"count\":1.5}", "{\"type\":\"step\",\"count\":100000}",
            "{\"type\":\"speed\",\"value\":0}", "{\"type\":\"speed\",\"value\":1e308}",
            "{\"type\":\"seek\",\"tick\":-1}", "{\"type\":\"stop\",\"now\":true}",
            "{\"type\":\"clamp\",\"index\":0}", "{\"type\":\"clamp\",\"index\":0,\"state\":2}",
            "{\"type\":\"clamp\",\"index\":-1,\"state\":1}", "{\"type\":\"clamp\",\"index\":0.5,\"state\":1}",
            "{\"type\":\"clamp\",\"index\":0,\"state\":\"released\"}", "{\"type\":\"release\",\"index\":0,\"state\":1}",
            "{\"type\":\"release\"}",
            "{\"type\":\"modulate\",\"modulator\":\"dopamine\",\"level\":0.5,\"pad\":\"\(String(repeating: "x", count: 1100))\"}",
        ]
        for text in refused {
            XCTAssertThrowsError(try PageCommand.parse(text), text)
        }
        XCTAssertEqual(try PageCommand.parse("{\"type\":\"modulate\",\"modulator\":\"dopamine\",\"level\":0.25}"), .modulate(.dopamine, 0.25))
        XCTAssertEqual(try PageCommand.parse("{\"type\":\"step\"}"), .step(1))
        XCTAssertEqual(try PageCommand.parse("{\"type\":\"seek\",\"tick\":12}"), .seek(12))
        XCTAssertEqual(try PageCommand.parse("{\"type\":\"clamp\",\"index\":2,\"state\":-1}"), .clamp(2, .inhibitory))
        XCTAssertEqual(try PageCommand.parse("{\"type\":\"release\",\"index\":2}"), .clamp(2, nil))
        // An input the run does not have is refused by the run's feed, naming its inputs.
        let mapping = try RobotPreset.named("seek")!.mapping()
        let live = LiveFeed(tap: ViewTap(mapping: mapping, network: nil, robot: nil), scene: "{}", stopRequest: StopRequest())
        let reply = try XCTUnwrap(live.handle(.clamp(mapping.inputCount, .excitatory)))
        XCTAssertTrue(reply.contains("inputs 0…\(mapping.inputCount - 1)"), reply)
        XCTAssertNil(live.handle(.clamp(0, .excitatory)))

        // Over the WebSocket: each refused message gets an error, none reaches the feed.
        let feed = CountingFeed()
        let server = try serve(feed)
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        XCTAssertEqual(client.upgrade(port: server.port, origin: origin(server)), 101)
        for text in refused.prefix(10) {
            client.sendText(text)
            XCTAssertNotNil(client.waitFor { $0.contains("\"type\":\"error\"") && $0.contains("message refused") }, text)
        }
        client.sendFrame(opcode: 2, [1, 2, 3])
        XCTAssertNotNil(client.waitFor { $0.contains("binary messages are not accepted") })
        client.sendText("{\"type\":\"pause\"}")
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(feed.commands, [.pause])
    }

    /// A message larger than the limit closes that connection (1009, message too big); the
    /// server goes on serving others.
    func testAnOversizedMessageClosesItsConnection() throws {
        let feed = CountingFeed()
        let server = try serve(feed)
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        XCTAssertEqual(client.upgrade(port: server.port, origin: origin(server)), 101)
        client.sendFrame(Array(String(repeating: "x", count: 64 * 1024).utf8))
        XCTAssertNil(client.waitFor(limit: 10_000) { _ in false })
        XCTAssertEqual(client.closeCode ?? 1009, 1009)
        // Fragments adding up to more than the limit are refused the same way.
        let fragmented = try RawClient(port: server.port)
        XCTAssertEqual(fragmented.upgrade(port: server.port, origin: origin(server)), 101)
        for k in 0..<4 { fragmented.sendFrame(opcode: k == 0 ? 1 : 0, Array(String(repeating: "y", count: 1000).utf8), fin: k == 3) }
        XCTAssertNil(fragmented.waitFor(limit: 10_000) { _ in false })
        XCTAssertEqual(feed.commandCount, 0)
        let other = try RawClient(port: server.port)
        XCTAssertEqual(other.upgrade(port: server.port, origin: origin(server)), 101)
        XCTAssertNotNil(other.waitFor { $0.contains("\"frame\"") })
    }

    /// A client that sends too fast has its excess refused, and is disconnected when it keeps
    /// on; another client is not affected.
    func testAFloodingClientIsLimitedAndThenDisconnected() throws {
        let feed = CountingFeed()
        let server = try serve(feed)
        defer { server.stop() }
        let flood = try RawClient(port: server.port)
        XCTAssertEqual(flood.upgrade(port: server.port, origin: origin(server)), 101)
        let calm = try RawClient(port: server.port)
        XCTAssertEqual(calm.upgrade(port: server.port, origin: origin(server)), 101)
        for _ in 0..<500 { flood.sendText("{\"type\":\"pause\"}") }
        XCTAssertNotNil(flood.waitFor(limit: 10_000) { $0.contains("too many messages") })
        XCTAssertNil(flood.waitFor(limit: 10_000) { _ in false }, "the flooding client was not disconnected")
        // At most the burst allowance (twice the rate) plus what the rate refilled got through.
        XCTAssertLessThanOrEqual(feed.commandCount, 2 * Int(server.options.messagesPerSecond) + 20)
        XCTAssertGreaterThanOrEqual(feed.commandCount, 2 * Int(server.options.messagesPerSecond))
        calm.sendText("{\"type\":\"play\"}")
        XCTAssertNotNil(calm.waitFor { $0.contains("\"frame\"") })
    }

    /// A client that stops reading cannot stall the server: another client keeps getting
    /// messages at display rate, and the stalled one's outbox stays bounded.
    func testAStalledClientDoesNotStallTheOthers() throws {
        // 100 KB a message, 30 a second: the stalled client's socket buffers fill within a second.
        let server = try serve(CountingFeed(padding: 100_000))
        defer { server.stop() }
        let stalled = try RawClient(port: server.port)
        XCTAssertEqual(stalled.upgrade(port: server.port, origin: origin(server)), 101)
        let reader = try RawClient(port: server.port)
        XCTAssertEqual(reader.upgrade(port: server.port, origin: origin(server)), 101)
        func frameNumber(_ text: String) -> Int? {
            guard let r = text.range(of: "\"frame\":") else { return nil }
            return Int(text[r.upperBound...].prefix { $0.isNumber })
        }
        _ = reader.waitFor { frameNumber($0) != nil }
        let start = Date()
        var received = 0
        while Date().timeIntervalSince(start) < 3 {
            if let text = reader.nextText(), frameNumber(text) != nil { received += 1 }
        }
        // 30 frames a second for 3 s: at least a third of them, however loaded the machine.
        XCTAssertGreaterThan(received, 30, "a stalled client slowed the others to \(received) messages in 3 s")
        XCTAssertEqual(server.clientCount, 2)
    }

    /// The number of pages at once is bounded.
    func testTooManyClientsAreRefused() throws {
        let server = try serve { $0.maximumClients = 2 }
        defer { server.stop() }
        let a = try RawClient(port: server.port), b = try RawClient(port: server.port)
        XCTAssertEqual(a.upgrade(port: server.port, origin: origin(server)), 101)
        XCTAssertEqual(b.upgrade(port: server.port, origin: origin(server)), 101)
        _ = a.nextText(); _ = b.nextText()
        assertRefused(try RawClient(port: server.port).upgrade(port: server.port, origin: origin(server)))
    }

    /// On a robot run, controls that change behaviour are off unless allowed; STOP always works.
    func testARobotRunRefusesControlsButAlwaysStops() throws {
        let mapping = try RobotPreset.named("seek")!.mapping()
        let tap = ViewTap(mapping: mapping, network: nil, robot: nil, controlsEnabled: false)
        let stop = StopRequest()
        let feed = LiveFeed(tap: tap, scene: "{}", stopRequest: stop)
        let reply = try XCTUnwrap(feed.handle(.modulate(.dopamine, 0.9)))
        XCTAssertTrue(reply.contains("--view-control"), reply)
        let clamp = try XCTUnwrap(feed.handle(.clamp(0, .excitatory)))
        XCTAssertTrue(clamp.contains("--view-control"), clamp)
        XCTAssertFalse(stop.isRequested)
        _ = feed.handle(.stop)
        XCTAssertTrue(stop.isRequested)
    }
}
