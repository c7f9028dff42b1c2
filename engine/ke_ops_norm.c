/* ke_ops_norm: BatchNormalization (inference), LayerNormalization and
 * (Log)Softmax. */
#include <math.h>

#include "ke_ops_kern.h"
#include "ke_vmath.h"

void ke_batchnorm_f32(int64_t n, int64_t c, int64_t inner, const float *X, const float *scale,
                      const float *B, const float *mean, const float *var, float eps, float *Y,
                      ke_unop_t act, ke_unparams_t actp) {
    for (int64_t ch = 0; ch < c; ch++) {
        const float k = scale[ch] / sqrtf(var[ch] + eps);
        const float b = B[ch] - mean[ch] * k;
        for (int64_t i = 0; i < n; i++) {
            const float *restrict x = X + (i * c + ch) * inner;
            float *restrict y = Y + (i * c + ch) * inner;
            for (int64_t j = 0; j < inner; j++)
                y[j] = x[j] * k + b;
            if (act != KE_UN_NONE)
                ke_unary_f32(act, actp, y, y, inner);
        }
    }
}

#define LN_LANES 16

/* sum of x[0..n) in LN_LANES partial sums (so the loop vectorises: a
 * single running float sum is a serial dependency chain) */
static float lane_sum(const float *restrict x, int64_t n) {
    float acc[LN_LANES] = {0};
    int64_t j = 0;
    for (; j + LN_LANES <= n; j += LN_LANES)
        for (int k = 0; k < LN_LANES; k++)
            acc[k] += x[j + k];
    for (; j < n; j++)
        acc[0] += x[j];
    float s = 0.0f;
    for (int k = 0; k < LN_LANES; k++)
        s += acc[k];
    return s;
}

/* sum of (x[j] - mean)^2, the same way */
static float lane_sqdev(const float *restrict x, int64_t n, float mean) {
    float acc[LN_LANES] = {0};
    int64_t j = 0;
    for (; j + LN_LANES <= n; j += LN_LANES)
        for (int k = 0; k < LN_LANES; k++) {
            const float d = x[j + k] - mean;
            acc[k] += d * d;
        }
    for (; j < n; j++) {
        const float d = x[j] - mean;
        acc[0] += d * d;
    }
    float s = 0.0f;
    for (int k = 0; k < LN_LANES; k++)
        s += acc[k];
    return s;
}

/* Two passes per row (mean, then the squared deviations: no cancellation
 * of E[x^2] - mean^2), then the affine write. */
void ke_layernorm_f32(int64_t rows, int64_t cols, const float *X, const float *scale,
                      const float *B, float eps, float *Y, float *mean_out, float *invstd_out) {
    for (int64_t r = 0; r < rows; r++) {
        const float *restrict x = X + r * cols;
        float *restrict y = Y + r * cols;
        const float mean = lane_sum(x, cols) / (float)cols;
        const float inv = 1.0f / sqrtf(lane_sqdev(x, cols, mean) / (float)cols + eps);
        if (B) {
            for (int64_t j = 0; j < cols; j++)
                y[j] = (x[j] - mean) * inv * scale[j] + B[j];
        } else {
            for (int64_t j = 0; j < cols; j++)
                y[j] = (x[j] - mean) * inv * scale[j];
        }
        if (mean_out)
            mean_out[r] = mean;
        if (invstd_out)
            invstd_out[r] = inv;
    }
}

/* Monotonic int key of a float (signed order = float order for non-NaN):
 * max-reductions over keys vectorise where float compares do not (see
 * ke_vmath.h). The map is its own inverse. */
static inline int32_t fkey(float x) {
    uint32_t u = ke_vm_bits(x);
    return (int32_t)(u ^ ((0u - (u >> 31)) >> 1));
}

static inline float unkey(int32_t k) {
    uint32_t u = (uint32_t)k;
    return ke_vm_float(u ^ ((0u - (u >> 31)) >> 1));
}

#define SM_LANES 16

/* max of x[0..n) (NaN sorts above +inf) with SM_LANES partial maxima */
static float row_max(const float *x, int64_t n) {
    int32_t m[SM_LANES];
    for (int k = 0; k < SM_LANES; k++)
        m[k] = fkey(-INFINITY);
    int64_t j = 0;
    for (; j + SM_LANES <= n; j += SM_LANES)
        for (int k = 0; k < SM_LANES; k++) {
            int32_t v = fkey(x[j + k]);
            m[k] = v > m[k] ? v : m[k];
        }
    for (; j < n; j++) {
        int32_t v = fkey(x[j]);
        m[0] = v > m[0] ? v : m[0];
    }
    int32_t r = m[0];
    for (int k = 1; k < SM_LANES; k++)
        r = m[k] > r ? m[k] : r;
    return unkey(r);
}

/* y[j] = e^(x[j] - mx); returns the sum (SM_LANES partial sums) */
static float row_exp_sum(const float *restrict x, float *restrict y, int64_t n, float mx) {
    float acc[SM_LANES] = {0};
    int64_t j = 0;
    for (; j + SM_LANES <= n; j += SM_LANES)
        for (int k = 0; k < SM_LANES; k++) {
            float e = ke_vexpf_ftz(x[j + k] - mx);
            y[j + k] = e;
            acc[k] += e;
        }
    for (; j < n; j++) {
        y[j] = ke_vexpf_ftz(x[j] - mx);
        acc[0] += y[j];
    }
    float s = 0.0f;
    for (int k = 0; k < SM_LANES; k++)
        s += acc[k];
    return s;
}

void ke_softmax_f32(int64_t outer, int64_t n, int64_t inner, const float *X, float *Y, int log) {
    if (inner == 1) {
        /* the usual case: softmax over contiguous rows */
        for (int64_t o = 0; o < outer; o++) {
            const float *restrict x = X + o * n;
            float *restrict y = Y + o * n;
            const float mx = row_max(x, n);
            const float s = row_exp_sum(x, y, n, mx);
            if (log) {
                const float ls = logf(s);
                for (int64_t j = 0; j < n; j++)
                    y[j] = x[j] - mx - ls;
            } else {
                const float inv = 1.0f / s;
                for (int64_t j = 0; j < n; j++)
                    y[j] *= inv;
            }
        }
        return;
    }
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *x = X + o * n * inner + i;
            float *y = Y + o * n * inner + i;
            float mx = -INFINITY;
            for (int64_t j = 0; j < n; j++)
                mx = x[j * inner] > mx ? x[j * inner] : mx;
            float s = 0.0f;
            for (int64_t j = 0; j < n; j++)
                s += expf(x[j * inner] - mx);
            const float ls = logf(s), inv = 1.0f / s;
            for (int64_t j = 0; j < n; j++)
                y[j * inner] = log ? x[j * inner] - mx - ls : expf(x[j * inner] - mx) * inv;
        }
}
