// kk_gemm: row-major GEMM through column-major cuBLAS. A row-major C = A B
// is the column-major C^T = B^T A^T, so the operands are swapped and the
// dimensions M and N exchanged; no data is transposed.
#include <cstdlib>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "kk_check.cuh"
#include "kk_gemm.h"

struct kk_gemm {
    cublasHandle_t handle;
};

static kk_status_t cublas_fail(cublasStatus_t st, const char *what) {
    (void)st;
    return kk_record_error(KK_ERR_CUBLAS, what);
}

extern "C" kk_gemm_t *kk_gemm_new(kk_stream_t stream, kk_gemm_math_t math) {
    kk_gemm_t *g = (kk_gemm_t *)calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    if (cublasCreate(&g->handle) != CUBLAS_STATUS_SUCCESS) {
        kk_record_error(KK_ERR_CUBLAS, "cublasCreate failed");
        free(g);
        return NULL;
    }
    cublasSetStream(g->handle, stream);
    cublasSetMathMode(g->handle,
                      math == KK_GEMM_TF32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
    return g;
}

extern "C" void kk_gemm_free(kk_gemm_t *g) {
    if (!g)
        return;
    cublasDestroy(g->handle);
    free(g);
}

static bool fits_int(int64_t v) { return v >= 0 && v <= 0x7fffffff; }

extern "C" kk_status_t kk_sgemm(kk_gemm_t *g, int trans_a, int trans_b, int64_t M, int64_t N,
                                int64_t K, float alpha, const float *d_A, int64_t lda,
                                const float *d_B, int64_t ldb, float beta, float *d_C,
                                int64_t ldc) {
    return kk_sgemm_batched(g, trans_a, trans_b, M, N, K, alpha, d_A, lda, 0, d_B, ldb, 0, beta,
                            d_C, ldc, 0, 1);
}

extern "C" kk_status_t kk_sgemm_batched(kk_gemm_t *g, int trans_a, int trans_b, int64_t M,
                                        int64_t N, int64_t K, float alpha, const float *d_A,
                                        int64_t lda, int64_t stride_a, const float *d_B,
                                        int64_t ldb, int64_t stride_b, float beta, float *d_C,
                                        int64_t ldc, int64_t stride_c, int64_t batch) {
    if (!g || !d_A || !d_B || !d_C || !fits_int(M) || !fits_int(N) || !fits_int(K) ||
        !fits_int(lda) || !fits_int(ldb) || !fits_int(ldc) || !fits_int(batch))
        return KK_ERR_INVALID_ARG;
    if (M == 0 || N == 0 || batch == 0)
        return KK_OK;
    // column-major view: C^T[N,M] = op(B)^T[N,K] @ op(A)^T[K,M]
    cublasOperation_t opb = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t opa = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasStatus_t st;
    if (batch == 1)
        st = cublasSgemm(g->handle, opb, opa, (int)N, (int)M, (int)K, &alpha, d_B, (int)ldb, d_A,
                         (int)lda, &beta, d_C, (int)ldc);
    else
        st = cublasSgemmStridedBatched(g->handle, opb, opa, (int)N, (int)M, (int)K, &alpha, d_B,
                                       (int)ldb, stride_b, d_A, (int)lda, stride_a, &beta, d_C,
                                       (int)ldc, stride_c, (int)batch);
    if (st != CUBLAS_STATUS_SUCCESS)
        return cublas_fail(st, "cublasSgemm failed");
    return KK_OK;
}
