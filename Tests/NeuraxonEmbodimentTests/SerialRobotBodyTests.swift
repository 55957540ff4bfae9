import Foundation
import Glibc
import Neuraxon
import NeuraxonChannels
@testable import NeuraxonEmbodiment
import NeuraxonProtocol
import NeuraxonTransport
import Testing
#if canImport(CAllocationCounter)
import CAllocationCounter
#endif

/// Session options for the host firmware's pty: 5 ms sampling, 100 ms failsafe, all seven
/// sensors, no udev (a pty is not a udev device).
private func options(_ path: String) -> SessionOptions {
    var o = SessionOptions(selector: .path(path),
                           config: LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 100, sensorMask: 0x7F))
    o.monitor = nil
    return o
}

/// Waits up to `seconds` for `condition`; returns whether it came true.
private func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(2000)
    }
    return condition()
}

/// `values` without consecutive repeats.
private func changes(_ values: [Int]) -> [Int] {
    var out: [Int] = []
    for v in values where out.last != v { out.append(v) }
    return out
}

/// Whether `needle` appears in `haystack` in order (not necessarily contiguous).
private func isSubsequence(_ needle: [Int], of haystack: [Int]) -> Bool {
    var i = haystack.startIndex
    for v in needle {
        guard let found = haystack[i...].firstIndex(of: v) else { return false }
        i = found + 1
    }
    return true
}

@Suite struct SerialRobotBodyTests {
    @Test("DEVICE_INFO becomes a named channel list")
    func deviceInfoFromBoard() {
        let reference = DeviceInfo.referenceRobot
        // As a version-1 board sends them: no names.
        let sensors = reference.sensors.map { ChannelDescriptor(kind: $0.kind, unit: $0.unit, minimum: $0.minimum, maximum: $0.maximum) }
        let actuators = [
            ChannelDescriptor(kind: .motor, unit: .perMille, minimum: -1000, maximum: 1000, safe: 0),
            ChannelDescriptor(kind: .motor, unit: .perMille, minimum: -1000, maximum: 1000, safe: 0),
            ChannelDescriptor(kind: .servo, unit: .degree, minimum: 0, maximum: 180, safe: 90),
        ]
        let board = BoardInfo(firmwareMajor: 1, firmwareMinor: 2, firmwarePatch: 3, uniqueID: 7, periodMinMilliseconds: 1,
                              periodMaxMilliseconds: 1000, failsafeMinMilliseconds: 10, failsafeMaxMilliseconds: 5000,
                              board: "test-board", sensors: sensors, actuators: actuators)
        let device = DeviceInfo(board: board, samplePeriodMicros: 5000)
        #expect(device.sensors == reference.sensors)
        #expect(device.actuators == reference.actuators)
        #expect(device.name == "test-board" && device.firmwareVersion == "1.2.3" && device.samplePeriodMicros == 5000)

        var other = board
        other.sensors = Array(sensors.prefix(2))
        let generic = DeviceInfo(board: other, samplePeriodMicros: 5000)
        #expect(generic.sensors.map(\.name) == ["sensor_0", "sensor_1"])
        #expect(generic.actuators.map(\.name) == ["actuator_0", "actuator_1", "actuator_2"])
        #expect(generic.actuators[2].safe == 90 && generic.sensors[0].unit == .millivolt)
    }

    @Test("the board's wrapping 32-bit clock becomes a timeline that never goes back")
    func frameClock() {
        var clock = SerialFrameClock(samplePeriodMicros: 5000)
        var times: [UInt64] = []
        var sequences: [UInt32] = []
        let stamps: [(UInt32, UInt8)] = [
            (UInt32.max - 4999, 254), (0, 255), (5000, 0), (15000, 2),   // wrap; one frame lost
            (1000, 3),                                                                      // the board restarted
            (6000, 4),
        ]
        for (stamp, seq) in stamps {
            clock.advance(stamp: stamp, sequence: seq)
            times.append(clock.timestampMicros)
            sequences.append(clock.sequence)
        }
        let t0 = UInt64(UInt32.max - 4999)
        #expect(times == [t0, t0 + 5000, t0 + 10000, t0 + 20000, t0 + 25000, t0 + 30000])
        #expect(sequences == [254, 255, 256, 258, 259, 260])
        clock.relinked = true
        clock.advance(stamp: 9000, sequence: 200)
        #expect(clock.sequence == 261 && clock.timestampMicros == t0 + 33000)
    }

