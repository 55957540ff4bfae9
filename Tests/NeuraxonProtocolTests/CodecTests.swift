import NeuraxonChannels
@testable import NeuraxonProtocol
import Testing

/// A small deterministic generator (xorshift64*), so fuzz runs repeat exactly.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545F4914F6CDD1D
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

@Suite("Frame codec")
struct CodecTests {
    static let referenceInfo = BoardInfo(
        firmwareMajor: 1, firmwareMinor: 0, firmwarePatch: 0, uniqueID: 0x0100_584E_000F_951E,
        periodMinMilliseconds: 4, periodMaxMilliseconds: 1000, failsafeMinMilliseconds: 10, failsafeMaxMilliseconds: 250,
        board: "neuraxon-uno",
        sensors: Array(repeating: ChannelDescriptor(kind: .analog, unit: .millivolt, minimum: 0, maximum: 5000), count: 4)
            + [ChannelDescriptor(kind: .digital, unit: .none, minimum: 0, maximum: 1)]
            + Array(repeating: ChannelDescriptor(kind: .encoder, unit: .tick, minimum: -32768, maximum: 32767), count: 2),
        actuators: [ChannelDescriptor(kind: .motor, unit: .perMille, minimum: -1000, maximum: 1000),
                    ChannelDescriptor(kind: .motor, unit: .perMille, minimum: -1000, maximum: 1000),
                    ChannelDescriptor(kind: .servo, unit: .degree, minimum: 0, maximum: 180, safe: 90)])

