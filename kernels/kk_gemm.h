/* kk_gemm: row-major GEMM on cuBLAS, float32 results.
 *
 * A kk_gemm_t owns one cuBLAS handle bound to one stream; use it from one
 * thread at a time. Math modes and what to expect against an FP32
 * reference (inputs in [-1, 1], K <= a few hundred):
 *   KK_GEMM_FP32  plain SGEMM                         rtol 1e-4, atol 1e-4
 *   KK_GEMM_TF32  TF32 tensor cores (10-bit mantissa) rtol 5e-3, atol 5e-3
 * Reduced-precision operands (kk_gemm_ex_batched with FP16 or BF16 A and B,
 * FP32 C and FP32 accumulation, cublasGemmEx):
 *   FP16 (11-bit mantissa, max 65504)                 rtol 1e-2, atol 1e-2
 *   BF16 (8-bit mantissa, FP32 range)                 rtol 5e-2, atol 5e-2 */
#ifndef KK_GEMM_H
#define KK_GEMM_H

#include "kk_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kk_gemm kk_gemm_t;

typedef enum kk_gemm_math { KK_GEMM_FP32 = 0, KK_GEMM_TF32 } kk_gemm_math_t;

/* Storage type of the A and B operands of kk_gemm_ex_batched. */
typedef enum kk_gemm_type { KK_GEMM_T_F32 = 0, KK_GEMM_T_F16, KK_GEMM_T_BF16 } kk_gemm_type_t;

/* NULL on failure (no device, cuBLAS init failed; kk_last_error_str() says
 * which); caller frees. */
kk_gemm_t *kk_gemm_new(kk_stream_t stream, kk_gemm_math_t math);
void kk_gemm_free(kk_gemm_t *g); /* NULL: no-op */

/* C[M,N] = alpha * op(A) @ op(B) + beta * C, all row-major with leading
 * dimensions lda/ldb/ldc (elements per row as stored). trans_a: A is stored
 * [K,M]; trans_b: B is stored [N,K]. M, N, K >= 1. */
kk_status_t kk_sgemm(kk_gemm_t *g, int trans_a, int trans_b, int64_t M, int64_t N, int64_t K,
                     float alpha, const float *d_A, int64_t lda, const float *d_B, int64_t ldb,
                     float beta, float *d_C, int64_t ldc);

/* `batch` independent GEMMs with element strides between consecutive
 * matrices (stride 0 broadcasts one operand, e.g. shared weights). */
kk_status_t kk_sgemm_batched(kk_gemm_t *g, int trans_a, int trans_b, int64_t M, int64_t N,
                             int64_t K, float alpha, const float *d_A, int64_t lda,
                             int64_t stride_a, const float *d_B, int64_t ldb, int64_t stride_b,
                             float beta, float *d_C, int64_t ldc, int64_t stride_c, int64_t batch);

/* The same with A and B stored as `type` (both the same: F32, F16 or BF16),
 * C float32, FP32 accumulation. F32 is kk_sgemm_batched. */
kk_status_t kk_gemm_ex_batched(kk_gemm_t *g, kk_gemm_type_t type, int trans_a, int trans_b,
                               int64_t M, int64_t N, int64_t K, float alpha, const void *d_A,
                               int64_t lda, int64_t stride_a, const void *d_B, int64_t ldb,
                               int64_t stride_b, float beta, float *d_C, int64_t ldc,
                               int64_t stride_c, int64_t batch);

/* Host-only argument check shared by the calls above (no CUDA call): 1 when
 * the sizes fit cuBLAS's int arguments and the leading dimensions are
 * consistent with the (row-major) shapes, else 0. */
int kk_gemm_args_ok(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, int64_t lda,
                    int64_t ldb, int64_t ldc, int64_t batch);

#ifdef __cplusplus
}
#endif

#endif
