import Neuraxon
import NeuraxonChannels
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Why a mapped reading could not be encoded.
public enum ReadingProblem: Sendable, Equatable, CustomStringConvertible {
    /// The frame carries fewer channels than the mapped channel's index.
    case missingChannel(channel: String)
    /// The reading is not a number.
    case notANumber(channel: String)
    /// The reading lies outside the channel's documented range.
    case outOfRange(channel: String, value: Double, minimum: Int, maximum: Int)

    public var description: String {
        switch self {
        case let .missingChannel(c):
            "sensor `\(c)` is missing from the frame: the body sends fewer channels than the mapping expects; check the device's channel list"
        case let .notANumber(c):
            "sensor `\(c)` read NaN: check its wiring or calibration"
        case let .outOfRange(c, v, lo, hi):
            "sensor `\(c)` read \(v), outside its range \(lo)…\(hi): check its wiring, or the device's channel list"
        }
    }
}

/// The running state of one sensor encoder (see `EncoderSpec` for the comparator it implements).
public struct EncoderState: Sendable {
    public let spec: EncoderSpec
    /// The region each comparator is in: +1 upper, −1 lower, 0 dead band.
    public private(set) var regions: [Int8]

    public init(_ spec: EncoderSpec) {
        self.spec = spec
        regions = [Int8](repeating: 0, count: spec.comparators.count)
    }

    /// Checks a raw reading (in the channel's unit) against the channel's range.
    public func check(raw: Double, channel: ChannelDescriptor) -> ReadingProblem? {
        if raw.isNaN { return .notANumber(channel: channel.name) }
        if raw < Double(channel.minimum) || raw > Double(channel.maximum) {
            return .outOfRange(channel: channel.name, value: raw, minimum: Int(channel.minimum), maximum: Int(channel.maximum))
        }
        return nil
    }

    /// Updates every comparator with calibrated value `value` and returns comparator `k`'s trit
    /// through `emit(k, trit)`.
    /// - Complexity: O(number of neurons); allocates nothing.
    public mutating func encode(_ value: Double, emit: (Int, Trit) -> Void) {
        let h = spec.hysteresis
        for k in 0..<regions.count {
            let c = spec.comparators[k]
            var region = regions[k]
            if region == 1 && value < c.upper - h { region = 0 }
            if region == -1 && value > c.lower + h { region = 0 }
            if region == 0 {
                // A comparator whose lower region emits 0 (threshold, population, digital) is a
                // two-state trigger: only the upper region is sticky.
                if value > c.upper { region = 1 } else if value < c.lower && c.below != .neutral { region = -1 }
            }
            regions[k] = region
            let trit = region == 1 ? c.above : region == -1 ? c.below : .neutral
            emit(k, spec.invert ? (Trit(rawValue: -trit.rawValue) ?? .neutral) : trit)
        }
    }

    /// Returns every comparator to the dead band (used after a bad reading and on restart).
    public mutating func reset() {
        for k in 0..<regions.count { regions[k] = 0 }
    }

    /// Puts every comparator back in the region `saved` gives it (+1 upper, −1 lower, 0 dead
    /// band); `saved` has one entry per comparator.
    mutating func restore(regions saved: [Int8]) {
        for k in 0..<min(saved.count, regions.count) { regions[k] = saved[k] }
    }
}

/// The running state of one actuator decoder (see `DecoderSpec` for the equations).
public struct DecoderState: Sendable {
    public let spec: DecoderSpec
    /// The leaky integrator's state y ∈ [−1, 1].
    public private(set) var integrated: Double = 0
    /// The slew-limited setpoint before rounding, in actuator units.
    public private(set) var position: Double
    private let minimum: Double, maximum: Double

    public init(_ spec: DecoderSpec, actuator: ChannelDescriptor) {
        self.spec = spec
        minimum = Double(actuator.minimum)
        maximum = Double(actuator.maximum)
        position = Double(actuator.safe)
    }

    static func value(of drive: Drive, _ output: (Int) -> Trit) -> Double {
        switch drive {
        case let .neuron(k): output(k).doubleValue
        case let .pushPull(push, pull): (output(push).doubleValue - output(pull).doubleValue) / 2
        }
    }

    /// The drive u ∈ [−1, 1] for the current output trits.
    public func drive(_ output: (Int) -> Trit) -> Double {
        switch spec.source {
        case let .drive(d):
            return Self.value(of: d, output)
        case let .differential(forward, turn, rightWheel):
            let f = Self.value(of: forward, output)
            let t = turn.map { Self.value(of: $0, output) } ?? 0
            return min(1, max(-1, rightWheel ? f + t : f - t))
        }
    }

