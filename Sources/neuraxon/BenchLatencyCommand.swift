import ArgumentParser
import Foundation
import NeuraxonEmbodiment

extension LatencyProbe: ExpressibleByArgument {}

/// `neuraxon bench latency`: sensor-to-command latency on the emulated board, in emulated time.
struct BenchLatencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Time sensor to command on the emulated Uno, in emulated time (Docs/PERFORMANCE.md).",
        discussion: "Runs the real AVR build under the emulation harness with the host's session over its pseudo-terminal "
            + "at --baud (raised with SET_BAUD after the handshake) and the seek preset's control core, and measures "
            + "each sample from the first byte of a SENSORS frame leaving the UART to the first actuator register the "
            + "answering COMMAND changes, the host's own time included as measured. Prints p50, p99 and max of the whole "
            + "and of its parts. Needs `make -C Firmware avr sim` (or NEURAXON_AVR_ELF and NEURAXON_AVR_HARNESS)."
    )

    @Option(help: ArgumentHelp("Line speed in baud: 115200 or 1000000.", valueName: "baud"))
    var baud: UInt32 = 115_200

    @Option(help: ArgumentHelp("What each COMMAND changes: direction (the left motor between +500 and -500 per mille: its direction pins) or duty (300 and 700: its PWM duty, which a real chip takes at its next PWM cycle, up to 1.024 ms later, and the emulator at once).", valueName: "direction|duty"))
    var change: LatencyProbe = .direction

    @Option(help: "Samples to measure.")
    var samples: Int = 1000

    @Option(help: "The firmware's sampling period, ms.")
    var period: UInt16 = 10

    func validate() throws {
        guard baud == 115_200 || baud == 1_000_000 else { throw ValidationError("--baud must be 115200 or 1000000") }
        guard (1...100_000).contains(samples) else { throw ValidationError("--samples must be 1…100000") }
        guard (5...1000).contains(period) else { throw ValidationError("--period must be 5…1000 ms (a sample, its frame and the command must fit in one period)") }
    }

    func run() throws {
        guard case let .avr(harness, elf) = FirmwareInTheLoop.avr() else { return }
        let stop = StopSignals()
        let m = try LatencyBenchmark.run(harness: harness, elf: elf, baud: baud, count: samples,
                                         probe: change, periodMilliseconds: period, stopRequest: stop.request)
        print("sensor-to-command latency on the emulated ATmega328P at \(baud) baud, \(m.samples.count) samples, "
              + "sampling period \(period) ms, each COMMAND changing the left motor's \(change) (emulated time; the host's time as measured; USB not modelled):")
        func line(_ name: String, _ part: (LatencySample) -> Double) {
            let (p50, p99, max) = (m.percentile(50, part), m.percentile(99, part), m.percentile(100, part))
            print("  \(name): p50 " + String(format: "%.3f ms, p99 %.3f ms, max %.3f ms", p50 / 1000, p99 / 1000, max / 1000))
        }
        line("total (first SENSORS byte out to actuator register changed)", \.total)
        line("  the SENSORS frame on the wire", \.frame)
        line("  the host (control core and COMMAND write, wall clock)", \.host)
        line("  the COMMAND on the wire and the firmware applying it", \.commandAndFirmware)
        if m.hostStalls > 0 {
            print("  \(m.hostStalls) samples had the host take longer than half a period (\(period / 2) ms): counted in full above, the board waited \(period / 2) ms")
        }
        try stop.exitIfStopped()
    }
}
