#if canImport(CAllocationCounter)
import CAllocationCounter
#endif
import Foundation
import Glibc
import Neuraxon
@testable import NeuraxonEmbodiment
import NeuraxonProtocol
import NeuraxonTransport
import Synchronization
import Testing

/// A network that does nothing, except that its next step holds the tick's thread for as long as
/// it is asked to (`stall(milliseconds:)`): the host goes quiet while the board runs on.
private final class StallingNetwork: ControlledNetwork, @unchecked Sendable {
    private let idle = IdleNetwork()
    private let stallMillis = Atomic<Int>(0)
    var inputCount: Int { idle.inputCount }
    var outputCount: Int { idle.outputCount }
    var dt: Double { idle.dt }

    func stall(milliseconds: Int) { stallMillis.store(milliseconds, ordering: .releasing) }

    func setInputState(_ index: Int, _ state: Trit) { idle.setInputState(index, state) }
    func simulateStep() {
        let ms = stallMillis.exchange(0, ordering: .acquiringAndReleasing)
        if ms > 0 { usleep(useconds_t(ms * 1000)) }
    }
    func outputState(_ index: Int) -> Trit { idle.outputState(index) }
    func modulate(_ modulator: Neuromodulator, to level: Double) { idle.modulate(modulator, to: level) }
    func level(of modulator: Neuromodulator) -> Double { idle.level(of: modulator) }
}

/// Waits up to `milliseconds` for `condition`.
private func within(_ milliseconds: Double, _ condition: () -> Bool) -> Bool {
    let end = MonotonicTime.now().adding(milliseconds: milliseconds)
    while MonotonicTime.now() < end {
        if condition() { return true }
        usleep(2000)
    }
    return condition()
}

/// A recorded serial run on the host-built firmware in which the board fails safe and recovers,
/// then hangs and comes back.
private struct HungBoardRun {
    var entries: [RecordingEntry] = []
    var stop: ReadStop?
    var events: [RecordingEvent] { entries.compactMap { if case let .event(e) = $0, e.kind != .link { e } else { nil } } }
    var links: [RecordedLinkStatus] { entries.compactMap { if case let .event(e) = $0, e.kind == .link { e.link } else { nil } } }

    static let firmwareID = "6e78736572000010"

