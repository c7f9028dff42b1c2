// kk_gemm: row-major GEMM through column-major cuBLAS. A row-major C = A B
// is the column-major C^T = B^T A^T, so the operands are swapped and the
// dimensions M and N exchanged; no data is transposed.
#include <cstdio>
#include <cstdlib>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "kk_check.cuh"
#include "kk_gemm.h"

struct kk_gemm {
    cublasHandle_t handle;
};

static kk_status_t cublas_fail(cublasStatus_t st, const char *what) {
    char buf[160];
    snprintf(buf, sizeof(buf), "%s: %s", what, cublasGetStatusString(st));
    return kk_record_error(KK_ERR_CUBLAS, buf);
}

extern "C" kk_gemm_t *kk_gemm_new(kk_stream_t stream, kk_gemm_math_t math) {
    kk_gemm_t *g = (kk_gemm_t *)calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    cublasStatus_t st = cublasCreate(&g->handle);
    if (st != CUBLAS_STATUS_SUCCESS) {
        cublas_fail(st, "cublasCreate");
        free(g);
        return NULL;
    }
    st = cublasSetStream(g->handle, stream);
    if (st == CUBLAS_STATUS_SUCCESS)
        st = cublasSetMathMode(g->handle, math == KK_GEMM_TF32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                               : CUBLAS_DEFAULT_MATH);
    if (st != CUBLAS_STATUS_SUCCESS) {
        cublas_fail(st, "cublasSetStream/cublasSetMathMode");
        cublasDestroy(g->handle);
        free(g);
        return NULL;
    }
    return g;
}

extern "C" void kk_gemm_free(kk_gemm_t *g) {
    if (!g)
        return;
    (void)cublasDestroy(g->handle); // nothing useful to do on failure at teardown
    free(g);
}

static bool fits_int(int64_t v) {
    return v >= 1 && v <= 0x7fffffff;
}

extern "C" int kk_gemm_args_ok(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K,
                               int64_t lda, int64_t ldb, int64_t ldc, int64_t batch) {
    if (!fits_int(M) || !fits_int(N) || !fits_int(K) || !fits_int(lda) || !fits_int(ldb) ||
        !fits_int(ldc) || !fits_int(batch))
        return 0;
    // row-major: a row of the stored matrix has lda elements
    if (lda < (trans_a ? M : K) || ldb < (trans_b ? K : N) || ldc < N)
        return 0;
    return 1;
}

extern "C" kk_status_t kk_sgemm(kk_gemm_t *g, int trans_a, int trans_b, int64_t M, int64_t N,
                                int64_t K, float alpha, const float *d_A, int64_t lda,
                                const float *d_B, int64_t ldb, float beta, float *d_C,
                                int64_t ldc) {
    return kk_gemm_ex_batched(g, KK_GEMM_T_F32, trans_a, trans_b, M, N, K, alpha, d_A, lda, 0, d_B,
                              ldb, 0, beta, d_C, ldc, 0, 1);
}

extern "C" kk_status_t kk_sgemm_batched(kk_gemm_t *g, int trans_a, int trans_b, int64_t M,
                                        int64_t N, int64_t K, float alpha, const float *d_A,
                                        int64_t lda, int64_t stride_a, const float *d_B,
                                        int64_t ldb, int64_t stride_b, float beta, float *d_C,
                                        int64_t ldc, int64_t stride_c, int64_t batch) {
    return kk_gemm_ex_batched(g, KK_GEMM_T_F32, trans_a, trans_b, M, N, K, alpha, d_A, lda,
                              stride_a, d_B, ldb, stride_b, beta, d_C, ldc, stride_c, batch);
}

extern "C" kk_status_t kk_gemm_ex_batched(kk_gemm_t *g, kk_gemm_type_t type, int trans_a,
                                          int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                                          const void *d_A, int64_t lda, int64_t stride_a,
                                          const void *d_B, int64_t ldb, int64_t stride_b,
                                          float beta, float *d_C, int64_t ldc, int64_t stride_c,
                                          int64_t batch) {
    if (!g || !d_A || !d_B || !d_C || stride_a < 0 || stride_b < 0 || stride_c < 0 ||
        !kk_gemm_args_ok(trans_a, trans_b, M, N, K, lda, ldb, ldc, batch))
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_gemm: bad sizes or NULL operand");
    // column-major view: C^T[N,M] = op(B)^T[N,K] @ op(A)^T[K,M]
    cublasOperation_t opb = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t opa = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasStatus_t st;
    if (type == KK_GEMM_T_F32) {
        const float *A = (const float *)d_A, *B = (const float *)d_B;
        if (batch == 1)
            st = cublasSgemm(g->handle, opb, opa, (int)N, (int)M, (int)K, &alpha, B, (int)ldb, A,
                             (int)lda, &beta, d_C, (int)ldc);
        else
            st = cublasSgemmStridedBatched(g->handle, opb, opa, (int)N, (int)M, (int)K, &alpha, B,
                                           (int)ldb, stride_b, A, (int)lda, stride_a, &beta, d_C,
                                           (int)ldc, stride_c, (int)batch);
        return st == CUBLAS_STATUS_SUCCESS ? KK_OK : cublas_fail(st, "cublasSgemm");
    }
    cudaDataType_t ab;
    if (type == KK_GEMM_T_F16)
        ab = CUDA_R_16F;
    else if (type == KK_GEMM_T_BF16)
        ab = CUDA_R_16BF;
    else
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_gemm: unknown operand type");
    if (batch == 1)
        st = cublasGemmEx(g->handle, opb, opa, (int)N, (int)M, (int)K, &alpha, d_B, ab, (int)ldb,
                          d_A, ab, (int)lda, &beta, d_C, CUDA_R_32F, (int)ldc, CUBLAS_COMPUTE_32F,
                          CUBLAS_GEMM_DEFAULT);
    else
        st = cublasGemmStridedBatchedEx(g->handle, opb, opa, (int)N, (int)M, (int)K, &alpha, d_B,
                                        ab, (int)ldb, stride_b, d_A, ab, (int)lda, stride_a, &beta,
                                        d_C, CUDA_R_32F, (int)ldc, stride_c, (int)batch,
                                        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    return st == CUBLAS_STATUS_SUCCESS ? KK_OK : cublas_fail(st, "cublasGemmEx");
}
