/// Reads and checks a parsed network file, field by field, naming the place of every problem.
struct NetworkFileReader {
    let file: String
    var warnings: [String] = []

    init(file: String) { self.file = file }

    func fail(_ value: JSONValue?, _ location: String, _ message: String) -> NetworkFileError {
        NetworkFileError(file: file, location: location, line: value?.line, column: value?.column, message: message)
    }

    func object(_ value: JSONValue, _ location: String) throws(NetworkFileError) -> [(key: String, value: JSONValue)] {
        guard case .object(let members) = value.kind else { throw fail(value, location, "expected an object, found \(value.typeName)") }
        return members
    }

    func array(_ value: JSONValue, _ location: String) throws(NetworkFileError) -> [JSONValue] {
        guard case .array(let items) = value.kind else { throw fail(value, location, "expected an array, found \(value.typeName)") }
        return items
    }

    func member(_ parent: JSONValue, _ key: String, _ location: String) throws(NetworkFileError) -> JSONValue {
        guard let v = parent[key] else {
            let place = location.isEmpty ? key : "\(location).\(key)"
            throw fail(parent, place, "missing field")
        }
        return v
    }

    func real(_ value: JSONValue, _ location: String) throws(NetworkFileError) -> Double {
        switch value.kind {
        case .real(let d): return d
        case .integer(let i): return Double(i)
        default: throw fail(value, location, "expected a number, found \(value.typeName)")
        }
    }

    func integer(_ value: JSONValue, _ location: String) throws(NetworkFileError) -> Int {
        guard case .integer(let i) = value.kind else { throw fail(value, location, "expected an integer, found \(value.typeName)") }
        return i
    }

    func bool(_ value: JSONValue, _ location: String) throws(NetworkFileError) -> Bool {
        guard case .bool(let b) = value.kind else { throw fail(value, location, "expected true or false, found \(value.typeName)") }
        return b
    }

    func string(_ value: JSONValue, _ location: String) throws(NetworkFileError) -> String {
        guard case .string(let s) = value.kind else { throw fail(value, location, "expected a string, found \(value.typeName)") }
        return s
    }

    func reals(_ value: JSONValue, _ location: String, count: Int) throws(NetworkFileError) -> [Double] {
        let items = try array(value, location)
        guard items.count == count else { throw fail(value, location, "expected \(count) numbers, found \(items.count)") }
        var out: [Double] = []
        out.reserveCapacity(count)
        for (i, item) in items.enumerated() { out.append(try real(item, "\(location)[\(i)]")) }
        return out
    }

    /// The range the step keeps w_fast and w_slow in (Docs/MODEL.md, "One step").
    static let fastSlowRange: ClosedRange<Double> = -1...1
    /// The range the step keeps w_meta in.
    static let metaRange: ClosedRange<Double> = -0.5...0.5

    /// A synapse weight, refused outside the range the step keeps it in: a weight beyond it
    /// (1e308, say) would drive potentials to infinity on the first step.
    func weight(_ value: JSONValue, _ location: String, in range: ClosedRange<Double>) throws(NetworkFileError) -> Double {
        let w = try real(value, location)
        guard range.contains(w) else {
            throw fail(value, location, "\(w) is outside \(range.lowerBound)…\(range.upperBound), the range the network keeps this weight in (Docs/MODEL.md)")
        }
        return w
    }

    func weights(_ value: JSONValue, _ location: String, count: Int, in range: ClosedRange<Double>) throws(NetworkFileError) -> [Double] {
        let items = try array(value, location)
        guard items.count == count else { throw fail(value, location, "expected \(count) numbers, found \(items.count)") }
        var out: [Double] = []
        out.reserveCapacity(count)
        for (i, item) in items.enumerated() { out.append(try weight(item, "\(location)[\(i)]", in: range)) }
        return out
    }

