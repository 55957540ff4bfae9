/// Building, growing and pruning the synapse list, and the indexes the step reads.
extension NeuraxonNetwork {
    /// Whether a synapse pre → post is allowed by the wiring rules: no self-synapse and no
    /// output → input synapse.
    public func wiringAllows(pre: Int, post: Int) -> Bool {
        Self.wiringAllows(pre: pre, post: post, inputCount: inputCount, hiddenCount: hiddenCount)
    }

    /// The wiring rules for any network with these sizes (ids: inputs, then hidden, then
    /// outputs): no self-synapse and no output → input synapse.
    public static func wiringAllows(pre: Int, post: Int, inputCount: Int, hiddenCount: Int) -> Bool {
        pre != post && !(pre >= inputCount + hiddenCount && post < inputCount)
    }

    /// The reference's initial wiring (see `init(parameters:dynamics:seed:)`).
    func wireRandomly() {
        let n = neuronCount
        let p = parameters.connectionProbability
        let expected = Int(Double(n * n) * min(1, p) * 1.1) + 64
        reserveSynapses(expected + max(1024, expected))
        for pre in 0..<n {
            for post in 0..<n where wiringAllows(pre: pre, post: post) {
                if draw() < p {
                    appendRandomSynapse(pre: pre, post: post, restsAtInitialWeights: dynamics.restingWeights)
                }
            }
        }
        rebuildIndexes()
    }

    /// Appends a synapse drawn like the reference's `Synapse(pre, post)`: w_fast, w_slow, w_meta
    /// uniform in their init ranges, then silent (U < 0.1), then modulatory (U < 0.2).
    func appendRandomSynapse(pre: Int, post: Int, restsAtInitialWeights: Bool) {
        let p = parameters
        let f = drawUniform(p.wFastInitMin, p.wFastInitMax)
        let s = drawUniform(p.wSlowInitMin, p.wSlowInitMax)
        let m = drawUniform(p.wMetaInitMin, p.wMetaInitMax)
        let isSilent = draw() < 0.1
        let isModulatory = draw() < 0.2
        appendColumns(Synapse(pre: pre, post: post, wFast: f, wSlow: s, wMeta: m, isSilent: isSilent,
                              isModulatory: isModulatory, integrity: 1,
                              restFast: restsAtInitialWeights ? f : 0, restSlow: restsAtInitialWeights ? s : 0,
                              restMeta: restsAtInitialWeights ? m : 0))
    }

    /// Appends a synapse's values to the columns (indexes are not updated).
    func appendColumns(_ syn: Synapse) {
        synPre.append(Int32(syn.pre))
        synPost.append(Int32(syn.post))
        wFast.append(syn.wFast)
        wSlow.append(syn.wSlow)
        wMeta.append(syn.wMeta)
        restFast.append(syn.restFast)
        restSlow.append(syn.restSlow)
        restMeta.append(syn.restMeta)
        integrity.append(syn.integrity)
        silent.append(syn.isSilent)
        modulatory.append(syn.isModulatory)
        kind.append(syn.kind.rawValue)
        keepMask.append(true)
        liveMask.append(1)
    }

    /// Makes room for `capacity` synapses in every synapse column.
    func reserveSynapses(_ capacity: Int) {
        for column in [wFast, wSlow, wMeta, restFast, restSlow, restMeta, integrity] { column.reserve(capacity) }
        for column in [synPre, synPost, modulatoryIndices, unsilenceCandidates] { column.reserve(capacity) }
        silent.reserve(capacity)
        modulatory.reserve(capacity)
        keepMask.reserve(capacity)
        liveMask.reserve(capacity)
        kind.reserve(capacity)
        plasticIndex.reserve(capacity)
        plasticSign.reserve(capacity)
        plasticScratch.reserve(4 * capacity)
    }

    /// Recomputes the sorted prefix, the per-neuron ranges into it, the modulatory index and
    /// the list of active neurons. O(synapses + neurons); called only when the list changes.
    func rebuildIndexes() {
        let count = storedSynapseCount
        var end = 0
        while end < count, end == 0 || synPre[end] >= synPre[end - 1] { end += 1 }
        sortedPrefix = end
        preStart.fill(0)
        for k in 0..<end { preStart[Int(synPre[k]) + 1] += 1 }
        for p in 0..<neuronCount { preStart[p + 1] += preStart[p] }
        modulatoryIndices.removeAll()
        for k in 0..<count where modulatory[k] { modulatoryIndices.append(Int32(k)) }
        rebuildActiveIds()
    }

