import Dispatch
import Foundation
import Glibc

/// A one-line progress report for long work, on standard error and only when standard error is a
/// terminal (a pipe or a log file gets nothing). Drawn from one second on, redrawn at most four
/// times a second; `finish()`
/// clears it so the summary that follows starts on a clean line.
final class ProgressLine: @unchecked Sendable {
    /// Whether anything is drawn: standard error is a terminal.
    let isShown: Bool
    private let total: Int
    private let unit: String
    private let started = MonotonicClock.now()
    /// Seconds since the start of the last redraw; the first waits one second, so short work stays quiet.
    private var lastDrawn: Double = 0.75
    private var drawn = false

    /// - Parameters:
    ///   - total: the amount of work (steps, ticks, simulated seconds …); 0 when unknown.
    ///   - unit: its name as printed ("steps").
    init(total: Int, unit: String) {
        self.total = total
        self.unit = unit
        isShown = isatty(STDERR_FILENO) == 1
    }

    /// Reports `done` of the total (cheap when nothing is shown or it is too soon to redraw).
    func update(_ done: Int, note: String = "") {
        guard isShown else { return }
        let now = MonotonicClock.now() - started
        guard now - lastDrawn >= 0.25 else { return }
        lastDrawn = now
        var text = "\(done)"
        if total > 0 {
            text += String(format: " of %d %@ (%.0f%%)", total, unit, 100 * Double(done) / Double(total))
            if done > 0 && now > 1 {
                let left = now / Double(done) * Double(total - done)
                text += String(format: ", about %.0f s left", left)
            }
        } else {
            text += " " + unit
        }
        if !note.isEmpty { text += "  " + note }
        draw(text)
    }

    /// Replaces the line with `text` (nothing when standard error is not a terminal).
    func draw(_ text: String) {
        guard isShown else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
        drawn = true
    }

    /// Clears the line.
    func finish() {
        guard drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        drawn = false
    }
}

/// Seconds on the monotonic clock.
enum MonotonicClock {
    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}

/// Progress for work that reports none of its own while it runs (a simulation): the wall-clock
/// time so far, redrawn four times a second on a thread of its own from two seconds on, so short
/// runs stay quiet. Only when standard error is a terminal.
final class ElapsedProgress: @unchecked Sendable {
    private let line: ProgressLine
    private let label: String
    private let expectedSeconds: Double?
    private let lock = NSLock()
    private var running = true
    private let ended = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - label: what is being done ("simulating 30 s in light").
    ///   - expectedSeconds: how long the work should take on the wall clock, when known (a
    ///     real-time run), to show a fraction.
    init(_ label: String, expectedSeconds: Double? = nil) {
        self.label = label
        self.expectedSeconds = expectedSeconds
        line = ProgressLine(total: 0, unit: "")
        guard line.isShown else { running = false; return }
        let started = MonotonicClock.now()
        Thread { [self] in
            while lock.withLock({ running }) {
                usleep(250_000)
                let elapsed = MonotonicClock.now() - started
                guard elapsed >= 2, lock.withLock({ running }) else { continue }
                var text = String(format: "%@: %.0f s", label, elapsed)
                if let expectedSeconds, expectedSeconds > 0 {
                    text += String(format: " of %g s (%.0f%%)", expectedSeconds, min(100, 100 * elapsed / expectedSeconds))
                }
                line.draw(text)
            }
            line.finish()
            ended.signal()
        }.start()
    }

    /// Stops the line and clears it (waits for its thread, at most one redraw).
    func stop() {
        let wasRunning = lock.withLock { () -> Bool in
            defer { running = false }
            return running
        }
        if wasRunning { ended.wait() }
    }
}
