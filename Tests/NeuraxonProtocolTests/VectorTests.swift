import NeuraxonChannels
@testable import NeuraxonProtocol
import Testing

/// The text form of a decoded message, as the `message` lines of the vector file write it.
func vectorText(_ header: FrameHeader, _ message: Message) -> String {
    var f = ["\(header.type)", "seq=\(header.sequence)"]
    func list(_ v: [Int16]) -> String { v.map(String.init).joined(separator: ",") }
    func channel(_ c: ChannelDescriptor) -> String {
        "\(c.kind.rawValue),\(c.unit.rawValue),\(c.minimum),\(c.maximum),\(c.safe)"
    }
    switch message {
    case .hello, .getStatus, .stop: break
    case let .config(c), let .configAck(c):
        f += ["period_ms=\(c.periodMilliseconds)", "failsafe_ms=\(c.failsafeMilliseconds)", "sensor_mask=\(c.sensorMask)"]
    case let .command(setpoints): f.append("setpoints=\(list(setpoints))")
    case let .ping(token): f.append("token=\(token)")
    case let .getChannel(group, index): f += ["group=\(group)", "index=\(index)"]
    case let .setBaud(baud), let .baudAck(baud): f.append("baud=\(baud)")
    case let .channelInfo(c): f += ["group=\(c.group.rawValue)", "index=\(c.index)", "name=\(c.name)"]
    case let .pong(token, ts): f += ["token=\(token)", "timestamp_us=\(ts)"]
    case let .status(s):
        f += ["failsafe=\(s.failsafe)", "reset_cause=\(s.resetCause)", "uptime_ms=\(s.uptimeMilliseconds)",
              "crc_errors=\(s.crcErrors)", "malformed_frames=\(s.malformedFrames)", "rejected_frames=\(s.rejectedFrames)",
              "dropped_frames=\(s.droppedFrames)", "rx_overflows=\(s.rxOverflows)", "failsafe_trips=\(s.failsafeTrips)",
              "loop_overruns=\(s.loopOverruns)"]
    case let .sensors(s):
        f += ["timestamp_us=\(s.timestampMicros)", "sensor_mask=\(s.sensorMask)", "readings=\(list(s.values))"]
    case let .error(e):
        f += ["code=\(ErrorCode(rawValue: e.code)?.description ?? String(e.code))", "ref_type=\(e.referencedType)",
              "ref_seq=\(e.referencedSequence)", "detail=\(e.detail)"]
    case let .deviceInfo(d):
        f += ["fw_major=\(d.firmwareMajor)", "fw_minor=\(d.firmwareMinor)", "fw_patch=\(d.firmwarePatch)",
              "unique_id=\(d.uniqueIDHex)", "period_min_ms=\(d.periodMinMilliseconds)",
              "period_max_ms=\(d.periodMaxMilliseconds)", "failsafe_min_ms=\(d.failsafeMinMilliseconds)",
              "failsafe_max_ms=\(d.failsafeMaxMilliseconds)", "board=\(d.board)"]
        f += d.sensors.map { "sensor=\(channel($0))" } + d.actuators.map { "actuator=\(channel($0))" }
    }
    return f.joined(separator: " ")
}

/// The decoder of the side that receives a case's frames: `from host` frames are decoded as the
/// device receives them, `from device` frames as the host does, both speaking `version`.
func decoder(for c: VectorCase, version: UInt8 = 1) -> FrameDecoder {
    var d: FrameDecoder
    switch c.first("from") {
    case "host": d = FrameDecoder(receiver: .device)
    case "device": d = FrameDecoder(receiver: .host)
    default: d = FrameDecoder()
    }
    d.version = version
    return d
}

