/// The step: one dt of network time, in the reference's fixed order.
extension NeuraxonNetwork {
    /// Advances the network by one step of dt ms.
    ///
    /// 1. **Gather**, from the previous step's states, for each synapse in list order whose
    ///    integrity is > 0 and whose pre neuron is active: current I = (w_fast + w_slow)·s_pre
    ///    (0 if silent) into S_post, and, if modulatory (even silent), w_meta into M_post.
    /// 2. **Neurons**, active ones in id order (inputs skipped under held inputs):
    ///    ξ = U(−0.5, 0.5) with probability spontaneous_firing_rate·dt, else 0;
    ///    V ← V + dt/τm·(−V + g·S + ext − a + ξ) (g = 1 + 0.4·(NE − 0.5) with the norepinephrine
    ///    gain, else 1); a ← a + dt/100·(−a + 0.1·|s|); r ← r + dt/200·(−r + 0.2·s) (old s);
    ///    Δθ = (ACh − 0.5)·0.5 + 0.3·M; θ+ = θE − Δθ − 0.1·r; θ− = θI − Δθ + 0.1·r;
    ///    s ← +1 if V > θ+, −1 if V < θ−, else 0; health h ← h − decay·dt if |V|/2 < 0.01,
    ///    else min(1, h + 0.0005·dt); a hidden neuron with h < neuron_death_threshold dies with
    ///    probability 0.001.
    /// 3. **Synapses**, in list order, skipping those with integrity ≤ 0 or an inactive end,
    ///    with this step's states: Δw = +η·DA for (s_pre, s_post) = (1, 1), −η·DA for (1, −1),
    ///    else 0; w_fast ← clamp(w_fast + dt/τf·(−(w_fast − rest) + 0.3·Δw), ±1);
    ///    w_slow ← clamp(w_slow + dt/τs·(−(w_slow − rest) + 0.1·Δw), ±1);
    ///    w_meta ← clamp(w_meta + dt/τmeta·(−(w_meta − rest) + 0.05·Δw·5HT), ±0.5)
    ///    (rest = 0 unless resting weights are on); integrity −= synapse_death_prob·dt when
    ///    |w_fast| and |w_slow| are both < 0.01, else min(1, integrity + 0.001·dt); a silent
    ///    synapse with (1, 1) is unsilenced with probability 0.01.
    /// 4. **Neuromodulators**: L ← L + (baseline − L)·neuromod_decay_rate·dt/100.
    /// 5. **Structure**: synapses with integrity ≤ synapse_integrity_threshold are removed;
    ///    one formation attempt.
    /// 6. time += dt; step count += 1.
    ///
    /// Every arithmetic expression is evaluated in the reference's order, so results are
    /// bit-identical to it. Random draws happen in the reference's order and only where it
    /// draws. The STDP traces of the reference are not kept: nothing reads them.
    public func simulateStep() {
        gatherSynapticInput()
        updateNeurons()
        let belowThreshold = updateSynapses()
        relaxNeuromodulators()
        if belowThreshold { pruneSynapses() }
        attemptSynapseFormation()
        time += parameters.dt
        stepCount += 1
    }

