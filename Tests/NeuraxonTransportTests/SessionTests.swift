import Glibc
import NeuraxonChannels
import NeuraxonProtocol
@testable import NeuraxonTransport
import Testing

/// A session on `path` with udev left out (pseudo-terminals have no udev events).
func makeSession(_ path: String, config: LinkConfig = LinkConfig(), reconnect: Bool = true) -> LinkSession {
    var options = SessionOptions(selector: .path(path), config: config)
    options.monitor = nil
    options.reconnect = reconnect
    return LinkSession(options: options)
}

/// Calls `nextSensors` until `count` samples arrived or `milliseconds` passed.
func collect(_ session: LinkSession, count: Int, milliseconds: Double = 3000) -> [(UInt8, SensorSample)] {
    var sample = SensorSample()
    var got: [(UInt8, SensorSample)] = []
    let deadline = MonotonicTime.now().adding(milliseconds: milliseconds)
    while got.count < count && MonotonicTime.now() < deadline {
        if case let .sample(seq) = session.nextSensors(into: &sample, deadline: deadline) { got.append((seq, sample)) }
    }
    return got
}

/// Calls `nextSensors` until `done()` holds or `milliseconds` passed; returns `done()`.
@discardableResult
func pump(_ session: LinkSession, milliseconds: Double = 3000, until done: () -> Bool) -> Bool {
    var sample = SensorSample()
    let deadline = MonotonicTime.now().adding(milliseconds: milliseconds)
    while !done() && MonotonicTime.now() < deadline {
        _ = session.nextSensors(into: &sample, deadline: min(deadline, .now().adding(milliseconds: 20)))
    }
    return done()
}

/// A stable link name for a board whose pty path changes when it restarts.
final class StableLink {
    let path: String
    init() {
        path = "/tmp/neuraxon-link-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }
    func point(at target: String) {
        unlink(path)
        symlink(target, path)
    }
    deinit { unlink(path) }
}

@Suite("Session against the host-built firmware through a real pty", .serialized)
struct SessionTests {
    @Test("handshake: DEVICE_INFO of the reference robot, and the configuration is acknowledged")
    func handshakeAndConfigure() throws {
        let firmware = try FirmwareProcess(firmwareID: "0102030405060708")
        let session = makeSession(firmware.path, config: LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 100, sensorMask: 0x7F))
        var events: [LinkEvent] = []
        session.onEvent = { events.append($0) }
        let info = try session.connect()
        #expect(info.board == "neuraxon-host")
        #expect(info.uniqueIDHex == "0102030405060708")
        #expect(info.sensors.count == 7 && info.actuators.count == 3)
        #expect(info.actuators[2] == ChannelDescriptor(name: "servo", kind: .servo, unit: .degree, minimum: 0, maximum: 180, safe: 90))
        #expect(session.state == .streaming)
        #expect(session.activeConfig == LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 100, sensorMask: 0x7F))
        #expect(events.contains(.state(.handshaking)) && events.contains(.state(.configuring)) && events.contains(.state(.streaming)))
        session.stop()
    }

