import Foundation
import Neuraxon
@testable import NeuraxonEmbodiment
import NeuraxonSimulation
import Testing
#if canImport(CAllocationCounter)
import CAllocationCounter
#endif

/// Records the reference mapping with a saved "flowing" network over `count` scripted frames
/// (with a link loss in the middle) to `recording`, JSON Lines or MCAP by its extension.
private func recordScriptedRun(in folder: TemporaryFolder, count: Int, recording: String) throws {
    let networkPath = folder.file("net.json")
    if !FileManager.default.fileExists(atPath: networkPath) { _ = try savedFlowingNetwork(in: folder, seed: 11) }
    let (network, identity) = try loadNetwork(networkPath)
    let recorder = try Recorder(path: recording, header: RecordingHeader(mapping: referenceMapping, network: identity, dtMillis: network.dt))
    var script = (0..<count).map { ScriptedBody.Step.frame(timestampMicros: 2_000_000 + UInt64($0) * 5000, readings: sweepReadings($0)) }
    script.insert(.linkLost, at: count / 2)
    let loop = try ControlLoop(body: ScriptedBody(script: script), network: network, mapping: referenceMapping, recorder: recorder)
    loop.start()
    #expect(loop.wait() == .finished)
    #expect(loop.recordingError == nil)
}

private func entries(of path: String) throws -> (entries: [RecordingEntry], stop: ReadStop?) {
    let reader = try RecordingReader(path: path)
    var out: [RecordingEntry] = []
    while let e = reader.next() { out.append(e) }
    return (out, reader.stop)
}

/// The entries with the wall-clock fields (Docs/LOG-FORMAT.md) and the late-tick counter,
/// which follows the wall clock for a paced body, set to 0.
private func withoutWallClock(_ entries: [RecordingEntry]) -> [RecordingEntry] {
    entries.map {
        guard case var .tick(t) = $0 else { return $0 }
        t.hostReceiveNanos = 0
        t.hostSendNanos = 0
        t.counters.lateTicks = 0
        return .tick(t)
    }
}

/// The file offsets of each top-level chunk record's start and end, and the number of ticks
/// (messages on the first channel, `/neuraxon/sensors`) in the chunks up to it.
private func chunkEnds(_ bytes: [UInt8]) -> [(start: Int, end: Int, ticks: Int)] {
    func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
    var out: [(Int, Int, Int)] = []
    var at = 8, ticks = 0
    while at + 9 <= bytes.count {
        let opcode = bytes[at], length = u64(at + 1)
        if opcode == 0x0f { break }
        if opcode == 0x06 {
            // message_start_time, message_end_time, uncompressed_size (u64 each), crc (u32),
            // compression ("" = u32 0), records length (u64), then the records.
            var r = at + 9 + 8 + 8 + 8 + 4 + 4 + 8
            let end = at + 9 + length
            while r < end {
                if bytes[r] == 0x05, bytes[r + 9] == 1, bytes[r + 10] == 0 { ticks += 1 }
                r += 9 + u64(r + 1)
            }
            out.append((at, end, ticks))
        }
        at += 9 + length
    }
    return out
}

/// The file offset of the data end record.
private func dataEndOffset(_ bytes: [UInt8]) -> Int? {
    var at = 8
    while at + 9 <= bytes.count {
        if bytes[at] == 0x0f { return at }
        at += 9 + (0..<8).reduce(0) { $0 | Int(bytes[at + 1 + $1]) << (8 * $1) }
    }
    return nil
}

@Suite struct MCAPTests {
    @Test("CRC-32 gives the standard check value")
    func crcCheckValue() {
        #expect(CRC32.of(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.of([UInt8]()) == 0)
    }