    /// Advances the decoder by `elapsedMillis` of network time with drive `u` and returns the
    /// setpoint, in actuator units.
    /// - Complexity: O(1); allocates nothing.
    public mutating func update(drive u: Double, elapsedMillis dt: Double) -> Int16 {
        if spec.tau > 0 {
            integrated += (u - integrated) * (1 - exp(-dt / spec.tau))
        } else {
            integrated = u
        }
        var y = spec.invert ? -integrated : integrated
        if abs(y) < spec.deadBand { y = 0 }
        let mid = (spec.range.lo + spec.range.hi) / 2, half = (spec.range.hi - spec.range.lo) / 2
        let target = mid + y * half
        if spec.slewRate > 0 {
            let step = spec.slewRate * dt / 1000
            position += min(step, max(-step, target - position))
        } else {
            position = target
        }
        return Int16(min(maximum, max(minimum, position.rounded())))
    }

    /// Returns to the safe value with an empty integrator.
    public mutating func reset(safeValue: Int) {
        integrated = 0
        position = Double(safeValue)
    }

    /// Puts the integrator and the slew-limited setpoint back where a saved state had them.
    mutating func restore(integrated savedIntegrated: Double, position savedPosition: Double) {
        integrated = savedIntegrated
        position = savedPosition
    }
}

/// Counters of a run, running totals since the start.
public struct RunCounters: Sendable, Equatable {
    /// Sensor frames processed.
    public var ticks = 0
    /// Network steps run.
    public var steps = 0
    /// Frames whose elapsed time held more steps than the bound allows (the excess was dropped).
    public var overruns = 0
    /// Frames whose command left after the next frame was due.
    public var lateTicks = 0
    /// Mapped readings that were missing, NaN or out of range.
    public var readingErrors = 0
    /// Frames whose timestamp went backwards (a firmware restart): time restarted from them.
    public var clockResets = 0
    /// Frames the body reported lost (from sequence gaps).
    public var droppedFrames = 0
    /// Times the link went down.
    public var linkLosses = 0
    /// Tick records the recorder could not take because its buffer was full.
    public var recordDrops = 0

    public init() {}
}

/// What a `ControlCore` carries from one frame to the next besides the network: the encoders'
/// comparator regions, the decoders' integrators and setpoints, which reward rules held, and
/// the network clock, and the inputs held from outside the run. A recording that starts in the middle of a run (a replay's recording of
/// a time range) stores it in its header so that its own replay goes on exactly
/// (Docs/LOG-FORMAT.md, `start_state`).
public struct ControlCoreState: Sendable, Equatable, Codable {
    /// Each encoder's comparator regions (+1 upper, −1 lower, 0 dead band), in the mapping's
    /// encoder order.
    public var encoderRegions: [[Int8]]
    /// Each decoder's leaky integrator y ∈ [−1, 1], in the mapping's decoder order.
    public var decoderIntegrators: [Double]
    /// Each decoder's slew-limited setpoint before rounding, in actuator units.
    public var decoderPositions: [Double]
    /// Whether each reward rule held at the last frame, in the mapping's order.
    public var rewardsHeld: [Bool]
    /// The last frame's firmware timestamp, µs; nil when the clock restarts at the next frame.
    public var lastTimestampMicros: UInt64?
    /// Network time not yet stepped, µs (less than one step).
    public var pendingMicros: UInt64
    /// The state each input neuron is held at from outside the run (−1, 0 or 1; nil where its
    /// encoder drives it), by index among the inputs; nil when no input is held.
    public var clampedInputs: [Int8?]?

    enum CodingKeys: String, CodingKey {
        case encoderRegions = "encoder_regions", decoderIntegrators = "decoder_integrators"
        case decoderPositions = "decoder_positions", rewardsHeld = "rewards_held"
        case lastTimestampMicros = "last_t_us", pendingMicros = "pending_us", clampedInputs = "clamped_inputs"
    }
}

/// The encoder → network → decoder pipeline for one sensor frame, shared by the control loop
/// and replay so both compute exactly the same thing.
///
/// Time: the frame's firmware timestamp drives the network. With dt the network's step in µs,
/// the time since the previous frame is added to a pending budget; the network runs
/// n = ⌊pending/dt⌋ steps (pending keeps the remainder), at most `maxStepsPerTick` (the rest of
/// the budget is dropped and the frame counted as an overrun). The first frame, and a frame
/// whose timestamp goes backwards, runs no step and restarts the clock.
///
/// Per frame: reward rules set or pulse neuromodulators; each encoder turns its calibrated
/// value into input trits (a bad reading gives 0 on its neurons and is counted); the inputs are
/// set before every step (held inputs); the decoders turn the output trits into setpoints over
/// the n·dt ms of network time that passed.
///
/// Allocates nothing per frame once built.
public final class ControlCore<Network: ControlledNetwork> {
    public let mapping: Mapping
    public let network: Network
    /// The network step, in µs.
    public let stepMicros: UInt64