    @Test("streaming: sensor frames at the configured period carry the firmware's readings, with no drops")
    func streaming() throws {
        let firmware = try FirmwareProcess()
        firmware.send("sensor 0 1234")
        firmware.send("sensor 4 1")
        firmware.send("sensor 6 -77")
        let session = makeSession(firmware.path, config: LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 100, sensorMask: 0x71))
        try session.connect()
        let samples = collect(session, count: 100)
        #expect(samples.count == 100)
        guard let last = samples.last?.1 else { return }
        #expect(last.sensorMask == 0x71)
        #expect(last.readings[0] == 1234 && last.readings[4] == 1 && last.readings[6] == -77)
        // Sequence numbers count every board frame (PONGs to heartbeats too), so samples advance by
        // one or a few; a gap the session cannot account for is a drop.
        for (a, b) in zip(samples, samples.dropFirst()) {
            #expect(b.0 &- a.0 >= 1 && b.0 &- a.0 <= 8, "sequence went from \(a.0) to \(b.0)")
        }
        #expect(session.counters.droppedFrames == 0)
        let span = Double(last.timestampMicros &- samples[0].1.timestampMicros) / 1000
        #expect(span >= 99 * 5 * 0.9 && span <= 99 * 5 * 3, "100 samples at 5 ms spanned \(span) ms of board time")
        #expect(session.counters.crcErrors == 0 && session.counters.malformedFrames == 0)
        session.stop()
    }

    @Test("commands reach the actuators; out-of-range commands come back as board errors")
    func commands() throws {
        let firmware = try FirmwareProcess()
        let session = makeSession(firmware.path)
        try session.connect()
        #expect(session.sendCommand([300, -300, 45]))
        _ = collect(session, count: 3)
        #expect(firmware.waitFor("actuator 0 300"))
        #expect(firmware.waitFor("actuator 1 -300"))
        #expect(firmware.waitFor("actuator 2 45"))
        #expect(firmware.waitFor("failsafe active"))
        var reports: [ErrorReport] = []
        session.onEvent = { if case let .boardError(r) = $0 { reports.append(r) } }
        #expect(session.sendCommand([0, 0, 181]))
        #expect(pump(session) { !reports.isEmpty })
        #expect(reports.first?.code == ErrorCode.outOfRange.rawValue && reports.first?.detail == 2)
        #expect(session.counters.boardErrors >= 1)
        session.stop()
    }

    @Test("ping statistics: every PING is answered and p50/p99 are measured")
    func pingStatistics() throws {
        let firmware = try FirmwareProcess()
        let session = makeSession(firmware.path, config: LinkConfig(periodMilliseconds: 20, failsafeMilliseconds: 250, sensorMask: 0x7F))
        try session.connect()
        let rtts = try session.ping(count: 200)
        #expect(rtts.count == 200)
        let p50 = try #require(session.roundTrip.p50)
        let p99 = try #require(session.roundTrip.p99)
        #expect(p50 > 0 && p50 <= p99 && p99 < 100, "p50 \(p50) ms, p99 \(p99) ms")
        session.stop()
    }

    @Test("failsafe: when the host goes quiet the board makes its actuators safe by itself")
    func failsafe() throws {
        let firmware = try FirmwareProcess()
        let session = makeSession(firmware.path, config: LinkConfig(periodMilliseconds: 10, failsafeMilliseconds: 50, sensorMask: 0x7F))
        try session.connect()
        session.sendCommand([500, 500, 10])
        #expect(firmware.waitFor("failsafe active"))
        let mark = firmware.snapshot().count
        usleep(200_000)  // the host is silent: no commands, no heartbeats
        #expect(firmware.waitFor("failsafe timeout", after: mark))
        #expect(firmware.waitFor("actuator 0 0", after: mark))
        #expect(firmware.waitFor("actuator 2 90", after: mark))
        // The board kept streaming all along, so the link is still up and STATUS shows the trip.
        let status = try session.status()
        #expect(status.failsafeTrips >= 1)
        #expect(status.failsafeState == .timeout)
        session.stop()
    }

    @Test("clean stop: STOP makes the actuators safe and is acknowledged before the port closes")
    func cleanStop() throws {
        let firmware = try FirmwareProcess()
        let session = makeSession(firmware.path)
        try session.connect()
        session.sendCommand([700, -700, 120])
        #expect(firmware.waitFor("actuator 0 700"))
        let mark = firmware.snapshot().count
        let status = session.stop()
        #expect(status?.failsafeState == .stopped)
        #expect(firmware.waitFor("failsafe stopped", after: mark))
        #expect(firmware.waitFor("actuator 0 0", after: mark))
        #expect(firmware.waitFor("actuator 2 90", after: mark))
        #expect(session.state == .stopped)
        var sample = SensorSample()
        #expect(session.nextSensors(into: &sample, deadline: .now().adding(milliseconds: 10)) == .linkLost)
        #expect(!session.sendCommand([0, 0, 90]))
    }

    @Test("link loss within 250 ms when the firmware goes away, and reconnect by identity when it returns")
    func lossAndReconnect() throws {
        let link = StableLink()
        var firmware = try FirmwareProcess(firmwareID: "00000000000000aa")
        link.point(at: firmware.path)
        let config = LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 100, sensorMask: 0x0F)
        let session = makeSession(link.path, config: config)
        var events: [LinkEvent] = []
        session.onEvent = { events.append($0) }
        try session.connect()
        #expect(collect(session, count: 20).count == 20)

        firmware.quit()
        let lostStart = MonotonicTime.now()
        var sample = SensorSample()
        var poll = LinkPoll.timeout
        while poll != .linkLost && MonotonicTime.now().milliseconds(since: lostStart) < 2000 {
            poll = session.nextSensors(into: &sample, deadline: .now().adding(milliseconds: 20))
        }
        let detection = MonotonicTime.now().milliseconds(since: lostStart)
        #expect(poll == .linkLost)
        #expect(detection <= 400, "loss detected after \(detection) ms")  // a hang-up is seen at once
        #expect(session.state == .reconnecting)

        // While the board is gone, calls wait (no spin): 500 ms of calls use little CPU. The
        // session works on the calling thread, so that thread's CPU time is the measure (the
        // process's would include the tests running beside this one).
        func threadCPUMilliseconds() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) * 1000 + Double(t.tv_nsec) / 1e6
        }
        let cpuBefore = threadCPUMilliseconds()
        let idleEnd = MonotonicTime.now().adding(milliseconds: 500)
        while MonotonicTime.now() < idleEnd { _ = session.nextSensors(into: &sample, deadline: idleEnd) }
        let cpuMilliseconds = threadCPUMilliseconds() - cpuBefore
        #expect(cpuMilliseconds < 100, "used \(cpuMilliseconds) ms of CPU in 500 ms while the board was gone")

        firmware = try FirmwareProcess(firmwareID: "00000000000000aa")
        link.point(at: firmware.path)
        let back = MonotonicTime.now()
        var reconnected = false
        while !reconnected && MonotonicTime.now().milliseconds(since: back) < 3000 {
            reconnected = session.nextSensors(into: &sample, deadline: .now().adding(milliseconds: 20)) == .reconnected
        }
        let took = MonotonicTime.now().milliseconds(since: back)
        #expect(reconnected)
        #expect(took <= 1500, "reconnected \(took) ms after the board reappeared")
        #expect(session.activeConfig == config)
        let after = collect(session, count: 20)
        #expect(after.count == 20)
        #expect(after.last?.1.sensorMask == 0x0F)
        #expect(session.counters.linkLosses == 1 && session.counters.reconnects == 1)
        #expect(events.contains { if case .reconnected = $0 { return true } else { return false } })
        session.stop()
        firmware.quit()
    }

    @Test("a different board where ours used to be is not taken over")
    func wrongBoardIsRefused() throws {
        let link = StableLink()
        var firmware = try FirmwareProcess(firmwareID: "00000000000000aa")
        link.point(at: firmware.path)
        let session = makeSession(link.path)
        var wrong = 0
        session.onEvent = { if case .wrongBoard = $0 { wrong += 1 } }
        try session.connect()
        firmware.quit()
        firmware = try FirmwareProcess(firmwareID: "00000000000000bb")
        link.point(at: firmware.path)
        var sample = SensorSample()
        let end = MonotonicTime.now().adding(milliseconds: 800)
        var polls: [LinkPoll] = []
        while MonotonicTime.now() < end { polls.append(session.nextSensors(into: &sample, deadline: end)) }
        #expect(!polls.contains(.reconnected))
        #expect(wrong >= 1)
        #expect(session.state == .reconnecting)
        if case .wrongBoard? = session.lastReconnectError {} else { Issue.record("last error \(String(describing: session.lastReconnectError))") }
        session.stop()
    }
}

