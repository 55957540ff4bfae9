import Foundation

/// What to apply to a network before given steps: input states, external currents and
/// neuromodulator levels. The text form is JSON Lines, one entry per line:
///
/// ```
/// {"step": 0, "inputs": [1, -1, 0, 1, -1]}
/// {"steps": [10, 19], "inputs": [1, 1, 1, 1, 1], "external": {"7": 0.5}}
/// {"step": 50, "modulate": {"dopamine": 0.8}}
/// ```
///
/// `step` (or the inclusive range `steps`) counts steps of this run from 0. Before each step,
/// every entry covering it is applied in file order: `inputs` as `setInputStates` (so they stay
/// until the network changes them, as in the reference), `modulate` as `modulate(_:to:)`, and
/// `external` as the external currents of that one step (neuron id → current). Blank lines and
/// lines starting with `#` are ignored.
public struct StepSchedule: Sendable {
    public struct Entry: Sendable, Equatable {
        public var steps: ClosedRange<Int>
        public var inputs: [Trit]?
        public var external: [Int: Double]
        public var modulate: [(Neuromodulator, Double)]

        public static func == (a: Entry, b: Entry) -> Bool {
            a.steps == b.steps && a.inputs == b.inputs && a.external == b.external
                && a.modulate.map(\.0) == b.modulate.map(\.0) && a.modulate.map(\.1) == b.modulate.map(\.1)
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry] = []) { self.entries = entries }

    /// Parses the JSON Lines text; errors name the line and the field.
    public static func parse(_ text: String, neuronCount: Int? = nil) throws(ScheduleError) -> StepSchedule {
        var entries: [Entry] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let trimmed = rawLine.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let value: JSONValue
            do { value = try JSONParser.parse(Array(trimmed.utf8)) } catch {
                throw ScheduleError(line: line, message: "not valid JSON: \(error.message)")
            }
            guard case .object(let members) = value.kind else { throw ScheduleError(line: line, message: "expected an object") }
            var entry = Entry(steps: 0...0, inputs: nil, external: [:], modulate: [])
            var sawStep = false
            for (key, v) in members {
                switch key {
                case "step":
                    guard case .integer(let k) = v.kind, k >= 0 else { throw ScheduleError(line: line, message: "\"step\" must be a whole number ≥ 0") }
                    entry.steps = k...k
                    sawStep = true
                case "steps":
                    guard case .array(let bounds) = v.kind, bounds.count == 2,
                          case .integer(let a) = bounds[0].kind, case .integer(let b) = bounds[1].kind, a >= 0, b >= a else {
                        throw ScheduleError(line: line, message: "\"steps\" must be [first, last] with 0 ≤ first ≤ last")
                    }
                    entry.steps = a...b
                    sawStep = true
                case "inputs":
                    guard case .array(let items) = v.kind else { throw ScheduleError(line: line, message: "\"inputs\" must be an array of -1, 0 and 1") }
                    var trits: [Trit] = []
                    for (i, item) in items.enumerated() {
                        guard case .integer(let t) = item.kind, let trit = Trit(t) else {
                            throw ScheduleError(line: line, message: "inputs[\(i)] must be -1, 0 or 1")
                        }
                        trits.append(trit)
                    }
                    entry.inputs = trits
                case "external":
                    guard case .object(let currents) = v.kind else { throw ScheduleError(line: line, message: "\"external\" must map neuron ids to currents") }
                    for (idText, c) in currents {
                        guard let id = Int(idText), id >= 0, neuronCount.map({ id < $0 }) ?? true else {
                            throw ScheduleError(line: line, message: "external: \"\(idText)\" is not a neuron id" + (neuronCount.map { " (0…\($0 - 1))" } ?? ""))
                        }
                        let current: Double
                        switch c.kind {
                        case .integer(let i): current = Double(i)
                        case .real(let d): current = d
                        default: throw ScheduleError(line: line, message: "external[\"\(idText)\"] must be a number")
                        }
                        entry.external[id] = current
                    }
                case "modulate":
                    guard case .object(let levels) = v.kind else { throw ScheduleError(line: line, message: "\"modulate\" must map neuromodulator names to levels") }
                    for (name, l) in levels {
                        guard let modulator = Neuromodulator(rawValue: name) else {
                            throw ScheduleError(line: line, message: "unknown neuromodulator \"\(name)\"; the neuromodulators are "
                                                + Neuromodulator.allCases.map(\.rawValue).joined(separator: ", "))
                        }
                        let level: Double
                        switch l.kind {
                        case .integer(let i): level = Double(i)
                        case .real(let d): level = d
                        default: throw ScheduleError(line: line, message: "modulate.\(name) must be a number")
                        }
                        entry.modulate.append((modulator, level))
                    }
                    entry.modulate.sort { $0.0.index < $1.0.index }
                default:
                    throw ScheduleError(line: line, message: "unknown key \"\(key)\"; the keys are step, steps, inputs, external, modulate")
                }
            }
            guard sawStep else { throw ScheduleError(line: line, message: "missing \"step\" (or \"steps\": [first, last])") }
            entries.append(entry)
        }
        return StepSchedule(entries: entries)
    }

    /// Applies every entry covering `step` (0-based within the run) and returns the external
    /// currents that step should receive.
    public func apply(before step: Int, to network: NeuraxonNetwork) -> [Int: Double] {
        var external: [Int: Double] = [:]
        for entry in entries where entry.steps.contains(step) {
            if let inputs = entry.inputs { network.setInputStates(inputs) }
            for (modulator, level) in entry.modulate { network.modulate(modulator, to: level) }
            external.merge(entry.external) { _, new in new }
        }
        return external
    }
}

