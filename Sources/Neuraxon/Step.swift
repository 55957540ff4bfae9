import CNeuraxonKernels

/// The step: one dt of network time, in the reference's fixed order.
extension NeuraxonNetwork {
    /// Which build of the synapse update this processor runs: "avx2" or "baseline".
    public static var synapseKernel: String { nx_kernels_use_avx2() != 0 ? "avx2" : "baseline" }

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

    /// Step 3. Pass one lists the synapses whose pre neuron fired (+1) and whose post neuron is
    /// at ±1 (the only ones with Δw ≠ 0), and collects the silent ones with (1, 1) in list order;
    /// pass two updates every synapse (`nx_update_synapses`: one vectorised C loop with Δw = 0,
    /// then the listed ones with their Δw); pass three draws the unsilencing chances.
    @inline(__always) func updateSynapses() -> Bool {
        let count = storedSynapseCount
        guard count > 0 else { return false }
        let p = parameters
        let n = neuronCount
        let state = state.base, active = active.base
        let pre = synPre.base, post = synPost.base
        let silent = silent.base, integrity = integrity.base
        let starts = preStart.base
        let allActive = deadNeurons == 0
        let belowThreshold: Bool
        unsilenceCandidates.removeAll()
        plasticIndex.removeAll()
        plasticSign.removeAll()

        @inline(__always) func mark(_ k: Int) {
            let q = Int(post[k])
            guard active[q] else { return }
            let sq = state[q]
            guard sq != 0 else { return }
            plasticIndex.append(UInt32(k))
            plasticSign.append(sq)
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
        var constants = nx_plasticity(
            fast: learning * 0.3, slow: learning * 0.1,
            meta: learning * 0.05 * levels[Neuromodulator.serotonin.index],
            k_fast: dt / p.tauFast, k_slow: dt / p.tauSlow, k_meta: dt / p.tauMeta,
            integrity_loss: p.synapseDeathProb * dt, integrity_gain: 0.001 * dt,
            prune_threshold: p.synapseIntegrityThreshold)
        // The common case — every neuron alive, every synapse's integrity above a non-negative
        // pruning threshold (so > 0) — updates every synapse without checks: a pruned synapse's
        // tombstone integrity (−∞) stays −∞ through the update, and its weights are never read
        // again. Otherwise a live mask says which synapses the reference would update.
        var live: UnsafePointer<UInt8>? = nil
        if !allActive || mayHoldNonPositiveIntegrity {
            let mask = liveMask.base
            for k in 0..<count { mask[k] = active[Int(pre[k])] && active[Int(post[k])] ? 1 : 0 }
            live = UnsafePointer(mask)
        }
        let rest = dynamics.restingWeights
        if plasticScratch.capacity < 4 * plasticIndex.count { plasticScratch.reserve(4 * plasticIndex.count) }
        belowThreshold = nx_update_synapses(
            count, wFast.base, wSlow.base, wMeta.base,
            rest ? restFast.base : nil, rest ? restSlow.base : nil, rest ? restMeta.base : nil,
            integrity, live, plasticIndex.count, plasticIndex.base, plasticSign.base, plasticScratch.base,
            &constants) != 0
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
