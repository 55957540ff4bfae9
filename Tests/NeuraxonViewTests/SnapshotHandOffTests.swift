import CAllocationCounter
import Foundation
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonSimulation
import NeuraxonTransport
@testable import NeuraxonView
import Synchronization
import XCTest

/// Counts the heap allocations the view's tap makes on the tick thread (the counter is per
/// thread), around each of its two calls.
final class CountingObserver: TickObserver, @unchecked Sendable {
    let tap: ViewTap
    private(set) var allocations: UInt64 = 0
    private(set) var countedTicks = 0
    private var ticks = 0
    let warmUp: Int

    init(_ tap: ViewTap, warmUp: Int) {
        self.tap = tap
        self.warmUp = warmUp
    }

    func beforeTick<N: ControlledNetwork>(_ core: ControlCore<N>, recorder: Recorder?) {
        ticks += 1
        guard ticks > warmUp else { tap.beforeTick(core, recorder: recorder); return }
        nx_alloc_counter_start()
        tap.beforeTick(core, recorder: recorder)
        allocations += nx_alloc_counter_stop()
    }

    func afterTick<N: ControlledNetwork>(_ core: ControlCore<N>, frame: SensorFrame, latencyNanos: UInt64) {
        guard ticks > warmUp else { tap.afterTick(core, frame: frame, latencyNanos: latencyNanos); return }
        nx_alloc_counter_start()
        tap.afterTick(core, frame: frame, latencyNanos: latencyNanos)
        allocations += nx_alloc_counter_stop()
        countedTicks += 1
    }
}

final class SnapshotHandOffTests: XCTestCase {
    /// The tick thread hands every tick to the view without allocating, while the server side
    /// drains and encodes snapshots (and the synapses, copied here every millisecond) as fast as
    /// it can and the page's controls (levels, clamps and releases) arrive.
    func testTheTickThreadAllocatesNothingForTheView() throws {
        let preset = RobotPreset.named("seek")!
        let robot = try SimulatedRobot(world: try World.named(preset.world), seed: 3)
        let network = try preset.network(seed: 3)
        let mapping = try Mapping(yaml: preset.mappingYAML, device: DeviceInfo(simulated: robot),
                                  inputCount: network.inputCount, outputCount: network.outputCount)
        let tap = ViewTap(mapping: mapping, network: network, robot: robot, capacity: 8, synapseIntervalNanos: 1_000_000)
        let feed = LiveFeed(tap: tap, scene: "{}", stopRequest: StopRequest())
        let counting = CountingObserver(tap, warmUp: 100)
        let done = Atomic<Bool>(false)
        let messages = Atomic<Int>(0), offered = Atomic<Int>(0)
        let consumer = Thread {
            while !done.load(ordering: .relaxed) {
                if feed.frame(watching: true) != nil { messages.add(1, ordering: .relaxed) }
            }
        }
        let controller = Thread {
            var level = 0.0
            while !done.load(ordering: .relaxed) {
                level = level >= 1 ? 0 : level + 0.1
                if feed.handle(.modulate(.dopamine, level)) == nil { offered.add(1, ordering: .relaxed) }
                let clamp: Trit? = level < 0.3 ? nil : level < 0.6 ? .excitatory : .inhibitory
                if feed.handle(.clamp(Int(level * 10) % mapping.inputCount, clamp)) == nil { offered.add(1, ordering: .relaxed) }
                usleep(500)
            }
        }
        consumer.start()
        controller.start()
        // A recorder too: every control applied is recorded as an event from the tick thread.
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let recorder = try Recorder(path: folder + "/run.jsonl", header: RecordingHeader(mapping: mapping, network: NetworkIdentity(seed: 3), dtMillis: network.dt))
        let outcome = try SimulationRun.run(robot: robot, network: network, mapping: mapping, durationSeconds: 10, recorder: recorder, observer: counting)
        done.store(true, ordering: .relaxed)
        XCTAssertEqual(outcome.endReason, .durationReached)
        XCTAssertGreaterThan(counting.countedTicks, 1500)
        XCTAssertGreaterThan(messages.load(ordering: .relaxed), 10, "the consumer read almost nothing: the test proved little")
        XCTAssertGreaterThan(tap.appliedControls, 10, "almost no control reached the tick thread: the test proved little")
        XCTAssertGreaterThan(tap.synapseCopies, 10, "the synapses were hardly copied: the test proved little")
        XCTAssertEqual(counting.allocations, 0, "\(counting.allocations) allocations on the tick thread for the view over \(counting.countedTicks) ticks")
        print("view hand-off: \(counting.allocations) allocations on the tick thread over \(counting.countedTicks) ticks, \(messages.load(ordering: .relaxed)) messages encoded meanwhile, \(tap.appliedControls) controls applied, \(tap.synapseCopies) synapse copies, \(tap.snapshots.dropped) snapshots dropped")
    }

    /// A consumer that falls behind loses the oldest snapshots; the producer never waits and
    /// never touches the slot the consumer is reading.
    func testAFullQueueDropsTheOldest() {
        let queue = SnapshotQueue(capacity: 4) { ViewSnapshot(sensors: 1, values: 0, inputs: 0, outputs: 0, actuators: 0, neurons: 0) }
        for k in 0..<10 { queue.push { $0.tick = k } }
        XCTAssertEqual(queue.count, 3)       // capacity − 1: one slot is the producer's own
        XCTAssertEqual(queue.dropped, 7)
        var seen: [Int] = []
        XCTAssertTrue(queue.pop { seen.append($0.tick) })
        // While the consumer holds tick 7's slot, the producer fills and drops others only.
        for k in 10..<20 { queue.push { $0.tick = k } }
        while queue.pop({ seen.append($0.tick) }) {}
        XCTAssertEqual(seen.first, 7)
        XCTAssertEqual(Array(seen.dropFirst()), [18, 19])
        XCTAssertEqual(queue.dropped, 7 + 10)
    }

    /// The page's controls are bounded: a full inbox refuses, and the page is told.
    func testAFullControlInboxRefuses() {
        let preset = RobotPreset.named("seek")!
        let mapping = try! preset.mapping()
        let tap = ViewTap(mapping: mapping, network: nil, robot: nil)
        let feed = LiveFeed(tap: tap, scene: "{}", stopRequest: StopRequest())
        for _ in 0..<tap.controls.capacity { XCTAssertNil(feed.handle(.modulate(.serotonin, 0.5))) }
        let reply = feed.handle(.modulate(.serotonin, 0.5))
        XCTAssertTrue(reply?.contains("too many controls") == true, reply ?? "nil")
    }
}
