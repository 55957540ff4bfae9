#ifndef CNEURAXON_KERNELS_H
#define CNEURAXON_KERNELS_H
/*
 * The network step's synapse update, as one vectorisable C loop.
 *
 * Written in C so that one source compiles twice on x86-64 (baseline SSE2 and AVX2, chosen at run
 * time) and the compiler's loop vectoriser sees plain arrays. Exactness: every expression is the
 * reference's, evaluated in its order, in IEEE-754 double precision, with floating-point
 * contraction (fused multiply-add) forbidden; vector lanes do not change per-lane arithmetic.
 */
#include <stddef.h>
#include <stdint.h>

/* The per-step constants of the synapse update. */
typedef struct {
    double fast, slow, meta;        /* 0.3·η·DA, 0.1·η·DA, 0.05·η·DA·5HT: the terms for Δw = +η·DA */
    double k_fast, k_slow, k_meta;  /* dt/τf, dt/τs, dt/τmeta */
    double integrity_loss;          /* synapse_death_prob·dt */
    double integrity_gain;          /* 0.001·dt */
    double prune_threshold;         /* synapse_integrity_threshold */
} nx_plasticity;

/*
 * Updates synapses 0..<count in place (the step's stage 3, weights and integrity):
 *
 *   Δ = 0, or for the synapses listed in `plastic` (pre neuron fired +1, post neuron s = ±1):
 *   Δ_fast = s·fast + 0, Δ_slow = s·slow + 0, Δ_meta = s·meta + 0
 *   w_fast ← clamp(w_fast + dt/τf·(−(w_fast − rest_fast) + Δ_fast), −1, 1)
 *   w_slow ← clamp(w_slow + dt/τs·(−(w_slow − rest_slow) + Δ_slow), −1, 1)
 *   w_meta ← clamp(w_meta + dt/τmeta·(−(w_meta − rest_meta) + Δ_meta), −0.5, 0.5)
 *   integrity ← integrity − loss if |w_fast| < 0.01 and |w_slow| < 0.01, else min(1, integrity + gain)
 *
 * Every synapse is first updated with Δ = 0 in one vectorised pass over the columns; the few
 * listed synapses are then updated again from their saved values with their own Δ. `scratch`
 * holds 4 doubles per listed synapse. rest_* may be NULL (all resting weights 0). live may be
 * NULL (every synapse is updated); otherwise a synapse with live[k] == 0 is left as it is.
 * Returns 1 when some synapse whose integrity is not −∞ (the pruned-synapse marker) may now
 * have integrity at or below the pruning threshold (the caller then checks), else 0.
 */
int nx_update_synapses(size_t count, double *w_fast, double *w_slow, double *w_meta,
                       const double *rest_fast, const double *rest_slow, const double *rest_meta,
                       double *integrity, const uint8_t *live,
                       size_t plastic_count, const uint32_t *plastic_index, const int8_t *plastic_sign,
                       double *scratch, const nx_plasticity *c);

/* 1 when the AVX2 version of the kernels runs on this processor. */
int nx_kernels_use_avx2(void);

#endif