    /// Runs a control loop (5 ms sampling, 100 ms failsafe) recording to `path`; holds the
    /// host's tick for 300 ms, so the board's failsafe fires, and lets it recover; hangs the
    /// board (SIGSTOP) until the loop waits for the link, resumes it (SIGCONT) and, once it
    /// reconnected and streamed for 1.5 s, stops the run as SIGTERM would.
    static func record(to path: String) throws -> HungBoardRun {
        let firmware = try FirmwareProcess(firmwareID: firmwareID)
        defer {
            kill(firmware.process.processIdentifier, SIGCONT)
            firmware.quit()
        }
        var options = SessionOptions(selector: .path(firmware.path),
                                     config: LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 100, sensorMask: 0x7F))
        options.monitor = nil
        let stop = StopRequest()
        options.stopRequest = stop
        let body = try SerialRobotBody(options: options)
        let mapping = try Mapping(yaml: referenceMappingYAML, device: body.device, inputCount: 5, outputCount: 5)
        let recorder = try Recorder(path: path, header: RecordingHeader(mapping: mapping, network: NetworkIdentity(), dtMillis: 1))
        let network = StallingNetwork()
        let loop = try ControlLoop(body: body, network: network, mapping: mapping, recorder: recorder, stopRequest: stop)
        loop.start()
        // Long enough for a status report and a round trip (probed once a second).
        #expect(within(5000) { loop.status().counters.ticks >= 50 })
        usleep(1_300_000)
        network.stall(milliseconds: 300)
        // The board's next scheduled STATUS, a second later, finds it applying commands again.
        usleep(1_600_000)
        kill(firmware.process.processIdentifier, SIGSTOP)
        #expect(within(3000) { loop.state == .waitingForLink }, "the hung board was not noticed")
        usleep(300_000)
        kill(firmware.process.processIdentifier, SIGCONT)
        #expect(within(8000) { body.link.counters.reconnects == 1 && loop.state == .running }, "the board did not come back")
        usleep(1_500_000)
        stop.request(signal: SIGTERM)
        #expect(loop.wait() == .stopped)
        #expect(loop.recordingError == nil)
        let reader = try RecordingReader(path: path)
        var run = HungBoardRun()
        while let entry = reader.next() { run.entries.append(entry) }
        run.stop = reader.stop
        return run
    }

    /// Whether `kinds` appear among the events in this order (others may come between).
    func has(inOrder kinds: [RecordingEvent.Kind]) -> Bool {
        var k = 0
        for e in events where k < kinds.count && e.kind == kinds[k] { k += 1 }
        return k == kinds.count
    }

    /// Checks what every recording of such a run must hold.
    func expectLinkHistory() {
        let kinds = events.map(\.kind)
        #expect(stop == .complete)
        // The board's own reports of its failsafe (it fired while the host was quiet, and the board
        // applied commands again), then the hang and the reconnect, the stop, the final STOP.
        let details = events.filter { $0.kind != .link }.map { "\($0.kind.rawValue)@\($0.timestampMicros) \($0.failsafeState ?? "") \($0.failsafeTrips ?? -1)" }
        #expect(has(inOrder: [.failsafe, .failsafeCleared, .linkLost, .reconnect, .linkRestored, .stop, .failsafe, .end]), "\(details)")
        #expect(kinds.filter { $0 != .failsafe && $0 != .failsafeCleared } == [.linkLost, .reconnect, .linkRestored, .stop, .end], "\(details)")
        #expect(kinds.suffix(3) == [.stop, .failsafe, .end], "\(details)")
        // A host slowed by a loaded machine can itself be late by more than the 100 ms failsafe
        // timeout, and the board then trips again and says so: every trip it reports is cleared
        // by a later report before the next (reports alternate until the stop), and each says it
        // tripped.
        let beforeStop = events.prefix { $0.kind != .stop }
        let reports = beforeStop.filter { $0.kind == .failsafe || $0.kind == .failsafeCleared }
        for (k, report) in reports.enumerated() {
            #expect(report.kind == (k % 2 == 0 ? .failsafe : .failsafeCleared), "\(details)")
            #expect((report.failsafeTrips ?? 0) >= 1, "\(details)")
        }
        if let failsafe = events.first(where: { $0.kind == .failsafe }) {
            // The board counted one trip; its state when asked is `timeout`, or already `active`
            // when the held-up tick's command reached it before the question did.
            #expect(failsafe.failsafeTrips == 1 && ["timeout", "active"].contains(failsafe.failsafeState), "\(failsafe)")
            #expect((failsafe.boardUptimeMillis ?? 0) > 1000)
            // Asked at once when the host saw frames older than the failsafe timeout, not a second later.
            #expect(failsafe.timestampMicros < 2_600_000, "\(failsafe)")
        }
        #expect(events.first { $0.kind == .failsafeCleared }?.failsafeState == "active")
        #expect(links.contains { $0.counters.staleFrames > 0 })
        if let reconnect = events.first(where: { $0.kind == .reconnect }) {
            #expect(reconnect.boardID == Self.firmwareID)
            #expect((reconnect.afterMillis ?? 0) > 0 && reconnect.devicePath != nil)
        }
        #expect(events.first { $0.kind == .stop }?.signal == Int(SIGTERM))
        // The final STOP, as the board reported it.
        #expect(events.last { $0.kind == .failsafe }?.failsafeState == "stopped")
        #expect(events.last?.kind == .end)
        // Event ticks never go back.
        let ticks = entries.compactMap { if case let .event(e) = $0 { e.tick } else { nil } }
        #expect(ticks == ticks.sorted())

        // Link records: about one a second of firmware time (the run streams for about 3 s),
        // with positive round trips and the loss and reconnect counted.
        #expect(links.count >= 2 && links.count <= 8, "\(links.count) link records")
        let last = links.last
        #expect((last?.roundTripCount ?? 0) >= 1)
        #expect((last?.roundTripLastMillis ?? 0) > 0 && (last?.roundTripP50Millis ?? 0) > 0 && (last?.roundTripP99Millis ?? 0) > 0)
        #expect((last?.roundTripP50Millis ?? 0) <= (last?.roundTripP99Millis ?? 0))
        #expect(last?.counters.linkLosses == 1 && last?.counters.reconnects == 1)
        #expect((last?.counters.sensorFrames ?? 0) > 100 && (last?.counters.commandsSent ?? 0) > 100)
    }
}

