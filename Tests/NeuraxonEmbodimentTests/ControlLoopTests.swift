import Foundation
import Neuraxon
@testable import NeuraxonEmbodiment
import Synchronization
import Testing
#if canImport(CAllocationCounter)
import CAllocationCounter
#endif

private func frames(_ times: [UInt64], readings: (Int) -> [Int16] = sweepReadings) -> [ScriptedBody.Step] {
    times.enumerated().map { .frame(timestampMicros: $1, readings: readings($0)) }
}

@Suite struct ControlCoreTests {
    @Test func firmwareTimestampsDecideHowManyStepsRun() throws {
        let net = ProbeNetwork()
        let core = try ControlCore(mapping: referenceMapping, network: net)
        var frame = SensorFrame(channelCount: 7)
        var steps: [Int] = []
        for t: UInt64 in [1_000_000, 1_005_000, 1_007_500, 1_012_000, 1_012_999, 1_013_000] {
            frame.timestampMicros = t
            steps.append(core.process(frame))
        }
        // The first frame starts the clock; remainders carry over (2.5 ms → 2 steps, 0.5 ms kept).
        #expect(steps == [0, 5, 2, 5, 0, 1])
        #expect(net.stepCount == 13)
        #expect(core.counters.steps == 13 && core.counters.ticks == 6)
    }

    @Test func aLongGapIsBoundedAndCountedAsAnOverrun() throws {
        let m = try Mapping(yaml: "loop: {max_steps_per_tick: 20}\nsensors:\n  - {channel: bumper, neuron: 0}\n",
                            device: .referenceRobot, inputCount: 5, outputCount: 5)
        let net = ProbeNetwork()
        let core = try ControlCore(mapping: m, network: net)
        var frame = SensorFrame(channelCount: 7)
        frame.timestampMicros = 0
        core.process(frame)
        frame.timestampMicros = 1_000_000
        #expect(core.process(frame) == 20)
        frame.timestampMicros = 1_005_000
        #expect(core.process(frame) == 5)      // the dropped time does not come back
        #expect(core.counters.overruns == 1)
        frame.timestampMicros = 10              // the firmware restarted
        #expect(core.process(frame) == 0)
        #expect(core.counters.clockResets == 1)
    }

    @Test func inputsAreHeldAtEveryStepAndOutputsDecoded() throws {
        let m = try Mapping(yaml: """
            sensors:
              - {channel: bumper, neuron: 2}
            actuators:
              - {channel: motor_left, neuron: 2, tau: 0, dead_band: 0}
            """, device: .referenceRobot, inputCount: 5, outputCount: 5)
        let net = ProbeNetwork()
        let core = try ControlCore(mapping: m, network: net)
        var frame = SensorFrame(channelCount: 7)
        frame.readings[4] = 1
        core.process(frame)
        #expect(core.inputs[2] == .excitatory)
        #expect(core.setpoints == [0, 0, 90])       // no step yet: the outputs are still 0
        frame.timestampMicros = 3000
        core.process(frame)
        #expect(net.inputsAtLastStep[2] == .excitatory)
        #expect(core.outputs[2] == .excitatory)
        #expect(core.setpoints == [1000, 0, 90])    // unmapped actuators keep their safe values
    }

    @Test func badReadingsGiveNeutralInputsAndAreCounted() throws {
        let net = ProbeNetwork()
        let core = try ControlCore(mapping: referenceMapping, network: net)
        var frame = SensorFrame(channelCount: 7)
        frame.readings = [3000, 3000, 4900, 4900, 1, 0, 0]
        core.process(frame)
        #expect(core.inputs == [.excitatory, .excitatory, .excitatory, .excitatory, .excitatory])
        frame.readings[2] = 6000                    // above light_left's 5000 mV
        frame.count = 4                             // the bumper and wheels are missing
        frame.timestampMicros = 1000
        core.process(frame)
        #expect(core.counters.readingErrors == 2)
        #expect(core.inputs[2] == .neutral && core.inputs[4] == .neutral)
        #expect(core.values[2].isNaN && core.values[4].isNaN)
        #expect(core.inputs[0] == .excitatory)      // the good readings still count
        #expect(core.lastReadingProblem == .missingChannel(channel: "bumper"))
    }

