import Foundation
import Glibc
import NeuraxonProtocol
import Testing
@testable import NeuraxonTransport

/// A session on `path` that honours `stop`, with udev left out.
private func stoppableSession(_ path: String, stop: StopRequest, config: LinkConfig = LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 100, sensorMask: 0x7F)) -> LinkSession {
    var options = SessionOptions(selector: .path(path), config: config)
    options.monitor = nil
    options.stopRequest = stop
    return LinkSession(options: options)
}

/// Requests `stop` from another thread after `milliseconds`; returns when it was requested.
private final class DelayedStop: @unchecked Sendable {
    private let lock = NSLock()
    private var at: MonotonicTime?
    init(_ stop: StopRequest, after milliseconds: Double) {
        Thread.detachNewThread { [self] in
            usleep(UInt32(milliseconds * 1000))
            lock.lock()
            at = .now()
            lock.unlock()
            stop.request(signal: SIGTERM)
        }
    }
    var requestedAt: MonotonicTime? {
        lock.lock()
        defer { lock.unlock() }
        return at
    }
}

/// Calls `nextSensors` until the session reports a loss or `milliseconds` pass.
private func pumpUntilLost(_ session: LinkSession, milliseconds: Double = 3000) -> Bool {
    var sample = SensorSample()
    let end = MonotonicTime.now().adding(milliseconds: milliseconds)
    while MonotonicTime.now() < end {
        if session.nextSensors(into: &sample, deadline: .now().adding(milliseconds: 20)) == .linkLost { return true }
    }
    return false
}

@Suite("Stops and deadlines: every wait of the session ends on a stop request or at its deadline", .serialized)
struct StopAndDeadlineTests {
    @Test("connect to a silent or garbage-sending board ends at once on a stop request, not after the handshake timeout",
          arguments: ["silent", "garbage"])
    func stopDuringConnect(board kind: String) throws {
        let board = try ScriptedBoard { _, _ in
            kind == "silent" ? [] : (0..<40).map { _ in UInt8.random(in: 1...255) } + [0]
        }
        defer { board.finish() }
        let stop = StopRequest()
        let session = stoppableSession(board.pty.path, stop: stop)
        let asked = DelayedStop(stop, after: 300)
        let start = MonotonicTime.now()
        #expect(throws: LinkError.stopped) { try session.connect() }
        let took = MonotonicTime.now().milliseconds(since: start)
        let late = asked.requestedAt.map { MonotonicTime.now().milliseconds(since: $0) } ?? .infinity
        // The handshake gives up after 2500 ms; the stop is honoured within milliseconds (bound for a loaded machine).
        print("stop during connect to a \(kind) board: honoured \(late) ms after the request")
        #expect(took < 2000 && late < 1000, "connect took \(took) ms, \(late) ms after the stop")
        #expect(session.state == .disconnected)
    }

    @Test("while reconnecting to a hung board (port present, silent) no call outlives its deadline, and a stop ends the wait")
    func reconnectingToHungBoard() throws {
        let firmware = try FirmwareProcess()
        let stop = StopRequest()
        let session = stoppableSession(firmware.path, stop: stop)
        try session.connect()
        #expect(collect(session, count: 10).count == 10)
        kill(firmware.process.processIdentifier, SIGSTOP)
        defer {
            kill(firmware.process.processIdentifier, SIGCONT)
            firmware.quit()
        }
        #expect(pumpUntilLost(session))
        // Reconnect attempts now open the pty and send HELLO to a board that never answers: each
        // attempt lasts the 2500 ms handshake timeout, but no call may wait past its own deadline.
        var sample = SensorSample()
        var worst = 0.0
        let until = MonotonicTime.now().adding(milliseconds: 1500)
        while MonotonicTime.now() < until {
            let deadline = MonotonicTime.now().adding(milliseconds: 50)
            #expect(session.nextSensors(into: &sample, deadline: deadline) == .linkLost)
            worst = max(worst, MonotonicTime.now().milliseconds(since: deadline))
        }
        #expect(session.counters.helloAttempts > 1, "no reconnect attempt ran")
        #expect(worst < 1000, "a call overran its deadline by \(worst) ms (the design allows 100)")
        // A call with a far deadline returns on the stop request.
        let asked = DelayedStop(stop, after: 200)
        let poll = session.nextSensors(into: &sample, deadline: .now().adding(milliseconds: 20_000))
        let late = asked.requestedAt.map { MonotonicTime.now().milliseconds(since: $0) } ?? .infinity
        print("reconnecting to a hung board: worst deadline overrun \(worst) ms, stop honoured \(late) ms after the request")
        #expect(poll == .linkLost)
        #expect(late < 1000, "the stop was honoured \(late) ms after it was requested")
        // The clean stop does not hang on a board that is not connected.
        let start = MonotonicTime.now()
        #expect(session.stop() == nil)
        #expect(MonotonicTime.now().milliseconds(since: start) < 1000)
        #expect(session.state == .stopped)
    }