    /// Calibrated value per encoder (NaN when its reading was bad), from the last frame.
    public private(set) var values: [Double]
    /// Input trit per input neuron, from the last frame.
    public private(set) var inputs: [Trit]
    /// Output trit per output neuron, after the last frame's steps.
    public private(set) var outputs: [Trit]
    /// Setpoint per actuator channel, in the device's order, from the last frame.
    public private(set) var setpoints: [Int16]
    /// Neuromodulator levels in `Neuromodulator.allCases` order, after the last frame.
    public private(set) var modulators: [Double]
    /// Network steps the last frame ran.
    public private(set) var lastSteps = 0
    /// The last reading problem seen, if any.
    public private(set) var lastReadingProblem: ReadingProblem?
    public internal(set) var counters = RunCounters()

    private let modulatorOrder = Neuromodulator.allCases
    private var encoders: [EncoderState]
    private var decoders: [DecoderState]
    private var rewardHeld: [Bool]
    private var lastTimestamp: UInt64 = 0
    private var pendingMicros: UInt64 = 0
    private var clockStarted = false
    /// Input neurons held from outside the run (the browser view), by index among the inputs:
    /// the state held, or nil where the encoders drive the input.
    private var clamped: [Trit?]
    private var clampedCount = 0

    /// Builds the pipeline.
    /// - Throws: `MappingError` when the mapping was validated for other network sizes.
    public init(mapping: Mapping, network: Network) throws {
        guard mapping.inputCount == network.inputCount, mapping.outputCount == network.outputCount else {
            throw MappingError(line: nil, "the mapping was checked against a network with \(mapping.inputCount) inputs and \(mapping.outputCount) outputs, but this network has \(network.inputCount) and \(network.outputCount); reload the mapping for this network")
        }
        guard network.dt.isFinite, network.dt > 0 else {
            throw MappingError(line: nil, "the network's dt is \(network.dt) ms; it must be positive")
        }
        self.mapping = mapping
        self.network = network
        stepMicros = UInt64(max(1, (network.dt * 1000).rounded()))
        values = [Double](repeating: .nan, count: mapping.encoders.count)
        inputs = [Trit](repeating: .neutral, count: network.inputCount)
        outputs = [Trit](repeating: .neutral, count: network.outputCount)
        setpoints = mapping.device.actuators.map(\.safe)
        modulators = Neuromodulator.allCases.map { network.level(of: $0) }
        encoders = mapping.encoders.map(EncoderState.init)
        decoders = mapping.decoders.map { DecoderState($0, actuator: mapping.device.actuators[$0.channelIndex]) }
        rewardHeld = [Bool](repeating: false, count: mapping.rewards.count)
        clamped = [Trit?](repeating: nil, count: network.inputCount)
    }

    /// Holds input neuron `input` (among the inputs, 0 first) at `state` from the next frame on,
    /// whatever its encoder says; nil releases it. Allocates nothing.
    /// - Returns: false (and changes nothing) when there is no such input.
    @discardableResult
    public func clamp(input: Int, to state: Trit?) -> Bool {
        guard clamped.indices.contains(input) else { return false }
        if (clamped[input] == nil) != (state == nil) { clampedCount += state == nil ? -1 : 1 }
        clamped[input] = state
        return true
    }

    /// The state carried to the next frame (see `ControlCoreState`).
    public var state: ControlCoreState {
        ControlCoreState(encoderRegions: encoders.map(\.regions), decoderIntegrators: decoders.map(\.integrated),
                         decoderPositions: decoders.map(\.position), rewardsHeld: rewardHeld,
                         lastTimestampMicros: clockStarted ? lastTimestamp : nil, pendingMicros: clockStarted ? pendingMicros : 0,
                         clampedInputs: clampedCount > 0 ? clamped.map { $0?.rawValue } : nil)
    }

    /// Continues from a saved state, as if the frames before it had just been processed.
    /// - Throws: `MappingError` when the state was saved with another mapping (other encoders,
    ///   decoders or reward rules); nothing is changed then.
    public func restore(_ saved: ControlCoreState) throws(MappingError) {
        guard saved.encoderRegions.count == encoders.count, saved.decoderIntegrators.count == decoders.count,
              saved.decoderPositions.count == decoders.count, saved.rewardsHeld.count == rewardHeld.count,
              zip(saved.encoderRegions, encoders).allSatisfy({ $0.count == $1.regions.count && $0.allSatisfy { (-1...1).contains($0) } }),
              (saved.decoderIntegrators + saved.decoderPositions).allSatisfy(\.isFinite),
              saved.clampedInputs.map({ $0.count == clamped.count && $0.allSatisfy { $0 == nil || Trit(rawValue: $0!) != nil } }) ?? true else {
            throw MappingError(line: nil, "the recording's start state does not fit this mapping (it was saved with other sensors, actuators or reward rules, or it is damaged); replay with the recording's own mapping")
        }
        for e in 0..<encoders.count { encoders[e].restore(regions: saved.encoderRegions[e]) }
        for d in 0..<decoders.count {
            decoders[d].restore(integrated: saved.decoderIntegrators[d], position: saved.decoderPositions[d])
        }
        for r in 0..<rewardHeld.count { rewardHeld[r] = saved.rewardsHeld[r] }
        for i in 0..<clamped.count { clamp(input: i, to: saved.clampedInputs?[i].flatMap { Trit(rawValue: $0) }) }
        if let t = saved.lastTimestampMicros {
            clockStarted = true
            lastTimestamp = t
            pendingMicros = saved.pendingMicros
        } else {
            restartClock()
        }
    }