    @Test("the writer's messages come back from the reader over many chunks, and the file ends with its footer and magic")
    func writerAndReader() throws {
        let folder = TemporaryFolder()
        var writer = MCAPWriter(chunkBytes: 300)
        let schema = writer.addSchema(name: "test.Value", encoding: "jsonschema", data: Array(#"{"type":"object"}"#.utf8))
        let a = writer.addChannel(topic: "/a", schema: schema, messageEncoding: "json")
        let b = writer.addChannel(topic: "/b", schema: schema, messageEncoding: "json")
        var bytes = writer.takeOutput()
        for k in 0..<100 {
            writer.addMessage(channel: k % 3 == 0 ? b : a, logTime: UInt64(k) * 1000, publishTime: UInt64(k) * 1000, data: Array("{\"k\":\(k)}".utf8))
            if writer.chunkIsFull { writer.closeChunk() }
            if k % 7 == 0 { bytes += writer.takeOutput() }
        }
        writer.finish()
        bytes += writer.takeOutput()
        #expect(Array(bytes.suffix(8)) == MCAP.magic && Array(bytes.prefix(8)) == MCAP.magic)
        #expect(chunkEnds(bytes).count > 5)
        let path = folder.file("t.mcap")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let reader = try MCAPReader(path: path)
        var messages: [(UInt16, UInt64, String)] = []
        var topics: [UInt16: String] = [:]
        while let item = reader.next() {
            switch item {
            case let .channel(id, _, topic, _): topics[id] = topic
            case let .message(m): messages.append((m.channel, m.logTime, String(decoding: m.data, as: UTF8.self)))
            default: break
            }
        }
        #expect(reader.stop == .complete)
        #expect(topics == [a: "/a", b: "/b"])
        #expect(messages.count == 100)
        #expect(messages.enumerated().allSatisfy { k, m in m.0 == (k % 3 == 0 ? b : a) && m.1 == UInt64(k) * 1000 && m.2 == "{\"k\":\(k)}" })
    }

    @Test("a recording exported to MCAP reads back equal to its JSON Lines, entry for entry")
    func exportRoundTrip() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl"), mcap = folder.file("run.mcap")
        try recordScriptedRun(in: folder, count: 600, recording: run)
        let export = try RecordingMCAP.export(try RecordingReader(path: run), to: mcap)
        #expect(export.ticks == 600 && export.events == 3 && export.messages == 600 * 6 + 3)
        let (jsonl, jsonlStop) = try entries(of: run)
        let (fromMCAP, mcapStop) = try entries(of: mcap)
        #expect(jsonlStop == .complete && mcapStop == .complete)
        #expect(fromMCAP == jsonl)
        #expect(try RecordingReader(path: mcap).header == RecordingReader(path: run).header)
        #expect(try RecordingReader(path: mcap).isMCAP)
    }

    @Test("a run recorded straight to MCAP holds what the same run records as JSON Lines, and replays the same")
    func directRecordingReplaysLikeJSONLines() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl"), mcap = folder.file("run.mcap")
        try recordScriptedRun(in: folder, count: 400, recording: run)
        try recordScriptedRun(in: folder, count: 400, recording: mcap)
        let (jsonl, _) = try entries(of: run)
        let (fromMCAP, stop) = try entries(of: mcap)
        #expect(stop == .complete)
        let same = withoutWallClock(fromMCAP) == withoutWallClock(jsonl)
        #expect(same && fromMCAP.count == 403)
        let (network, _) = try loadNetwork(folder.file("net.json"))
        let a = try Replay.run(reader: RecordingReader(path: run), network: network, mapping: referenceMapping)
        let (network2, _) = try loadNetwork(folder.file("net.json"))
        let b = try Replay.run(reader: RecordingReader(path: mcap), network: network2, mapping: referenceMapping)
        #expect(a.verdict == .verified && b.verdict == .verified)
        #expect(a.ticks == b.ticks && a.steps == b.steps && a.recordedTicks == b.recordedTicks && a.recordedTicks == 400)
        #expect(a.summary(wallSeconds: 0) == b.summary(wallSeconds: 0))
    }

