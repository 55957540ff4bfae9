import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import NeuraxonTransport
import Testing

/// `neuraxon sim --view` and `neuraxon view FILE`, run as a user runs them.
@Suite struct ViewCommandTests {
    @Test("sim --view serves the view while it runs, then replays like any run; view FILE plays it")
    func simViewAndPlayback() throws {
        let dir = CLI.folder()
        let sim = try CLI.run(["sim", "--view", "--view-port", "0", "--duration", "1", "--record", "\(dir)/run.jsonl"], timeout: 120)
        #expect(sim.status == 0, "\(sim.stderr)")
        #expect(sim.stderr.contains("view: http://127.0.0.1:"), "\(sim.stderr)")
        // Paced to the wall clock: 1 simulated second takes about 1 s.
        #expect(sim.stdout.contains("simulated 1.0 s in 1."), "\(sim.stdout)")
        let played = try CLI.run(["view", "\(dir)/run.jsonl", "--view-port", "0", "--duration", "1"], timeout: 120)
        #expect(played.status == 0, "\(played.stderr)")
        #expect(played.stdout.contains("playing \(dir)/run.jsonl (201 ticks)"), "\(played.stdout)")
        #expect(played.stderr.contains("view: http://127.0.0.1:"))
        let playground = try CLI.run(["view", "--playground", "-o", "\(dir)/net.json", "--view-port", "0", "--duration", "1"], timeout: 120)
        #expect(playground.status == 0, "\(playground.stderr)")
        #expect(playground.stdout.contains("playground: network preset flowing, seed 1; Save writes \(dir)/net.json"), "\(playground.stdout)")
        // replay --view: paced (here ten times real time), watched, and still verified.
        let replayed = try CLI.run(["replay", "\(dir)/run.jsonl", "--view", "--view-port", "0", "--rate", "10"], timeout: 120)
        #expect(replayed.status == 0, "\(replayed.stdout)\(replayed.stderr)")
        #expect(replayed.stderr.contains("view: http://127.0.0.1:"), "\(replayed.stderr)")
    }

    @Test("run --view serves the page and the robot's scene while the run drives the host firmware; SIGINT still stops the board")
    func runView() throws {
        let firmwarePath = try #require(StopSignalTests.hostFirmware, "make -C Firmware host failed")
        let folder = CLI.folder()
        let network = try StopSignalTests.seekNetwork(in: folder)
        let firmware = try FirmwareProcess(executable: firmwarePath)
        defer { firmware.quit() }
        let cli = try BackgroundCLI(["run", "--port", firmware.path, "--network", network, "--mapping",
                                     StopSignalTests.mappingFolder + "/seek.mapping.yaml", "--view", "--view-port", "0", "--quiet"])
        #expect(cli.waitUntil { cli.stderr.contains("sampling every") && cli.stderr.contains("view: http://127.0.0.1:") }, "\(cli.stderr)")
        #expect(firmware.waitFor("failsafe active", milliseconds: 30_000), "\(firmware.snapshot())")
        let line = try #require(cli.stderr.split(separator: "\n").first { $0.hasPrefix("view: ") })
        let address = String(line.dropFirst("view: ".count))

        // The page, and the scene it draws: the robot's run, its channels, controls off without --view-control.
        let page = try Self.get(address)
        #expect(page.status == 200 && page.body.contains("<html"), "\(page.status)")
        let scene = try Self.get(address + "scene.json")
        #expect(scene.status == 200)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(scene.body.utf8)) as? [String: Any])
        #expect(object["mode"] as? String == "robot", "\(scene.body.prefix(300))")
        #expect(object["controls"] as? Bool == false)
        #expect((object["title"] as? String)?.hasPrefix("run \(network) on ") == true, "\(object["title"] ?? "")")

        let before = firmware.snapshot().count
        cli.send(SIGINT)
        #expect(cli.exitStatus() == 130, "\(cli.stdout)\n\(cli.stderr)")
        #expect(firmware.waitFor("failsafe stopped", after: before, milliseconds: 5000), "\(firmware.snapshot().suffix(10))")
        #expect(cli.stdout.contains("board after STOP: failsafe stopped"), "\(cli.stdout)")
    }

    /// GET `address` from the view's server: the status and the body as text.
    static func get(_ address: String) throws -> (status: Int, body: String) {
        let url = try #require(URL(string: address))
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, String)?
        let task = URLSession.shared.dataTask(with: url) { data, response, _ in
            result = ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self))
            done.signal()
        }
        task.resume()
        #expect(done.wait(timeout: .now() + 60) == .success, "no answer from \(address) within 60 s")
        return result ?? (0, "")
    }

    @Test("bad view options are usage errors; a port in use is refused with the fix")
    func badOptions() throws {
        let port = try CLI.run(["sim", "--view", "--view-port", "70000"])
        #expect(port.status == 64)
        #expect(port.stderr.contains("--view-port must be from 0 to 65535"))
        let host = try CLI.run(["sim", "--view", "--host", "a b"])
        #expect(host.status == 64)
        let control = try CLI.run(["run", "--view-control", "--network", "n.json", "--mapping", "m.yaml"])
        #expect(control.status == 64)
        #expect(control.stderr.contains("--view-control applies to the browser view"), "\(control.stderr)")
        let neither = try CLI.run(["view"])
        #expect(neither.status == 64 && neither.stderr.contains("--playground"), "\(neither.stderr)")
        let preset = try CLI.run(["view", "--playground", "--preset", "huge"])
        #expect(preset.status == 64 && preset.stderr.contains("--preset must be one of"), "\(preset.stderr)")
        let missing = try CLI.run(["view", "/nonexistent/run.jsonl"])
        #expect(missing.status == 66, "\(missing.stderr)")
        // A port already taken: the view cannot start, and says which option to change.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        _ = listen(listener, 1)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let taken = Int(UInt16(bigEndian: address.sin_port))
        let busy = try CLI.run(["sim", "--view", "--view-port", "\(taken)", "--duration", "1"], timeout: 120)
        #expect(busy.status == 69, "\(busy.stderr)")
        #expect(busy.stderr.contains("the port is in use") && busy.stderr.contains("--view-port"), "\(busy.stderr)")
    }
}
