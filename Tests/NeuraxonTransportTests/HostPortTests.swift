import Foundation
import Glibc
import NeuraxonProtocol
import Testing
@testable import NeuraxonTransport

/// The middle value of `values` (0 for none).
func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.isEmpty ? 0 : s[s.count / 2]
}

/// What the host-built firmware does while its pty is open and nobody reads it.
struct NobodyReading {
    /// Milliseconds from sending a COMMAND to the firmware applying it, per command.
    var applyMilliseconds: [Double] = []
    /// Milliseconds from the last COMMAND to the failsafe tripping.
    var failsafeMilliseconds = Double.infinity
    /// Whether the firmware said it dropped frames.
    var dropped = false
    /// Bad frames the session saw once it read again.
    var badFrames: UInt64 = 0

    /// Connects with the reference robot's shortest sampling period (4 ms) and a 100 ms failsafe, stops reading until the pty is
    /// full, sends `commands` COMMANDs 20 ms apart timing each one's application, then stops
    /// sending and times the failsafe from the last COMMAND. Finally reads again and counts bad frames.
    static func measure(commands: Int = 15) throws -> NobodyReading {
        let firmware = try FirmwareProcess()
        defer { firmware.quit() }
        let session = makeSession(firmware.path, config: LinkConfig(periodMilliseconds: 4, failsafeMilliseconds: 100, sensorMask: 0x7F))
        try session.connect()
        var result = NobodyReading()
        // Nobody reads from here on; PINGs keep the failsafe fed until the pty is full.
        let full = MonotonicTime.now().adding(milliseconds: 10_000)
        while !firmware.snapshot().contains("tx full: dropping frames") && MonotonicTime.now() < full {
            _ = session.sendCommand([0, 0, 90])
            usleep(20_000)
        }
        result.dropped = firmware.snapshot().contains("tx full: dropping frames")
        var last = MonotonicTime.now()
        for k in 0..<commands {
            let value = 100 + 10 * k
            let seen = firmware.snapshot().count
            let sent = MonotonicTime.now()
            _ = session.sendCommand([Int16(value), 0, 90])
            last = sent
            let until = sent.adding(milliseconds: 2000)
            while !firmware.actuatorValues(0, after: seen).contains(value) && MonotonicTime.now() < until { usleep(200) }
            result.applyMilliseconds.append(MonotonicTime.now().milliseconds(since: sent))
            let next = sent.adding(milliseconds: 20)
            while MonotonicTime.now() < next { usleep(500) }
        }
        let seen = firmware.snapshot().count
        if firmware.waitFor("failsafe timeout", after: seen, milliseconds: 3000) {
            result.failsafeMilliseconds = MonotonicTime.now().milliseconds(since: last)
        }
        // Reading again: whatever was queued is whole frames (stale ones are dropped, not bad).
        _ = collect(session, count: 50)
        let c = session.counters
        result.badFrames = c.crcErrors + c.malformedFrames + c.rejectedFrames
        session.stop()
        return result
    }
}

@Suite("The host port with nobody reading its pty", .serialized)
struct HostPortTests {
    @Test("a full pty never blocks the firmware's loop: commands apply at once, the failsafe trips on time, no partial frame")
    func fullPseudoTerminal() throws {
        let r = try NobodyReading.measure()
        #expect(r.dropped, "the firmware never reported dropping frames: the pty did not fill")
        let apply = median(r.applyMilliseconds)
        print("host port, nobody reading: command applied after \(apply) ms (median of \(r.applyMilliseconds.count)), "
            + "failsafe (100 ms) tripped after \(r.failsafeMilliseconds) ms, \(r.badFrames) bad frames once read again")
        // A blocked loop applied commands about 70 ms late; unblocked it is about 1 ms (bound for a loaded machine).
        #expect(apply < 40, "commands applied \(apply) ms late (median)")
        // The protocol's ceiling: a 100 ms failsafe trips well within 250 ms (it took about 270 ms while writes blocked).
        #expect(r.failsafeMilliseconds < 250, "failsafe tripped after \(r.failsafeMilliseconds) ms")
        #expect(r.badFrames == 0, "a partial frame reached the wire")
    }
}
