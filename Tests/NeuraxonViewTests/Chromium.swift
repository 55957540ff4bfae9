import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
/// file descriptors 3 and 4, NUL-terminated JSON messages). Software rendering (SwiftShader),
/// its own temporary profile; `close()` ends the browser and removes the profile.
final class Chromium: @unchecked Sendable {
    static let executable = "/usr/lib/chromium/chromium"

    private let pid: pid_t
    private let toBrowser: Int32
    private let fromBrowser: Int32
    private let profile: String
    private let lock = NSCondition()
    private var responses: [Int: [String: Any]] = [:]
    private var exceptions: [String] = []
    private var nextId = 0
    private var readerDone = false
    private var session: String?
    private var closed = false

    /// Starts the browser and opens one page of `width`×`height` CSS pixels.
    /// - Throws: a failure that says how to install Chromium when it is missing.
    init(width: Int = 1280, height: Int = 900) throws {
        guard access(Self.executable, X_OK) == 0 else {
            throw BrowserFailure("Chromium is not installed at \(Self.executable): run scripts/install-deps.sh (Debian packages chromium, chromium-driver, libjs-three)")
        }
        profile = NSTemporaryDirectory() + "neuraxon-chromium-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        var input: [Int32] = [0, 0], output: [Int32] = [0, 0]
        guard pipe(&input) == 0, pipe(&output) == 0 else { throw BrowserFailure("cannot make pipes for Chromium") }
        for fd in input + output { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 3)
        posix_spawn_file_actions_adddup2(&actions, output[1], 4)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = [Self.executable, "--headless=new", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                         "--user-data-dir=\(profile)", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                         "--disable-background-networking", "--disable-component-update", "--mute-audio", "--hide-scrollbars",
                         "--disable-crash-reporter", "--window-size=\(width),\(height)", "--remote-debugging-pipe", "about:blank"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = profile
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in envp { free(p) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, Self.executable, &actions, nil, &argv, &envp)
        Glibc.close(input[0]); Glibc.close(output[1])
        guard status == 0 else { throw BrowserFailure("cannot start Chromium: \(String(cString: strerror(status)))") }
        pid = child
        toBrowser = input[1]
        fromBrowser = output[0]
        let thread = Thread { [self] in readLoop() }
        thread.start()

        let target = try call("Target.createTarget", ["url": "about:blank"])
        guard let targetId = target["targetId"] as? String else { throw BrowserFailure("Chromium made no page: \(target)") }
        let attached = try call("Target.attachToTarget", ["targetId": targetId, "flatten": true])
        session = attached["sessionId"] as? String
        _ = try call("Runtime.enable", [:], inPage: true)
        _ = try call("Page.enable", [:], inPage: true)
        _ = try call("Emulation.setDeviceMetricsOverride",
                     ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": false], inPage: true)
    }

    deinit { close() }

    /// Loads `url` in the page.
    func navigate(_ url: String) throws {
        _ = try call("Page.navigate", ["url": url], inPage: true)
    }

    /// Evaluates a JavaScript expression in the page and returns its value (JSON values).
    func evaluate(_ expression: String) throws -> Any? {
        let result = try call("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true], inPage: true)
        if let details = result["exceptionDetails"] { throw BrowserFailure("the page threw: \(details)") }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Polls `expression` until it is true, at most `timeout` seconds.
    func waitUntil(_ expression: String, timeout: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try evaluate(expression) as? Bool) == true { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTFail("the page did not reach `\(expression)` within \(timeout) s; errors: \(pageErrors)", file: file, line: line)
        throw BrowserFailure("timed out")
    }

    /// Exceptions the page threw that the protocol reported.
    var pageErrors: [String] { lock.withLock { exceptions } }

    /// A PNG screenshot of the page. A capture waits for a new compositor frame; in software
    /// rendering on two cores at a load of 10 or more, a frame of the live page has been seen to
    /// take over 30 s, so the capture has a bound of its own, a sanity bound and not a speed claim.
    func screenshot() throws -> Data {
        let result = try call("Page.captureScreenshot", ["format": "png"], inPage: true, timeout: 180)
        guard let text = result["data"] as? String, let data = Data(base64Encoded: text) else { throw BrowserFailure("no screenshot") }
        return data
    }

    /// Closes the browser (Browser.close, then SIGKILL after 5 s) and removes its profile.
    func close() {
        guard !lock.withLock({ () -> Bool in defer { closed = true }; return closed }) else { return }
        _ = try? call("Browser.close", [:], timeout: 5)
        let deadline = Date().addingTimeInterval(5)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline { kill(pid, SIGKILL); waitpid(pid, &status, 0); break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Glibc.close(toBrowser)
        try? FileManager.default.removeItem(atPath: profile)
    }

    // MARK: The protocol

    @discardableResult
    func call(_ method: String, _ params: [String: Any], inPage: Bool = false, timeout: Double = 30) throws -> [String: Any] {
        let id = lock.withLock { () -> Int in nextId += 1; return nextId }
        var message: [String: Any] = ["id": id, "method": method, "params": params]
        if inPage, let session { message["sessionId"] = session }
        var bytes = Array(try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(toBrowser, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue }; throw BrowserFailure("Chromium closed its pipe") }
            offset += n
        }
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock()
        defer { lock.unlock() }
        while responses[id] == nil {
            if readerDone { throw BrowserFailure("Chromium ended while answering \(method)") }
            if !lock.wait(until: deadline) { throw BrowserFailure("Chromium did not answer \(method) within \(timeout) s") }
        }
        let response = responses.removeValue(forKey: id)!
        if let error = response["error"] { throw BrowserFailure("\(method) failed: \(error)") }
        return response["result"] as? [String: Any] ?? [:]
    }

    private func readLoop() {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fromBrowser, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            pending += buffer[0..<n]
            while let end = pending.firstIndex(of: 0) {
                let text = Data(pending[..<end])
                pending.removeSubrange(...end)
                guard let object = (try? JSONSerialization.jsonObject(with: text)) as? [String: Any] else { continue }
                lock.withLock {
                    if let id = object["id"] as? Int {
                        responses[id] = object
                    } else if object["method"] as? String == "Runtime.exceptionThrown" {
                        exceptions.append("\(object["params"] ?? "")")
                    }
                    lock.broadcast()
                }
            }
        }
        Glibc.close(fromBrowser)
        lock.withLock { readerDone = true; lock.broadcast() }
    }
}

/// A test failure thrown out of the browser driver (the test fails; nothing is skipped).
struct BrowserFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Where screenshots go: `.build/view-screenshots/` of the package (git-ignored).
func screenshotFolder() -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let folder = root.appendingPathComponent(".build/view-screenshots").path
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
}
