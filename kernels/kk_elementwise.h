/* kk_elementwise: float32 elementwise kernels.
 *
 * Broadcasting follows numpy: the caller gives the output shape and, for each
 * input, its strides in elements aligned to the output's rank (0 where the
 * input is broadcast along that axis). kk_broadcast_strides() computes them
 * from an input shape. All launches are asynchronous on `stream`. */
#ifndef KK_ELEMENTWISE_H
#define KK_ELEMENTWISE_H

#include "kk_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kk_binop {
    KK_BIN_ADD = 0,
    KK_BIN_SUB,
    KK_BIN_MUL,
    KK_BIN_DIV,
    KK_BIN_POW,
    KK_BIN_MIN,
    KK_BIN_MAX
} kk_binop_t;

typedef enum kk_unop {
    KK_UN_IDENTITY = 0,
    KK_UN_RELU,
    KK_UN_LEAKY_RELU, /* alpha */
    KK_UN_SIGMOID,
    KK_UN_TANH,
    KK_UN_ERF,
    KK_UN_GELU, /* erf form: 0.5 x (1 + erf(x / sqrt 2)) */
    KK_UN_SQRT,
    KK_UN_NEG,
    KK_UN_CLIP /* alpha = min, beta = max */
} kk_unop_t;

/* Strides (elements) of a row-major input of rank `in_rank` with shape
 * `in_shape`, right-aligned to an output of rank `out_rank` with shape
 * `out_shape`; 0 along broadcast axes. Returns KK_ERR_INVALID_ARG when the
 * shapes do not broadcast. Host-only, no CUDA call. */
kk_status_t kk_broadcast_strides(const int64_t *in_shape, int in_rank, const int64_t *out_shape,
                                 int out_rank, int64_t *strides_out);

/* d_out[i] = op(d_a[ia], d_b[ib]) over the output shape (rank <= 8). */
kk_status_t kk_binary_launch(kk_binop_t op, const float *d_a, const int64_t *a_strides,
                             const float *d_b, const int64_t *b_strides, float *d_out,
                             const int64_t *out_shape, int rank, kk_stream_t stream);

/* d_y[i] = op(d_x[i]) for n elements; d_y may equal d_x. */
kk_status_t kk_unary_launch(kk_unop_t op, const float *d_x, float *d_y, int64_t n, float alpha,
                            float beta, kk_stream_t stream);

/* GEMM epilogue: d_y[r, c] = act(d_y[r, c] + d_bias[c]) for a rows x cols
 * row-major matrix; d_bias may be NULL (activation only). */
kk_status_t kk_bias_act_launch(float *d_y, const float *d_bias, int64_t rows, int64_t cols,
                               kk_unop_t act, float alpha, float beta, kk_stream_t stream);

/* Per-channel bias + activation, in place: for a row-major [outer, chans,
 * inner] tensor, d_y[o, c, i] = act(d_y[o, c, i] + d_bias[c]) (d_bias may be
 * NULL). Conv's epilogue (inner = H*W); kk_bias_act_launch is inner = 1. */
kk_status_t kk_chan_bias_act_launch(float *d_y, const float *d_bias, int64_t outer, int64_t chans,
                                    int64_t inner, kk_unop_t act, float alpha, float beta,
                                    kk_stream_t stream);

#ifdef __cplusplus
}
#endif

#endif