    mutating func readParameters(_ value: JSONValue) throws(NetworkFileError) -> NetworkParameters {
        var p = NetworkParameters()
        let members = try object(value, "parameters")
        for (key, _) in members where NetworkParameters.field(named: key) == nil {
            throw fail(value[key], "parameters.\(key)", "unknown parameter; the parameters are: "
                       + NetworkParameters.fields.map(\.key).joined(separator: ", "))
        }
        for field in NetworkParameters.fields {
            let location = "parameters.\(field.key)"
            guard let v = value[field.key] else {
                if field.key == "network_name" { continue }  // older reference files lack it
                throw fail(value, location, "missing field")
            }
            switch field.kind {
            case .text(let path): p[keyPath: path] = try string(v, location)
            case .integer(let path): p[keyPath: path] = try integer(v, location)
            case .real(let path): p[keyPath: path] = try real(v, location)
            }
        }
        for (key, count) in [("num_input_neurons", p.numInputNeurons), ("num_hidden_neurons", p.numHiddenNeurons),
                             ("num_output_neurons", p.numOutputNeurons)] where count < 1 || count > 100_000 {
            throw fail(value[key], "parameters.\(key)", "\(count) neurons cannot be built; use 1 or more (the valid range is in Docs/MODEL.md)")
        }
        if !(p.dt > 0) { throw fail(value["dt"], "parameters.dt", "dt must be greater than 0 ms") }
        for (key, tau) in [("membrane_time_constant", p.membraneTimeConstant), ("tau_fast", p.tauFast),
                           ("tau_slow", p.tauSlow), ("tau_meta", p.tauMeta)] where !(tau > 0) {
            throw fail(value[key], "parameters.\(key)", "a time constant must be greater than 0 ms")
        }
        for violation in p.validate() {
            warnings.append("\(file): parameters.\(violation); kept as it is in the file")
        }
        return p
    }