    @Test("a network drives the host-built firmware through a pty; the recording replays identically; stop leaves the actuators safe")
    func closedLoopRecordAndReplay() throws {
        let firmware = try FirmwareProcess(firmwareID: "6e78736572000001")
        let folder = TemporaryFolder()
        let networkPath = try savedFlowingNetwork(in: folder)
        let (network, identity) = try loadNetwork(networkPath)
        for (k, v) in sweepReadings(0).prefix(5).enumerated() { firmware.send("sensor \(k) \(v)") }

        // This test is about recording and replaying a real link, not about detecting a loss (the
        // fault and link-event tests do that): on a machine loaded far beyond its cores the
        // firmware process can be starved for longer than the 200 ms loss threshold, so the
        // threshold here is one second.
        var linkOptions = options(firmware.path)
        linkOptions.linkLossMilliseconds = 1000
        let body = try SerialRobotBody(options: linkOptions)
        #expect(body.device.name == "neuraxon-host")
        #expect(body.device.sensors.map(\.name) == DeviceInfo.referenceRobot.sensors.map(\.name))
        #expect(body.device.actuators.map(\.name) == DeviceInfo.referenceRobot.actuators.map(\.name))
        #expect(body.device.samplePeriodMicros == 5000)
        let mapping = try Mapping(yaml: referenceMappingYAML, device: body.device,
                                  inputCount: network.inputCount, outputCount: network.outputCount)
        let recordingPath = folder.file("run.jsonl")
        let recorder = try Recorder(path: recordingPath, header: RecordingHeader(mapping: mapping, network: identity, dtMillis: network.dt))
        let loop = try ControlLoop(body: body, network: network, mapping: mapping, recorder: recorder,
                                   linkLossPolicy: .end, durationMicros: 2_000_000)
        let mark = firmware.snapshot().count
        loop.start()
        // Sweep the sensors through the firmware's stdin while the loop runs: walls come and go,
        // the lights change, the bumper is pressed now and then.
        var i = 0
        while !eventually(0.02, { if case .ended = loop.state { true } else { false } }) && i < 400 {
            i += 1
            for (k, v) in sweepReadings(i * 20).prefix(5).enumerated() { firmware.send("sensor \(k) \(v)") }
        }
        let reason = loop.wait()
        #expect(reason == .durationReached)
        #expect(loop.recordingError == nil)
        let status = loop.status()
        #expect(status.counters.ticks >= 300, "only \(status.counters.ticks) ticks in 2 s of 200 Hz frames")
        #expect(status.counters.linkLosses == 0)

        // Stopped: the board applied the safe values and says so.
        #expect(body.finalStatus?.failsafeState == .stopped)
        #expect(firmware.waitFor("failsafe stopped", after: mark))
        let safe = DeviceInfo.referenceRobot.actuators.map { Int($0.safe) }
        for k in 0..<3 { #expect(firmware.actuatorValues(k).last == safe[k], "actuator \(k) did not end at its safe value") }

        // The recording: every tick, with the sensors the firmware sampled.
        let reader = try RecordingReader(path: recordingPath)
        var ticks: [TickRecord] = []
        while let t = reader.nextTick() { ticks.append(t) }
        #expect(reader.stop == .complete)
        #expect(ticks.count == status.counters.ticks)
        #expect(Set(ticks.map { $0.raw[4] }) == [0, 1], "the bumper's presses did not reach the recording")
        #expect(zip(ticks, ticks.dropFirst()).allSatisfy { $1.timestampMicros > $0.timestampMicros })

        // The firmware's actuators followed the commands: for each actuator, the values it
        // reported are, in order, among the setpoints the loop sent. (Safe values are left out:
        // on a loaded machine a pause of the loop longer than the failsafe timeout makes the
        // board apply them by itself, as it should.)
        var drove = false
        for k in 0..<3 {
            let sent = changes(ticks.map { Int($0.setpoints[k]) }.filter { $0 != safe[k] })
            drove = drove || !sent.isEmpty
            let applied = changes(firmware.actuatorValues(k, after: mark).filter { $0 != safe[k] })
            #expect(!applied.isEmpty || sent.isEmpty, "actuator \(k): the firmware applied none of the commands")
            #expect(isSubsequence(applied, of: sent), "actuator \(k): firmware applied \(applied.prefix(20)), host sent \(sent.prefix(20))")
        }
        #expect(drove, "the network never moved an actuator")

        // Replay: the same network file gives every input trit, output trit and setpoint again.
        let (fresh, _) = try loadNetwork(networkPath)
        let replayReader = try RecordingReader(path: recordingPath)
        let report = try Replay.run(reader: replayReader, network: fresh, mapping: try replayReader.header.resolvedMapping())
        #expect(report.identical, "\(report.firstDivergence.map(String.init(describing:)) ?? "")")
        #expect(report.ticks == ticks.count)
        #expect(report.stop == .complete)
        firmware.quit()
    }

    @Test("killing the firmware mid-run ends the loop with a link-loss state and no crash")
    func firmwareKilledMidRun() throws {
        let firmware = try FirmwareProcess(firmwareID: "6e78736572000002")
        let folder = TemporaryFolder()
        var o = options(firmware.path)
        o.reconnect = false
        let body = try SerialRobotBody(options: o)
        let mapping = try Mapping(yaml: referenceMappingYAML, device: body.device, inputCount: 5, outputCount: 5)
        let recordingPath = folder.file("lost.jsonl")
        let recorder = try Recorder(path: recordingPath, header: RecordingHeader(mapping: mapping, network: NetworkIdentity(), dtMillis: 1))
        let loop = try ControlLoop(body: body, network: IdleNetwork(), mapping: mapping, recorder: recorder, linkLossPolicy: .end)
        loop.start()
        #expect(eventually(5) { loop.status().counters.ticks >= 50 })
        firmware.kill()
        let killed = Date()
        let ended = eventually(3) { if case .ended = loop.state { true } else { false } }
        #expect(ended, "the loop did not notice the firmware was gone")
        if !ended { loop.stop() }
        #expect(Date().timeIntervalSince(killed) < 2)
        #expect(loop.wait() == .linkLost)
        #expect(loop.state == .ended(.linkLost))
        #expect(loop.state.description == "ended: the link to the robot was lost")
        #expect(loop.status().counters.linkLosses == 1)
        #expect(body.link.state == .stopped)
        #expect(body.takeEvents().contains { $0.hasPrefix("link lost") })
        #expect(!body.send([0, 0, 90]))

        let reader = try RecordingReader(path: recordingPath)
        var kinds: [RecordingEvent.Kind] = []
        while let entry = reader.next() { if case let .event(e) = entry { kinds.append(e.kind) } }
        #expect(kinds.contains(.linkLost))
        #expect(reader.stop == .complete)
    }

    @Test("the session's reconnect takes the loop back up when the board returns")
    func reconnectResumesTheLoop() throws {
        let link = SerialStableLink()
        var firmware = try FirmwareProcess(firmwareID: "6e78736572000003")
        link.point(at: firmware.path)
        let body = try SerialRobotBody(options: options(link.path))
        let mapping = try Mapping(yaml: referenceMappingYAML, device: body.device, inputCount: 5, outputCount: 5)
        let loop = try ControlLoop(body: body, network: IdleNetwork(), mapping: mapping, linkLossPolicy: .awaitReconnect)
        loop.start()
        #expect(eventually(5) { loop.status().counters.ticks >= 20 })

        firmware.kill()
        #expect(eventually(3) { loop.state == .waitingForLink }, "the loop did not notice the loss")
        let before = loop.status().counters.ticks

        firmware = try FirmwareProcess(firmwareID: "6e78736572000003")
        link.point(at: firmware.path)
        let mark = firmware.snapshot().count
        #expect(eventually(5) { loop.state == .running && loop.status().counters.ticks >= before + 20 },
                "the loop did not resume after the board came back")
        #expect(loop.stop() == .stopped)
        let status = loop.status()
        #expect(status.counters.linkLosses == 1)
        #expect(body.link.counters.reconnects == 1)
        #expect(body.takeEvents().contains { $0.hasPrefix("reconnected") })
        #expect(firmware.waitFor("failsafe stopped", after: mark))
        #expect(firmware.actuatorValues(2).last == 90 && firmware.actuatorValues(0).last == 0)
        firmware.quit()
    }

