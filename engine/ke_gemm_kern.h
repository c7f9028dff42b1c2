/* ke_gemm_kern: the micro-kernel contract between the GEMM driver
 * (ke_gemm.c) and the per-level kernels (ke_gemm_ref.c, ke_gemm_avx2.c,
 * ke_gemm_avx512.c). Private to the engine.
 *
 * One call computes an mr x nr tile (mr <= MR, nr <= NR of the level):
 *   C[i][j] = relu?( alpha * sum_k A(i,k) * b[k*NR + j] + bias[j] + C_old[i][j] )
 * where bias is skipped when NULL and C_old only with KE_UKR_ACCUM. A(i,k)
 * = a[i*rs_a + k*cs_a]. Only the mr x nr valid entries of C are read or
 * written; b is a padded panel (NR floats per k), bias holds nr floats.
 * Reentrant. */
#ifndef KE_GEMM_KERN_H
#define KE_GEMM_KERN_H

#include <stdint.h>

enum { KE_UKR_ACCUM = 1u << 0, KE_UKR_RELU = 1u << 1 };

typedef struct ke_gemm_ukr {
    const float *a;
    int64_t rs_a, cs_a;
    const float *b;
    const float *bias;
    float *c;
    int64_t ldc;
    int64_t k;
    int mr, nr;
    float alpha;
    unsigned flags;
} ke_gemm_ukr_t;

typedef void (*ke_gemm_ukr_fn)(const ke_gemm_ukr_t *u);

typedef struct ke_gemm_kernel {
    int mr, nr;
    ke_gemm_ukr_fn fn;
} ke_gemm_kernel_t;

/* Each returns 0 and fills *k, or -1 when the level is not compiled in
 * (non-x86 builds) or the CPU lacks it. */
int ke_gemm_kernel_ref(ke_gemm_kernel_t *k);
int ke_gemm_kernel_avx2(ke_gemm_kernel_t *k);
int ke_gemm_kernel_avx512(ke_gemm_kernel_t *k);

#endif