    /// Step 1. Exactness: each neuron's sums receive their terms in synapse list order. The
    /// sorted prefix is walked neuron by neuron (its synapses for one post neuron appear in pre
    /// order, which is list order), then the tail in list order. Terms that are ±0 (a silent
    /// synapse, a neutral pre neuron) are skipped: adding them never changes a sum that starts
    /// at +0.
    @inline(__always) func gatherSynapticInput() {
        let n = neuronCount
        let sum = synapticSum.base, mod = modulatorySum.base
        sum.update(repeating: 0, count: n)
        mod.update(repeating: 0, count: n)
        let state = state.base, active = active.base
        let pre = synPre.base, post = synPost.base
        let wf = wFast.base, ws = wSlow.base, wm = wMeta.base
        let integrity = integrity.base, silent = silent.base
        let starts = preStart.base
        for p in 0..<n {
            let s = state[p]
            guard s != 0, active[p] else { continue }
            let sp = Double(s)
            for k in Int(starts[p])..<Int(starts[p + 1]) where integrity[k] > 0 && !silent[k] {
                sum[Int(post[k])] += (wf[k] + ws[k]) * sp
            }
        }
        for k in sortedPrefix..<storedSynapseCount {
            let p = Int(pre[k])
            let s = state[p]
            if s != 0, active[p], integrity[k] > 0, !silent[k] {
                sum[Int(post[k])] += (wf[k] + ws[k]) * Double(s)
            }
        }
        let mods = modulatoryIndices.base
        for i in 0..<modulatoryIndices.count {
            let k = Int(mods[i])
            let w = wm[k]
            if w != 0, integrity[k] > 0, active[Int(pre[k])] { mod[Int(post[k])] += w }
        }
    }

    /// Step 2.
    @inline(__always) func updateNeurons() {
        let p = parameters
        let dt = p.dt
        let kV = dt / p.membraneTimeConstant
        let kA = dt / 100.0
        let kR = dt / 200.0
        let spontaneousChance = p.spontaneousFiringRate * dt
        let healthLoss = p.neuronHealthDecay * dt
        let healthGain = 0.0005 * dt
        let thetaE = p.firingThresholdExcitatory, thetaI = p.firingThresholdInhibitory
        let thresholdShift = (levels[Neuromodulator.acetylcholine.index] - 0.5) * 0.5
        let gain = 1 + 0.4 * (levels[Neuromodulator.norepinephrine.index] - 0.5)
        let useGain = dynamics.norepinephrineGain
        let firstHidden = inputCount, firstOutput = inputCount + hiddenCount
        let deathThreshold = p.neuronDeathThreshold
        let V = potential.base, s = state.base, a = adaptation.base, r = autoreceptor.base
        let h = health.base, active = active.base, ext = externalCurrent.base
        let sum = synapticSum.base, mod = modulatorySum.base
        var died = false
        for i in (dynamics.heldInputs ? firstHidden : 0)..<neuronCount where active[i] {
            let synaptic = useGain ? sum[i] * gain : sum[i]
            var noise = 0.0
            if draw() < spontaneousChance { noise = drawUniform(-0.5, 0.5) }
            let v = V[i] + kV * (-V[i] + synaptic + ext[i] - a[i] + noise)
            V[i] = v
            let old = Double(s[i])
            a[i] = a[i] + kA * (-a[i] + 0.1 * abs(old))
            let rNew = r[i] + kR * (-r[i] + 0.2 * old)
            r[i] = rNew
            let shift = thresholdShift + mod[i] * 0.3
            let upper = thetaE - shift - 0.1 * rNew
            let lower = thetaI - shift + 0.1 * rNew
            s[i] = v > upper ? 1 : (v < lower ? -1 : 0)
            if abs(v) / 2.0 < 0.01 {
                h[i] = h[i] - healthLoss
            } else {
                let grown = h[i] + healthGain
                h[i] = grown < 1.0 ? grown : 1.0
            }
            if i >= firstHidden, i < firstOutput, h[i] < deathThreshold, draw() < 0.001 {
                active[i] = false
                died = true
            }
        }
        if died { rebuildActiveIds() }
    }

