import Foundation
import Neuraxon

/// Reads a recording back from an MCAP file written on `RecordingTopics`: the header from the
/// `neuraxon.recording` metadata, each tick put back together from its six tick-topic
/// messages (and its pose, for a simulated run), events from `/neuraxon/events`.
///
/// It reads front to back with `MCAPReader`, so a file cut off mid-run yields every tick of
/// every chunk written whole before the cut.
final class MCAPRecordingSource {
    let header: RecordingHeader
    /// Why `next()` returned nil; nil while entries remain.
    private(set) var stop: ReadStop?

    private let reader: MCAPReader
    private var topics: [UInt16: String] = [:]
    private var pending: PartialTick?
    private var queue: [RecordingEntry] = []
    private var messagesRead = 0

    /// The parts of a tick read so far.
    private struct PartialTick {
        var tick: Int
        var record: TickRecord
        var topicsSeen: Set<String> = []
    }

    init(path: String) throws(RecordingError) {
        reader = try MCAPReader(path: path)
        var found: RecordingHeader?
        while found == nil, let item = reader.next() {
            switch item {
            case let .channel(id, _, topic, _):
                topics[id] = topic
            case let .metadata(name, entries) where name == RecordingTopics.metadataName:
                guard let text = entries.first(where: { $0.0 == "header" })?.1 else {
                    throw RecordingError(path: path, "its `\(name)` metadata has no `header` entry: it is not a Neuraxon recording")
                }
                do {
                    found = try JSONDecoder().decode(RecordingHeader.self, from: Data(text.utf8))
                } catch {
                    throw RecordingError(path: path, "its recording header cannot be read (\(describeDecodingProblem(error)))")
                }
            case .message:
                throw RecordingError(path: path, "messages come before the `\(RecordingTopics.metadataName)` metadata: it is not a Neuraxon recording")
            default:
                continue
            }
        }
        guard let found else {
            throw RecordingError(path: path, "the MCAP file has no `\(RecordingTopics.metadataName)` metadata: it is not a Neuraxon recording (or was cut before it)")
        }
        header = found
    }

    /// The next tick or event, or nil at the end (see `stop`).
    func next() -> RecordingEntry? {
        while queue.isEmpty {
            guard stop == nil else { return nil }
            guard let item = reader.next() else {
                if let p = pending { finishPending(p) }
                pending = nil
                if stop == nil { stop = Self.readStop(reader.stop ?? .complete) }
                break
            }
            switch item {
            case let .channel(id, _, topic, _): topics[id] = topic
            case let .message(m): take(m)
            default: continue
            }
        }
        return queue.isEmpty ? nil : queue.removeFirst()
    }

    /// The `end` event of a complete file, read through its summary from its last chunk (for
    /// the length of a recording whose reading stopped early); nil when there is none.
    static func endEvent(path: String) -> RecordingEvent? {
        guard let messages = MCAPReader.lastChunkMessages(path: path, topic: RecordingTopics.events) else { return nil }
        for m in messages.reversed() {
            guard let v = try? m.data.withUnsafeBufferPointer({ (p) throws(JSONLineParser.Failure) in try JSONLineParser.parse(p) }),
                  v["event"]?.string == RecordingEvent.Kind.end.rawValue, let tick = v["tick"]?.int, let t = v["t_us"]?.int else { continue }
            return RecordingEvent(kind: .end, tick: Int(tick), timestampMicros: UInt64(clamping: t))
        }
        return nil
    }

    private static func readStop(_ s: MCAPReader.Stop) -> ReadStop {
        switch s {
        case .complete: .complete
        case .endedEarly: .endedEarly(lines: 0)
        case let .damaged(offset, reason): .damaged(line: 0, byteOffset: offset, reason: reason)
        }
    }

    private func damaged(_ reason: String) {
        stop = .damaged(line: 0, byteOffset: 0, reason: "message \(messagesRead): \(reason)")
    }

    private func finishPending(_ p: PartialTick) {
        let missing = RecordingTopics.tickTopics.filter { !p.topicsSeen.contains($0) }
        guard missing.isEmpty else {
            damaged("tick \(p.tick) has no message on \(missing.joined(separator: ", "))")
            return
        }
        queue.append(.tick(p.record))
    }

