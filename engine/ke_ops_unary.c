/* ke_ops_unary: float32 elementwise functions and activations (also used as
 * the epilogue of fused GEMM / Conv kernels). */
#include <math.h>

#include "ke_ops_kern.h"
#include "ke_vmath.h"

float ke_unary_ref(ke_unop_t op, ke_unparams_t p, float xf) {
    double x = xf, a = p.alpha, b = p.beta;
    switch (op) {
    case KE_UN_NONE: return xf;
    case KE_UN_RELU: return (float)(x > 0 ? x : 0);
    case KE_UN_LEAKY_RELU: return (float)(x >= 0 ? x : a * x);
    case KE_UN_SIGMOID: return (float)(1.0 / (1.0 + exp(-x)));
    case KE_UN_TANH: return (float)tanh(x);
    case KE_UN_GELU: return (float)(0.5 * x * (1.0 + erf(x / sqrt(2.0))));
    case KE_UN_GELU_TANH:
        return (float)(0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))));
    case KE_UN_ERF: return (float)erf(x);
    case KE_UN_SQRT: return (float)sqrt(x);
    case KE_UN_NEG: return (float)-x;
    case KE_UN_EXP: return (float)exp(x);
    case KE_UN_LOG: return (float)log(x);
    case KE_UN_ABS: return (float)fabs(x);
    case KE_UN_RECIPROCAL: return (float)(1.0 / x);
    case KE_UN_FLOOR: return (float)floor(x);
    case KE_UN_CEIL: return (float)ceil(x);
    case KE_UN_ROUND: return (float)nearbyint(x);
    case KE_UN_SIN: return (float)sin(x);
    case KE_UN_COS: return (float)cos(x);
    case KE_UN_TAN: return (float)tan(x);
    case KE_UN_ASIN: return (float)asin(x);
    case KE_UN_ACOS: return (float)acos(x);
    case KE_UN_ATAN: return (float)atan(x);
    case KE_UN_SINH: return (float)sinh(x);
    case KE_UN_COSH: return (float)cosh(x);
    case KE_UN_ASINH: return (float)asinh(x);
    case KE_UN_ACOSH: return (float)acosh(x);
    case KE_UN_ATANH: return (float)atanh(x);
    case KE_UN_SIGN: return (float)(x > 0 ? 1 : (x < 0 ? -1 : 0));
    case KE_UN_SOFTPLUS: return (float)log1p(exp(x));
    case KE_UN_SOFTSIGN: return (float)(x / (1.0 + fabs(x)));
    case KE_UN_ELU: return (float)(x >= 0 ? x : a * (exp(x) - 1.0));
    case KE_UN_SELU: return (float)(x > 0 ? b * x : b * a * (exp(x) - 1.0));
    case KE_UN_CELU: return (float)(fmax(0.0, x) + fmin(0.0, a * (exp(x / a) - 1.0)));
    case KE_UN_HARD_SIGMOID: return (float)fmax(0.0, fmin(1.0, a * x + b));
    case KE_UN_HARD_SWISH: return (float)(x * fmax(0.0, fmin(1.0, x / 6.0 + 0.5)));
    case KE_UN_THRESHOLDED_RELU: return (float)(x > a ? x : 0);
    case KE_UN_CLIP: return (float)(x < a ? a : (x > b ? b : x));
    case KE_UN_COUNT: break;
    }
    return xf;
}

/* The common activations get loops the compiler can vectorise (exp, erf,
 * tanh, sigmoid from ke_vmath.h, accuracy stated there); the rest go
 * through libm one element at a time. */
void ke_unary_f32(ke_unop_t op, ke_unparams_t p, const float *x, float *y, int64_t n) {
    const float a = p.alpha, b = p.beta;
    switch (op) {
    case KE_UN_NONE:
        if (x != y)
            for (int64_t i = 0; i < n; i++)
                y[i] = x[i];
        return;
    case KE_UN_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        return;
    case KE_UN_LEAKY_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] >= 0.0f ? x[i] : a * x[i];
        return;
    case KE_UN_CLIP:
        for (int64_t i = 0; i < n; i++) {
            float v = x[i] < a ? a : x[i];
            y[i] = v > b ? b : v;
        }
        return;
    case KE_UN_NEG:
        for (int64_t i = 0; i < n; i++)
            y[i] = -x[i];
        return;
    case KE_UN_ABS:
        for (int64_t i = 0; i < n; i++)
            y[i] = fabsf(x[i]);
        return;
    case KE_UN_SQRT:
        for (int64_t i = 0; i < n; i++)
            y[i] = sqrtf(x[i]);
        return;
    case KE_UN_RECIPROCAL:
        for (int64_t i = 0; i < n; i++)
            y[i] = 1.0f / x[i];
        return;
    case KE_UN_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            y[i] = ke_vsigmoidf(x[i]);
        return;
    case KE_UN_TANH:
        for (int64_t i = 0; i < n; i++)
            y[i] = ke_vtanhf(x[i]);
        return;
    case KE_UN_EXP:
        for (int64_t i = 0; i < n; i++)
            y[i] = ke_vexpf(x[i]);
        return;
    case KE_UN_ERF:
        for (int64_t i = 0; i < n; i++)
            y[i] = ke_verff(x[i]);
        return;
    case KE_UN_GELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = 0.5f * x[i] * (1.0f + ke_verff(x[i] * 0.70710678118654752f));
        return;
    case KE_UN_GELU_TANH:
        for (int64_t i = 0; i < n; i++) {
            float v = x[i];
            y[i] =
                0.5f * v * (1.0f + ke_vtanhf(0.79788456080286536f * (v + 0.044715f * v * v * v)));
        }
        return;
    default:
        for (int64_t i = 0; i < n; i++)
            y[i] = ke_unary_ref(op, p, x[i]);
        return;
    }
}
