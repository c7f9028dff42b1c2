/* ke_ops_norm: BatchNormalization (inference), LayerNormalization and
 * (Log)Softmax. */
#include <math.h>

#include "ke_ops_kern.h"

void ke_batchnorm_f32(int64_t n, int64_t c, int64_t inner, const float *X, const float *scale,
                      const float *B, const float *mean, const float *var, float eps, float *Y,
                      ke_unop_t act, ke_unparams_t actp)
{
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

void ke_layernorm_f32(int64_t rows, int64_t cols, const float *X, const float *scale,
                      const float *B, float eps, float *Y, float *mean_out, float *invstd_out)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *restrict x = X + r * cols;
        float *restrict y = Y + r * cols;
        float s = 0.0f;
        for (int64_t j = 0; j < cols; j++)
            s += x[j];
        const float mean = s / (float)cols;
        float v = 0.0f;
        for (int64_t j = 0; j < cols; j++) {
            float d = x[j] - mean;
            v += d * d;
        }
        const float inv = 1.0f / sqrtf(v / (float)cols + eps);
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

void ke_softmax_f32(int64_t outer, int64_t n, int64_t inner, const float *X, float *Y, int log)
{
    if (inner == 1) {
        /* the usual case: softmax over contiguous rows */
        for (int64_t o = 0; o < outer; o++) {
            const float *restrict x = X + o * n;
            float *restrict y = Y + o * n;
            float mx = -INFINITY;
            for (int64_t j = 0; j < n; j++)
                mx = x[j] > mx ? x[j] : mx;
            float s = 0.0f;
            for (int64_t j = 0; j < n; j++) {
                y[j] = expf(x[j] - mx);
                s += y[j];
            }
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
