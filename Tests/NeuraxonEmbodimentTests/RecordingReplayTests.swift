import Foundation
import Neuraxon
@testable import NeuraxonEmbodiment
import NeuraxonTransport
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
        // Stored relative to the recording's folder (both are in `folder`), found from anywhere.
        #expect(reader.header.network.path == "net.json")
        #expect(reader.header.networkFile(recordingPath: run).map(LexicalPath.resolved) == LexicalPath.resolved(networkPath))
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
        #expect(reader.endRecordAtFileEnd() == RecordingEvent(kind: .end, tick: 300, timestampMicros: records[299].timestampMicros))
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

    @Test func theSummaryOfADamagedRecordingSaysHowManyTicksOfHowMany() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        try recordRun(in: folder, count: 300, recording: run)
        #expect(try RecordingSummary(path: run).lines.contains { $0.hasPrefix("ticks:         300 over") })
        var lines = try String(contentsOfFile: run, encoding: .utf8).components(separatedBy: "\n")
        lines[101] = "{\"type\":\"tick\",#"
        try lines.joined(separator: "\n").write(toFile: run, atomically: true, encoding: .utf8)
        let summary = try RecordingSummary(path: run)
        #expect(summary.ticks == 100 && summary.recordedTicks == 300)
        #expect(summary.lines.contains { $0.hasPrefix("ticks:         100 of 300 over") }, "\(summary.lines)")
        #expect(summary.lines.contains { $0.hasPrefix("network:       net.json (relative to the recording)") })
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

@Suite struct RecordingPathTests {
    @Test func theNetworkPathIsStoredRelativeToTheRecordingsFolder() throws {
        let folder = TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.file("runs/today"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder.file("nets"), withIntermediateDirectories: true)
        #expect(RecordingHeader.networkPath(folder.file("nets/a.json"), relativeToFolderOf: folder.file("runs/today/run.jsonl")) == "../../nets/a.json")
        #expect(RecordingHeader.networkPath(folder.file("runs/today/a.json"), relativeToFolderOf: folder.file("runs/today/run.jsonl")) == "a.json")
        #expect(RecordingHeader.networkPath(folder.file("runs/./today/../today/a.json"), relativeToFolderOf: folder.file("runs/today/r.jsonl")) == "a.json")
        #expect(RecordingHeader.networkPath("", relativeToFolderOf: folder.file("r.jsonl")) == "")

        // Written so, and found again from the recording's folder whatever the current folder is.
        let networkPath = try savedFlowingNetwork(in: folder, name: "nets/a.json")
        let (network, identity) = try loadNetwork(networkPath)
        let run = folder.file("runs/today/run.jsonl")
        let recorder = try Recorder(path: run, header: RecordingHeader(mapping: referenceMapping, network: identity, dtMillis: network.dt))
        try recorder.finish()
        let header = try RecordingReader(path: run).header
        #expect(header.network.path == "../../nets/a.json")
        #expect(header.networkFileCandidates(recordingPath: run) == [folder.file("runs/today") + "/../../nets/a.json", "../../nets/a.json"])
        #expect(header.networkFile(recordingPath: run).map(LexicalPath.resolved) == LexicalPath.resolved(networkPath))
    }

    @Test func olderRecordingsAreStillRead() throws {
        let folder = TemporaryFolder()
        let networkPath = try savedFlowingNetwork(in: folder, name: "net.json")
        let (network, identity) = try loadNetwork(networkPath)
        var header = RecordingHeader(mapping: referenceMapping, network: identity, dtMillis: network.dt)
        // An absolute path, as older recordings often hold, is used as it is.
        #expect(header.networkFileCandidates(recordingPath: "/elsewhere/run.jsonl") == [networkPath])
        #expect(header.networkFile(recordingPath: "/elsewhere/run.jsonl") == networkPath)
        // A relative one is looked for beside the recording first, then from the current folder
        // (where an older recording's run was started).
        header.network.path = "nets/net.json"
        #expect(header.networkFileCandidates(recordingPath: "/elsewhere/run.jsonl") == ["/elsewhere/nets/net.json", "nets/net.json"])
        #expect(header.networkFile(recordingPath: "/elsewhere/run.jsonl") == nil)
        // Of the files that exist, one with the recorded SHA-256 is preferred; another is still
        // returned (replay then warns that it differs).
        header.network.path = "net.json"
        #expect(header.networkFile(recordingPath: folder.file("run.jsonl")) == folder.file("net.json"))
        header.network.digest = String(repeating: "0", count: 64)
        #expect(header.networkFile(recordingPath: folder.file("run.jsonl")) == folder.file("net.json"))
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
        // Every tick it read was equal, but it did not check them all: not verified.
        #expect(report.identical)
        #expect(report.recordedTicks == 300, "the end record at the file's end gives the length")
        guard case let .incomplete(why) = report.verdict else { Issue.record("\(report.verdict)"); return }
        #expect(why.contains("line 102") && why.contains("200 of its 300 ticks were not checked"), "\(why)")
        let summary = report.summary(wallSeconds: 0.1)
        #expect(summary[0].hasPrefix("checked 100 of 300 ticks"), "\(summary)")
        #expect(summary.contains { $0.hasPrefix("not verified:") })
        #expect(!summary.contains { $0.contains("equals the recording") })
    }

