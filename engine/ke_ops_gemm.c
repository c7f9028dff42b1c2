/* ke_ops_gemm: Gemm and MatMul on OpenBLAS sgemm, with the bias and
 * activation epilogue applied while the output rows are hot in cache. */
#include <cblas.h>
#include <string.h>

#include "ke_ops_kern.h"

/* Fills Y [M,N] with beta * C broadcast from [cm, cn]. */
static void fill_bias(float *restrict Y, int64_t M, int64_t N, float beta, const float *restrict C,
                      int64_t cm, int64_t cn) {
    for (int64_t i = 0; i < M; i++) {
        const float *c = C + (cm == 1 ? 0 : i * cn);
        float *y = Y + i * N;
        if (cn == 1) {
            const float v = beta * c[0];
            for (int64_t j = 0; j < N; j++)
                y[j] = v;
        } else {
            for (int64_t j = 0; j < N; j++)
                y[j] = beta * c[j];
        }
    }
}

void ke_gemm_f32(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                 const float *B, float beta, const float *C, int64_t cm, int64_t cn, float *Y,
                 ke_unop_t act, ke_unparams_t actp) {
    if (M <= 0 || N <= 0)
        return;
    float b2 = 0.0f;
    if (C && beta != 0.0f) {
        fill_bias(Y, M, N, beta, C, cm, cn);
        b2 = 1.0f;
    }
    if (K > 0) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    (blasint)M, (blasint)N, (blasint)K, alpha, A, (blasint)(ta ? M : K), B,
                    (blasint)(tb ? K : N), b2, Y, (blasint)N);
    } else if (b2 == 0.0f) {
        memset(Y, 0, (size_t)(M * N) * sizeof *Y);
    }
    if (act != KE_UN_NONE)
        ke_unary_f32(act, actp, Y, Y, M * N);
}

void ke_gemm_ref(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                 const float *B, float beta, const float *C, int64_t cm, int64_t cn, float *Y,
                 ke_unop_t act, ke_unparams_t actp) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++) {
                float a = ta ? A[k * M + i] : A[i * K + k];
                float b = tb ? B[j * K + k] : B[k * N + j];
                s += (double)a * b;
            }
            s *= alpha;
            if (C)
                s += (double)beta * C[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
            Y[i * N + j] = ke_unary_ref(act, actp, (float)s);
        }
}

int ke_matmul_shape(int ra, const int64_t *a, int rb, const int64_t *b, int *ry, int64_t *y) {
    if (ra < 1 || rb < 1)
        return -1;
    int64_t M = ra == 1 ? 1 : a[ra - 2], K = a[ra - 1];
    int64_t K2 = rb == 1 ? b[0] : b[rb - 2], N = rb == 1 ? 1 : b[rb - 1];
    if (K != K2)
        return -1;
    int r = 0;
    int64_t batch[KE_KERN_MAX_RANK];
    int rbatch = 0;
    if (ra > 2 || rb > 2) {
        int r1 = ra > 2 ? ra - 2 : 0, r2 = rb > 2 ? rb - 2 : 0;
        if (ke_bcast_shape(r1, a, r2, b, &rbatch, batch) != 0)
            return -1;
    }
    if (rbatch + 2 > KE_KERN_MAX_RANK)
        return -1;
    for (int i = 0; i < rbatch; i++)
        y[r++] = batch[i];
    if (ra > 1)
        y[r++] = M;
    if (rb > 1)
        y[r++] = N;
    *ry = r;
    return 0;
}

void ke_matmul_f32(int ra, const int64_t *ashape, const float *A, int rb, const int64_t *bshape,
                   const float *B, const float *bias, float *Y, ke_unop_t act, ke_unparams_t actp) {
    int64_t M = ra == 1 ? 1 : ashape[ra - 2], K = ashape[ra - 1];
    int64_t N = rb == 1 ? 1 : bshape[rb - 1];
    int r1 = ra > 2 ? ra - 2 : 0, r2 = rb > 2 ? rb - 2 : 0;
    int64_t nb1 = 1, nb2 = 1;
    for (int i = 0; i < r1; i++)
        nb1 *= ashape[i];
    for (int i = 0; i < r2; i++)
        nb2 *= bshape[i];
    /* B shared by every batch: one big sgemm over all rows of A. */
    if (nb2 == 1) {
        ke_gemm_f32(0, 0, nb1 * M, N, K, 1.0f, A, B, 1.0f, bias, 1, N, Y, act, actp);
        return;
    }
    int64_t bshp[KE_KERN_MAX_RANK];
    int rbatch;
    if (ke_bcast_shape(r1, ashape, r2, bshape, &rbatch, bshp) != 0)
        return; /* the caller checked shapes with ke_matmul_shape */
    ke_bcast_t bc;
    const int rin[2] = {r1, r2};
    const int64_t *in[2] = {ashape, bshape};
    if (rbatch == 0 || ke_bcast_init(&bc, rbatch, bshp, 2, rin, in) != 0)
        return;
    /* iterate the (coalesced) batch multi-index one matrix at a time */
    for (int64_t e = 0; e < bc.total; e++) {
        int64_t oa = 0, ob = 0, rem = e;
        for (int i = bc.rank - 1; i >= 0; i--) {
            int64_t x = rem % bc.shape[i];
            rem /= bc.shape[i];
            oa += x * bc.stride[0][i];
            ob += x * bc.stride[1][i];
        }
        ke_gemm_f32(0, 0, M, N, K, 1.0f, A + oa * M * K, B + ob * K * N, 1.0f, bias, 1, N,
                    Y + e * M * N, act, actp);
    }
}
