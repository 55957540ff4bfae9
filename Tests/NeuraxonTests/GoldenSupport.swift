import Foundation
@testable import Neuraxon

/// One golden case produced by running the published reference (see Golden/README.md).
struct GoldenCase {
    let name: String
    let seed: UInt64
    let parameters: NetworkParameters
    let steps: Int
    let schedule: [Int: JSONValue]
    let initial: JSONValue
    let trajectory: [JSONValue]
    let final: JSONValue

    static let folder: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static let names = ["default-seed0", "default-seed1", "default-seed42", "flowing", "stochastic",
                        "neuron-death", "medium", "deterministic"]

    static func bytes(_ file: String) throws -> [UInt8] {
        Array(try Data(contentsOf: folder.appendingPathComponent(file)))
    }

    static func load(_ name: String) throws -> GoldenCase {
        let root = try JSONParser.parse(try bytes("\(name).json"))
        let reader = NetworkFileReader(file: name)
        var r = reader
        let parameters = try r.readParameters(root["parameters"]!)
        guard case .integer(let seed) = root["seed"]!.kind, case .integer(let steps) = root["steps"]!.kind,
              case .array(let entries) = root["schedule"]!.kind, case .array(let trajectory) = root["trajectory"]!.kind else {
            throw GoldenError.malformed(name)
        }
        var schedule: [Int: JSONValue] = [:]
        for entry in entries {
            guard case .integer(let step) = entry["step"]!.kind else { throw GoldenError.malformed(name) }
            schedule[step] = entry
        }
        return GoldenCase(name: name, seed: UInt64(seed), parameters: parameters, steps: steps, schedule: schedule,
                          initial: root["initial"]!, trajectory: trajectory, final: root["final"]!)
    }

    /// Applies the schedule entry of `step` the way the reference process did: inputs, then
    /// neuromodulators in file order, then the step with the external currents.
    func runStep(_ step: Int, on net: NeuraxonNetwork) {
        var external: [Int: Double] = [:]
        if let entry = schedule[step] {
            if case .array(let inputs)? = entry["inputs"]?.kind {
                net.setInputStates(inputs.map { v -> Trit in
                    if case .integer(let i) = v.kind { return Trit(i)! }
                    return .neutral
                })
            }
            if case .object(let levels)? = entry["modulate"]?.kind {
                for (name, v) in levels { try! net.modulate(name, to: v.number) }
            }
            if case .object(let currents)? = entry["external"]?.kind {
                for (id, v) in currents { external[Int(id)!] = v.number }
            }
        }
        if external.isEmpty { net.simulateStep() } else { net.simulateStep(externalCurrents: external) }
    }
}

enum GoldenError: Error { case malformed(String) }

extension JSONValue {
    var number: Double {
        switch kind {
        case .real(let d): d
        case .integer(let i): Double(i)
        default: .nan
        }
    }
    var integerValue: Int? { if case .integer(let i) = kind { i } else { nil } }
    var boolValue: Bool? { if case .bool(let b) = kind { b } else { nil } }
    var stringValue: String? { if case .string(let s) = kind { s } else { nil } }
    var items: [JSONValue] { if case .array(let a) = kind { a } else { [] } }
}

/// A double from its 16-hex-digit big-endian IEEE-754 bit pattern.
func doubleFromHex(_ hex: String) -> Double { Double(bitPattern: UInt64(hex, radix: 16)!) }

/// Differences between a network and a reference `to_dict()`: neurons and synapses, bit for bit.
func differences(_ net: NeuraxonNetwork, _ dict: JSONValue, checkTypes: Bool = true) -> [String] {
    var out: [String] = []
    func bits(_ v: JSONValue?) -> UInt64 { (v?.number ?? .nan).bitPattern }
    func int(_ v: JSONValue?) -> Int { v?.integerValue ?? Int.min }
    func flag(_ v: JSONValue?) -> Bool? { v?.boolValue }
    var id = 0
    for role in ["input", "hidden", "output"] {
        let list = dict["neurons"]?[role]?.items ?? []
        for neuron in list {
            let n = net.neuron(id)
            if n.potential.bitPattern != bits(neuron["membrane_potential"]) { out.append("neuron \(id) V") }
            if n.state.value != int(neuron["trinary_state"]) { out.append("neuron \(id) s") }
            if n.health.bitPattern != bits(neuron["health"]) { out.append("neuron \(id) health") }
            if n.adaptation.bitPattern != bits(neuron["adaptation"]) { out.append("neuron \(id) adaptation") }
            if flag(neuron["is_active"]) != n.isActive { out.append("neuron \(id) active") }
            id += 1
        }
    }
    let ours = net.synapses()
    let theirs = dict["synapses"]?.items ?? []
    if ours.count != theirs.count { out.append("synapse count \(ours.count) vs \(theirs.count)"); return out }
    for k in 0..<ours.count {
        let a = ours[k], b = theirs[k]
        if a.pre != int(b["pre_id"]) || a.post != int(b["post_id"]) { out.append("synapse \(k) ends"); continue }
        if a.wFast.bitPattern != bits(b["w_fast"]) || a.wSlow.bitPattern != bits(b["w_slow"])
            || a.wMeta.bitPattern != bits(b["w_meta"]) { out.append("synapse \(k) weights") }
        if a.integrity.bitPattern != bits(b["integrity"]) { out.append("synapse \(k) integrity") }
        if flag(b["is_silent"]) != a.isSilent || flag(b["is_modulatory"]) != a.isModulatory { out.append("synapse \(k) flags") }
        if checkTypes, (b["synapse_type"]?.stringValue ?? "") != a.kind.fileName { out.append("synapse \(k) type") }
    }
    for m in Neuromodulator.allCases where net.level(of: m).bitPattern != bits(dict["neuromodulators"]?[m.rawValue]) {
        out.append("neuromodulator \(m.rawValue)")
    }
    if net.stepCount != int(dict["step_count"]) { out.append("step_count") }
    if net.time.bitPattern != bits(dict["time"]) { out.append("time") }
    return out
}
