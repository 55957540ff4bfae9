#include "CNeuraxonKernels.h"
#include <math.h>

#pragma clang fp contract(off)

/* Synapse k, with plasticity terms df, ds, dm; returns 1 when its new integrity is at or below
 * the threshold (and not −∞). The flags are constants in every caller, so each caller gets its
 * own branch-free copy. */
static inline __attribute__((always_inline)) int update_one(
    size_t k, double df, double ds, double dm,
    double *restrict wf, double *restrict ws, double *restrict wm,
    const double *restrict rf, const double *restrict rs, const double *restrict rm,
    double *restrict integrity, const uint8_t *restrict live,
    const double k_fast, const double k_slow, const double k_meta,
    const double loss, const double gain, const double threshold,
    const int resting, const int checked) {
    const double g = integrity[k];
    const double f0 = wf[k], s0 = ws[k], m0 = wm[k];
    const double r_f = resting ? rf[k] : 0.0;
    const double r_s = resting ? rs[k] : 0.0;
    const double r_m = resting ? rm[k] : 0.0;
    double f = f0 + k_fast * (-(f0 - r_f) + df);
    f = f < 1.0 ? f : 1.0;
    f = f > -1.0 ? f : -1.0;
    double s = s0 + k_slow * (-(s0 - r_s) + ds);
    s = s < 1.0 ? s : 1.0;
    s = s > -1.0 ? s : -1.0;
    double m = m0 + k_meta * (-(m0 - r_m) + dm);
    m = m < 0.5 ? m : 0.5;
    m = m > -0.5 ? m : -0.5;
    const int fading = (f < 0.01) & (f > -0.01) & (s < 0.01) & (s > -0.01);
    const double grown = g + gain;
    const double healed = grown < 1.0 ? grown : 1.0;
    double g_new = fading ? g - loss : healed;
    if (checked) {
        const int on = (g > 0.0) & (live[k] != 0);
        f = on ? f : f0;
        s = on ? s : s0;
        m = on ? m : m0;
        g_new = on ? g_new : g;
    }
    wf[k] = f;
    ws[k] = s;
    wm[k] = m;
    integrity[k] = g_new;
    return (g_new <= threshold) & (g_new != -INFINITY);
}

static inline __attribute__((always_inline)) int update_all(
    size_t count, double *restrict wf, double *restrict ws, double *restrict wm,
    const double *restrict rf, const double *restrict rs, const double *restrict rm,
    double *restrict integrity, const uint8_t *restrict live,
    size_t plastic_count, const uint32_t *restrict plastic_index, const int8_t *restrict plastic_sign,
    double *restrict scratch, const nx_plasticity *c, const int resting, const int checked) {
    const double kf = c->k_fast, ks = c->k_slow, km = c->k_meta;
    const double loss = c->integrity_loss, gain = c->integrity_gain, threshold = c->prune_threshold;
    for (size_t j = 0; j < plastic_count; j++) {
        const size_t k = plastic_index[j];
        scratch[4 * j] = wf[k];
        scratch[4 * j + 1] = ws[k];
        scratch[4 * j + 2] = wm[k];
        scratch[4 * j + 3] = integrity[k];
    }
    int below = 0;
    for (size_t k = 0; k < count; k++) {
        below |= update_one(k, 0.0, 0.0, 0.0, wf, ws, wm, rf, rs, rm, integrity, live,
                            kf, ks, km, loss, gain, threshold, resting, checked);
    }
    for (size_t j = 0; j < plastic_count; j++) {
        const size_t k = plastic_index[j];
        wf[k] = scratch[4 * j];
        ws[k] = scratch[4 * j + 1];
        wm[k] = scratch[4 * j + 2];
        integrity[k] = scratch[4 * j + 3];
        const double sign = (double)plastic_sign[j];
        below |= update_one(k, sign * c->fast + 0.0, sign * c->slow + 0.0, sign * c->meta + 0.0,
                            wf, ws, wm, rf, rs, rm, integrity, live, kf, ks, km, loss, gain, threshold,
                            resting, checked);
    }
    return below;
}

#if defined(__x86_64__) && defined(__clang__)
#define NX_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NX_CLONES
#endif

NX_CLONES
int nx_update_synapses(size_t count, double *w_fast, double *w_slow, double *w_meta,
                       const double *rest_fast, const double *rest_slow, const double *rest_meta,
                       double *integrity, const uint8_t *live,
                       size_t plastic_count, const uint32_t *plastic_index, const int8_t *plastic_sign,
                       double *scratch, const nx_plasticity *c) {
#define NX_ALL(resting, checked)                                                                    \
    update_all(count, w_fast, w_slow, w_meta, rest_fast, rest_slow, rest_meta, integrity, live,        \
               plastic_count, plastic_index, plastic_sign, scratch, c, resting, checked)
    const int resting = rest_fast != NULL && rest_slow != NULL && rest_meta != NULL;
    if (live == NULL) {
        return resting ? NX_ALL(1, 0) : NX_ALL(0, 0);
    }
    return resting ? NX_ALL(1, 1) : NX_ALL(0, 1);
#undef NX_ALL
}

int nx_kernels_use_avx2(void) {
#if defined(__x86_64__) && defined(__clang__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? 1 : 0;
#else
    return 0;
#endif
}
