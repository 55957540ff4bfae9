import Foundation
import Neuraxon
import NeuraxonEmbodiment
import NeuraxonSimulation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One tick as the view draws it: what the control core did, the network's neuron states and
/// potentials, and the simulated robot's pose. Every array is sized when the slot is made and
/// only written element by element afterwards, so filling a slot allocates nothing.
public struct ViewSnapshot: Sendable {
    /// The tick's number in the run (0 first).
    public var tick = 0
    /// The frame's firmware timestamp, µs.
    public var timestampMicros: UInt64 = 0
    /// Network steps the tick ran.
    public var steps = 0
    /// Sensor-to-command latency of the tick, µs.
    public var latencyMicros = 0.0
    /// Whether `x`, `y`, `heading` hold a simulated robot's pose.
    public var hasPose = false
    /// The simulated robot's pose: metres, and radians counter-clockwise from the world's x axis.
    public var x = 0.0, y = 0.0, heading = 0.0
    /// Raw readings, one per sensor channel, in the channel's unit.
    public var raw: [Int16]
    /// Calibrated values, one per encoder (NaN for a bad reading).
    public var values: [Double]
    /// Input and output trits (−1, 0, +1).
    public var inputs: [Int8]
    public var outputs: [Int8]
    /// Setpoints, one per actuator channel, in the channel's unit.
    public var setpoints: [Int16]
    /// Neuromodulator levels in `Neuromodulator.allCases` order, 0…1.
    public var modulators: [Double]
    /// Every neuron's state (−1, 0, +1) and membrane potential, in id order; empty when the
    /// network is not a `NeuraxonNetwork`.
    public var states: [Int8]
    public var potentials: [Double]
    /// Whether `states`, `potentials` and `synapseCount` were copied with this tick (they are
    /// copied at most 100 times a second of wall-clock time: `ViewTap.neuronIntervalNanos`).
    public var hasNeurons = false
    /// The network's synapse count now (structural plasticity forms and prunes synapses), or −1
    /// when unknown.
    public var synapseCount = -1
    /// The run's counters after the tick.
    public var counters = RunCounters()

    /// A slot for a run with these sizes.
    public init(sensors: Int, values: Int, inputs: Int, outputs: Int, actuators: Int, neurons: Int) {
        raw = [Int16](repeating: 0, count: sensors)
        self.values = [Double](repeating: 0, count: values)
        self.inputs = [Int8](repeating: 0, count: inputs)
        self.outputs = [Int8](repeating: 0, count: outputs)
        setpoints = [Int16](repeating: 0, count: actuators)
        modulators = [Double](repeating: 0, count: Neuromodulator.allCases.count)
        states = [Int8](repeating: 0, count: neurons)
        potentials = [Double](repeating: 0, count: neurons)
    }
}

/// A bounded drop-oldest queue of preallocated snapshot slots between one producer (the tick
/// thread) and one consumer (the view's sender).
///
/// The producer fills a slot of its own outside the lock, then under the lock (O(1), no
/// allocation) appends it to the queue and takes a free slot for the next tick; when no slot
/// is free the oldest queued one is dropped and reused (`dropped` counts them). The consumer
/// claims the oldest queued slot, reads it outside the lock, and gives it back with its next
/// claim. So the producer never waits for the consumer and never allocates; a slow consumer
/// loses old snapshots, never memory.
public final class SnapshotQueue: @unchecked Sendable {
    /// Slots in all: the producer's own, the consumer's claimed one, and up to `capacity − 2`
    /// queued.
    public let capacity: Int
    private let slots: UnsafeMutablePointer<ViewSnapshot>
    private var mutex = pthread_mutex_t()
    // Guarded by mutex:
    private var queue: [Int]           // ring of queued slot indices, oldest at queueHead
    private var queueHead = 0
    private var queueCount = 0
    private var free: [Int]            // stack of free slot indices
    private var freeCount = 0
    private var claimed = -1           // the consumer's slot, or −1
    private var _dropped = 0
    // The producer's own:
    private var current: Int

