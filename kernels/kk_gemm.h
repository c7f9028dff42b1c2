/* kk_gemm: row-major float32 GEMM on cuBLAS.
 *
 * A kk_gemm_t owns one cuBLAS handle bound to one stream; use it from one
 * thread at a time. Math mode: FP32 by default; KK_GEMM_TF32 opts in to
 * TF32 tensor cores (inputs rounded to 10-bit mantissa: expect relative
 * errors around 1e-3, tests use rtol 5e-3). */
#ifndef KK_GEMM_H
#define KK_GEMM_H

#include "kk_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kk_gemm kk_gemm_t;

typedef enum kk_gemm_math { KK_GEMM_FP32 = 0, KK_GEMM_TF32 } kk_gemm_math_t;

/* NULL on failure (no device, cuBLAS init failed); caller frees. */
kk_gemm_t *kk_gemm_new(kk_stream_t stream, kk_gemm_math_t math);
void kk_gemm_free(kk_gemm_t *g);

/* C[M,N] = alpha * op(A) @ op(B) + beta * C, all row-major with leading
 * dimensions lda/ldb/ldc (elements per row as stored). trans_a: A is stored
 * [K,M]; trans_b: B is stored [N,K]. */
kk_status_t kk_sgemm(kk_gemm_t *g, int trans_a, int trans_b, int64_t M, int64_t N, int64_t K,
                     float alpha, const float *d_A, int64_t lda, const float *d_B, int64_t ldb,
                     float beta, float *d_C, int64_t ldc);

/* `batch` independent GEMMs with element strides between consecutive
 * matrices (stride 0 broadcasts one operand, e.g. shared weights). */
kk_status_t kk_sgemm_batched(kk_gemm_t *g, int trans_a, int trans_b, int64_t M, int64_t N,
                             int64_t K, float alpha, const float *d_A, int64_t lda,
                             int64_t stride_a, const float *d_B, int64_t ldb, int64_t stride_b,
                             float beta, float *d_C, int64_t ldc, int64_t stride_c,
                             int64_t batch);

#ifdef __cplusplus
}
#endif

#endif
