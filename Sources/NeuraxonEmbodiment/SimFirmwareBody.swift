import Foundation
import Glibc
import NeuraxonProtocol
import NeuraxonSimulation
import NeuraxonTransport

/// Why the firmware-in-the-loop body could not start or went wrong.
public struct SimFirmwareError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// The simulated robot reached through the host-built firmware (`make -C Firmware host`,
/// Docs/FIRMWARE.md), exactly as a serial robot: the control loop talks to the firmware over a
/// real pseudo-terminal through the transport layer (`SerialRobotBody`), the firmware takes its
/// sensor readings from the simulated world on its stdin and its actuator outputs drive the
/// simulated wheels.
///
/// The firmware runs on a virtual clock in lockstep with the simulation. One tick:
/// 1. the world runs to its next sampling instant and samples; each reading goes to the
///    firmware as `sensor <i> <v>`, then `advance <T>` (T the sampling period) lets the firmware
///    sample and send its SENSORS frame over the pty;
/// 2. the control loop reads that frame through the serial session, runs the network and sends
///    its COMMAND over the pty;
/// 3. a PING/PONG round trip makes sure the firmware has handled the command, and `advance 0`
///    collects the `actuator <i> <v>` lines it printed; the robot applies the firmware's outputs
///    (so the firmware's failsafe and clamping act on the simulated wheels).
///
/// A frame therefore carries the readings of the instant it was sampled, as in the direct
/// simulation; what differs is only what the link adds: the firmware's own sampling schedule,
/// its integer clamping, and the readings' round trip through the protocol.
///
/// Not for the real-time path: the stdin/stdout exchange allocates.
public final class SimFirmwareBody: Body, @unchecked Sendable {
    public let robot: SimulatedRobot
    /// The serial side: the session on the firmware's pseudo-terminal.
    public let serial: SerialRobotBody
    public var device: DeviceInfo { serial.device }

    private let process: Process
    private let input: FileHandle
    private let output: Int32
    private var pending: [UInt8] = []
    private var actuators: [Int16]
    private let periodMicros: Int

    /// Starts the host firmware at `firmwarePath` on a virtual clock and connects to it.
    /// - Throws: `SimFirmwareError` when the firmware cannot be started, `LinkError` when the
    ///   handshake fails.
    public init(robot: SimulatedRobot, firmwarePath: String) throws {
        guard access(firmwarePath, X_OK) == 0 else {
            throw SimFirmwareError("no host firmware at \(firmwarePath): build it with `make -C Firmware host`")
        }
        self.robot = robot
        periodMicros = robot.world.link.samplePeriodMicros
        guard periodMicros % 1000 == 0, (1000...1_000_000).contains(periodMicros) else {
            throw SimFirmwareError("the world's sampling period (\(periodMicros) µs) must be a whole number of ms from 1 to 1000 for the firmware")
        }
        actuators = robot.actuatorChannels.map(\.safeValue)
        process = Process()
        process.executableURL = URL(fileURLWithPath: firmwarePath)
        process.arguments = ["--virtual-clock"]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        input = stdin.fileHandleForWriting
        output = stdout.fileHandleForReading.fileDescriptor
        do { try process.run() } catch { throw SimFirmwareError("cannot start \(firmwarePath): \(error)") }

        var pty: String?
        while let line = Self.readLine(output, &pending, timeoutMillis: 5000) {
            if line.hasPrefix("pty ") { pty = String(line.dropFirst(4)); break }
            Self.apply(line, to: &actuators)
        }
        guard let pty else {
            process.terminate()
            throw SimFirmwareError("\(firmwarePath) printed no `pty` line within 5 s")
        }
        var options = SessionOptions(selector: .path(pty),
                                     config: LinkConfig(periodMilliseconds: UInt16(periodMicros / 1000), failsafeMilliseconds: 100, sensorMask: 0x7F))
        options.monitor = nil
        options.reconnect = false
        do {
            serial = try SerialRobotBody(options: options)
        } catch {
            process.terminate()
            throw error
        }
    }

    deinit {
        if process.isRunning {
            try? input.write(contentsOf: Data("quit\n".utf8))
            process.terminate()
        }
    }

    public func nextFrame(into frame: inout SensorFrame, timeoutMicros: Int) -> BodyEvent {
        robot.nextFrame()
        let readings = robot.readings
        var text = ""
        for (k, v) in readings.enumerated() { text += "sensor \(k) \(v)\n" }
        text += "advance \(periodMicros)\n"
        guard exchange(text, applying: false) else { return .linkLost }
        return serial.nextFrame(into: &frame, timeoutMicros: max(timeoutMicros, 250_000))
    }

    public func send(_ setpoints: [Int16]) -> Bool {
        guard serial.send(setpoints) else { return false }
        _ = try? serial.session.ping(count: 1)
        return exchange("advance 0\n", applying: true)
    }

    public func stopActuators() {
        serial.stopActuators()
        _ = exchange("advance 0\n", applying: true)
        try? input.write(contentsOf: Data("quit\n".utf8))
        process.waitUntilExit()
    }

    /// Writes `text` to the firmware and reads its stdout up to the `time` line that ends an
    /// `advance`, noting every actuator line; with `applying`, the robot then takes the
    /// firmware's outputs (once per tick, which also keeps the simulated failsafe fed). Returns
    /// false if the firmware died.
    private func exchange(_ text: String, applying: Bool) -> Bool {
        do { try input.write(contentsOf: Data(text.utf8)) } catch { return false }
        while let line = Self.readLine(output, &pending, timeoutMillis: 2000) {
            if line.hasPrefix("time ") {
                if applying { robot.apply(motorLeft: actuators[0], motorRight: actuators[1], servo: actuators[2]) }
                return true
            }
            Self.apply(line, to: &actuators)
        }
        return false
    }

    private static func apply(_ line: String, to actuators: inout [Int16]) {
        let parts = line.split(separator: " ")
        guard parts.count == 3, parts[0] == "actuator", let k = Int(parts[1]), let v = Int16(parts[2]),
              actuators.indices.contains(k) else { return }
        actuators[k] = v
    }

    /// One line from `fd`, waiting up to `timeoutMillis`; nil at end of file or timeout.
    private static func readLine(_ fd: Int32, _ pending: inout [UInt8], timeoutMillis: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let nl = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[0..<nl], as: UTF8.self)
                pending.removeSubrange(0...nl)
                return line
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, timeoutMillis)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            pending.append(contentsOf: buffer[0..<n])
        }
    }
}
