import Foundation
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