    @Test func rewardRulesPulseOnceAndSetWhileTheyHold() throws {
        let m = try Mapping(yaml: """
            reward:
              - when: bumper > 0
                pulse: {dopamine: 0.9}
              - when: light_left >= 4000
                set: {serotonin: 0.7, acetylcholine: 0.6}
            """, device: .referenceRobot, inputCount: 5, outputCount: 5)
        let net = ProbeNetwork()
        let core = try ControlCore(mapping: m, network: net)
        var frame = SensorFrame(channelCount: 7)
        for (i, (bump, light)) in [(0, 0), (1, 4000), (1, 4500), (0, 100), (1, 100)].enumerated() {
            frame.timestampMicros = UInt64(i) * 1000
            frame.readings[4] = Int16(bump)
            frame.readings[2] = Int16(light)
            core.process(frame)
        }
        let dopamine = net.modulations.filter { $0.0 == .dopamine }
        #expect(dopamine.count == 2)                // at the two rising edges only
        #expect(dopamine.allSatisfy { $0.1 == 0.9 })
        #expect(net.modulations.filter { $0.0 == .serotonin }.count == 2)   // both frames while it held
        #expect(core.modulators[Neuromodulator.acetylcholine.index] == 0.6)
    }
}

@Suite struct ControlLoopTests {
    @Test func theLoopRunsABodyToItsEndAndStopsTheActuators() throws {
        let body = ScriptedBody(count: 2000, periodMicros: 5000, readings: sweepReadings)
        let net = ProbeNetwork()
        let loop = try ControlLoop(body: body, network: net, mapping: referenceMapping)
        #expect(loop.state == .configured)
        loop.start()
        #expect(loop.wait() == .finished)
        #expect(loop.state == .ended(.finished))
        #expect(body.stopCount == 1)
        #expect(body.sent.count == 2000)
        #expect(net.stepCount == 1999 * 5)
        let status = loop.status()
        #expect(status.counters.ticks == 2000)
        #expect(status.latency.count == 2000)
        #expect(status.latency.quantileMicros(0.99) > 0 && status.latency.quantileMicros(0.5) <= status.latency.quantileMicros(0.99))
        #expect(Set(body.sent.map { $0[0] }).count > 3)   // the motors actually moved
    }

    @Test func aPacedBodyGivesARealRateAndLatency() throws {
        let body = ScriptedBody(count: 100, periodMicros: 5000, paced: true, readings: sweepReadings)
        let loop = try ControlLoop(body: body, network: ProbeNetwork(), mapping: referenceMapping)
        loop.start()
        loop.wait()
        let status = loop.status()
        // 200 Hz by the firmware clock; a generous sanity bound on the measured rate.
        #expect(status.rate > 50 && status.rate < 400, "rate \(status.rate)")
        #expect(status.latency.quantileMicros(0.5) < 100_000)
        #expect(status.counters.lateTicks <= status.counters.ticks)
    }

    @Test func stopEndsARunningLoopAndStopsTheActuatorsFirst() throws {
        let body = ScriptedBody(count: 20_000, periodMicros: 1000, paced: true, readings: sweepReadings)
        let folder = TemporaryFolder()
        let recorder = try Recorder(path: folder.file("run.jsonl"), header: RecordingHeader(mapping: referenceMapping, network: NetworkIdentity(), dtMillis: 1))
        let loop = try ControlLoop(body: body, network: ProbeNetwork(), mapping: referenceMapping, recorder: recorder)
        loop.start()
        usleep(300_000)
        #expect(loop.state == .running)
        #expect(loop.stop() == .stopped)
        #expect(body.stopCount == 1)
        #expect(body.lastStop == [0, 0, 90])
        let reader = try RecordingReader(path: folder.file("run.jsonl"))
        var ticks = 0
        while reader.nextTick() != nil { ticks += 1 }
        #expect(reader.stop == .complete)
        #expect(ticks == loop.status().counters.ticks && ticks > 10)
    }

    @Test func linkLossEndsTheRunOrWaitsForTheLinkToComeBack() throws {
        var script = frames([0, 1000, 2000])
        script.append(.linkLost)
        script.append(.linkLost)
        script += frames([50_000, 51_000, 52_000])

        let ending = ScriptedBody(script: script)
        let a = try ControlLoop(body: ending, network: ProbeNetwork(), mapping: referenceMapping, linkLossPolicy: .end)
        a.start()
        #expect(a.wait() == .linkLost)
        #expect(ending.stopCount == 1)
        #expect(a.status().counters.linkLosses == 1)

        let waiting = ScriptedBody(script: script)
        let net = ProbeNetwork()
        let b = try ControlLoop(body: waiting, network: net, mapping: referenceMapping, linkLossPolicy: .awaitReconnect)
        b.start()
        #expect(b.wait() == .finished)
        #expect(b.status().counters.linkLosses == 1)      // one loss, however often the body reports it
        #expect(waiting.sent.count == 6)
        #expect(net.stepCount == 2 + 2)                   // the clock restarted after the loss: no 48 ms jump
    }