    static let messages: [Message] = [
        .hello, .getStatus, .stop, .config(LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 250, sensorMask: 3)),
        .configAck(LinkConfig()), .command(setpoints: [-1000, 1000, 90]), .ping(token: 0xDEADBEEF),
        .pong(token: 7, timestampMicros: 0xFFFF_FFFF), .deviceInfo(referenceInfo),
        .status(BoardStatus(failsafe: 2, resetCause: 3, uptimeMilliseconds: 1, crcErrors: 2, malformedFrames: 3,
                            rejectedFrames: 4, droppedFrames: 5, rxOverflows: 6, failsafeTrips: 7, loopOverruns: 8)),
        .sensors(SensorSample(timestampMicros: 123, sensorMask: 0x7F, values: [0, 0, 5000, 1, 1, -1, 32767])),
        .error(ErrorReport(code: 4, referencedType: 3, referencedSequence: 9, detail: 2)),
    ]

    @Test("every message type survives encode then decode, with every sequence number's frame under 130 bytes")
    func roundTrip() {
        for (i, message) in Self.messages.enumerated() {
            for seq in [0, 1, 127, 255] as [UInt8] {
                let frame = FrameEncoder.frame(message, sequence: seq)
                #expect(frame.count <= ProtocolLimits.maxFrameLength)
                #expect(frame.last == 0 && !frame.dropLast().contains(0))
                var decoder = FrameDecoder()
                let results = decoder.decodeAll(frame)
                guard results.count == 1, case let .success((header, decoded)) = results[0] else {
                    Issue.record("message \(i) seq \(seq): \(results)")
                    continue
                }
                #expect(header.sequence == seq)
                #expect(decoded == message)
            }
        }
    }

    @Test("encodeCommand writes the same frame as encoding a COMMAND message")
    func commandFastPath() {
        var encoder = FrameEncoder()
        let setpoints: [Int16] = [250, -250, 0]
        setpoints.withUnsafeBufferPointer { encoder.encodeCommand($0, sequence: 6) }
        #expect(encoder.frame == FrameEncoder.frame(.command(setpoints: setpoints), sequence: 6))
    }

    @Test("readSensors fills a caller's sample in place")
    func sensorsInPlace() {
        var decoder = FrameDecoder()
        var sample = SensorSample()
        let frame = FrameEncoder.frame(.sensors(SensorSample(timestampMicros: 5, sensorMask: 0b100001, values: [10, -20])), sequence: 3)
        frame.withUnsafeBytes { raw in
            var offset = 0
            guard case .frame = decoder.decode(raw, offset: &offset) else { Issue.record("no frame"); return }
            #expect(decoder.readSensors(into: &sample))
        }
        #expect(sample.timestampMicros == 5 && sample.sensorMask == 0b100001)
        #expect(sample.readings[0] == 10 && sample.readings[5] == -20)
        #expect(sample.readings.count == ProtocolLimits.maxChannels)
    }

    @Test("fuzz: corrupted, dropped, duplicated and garbage bytes never yield a wrong frame, and every good frame after damage decodes")
    func fuzz() {
        var random = TestRandom(seed: 0x5EED)
        var decoder = FrameDecoder()
        var accepted = 0, corruptedAccepted = 0, goodLost = 0
        let rounds = 50_000
        var stream: [UInt8] = []
        var expectations: [(intact: Bool, frame: [UInt8])] = []
        for round in 0..<rounds {
            let message = Self.messages[random.below(Self.messages.count)]
            let original = FrameEncoder.frame(message, sequence: UInt8(truncatingIfNeeded: round))
            var frame = original
            let damage = random.below(6)
            switch damage {
            case 0:  // flip one to three bits, anywhere but the delimiter
                for _ in 0...random.below(3) {
                    let at = random.below(frame.count - 1)
                    frame[at] ^= UInt8(1) << UInt8(random.below(8))
                }
            case 1: frame.remove(at: random.below(frame.count - 1))  // drop a byte
            case 2:  // duplicate a byte
                let at = random.below(frame.count - 1)
                frame.insert(frame[at], at: at)
            case 3:  // garbage before the frame, ended by a delimiter
                stream += (0..<(1 + random.below(20))).map { _ in UInt8(1 + random.below(255)) } + [0]
            default: break
            }
            stream += frame
            expectations.append((frame == original, original))
        }
        // Decode the whole stream in random-sized pieces and match good frames in order.
        var results: [[UInt8]] = []
        var start = 0
        var encoder = FrameEncoder()
        while start < stream.count {
            let end = min(stream.count, start + 1 + random.below(64))
            Array(stream[start..<end]).withUnsafeBytes { raw in
                var offset = 0
                while let event = decoder.decode(raw, offset: &offset) {
                    guard case let .frame(h) = event, let m = try? decoder.message() else { continue }
                    encoder.encode(m, sequence: h.sequence)
                    results.append(encoder.frame)
                }
            }
            start = end
        }
        let intactFrames = expectations.filter(\.intact).map(\.frame)
        let allOriginal = Set(expectations.map(\.frame))
        accepted = results.count
        for r in results where !allOriginal.contains(r) { corruptedAccepted += 1 }
        var i = 0
        for f in intactFrames {
            var j = i
            while j < results.count && results[j] != f { j += 1 }
            if j == results.count { goodLost += 1 } else { i = j + 1 }
        }
        #expect(corruptedAccepted == 0)
        #expect(goodLost == 0)
        #expect(accepted >= intactFrames.count)
    }

    @Test("a frame longer than 128 bytes is too_long and the decoder recovers at the next delimiter")
    func overlongRecovers() {
        var decoder = FrameDecoder()
        let junk = [UInt8](repeating: 0x41, count: 400) + [0]
        let good = FrameEncoder.frame(.ping(token: 1), sequence: 1)
        let results = decoder.decodeAll(junk + good)
        #expect(results.count == 2)
        if case .failure(.tooLong) = results.first {} else { Issue.record("expected too_long, got \(results)") }
        if case .success((_, .ping(token: 1))) = results.last {} else { Issue.record("expected the ping, got \(results)") }
    }
}

@Suite("CONFIG's sensor mask")
struct SensorMaskTests {
    @Test("'every sensor' becomes a mask of exactly the board's sensors; an explicit mask is kept")
    func narrowed() {
        #expect(LinkConfig().sensorMask == LinkConfig.allSensors)
        #expect(LinkConfig().narrowed(toSensors: 7).sensorMask == 0x7F)
        #expect(LinkConfig().narrowed(toSensors: 12).sensorMask == 0x0FFF)
        #expect(LinkConfig().narrowed(toSensors: 16).sensorMask == 0xFFFF)
        #expect(LinkConfig(sensorMask: 0x05).narrowed(toSensors: 7).sensorMask == 0x05)
        #expect(LinkConfig(periodMilliseconds: 20).narrowed(toSensors: 3).periodMilliseconds == 20)
    }
}