/// A schedule line that cannot be used.
public struct ScheduleError: Error, Sendable, CustomStringConvertible {
    public let line: Int
    public let message: String
    public var description: String { "line \(line): \(message)" }
}

extension NeuraxonNetwork {
    /// One JSON Lines record of the network's state after a step: step count, time (ms), every
    /// neuron's state and membrane potential (shortest text that reads back to the same
    /// double), the neuromodulator levels, and the synapse and active-neuron counts.
    public func traceLine() -> String {
        var out = "{\"step\": \(stepCount), \"time\": \(JSONWriter.real(time)), \"states\": ["
        for id in 0..<neuronCount {
            if id > 0 { out += ", " }
            out += String(state[id])
        }
        out += "], \"potentials\": ["
        for id in 0..<neuronCount {
            if id > 0 { out += ", " }
            out += JSONWriter.real(potential[id])
        }
        out += "], \"neuromodulators\": {"
        for m in Neuromodulator.allCases {
            if m.index > 0 { out += ", " }
            out += "\"\(m.rawValue)\": \(JSONWriter.real(levels[m.index]))"
        }
        out += "}, \"synapses\": \(synapseCount), \"active_neurons\": \(activeNeuronCount)}"
        return out
    }

    /// A short health summary: sizes, synapse counts by kind, firing, and warnings worth a look.
    public func summary() -> NetworkSummary {
        var byKind = [SynapseKind: Int]()
        let live = liveSynapseIndices
        for k in live { byKind[SynapseKind(rawValue: kind[k]) ?? .ionotropicSlow, default: 0] += 1 }
        var firing = [NeuronRole: (plus: Int, minus: Int)]()
        var lowHealth = 0
        for id in 0..<neuronCount where active[id] {
            let r = role(of: id)
            var f = firing[r] ?? (0, 0)
            if state[id] > 0 { f.plus += 1 } else if state[id] < 0 { f.minus += 1 }
            firing[r] = f
            if health[id] < parameters.neuronDeathThreshold * 2 { lowHealth += 1 }
        }
        let fading = live.filter { abs(wFast[$0]) < 0.01 && abs(wSlow[$0]) < 0.01 }.count
        return NetworkSummary(inputs: inputCount, hidden: hiddenCount, outputs: outputCount, activeNeurons: activeNeuronCount,
                              synapses: synapseCount, synapsesByKind: byKind, firing: firing,
                              neuronsNearDeath: lowHealth, fadingSynapses: fading)
    }
}

/// Counts that describe a network at a glance.
public struct NetworkSummary: Sendable {
    public let inputs, hidden, outputs, activeNeurons, synapses: Int
    public let synapsesByKind: [SynapseKind: Int]
    /// Neurons currently at +1 and at −1, by role.
    public let firing: [NeuronRole: (plus: Int, minus: Int)]
    /// Active neurons whose health is below twice the death threshold.
    public let neuronsNearDeath: Int
    /// Synapses whose fast and slow weights are both below 0.01 (losing integrity).
    public let fadingSynapses: Int
}
