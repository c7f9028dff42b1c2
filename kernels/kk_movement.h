/* kk_movement: data movement without arithmetic, for any element size.
 *
 * kk_strided_copy is the one general kernel: it walks the `shape` (rank <=
 * 8) and copies element [i0..ik] from src + src_offset + sum(i_k *
 * src_strides[k]) to dst + dst_offset + sum(i_k * dst_strides[k]) (offsets
 * and strides in elements, strides may be 0 or negative). Transpose (permuted
 * src strides), Slice (start offset + step strides), Expand (0 strides),
 * Concat (dst offset along the axis) and Split are all calls of it.
 * Asynchronous on `stream`. */
#ifndef KK_MOVEMENT_H
#define KK_MOVEMENT_H

#include "kk_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

kk_status_t kk_strided_copy(const void *d_src, int64_t src_offset, const int64_t *src_strides,
                            void *d_dst, int64_t dst_offset, const int64_t *dst_strides,
                            const int64_t *shape, int rank, size_t elem_size, kk_stream_t stream);

/* Gather along the middle axis of data [outer, axis_dim, inner]: out[outer,
 * m, inner] with int64 indices (negative ones count from the end). An index
 * out of range writes zeros and sets *d_error (device int, may be NULL)
 * to 1 so the caller can fail the batch. */
kk_status_t kk_gather_launch(const void *d_data, const int64_t *d_indices, void *d_out,
                             int64_t outer, int64_t axis_dim, int64_t m, int64_t inner,
                             size_t elem_size, int *d_error, kk_stream_t stream);

#ifdef __cplusplus
}
#endif

#endif
