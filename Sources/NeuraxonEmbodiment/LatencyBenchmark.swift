import Foundation
import Glibc
import Neuraxon
import NeuraxonProtocol
import NeuraxonSimulation
import NeuraxonTransport

/// Sensor-to-command latency of one sample, µs: the whole and its parts.
public struct LatencySample: Sendable, Equatable {
    /// From the first byte of a SENSORS frame leaving the emulated UART to the first actuator
    /// change the answering COMMAND caused (a PWM duty or a direction pin), emulated µs.
    public var total: Double
    /// The SENSORS frame on the wire: its first byte's hand-over to the UART to its last byte
    /// received, emulated µs.
    public var frame: Double
    /// The host: reading the frame's sample into the control core, the network's steps, the
    /// decoders and writing the COMMAND, wall-clock µs (added to emulated time as measured).
    public var host: Double
    /// The COMMAND on the wire and the firmware acting on it: the rest, emulated µs.
    public var commandAndFirmware: Double { total - frame - host }
}

/// What each COMMAND changes, so that its effect can be seen.
public enum LatencyProbe: String, Sendable, CaseIterable {
    /// The left motor alternates between +500 and −500 ‰: its H-bridge direction pins change the
    /// moment the firmware writes them.
    case direction
    /// The left motor alternates between 300 and 700 ‰: only its PWM duty changes. On the chip
    /// the timer takes a new duty at the start of its next PWM cycle (OCR0x is double-buffered in
    /// fast PWM), up to 1.024 ms later at 976 Hz; the emulator (simavr 1.6) reports it the moment
    /// the firmware writes it, so under emulation this measures the same path as `direction`.
    case duty
}

/// What `LatencyBenchmark.run` measured.
public struct LatencyMeasurement: Sendable {
    /// The line speed the link ran at, baud.
    public var baud: UInt32
    /// The firmware's sampling period, ms.
    public var periodMilliseconds: UInt16
    /// What each COMMAND changed.
    public var probe: LatencyProbe
    public var samples: [LatencySample]
    /// Samples whose host time was longer than half a sampling period: counted in full in
    /// `LatencySample.total`, while the emulated board waited only half a period.
    public var hostStalls: Int

    /// The `p`-th percentile (nearest rank, 0 < p ≤ 100) of `part` over the samples, µs.
    public func percentile(_ p: Double, _ part: (LatencySample) -> Double) -> Double {
        let sorted = samples.map(part).sorted()
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }
}

