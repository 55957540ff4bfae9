import Glibc
import NeuraxonProtocol
import Testing
@testable import NeuraxonTransport

@Suite("Session against the real AVR build under the simavr harness", .serialized)
struct AVRTests {
    @Test("handshake, configuration, streaming, commands, round trips, failsafe, clean stop and reopen on the emulated ATmega328P")
    func emulatedBoard() throws {
        let board = try FirmwareProcess(avr: true)
        board.send("adc 0 3100")
        var options = SessionOptions(selector: .path(board.path),
                                     config: LinkConfig(periodMilliseconds: 10, failsafeMilliseconds: 100, sensorMask: 0x1F))
        options.monitor = nil
        options.reconnect = false
        options.replyTimeoutMilliseconds = 2000  // emulation slows down on a loaded machine
        options.linkLossMilliseconds = 2000
        options.dropsStaleFrames = false  // the emulated clock may run slower than real time
        let session = LinkSession(options: options)
        let info = try session.connect()
        #expect(info.board == "neuraxon-uno")
        #expect(info.periodMinMilliseconds == 4)
        #expect(info.sensors.count == 7 && info.actuators.count == 3)
        #expect(session.activeConfig?.periodMilliseconds == 10)

        let samples = collect(session, count: 50, milliseconds: 5000)
        #expect(samples.count == 50)
        if let last = samples.last?.1 {
            #expect(last.sensorMask == 0x1F)
            #expect(abs(Int(last.readings[0]) - 3100) <= 10, "range_left read \(last.readings[0]) mV for 3100 mV")
        }
        #expect(session.counters.crcErrors == 0 && session.counters.malformedFrames == 0)

        #expect(session.sendCommand([400, -400, 30]))
        #expect(try session.status().failsafeState == .active)

        let rtts = try session.ping(count: 20, timeoutMilliseconds: 3000)  // emulation slows down on a loaded machine
        #expect(rtts.count == 20)
        #expect((session.roundTrip.p50 ?? 1000) < 100)

        // Failsafe: the host goes quiet (no commands, no heartbeats) for well over the 100 ms timeout.
        usleep(400_000)
        let quiet = try session.status()
        #expect(quiet.failsafeState == .timeout)
        #expect(quiet.failsafeTrips >= 1)

        let stopped = session.stop()
        #expect(stopped?.failsafeState == .stopped)

        // The host side closes and opens again: a fresh session finds the same board.
        let again = LinkSession(options: options)
        let second = try again.connect()
        #expect(second.uniqueID == info.uniqueID)
        #expect(collect(again, count: 10, milliseconds: 5000).count == 10)
        again.stop()
        board.quit()
    }
}