    @Test func aFailedSendIsALinkLoss() throws {
        let body = ScriptedBody(count: 10, periodMicros: 1000, readings: sweepReadings)
        body.failSendAt = 4
        let loop = try ControlLoop(body: body, network: ProbeNetwork(), mapping: referenceMapping, linkLossPolicy: .end)
        loop.start()
        #expect(loop.wait() == .linkLost)
        #expect(body.sent.count == 4)
        #expect(body.stopCount == 1)
    }

    @Test func aDurationEndsTheRunByFirmwareTime() throws {
        let body = ScriptedBody(count: 1000, periodMicros: 1000, readings: sweepReadings)
        let loop = try ControlLoop(body: body, network: ProbeNetwork(), mapping: referenceMapping, durationMicros: 100_000)
        loop.start()
        #expect(loop.wait() == .durationReached)
        #expect(loop.status().counters.ticks == 101)
    }

    @Test func aMappingForAnotherDeviceIsRefused() throws {
        var other = DeviceInfo.referenceRobot
        other.sensors.removeLast()
        let body = ScriptedBody(device: other, script: [])
        #expect(throws: MappingError.self) {
            try ControlLoop(body: body, network: ProbeNetwork(), mapping: referenceMapping)
        }
        #expect(throws: MappingError.self) {
            try ControlLoop(body: ScriptedBody(script: []), network: ProbeNetwork(inputCount: 3), mapping: referenceMapping)
        }
    }

    #if canImport(CAllocationCounter)
    /// The loop's own work (body, encoders, decoders, reward, recorder hand-off); the model's
    /// step has its own allocation test, so a stand-in network is used here.
    @Test func aTickAllocatesNothingOnceRunning() throws {
        let folder = TemporaryFolder()
        let network = ProbeNetwork()
        let recorder = try Recorder(path: folder.file("run.jsonl"), header: RecordingHeader(mapping: referenceMapping, network: NetworkIdentity(), dtMillis: network.dt))
        let core = try ControlCore(mapping: referenceMapping, network: network)
        let body = ScriptedBody(count: 2000, periodMicros: 5000, readings: sweepReadings)
        var frame = SensorFrame(channelCount: 7)
        func tick() {
            _ = body.nextFrame(into: &frame, timeoutMicros: 1000)
            core.process(frame)
            _ = body.send(core.setpoints)
            recorder.record(core, frame: frame, sentNanos: 0)
        }
        for _ in 0..<100 { tick() }                  // warm up
        nx_alloc_counter_start()
        for _ in 0..<1000 { tick() }
        let allocations = nx_alloc_counter_stop()
        try recorder.finish()
        #expect(allocations == 0)
    }
    #endif

    @Test func theRecentTickWindowGivesTheRateOfTheLastSecond() {
        func ticks(_ times: [UInt64]) -> RecentTicks {
            var r = RecentTicks()
            for t in times { r.record(t) }
            return r
        }
        let s: UInt64 = 1_000_000_000
        let fast = ticks((0..<400).map { 10 * s + UInt64($0) * 5_000_000 })            // 200 Hz for 2 s
        #expect(abs(fast.rate(now: fast.latest, windowNanos: s) - 200) < 0.5)
        #expect(abs(fast.rate(now: fast.latest + s / 2, windowNanos: s) - 200) < 0.5)   // half the window still holds ticks
        #expect(fast.rate(now: fast.latest + s + 1, windowNanos: s) == 0)              // none in the last second
        let slow = ticks((0..<5).map { 10 * s + UInt64($0) * 2 * s })                  // 0.5 Hz
        #expect(slow.rate(now: slow.latest + s / 2, windowNanos: s) == 0.5)
        #expect(slow.rate(now: slow.latest + 3 * s / 2, windowNanos: s) == 0.5, "not overdue yet")
        #expect(slow.rate(now: slow.latest + 5 * s, windowNanos: s) == 0, "the next tick is overdue")
        let burst = ticks((0..<10_000).map { 10 * s + UInt64($0) * 100_000 })          // 10 kHz: more than the ring holds
        #expect(abs(burst.rate(now: burst.latest, windowNanos: s) - 10_000) < 1)
        #expect(ticks([]).rate(now: 5 * s, windowNanos: s) == 0 && ticks([s]).rate(now: s, windowNanos: s) == 0)
    }

    @Test func theRateIsTheRateOfTheLastSecondAndFallsToZeroWhenFramesStop() throws {
        // 1.5 s at 200 Hz, then 50 Hz; then no frames at all while the loop goes on.
        var times = (0..<300).map { UInt64($0) * 5000 }
        times += (1...75).map { 1_495_000 + UInt64($0) * 20_000 }
        let body = TimedBody(timestamps: times)
        let loop = try ControlLoop(body: body, network: ProbeNetwork(), mapping: referenceMapping)
        loop.start()
        defer { body.end(); loop.stop() }
        // 1.2 s into the 50 Hz part: the last second holds only 50 Hz frames.
        #expect(holdsWithin(30) { loop.status().counters.ticks >= 360 })
        let slow = loop.status()
        #expect(slow.rate > 30 && slow.rate < 70, "current rate \(slow.rate) Hz, expected about 50")
        #expect(slow.averageRate > 80, "the average since the first frame is \(slow.averageRate) Hz")
        // The frames stop; within about a second the displayed rate is 0.
        #expect(holdsWithin(30) { loop.status().counters.ticks == times.count })
        usleep(1_300_000)
        let stalled = loop.status()
        #expect(stalled.state == .running)
        #expect(stalled.rate == 0, "\(stalled.rate) Hz a second after the last frame")
    }

    @Test func noTickIsLateWhereFramesDoNotComeInRealTime() throws {
        // Every tick takes about 10 ms of wall-clock time (5 steps of 2 ms) for frames 5 ms apart.
        for counts in [true, false] {
            let body = ScriptedBody(count: 40, periodMicros: 5000, readings: sweepReadings)
            let loop = try ControlLoop(body: body, network: SlowNetwork(stepMicros: 2000), mapping: referenceMapping,
                                       countsLateTicks: counts)
            loop.start()
            #expect(loop.wait() == .finished)
            let late = loop.status().counters.lateTicks
            if counts {
                #expect(late > 20, "frames in real time: \(late) of 40 ticks late")
            } else {
                #expect(late == 0, "frames as fast as possible: \(late) late ticks")
            }
        }
    }

    @Test func aStatusIsACopyThatTheLoopDoesNotChange() throws {
        let body = ScriptedBody(count: 400, periodMicros: 5000, paced: true, readings: sweepReadings)
        let loop = try ControlLoop(body: body, network: ProbeNetwork(), mapping: referenceMapping)
        loop.start()
        #expect(holdsWithin(30) { loop.status().counters.ticks >= 50 })
        let early = loop.status()
        let count = early.latency.count
        let p99 = early.latency.quantileMicros(0.99)
        loop.wait()
        #expect(early.latency.count == count && early.latency.quantileMicros(0.99) == p99)
        #expect(loop.status().latency.count == 400)
    }

    #if canImport(CAllocationCounter)
    /// The tick thread itself is counted (the counter is per thread): a body that starts and
    /// stops the count from inside `nextFrame`, while another thread polls `status()` as fast
    /// as it can.
    @Test func theTickThreadAllocatesNothingWhileAnotherThreadPollsStatus() throws {
        let folder = TemporaryFolder()
        let recorder = try Recorder(path: folder.file("run.jsonl"), header: RecordingHeader(mapping: referenceMapping, network: NetworkIdentity(), dtMillis: 1))
        let body = AllocationCountingBody(ScriptedBody(count: 900, periodMicros: 1000, paced: true, readings: sweepReadings),
                                          from: 100, to: 850)
        let loop = try ControlLoop(body: body, network: ProbeNetwork(), mapping: referenceMapping, recorder: recorder)
        let poller = Thread {
            while !body.pollerShouldEnd.load(ordering: .relaxed) {
                let s = loop.status()
                if s.latency.count >= 0 && !s.outputs.isEmpty { body.polls.add(1, ordering: .relaxed) }
            }
        }
        poller.start()
        loop.start()
        #expect(loop.wait() == .finished)
        body.pollerShouldEnd.store(true, ordering: .relaxed)
        #expect(loop.recordingError == nil)
        let counted = try #require(body.result)
        #expect(counted.pollsDuring > 50, "only \(counted.pollsDuring) status polls while the ticks were counted")
        #expect(counted.allocations == 0, "\(counted.allocations) allocations on the tick thread in 750 ticks")
        print("status: \(counted.allocations) allocations on the tick thread over 750 ticks while another thread polled status \(counted.pollsDuring) times")
    }
    #endif
}