    @Test("an MCAP file cut at any point reads up to its last complete chunk, and says where it stopped")
    func cutFilesRecover() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl")
        try recordScriptedRun(in: folder, count: 120, recording: run)
        let reader = try RecordingReader(path: run)
        var encoder = try RecordingMCAPEncoder(header: reader.header, networkFile: nil, chunkBytes: 2048)
        var all: [TickRecord] = []
        while let entry = reader.next() {
            switch entry {
            case let .tick(t): encoder.add(t); all.append(t)
            case let .event(e): encoder.add(e)
            }
        }
        encoder.finish()
        let bytes = encoder.takeOutput()
        let ends = chunkEnds(bytes)
        #expect(ends.count > 20 && ends.last?.ticks == 120)
        let firstChunkEnd = ends[0].end
        let dataEnd = try #require(dataEndOffset(bytes))
        var generator = SystemRandomNumberGenerator()
        let seed = UInt64.random(in: 0...UInt64.max, using: &generator)
        var rng = SplitMix(seed: seed)
        var cuts: [Int] = []
        for _ in 0..<40 { cuts.append(Int(rng.next() % UInt64(bytes.count))) }
        for e in ends.prefix(5) + ends.suffix(5) { cuts.append(e.end); cuts.append(e.end - 1) }
        cuts += [bytes.count - 1, 9, 0]
        let cut = folder.file("cut.mcap")
        for c in cuts {
            try Data(bytes[0..<c]).write(to: URL(fileURLWithPath: cut))
            let expected = ends.last(where: { $0.end <= c })?.ticks ?? 0
            if c < firstChunkEnd - 1, expected == 0 {
                // Cut before any tick: the header may or may not be there; either way no crash.
                if let r = try? RecordingReader(path: cut) { while r.next() != nil {} }
                continue
            }
            let r = try RecordingReader(path: cut)
            var got: [TickRecord] = []
            while let t = r.nextTick() { got.append(t) }
            #expect(got == Array(all.prefix(expected)), "cut at \(c) of \(bytes.count) (seed \(seed)): \(got.count) ticks, expected \(expected)")
            // Complete once the data end record (13 bytes after the last chunk's indexes) is whole.
            #expect((r.stop == .complete) == (c >= dataEnd + 13), "cut at \(c): \(String(describing: r.stop))")
            #expect(r.endRecordAtFileEnd() == nil, "a cut file has no summary to find its end event in")
            if c == ends[3].end { #expect(r.stop == .endedEarly(lines: 0) && r.stop!.description.hasPrefix("the file ends without an end record")) }
        }
    }