/// Sensor-to-command latency on the emulated board, in emulated time, seen from the board:
/// the real AVR build under `nx-avr-harness --lockstep --channels` (Docs/FIRMWARE.md), the host
/// side a real `LinkSession` over the harness's pseudo-terminal (at `baud`, raised with SET_BAUD
/// after the handshake) and a real control core (the `seek` preset's network and mapping).
///
/// One sample: the firmware runs until it has sent a SENSORS frame (the harness reports when the
/// frame's first byte went to the UART and when its last did); the host reads it, runs the
/// control core and writes its COMMAND, and that wall-clock time is measured; the emulated clock
/// then moves on by the last byte's time on the wire plus the host's time (at most half a sampling
/// period: a longer stall counts in full in the latency, see `LatencyMeasurement.hostStalls`), and
/// the harness hands
/// the COMMAND to the UART at the line's speed and runs until the firmware has changed an
/// actuator's register (the harness reports each change with its time). The COMMAND's left motor
/// alternates so that every command changes something (`LatencyProbe`); the other setpoints are
/// the network's. USB is not modelled.
public enum LatencyBenchmark {
    /// Measures `count` samples at `baud` with a `periodMilliseconds` sampling period.
    /// - Throws: `SimFirmwareError` when the harness or the firmware is missing or misbehaves
    ///   (no SENSORS frame, no actuator change, the line speed refused), `LinkError` when the
    ///   handshake fails.
    public static func run(harness: String, elf: String, baud: UInt32, count: Int, probe: LatencyProbe = .direction,
                           periodMilliseconds: UInt16 = 10, stopRequest: StopRequest? = nil) throws -> LatencyMeasurement {
        let safe = DeviceInfo.referenceRobot.actuators.map(\.safe)
        let firmware = try LineFirmware(.avr(harness: harness, elf: elf), samplePeriodMicros: Int(periodMilliseconds) * 1000,
                                        safeActuators: safe)
        defer { firmware.quit() }
        var options = SessionOptions(selector: .path(firmware.pty),
                                     config: LinkConfig(periodMilliseconds: periodMilliseconds, failsafeMilliseconds: 100, sensorMask: 0x7F))
        options.monitor = nil
        options.reconnect = false
        options.heartbeatMilliseconds = 3_600_000
        options.roundTripProbeMilliseconds = 3_600_000
        options.linkLossMilliseconds = 10_000
        options.dropsStaleFrames = false
        options.lineBaudRate = baud == options.serial.baudRate ? nil : baud
        let sessionOptions = options
        let body = try firmware.running { try SerialRobotBody(options: sessionOptions) }
        defer { _ = try? firmware.running { body.stopActuators() } }
        guard body.session.lineBaudRate == baud else {
            throw SimFirmwareError("the firmware stayed at \(body.session.lineBaudRate) baud when asked for \(baud) baud")
        }
        let preset = RobotPreset.seek
        let network = try preset.network(seed: 1)
        let core = try ControlCore(mapping: try preset.mapping(device: body.device), network: network)
        var frame = SensorFrame(channelCount: body.device.sensors.count)
        // Sensors the seek preset reacts to: a light ahead and to the left, nothing in range.
        for (k, value) in [400, 400, 2600, 1800, 0, 0, 0].enumerated() { firmware.setSensor(k, Int16(value)) }
        let byteMicros = 10e6 / Double(baud)  // 8N1: 10 bits per byte
        var samples: [LatencySample] = []
        var stalls = 0
        samples.reserveCapacity(count)
        for k in 0..<count {
            if stopRequest?.isRequested ?? false { break }
            let before = firmware.sensorsSent
            guard firmware.runToSensors(atMost: UInt64(periodMilliseconds) * 2000) else {
                throw SimFirmwareError("the emulation harness stopped answering")
            }
            guard firmware.sensorsSent > before, let first = firmware.sensorsFirstByteMicros else {
                throw SimFirmwareError("the firmware sent no SENSORS frame within \(2 * Int(periodMilliseconds)) ms")
            }
            let lastHandedOver = firmware.micros
            repeat {
                guard body.nextFrame(into: &frame, timeoutMicros: 2_000_000) == .frame else {
                    throw SimFirmwareError("the SENSORS frame did not come through the pseudo-terminal")
                }
            } while body.session.counters.sensorFrames < firmware.sensorsSent
            let started = monotonicNanos()
            core.process(frame)
            var command = core.setpoints
            switch probe {
            case .direction: command[0] = k % 2 == 0 ? 500 : -500
            case .duty: command[0] = k % 2 == 0 ? 300 : 700
            }
            guard body.send(command) else { throw SimFirmwareError("the COMMAND could not be written") }
            let host = Double(monotonicNanos() &- started) / 1000
            let received = Double(lastHandedOver) + byteMicros
            // A host stall longer than half a period (another process had the core) counts in
            // full, but the board waits only half a period for it: its failsafe and quiet-line
            // timers are not what is measured.
            let waited = min(host, Double(periodMilliseconds) * 500)
            if waited < host { stalls += 1 }
            guard firmware.advance(micros: UInt64((byteMicros + waited).rounded(.up))) else {
                throw SimFirmwareError("the emulation harness stopped answering")
            }
            let commandStart = firmware.micros
            firmware.actuatorChanges.removeAll(keepingCapacity: true)
            guard firmware.deliver(bytesSent: body.session.counters.bytesSent, marginMicros: 3000) else {
                throw SimFirmwareError("the emulation harness stopped answering")
            }
            guard let applied = firmware.actuatorChanges.first(where: { $0 >= commandStart }) else {
                throw SimFirmwareError("the firmware changed no actuator within 3 ms of COMMAND \(command)")
            }
            // The frame's bytes leave one per 11 bit times in the emulator (it counts a parity bit
            // 8N1 has not); more than 12 per byte means the board is not at `baud`.
            let bytes = ProtocolLimits.headerLength + 6 + 2 * frame.count + ProtocolLimits.crcLength + 2
            let frameMicros = received - Double(first), longest = Double(bytes) * 12e6 / Double(baud)
            guard frameMicros <= longest else {
                throw SimFirmwareError("sample \(k): the SENSORS frame took \(Int(frameMicros)) µs on the wire, more than \(Int(longest)) µs at \(baud) baud: the board is not at the speed the session agreed")
            }
            samples.append(LatencySample(total: Double(applied - first) + (host - waited), frame: frameMicros, host: host))
        }
        return LatencyMeasurement(baud: baud, periodMilliseconds: periodMilliseconds, probe: probe, samples: samples, hostStalls: stalls)
    }
}
