// NeuraxonEvolution — Aigarth-style evolution of Neuraxon networks.
// Licence: MIT with the Aigarth licence restrictions (no military or dual-use applications);
// see Sources/NeuraxonEvolution/NOTICE.

/// How genomes mutate. The operator weights are relative frequencies; a child receives one
/// operator, then another with probability `extraMutationChance`, and so on (a geometric count,
/// mean 1/(1 − extraMutationChance)).
public struct MutationSettings: Sendable, Equatable, Codable {
    /// The lattice step of the fast and slow resting weights (the metabotropic step is half of
    /// it, as its range is half as wide). A moved weight lands on a multiple of its step, so
    /// repeated steps reach 0 exactly. In (0, 1].
    public var weightStep = 0.25
    /// Relative frequency of moving one weight by one step.
    public var moveWeight = 6.0
    /// Relative frequency of adding a synapse.
    public var addSynapse = 1.0
    /// Relative frequency of removing a synapse.
    public var removeSynapse = 0.5
    /// Relative frequency of flipping a silent or modulatory flag.
    public var flipFlag = 0.5
    /// Relative frequency of jittering one evolvable parameter.
    public var jitterParameter = 1.0
    /// A jittered parameter moves by U(−1, 1)·parameterJitter·(its range's width), then is
    /// clamped to its range. In (0, 1].
    public var parameterJitter = 0.05
    /// Chance of one more operator after each one, in [0, 0.95].
    public var extraMutationChance = 0.5
    /// A weight overflow spawns a hidden neuron only while there are fewer than this many
    /// (at most 1000, the model's limit).
    public var maxHiddenNeurons = 64

    public init() {}

    enum CodingKeys: String, CodingKey {
        case weightStep = "weight_step", moveWeight = "move_weight", addSynapse = "add_synapse"
        case removeSynapse = "remove_synapse", flipFlag = "flip_flag", jitterParameter = "jitter_parameter"
        case parameterJitter = "parameter_jitter", extraMutationChance = "extra_mutation_chance"
        case maxHiddenNeurons = "max_hidden_neurons"
    }

    /// Throws the first setting out of range.
    public func validate() throws(EvolutionError) {
        guard weightStep > 0, weightStep <= 1 else {
            throw .invalidSettings(field: "weight_step", value: "\(weightStep)", fix: "use a step in (0, 1]")
        }
        let weights = [("move_weight", moveWeight), ("add_synapse", addSynapse), ("remove_synapse", removeSynapse),
                       ("flip_flag", flipFlag), ("jitter_parameter", jitterParameter)]
        for (name, w) in weights where !(w.isFinite && w >= 0) {
            throw .invalidSettings(field: name, value: "\(w)", fix: "use a relative frequency ≥ 0")
        }
        guard weights.contains(where: { $0.1 > 0 }) else {
            throw .invalidSettings(field: "move_weight", value: "0", fix: "give at least one mutation operator a frequency above 0")
        }
        guard parameterJitter > 0, parameterJitter <= 1 else {
            throw .invalidSettings(field: "parameter_jitter", value: "\(parameterJitter)", fix: "use a fraction in (0, 1]")
        }
        guard extraMutationChance >= 0, extraMutationChance <= 0.95 else {
            throw .invalidSettings(field: "extra_mutation_chance", value: "\(extraMutationChance)", fix: "use a probability in [0, 0.95]")
        }
        guard (1...1000).contains(maxHiddenNeurons) else {
            throw .invalidSettings(field: "max_hidden_neurons", value: "\(maxHiddenNeurons)", fix: "use 1…1000")
        }
    }

    func frequency(of op: MutationOperator) -> Double {
        switch op {
        case .moveWeight: moveWeight
        case .addSynapse: addSynapse
        case .removeSynapse: removeSynapse
        case .flipFlag: flipFlag
        case .jitterParameter: jitterParameter
        }
    }
}

/// The mutation operators.
public enum MutationOperator: String, Sendable, CaseIterable {
    /// One resting weight moves one lattice step up or down; an overflow spawns a hidden neuron,
    /// a synapse whose three weights reach 0 is removed, and so is a hidden neuron left without
    /// synapses.
    case moveWeight
    /// A synapse between a random allowed pair that has none.
    case addSynapse
    /// A random synapse disappears (and a hidden neuron left without synapses with it).
    case removeSynapse
    /// A random synapse's silent or modulatory flag flips.
    case flipFlag
    /// One evolvable parameter moves by a bounded random amount.
    case jitterParameter
}

/// What one operator did, for tests and statistics.
public enum MutationEffect: Sendable, Equatable {
    case weightMoved(gene: Int, kind: WeightKind)
    case weightSaturated(gene: Int, kind: WeightKind)
    case neuronSpawned(id: Int)
    case synapseAdded(pre: Int, post: Int)
    case synapseRemoved(pre: Int, post: Int)
    case neuronRemoved(id: Int)
    case flagFlipped(gene: Int, silent: Bool)
    case parameterJittered(key: String)
}