    @Test("a damaged chunk stops reading there, with the byte offset and the reason")
    func damagedChunk() throws {
        let folder = TemporaryFolder()
        let run = folder.file("run.jsonl"), mcap = folder.file("run.mcap")
        try recordScriptedRun(in: folder, count: 300, recording: run)
        let reader = try RecordingReader(path: run)
        var encoder = try RecordingMCAPEncoder(header: reader.header, networkFile: nil, chunkBytes: 8192)
        while let entry = reader.next() {
            switch entry {
            case let .tick(t): encoder.add(t)
            case let .event(e): encoder.add(e)
            }
        }
        encoder.finish()
        var bytes = encoder.takeOutput()
        let ends = chunkEnds(bytes)
        bytes[ends[2].end - 20] ^= 0xff      // inside the third chunk's records
        try Data(bytes).write(to: URL(fileURLWithPath: mcap))
        let r = try RecordingReader(path: mcap)
        var ticks = 0
        while r.nextTick() != nil { ticks += 1 }
        #expect(ticks == ends[1].ticks)
        guard case let .damaged(_, offset, reason)? = r.stop else { Issue.record("\(String(describing: r.stop))"); return }
        #expect(offset == ends[2].start && reason.contains("CRC"), "\(offset) \(reason)")
        #expect(r.stop!.description.hasPrefix("stopped at byte \(ends[2].start): "))
        // The file is whole, so its length comes from the end event in its last chunk, through the summary.
        #expect(r.endRecordAtFileEnd()?.tick == 300)
        let (network, _) = try loadNetwork(folder.file("net.json"))
        let report = try Replay.run(reader: RecordingReader(path: mcap), network: network, mapping: referenceMapping)
        #expect(report.recordedTicks == 300 && report.ticks == ends[1].ticks)
        #expect(report.summary(wallSeconds: 0).last?.hasSuffix("; \(300 - ends[1].ticks) of its 300 ticks were not checked") == true,
                "\(report.summary(wallSeconds: 0))")
    }

    #if canImport(CAllocationCounter)
    @Test("handing a tick, with the simulated robot's pose, to an MCAP recorder allocates nothing on the tick thread")
    func mcapRecorderHandOffAllocatesNothing() throws {
        let folder = TemporaryFolder()
        let network = ProbeNetwork()
        let robot = try SimulatedRobot(world: World.named("light"), seed: 1, start: 0)
        var header = RecordingHeader(mapping: referenceMapping, network: NetworkIdentity(), dtMillis: network.dt)
        header.world = robot.world.worldFileText()
        let recorder = try Recorder(path: folder.file("run.mcap"), header: header)
        recorder.recordPose(of: robot)
        let core = try ControlCore(mapping: referenceMapping, network: network)
        let body = ScriptedBody(count: 2000, periodMicros: 5000, readings: sweepReadings)
        var frame = SensorFrame(channelCount: 7)
        func tick() {
            _ = body.nextFrame(into: &frame, timeoutMicros: 1000)
            core.process(frame)
            _ = body.send(core.setpoints)
            recorder.record(core, frame: frame, sentNanos: 0)
        }
        for _ in 0..<100 { tick() }                  // warm up
        nx_alloc_counter_start()
        for _ in 0..<1000 { tick() }
        let allocations = nx_alloc_counter_stop()
        try recorder.finish()
        #expect(allocations == 0)
        let reader = try RecordingReader(path: folder.file("run.mcap"))
        var ticks = 0
        while let t = reader.nextTick() {
            let p = robot.pose
            #expect(t.pose.map { $0.x == p.x && $0.y == p.y && abs($0.heading - p.heading) < 1e-12 } == true)
            ticks += 1
        }
        #expect(ticks == 1100 && reader.stop == .complete)
    }
    #endif

    @Test("a tick line with a pose reads back the same through the fast parser and the general one; a line without stays as before")
    func poseInTickLines() throws {
        var record = TickRecord(tick: 3, timestampMicros: 15000, sequence: 3, hostReceiveNanos: 7, hostSendNanos: 9, steps: 5,
                                raw: [1, 2], values: [0.5, .nan], inputs: [.excitatory, .neutral], outputs: [.inhibitory],
                                setpoints: [10], modulators: [1, 0.1, 1, 0.8], counters: TickCounters(),
                                pose: RecordedPose(x: 1.25, y: 0.1 + 0.2, heading: -2.5))
        for pose in [record.pose, nil] {
            record.pose = pose
            var out = JSONOutput()
            record.appendJSON(to: &out)
            let line = Array(out.bytes.dropLast())
            #expect(String(decoding: line, as: UTF8.self).contains("\"pose\":") == (pose != nil))
            let fast = line.withUnsafeBufferPointer { TickLineParser.parse($0) }
            let general = try TickRecord(json: line.withUnsafeBufferPointer { try JSONLineParser.parse($0) })
            #expect(fast?.pose == pose && general.pose == pose)
            #expect(fast?.raw == record.raw && general.setpoints == record.setpoints)
        }
    }

    @Test("a file that is not MCAP or not a recording is refused with a clear error")
    func notARecording() throws {
        let folder = TemporaryFolder()
        var writer = MCAPWriter()
        writer.finish()
        let empty = folder.file("empty.mcap")
        try Data(writer.takeOutput()).write(to: URL(fileURLWithPath: empty))
        #expect(throws: RecordingError.self) { try RecordingReader(path: empty) }
        do { _ = try RecordingReader(path: empty) } catch {
            #expect(error.message.contains("no `neuraxon.recording` metadata"), "\(error)")
        }
    }
}