    /// Step 3. Pass one marks the synapses whose pre neuron fired (+1) with the post neuron's
    /// state, and collects the silent ones with (1, 1) in list order; pass two updates every
    /// synapse with straight-line arithmetic; pass three draws the unsilencing chances.
    @inline(__always) func updateSynapses() -> Bool {
        let count = storedSynapseCount
        guard count > 0 else { return false }
        let p = parameters
        let n = neuronCount
        let state = state.base, active = active.base
        let pre = synPre.base, post = synPost.base
        let code = plasticityCode.base, silent = silent.base, integrity = integrity.base
        let starts = preStart.base
        let allActive = deadNeurons == 0
        let belowThreshold: Bool
        unsilenceCandidates.removeAll()

        @inline(__always) func mark(_ k: Int) {
            let q = Int(post[k])
            guard active[q] else { return }
            let sq = state[q]
            code[k] = Double(sq)
            if sq == 1, silent[k], integrity[k] > 0 { unsilenceCandidates.append(Int32(k)) }
        }
        for i in 0..<n where state[i] == 1 && active[i] {
            for k in Int(starts[i])..<Int(starts[i + 1]) { mark(k) }
        }
        for k in sortedPrefix..<count {
            let i = Int(pre[k])
            if state[i] == 1, active[i] { mark(k) }
        }

        let dt = p.dt
        let learning = p.learningRate * levels[Neuromodulator.dopamine.index]
        let steps = PlasticitySteps(
            fast: learning * 0.3, slow: learning * 0.1,
            meta: learning * 0.05 * levels[Neuromodulator.serotonin.index],
            kFast: dt / p.tauFast, kSlow: dt / p.tauSlow, kMeta: dt / p.tauMeta,
            integrityLoss: p.synapseDeathProb * dt, integrityGain: 0.001 * dt,
            pruneThreshold: p.synapseIntegrityThreshold)
        let columns = SynapseColumns(
            wf: wFast.base, ws: wSlow.base, wm: wMeta.base, rf: restFast.base, rs: restSlow.base, rm: restMeta.base,
            integrity: integrity, code: code)
        // Four specialisations of one loop: the common case (every neuron alive, weights
        // relaxing to 0) reads no activity flags and no resting weights.
        let rest = dynamics.restingWeights
        switch (allActive, rest) {
        case (true, false): belowThreshold = columns.update(count: count, steps, resting: false) { _ in true }
        case (true, true): belowThreshold = columns.update(count: count, steps, resting: true) { _ in true }
        case (false, let r):
            belowThreshold = columns.update(count: count, steps, resting: r) { k in active[Int(pre[k])] && active[Int(post[k])] }
        }
        let wf = wFast.base, ws = wSlow.base

        let candidates = unsilenceCandidates.base
        for i in 0..<unsilenceCandidates.count where draw() < 0.01 {
            let k = Int(candidates[i])
            silent[k] = false
            kind[k] = SynapseKind.classify(silent: false, modulatory: modulatory[k], wFast: wf[k], wSlow: ws[k]).rawValue
        }
        return belowThreshold
    }

    /// Step 4: L ← L + (baseline − L)·neuromod_decay_rate·dt/100, in the reference's order of
    /// operations.
    @inline(__always) func relaxNeuromodulators() {
        let rate = parameters.neuromodDecayRate, dt = parameters.dt
        let levels = levels.base, baselines = baselines.base
        for i in 0..<4 {
            let level = levels[i]
            levels[i] = level + (baselines[i] - level) * rate * dt / 100.0
        }
    }
}

/// The per-step constants of the synapse update.
struct PlasticitySteps {
    /// 0.3·η·DA, 0.1·η·DA and 0.05·η·DA·5HT: the plasticity terms for Δw = +η·DA.
    let fast, slow, meta: Double
    /// dt/τf, dt/τs, dt/τmeta.
    let kFast, kSlow, kMeta: Double
    /// synapse_death_prob·dt and 0.001·dt.
    let integrityLoss, integrityGain: Double
    let pruneThreshold: Double
}

/// Raw pointers to the synapse columns the update writes.
struct SynapseColumns {
    let wf, ws, wm, rf, rs, rm, integrity, code: UnsafeMutablePointer<Double>

    typealias Lanes = SIMD4<Double>

    @inline(__always) private func load(_ p: UnsafeMutablePointer<Double>, _ k: Int) -> Lanes {
        UnsafeRawPointer(p + k).loadUnaligned(as: Lanes.self)
    }