extension Genome {
    /// A mutated copy: one operator, then more with probability `extraMutationChance` each.
    public func mutated(_ settings: MutationSettings, using rng: inout EvolutionRandom) -> Genome {
        var child = self
        repeat {
            child.mutate(child.pickOperator(settings, using: &rng), settings, using: &rng)
        } while rng.chance(settings.extraMutationChance)
        return child
    }

    /// Picks an operator with probability proportional to its frequency.
    func pickOperator(_ settings: MutationSettings, using rng: inout EvolutionRandom) -> MutationOperator {
        let total = MutationOperator.allCases.reduce(0) { $0 + settings.frequency(of: $1) }
        var u = rng.unit() * total
        for op in MutationOperator.allCases {
            u -= settings.frequency(of: op)
            if u < 0 { return op }
        }
        return MutationOperator.allCases.last(where: { settings.frequency(of: $0) > 0 }) ?? .moveWeight
    }

    /// Applies one operator in place, keeping every genome rule, and reports what changed.
    @discardableResult
    public mutating func mutate(_ op: MutationOperator, _ settings: MutationSettings,
                                using rng: inout EvolutionRandom) -> [MutationEffect] {
        switch op {
        case .moveWeight: moveWeight(settings, using: &rng)
        case .addSynapse: addSynapse(settings, using: &rng)
        case .removeSynapse: removeSynapse(using: &rng)
        case .flipFlag: flipFlag(using: &rng)
        case .jitterParameter: jitterParameter(settings, using: &rng)
        }
    }

    // MARK: Operators

    /// w ← (round(w/step) ± 1)·step for one weight of a random gene (step halved for the
    /// metabotropic weight, which is chosen only on modulatory synapses). When |w| would exceed
    /// its limit L the weight stays at ±L and, while the hidden layer has room, the overflow
    /// spawns a hidden neuron (see `spawnClone`). When the gene's three weights are then 0 the
    /// gene is removed, and a hidden neuron left without synapses is removed too.
    mutating func moveWeight(_ settings: MutationSettings, using rng: inout EvolutionRandom) -> [MutationEffect] {
        guard !genes.isEmpty else { return addSynapse(settings, using: &rng) }
        let k = rng.below(genes.count)
        let kinds: [WeightKind] = genes[k].isModulatory ? [.fast, .slow, .meta] : [.fast, .slow]
        let kind = kinds[rng.below(kinds.count)]
        let step = kind == .meta ? settings.weightStep / 2 : settings.weightStep
        let direction = rng.sign()
        let moved = ((genes[k][kind] / step).rounded() + direction) * step
        if abs(moved) > kind.limit {
            genes[k][kind] = direction * kind.limit
            guard hiddenCount < min(settings.maxHiddenNeurons, 1000) else { return [.weightSaturated(gene: k, kind: kind)] }
            return [.weightSaturated(gene: k, kind: kind), spawnClone(overflowing: k, kind: kind, direction * step)]
        }
        genes[k][kind] = moved == 0 ? 0 : moved  // no −0
        var effects: [MutationEffect] = [.weightMoved(gene: k, kind: kind)]
        if genes[k].isZero { effects += removeGene(at: k) }
        return effects
    }

    /// The Aigarth growth rule. Gene g = (p → q) overflowed its weight `kind` by `carry`: a new
    /// hidden neuron c (id inputCount + hiddenCount, the outputs moving up by one) clones p —
    /// it receives a copy of every synapse into p (an input neuron, which has no dynamics under
    /// held inputs, is cloned as a relay p → c with fast and slow weights 1) — and carries the
    /// overflow onwards as a new synapse c → q with weight `carry` of the same kind and g's flags.
    mutating func spawnClone(overflowing k: Int, kind: WeightKind, _ carry: Double) -> MutationEffect {
        let c = firstOutputId
        let shift = { (id: Int) in id >= c ? id + 1 : id }
        let source = genes[k]
        let p = shift(source.pre), q = shift(source.post)
        let pIsInput = role(of: source.pre) == .input
        parameters.numHiddenNeurons += 1
        for i in genes.indices {
            genes[i].pre = shift(genes[i].pre)
            genes[i].post = shift(genes[i].post)
        }
        var added: [Gene] = []
        if pIsInput {
            added.append(Gene(pre: p, post: c, fast: 1, slow: 1))
        } else {
            for g in genes where g.post == p && g.pre != c {
                var copy = g
                copy.post = c
                added.append(copy)
            }
        }
        var onward = Gene(pre: c, post: q, fast: 0, isSilent: source.isSilent, isModulatory: source.isModulatory)
        onward[kind] = carry
        added.append(onward)
        genes = (genes + added).sorted(by: Self.geneOrder)
        return .neuronSpawned(id: c)
    }