/// Feeds `pieces` one after another into `decoder`; returns each result in vector text form.
func decodeText(_ pieces: [ArraySlice<UInt8>], with start: FrameDecoder = FrameDecoder()) -> [String] {
    var decoder = start
    var out: [String] = []
    for piece in pieces {
        Array(piece).withUnsafeBytes { raw in
            var offset = 0
            while let event = decoder.decode(raw, offset: &offset) {
                switch event {
                case let .frame(h):
                    do throws(FrameError) { out.append("message " + vectorText(h, try decoder.message())) } catch {
                        out.append("error \(error.name)")
                    }
                case let .error(e): out.append("error \(e.name)")
                }
            }
        }
    }
    return out
}

@Suite("Shared protocol vectors (Tests/Vectors/protocol-v1.txt and protocol-v2.txt)")
struct VectorTests {
    @Test("the vector file is present and covers every message type and error of its version", arguments: [UInt8(1), 2])
    func fileLoads(version: UInt8) throws {
        let cases = try VectorFile.load(version: version)
        #expect(cases.count >= (version == 1 ? 60 : 50))
        let texts = cases.flatMap(\.expectedResults).joined(separator: "\n")
        for type in MessageType.allCases where type.introducedInVersion <= version {
            #expect(texts.contains("message \(type) "), "no version-\(version) vector for \(type)")
        }
        let errors = version == 1 ? ["cobs", "too_short", "too_long", "crc", "unsupported_version", "unknown_type", "bad_length"]
                                  : ["cobs", "crc", "unsupported_version", "unknown_type", "bad_length"]
        for name in errors {
            #expect(texts.contains("error \(name)"), "no version-\(version) vector for error \(name)")
        }
    }

    @Test("CRC-16 of every data vector", arguments: [UInt8(1), 2])
    func crcVectors(version: UInt8) throws {
        let crcCases = try VectorFile.load(version: version).filter { $0.first("crc") != nil }
        #expect(!crcCases.isEmpty)
        for c in crcCases {
            let data = VectorFile.hex(c.first("data")!)
            #expect(CRC16.checksum(data) == UInt16(c.first("crc")!, radix: 16)!, "case \(c.name)")
        }
    }

    @Test("COBS encodes and decodes every data vector")
    func cobsVectors() throws {
        let cobsCases = try VectorFile.load().filter { $0.first("cobs") != nil }
        #expect(cobsCases.count >= 5)
        for c in cobsCases {
            let data = VectorFile.hex(c.first("data")!)
            let encoded = VectorFile.hex(c.first("cobs")!)
            #expect(COBS.encode(data) == encoded, "case \(c.name)")
            #expect(COBS.decode(encoded) == data, "case \(c.name)")
        }
    }

    @Test("every wire vector decodes fed whole, byte by byte, and split at every point", arguments: [UInt8(1), 2])
    func wireVectors(version: UInt8) throws {
        let wireCases = try VectorFile.load(version: version).filter { $0.first("wire") != nil }
        #expect(wireCases.count >= 40)
        for c in wireCases {
            let wire = VectorFile.hex(c.first("wire")!)
            let expected = c.expectedResults
            let receiver = decoder(for: c, version: version)
            #expect(decodeText([wire[...]], with: receiver) == expected, "case \(c.name) (whole)")
            #expect(decodeText(wire.map { [$0][...] }, with: receiver) == expected, "case \(c.name) (byte by byte)")
            for split in 0...wire.count {
                let got = decodeText([wire[..<split], wire[split...]], with: receiver)
                if got != expected {
                    Issue.record("case \(c.name) split at \(split): \(got) != \(expected)")
                    break
                }
            }
            if let packet = c.first("packet") {
                #expect(COBS.decode(Array(wire.dropLast())) == VectorFile.hex(packet), "case \(c.name) (packet)")
            }
        }
    }

    @Test("every good single-frame vector encodes back to exactly its wire bytes", arguments: [UInt8(1), 2])
    func encodeVectors(version: UInt8) throws {
        let good = try VectorFile.load(version: version).filter {
            $0.first("wire") != nil && $0.all("message").count == 1 && $0.all("error").isEmpty
        }
        #expect(good.count >= 30)
        for c in good {
            let wire = VectorFile.hex(c.first("wire")!)
            var receiver = decoder(for: c, version: version)
            let results = receiver.decodeAll(wire)
            guard results.count == 1, case let .success((header, message)) = results[0] else {
                Issue.record("case \(c.name) did not decode")
                continue
            }
            var encoder = FrameEncoder()
            encoder.version = version
            encoder.encode(message, sequence: header.sequence)
            #expect(encoder.frame == wire, "case \(c.name)")
        }
    }