    @inline(__always) private func store(_ v: Lanes, _ p: UnsafeMutablePointer<Double>, _ k: Int) {
        UnsafeMutableRawPointer(p + k).storeBytes(of: v, as: Lanes.self)
    }

    /// `x < hi ? x : hi` then `x > lo ? x : lo` lane by lane: Python's max(lo, min(hi, x)).
    @inline(__always) private func clamp(_ x: Lanes, _ lo: Double, _ hi: Double) -> Lanes {
        let capped = x.replacing(with: hi, where: .!(x .< hi))
        return capped.replacing(with: lo, where: .!(capped .> lo))
    }

    /// Updates every live synapse (integrity > 0 and `isLive(k)`), four at a time, and clears
    /// its plasticity code. Lanes past `count` fall in the columns' padding. Every lane computes
    /// exactly the scalar expressions of `NeuraxonNetwork.simulateStep()`'s step 3:
    /// Δ = code·c + 0 (so no plasticity gives +0, as the reference's Δw = 0.0 does), and
    /// w ← clamp(w + k·(−(w − rest) + Δ)). Returns whether any synapse that is not yet pruned
    /// now has integrity ≤ the pruning threshold.
    @inline(__always)
    func update(count: Int, _ c: PlasticitySteps, resting: Bool, isLive: (Int) -> Bool) -> Bool {
        typealias Mask = SIMDMask<SIMD4<Int64>>
        let tombstone = -Double.infinity  // NeuraxonNetwork.tombstone, as a literal the loop keeps in a register
        // Without resting weights, rest = 0 and −(w − 0) = −w exactly, so the loads are skipped.
        @inline(__always) func rest(_ p: UnsafeMutablePointer<Double>, _ k: Int) -> Lanes {
            resting ? load(p, k) : Lanes(repeating: 0)
        }
        @inline(__always) func lanes(_ k: Int, valid: Mask) -> Mask {
            let g = load(integrity, k)
            var live = (g .> 0) .& valid
            for i in 0..<4 where live[i] && !isLive(k + i) { live[i] = false }
            let sign = load(code, k)
            store(Lanes(repeating: 0), code, k)
            let f0 = load(wf, k), s0 = load(ws, k), m0 = load(wm, k)
            let f = clamp(f0 + c.kFast * (-(f0 - rest(rf, k)) + (sign * c.fast + 0.0)), -1.0, 1.0)
            let s = clamp(s0 + c.kSlow * (-(s0 - rest(rs, k)) + (sign * c.slow + 0.0)), -1.0, 1.0)
            let m = clamp(m0 + c.kMeta * (-(m0 - rest(rm, k)) + (sign * c.meta + 0.0)), -0.5, 0.5)
            let fading = (f .< 0.01) .& (f .> -0.01) .& (s .< 0.01) .& (s .> -0.01)
            let grown = g + c.integrityGain
            let healed = grown.replacing(with: 1.0, where: .!(grown .< 1.0))
            let gNew = healed.replacing(with: g - c.integrityLoss, where: fading)
            let gOut = g.replacing(with: gNew, where: live)
            store(f0.replacing(with: f, where: live), wf, k)
            store(s0.replacing(with: s, where: live), ws, k)
            store(m0.replacing(with: m, where: live), wm, k)
            store(gOut, integrity, k)
            return (gOut .<= c.pruneThreshold) .& (gOut .!= tombstone) .& valid
        }
        var below = Mask(repeating: false)
        var k = 0
        while k + 4 <= count {
            below = below .| lanes(k, valid: Mask(repeating: true))
            k += 4
        }
        if k < count {
            below = below .| lanes(k, valid: SIMD4<Int64>(0, 1, 2, 3) .< SIMD4<Int64>(repeating: Int64(count - k)))
        }
        return any(below)
    }
}
