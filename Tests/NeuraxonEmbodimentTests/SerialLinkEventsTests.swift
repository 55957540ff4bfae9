import Foundation
import Glibc
import Neuraxon
@testable import NeuraxonEmbodiment
import NeuraxonProtocol
import NeuraxonTransport
import Testing

/// What `SerialRunReport.monitor` wrote, with when, collected from its thread.
private final class Transcript: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(MonotonicTime, String)] = []
    func add(_ text: String) {
        lock.lock()
        entries.append((.now(), text))
        lock.unlock()
    }
    /// When the first piece containing `text` was written after `after`, if it was.
    func first(_ text: String, after: MonotonicTime) -> MonotonicTime? {
        lock.lock()
        defer { lock.unlock() }
        return entries.first { $0.0 >= after && $0.1.contains(text) }?.0
    }
}

/// Waits up to `milliseconds` for `condition`.
private func within(_ milliseconds: Double, _ condition: () -> Bool) -> Bool {
    let end = MonotonicTime.now().adding(milliseconds: milliseconds)
    while MonotonicTime.now() < end {
        if condition() { return true }
        usleep(1000)
    }
    return condition()
}

/// How the link's events reach a watcher of a running loop on the host-built firmware.
struct LinkEventFigures {
    /// From SIGSTOP of the firmware to "link lost" written by the monitor, ms, per trial.
    var lossReported: [Double] = []
    /// From SIGCONT to "reconnected" written by the monitor, ms, per trial.
    var reconnected: [Double] = []
    /// From the stop request to the monitor returning (the loop ended, the board stopped), ms.
    var stopHonoured = Double.infinity
    var endReason: EndReason?
    var boardStoppedCleanly = false

    /// Runs a control loop (5 ms sampling, 100 ms failsafe) watched by `SerialRunReport.monitor`
    /// on another thread, hangs the board `trials` times (SIGSTOP, then SIGCONT once the loss was
    /// reported), then requests a stop.
    static func measure(trials: Int) throws -> LinkEventFigures {
        let firmware = try FirmwareProcess(firmwareID: "6e78736572000003")
        defer {
            kill(firmware.process.processIdentifier, SIGCONT)
            firmware.quit()
        }
        var options = SessionOptions(selector: .path(firmware.path),
                                     config: LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 100, sensorMask: 0x7F))
        options.monitor = nil
        let stop = StopRequest()
        options.stopRequest = stop
        let body = try SerialRobotBody(options: options)
        let mapping = try Mapping(yaml: referenceMappingYAML, device: body.device, inputCount: 5, outputCount: 5)
        let loop = try ControlLoop(body: body, network: IdleNetwork(), mapping: mapping, stopRequest: stop)
        let transcript = Transcript()
        let watcher = Thread { _ = SerialRunReport.monitor(loop, body: body, live: false) { transcript.add($0) } }
        loop.start()
        watcher.start()
        var figures = LinkEventFigures()
        #expect(within(5000) { loop.status().counters.ticks >= 50 })
        for _ in 0..<trials {
            usleep(300_000)
            let stopped = MonotonicTime.now()
            kill(firmware.process.processIdentifier, SIGSTOP)
            guard within(3000, { transcript.first("link lost", after: stopped) != nil }),
                  let lost = transcript.first("link lost", after: stopped) else {
                Issue.record("the loss was not reported")
                break
            }
            figures.lossReported.append(lost.milliseconds(since: stopped))
            usleep(200_000)
            let resumed = MonotonicTime.now()
            kill(firmware.process.processIdentifier, SIGCONT)
            guard within(5000, { transcript.first("reconnected", after: resumed) != nil }),
                  let back = transcript.first("reconnected", after: resumed) else {
                Issue.record("the reconnect was not reported")
                break
            }
            figures.reconnected.append(back.milliseconds(since: resumed))
        }
        let mark = firmware.snapshot().count
        let asked = MonotonicTime.now()
        stop.request(signal: SIGTERM)
        #expect(within(3000) { watcher.isFinished })
        figures.stopHonoured = MonotonicTime.now().milliseconds(since: asked)
        figures.endReason = loop.wait()
        figures.boardStoppedCleanly = body.finalStatus?.failsafeState == .stopped && firmware.waitFor("failsafe stopped", after: mark)
        return figures
    }
}