/// Frames at given firmware timestamps, paced to the wall clock; after the last one the body
/// answers `.timeout` (after waiting) until `end()`, like a board that went quiet.
final class TimedBody: Body, @unchecked Sendable {
    let device = DeviceInfo.referenceRobot
    private let timestamps: [UInt64]
    private var position = 0
    private var startNanos: UInt64 = 0
    private let ended = Atomic<Bool>(false)

    init(timestamps: [UInt64]) { self.timestamps = timestamps }

    func end() { ended.store(true, ordering: .relaxed) }

    func nextFrame(into frame: inout SensorFrame, timeoutMicros: Int) -> BodyEvent {
        guard position < timestamps.count else {
            if ended.load(ordering: .relaxed) { return .finished }
            usleep(10_000)
            return .timeout
        }
        let t = timestamps[position]
        if position == 0 { startNanos = monotonicNanos() }
        sleepNanos(Int64(bitPattern: startNanos &+ (t - timestamps[0]) &* 1000 &- monotonicNanos()))
        let readings = sweepReadings(position)
        for k in 0..<7 { frame.readings[k] = readings[k] }
        frame.count = 7
        frame.timestampMicros = t
        frame.sequence = UInt32(position)
        frame.hostReceiveNanos = monotonicNanos()
        position += 1
        return .frame
    }

