import NeuraxonProtocol
import NeuraxonTransport

/// What `neuraxon run` shows: a one-line live status while the loop runs and a summary at the
/// end, both built from the loop's `LoopStatus` and the serial link's snapshot.
public enum SerialRunReport {
    /// One line: state, loop rate (ticks per wall-clock second), sensor-to-command latency
    /// p50/p99 (ms), frames dropped on the link (sequence gaps), late ticks, and the output trits.
    ///
    /// Example: `running  200.0 Hz  latency p50 0.12 ms p99 0.31 ms  drops 0  late 0  ticks 1234  outputs +0-00`
    public static func statusLine(_ status: LoopStatus, link: SerialLinkSnapshot) -> String {
        let state: String
        switch status.state {
        case .running: state = "running"
        case .waitingForLink: state = "waiting for the board (\(link.state))"
        case .configured: state = "starting"
        case .ended: state = "ending"
        }
        return "\(state)  \(fixed(status.rate, 1)) Hz  latency p50 \(fixed(status.latency.quantileMicros(0.5) / 1000, 2)) ms "
            + "p99 \(fixed(status.latency.quantileMicros(0.99) / 1000, 2)) ms  drops \(link.counters.droppedFrames)  "
            + "late \(status.counters.lateTicks)  ticks \(status.counters.ticks)  outputs \(status.outputs)"
    }

    /// Watches a running loop until it ends and returns why: prints the link's events (loss,
    /// reconnect, board errors) the moment the session reports them, and on a live terminal
    /// refreshes the one-line status every `refreshMilliseconds`. Once the loop's stop request
    /// is made the status line is cleared and no longer drawn (the loop then stops the
    /// actuators and ends by itself).
    ///
    /// - Parameters:
    ///   - live: draw the status line (a terminal that is not quiet).
    ///   - alsoStopWhen: an extra stop condition checked at every refresh, for callers whose stop
    ///     is not the loop's `StopRequest`; when it holds, the loop's stop is requested.
    ///   - write: where the text goes (standard error for the command line), each piece whole.
    public static func monitor<N>(_ loop: ControlLoop<SerialRobotBody, N>, body: SerialRobotBody, live: Bool,
                                  refreshMilliseconds: Int32 = 200, alsoStopWhen: () -> Bool = { false },
                                  write: (String) -> Void) -> EndReason {
        let clear = "\r\u{1B}[K"
        var stopping = false
        var nextRefresh = MonotonicTime.now()
        while true {
            if case .ended = loop.state { break }
            if body.isStopped { break }
            if !stopping && alsoStopWhen() { loop.stopRequest.request() }
            if !stopping && loop.stopRequest.isRequested {
                stopping = true
                if live { write(clear) }
            }
            let wakeOn = stopping ? -1 : loop.stopRequest.fileDescriptor
            let wait = live && !stopping ? max(0, Int32(nextRefresh.milliseconds(since: .now()).rounded(.up))) : refreshMilliseconds
            let events = body.waitForEvents(timeoutMilliseconds: wait, wakeOn: wakeOn)
            for event in events { write((live ? clear : "") + event + "\n") }
            if live && !stopping && MonotonicTime.now() >= nextRefresh {
                write(clear + statusLine(loop.status(), link: body.link))
                nextRefresh = MonotonicTime.now().adding(milliseconds: Double(refreshMilliseconds))
            }
        }
        if live { write(clear) }
        let reason = loop.wait()
        for event in body.takeEvents() { write(event + "\n") }
        return reason
    }

    /// The end-of-run summary, one fact per line.
    /// - Parameters:
    ///   - reason: why the loop ended.
    ///   - roundTrip: the session's PING → PONG statistics.
    ///   - boardStatus: the board's STATUS after the clean stop, when it answered.
    ///   - recording: the recording's path and the records it lost, when one was written.
    public static func summary(reason: EndReason, status: LoopStatus, link: SerialLinkSnapshot,
                               roundTrip: RoundTripStatistics, boardStatus: BoardStatus?,
                               recording: (path: String, dropped: Int)?) -> String {
        let c = status.counters
        var lines = ["run ended: \(reason)"]
        lines.append("\(c.ticks) ticks at \(fixed(status.rate, 1)) Hz, \(c.steps) network steps; "
            + "sensor-to-command latency p50 \(fixed(status.latency.quantileMicros(0.5) / 1000, 3)) ms, "
            + "p99 \(fixed(status.latency.quantileMicros(0.99) / 1000, 3)) ms, max \(fixed(Double(status.latency.maximumNanos) / 1e6, 3)) ms")
        lines.append("late ticks \(c.lateTicks), overruns \(c.overruns), reading errors \(c.readingErrors), "
            + "clock resets \(c.clockResets)")
        let l = link.counters
        lines.append("link: \(l.sensorFrames) sensor frames, \(l.commandsSent) commands, \(l.droppedFrames) frames dropped, "
            + "\(l.crcErrors) CRC errors, \(l.malformedFrames + l.rejectedFrames) bad frames, "
            + "\(l.staleFrames) stale frames dropped, \(l.linkLosses) losses, \(l.reconnects) reconnects")
        if let p50 = roundTrip.p50, let p99 = roundTrip.p99 {
            lines.append("round trip (PING → PONG): p50 \(fixed(p50, 3)) ms, p99 \(fixed(p99, 3)) ms over \(roundTrip.count) probes")
        }
        if let s = boardStatus {
            let failsafe = s.failsafeState.map { "\($0)" } ?? "state \(s.failsafe)"
            lines.append("board after STOP: failsafe \(failsafe) (actuators at their safe values); it missed \(s.loopOverruns) samples, "
                + "saw \(s.crcErrors) CRC errors and \(s.droppedFrames) dropped frames, tripped its failsafe \(s.failsafeTrips) times")
        } else {
            lines.append("board: did not answer STOP; its failsafe stops the actuators by itself")
        }
        if let p = status.lastReadingProblem { lines.append("last reading problem: \(p)") }
        if let (path, dropped) = recording {
            lines.append("recorded \(c.ticks) ticks to \(path)" + (dropped > 0 ? " (\(dropped) records lost: the disk did not keep up)" : ""))
        }
        return lines.joined(separator: "\n")
    }

    /// `value` with `digits` decimals (no Foundation formatting needed).
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int(scaled / scale)
        let frac = Int(scaled) - whole * Int(scale)
        let sign = value < 0 && scaled > 0 ? "-" : ""
        guard digits > 0 else { return sign + "\(whole)" }
        let f = String(frac)
        return sign + "\(whole)." + String(repeating: "0", count: digits - f.count) + f
    }
}
