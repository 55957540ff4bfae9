import Foundation
import Neuraxon
@testable import NeuraxonEmbodiment
import Testing

/// Runs the reference mapping with a saved "flowing" network over `count` frames at 5 ms through
/// the control loop, recording to `recording`; returns the network file's path.
@discardableResult
private func recordRun(in folder: TemporaryFolder, count: Int = 2000, recording: String, seed: UInt64 = 11) throws -> String {
    let networkPath = try savedFlowingNetwork(in: folder, seed: seed)
    let (network, identity) = try loadNetwork(networkPath)
    let recorder = try Recorder(path: recording, header: RecordingHeader(mapping: referenceMapping, network: identity, dtMillis: network.dt))
    var script = (0..<count).map { ScriptedBody.Step.frame(timestampMicros: 2_000_000 + UInt64($0) * 5000, readings: sweepReadings($0)) }
    script.insert(.linkLost, at: count / 2)        // a link loss in the middle restarts the clock
    let body = ScriptedBody(script: script)
    let loop = try ControlLoop(body: body, network: network, mapping: referenceMapping, recorder: recorder)
    loop.start()
    #expect(loop.wait() == .finished)
    #expect(loop.recordingError == nil)
    return networkPath
}

private func ticks(of path: String) throws -> [TickRecord] {
    let reader = try RecordingReader(path: path)
    var out: [TickRecord] = []
    while let t = reader.nextTick() { out.append(t) }
    return out
}

@Suite struct RecordingTests {
    @Test func aRecordingHoldsItsHeaderAndEveryTick() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        let networkPath = try recordRun(in: folder, count: 300, recording: run)
        let reader = try RecordingReader(path: run)
        #expect(reader.header.format == "neuraxon-recording" && reader.header.version == 1)
        #expect(reader.header.mapping == referenceMappingYAML)
        #expect(reader.header.network.path == networkPath)
        #expect(reader.header.network.digest.count == 64)
        #expect(reader.header.network.seed == 11)
        #expect(reader.header.device == .referenceRobot)
        #expect(reader.header.valueNames == ["range_left", "range_right", "light_left", "light_right", "bumper"])
        var records: [TickRecord] = []
        var events: [RecordingEvent.Kind] = []
        while let entry = reader.next() {
            switch entry {
            case let .tick(t): records.append(t)
            case let .event(e): events.append(e.kind)
            }
        }
        #expect(reader.stop == .complete)
        #expect(records.count == 300)
        #expect(events == [.linkLost, .linkRestored, .end])
        #expect(records.map(\.tick) == Array(0..<300))
        #expect(records[1].timestampMicros == 2_005_000 && records[1].steps == 5)
        #expect(records[150].steps == 0)            // first frame after the link loss
        #expect(records[10].raw == sweepReadings(10))
        #expect(records[10].values[4] == Double(sweepReadings(10)[4]))
        #expect(records.allSatisfy { $0.hostReceiveNanos > 0 && $0.hostSendNanos >= $0.hostReceiveNanos })
        #expect(records.allSatisfy { $0.modulators.count == 4 && $0.setpoints.count == 3 && $0.outputs.count == 5 })
    }

    @Test func theSha256DigestMatchesKnownValues() {
        #expect(SHA256.hex(of: []) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(of: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(of: Array(repeating: UInt8(ascii: "a"), count: 1000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test func ticksReachTheFileWhileTheRunGoesOn() throws {
        let folder = TemporaryFolder()
        let run = folder.file("live.jsonl")
        let body = ScriptedBody(count: 20_000, periodMicros: 1000, paced: true, readings: sweepReadings)
        let recorder = try Recorder(path: run, header: RecordingHeader(mapping: referenceMapping, network: NetworkIdentity(), dtMillis: 1))
        let loop = try ControlLoop(body: body, network: ProbeNetwork(), mapping: referenceMapping, recorder: recorder)
        loop.start()
        // Read while the loop still writes (20 s of frames): ticks appear within the flush
        // interval (20 ms); 5 s is a generous bound for a loaded machine.
        var partial = 0
        var running = false
        let started = Date()
        while partial < 100 && Date().timeIntervalSince(started) < 5 {
            usleep(50_000)
            let reader = try RecordingReader(path: run)
            partial = 0
            while partial < 100, reader.nextTick() != nil { partial += 1 }
            running = loop.state == .running
        }
        loop.stop()
        #expect(running)
        #expect(partial == 100)
    }

    @Test func aRecorderDroppedWithoutFinishingClosesItsFileComplete() throws {
        let folder = TemporaryFolder()
        let run = folder.file("dropped.jsonl")
        do {
            let body = ScriptedBody(count: 50, periodMicros: 1000, paced: false, readings: sweepReadings)
            let recorder = try Recorder(path: run, header: RecordingHeader(mapping: referenceMapping, network: NetworkIdentity(), dtMillis: 1))
            let loop = try ControlLoop(body: body, network: ProbeNetwork(), mapping: referenceMapping, recorder: recorder)
            // the loop itself is never started: its recorder is dropped unfinished, as when a run fails to start
            _ = loop
        }
        do {
            let recorder = try Recorder(path: run, header: RecordingHeader(mapping: referenceMapping, network: NetworkIdentity(), dtMillis: 1))
            recorder.record(event: .linkLost)
        }
        let reader = try RecordingReader(path: run)
        var kinds: [RecordingEvent.Kind] = []
        while let entry = reader.next() {
            if case let .event(e) = entry { kinds.append(e.kind) } else { Issue.record("no tick was recorded") }
        }
        #expect(kinds == [.linkLost, .end], "the dropped recorder wrote its event and its end")
        #expect(reader.stop == .complete)
    }

    @Test func theCSVExportHasOneRowPerTick() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        try recordRun(in: folder, count: 200, recording: run)
        let csvPath = folder.file("run.csv")
        let fd = open(csvPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let result = try RecordingCSV.export(try RecordingReader(path: run), to: fd)
        close(fd)
        #expect(result.rows == 200 && result.stop == .complete)
        let lines = try String(contentsOfFile: csvPath, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 201)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false)
        #expect(header.prefix(3) == ["tick", "t_us", "seq"])
        #expect(header.contains("raw_range_left") && header.contains("set_servo") && header.contains("dopamine"))
        #expect(lines.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == header.count })
        #expect(lines[11].hasPrefix("10,2050000,10,"))
    }
}