    private func take(_ m: MCAPMessage) {
        messagesRead += 1
        guard let topic = topics[m.channel] else { return damaged("a message on channel \(m.channel), which was never declared") }
        guard RecordingTopics.tickTopics.contains(topic) || topic == RecordingTopics.events || topic == RecordingTopics.pose
                || topic == RecordingTopics.linkStatus else { return }
        let value: JSONValue
        do {
            value = try m.data.withUnsafeBufferPointer { (p) throws(JSONLineParser.Failure) in try JSONLineParser.parse(p) }
        } catch {
            return damaged("\(topic) holds invalid JSON (\(error.message))")
        }
        if topic == RecordingTopics.pose {
            guard var p = pending, let position = value["pose"]?["position"], let q = value["pose"]?["orientation"],
                  let x = position["x"]?.double, let y = position["y"]?.double, let qz = q["z"]?.double, let qw = q["w"]?.double else {
                return damaged("a pose message that does not follow its tick's messages or lacks its position")
            }
            p.record.pose = RecordedPose(x: x, y: y, heading: 2 * atan2(qz, qw))
            pending = p
            return
        }
        if topic == RecordingTopics.events {
            guard let name = value["event"]?.string, let kind = RecordingEvent.Kind(rawValue: name),
                  let tick = value["tick"]?.int, let t = value["t_us"]?.int else { return damaged("a bad event message") }
            if let p = pending { finishPending(p); pending = nil }
            var event = RecordingEvent(kind: kind, tick: Int(tick), timestampMicros: UInt64(clamping: t))
            event.readDetails(value)
            if kind == .modulate {
                guard let (m, level) = RecordingEvent.modulation(value) else { return damaged("a bad modulate event") }
                event.modulator = m
                event.level = level
            }
            if kind == .clamp {
                guard let (input, state) = RecordingEvent.clamping(value) else { return damaged("a bad clamp event") }
                event.input = input
                event.clampedState = state
            }
            queue.append(.event(event))
            return
        }
        if topic == RecordingTopics.linkStatus {
            guard let link = RecordingEvent.linkRecord(value) else { return damaged("a bad link status message") }
            if let p = pending { finishPending(p); pending = nil }
            queue.append(.event(link))
            return
        }
        guard let tick = value["tick"]?.int.map(Int.init) else { return damaged("\(topic) has no `tick`") }
        if let p = pending, p.tick != tick {
            finishPending(p)
            pending = nil
            guard stop == nil else { return }
        }
        var p = pending ?? PartialTick(tick: tick, record: TickRecord(
            tick: tick, timestampMicros: m.logTime / 1000, sequence: 0, hostReceiveNanos: 0, hostSendNanos: 0, steps: 0,
            raw: [], values: [], inputs: [], outputs: [], setpoints: [], modulators: [], counters: TickCounters()))
        guard !p.topicsSeen.contains(topic) else { return damaged("tick \(tick) has two messages on \(topic)") }
        p.topicsSeen.insert(topic)
        if let problem = fill(&p.record, topic, value) { return damaged("tick \(tick) on \(topic): \(problem)") }
        pending = p
    }

    /// Fills the fields `topic` carries; returns what is wrong, if anything.
    private func fill(_ r: inout TickRecord, _ topic: String, _ v: JSONValue) -> String? {
        func trits(_ key: String) -> [Trit]? {
            v[key]?.array?.compactMap { $0.int.flatMap { Trit(Int($0)) } }
        }
        switch topic {
        case RecordingTopics.sensors:
            guard let t = v["t_us"]?.int, let seq = v["seq"]?.int, let seq32 = UInt32(exactly: seq),
                  case let .object(raw)? = v["raw"], case let .object(values)? = v["values"] else { return "`t_us`, `seq`, `raw` or `values` is missing" }
            r.timestampMicros = UInt64(clamping: t)
            r.sequence = seq32
            r.raw = []
            for s in header.device.sensors {
                guard let x = raw[s.name]?.int, let x16 = Int16(exactly: x) else { break }
                r.raw.append(x16)
            }
            guard r.raw.count == raw.count else { return "`raw` names a channel the device does not have, or holds a bad value" }
            r.values = []
            for name in header.valueNames {
                guard let x = values[name]?.double else { return "`values` lacks `\(name)`" }
                r.values.append(x)
            }
        case RecordingTopics.inputs:
            guard let x = trits("inputs"), x.count == v["inputs"]?.array?.count else { return "`inputs` is not a list of trits" }
            r.inputs = x
        case RecordingTopics.outputs:
            guard let x = trits("outputs"), x.count == v["outputs"]?.array?.count, let steps = v["steps"]?.int else {
                return "`outputs` is not a list of trits or `steps` is missing"
            }
            r.outputs = x
            r.steps = Int(steps)
        case RecordingTopics.setpoints:
            guard case let .object(s)? = v["setpoints"] else { return "`setpoints` is missing" }
            r.setpoints = []
            for a in header.device.actuators {
                guard let x = s[a.name]?.int, let x16 = Int16(exactly: x) else { break }
                r.setpoints.append(x16)
            }
            guard r.setpoints.count == s.count else { return "`setpoints` names a channel the device does not have, or holds a bad value" }
        case RecordingTopics.modulators:
            r.modulators = []
            for m in Neuromodulator.allCases {
                guard let x = v[m.rawValue]?.double else { return "`\(m.rawValue)` is missing" }
                r.modulators.append(x)
            }
        case RecordingTopics.link:
            guard let host = v["host_ns"]?.int, let sent = v["sent_ns"]?.int, let c = v["counters"] else { return "`host_ns`, `sent_ns` or `counters` is missing" }
            r.hostReceiveNanos = UInt64(clamping: host)
            r.hostSendNanos = UInt64(clamping: sent)
            r.counters.overruns = Int(c["overruns"]?.int ?? 0)
            r.counters.lateTicks = Int(c["late"]?.int ?? 0)
            r.counters.readingErrors = Int(c["reading_errors"]?.int ?? 0)
            r.counters.clockResets = Int(c["clock_resets"]?.int ?? 0)
            r.counters.droppedFrames = Int(c["dropped"]?.int ?? 0)
            r.counters.recordDrops = Int(c["record_drops"]?.int ?? 0)
        default:
            break
        }
        return nil
    }
}