    @Test("ping against a hung board ends on a stop request with the round trips so far")
    func stopDuringPing() throws {
        let firmware = try FirmwareProcess()
        defer {
            kill(firmware.process.processIdentifier, SIGCONT)
            firmware.quit()
        }
        let stop = StopRequest()
        let session = stoppableSession(firmware.path, stop: stop)
        try session.connect()
        #expect(try session.ping(count: 3).count == 3)
        kill(firmware.process.processIdentifier, SIGSTOP)
        let asked = DelayedStop(stop, after: 200)
        // 40 unanswered PINGs of 250 ms each would take 10 s.
        let results = try session.ping(count: 40)
        let late = asked.requestedAt.map { MonotonicTime.now().milliseconds(since: $0) } ?? .infinity
        print("ping against a hung board: stop honoured \(late) ms after the request")
        #expect(results.isEmpty)
        #expect(late < 1000, "ping returned \(late) ms after the stop")
        #expect(throws: LinkError.stopped) { try session.status() }
    }

    @Test("after a stop request the clean stop still sends STOP to a connected board and gets its STATUS")
    func cleanStopAfterRequest() throws {
        let firmware = try FirmwareProcess()
        defer { firmware.quit() }
        let stop = StopRequest()
        let session = stoppableSession(firmware.path, stop: stop)
        try session.connect()
        #expect(collect(session, count: 5).count == 5)
        stop.request(signal: SIGINT)
        var sample = SensorSample()
        let start = MonotonicTime.now()
        #expect(session.nextSensors(into: &sample, deadline: .now().adding(milliseconds: 5000)) == .timeout)
        #expect(MonotonicTime.now().milliseconds(since: start) < 1000)
        let status = session.stop()
        #expect(status?.failsafeState == .stopped)
        #expect(firmware.waitFor("failsafe stopped"))
    }

    @Test("frames older than the failsafe timeout after the reader was paused are dropped and counted, not returned")
    func staleFramesAfterPause() throws {
        let firmware = try FirmwareProcess()
        defer { firmware.quit() }
        let session = makeSession(firmware.path, config: LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 100, sensorMask: 0x7F))
        try session.connect()
        #expect(collect(session, count: 40).count == 40)
        #expect(session.counters.staleFrames == 0, "frames read on time are never stale")
        // The reader pauses (as when the host process is stopped): frames pile up in the pty.
        usleep(600_000)
        var sample = SensorSample()
        let resumed = MonotonicTime.now()
        guard case .sample = session.nextSensors(into: &sample, deadline: .now().adding(milliseconds: 1000)) else {
            Issue.record("no frame after the pause")
            return
        }
        let stale = session.counters.staleFrames
        // About 100 frames arrived during the 600 ms pause; all but the last ~20 (100 ms) are stale.
        #expect(stale >= 40, "only \(stale) stale frames dropped")
        #expect(session.counters.linkLosses == 0, "frames waiting to be read are not silence")
        #expect(MonotonicTime.now().milliseconds(since: resumed) < 1000)
        // What is returned afterwards is current: at most the failsafe timeout behind the newest frame.
        let after = collect(session, count: 20)
        #expect(after.count == 20)
        // (A few more only if this thread itself stalled for over 100 ms on a loaded machine.)
        #expect(session.counters.staleFrames <= stale + 10, "frames read on time after the pause were dropped")
        session.stop()
    }

    @Test("round-trip statistics leave out PONGs answering PINGs sent before a loss")
    func roundTripExcludesPingsBeforeLoss() throws {
        let firmware = try FirmwareProcess()
        defer {
            kill(firmware.process.processIdentifier, SIGCONT)
            firmware.quit()
        }
        let session = makeSession(firmware.path, config: LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 100, sensorMask: 0x01))
        try session.connect()
        #expect(collect(session, count: 20).count == 20)
        kill(firmware.process.processIdentifier, SIGSTOP)
        #expect(pumpUntilLost(session))
        // Keep reconnecting to the hung board a while, then let it go: it answers the old PINGs too.
        pump(session, milliseconds: 1000) { false }
        kill(firmware.process.processIdentifier, SIGCONT)
        #expect(pump(session, milliseconds: 5000) { session.state == .streaming })
        #expect(collect(session, count: 100).count == 100)
        #expect(session.roundTrip.count > 0)
        // A stale PONG would measure the whole outage (over 1000 ms).
        #expect(session.roundTrip.maximum < 600, "a round trip of \(session.roundTrip.maximum) ms was recorded")
        session.stop()
    }

    @Test("the board-to-host clock offset follows a board clock that runs slow and still sees a pause")
    func clockOffsetEstimate() {
        var offset = BoardClockOffset()
        // A board clock 0.5 % slow, frames every 5 ms, read at once: ages stay near zero for an hour.
        var host: Int64 = 1_000_000
        var board: Double = 7_000
        var worst: Int64 = 0
        for _ in 0..<720_000 {
            worst = max(worst, offset.age(ofStamp: UInt32(truncatingIfNeeded: Int64(board)), receivedAt: host))
            host += 5_000
            board += 5_000 * 0.995
        }
        #expect(worst < 1_000, "a slow board clock made fresh frames look \(worst) µs old")
        // Frames taken during a 500 ms pause and read in one burst: the oldest is about 500 ms old.
        let before = host
        host += 500_000
        let age = offset.age(ofStamp: UInt32(truncatingIfNeeded: Int64(board)), receivedAt: host)
        #expect(age > 450_000 && age < 510_000, "age \(age) µs after a pause of \(host - before) µs")
    }
}