@Suite struct ReplayTests {
    @Test func replayReproducesEveryOutputTritAndSetpoint() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        let networkPath = try recordRun(in: folder, recording: run)
        let recorded = try ticks(of: run)
        // The run must have done something worth reproducing.
        #expect(recorded.filter { $0.outputs.contains { $0 != .neutral } }.count > 100)
        #expect(Set(recorded.map { $0.setpoints[0] }).count > 10)

        for _ in 0..<2 {
            let reader = try RecordingReader(path: run)
            let (network, identity) = try loadNetwork(networkPath)
            #expect(identity.digest == reader.header.network.digest)
            let report = try Replay.run(reader: reader, network: network, mapping: try reader.header.resolvedMapping())
            #expect(report.ticks == 2000)
            #expect(report.identical, "\(report.firstDivergence.map(String.init(describing:)) ?? "")")
            #expect(report.stop == .complete)
        }
    }

    @Test func aDifferentNetworkIsReportedAtItsFirstDivergence() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        try recordRun(in: folder, recording: run)
        let other = try savedFlowingNetwork(in: folder, seed: 12, name: "other.json")
        let reader = try RecordingReader(path: run)
        let report = try Replay.run(reader: reader, network: try loadNetwork(other).0, mapping: try reader.header.resolvedMapping())
        #expect(!report.identical)
        let d = try #require(report.firstDivergence)
        #expect(d.field == .output || d.field == .setpoint)
        #expect(d.recorded != d.replayed)
        #expect(d.description.contains("first divergence at tick \(d.tick)"))
    }

    @Test func aChangedMappingIsReportedToo() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        let networkPath = try recordRun(in: folder, count: 400, recording: run)
        let changed = try Mapping(yaml: referenceMappingYAML.replacingOccurrences(of: "set_point: 30", with: "set_point: 20"),
                                  device: .referenceRobot, inputCount: 5, outputCount: 5)
        let report = try Replay.run(reader: try RecordingReader(path: run), network: try loadNetwork(networkPath).0, mapping: changed)
        #expect(report.firstDivergence?.field == .input)
    }

    @Test func aRecordingCutAtARandomByteReplaysToItsLastCompleteRecord() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        let networkPath = try recordRun(in: folder, count: 400, recording: run)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: run)))
        let headerEnd = bytes.firstIndex(of: 0x0a)! + 1
        var rng = SplitMix(seed: 2024)
        var cuts = (0..<4).map { _ in headerEnd + Int(rng.next() % UInt64(bytes.count - headerEnd)) }
        // Also cut exactly at a line boundary.
        cuts.append(bytes[headerEnd...].indices.filter { bytes[$0] == 0x0a }[300] + 1)
        for cut in cuts {
            let path = folder.file("cut.jsonl")
            try Data(bytes[0..<cut]).write(to: URL(fileURLWithPath: path))
            let completeLines = bytes[headerEnd..<cut].filter { $0 == 0x0a }.count
            let completeTicks = bytes[headerEnd..<cut].split(separator: 0x0a, omittingEmptySubsequences: true)
                .prefix(completeLines).filter { $0.starts(with: Array("{\"type\":\"tick\"".utf8)) }.count
            let reader = try RecordingReader(path: path)
            let report = try Replay.run(reader: reader, network: try loadNetwork(networkPath).0, mapping: try reader.header.resolvedMapping())
            #expect(report.ticks == completeTicks, "cut at \(cut)")
            #expect(report.identical)
            let atBoundary = bytes[cut - 1] == 0x0a
            if atBoundary {
                #expect(report.stop == .endedEarly(lines: completeLines + 1))
            } else {
                guard case let .damaged(line, offset, reason) = report.stop else {
                    Issue.record("cut at \(cut): \(report.stop)")
                    continue
                }
                #expect(line == completeLines + 2)
                #expect(offset >= cut - 2000 && offset <= cut)
                #expect(reason.contains("cut short"))
            }
        }
    }

    @Test func aCorruptedRecordStopsReplayAndSaysWhere() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        let networkPath = try recordRun(in: folder, count: 300, recording: run)
        var lines = try String(contentsOfFile: run, encoding: .utf8).components(separatedBy: "\n")
        lines[101] = String(lines[101].prefix(40)) + "#garbage#" + String(lines[101].dropFirst(49))
        try lines.joined(separator: "\n").write(toFile: run, atomically: true, encoding: .utf8)
        let reader = try RecordingReader(path: run)
        let report = try Replay.run(reader: reader, network: try loadNetwork(networkPath).0, mapping: try reader.header.resolvedMapping())
        #expect(report.ticks == 100)
        guard case let .damaged(line, _, reason) = report.stop else {
            Issue.record("\(report.stop)")
            return
        }
        #expect(line == 102)
        #expect(reason.contains("not valid JSON"))
        #expect(report.stop.description.contains("line 102"))
    }

    @Test func aTimeRangeAndANewRecording() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        let networkPath = try recordRun(in: folder, count: 1000, recording: run)
        let reader = try RecordingReader(path: run)
        let (network, identity) = try loadNetwork(networkPath)
        let mapping = try reader.header.resolvedMapping()
        let out = folder.file("again.jsonl")
        let recorder = try Recorder(path: out, header: RecordingHeader(mapping: mapping, network: identity, dtMillis: network.dt), waitWhenFull: true)
        let report = try Replay.run(reader: reader, network: network, mapping: mapping,
                                    options: ReplayOptions(fromSeconds: 1, toSeconds: 2), recorder: recorder)
        try recorder.finish()
        #expect(report.identical)
        #expect(report.reachedTo)
        #expect(report.ticksInRange == 201)         // t = 1.000 … 2.000 s at 5 ms
        #expect(report.ticks == 401)                // earlier ticks still ran through the network
        let original = try ticks(of: run)
        let again = try ticks(of: out)
        #expect(again.count == 201)
        #expect(again.first?.tick == 200)
        for t in again {
            #expect(t.outputs == original[t.tick].outputs && t.setpoints == original[t.tick].setpoints)
        }
    }

    @Test func aRateSlowsReplayToTheRecordedPace() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        let networkPath = try recordRun(in: folder, count: 100, recording: run)   // 0.5 s of firmware time
        let reader = try RecordingReader(path: run)
        let start = Date()
        let report = try Replay.run(reader: reader, network: try loadNetwork(networkPath).0, mapping: try reader.header.resolvedMapping(),
                                    options: ReplayOptions(rate: 2))
        let elapsed = Date().timeIntervalSince(start)
        #expect(report.identical)
        #expect(elapsed > 0.2 && elapsed < 5, "\(elapsed) s")     // about 0.25 s at 2×
    }

    @Test func aRecordingBodyDrivesTheLoopLikeTheRobotDid() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        let networkPath = try recordRun(in: folder, count: 500, recording: run)
        let body = try RecordingBody(path: run)
        let loop = try ControlLoop(body: body, network: try loadNetwork(networkPath).0, mapping: try body.reader.header.resolvedMapping())
        loop.start()
        #expect(loop.wait() == .finished)
        #expect(body.sent == (try ticks(of: run)).map(\.setpoints))
        #expect(loop.status().counters.linkLosses == 1)
    }

    @Test func aFileThatIsNotARecordingIsRefusedClearly() throws {
        let folder = TemporaryFolder()
        let path = folder.file("notes.txt")
        try "hello\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: RecordingError.self) { try RecordingReader(path: path) }
        do {
            _ = try RecordingReader(path: path)
        } catch {
            #expect(error.description.contains("line 1 is not a Neuraxon recording header"))
        }
        #expect(throws: RecordingError.self) { try RecordingReader(path: folder.file("missing.jsonl")) }
    }
}
