import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// How the view's server listens and what it lets a page do.
public struct ViewServerOptions: Sendable {
    /// The address to listen on. Anything but a loopback address needs a token.
    public var host = "127.0.0.1"
    /// The TCP port; 0 picks a free one.
    public var port = 8765
    /// The access token every request must carry (`?token=` once, then a cookie); generated
    /// when listening on another address than loopback, nil (no token) on loopback.
    public var token: String?
    /// Where Debian's libjs-three is installed.
    public var threeDirectory = "/usr/share/javascript/three"
    /// Pages connected at once, at most.
    public var maximumClients = 8
    /// Messages a page may send per second (sustained; bursts of twice that), more are refused.
    public var messagesPerSecond = 20.0
    /// Refused messages after which a page is disconnected.
    public var refusalsBeforeDisconnect = 50
    /// Messages waiting to be sent to one page, at most; a slow page loses the oldest.
    public var outboxCapacity = 4
    /// Display rate: tick messages per second.
    public var framesPerSecond = 30.0

    public init() {}

    /// Whether `host` is a loopback address.
    public var isLoopback: Bool { host == "127.0.0.1" || host == "localhost" || host == "::1" || host.hasPrefix("127.") }

    /// A random token of 32 hexadecimal digits.
    public static func makeToken() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%08x", UInt32.random(in: 0...UInt32.max, using: &g)) }.joined()
    }
}

/// A failure to start the view's server, worded for users.
public struct ViewServerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The view's server: one page (our own HTML, JavaScript and CSS, and three.js from Debian's
/// libjs-three) over HTTP, the scene at `/scene.json`, and one WebSocket at `/ws` that sends
/// tick messages at display rate and takes the page's commands.
///
/// Security (Docs/VIEW.md, "Security"): listens on 127.0.0.1 unless told otherwise, and then
/// only with a token; checks the Host of every request and the Origin of every WebSocket
/// (a page of another site cannot connect, nor one reached by DNS rebinding); checks every
/// page message (`PageCommand.parse`); bounds what a client can cost: frames and messages of
/// at most 1 KiB, a per-client message rate, a bounded outbox per client that drops the
/// oldest, and a bounded number of clients.
public final class ViewServer: @unchecked Sendable {
    public let options: ViewServerOptions
    public let feed: any ViewFeed
    private let clients = Clients()
    private var task: Task<Void, any Error>?
    private var pump: Task<Void, Never>?
    private let lock = NSLock()
    private var boundPort = 0
    private let pageDirectory: String

    public init(options: ViewServerOptions, feed: any ViewFeed) throws(ViewServerError) {
        var options = options
        if !options.isLoopback && options.token == nil { options.token = ViewServerOptions.makeToken() }
        self.options = options
        self.feed = feed
        guard let page = Bundle.module.url(forResource: "Page", withExtension: nil)?.path else {
            throw ViewServerError("the view's page is missing from the installation (resource folder Page); rebuild neuraxon")
        }
        pageDirectory = page
    }

    /// The port the server listens on (after `start()`).
    public var port: Int { lock.withLock { boundPort } }

    /// The address to open in a browser, with the token when there is one.
    public var url: String {
        let host = options.host.contains(":") ? "[\(options.host)]" : options.host
        return "http://\(host):\(port)/" + (options.token.map { "?token=\($0)" } ?? "")
    }