#if canImport(CAllocationCounter)
import CAllocationCounter

@Suite("The per-tick path", .serialized)
struct TickTests {
    @Test("streaming ticks allocate nothing: nextSensors, sendCommand, heartbeats and round-trip probes")
    func tickAllocatesNothing() throws {
        let firmware = try FirmwareProcess()
        var options = SessionOptions(selector: .path(firmware.path),
                                     config: LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 100, sensorMask: 0x7F))
        options.monitor = nil
        options.roundTripProbeMilliseconds = 50
        let session = LinkSession(options: options)
        try session.connect()
        _ = collect(session, count: 20)
        var sample = SensorSample()
        let setpoints: [Int16] = [100, -100, 90]
        var samples = 0
        let pingsBefore = session.counters.pingsSent
        let allocations = setpoints.withUnsafeBufferPointer { buffer in
            func tick() {
                if case .sample = session.nextSensors(into: &sample, deadline: .now().adding(milliseconds: 100)) {
                    samples += 1
                    session.sendCommand(buffer)
                }
            }
            for _ in 0..<10 { tick() }  // once started: one-time runtime set-up happens in the first ticks
            samples = 0
            nx_alloc_counter_start()
            for _ in 0..<200 { tick() }
            return nx_alloc_counter_stop()
        }
        #expect(samples >= 190, "only \(samples) of 200 ticks brought a sample")
        #expect(session.counters.pingsSent > pingsBefore, "no round-trip probe ran inside the measured ticks")
        #expect(allocations == 0, "\(allocations) allocations in 200 ticks")
        session.stop()
    }
}
#endif