@Suite("A serial run's recording holds the board's failsafe, reconnects, stops and the link's round trip", .serialized)
struct LinkRecordingTests {
    @Test("a board that fails safe and recovers, then hangs and comes back: failsafe and reconnect events in order in JSON Lines, and in its MCAP export")
    func jsonLines() throws {
        let folder = TemporaryFolder()
        let path = folder.file("run.jsonl")
        let run = try HungBoardRun.record(to: path)
        run.expectLinkHistory()

        // The JSON Lines themselves: `link` records of their own type, events with their fields.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("{\"type\":\"link\",\"tick\":"))
        #expect(text.contains("\"event\":\"reconnect\"") && text.contains("\"board_id\":\"\(HungBoardRun.firmwareID)\""))
        #expect(text.contains("\"event\":\"stop\"") && text.contains("\"signal\":15"))

        // Exported to MCAP, it reads back the same, and log info tells what replay leaves out.
        let mcap = folder.file("run.mcap")
        let export = try RecordingMCAP.export(RecordingReader(path: path), to: mcap)
        #expect(export.stop == .complete)
        let reader = try RecordingReader(path: mcap)
        var back: [RecordingEntry] = []
        while let entry = reader.next() { back.append(entry) }
        func events(_ entries: [RecordingEntry]) -> [RecordingEvent] { entries.compactMap { if case let .event(e) = $0 { e } else { nil } } }
        #expect(events(back) == events(run.entries))
        #expect(back.count == run.entries.count)
        let info = try RecordingSummary(path: path).lines.joined(separator: "\n")
        #expect(info.contains("1 reconnect") && info.contains("failsafe cleared") && info.contains("stop (SIGTERM)"), "\(info)")
        #expect(info.contains("round trip p50"), "\(info)")
        #expect(info.contains("replay:        does not re-apply failsafe, failsafe_cleared, link, reconnect, stop"), "\(info)")
        let check = try pythonMCAPCheck(mcap, path)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("link status messages equal the recording"), "\(check.output)")
    }

    @Test("the same history recorded directly as MCAP (--record run.mcap)")
    func directMCAP() throws {
        let folder = TemporaryFolder()
        let run = try HungBoardRun.record(to: folder.file("run.mcap"))
        run.expectLinkHistory()
    }

    #if canImport(CAllocationCounter)
    @Test("recording the link allocates nothing on the tick's thread: link lines, status reports and round trips included")
    func recordingTheLinkAllocatesNothing() throws {
        let firmware = try FirmwareProcess(firmwareID: "6e78736572000011")
        defer { firmware.quit() }
        var options = SessionOptions(selector: .path(firmware.path),
                                     config: LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 100, sensorMask: 0x7F))
        options.monitor = nil
        options.roundTripProbeMilliseconds = 200
        let body = try SerialRobotBody(options: options)
        let mapping = try Mapping(yaml: referenceMappingYAML, device: body.device, inputCount: 5, outputCount: 5)
        let folder = TemporaryFolder()
        let recorder = try Recorder(path: folder.file("run.jsonl"), header: RecordingHeader(mapping: mapping, network: NetworkIdentity(), dtMillis: 1))
        body.recordLink(to: recorder, statusPollMilliseconds: 200)
        var frame = SensorFrame(channelCount: body.device.sensors.count)
        let command: [Int16] = [100, -100, 45]
        var frames = 0
        for _ in 0..<400 where frames < 20 {
            if body.nextFrame(into: &frame, timeoutMicros: 50_000) == .frame { frames += 1; _ = body.send(command) }
        }
        // 2.5 s of firmware time: link lines, status reports every 200 ms and round trips every 200 ms.
        nx_alloc_counter_start()
        frames = 0
        for _ in 0..<5000 where frames < 500 {
            if body.nextFrame(into: &frame, timeoutMicros: 50_000) == .frame { frames += 1; _ = body.send(command) }
        }
        let allocations = nx_alloc_counter_stop()
        #expect(frames == 500)
        #expect(allocations == 0, "\(allocations) allocations while recording the link")
        #expect(body.session.roundTrip.count >= 5)
        body.stopActuators()
        try recorder.finish()
        let reader = try RecordingReader(path: recorder.path)
        var links = 0, failsafe: [String] = []
        while let entry = reader.next() {
            if case let .event(e) = entry {
                if e.kind == .link { links += 1 }
                if e.kind == .failsafe || e.kind == .failsafeCleared { failsafe.append(e.kind.rawValue + " " + (e.failsafeState ?? "?")) }
            }
        }
        #expect(links >= 3)
        #expect(failsafe == ["failsafe stopped"], "the board never failed safe before the final STOP: \(failsafe)")
    }
    #endif

    @Test("a stop asked from inside the program (the view's STOP button) is a `stop` event with signal 0, before the end")
    func stopFromInside() throws {
        let body = ScriptedBody(count: 20_000, periodMicros: 1000, paced: true, readings: sweepReadings)
        let folder = TemporaryFolder()
        let recorder = try Recorder(path: folder.file("run.jsonl"), header: RecordingHeader(mapping: referenceMapping, network: NetworkIdentity(), dtMillis: 1))
        let loop = try ControlLoop(body: body, network: IdleNetwork(), mapping: referenceMapping, recorder: recorder)
        loop.start()
        #expect(within(3000) { loop.status().counters.ticks > 10 })
        loop.stopRequest.request()
        #expect(loop.wait() == .stopped)
        let reader = try RecordingReader(path: folder.file("run.jsonl"))
        var events: [RecordingEvent] = []
        while let entry = reader.next() { if case let .event(e) = entry { events.append(e) } }
        #expect(events.map(\.kind) == [.stop, .end])
        #expect(events.first?.signal == 0 && events.first?.tick == events.last?.tick)
        let info = try RecordingSummary(path: folder.file("run.jsonl")).lines.joined(separator: "\n")
        #expect(info.contains("events:        stop (asked in the program)"), "\(info)")
    }

    @Test("the board's failsafe reports: a safe state or a rise of failsafe_trips engages, `active` clears, both on one report")
    func failsafeTracker() {
        var t = BoardFailsafeTracker()
        func status(_ state: FailsafeState, trips: UInt32) -> BoardStatus {
            BoardStatus(failsafe: state.rawValue, resetCause: 0, uptimeMilliseconds: 0, failsafeTrips: trips)
        }
        #expect(t.take(status(.active, trips: 4)) == (false, false))   // trips from before the run
        #expect(t.take(status(.active, trips: 4)) == (false, false))
        #expect(t.take(status(.timeout, trips: 5)) == (true, false))
        #expect(t.take(status(.timeout, trips: 5)) == (false, false))
        #expect(t.take(status(.idle, trips: 5)) == (false, false))
        #expect(t.take(status(.active, trips: 5)) == (false, true))
        #expect(t.take(status(.active, trips: 6)) == (true, true))      // tripped and recovered between two reports
        #expect(t.take(status(.stopped, trips: 6)) == (true, false))
    }

    @Test("recent round trips: percentiles by nearest rank over the latest samples, nothing allocated once made")
    func recentRoundTrips() {
        var r = RecentRoundTrips(capacity: 4)
        #expect(r.percentile(50) == nil && r.last == nil)
        for ms in [3.0, 1, 2] { r.add(ms) }
        #expect(r.percentile(50) == 2 && r.percentile(99) == 3 && r.last == 2)
        for ms in [10.0, 11, 12] { r.add(ms) }   // 3 and 1 leave: 2, 10, 11, 12 remain
        #expect(r.total == 6 && r.percentile(0) == 2 && r.percentile(99) == 12)
        r.add(0.5)                                 // 2 leaves
        #expect(r.percentile(0) == 0.5 && r.percentile(50) == 10 && r.last == 0.5)
    }

    @Test("recordings from before these events read as before; a link record without its fields reads with zeros")
    func olderRecordings() throws {
        let folder = TemporaryFolder()
        let path = folder.file("old.jsonl")
        var header = try String(decoding: RecordingHeader(mapping: referenceMapping, network: NetworkIdentity(), dtMillis: 1).jsonLine(), as: UTF8.self)
        header += "\n"
        let lines = header + #"""
        {"type":"event","event":"link_lost","tick":0,"t_us":0}
        {"type":"link","tick":0,"t_us":0}
        {"type":"event","event":"end","tick":0,"t_us":0}

        """#
        try lines.write(toFile: path, atomically: true, encoding: .utf8)
        let reader = try RecordingReader(path: path)
        var entries: [RecordingEntry] = []
        while let e = reader.next() { entries.append(e) }
        #expect(reader.stop == .complete)
        #expect(entries.count == 3)
        if case let .event(lost) = entries[0] { #expect(lost == RecordingEvent(kind: .linkLost, tick: 0, timestampMicros: 0)) }
        if case let .event(link) = entries[1] { #expect(link.kind == .link && link.link == RecordedLinkStatus()) }
    }
}

/// Runs `Tests/mcap/run-check.sh` (the `mcap` reader from PyPI) on `mcap` against the JSON Lines `reference`.
private func pythonMCAPCheck(_ mcap: String, _ reference: String) throws -> (status: Int32, output: String) {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [root + "/Tests/mcap/run-check.sh", mcap, reference]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