    /// Starts listening and returns once the port is open.
    /// - Throws: `ViewServerError` when the address cannot be used (port taken, no such address).
    public func start() throws(ViewServerError) {
        let router = Router()
        let options = self.options, feed = self.feed, pageDirectory = self.pageDirectory
        router.middlewares.add(AccessMiddleware<BasicRequestContext>(options: options, portBox: { [weak self] in self?.port ?? 0 }))
        router.get("/") { _, _ in try Self.file(pageDirectory + "/index.html") }
        router.get("/page/:name") { _, context in
            let name = context.parameters.get("name") ?? ""
            guard Self.isPlainName(name) else { throw HTTPError(.notFound) }
            return try Self.file(pageDirectory + "/" + name)
        }
        router.get("/three/**") { request, _ in
            let rest = String(request.uri.path.dropFirst("/three/".count))
            guard rest.split(separator: "/").allSatisfy({ Self.isPlainName(String($0)) }) else { throw HTTPError(.notFound) }
            return try Self.file(options.threeDirectory + "/" + rest)
        }
        router.get("/scene.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: feed.sceneJSON)))
        }
        router.get("/ws") { _, _ -> Response in
            // Reached only when the upgrade was refused.
            Response(status: .forbidden, body: .init(byteBuffer: ByteBuffer(string: "WebSocket refused: wrong Origin, Host or token, or too many pages\n")))
        }

        let clients = self.clients
        let config = HTTP1WebSocketUpgradeChannel.Configuration(
            ws: WebSocketServerConfiguration(maxFrameSize: PageCommand.maximumBytes * 4, autoPing: .enabled(timePeriod: .seconds(30)),
                                             closeTimeout: .seconds(2), validateUTF8: true))
        let portBox: @Sendable () -> Int = { [weak self] in self?.port ?? 0 }
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(configuration: config) { request, _, _ in
                guard request.path?.split(separator: "?").first == "/ws",
                      AccessMiddleware<BasicRequestContext>.allows(request, options: options, port: portBox(), websocket: true),
                      clients.count < options.maximumClients else { return .dontUpgrade }
                return .upgrade([:]) { inbound, outbound, _ in
                    await Self.serve(inbound: inbound, outbound: outbound, feed: feed, clients: clients, options: options)
                }
            },
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
            onServerRunning: { [weak self] channel in
                guard let self else { return }
                let port = channel.localAddress?.port ?? 0
                self.lock.withLock { self.boundPort = port }
            },
            logger: Logger(label: "neuraxon-view", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let started = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        task = Task.detached {
            do {
                try await app.run()
            } catch {
                failure.set("\(error)")
                started.signal()
            }
        }
        // Wait for the port (or the failure), at most 10 s.
        let deadline = Date().addingTimeInterval(10)
        while port == 0 && failure.get() == nil && Date() < deadline {
            _ = started.wait(timeout: .now() + .milliseconds(5))
        }
        if let message = failure.get() {
            throw ViewServerError("cannot serve the view on \(options.host):\(options.port) (\(Self.reason(message))): choose another --view-port or --host")
        }
        guard port != 0 else { throw ViewServerError("the view's server did not start within 10 s") }
        pump = Task.detached { [feed, clients] in
            let period = UInt64(1e9 / max(1, options.framesPerSecond))
            while !Task.isCancelled {
                if let message = feed.frame(watching: clients.count > 0) { clients.broadcast(message) }
                try? await Task.sleep(nanoseconds: period)
            }
        }
    }

    /// Sends what the feed still has, then stops listening and closes every page's connection.
    public func stop() {
        if let message = feed.frame(watching: clients.count > 0) { clients.broadcast(message) }
        pump?.cancel()
        clients.finishAll()
        task?.cancel()
        pump = nil
        task = nil
    }

    /// Pages connected now.
    public var clientCount: Int { clients.count }

    // MARK: Serving one page

    private static func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, feed: any ViewFeed,
                              clients: Clients, options: ViewServerOptions) async {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(options.outboxCapacity))
        continuation.yield(feed.sceneJSON)
        let id = clients.add(continuation)
        defer { clients.remove(id) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in stream {
                    do { try await outbound.writeTextMessage(message) } catch { break }
                }
            }
            group.addTask {
                var limiter = RateLimiter(perSecond: options.messagesPerSecond)
                var refusals = 0
                do {
                    for try await message in inbound.messages(maxSize: PageCommand.maximumBytes) {
                        let reply: String?
                        if !limiter.allow() {
                            reply = Notice.error("too many messages: at most \(Int(options.messagesPerSecond)) a second")
                            refusals += 1
                        } else {
                            switch message {
                            case let .text(text):
                                do { reply = feed.handle(try PageCommand.parse(text)) } catch {
                                    reply = Notice.error("message refused: \(error)")
                                    refusals += 1
                                }
                            case .binary:
                                reply = Notice.error("message refused: binary messages are not accepted")
                                refusals += 1
                            }
                        }
                        if let reply { continuation.yield(reply) }
                        if refusals >= options.refusalsBeforeDisconnect { break }
                    }
                } catch {}
                continuation.finish()
            }
            await group.next()
            group.cancelAll()
        }
    }

    // MARK: Files

    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.hasPrefix(".")
            && name.allSatisfy { $0.isLetter || $0.isNumber || "._-".contains($0) } && name.utf8.count < 200
    }

    /// A file as a response; follows symbolic links (Debian's three.js `build/` holds links).
    static func file(_ path: String) throws -> Response {
        guard let data = FileManager.default.contents(atPath: URL(fileURLWithPath: path).resolvingSymlinksInPath().path) else {
            throw HTTPError(.notFound)
        }
        let type: String
        switch (path as NSString).pathExtension {
        case "html": type = "text/html; charset=utf-8"
        case "js": type = "text/javascript; charset=utf-8"
        case "css": type = "text/css; charset=utf-8"
        case "json": type = "application/json"
        case "png": type = "image/png"
        default: type = "application/octet-stream"
        }
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func reason(_ text: String) -> String {
        if text.contains("Address already in use") || text.contains("EADDRINUSE") { return "the port is in use" }
        if text.contains("Cannot assign requested address") || text.contains("EADDRNOTAVAIL") { return "this machine has no such address" }
        if text.contains("Permission denied") || text.contains("EACCES") { return "permission denied" }
        return "the address cannot be used"
    }
}

