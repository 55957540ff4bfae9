import ArgumentParser
import Foundation
import Glibc
import NeuraxonProtocol
import NeuraxonTransport

/// `neuraxon bench link`: the serial link's figures in Docs/PERFORMANCE.md, measured against
/// the host-built firmware over a pseudo-terminal.
struct BenchLink: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link",
        abstract: "Round-trip time to the host-built firmware, and host CPU while streaming and while the device is gone.",
        discussion: "Starts the host build of the firmware (make -C Firmware host), connects through its "
            + "pseudo-terminal (with the link options --period, --failsafe, --baud of `probe` and `run`), times PING → PONG "
            + "round trips, runs a sensor → command loop at the sampling period, then ends the "
            + "firmware and measures the CPU the session uses while it waits for the board to come back. "
            + "Targets: p99 round trip ≤ 1 ms; ≤ 5% of one core at 200 Hz (--period 5); about 0% while the device is gone."
    )

    @Option(help: "The host-built firmware executable.")
    var firmware: String = "Firmware/build/host/neuraxon-firmware"

    @Option(help: "PINGs to time.")
    var pings: Int = 2000

    @Option(name: .customLong("duration"), parsing: .unconditional, help: "Seconds of each CPU measurement.")
    var seconds: Double = 5

    @OptionGroup var link: LinkArguments

    func validate() throws {
        guard access(firmware, X_OK) == 0 else {
            throw ValidationError("no firmware executable at \(firmware): build it with `make -C Firmware host` "
                + "or pass --firmware PATH")
        }
        guard pings >= 10 && pings <= 1_000_000 else { throw ValidationError("--pings must be 10…1000000") }
        guard seconds >= 0.5 && seconds <= 600 else { throw ValidationError("--duration must be 0.5…600 seconds") }
        guard link.port == nil && link.board == nil else {
            throw ValidationError("bench link starts its own firmware: --port and --board do not apply (use `neuraxon probe` for a board)")
        }
    }

    func run() throws {
        let board = try FirmwareProcess(executable: firmware, keepsLines: false)
        var options = link.sessionOptions(selector: .path(board.path), stopRequest: nil)
        options.monitor = nil
        let session = LinkSession(options: options)
        let info = try session.connect()
        print("firmware \(info.board) \(info.firmwareVersionString) on \(board.path) (pseudo-terminal)")

        _ = try session.ping(count: 50)  // warm-up
        let rtts = try session.ping(count: pings).sorted()
        func pct(_ p: Double) -> Double { rtts[max(0, min(rtts.count - 1, Int((p / 100 * Double(rtts.count)).rounded(.up)) - 1))] }
        print(String(format: "round trip: %d of %d PINGs answered; p50 %.3f ms, p99 %.3f ms, max %.3f ms (target p99 ≤ 1 ms)",
                     rtts.count, pings, pct(50), pct(99), rtts.last ?? 0))

        var sample = SensorSample()
        let setpoints: [Int16] = [0, 0, 90]
        var frames = 0
        let streaming = measure(seconds: seconds) { end in
            while MonotonicTime.now() < end {
                if case .sample = session.nextSensors(into: &sample, deadline: end) {
                    frames += 1
                    session.sendCommand(setpoints)
                }
            }
        }
        print(String(format: "streaming at %.0f Hz: %d sensor frames + %d commands in %.1f s; host CPU %.2f%% of one core "
                     + "(target ≤ 5%% at 200 Hz); dropped %d, CRC errors %d", 1000 / Double(link.period), frames, frames, seconds, streaming,
                     session.counters.droppedFrames, session.counters.crcErrors))

        board.quit()
        let gone = measure(seconds: seconds) { end in
            while MonotonicTime.now() < end { _ = session.nextSensors(into: &sample, deadline: end) }
        }
        print(String(format: "device gone (session %@, looking for the board every %.0f ms): host CPU %.2f%% of one core "
                     + "(target about 0)", session.state.description, options.reconnectPollMilliseconds, gone))
        session.stop()
    }

    /// Runs `body` until `seconds` from now; returns the process's CPU time (user + system) in
    /// that span as a percentage of one core.
    private func measure(seconds: Double, _ body: (MonotonicTime) -> Void) -> Double {
        let start = MonotonicTime.now()
        let cpuBefore = cpuSeconds()
        body(start.adding(milliseconds: seconds * 1000))
        let wall = MonotonicTime.now().milliseconds(since: start) / 1000
        return (cpuSeconds() - cpuBefore) / wall * 100
    }

    private func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}
