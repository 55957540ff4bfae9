#include "CNeuraxonKernels.h"
#include <math.h>

#pragma clang fp contract(off)

/* One body, specialised by the compiler for each combination of the constant flags. */
static inline __attribute__((always_inline)) int update_body(
    size_t count, double *restrict wf, double *restrict ws, double *restrict wm,
    const double *restrict rf, const double *restrict rs, const double *restrict rm,
    double *restrict integrity, double *restrict code, const uint8_t *restrict live,
    const nx_plasticity *c, const int resting, const int checked) {
    const double fast = c->fast, slow = c->slow, meta = c->meta;
    const double kf = c->k_fast, ks = c->k_slow, km = c->k_meta;
    const double loss = c->integrity_loss, gain = c->integrity_gain, threshold = c->prune_threshold;
    int below = 0;
    for (size_t k = 0; k < count; k++) {
        const double g = integrity[k];
        const double sign = code[k];
        code[k] = 0.0;
        const double f0 = wf[k], s0 = ws[k], m0 = wm[k];
        const double r_f = resting ? rf[k] : 0.0;
        const double r_s = resting ? rs[k] : 0.0;
        const double r_m = resting ? rm[k] : 0.0;
        double f = f0 + kf * (-(f0 - r_f) + (sign * fast + 0.0));
        f = f < 1.0 ? f : 1.0;
        f = f > -1.0 ? f : -1.0;
        double s = s0 + ks * (-(s0 - r_s) + (sign * slow + 0.0));
        s = s < 1.0 ? s : 1.0;
        s = s > -1.0 ? s : -1.0;
        double m = m0 + km * (-(m0 - r_m) + (sign * meta + 0.0));
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
        below |= (g_new <= threshold) & (g_new != -INFINITY);
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
                       double *integrity, double *code, const uint8_t *live, const nx_plasticity *c) {
    const int resting = rest_fast != NULL && rest_slow != NULL && rest_meta != NULL;
    if (live == NULL) {
        return resting ? update_body(count, w_fast, w_slow, w_meta, rest_fast, rest_slow, rest_meta, integrity, code, live, c, 1, 0)
                       : update_body(count, w_fast, w_slow, w_meta, rest_fast, rest_slow, rest_meta, integrity, code, live, c, 0, 0);
    }
    return resting ? update_body(count, w_fast, w_slow, w_meta, rest_fast, rest_slow, rest_meta, integrity, code, live, c, 1, 1)
                   : update_body(count, w_fast, w_slow, w_meta, rest_fast, rest_slow, rest_meta, integrity, code, live, c, 0, 1);
}

int nx_kernels_use_avx2(void) {
#if defined(__x86_64__) && defined(__clang__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? 1 : 0;
#else
    return 0;
#endif
}