    @Test("a wrong-version frame still reports its version, type and sequence")
    func versionIsReported() throws {
        var decoder = FrameDecoder()
        let frame = FrameEncoder.frame(.hello, sequence: 9, version: 2)
        let results = decoder.decodeAll(frame)
        guard results.count == 1, case let .failure(error) = results[0] else {
            Issue.record("expected one error, got \(results)")
            return
        }
        #expect(error == .unsupportedVersion(version: 2, type: 0x01, sequence: 9))
        #expect(error.description.contains("version 2") && error.description.contains("version 1"))
    }

    @Test("the device's ERROR replies name the error the decoder finds receiving as the device, in the same check order",
          arguments: [UInt8(1), 2])
    func repliesFollowTheCheckOrder(version: UInt8) throws {
        let codecCodes = ["unsupported_version", "unknown_type", "bad_length"]
        let answered = try VectorFile.load(version: version).filter { $0.first("from") == "host" && !$0.all("reply").isEmpty }
        #expect(answered.count >= (version == 1 ? 60 : 20))
        var atDevice = FrameDecoder(receiver: .device)
        atDevice.version = version
        for c in answered {
            let results = decodeText([VectorFile.hex(c.first("wire")!)[...]], with: atDevice)
            let errors = c.all("reply").compactMap { reply -> String? in
                guard reply.hasPrefix("ERROR code=") else { return nil }
                return String(reply.dropFirst("ERROR code=".count).prefix { $0 != " " })
            }
            guard let code = errors.last, let last = results.last else { continue }
            if codecCodes.contains(code) && last.hasPrefix("error ") {
                #expect(last == "error \(code)", "case \(c.name): decoder \(last), device \(code)")
            } else {
                // content the codec cannot judge: the decoder accepts, the device rejects
                #expect(last.hasPrefix("message ") && ["out_of_range", "config_unsupported", "bad_length"].contains(code),
                        "case \(c.name): decoder \(last), device \(code)")
            }
        }
    }

    @Test("06 01 82 01 77 96 00 after HELLO: the device's decoder finds unknown_type, not bad_length")
    func emptyConfigAckAfterHello() {
        var atDevice = FrameDecoder(receiver: .device)
        let stream = FrameEncoder.frame(.hello, sequence: 0) + [0x06, 0x01, 0x82, 0x01, 0x77, 0x96, 0x00]
        let results = atDevice.decodeAll(stream)
        #expect(results.count == 2)
        if case .success((_, .hello))? = results.first {} else { Issue.record("HELLO expected first: \(results)") }
        if case .failure(.unknownType(type: 0x82, sequence: 1))? = results.last {} else {
            Issue.record("unknown_type for 0x82 seq 1 expected: \(results)")
        }
    }

    @Test("each side's decoder rejects every type travelling the other way as unknown_type, whatever its length")
    func wrongDirectionIsUnknownType() {
        for type in MessageType.allCases {
            for length in [0, 3, 6, 34] {
                var packet: [UInt8] = [ProtocolLimits.version, type.rawValue, 9] + [UInt8](repeating: 0x5A, count: length)
                let crc = CRC16.checksum(packet)
                packet += [UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8)]
                let frame = COBS.encode(packet) + [0]
                var wrongSide = FrameDecoder(receiver: type.direction == .hostToDevice ? .host : .device)
                let results = wrongSide.decodeAll(frame)
                if case .failure(.unknownType(type: type.rawValue, sequence: 9))? = results.first {} else {
                    Issue.record("\(type) with \(length) body bytes at the wrong side: \(results)")
                }
            }
        }
    }
}