/// The middle value of `values` (0 for none).
private func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.isEmpty ? 0 : s[s.count / 2]
}

@Suite("The serial link's events and sensor masks, through the host-built firmware", .serialized)
struct SerialLinkEventsTests {
    @Test("a sparse sensor mask (0x71) keeps channels 4 to 6 at their own indices", arguments: [UInt16(0x71), 0x50, 0x7F])
    func sparseMask(mask: UInt16) throws {
        let firmware = try FirmwareProcess(firmwareID: "6e78736572000004")
        defer { firmware.quit() }
        let values = [1200, 1300, 1400, 1500, 1, 4321, -4321]
        for (k, v) in values.enumerated() { firmware.send("sensor \(k) \(v)") }
        usleep(50_000)
        var options = SessionOptions(selector: .path(firmware.path),
                                     config: LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 100, sensorMask: mask))
        options.monitor = nil
        let body = try SerialRobotBody(options: options)
        var frame = SensorFrame(channelCount: body.device.sensors.count)
        var got = false
        let end = MonotonicTime.now().adding(milliseconds: 3000)
        while !got && MonotonicTime.now() < end {
            got = body.nextFrame(into: &frame, timeoutMicros: 100_000) == .frame
        }
        #expect(got)
        let highest = (0..<7).last { mask & (1 << $0) != 0 }!
        #expect(frame.count == highest + 1)
        for k in 0..<7 {
            if mask & (1 << k) != 0 {
                #expect(Int(frame.readings[k]) == values[k], "channel \(k) of mask 0x\(String(mask, radix: 16))")
            } else if k < frame.count {
                #expect(frame.readings[k] == 0, "channel \(k) is not sampled and must not hold another's reading")
            }
        }
        body.stopActuators()
    }

    @Test("on a terminal the status line is redrawn every 200 ms and cleared when the run ends by itself")
    func liveStatusLine() throws {
        let firmware = try FirmwareProcess(firmwareID: "6e78736572000005")
        defer { firmware.quit() }
        var options = SessionOptions(selector: .path(firmware.path),
                                     config: LinkConfig(periodMilliseconds: 5, failsafeMilliseconds: 100, sensorMask: 0x7F))
        options.monitor = nil
        let body = try SerialRobotBody(options: options)
        let mapping = try Mapping(yaml: referenceMappingYAML, device: body.device, inputCount: 5, outputCount: 5)
        let loop = try ControlLoop(body: body, network: IdleNetwork(), mapping: mapping, durationMicros: 1_200_000)
        var pieces: [String] = []
        loop.start()
        let reason = SerialRunReport.monitor(loop, body: body, live: true) { pieces.append($0) }
        #expect(reason == .durationReached)
        let lines = pieces.filter { $0.contains(" Hz  latency") }
        #expect(lines.count >= 3 && lines.count <= 12, "\(lines.count) status lines in 1.2 s")
        #expect(pieces.last == "\r\u{1B}[K", "the status line was not cleared at the end")
        #expect(body.finalStatus?.failsafeState == .stopped)
    }

    @Test("a hung board's loss and its reconnect are printed when they happen; a stop ends the watch at once")
    func eventsWhenTheyHappen() throws {
        let f = try LinkEventFigures.measure(trials: 3)
        print("link events: hung board reported after \(f.lossReported.map { Int($0.rounded()) }) ms, "
            + "reconnect reported \(f.reconnected.map { Int($0.rounded()) }) ms after the board resumed, "
            + "stop honoured (loop ended, STOP answered) after \(Int(f.stopHonoured.rounded())) ms")
        #expect(f.lossReported.count == 3 && f.reconnected.count == 3)
        // Design: 200 ms of silence, then printed at once (it took 345-424 ms through a 200 ms polling
        // loop and a 250 ms threshold). The median over trials is robust to one slow trial on a loaded machine.
        #expect(median(f.lossReported) < 300, "loss reported after \(f.lossReported) ms")
        #expect(f.lossReported.allSatisfy { $0 < 1000 })
        #expect(f.reconnected.allSatisfy { $0 < 2000 })
        #expect(f.stopHonoured < 1000)
        #expect(f.endReason == .stopped)
        #expect(f.boardStoppedCleanly, "the board did not get STOP after the stop request")
    }
}