    @Test("the live status line and the summary say what the run did")
    func statusAndSummary() {
        var counters = RunCounters()
        counters.ticks = 1234
        counters.lateTicks = 2
        var latency = LatencyHistogram()
        for k in 0..<100 { latency.record(nanos: UInt64(100_000 + k * 1000)) }
        let status = LoopStatus(state: .running, counters: counters, latency: latency, rate: 199.96, outputs: "+0-00",
                                lastReadingProblem: nil)
        var linkCounters = LinkCounters()
        linkCounters.droppedFrames = 3
        let link = SerialLinkSnapshot(state: .streaming, counters: linkCounters)
        let line = SerialRunReport.statusLine(status, link: link)
        #expect(line == "running  200.0 Hz  latency p50 0.15 ms p99 0.20 ms  drops 3  late 2  ticks 1234  outputs +0-00")
        var waiting = status
        waiting.state = .waitingForLink
        #expect(SerialRunReport.statusLine(waiting, link: SerialLinkSnapshot(state: .reconnecting, counters: linkCounters))
            .hasPrefix("waiting for the board (reconnecting)"))

        let summary = SerialRunReport.summary(reason: .linkLost, status: status, link: link, roundTrip: RoundTripStatistics(),
                                              boardStatus: nil, recording: ("run.jsonl", 0))
        #expect(summary.hasPrefix("run ended: the link to the robot was lost\n1234 ticks at 200.0 Hz"))
        #expect(summary.contains("3 frames dropped"))
        #expect(summary.contains("board: did not answer STOP"))
        #expect(summary.hasSuffix("recorded 1234 ticks to run.jsonl"))
        #expect(SerialRunReport.fixed(-0.004, 2) == "0.00" && SerialRunReport.fixed(2.5, 0) == "3" && SerialRunReport.fixed(-1.25, 1) == "-1.3")
    }

    #if canImport(CAllocationCounter)
    @Test("receiving a frame and sending a command allocate nothing once connected")
    func tickAllocatesNothing() throws {
        let firmware = try FirmwareProcess(firmwareID: "6e78736572000004")
        let body = try SerialRobotBody(options: options(firmware.path))
        var frame = SensorFrame(channelCount: body.device.sensors.count)
        let command: [Int16] = [100, -100, 45]
        var frames = 0
        for _ in 0..<400 where frames < 20 {
            if body.nextFrame(into: &frame, timeoutMicros: 50_000) == .frame { frames += 1; _ = body.send(command) }
        }
        nx_alloc_counter_start()
        frames = 0
        for _ in 0..<2000 where frames < 100 {
            if body.nextFrame(into: &frame, timeoutMicros: 50_000) == .frame { frames += 1; _ = body.send(command) }
        }
        let allocations = nx_alloc_counter_stop()
        #expect(frames == 100)
        #expect(allocations == 0)
        #expect(frame.count == 7)
        body.stopActuators()
        #expect(firmware.waitFor("failsafe stopped"))
        firmware.quit()
    }
    #endif
}