    @Test func aHeaderOnlyRecordingVerifiesNothing() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        let networkPath = try recordRun(in: folder, count: 50, recording: run)
        let header = try String(contentsOfFile: run, encoding: .utf8).split(separator: "\n")[0]
        for (name, text) in [("header-only.jsonl", header + "\n"),
                             ("empty-run.jsonl", header + "\n{\"type\":\"event\",\"event\":\"end\",\"tick\":0,\"t_us\":0}\n")] {
            let path = folder.file(name)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let reader = try RecordingReader(path: path)
            let report = try Replay.run(reader: reader, network: try loadNetwork(networkPath).0, mapping: try reader.header.resolvedMapping())
            #expect(report.ticks == 0)
            #expect(report.verdict == .incomplete("the recording holds no tick: nothing was checked"), "\(name)")
        }
    }

    @Test func aRepeatedSwappedOrMissingTickStopsReadingWhereItIs() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        let networkPath = try recordRun(in: folder, count: 200, recording: run)
        let lines = try String(contentsOfFile: run, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // lines[0] is the header, lines[k] tick k − 1 (no event before tick 100).
        var repeated = lines; repeated.insert(lines[41], at: 42)
        var swapped = lines; swapped.swapAt(41, 42)
        var missing = lines; missing.remove(at: 41)
        var afterEnd = lines; afterEnd.insert(lines[5], at: afterEnd.count - 1)
        let cases: [(String, [String], Int, String)] = [
            ("repeated", repeated, 43, "tick 40 comes after tick 40: a tick is repeated or out of order"),
            ("swapped", swapped, 42, "tick 40 is missing (tick 41 follows tick 39)"),
            ("missing", missing, 42, "tick 40 is missing (tick 41 follows tick 39)"),
            ("after-end", afterEnd, afterEnd.count - 1, "a line follows the end record"),
        ]
        for (name, text, line, reason) in cases {
            let path = folder.file(name + ".jsonl")
            try text.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            let reader = try RecordingReader(path: path)
            let report = try Replay.run(reader: reader, network: try loadNetwork(networkPath).0, mapping: try reader.header.resolvedMapping())
            guard case let .damaged(at, _, why) = report.stop else { Issue.record("\(name): \(report.stop)"); continue }
            #expect(at == line, "\(name)")
            #expect(why.contains(reason), "\(name): \(why)")
            #expect(report.verdict != .verified, "\(name)")
        }
    }

    @Test func ticksTheRecorderDroppedAreAllowedButNotVerified() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        let networkPath = try recordRun(in: folder, count: 200, recording: run)
        var lines = try String(contentsOfFile: run, encoding: .utf8).split(separator: "\n").map(String.init)
        // As a full ring leaves it: tick 59's record gone, the ticks after it counting the drop.
        lines.remove(at: 60)
        for k in 60..<lines.count { lines[k] = lines[k].replacingOccurrences(of: "\"record_drops\":0", with: "\"record_drops\":1") }
        try (lines.joined(separator: "\n") + "\n").write(toFile: run, atomically: true, encoding: .utf8)
        let reader = try RecordingReader(path: run)
        let report = try Replay.run(reader: reader, network: try loadNetwork(networkPath).0, mapping: try reader.header.resolvedMapping())
        #expect(report.stop == .complete)
        #expect(report.ticks == 199 && report.recordedTicks == 200)
        #expect(report.verdict != .verified, "one tick of 200 was never checked")
    }

    @Test func aTimeRangeAndANewRecordingThatReplaysOnItsOwn() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        let networkPath = try recordRun(in: folder, count: 1000, recording: run)
        let reader = try RecordingReader(path: run)
        let (network, _) = try loadNetwork(networkPath)
        let mapping = try reader.header.resolvedMapping()
        let out = folder.file("again.jsonl")
        let report = try Replay.run(reader: reader, network: network, mapping: mapping,
                                    options: ReplayOptions(fromSeconds: 1, toSeconds: 2), record: out)
        #expect(report.identical)
        #expect(report.reachedTo)
        #expect(report.verdict == .verified)
        #expect(report.ticksInRange == 201)         // t = 1.000 … 2.000 s at 5 ms
        #expect(report.ticks == 401)                // earlier ticks still ran through the network
        let original = try ticks(of: run)
        let again = try ticks(of: out)
        #expect(again.count == 201)
        #expect(again.map(\.tick) == Array(0..<201), "its own ticks, numbered from 0")
        for (k, t) in again.enumerated() {
            #expect(t.outputs == original[200 + k].outputs && t.setpoints == original[200 + k].setpoints && t.raw == original[200 + k].raw)
        }
        let newReader = try RecordingReader(path: out)
        #expect(newReader.header.network.path == "again.jsonl.network.json")
        #expect(newReader.header.startState != nil)
        var end: RecordingEvent?
        while let entry = newReader.next() { if case let .event(e) = entry, e.kind == .end { end = e } }
        #expect(end?.tick == 201, "its end record counts its own ticks")

        // The new recording replays by itself, from its own network file and start state.
        let replayAgain = try RecordingReader(path: out)
        let startNetwork = try #require(replayAgain.header.networkFile(recordingPath: out))
        let again2 = try Replay.run(reader: replayAgain, network: try loadNetwork(startNetwork).0,
                                    mapping: try replayAgain.header.resolvedMapping())
        #expect(again2.verdict == .verified, "\(again2.summary(wallSeconds: 0))")
        #expect(again2.ticks == 201 && again2.recordedTicks == 201)

        // Without its start state it would not: the state is what makes it replay.
        let text = try String(contentsOfFile: out, encoding: .utf8)
        let firstNewline = text.firstIndex(of: "\n")!
        var headerObject = try JSONSerialization.jsonObject(with: Data(text[..<firstNewline].utf8)) as! [String: Any]
        headerObject["start_state"] = nil
        let headerLine = String(decoding: try JSONSerialization.data(withJSONObject: headerObject, options: [.sortedKeys]), as: UTF8.self)
        let stripped = folder.file("stripped.jsonl")
        try (headerLine + text[firstNewline...]).write(toFile: stripped, atomically: true, encoding: .utf8)
        let strippedReader = try RecordingReader(path: stripped)
        #expect(strippedReader.header.startState == nil)
        let without = try Replay.run(reader: strippedReader, network: try loadNetwork(startNetwork).0,
                                     mapping: try strippedReader.header.resolvedMapping())
        #expect(without.verdict == .diverged)
    }

    @Test func aStopRequestEndsAPacedReplayPromptlyAndFinishesItsRecording() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        let networkPath = try recordRun(in: folder, count: 2000, recording: run)   // 10 s of firmware time
        let reader = try RecordingReader(path: run)
        let stop = StopRequest()
        let asked = RequestTime()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) {
            asked.set(Date())
            stop.request()
        }
        let out = folder.file("part.jsonl")
        // At 0.1× the whole replay would take 100 s.
        let report = try Replay.run(reader: reader, network: try loadNetwork(networkPath).0, mapping: try reader.header.resolvedMapping(),
                                    options: ReplayOptions(rate: 0.1), record: out, stopRequest: stop)
        let late = Date().timeIntervalSince(try #require(asked.value, "the replay ended before the stop request"))
        #expect(late < 2, "the replay ended \(late) s after the stop request")
        #expect(report.stopped && report.verdict == .stopped)
        #expect(report.ticks > 0 && report.ticks < 2000)
        let partial = try RecordingReader(path: out)
        var count = 0
        while partial.nextTick() != nil { count += 1 }
        #expect(partial.stop == .complete, "the recording was finished")
        #expect(count == report.ticksInRange)
        print("replay: stop request honoured after \(Int(late * 1000)) ms")
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

/// When a stop was requested, set from another thread.
private final class RequestTime: @unchecked Sendable {
    private let lock = NSLock()
    private var date: Date?
    func set(_ d: Date) { lock.withLock { date = d } }
    var value: Date? { lock.withLock { date } }
}