    /// A synapse between a random allowed pair without one (up to 32 tries), with resting fast
    /// weight ±step, slow 0, and — with probability 0.1 — modulatory with metabotropic weight
    /// ±step/2.
    mutating func addSynapse(_ settings: MutationSettings, using rng: inout EvolutionRandom) -> [MutationEffect] {
        let n = neuronCount
        for _ in 0..<32 {
            let pre = rng.below(n), post = rng.below(n)
            guard wiringAllows(pre: pre, post: post) else { continue }
            let index = insertionIndex(pre: pre, post: post)
            if index < genes.count, genes[index].pre == pre, genes[index].post == post { continue }
            var gene = Gene(pre: pre, post: post, fast: rng.sign() * settings.weightStep)
            if rng.chance(0.1) {
                gene.isModulatory = true
                gene.meta = rng.sign() * settings.weightStep / 2
            }
            genes.insert(gene, at: index)
            return [.synapseAdded(pre: pre, post: post)]
        }
        return []
    }

    /// Removes a random gene, and any hidden neuron it leaves without synapses.
    mutating func removeSynapse(using rng: inout EvolutionRandom) -> [MutationEffect] {
        guard !genes.isEmpty else { return [] }
        return removeGene(at: rng.below(genes.count))
    }

    /// Flips the silent (probability ½) or the modulatory flag of a random gene.
    mutating func flipFlag(using rng: inout EvolutionRandom) -> [MutationEffect] {
        guard !genes.isEmpty else { return [] }
        let k = rng.below(genes.count)
        let silent = rng.chance(0.5)
        if silent { genes[k].isSilent.toggle() } else { genes[k].isModulatory.toggle() }
        return [.flagFlipped(gene: k, silent: silent)]
    }

    /// x ← clamp(x + U(−1, 1)·parameterJitter·(hi − lo), lo, hi) for one evolvable parameter.
    mutating func jitterParameter(_ settings: MutationSettings, using rng: inout EvolutionRandom) -> [MutationEffect] {
        let field = Self.evolvableParameters[rng.below(Self.evolvableParameters.count)]
        guard case .real(let path) = field.kind, let range = field.range else { return [] }
        let delta = (2 * rng.unit() - 1) * settings.parameterJitter * (range.upperBound - range.lowerBound)
        parameters[keyPath: path] = min(range.upperBound, max(range.lowerBound, parameters[keyPath: path] + delta))
        return [.parameterJittered(key: field.key)]
    }

    // MARK: Structure helpers

    /// Where a gene (pre, post) belongs in the sorted gene list.
    func insertionIndex(pre: Int, post: Int) -> Int {
        var lo = 0, hi = genes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if (genes[mid].pre, genes[mid].post) < (pre, post) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Removes gene k, then each of its hidden neurons that no synapse touches any more.
    mutating func removeGene(at k: Int) -> [MutationEffect] {
        let gone = genes.remove(at: k)
        var effects: [MutationEffect] = [.synapseRemoved(pre: gone.pre, post: gone.post)]
        // Higher id first, so removing one does not renumber the other.
        for id in Set([gone.pre, gone.post]).sorted(by: >) where role(of: id) == .hidden && hiddenCount > 1 {
            guard !genes.contains(where: { $0.pre == id || $0.post == id }) else { continue }
            removeHiddenNeuron(id)
            effects.append(.neuronRemoved(id: id))
        }
        return effects
    }

    /// Removes hidden neuron `id`, which no gene touches; every higher id moves down by one.
    mutating func removeHiddenNeuron(_ id: Int) {
        parameters.numHiddenNeurons -= 1
        for i in genes.indices {
            if genes[i].pre > id { genes[i].pre -= 1 }
            if genes[i].post > id { genes[i].post -= 1 }
        }
    }

    // MARK: Crossover

    /// Uniform crossover of two genomes of the same sizes, `self` being the fitter parent:
    /// a synapse both parents have comes from either with probability ½; one only `self` has is
    /// kept; one only `other` has is kept with probability ½; each evolvable parameter comes
    /// from either parent with probability ½. Parents of different sizes give a copy of `self`
    /// (their neuron ids do not correspond).
    public func crossed(with other: Genome, using rng: inout EvolutionRandom) -> Genome {
        guard inputCount == other.inputCount, hiddenCount == other.hiddenCount, outputCount == other.outputCount else {
            return self
        }
        var child = self
        for field in Self.evolvableParameters {
            guard case .real(let path) = field.kind else { continue }
            if rng.chance(0.5) { child.parameters[keyPath: path] = other.parameters[keyPath: path] }
        }
        var merged: [Gene] = []
        merged.reserveCapacity(max(genes.count, other.genes.count))
        var i = 0, j = 0
        while i < genes.count || j < other.genes.count {
            if j == other.genes.count || (i < genes.count && Self.geneOrder(genes[i], other.genes[j])) {
                merged.append(genes[i]); i += 1
            } else if i == genes.count || Self.geneOrder(other.genes[j], genes[i]) {
                if rng.chance(0.5) { merged.append(other.genes[j]) }
                j += 1
            } else {
                merged.append(rng.chance(0.5) ? genes[i] : other.genes[j]); i += 1; j += 1
            }
        }
        child.genes = merged
        return child
    }
}