    mutating func read(_ root: JSONValue, seed: UInt64?) throws(NetworkFileError) -> NeuraxonNetwork {
        _ = try object(root, "the file")
        let parameters = try readParameters(try member(root, "parameters", ""))
        let extensions = root["extensions"]
        var dynamics = Dynamics.reference
        var fileSeed: UInt64? = seed
        var rng = PythonRandom(seed: seed ?? 0)
        var autoreceptor: [Double]? = nil
        var metadata: [String: String] = [:]
        let n = parameters.neuronCount
        if let ext = extensions {
            _ = try object(ext, "extensions")
            let format = try string(try member(ext, "format", "extensions"), "extensions.format")
            guard format == NetworkFile.extensionFormat else {
                throw fail(ext["format"], "extensions.format", "unknown format \"\(format)\"; expected \"\(NetworkFile.extensionFormat)\"")
            }
            let version = try integer(try member(ext, "version", "extensions"), "extensions.version")
            guard (1...NetworkFile.extensionVersion).contains(version) else {
                throw fail(ext["version"], "extensions.version", "version \(version) is newer than this program reads (\(NetworkFile.extensionVersion)); update neuraxon")
            }
            let d = try member(ext, "dynamics", "extensions")
            dynamics = Dynamics(heldInputs: try bool(try member(d, "held_inputs", "extensions.dynamics"), "extensions.dynamics.held_inputs"),
                                restingWeights: try bool(try member(d, "resting_weights", "extensions.dynamics"), "extensions.dynamics.resting_weights"),
                                norepinephrineGain: try bool(try member(d, "norepinephrine_gain", "extensions.dynamics"), "extensions.dynamics.norepinephrine_gain"))
            if let s = ext["seed"] {
                if case .null = s.kind { fileSeed = nil } else {
                    let value = try integer(s, "extensions.seed")
                    fileSeed = UInt64(UInt(bitPattern: value))
                }
            }
            if let r = ext["random_state"] {
                let words = try array(try member(r, "words", "extensions.random_state"), "extensions.random_state.words")
                var state: [UInt32] = []
                for (i, w) in words.enumerated() {
                    let v = try integer(w, "extensions.random_state.words[\(i)]")
                    guard let word = UInt32(exactly: v) else { throw fail(w, "extensions.random_state.words[\(i)]", "not a 32-bit word") }
                    state.append(word)
                }
                let position = try integer(try member(r, "position", "extensions.random_state"), "extensions.random_state.position")
                guard let restored = PythonRandom(state: state, position: position) else {
                    throw fail(r, "extensions.random_state", "expected \(PythonRandom.stateSize) words and a position in 0…\(PythonRandom.stateSize)")
                }
                rng = restored
            } else {
                rng = PythonRandom(seed: fileSeed ?? 0)
            }
            if let a = ext["autoreceptor"] { autoreceptor = try reals(a, "extensions.autoreceptor", count: n) }
            if let m = ext["metadata"] {
                for (key, value) in try object(m, "extensions.metadata") {
                    metadata[key] = try string(value, "extensions.metadata.\(key)")
                }
            }
        } else if seed == nil {
            warnings.append("\(file): the file has no random generator state (a reference file); seeding it with 0")
        }

        let net = NeuraxonNetwork(uncheckedParameters: parameters, dynamics: dynamics, seed: fileSeed, rng: rng)
        net.metadata = metadata

        // Neurons.
        let neurons = try member(root, "neurons", "")
        var nextId = 0
        for role in NeuronRole.allCases {
            let location = "neurons.\(role.rawValue)"
            let list = try array(try member(neurons, role.rawValue, "neurons"), location)
            let expected = role == .input ? parameters.numInputNeurons : role == .hidden ? parameters.numHiddenNeurons : parameters.numOutputNeurons
            guard list.count == expected else {
                throw fail(neurons[role.rawValue], location, "expected \(expected) neurons (from parameters.num_\(role.rawValue)_neurons), found \(list.count)")
            }
            for (i, item) in list.enumerated() {
                let place = "\(location)[\(i)]"
                let id = try integer(try member(item, "id", place), "\(place).id")
                guard id == nextId else { throw fail(item["id"], "\(place).id", "expected id \(nextId) (ids run inputs, hidden, outputs from 0), found \(id)") }
                if let t = item["type"] {
                    let type = try string(t, "\(place).type")
                    guard type == role.rawValue else { throw fail(t, "\(place).type", "expected \"\(role.rawValue)\", found \"\(type)\"") }
                }
                let v = try real(try member(item, "membrane_potential", place), "\(place).membrane_potential")
                let s = try integer(try member(item, "trinary_state", place), "\(place).trinary_state")
                guard (-1...1).contains(s) else { throw fail(item["trinary_state"], "\(place).trinary_state", "expected -1, 0 or 1, found \(s)") }
                let h = try real(try member(item, "health", place), "\(place).health")
                let isActive = try bool(try member(item, "is_active", place), "\(place).is_active")
                let a = try item["adaptation"].map { (x) throws(NetworkFileError) in try real(x, "\(place).adaptation") } ?? 0
                net.potential[id] = v
                net.state[id] = Int8(s)
                net.health[id] = h
                net.active[id] = isActive
                net.adaptation[id] = a
                nextId += 1
            }
        }
        if let autoreceptor { for id in 0..<n { net.autoreceptor[id] = autoreceptor[id] } }

        // Synapses.
        let synapseList = try array(try member(root, "synapses", ""), "synapses")
        net.reserveSynapses(synapseList.count + max(1024, synapseList.count))
        var restColumns: (fast: [Double], slow: [Double], meta: [Double])? = nil
        if let ext = extensions, let rw = ext["resting_weights"] {
            restColumns = (try weights(try member(rw, "fast", "extensions.resting_weights"), "extensions.resting_weights.fast", count: synapseList.count, in: Self.fastSlowRange),
                           try weights(try member(rw, "slow", "extensions.resting_weights"), "extensions.resting_weights.slow", count: synapseList.count, in: Self.fastSlowRange),
                           try weights(try member(rw, "meta", "extensions.resting_weights"), "extensions.resting_weights.meta", count: synapseList.count, in: Self.metaRange))
        }
        var seen = Set<Int>()
        seen.reserveCapacity(synapseList.count)
        for (k, item) in synapseList.enumerated() {
            let place = "synapses[\(k)]"
            let pre = try integer(try member(item, "pre_id", place), "\(place).pre_id")
            let post = try integer(try member(item, "post_id", place), "\(place).post_id")
            guard (0..<n).contains(pre) else { throw fail(item["pre_id"], "\(place).pre_id", "neuron \(pre) does not exist (ids are 0…\(n - 1))") }
            guard (0..<n).contains(post) else { throw fail(item["post_id"], "\(place).post_id", "neuron \(post) does not exist (ids are 0…\(n - 1))") }
            guard net.wiringAllows(pre: pre, post: post) else {
                throw fail(item, place, pre == post ? "a neuron may not synapse onto itself" : "an output neuron may not synapse onto an input neuron")
            }
            guard seen.insert(pre * n + post).inserted else { throw fail(item, place, "a second synapse \(pre) → \(post); each pair may have one") }
            let f = try weight(try member(item, "w_fast", place), "\(place).w_fast", in: Self.fastSlowRange)
            let s = try weight(try member(item, "w_slow", place), "\(place).w_slow", in: Self.fastSlowRange)
            let m = try weight(try member(item, "w_meta", place), "\(place).w_meta", in: Self.metaRange)
            let isSilent = try bool(try member(item, "is_silent", place), "\(place).is_silent")
            let isModulatory = try bool(try member(item, "is_modulatory", place), "\(place).is_modulatory")
            let integrity = try real(try member(item, "integrity", place), "\(place).integrity")
            var kind: SynapseKind? = nil
            if let t = item["synapse_type"] {
                let name = try string(t, "\(place).synapse_type")
                guard let known = SynapseKind(fileName: name) else {
                    throw fail(t, "\(place).synapse_type", "unknown synapse type \"\(name)\"; expected one of "
                               + SynapseKind.allCases.map(\.fileName).joined(separator: ", "))
                }
                kind = known
            }
            net.appendColumns(Synapse(pre: pre, post: post, wFast: f, wSlow: s, wMeta: m, isSilent: isSilent,
                                      isModulatory: isModulatory, integrity: integrity, kind: kind,
                                      restFast: restColumns?.fast[k] ?? 0, restSlow: restColumns?.slow[k] ?? 0,
                                      restMeta: restColumns?.meta[k] ?? 0))
        }

        // Neuromodulators, time.
        let mods = try member(root, "neuromodulators", "")
        let modMembers = try object(mods, "neuromodulators")
        for (key, value) in modMembers where Neuromodulator(rawValue: key) == nil {
            throw fail(value, "neuromodulators.\(key)", "unknown neuromodulator; the neuromodulators are "
                       + Neuromodulator.allCases.map(\.rawValue).joined(separator: ", "))
        }
        for modulator in Neuromodulator.allCases {
            let level = try real(try member(mods, modulator.rawValue, "neuromodulators"), "neuromodulators.\(modulator.rawValue)")
            if !(0...1).contains(level) { warnings.append("\(file): neuromodulators.\(modulator.rawValue) = \(level) is outside 0…1; kept") }
            net.levels[modulator.index] = level
        }
        net.time = try real(try member(root, "time", ""), "time")
        let steps = try integer(try member(root, "step_count", ""), "step_count")
        guard steps >= 0 else { throw fail(root["step_count"], "step_count", "must not be negative") }
        net.stepCount = steps
        net.rebuildIndexes()
        net.loadedNonPositiveIntegrity = (0..<net.storedSynapseCount).contains { net.integrity[$0] <= 0 }
        net.loadWarnings = warnings
        return net
    }
}
