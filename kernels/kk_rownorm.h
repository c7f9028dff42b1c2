/* kk_rownorm: row-wise kernels over a rows x cols row-major matrix (the
 * normalised axis is innermost; the engine transposes or reshapes other
 * layouts into this one). Asynchronous on `stream`. */
#ifndef KK_ROWNORM_H
#define KK_ROWNORM_H

#include "kk_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Softmax (log_softmax != 0: LogSoftmax) of each row. d_y may equal d_x. */
kk_status_t kk_softmax_launch(const float *d_x, float *d_y, int64_t rows, int64_t cols,
                              int log_softmax, kk_stream_t stream);

/* LayerNormalization of each row: (x - mean) / sqrt(var + eps) * gamma + beta;
 * d_gamma and d_beta have `cols` elements (d_beta may be NULL). */
kk_status_t kk_layernorm_launch(const float *d_x, const float *d_gamma, const float *d_beta,
                                float *d_y, int64_t rows, int64_t cols, float eps,
                                kk_stream_t stream);

#ifdef __cplusplus
}
#endif

#endif