    func rebuildActiveIds() {
        activeIds.removeAll()
        for id in 0..<neuronCount where active[id] { activeIds.append(Int32(id)) }
        deadNeurons = neuronCount - activeIds.count
    }

    /// Whether a synapse pre → post exists. O(out-degree of pre + tail length).
    func synapseExists(pre: Int, post: Int) -> Bool {
        let target = Int32(post)
        for k in Int(preStart[pre])..<Int(preStart[pre + 1]) where synPost[k] == target && integrity[k] != Self.tombstone {
            return true
        }
        let source = Int32(pre)
        for k in sortedPrefix..<storedSynapseCount
        where synPre[k] == source && synPost[k] == target && integrity[k] != Self.tombstone {
            return true
        }
        return false
    }

    /// Prunes every synapse whose integrity is at or below synapse_integrity_threshold, as the
    /// reference's list filter does: each becomes a tombstone (skipped by every loop, absent from
    /// every count and snapshot), and the columns are compacted, in order, once tombstones make
    /// up an eighth of them. Returns how many synapses were pruned.
    @discardableResult
    func pruneSynapses() -> Int {
        let threshold = parameters.synapseIntegrityThreshold
        let integrity = integrity.base
        var pruned = 0
        for k in 0..<storedSynapseCount where integrity[k] <= threshold && integrity[k] != Self.tombstone {
            integrity[k] = Self.tombstone
            pruned += 1
        }
        tombstones += pruned
        // Every synapse left now has integrity > threshold.
        loadedNonPositiveIntegrity = false
        if tombstones > 0, tombstones * 8 >= storedSynapseCount { removeTombstones() }
        return pruned
    }

    /// Removes the tombstones from the columns, keeping order, and rebuilds the indexes.
    /// - Complexity: O(stored synapses + neurons).
    func removeTombstones() {
        guard tombstones > 0 else { return }
        for k in 0..<storedSynapseCount { keepMask[k] = integrity[k] != Self.tombstone }
        let keep = UnsafePointer(keepMask.base)
        // Column by column, without collecting them in an array: this runs inside the step.
        wFast.compact(keep: keep)
        wSlow.compact(keep: keep)
        wMeta.compact(keep: keep)
        restFast.compact(keep: keep)
        restSlow.compact(keep: keep)
        restMeta.compact(keep: keep)
        integrity.compact(keep: keep)
        synPre.compact(keep: keep)
        synPost.compact(keep: keep)
        silent.compact(keep: keep)
        modulatory.compact(keep: keep)
        kind.compact(keep: keep)
        liveMask.compact(keep: keep)
        keepMask.compact(keep: keep)
        tombstones = 0
        rebuildIndexes()
    }

    /// One attempt at forming a synapse, as in the reference: draw U; if U < synapse_formation_prob
    /// and at least two neurons are active, pick pre and post with `choice` over the active
    /// neurons (id order); if the wiring rules allow it and no synapse pre → post exists, append a
    /// new random synapse.
    func attemptSynapseFormation() {
        guard draw() < parameters.synapseFormationProb else { return }
        let activeCount = neuronCount - deadNeurons
        guard activeCount >= 2 else { return }
        let i = drawBelow(activeCount)
        let j = drawBelow(activeCount)
        let pre = deadNeurons == 0 ? i : Int(activeIds[i])
        let post = deadNeurons == 0 ? j : Int(activeIds[j])
        guard wiringAllows(pre: pre, post: post), !synapseExists(pre: pre, post: post) else { return }
        let stored = storedSynapseCount
        let extendsPrefix = sortedPrefix == stored && (stored == 0 || Int32(pre) >= synPre[stored - 1])
        appendRandomSynapse(pre: pre, post: post, restsAtInitialWeights: false)
        let k = stored
        if modulatory[k] { modulatoryIndices.append(Int32(k)) }
        if extendsPrefix {
            sortedPrefix = storedSynapseCount
            for p in (pre + 1)...neuronCount { preStart[p] += 1 }
        }
    }
}