    /// Makes `capacity` (at least 3) slots, each made by `makeSlot` so that each owns its own
    /// arrays (writing an element of one never copies a buffer another shares).
    public init(capacity: Int, makeSlot: () -> ViewSnapshot) {
        self.capacity = max(3, capacity)
        slots = .allocate(capacity: self.capacity)
        for i in 0..<self.capacity { (slots + i).initialize(to: makeSlot()) }
        queue = [Int](repeating: 0, count: self.capacity)
        free = Array(1..<self.capacity)
        freeCount = self.capacity - 1
        current = 0
        pthread_mutex_init(&mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(&mutex)
        slots.deinitialize(count: capacity)
        slots.deallocate()
    }

    /// Snapshots dropped because the consumer was behind.
    public var dropped: Int { locked { _dropped } }

    /// Snapshots waiting for the consumer.
    public var count: Int { locked { queueCount } }

    /// Producer: fills the producer's slot with `fill` and queues it. O(1) under the lock plus
    /// what `fill` does; allocates nothing when `fill` writes elements only.
    @inline(__always)
    public func push(_ fill: (inout ViewSnapshot) -> Void) {
        fill(&slots[current])
        pthread_mutex_lock(&mutex)
        queue[(queueHead + queueCount) % capacity] = current
        queueCount += 1
        if freeCount > 0 {
            freeCount -= 1
            current = free[freeCount]
        } else {
            // No free slot: reuse the oldest queued one.
            current = queue[queueHead]
            queueHead = (queueHead + 1) % capacity
            queueCount -= 1
            _dropped += 1
        }
        pthread_mutex_unlock(&mutex)
    }

    /// Consumer: gives back the slot read last and calls `read` with the oldest queued
    /// snapshot, outside the lock. Returns false when the queue is empty.
    @discardableResult
    public func pop(_ read: (borrowing ViewSnapshot) -> Void) -> Bool {
        pthread_mutex_lock(&mutex)
        release()
        guard queueCount > 0 else {
            pthread_mutex_unlock(&mutex)
            return false
        }
        claimed = queue[queueHead]
        queueHead = (queueHead + 1) % capacity
        queueCount -= 1
        let slot = claimed
        pthread_mutex_unlock(&mutex)
        read(slots[slot])
        return true
    }

    /// Consumer: drops every queued snapshot (nobody is watching).
    public func discardAll() {
        locked {
            release()
            while queueCount > 0 {
                free[freeCount] = queue[queueHead]
                freeCount += 1
                queueHead = (queueHead + 1) % capacity
                queueCount -= 1
            }
        }
    }

    /// Returns the claimed slot to the free list (under the lock).
    private func release() {
        if claimed >= 0 {
            free[freeCount] = claimed
            freeCount += 1
            claimed = -1
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}

/// What the page asked the running network to do, waiting for the tick thread.
public enum LiveControl: Sendable, Equatable {
    /// Set a neuromodulator to a level in [0, 1].
    case modulate(Neuromodulator, Double)
    /// Hold input neuron `index` (among the inputs) at a state, or release it (nil).
    case clamp(Int, Trit?)
}

/// A bounded queue of live controls from the server to the tick thread. Fixed storage; a
/// control that finds it full is refused (`offer` returns false) and the page is told.
public final class ControlInbox: @unchecked Sendable {
    public let capacity: Int
    private var items: [LiveControl]
    private var head = 0, count = 0
    private var mutex = pthread_mutex_t()
    /// Controls waiting, readable without the lock (the tick thread looks at it every tick).
    private let pending = Atomic<Int>(0)

    public init(capacity: Int = 32) {
        self.capacity = max(1, capacity)
        items = [LiveControl](repeating: .modulate(.dopamine, 0), count: self.capacity)
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    /// Queues a control (any thread). Returns false when the queue is full.
    public func offer(_ control: LiveControl) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard count < capacity else { return false }
        items[(head + count) % capacity] = control
        count += 1
        pending.store(count, ordering: .releasing)
        return true
    }

    /// Takes the oldest control (the tick thread). O(1), allocates nothing.
    public func take() -> LiveControl? {
        guard pending.load(ordering: .acquiring) > 0 else { return nil }
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard count > 0 else { return nil }
        let item = items[head]
        head = (head + 1) % capacity
        count -= 1
        pending.store(count, ordering: .releasing)
        return item
    }
}

/// The view's tap on a control loop (`TickObserver`): applies the page's live controls before
/// each tick and copies each tick into a `SnapshotQueue` after it. Allocates nothing per tick.
public final class ViewTap: TickObserver, @unchecked Sendable {
    public let snapshots: SnapshotQueue
    public let controls: ControlInbox
    /// Whether the page's controls that change behaviour act (a simulated run, or a robot run
    /// with `--view-control`).
    public let controlsEnabled: Bool
    private let network: NeuraxonNetwork?
    private let robot: SimulatedRobot?
    /// Input neurons of the run (a clamp names one of them).
    public let inputCount: Int
    /// The network's synapses, copied at most once per `synapseIntervalNanos` (nil without a
    /// `NeuraxonNetwork`).
    public let synapses: SynapseBoard?
    /// The shortest wall-clock time between two copies of every synapse, ns.
    public let synapseIntervalNanos: UInt64
    /// Copies of the synapses made so far (the tick thread's own; read after the run).
    public private(set) var synapseCopies = 0
    private var lastSynapseCopy: UInt64 = 0   // the tick thread's own
    private var synapsesCopied = false        // the tick thread's own
    /// The tick after which the synapses were last copied, −1 before the first copy (the tick
    /// thread's own; read after the run or from an observer on the same thread).
    public private(set) var lastSynapseCopyTick = -1
    /// Controls applied so far (the tick thread's own; read after the run).
    public private(set) var appliedControls = 0
    /// The shortest wall-clock time between two copies of every neuron's state, ns.
    public let neuronIntervalNanos: UInt64 = 10_000_000
    private var lastNeuronCopy: UInt64 = 0   // the tick thread's own

    /// Whether the neurons are due for a copy (the tick thread).
    @inline(__always) private func neuronsDue() -> Bool {
        let now = Self.nowNanos()
        guard now &- lastNeuronCopy >= neuronIntervalNanos else { return false }
        lastNeuronCopy = now
        return true
    }

    /// Whether the synapses are due for a copy: on the first tick, then once per
    /// `synapseIntervalNanos` (the tick thread).
    @inline(__always) private func synapsesDue() -> Bool {
        let now = Self.nowNanos()
        guard !synapsesCopied || now &- lastSynapseCopy >= synapseIntervalNanos else { return false }
        synapsesCopied = true
        lastSynapseCopy = now
        return true
    }

    @inline(__always) private static func nowNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// - Parameters:
    ///   - network: the running network, for every neuron's state and potential.
    ///   - robot: the simulated robot, for its pose.
    ///   - capacity: snapshot slots (at 200 ticks a second, 64 hold about 0.3 s).
    ///   - synapseIntervalNanos: the shortest wall-clock time between two copies of every
    ///     synapse for the page, ns (1 s: weights change slowly, and a copy is O(synapses)).
    public init(mapping: Mapping, network: NeuraxonNetwork?, robot: SimulatedRobot?, capacity: Int = 64,
                controlsEnabled: Bool = true, synapseIntervalNanos: UInt64 = 1_000_000_000) {
        self.synapseIntervalNanos = synapseIntervalNanos
        self.network = network
        self.robot = robot
        self.controlsEnabled = controlsEnabled
        inputCount = mapping.inputCount
        // Room for the synapses the network starts with and as many again grown during the run.
        synapses = network.map { SynapseBoard(capacity: max(4096, 2 * $0.synapseCount)) }
        snapshots = SnapshotQueue(capacity: capacity) {
            ViewSnapshot(sensors: mapping.device.sensors.count, values: mapping.encoders.count,
                         inputs: mapping.inputCount, outputs: mapping.outputCount,
                         actuators: mapping.device.actuators.count, neurons: network?.neuronCount ?? 0)
        }
        controls = ControlInbox()
    }

    public func beforeTick<N: ControlledNetwork>(_ core: ControlCore<N>, recorder: Recorder?) {
        while let control = controls.take() {
            guard controlsEnabled else { continue }
            switch control {
            case let .modulate(modulator, level):
                core.network.modulate(modulator, to: level)
                recorder?.record(modulator: modulator, level: level)
            case let .clamp(input, state):
                guard core.clamp(input: input, to: state) else { continue }
                recorder?.record(clamp: input, to: state)
            }
            appliedControls += 1
        }
    }

    /// The pose a replayed recording holds for the tick being replayed (the tick thread's own).
    private var replayedPose: RecordedPose?

    public func recorded(pose: RecordedPose?) { replayedPose = pose }

    public func afterTick<N: ControlledNetwork>(_ core: ControlCore<N>, frame: SensorFrame, latencyNanos: UInt64) {
        let network = self.network, robot = self.robot, replayed = replayedPose
        snapshots.push { s in
            s.tick = core.counters.ticks - 1
            s.timestampMicros = frame.timestampMicros
            s.steps = core.lastSteps
            s.latencyMicros = Double(latencyNanos) / 1000
            if let robot {
                let p = robot.pose
                s.hasPose = true
                s.x = p.x; s.y = p.y; s.heading = p.heading
            } else if let p = replayed {
                s.hasPose = true
                s.x = p.x; s.y = p.y; s.heading = p.heading
            }
            // Element by element through buffer pointers: no copy, no per-element checks.
            frame.readings.withUnsafeBufferPointer { from in
                s.raw.withUnsafeMutableBufferPointer { to in
                    for k in 0..<min(frame.count, from.count, to.count) { to[k] = from[k] }
                }
            }
            core.values.withUnsafeBufferPointer { from in
                s.values.withUnsafeMutableBufferPointer { to in for k in 0..<min(from.count, to.count) { to[k] = from[k] } }
            }
            core.inputs.withUnsafeBufferPointer { from in
                s.inputs.withUnsafeMutableBufferPointer { to in for k in 0..<min(from.count, to.count) { to[k] = from[k].rawValue } }
            }
            core.outputs.withUnsafeBufferPointer { from in
                s.outputs.withUnsafeMutableBufferPointer { to in for k in 0..<min(from.count, to.count) { to[k] = from[k].rawValue } }
            }
            core.setpoints.withUnsafeBufferPointer { from in
                s.setpoints.withUnsafeMutableBufferPointer { to in for k in 0..<min(from.count, to.count) { to[k] = from[k] } }
            }
            core.modulators.withUnsafeBufferPointer { from in
                s.modulators.withUnsafeMutableBufferPointer { to in for k in 0..<min(from.count, to.count) { to[k] = from[k] } }
            }
            // Every neuron's state and potential serve the display (30 frames a second): they are
            // copied at most once per `neuronIntervalNanos` of wall-clock time, so a run as fast
            // as possible does not pay for them on every tick.
            s.hasNeurons = false
            if let network, self.neuronsDue() {
                s.hasNeurons = true
                s.synapseCount = network.synapseCount
                let count = min(s.states.count, network.neuronCount)
                s.states.withUnsafeMutableBufferPointer { states in
                    s.potentials.withUnsafeMutableBufferPointer { potentials in
                        for id in 0..<count {
                            let neuron = network.neuron(id)
                            states[id] = neuron.state.rawValue
                            potentials[id] = neuron.potential
                        }
                    }
                }
            }
            s.counters = core.counters
        }
        if let network, let synapses, synapsesDue() {
            synapses.publish(from: network, tick: core.counters.ticks - 1)
            lastSynapseCopyTick = core.counters.ticks - 1
            synapseCopies += 1
        }
    }
}
