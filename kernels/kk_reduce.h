/* kk_reduce: reductions over the middle axis of an [outer, n, inner]
 * row-major view (any ONNX reduce over one contiguous block of axes maps to
 * it). Output is [outer, inner]. Asynchronous on `stream`. */
#ifndef KK_REDUCE_H
#define KK_REDUCE_H

#include "kk_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kk_reduce_op { KK_REDUCE_SUM = 0, KK_REDUCE_MEAN, KK_REDUCE_MAX } kk_reduce_op_t;

kk_status_t kk_reduce_launch(kk_reduce_op_t op, const float *d_x, float *d_y, int64_t outer,
                             int64_t n, int64_t inner, kk_stream_t stream);

/* ArgMax over the middle axis: d_idx[outer, inner] (int64), first maximum
 * wins (ONNX select_last_index = 0). */
kk_status_t kk_argmax_launch(const float *d_x, int64_t *d_idx, int64_t outer, int64_t n,
                             int64_t inner, kk_stream_t stream);

#ifdef __cplusplus
}
#endif

#endif
