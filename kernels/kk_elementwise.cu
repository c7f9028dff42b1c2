// kk_elementwise: broadcasting binary ops, unary activations, bias+activation.
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "kk_check.cuh"
#include "kk_elementwise.h"

namespace {

struct Shape8 {
    int64_t d[KK_MAX_RANK];
};

__device__ __forceinline__ float apply_unary(kk_unop_t op, float x, float alpha, float beta) {
    switch (op) {
    case KK_UN_IDENTITY: return x;
    case KK_UN_RELU: return x > 0.f ? x : 0.f;
    case KK_UN_LEAKY_RELU: return x >= 0.f ? x : alpha * x;
    case KK_UN_SIGMOID: return 1.f / (1.f + expf(-x));
    case KK_UN_TANH: return tanhf(x);
    case KK_UN_ERF: return erff(x);
    case KK_UN_GELU: return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
    case KK_UN_SQRT: return sqrtf(x);
    case KK_UN_NEG: return -x;
    case KK_UN_CLIP: return fminf(fmaxf(x, alpha), beta);
    }
    return x;
}

__device__ __forceinline__ float apply_binary(kk_binop_t op, float a, float b) {
    switch (op) {
    case KK_BIN_ADD: return a + b;
    case KK_BIN_SUB: return a - b;
    case KK_BIN_MUL: return a * b;
    case KK_BIN_DIV: return a / b;
    case KK_BIN_POW: return powf(a, b);
    case KK_BIN_MIN: return fminf(a, b);
    case KK_BIN_MAX: return fmaxf(a, b);
    }
    return a;
}

// Same-shape contiguous inputs: no index arithmetic.
__global__ void binary_flat(kk_binop_t op, const float *__restrict__ a, const float *__restrict__ b,
                            float *__restrict__ out, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        out[i] = apply_binary(op, a[i], b[i]);
}

// General broadcast: decompose the output index into coordinates.
__global__ void binary_strided(kk_binop_t op, const float *__restrict__ a, Shape8 as,
                               const float *__restrict__ b, Shape8 bs, float *__restrict__ out,
                               Shape8 shape, int rank, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t rem = i, ia = 0, ib = 0;
        for (int k = rank - 1; k >= 0; k--) {
            int64_t c = rem % shape.d[k];
            rem /= shape.d[k];
            ia += c * as.d[k];
            ib += c * bs.d[k];
        }
        out[i] = apply_binary(op, a[ia], b[ib]);
    }
}

// x and y may be the same buffer (in-place epilogues): no __restrict__.
__global__ void unary_kernel(kk_unop_t op, const float *x, float *y, int64_t n, float alpha,
                             float beta) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        y[i] = apply_unary(op, x[i], alpha, beta);
}

// y[(o * chans + c) * inner + i] = act(y[...] + bias[c]), in place. With
// inner == 1 this is the GEMM row-bias epilogue; with inner = H*W the conv
// per-channel bias.
__global__ void chan_bias_act_kernel(float *y, const float *__restrict__ bias, int64_t outer,
                                     int64_t chans, int64_t inner, kk_unop_t act, float alpha,
                                     float beta) {
    int64_t n = outer * chans * inner;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        float v = y[i];
        if (bias)
            v += bias[(i / inner) % chans];
        y[i] = apply_unary(act, v, alpha, beta);
    }
}

} // namespace

extern "C" kk_status_t kk_broadcast_strides(const int64_t *in_shape, int in_rank,
                                            const int64_t *out_shape, int out_rank,
                                            int64_t *strides_out) {
    if (in_rank < 0 || out_rank > KK_MAX_RANK || in_rank > out_rank)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_elementwise: bad arguments");
    int64_t stride = 1;
    for (int k = out_rank - 1; k >= 0; k--) {
        int ik = k - (out_rank - in_rank);
        if (ik < 0) {
            strides_out[k] = 0;
            continue;
        }
        int64_t d = in_shape[ik];
        if (d == out_shape[k]) {
            strides_out[k] = d == 1 ? 0 : stride;
        } else if (d == 1) {
            strides_out[k] = 0;
        } else {
            return kk_record_error(KK_ERR_INVALID_ARG, "kk_elementwise: bad arguments");
        }
        stride *= d;
    }
    return KK_OK;
}

extern "C" kk_status_t kk_binary_launch(kk_binop_t op, const float *d_a, const int64_t *a_strides,
                                        const float *d_b, const int64_t *b_strides, float *d_out,
                                        const int64_t *out_shape, int rank, kk_stream_t stream) {
    if (rank < 0 || rank > KK_MAX_RANK || !d_a || !d_b || !d_out)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_elementwise: bad arguments");
    int64_t n = 1;
    Shape8 shape = {}, as = {}, bs = {};
    bool flat = true;
    int64_t contiguous = 1;
    for (int k = rank - 1; k >= 0; k--) {
        shape.d[k] = out_shape[k];
        as.d[k] = a_strides[k];
        bs.d[k] = b_strides[k];
        if (out_shape[k] != 1 && (as.d[k] != contiguous || bs.d[k] != contiguous))
            flat = false;
        contiguous *= out_shape[k];
        n *= out_shape[k];
    }
    if (n == 0)
        return KK_OK;
    const unsigned threads = 256;
    if (flat)
        binary_flat<<<kk_blocks_for(n, threads), threads, 0, stream>>>(op, d_a, d_b, d_out, n);
    else
        binary_strided<<<kk_blocks_for(n, threads), threads, 0, stream>>>(op, d_a, as, d_b, bs,
                                                                          d_out, shape, rank, n);
    KK_LAUNCH_CHECK("binary");
    return KK_OK;
}

extern "C" kk_status_t kk_unary_launch(kk_unop_t op, const float *d_x, float *d_y, int64_t n,
                                       float alpha, float beta, kk_stream_t stream) {
    if (n < 0 || !d_x || !d_y)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_elementwise: bad arguments");
    if (n == 0)
        return KK_OK;
    const unsigned threads = 256;
    unary_kernel<<<kk_blocks_for(n, threads), threads, 0, stream>>>(op, d_x, d_y, n, alpha, beta);
    KK_LAUNCH_CHECK("unary");
    return KK_OK;
}

extern "C" kk_status_t kk_chan_bias_act_launch(float *d_y, const float *d_bias, int64_t outer,
                                               int64_t chans, int64_t inner, kk_unop_t act,
                                               float alpha, float beta, kk_stream_t stream) {
    if (outer < 0 || chans <= 0 || inner <= 0 || !d_y)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_chan_bias_act: bad arguments");
    // n overflow: the caller's tensor already exists, so outer*chans*inner
    // is its element count; still refuse products past int64.
    if (outer > INT64_MAX / chans || outer * chans > INT64_MAX / inner)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_chan_bias_act: too many elements");
    int64_t n = outer * chans * inner;
    if (n == 0)
        return KK_OK;
    if (!d_bias && act == KK_UN_IDENTITY)
        return KK_OK;
    const unsigned threads = 256;
    chan_bias_act_kernel<<<kk_blocks_for(n, threads), threads, 0, stream>>>(
        d_y, d_bias, outer, chans, inner, act, alpha, beta);
    KK_LAUNCH_CHECK("chan_bias_act");
    return KK_OK;
}

extern "C" kk_status_t kk_bias_act_launch(float *d_y, const float *d_bias, int64_t rows,
                                          int64_t cols, kk_unop_t act, float alpha, float beta,
                                          kk_stream_t stream) {
    return kk_chan_bias_act_launch(d_y, d_bias, rows, cols, 1, act, alpha, beta, stream);
}
