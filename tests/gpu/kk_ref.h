/* Plain-C reference implementations of the CUDA kernels (tests only). Each
 * mirrors one kk_*_launch with the same argument meaning, on host memory. */
#ifndef KK_REF_H
#define KK_REF_H

#include <stdint.h>

#include "kk_conv.h"
#include "kk_elementwise.h"
#include "kk_reduce.h"

float kk_ref_unary(kk_unop_t op, float x, float alpha, float beta);
float kk_ref_binary(kk_binop_t op, float a, float b);
void kk_ref_binary_nd(kk_binop_t op, const float *a, const int64_t *as, const float *b,
                      const int64_t *bs, float *out, const int64_t *shape, int rank);
void kk_ref_softmax(const float *x, float *y, int64_t rows, int64_t cols, int log_sm);
void kk_ref_layernorm(const float *x, const float *gamma, const float *beta, float *y, int64_t rows,
                      int64_t cols, float eps);
void kk_ref_reduce(kk_reduce_op_t op, const float *x, float *y, int64_t outer, int64_t n,
                   int64_t inner);
void kk_ref_argmax(const float *x, int64_t *idx, int64_t outer, int64_t n, int64_t inner);
void kk_ref_strided_copy(const float *src, int64_t soff, const int64_t *ss, float *dst,
                         int64_t doff, const int64_t *ds, const int64_t *shape, int rank);
void kk_ref_gather(const float *data, const int64_t *indices, float *out, int64_t outer,
                   int64_t axis_dim, int64_t m, int64_t inner);
void kk_ref_im2col(const float *img, const kk_conv2d_geom_t *g, float *col);
void kk_ref_pool2d(kk_pool_kind_t kind, const float *x, float *y, int64_t planes,
                   const kk_conv2d_geom_t *g, int count_include_pad);
void kk_ref_sgemm(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                  int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

#endif