    func send(_ setpoints: [Int16]) -> Bool { true }
    func stopActuators() {}
}

/// A `ProbeNetwork` whose step takes `stepMicros` of wall-clock time.
final class SlowNetwork: ControlledNetwork {
    let inner = ProbeNetwork()
    let stepMicros: UInt32
    init(stepMicros: UInt32) { self.stepMicros = stepMicros }
    var inputCount: Int { inner.inputCount }
    var outputCount: Int { inner.outputCount }
    var dt: Double { inner.dt }
    func setInputState(_ index: Int, _ state: Trit) { inner.setInputState(index, state) }
    func simulateStep() { usleep(stepMicros); inner.simulateStep() }
    func outputState(_ index: Int) -> Trit { inner.outputState(index) }
    func modulate(_ modulator: Neuromodulator, to level: Double) { inner.modulate(modulator, to: level) }
    func level(of modulator: Neuromodulator) -> Double { inner.level(of: modulator) }
}

/// Waits up to `seconds` for `condition`.
private func holdsWithin(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(5_000)
    }
    return condition()
}

#if canImport(CAllocationCounter)
/// Counts the heap allocations of the thread that calls `nextFrame` (the loop's tick thread)
/// from frame `from` to frame `to` of a scripted body, and the status polls made meanwhile.
final class AllocationCountingBody: Body, @unchecked Sendable {
    let inner: ScriptedBody
    let from: Int, to: Int
    let polls = Atomic<Int>(0)
    let pollerShouldEnd = Atomic<Bool>(false)
    private var frames = 0
    private var pollsAtStart = 0
    private(set) var result: (allocations: UInt64, pollsDuring: Int)?
    let device: DeviceInfo

    init(_ inner: ScriptedBody, from: Int, to: Int) {
        self.inner = inner
        self.from = from
        self.to = to
        device = inner.device
    }

    func nextFrame(into frame: inout SensorFrame, timeoutMicros: Int) -> BodyEvent {
        if frames == from {
            pollsAtStart = polls.load(ordering: .relaxed)
            nx_alloc_counter_start()
        } else if frames == to {
            let allocations = nx_alloc_counter_stop()
            result = (allocations, polls.load(ordering: .relaxed) - pollsAtStart)
        }
        frames += 1
        return inner.nextFrame(into: &frame, timeoutMicros: timeoutMicros)
    }

    func send(_ setpoints: [Int16]) -> Bool { inner.send(setpoints) }
    func stopActuators() { inner.stopActuators() }
}
#endif