/// Checks the Host of every request, the token where one is set, and the Origin of WebSockets.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let options: ViewServerOptions
    let portBox: @Sendable () -> Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.allows(request.head, options: options, port: portBox(), websocket: false) else {
            return Response(status: .forbidden, body: .init(byteBuffer: ByteBuffer(string: "forbidden: wrong Host or missing token\n")))
        }
        var response = try await next(request, context)
        if let token = options.token, Self.query(request.head, "token") == token {
            response.headers[.setCookie] = "neuraxon_view=\(token); Path=/; HttpOnly; SameSite=Strict"
        }
        return response
    }

    /// The host names a request may be addressed to: the address listened on, and the
    /// loopback names when listening on loopback.
    static func allowedHosts(_ options: ViewServerOptions, port: Int) -> Set<String> {
        var names = [options.host.contains(":") ? "[\(options.host)]" : options.host]
        if options.isLoopback { names += ["127.0.0.1", "localhost", "[::1]"] }
        return Set(names.map { "\($0):\(port)" })
    }

    /// On loopback without a token, the Host must be a loopback name (a page of another site
    /// reached through DNS rebinding names its own host); with a token, the token (from the
    /// query or the cookie set when the page was opened) is the proof. A WebSocket's Origin
    /// must be this server's own (`http://` and the Host the request was sent to).
    static func allows(_ request: HTTPRequest, options: ViewServerOptions, port: Int, websocket: Bool) -> Bool {
        guard let host = request.authority?.lowercased() else { return false }
        if let token = options.token {
            let cookie = request.headerFields[.cookie] ?? ""
            let cookies = cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard query(request, "token") == token || cookies.contains("neuraxon_view=\(token)") else { return false }
        } else {
            guard allowedHosts(options, port: port).contains(host) else { return false }
        }
        if websocket {
            guard let origin = request.headerFields[.origin]?.lowercased(), origin == "http://" + host else { return false }
        }
        return true
    }

    static func query(_ request: HTTPRequest, _ name: String) -> String? {
        guard let path = request.path, let q = path.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in q.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == name { return String(kv[1]) }
        }
        return nil
    }
}

/// The connected pages' outboxes.
final class Clients: @unchecked Sendable {
    private let lock = NSLock()
    private var outboxes: [Int: AsyncStream<String>.Continuation] = [:]
    private var nextId = 0

    var count: Int { lock.withLock { outboxes.count } }

    func add(_ c: AsyncStream<String>.Continuation) -> Int {
        lock.withLock {
            nextId += 1
            outboxes[nextId] = c
            return nextId
        }
    }

    func remove(_ id: Int) { _ = lock.withLock { outboxes.removeValue(forKey: id) } }

    /// Queues `message` for every page; a page whose outbox is full loses its oldest message.
    func broadcast(_ message: String) {
        for c in lock.withLock({ Array(outboxes.values) }) { c.yield(message) }
    }

    func finishAll() {
        for c in lock.withLock({ Array(outboxes.values) }) { c.finish() }
    }
}

/// A token bucket: `perSecond` messages a second, bursts of twice that.
struct RateLimiter {
    let perSecond: Double
    private var tokens: Double
    private var last = Date()

    init(perSecond: Double) {
        self.perSecond = perSecond
        tokens = 2 * perSecond
    }

    mutating func allow() -> Bool {
        let now = Date()
        tokens = min(2 * perSecond, tokens + now.timeIntervalSince(last) * perSecond)
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var message: String?
    func set(_ m: String) { lock.withLock { message = m } }
    func get() -> String? { lock.withLock { message } }
}
