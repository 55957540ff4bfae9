/// What `neuraxon log info` shows about a recording: its header and totals over its ticks.
public struct RecordingSummary: Sendable {
    public var header: RecordingHeader
    public var ticks = 0
    public var steps = 0
    /// Firmware time from the first to the last tick, s.
    public var seconds = 0.0
    public var linkLosses = 0
    /// The counters of the last tick.
    public var counters = TickCounters()
    /// Ticks per output neuron in each state (−1, 0, +1).
    public var outputHistogram: [[Int]]
    /// Sensor-to-command latency quantiles over the ticks that carry host times, µs.
    public var latencyP50Micros = 0.0
    public var latencyP99Micros = 0.0
    public var stop: ReadStop = .complete
    /// How many ticks the recording says it holds (its `end` record's count, read at the file's
    /// end if reading stopped before it); nil when it has none.
    public var recordedTicks: Int?
    /// How many events of each kind the recording holds (`link` records included, `end` not).
    public var eventCounts: [RecordingEvent.Kind: Int] = [:]
    /// The signal of each `stop` event, in order (0: asked from inside the program).
    public var stopSignals: [Int] = []
    /// The last `link` record's counters and round trip; nil when the recording has none.
    public var lastLink: RecordedLinkStatus?

    /// The event kinds replay takes over into the run it repeats.
    public static let replayedEventKinds: Set<RecordingEvent.Kind> = [.linkLost, .linkRestored, .modulate, .end]

    /// Reads the whole recording at `path`.
    public init(path: String) throws(RecordingError) {
        let reader = try RecordingReader(path: path)
        header = reader.header
        outputHistogram = [[Int]](repeating: [0, 0, 0], count: reader.header.outputCount)
        var first: UInt64?, last: UInt64 = 0
        var latency = LatencyHistogram()
        while let entry = reader.next() {
            switch entry {
            case let .event(e):
                if e.kind == .linkLost { linkLosses += 1 }
                if e.kind == .end { recordedTicks = e.tick } else { eventCounts[e.kind, default: 0] += 1 }
                if e.kind == .stop { stopSignals.append(e.signal ?? 0) }
                if e.kind == .link { lastLink = e.link }
            case let .tick(t):
                ticks += 1
                steps += t.steps
                first = first ?? t.timestampMicros
                last = t.timestampMicros
                counters = t.counters
                for (k, s) in t.outputs.enumerated() where k < outputHistogram.count { outputHistogram[k][s.value + 1] += 1 }
                if t.hostReceiveNanos > 0, t.hostSendNanos >= t.hostReceiveNanos {
                    latency.record(nanos: t.hostSendNanos - t.hostReceiveNanos)
                }
            }
        }
        seconds = Double(last &- (first ?? last)) / 1e6
        latencyP50Micros = latency.quantileMicros(0.5)
        latencyP99Micros = latency.quantileMicros(0.99)
        stop = reader.stop ?? .complete
        if recordedTicks == nil, case .damaged = stop { recordedTicks = reader.endRecordAtFileEnd()?.tick }
    }

    /// The summary as lines of text.
    public var lines: [String] {
        var out = [
            "format:        \(header.format) version \(header.version)",
            "started:       \(header.startTime)",
            "device:        \(header.device.name)\(header.device.firmwareVersion.isEmpty ? "" : " (firmware \(header.device.firmwareVersion))")",
            "network:       \(header.network.path.isEmpty ? "(not from a file)" : header.network.path + " (relative to the recording)")  \(header.inputCount) inputs, \(header.outputCount) outputs, dt \(header.dtMillis) ms",
            "  sha-256:     \(header.network.digest.isEmpty ? "-" : header.network.digest)",
            "  seed:        \(header.network.seed.map(String.init) ?? "-")",
            "ticks:         \(ticks)\(recordedTicks.map { $0 != ticks ? " of \($0)" : "" } ?? "") over \(rounded(seconds, 3)) s\(seconds > 0 ? " (\(rounded(Double(max(0, ticks - 1)) / seconds, 1)) Hz)" : ""), \(steps) network steps",
            "latency:       p50 \(rounded(latencyP50Micros, 0)) µs, p99 \(rounded(latencyP99Micros, 0)) µs (sensor frame received → command sent)",
            "counters:      overruns \(counters.overruns), late \(counters.lateTicks), reading errors \(counters.readingErrors), clock resets \(counters.clockResets), dropped frames \(counters.droppedFrames), record drops \(counters.recordDrops), link losses \(linkLosses)",
        ]
        out.append(contentsOf: eventLines)
        for (k, h) in outputHistogram.enumerated() {
            out.append("output \(k):      -1 × \(h[0]), 0 × \(h[1]), +1 × \(h[2])")
        }
        out.append("end:           \(stop)")
        return out
    }

    /// The events, the link's last record and what replay leaves out, as lines (none for a
    /// recording without events).
    var eventLines: [String] {
        var out: [String] = []
        let order: [RecordingEvent.Kind] = [.linkLost, .linkRestored, .reconnect, .failsafe, .failsafeCleared, .modulate, .stop]
        let listed = order.compactMap { kind -> String? in
            guard let n = eventCounts[kind], n > 0 else { return nil }
            if kind == .stop {
                return stopSignals.map { $0 == 0 ? "stop (asked in the program)" : "stop (\(Self.signalName($0)))" }.joined(separator: ", ")
            }
            return "\(n) \(kind.rawValue.replacingOccurrences(of: "_", with: " "))"
        }
        let others = eventCounts.filter { !order.contains($0.key) && $0.key != .link }.map { "\($0.value) \($0.key.rawValue)" }.sorted()
        if !(listed + others).isEmpty { out.append("events:        " + (listed + others).joined(separator: ", ")) }
        if let link = lastLink {
            func ms(_ x: Double?) -> String { x.map { "\(rounded($0, 2)) ms" } ?? "-" }
            out.append("link:          \(eventCounts[.link] ?? 0) records; round trip p50 \(ms(link.roundTripP50Millis)), p99 \(ms(link.roundTripP99Millis)), last \(ms(link.roundTripLastMillis)) (\(link.roundTripCount) round trips)")
            let c = link.counters
            out.append("  counters:    frames \(c.framesReceived) received, \(c.framesSent) sent; crc errors \(c.crcErrors), malformed \(c.malformedFrames), rejected \(c.rejectedFrames), dropped \(c.droppedFrames), stale \(c.staleFrames), board errors \(c.boardErrors), losses \(c.linkLosses), reconnects \(c.reconnects)")
        }
        let shownOnly = eventCounts.keys.filter { !Self.replayedEventKinds.contains($0) }.map(\.rawValue).sorted()
        if !shownOnly.isEmpty {
            out.append("replay:        does not re-apply \(shownOnly.joined(separator: ", ")) (reports of the board and the link, and the stop, belong to the recorded run)")
        }
        return out
    }

    /// `SIGINT` for 2, … (the signals a run stops on), else `signal N`.
    static func signalName(_ signal: Int) -> String {
        switch signal {
        case 1: "SIGHUP"
        case 2: "SIGINT"
        case 15: "SIGTERM"
        default: "signal \(signal)"
        }
    }

    private func rounded(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return "-" }
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        let r = (x * p).rounded() / p
        return digits == 0 ? String(Int(r)) : String(r)
    }
}