    /// Forgets the clock so the next frame runs no step (after a link loss or reconnect).
    public func restartClock() {
        clockStarted = false
        pendingMicros = 0
    }

    /// Runs one sensor frame through reward, encoders, network and decoders.
    /// - Returns: the number of network steps run.
    /// - Complexity: O(steps·network + mapped channels); allocates nothing.
    @discardableResult
    public func process(_ frame: SensorFrame) -> Int {
        counters.ticks += 1
        counters.droppedFrames = Int(frame.droppedFrames)
        let steps = stepsFor(frame.timestampMicros)
        lastSteps = steps

        applyRewards(frame)
        encode(frame)
        if clampedCount > 0 {
            for i in 0..<clamped.count { if let held = clamped[i] { inputs[i] = held } }
        }

        inputs.withUnsafeBufferPointer { held in
            for _ in 0..<steps {
                for i in 0..<held.count { network.setInputState(i, held[i]) }
                network.simulateStep()
            }
        }
        counters.steps += steps

        for k in 0..<outputs.count { outputs[k] = network.outputState(k) }
        let elapsed = Double(steps) * network.dt
        for d in 0..<decoders.count {
            let u = decoders[d].drive { [outputs] in outputs[$0] }
            setpoints[decoders[d].spec.channelIndex] = decoders[d].update(drive: u, elapsedMillis: elapsed)
        }
        for i in 0..<modulatorOrder.count { modulators[i] = network.level(of: modulatorOrder[i]) }
        return steps
    }

    private func stepsFor(_ t: UInt64) -> Int {
        guard clockStarted, t >= lastTimestamp else {
            if clockStarted { counters.clockResets += 1 }
            clockStarted = true
            lastTimestamp = t
            pendingMicros = 0
            return 0
        }
        pendingMicros += t - lastTimestamp
        lastTimestamp = t
        let n = pendingMicros / stepMicros
        if n > UInt64(mapping.maxStepsPerTick) {
            counters.overruns += 1
            pendingMicros = 0
            return mapping.maxStepsPerTick
        }
        pendingMicros -= n * stepMicros
        return Int(n)
    }

    private func reading(_ frame: SensorFrame, _ channel: Int) -> Double? {
        channel < frame.count && channel < frame.readings.count ? Double(frame.readings[channel]) : nil
    }

    private func applyRewards(_ frame: SensorFrame) {
        for r in 0..<mapping.rewards.count {
            var holds = false
            if let value = reading(frame, mapping.rewards[r].channelIndex) {
                holds = mapping.rewards[r].comparison.holds(value, mapping.rewards[r].threshold)
            }
            if holds && (mapping.rewards[r].action == .set || !rewardHeld[r]) {
                for k in 0..<mapping.rewards[r].levels.count {
                    network.modulate(mapping.rewards[r].levels[k].modulator, to: mapping.rewards[r].levels[k].level)
                }
            }
            rewardHeld[r] = holds
        }
    }

    private func encode(_ frame: SensorFrame) {
        for e in 0..<encoders.count {
            let channelIndex = encoders[e].spec.channelIndex
            let problem: ReadingProblem?
            var raw = Double.nan
            if let r = reading(frame, channelIndex) {
                raw = r
                problem = encoders[e].check(raw: r, channel: mapping.device.sensors[channelIndex])
            } else {
                problem = .missingChannel(channel: mapping.device.sensors[channelIndex].name)
            }
            if let problem {
                counters.readingErrors += 1
                lastReadingProblem = problem
                values[e] = .nan
                encoders[e].reset()
                for n in encoders[e].spec.neurons { inputs[n] = .neutral }
                continue
            }
            let value = encoders[e].spec.calibration.apply(raw)
            values[e] = value
            let neurons = encoders[e].spec.neurons
            inputs.withUnsafeMutableBufferPointer { held in
                encoders[e].encode(value) { k, trit in held[neurons[k]] = trit }
            }
        }
    }
}
