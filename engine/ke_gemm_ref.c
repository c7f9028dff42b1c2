/* ke_gemm_ref: the portable C micro-kernel (4 x 16 tile); the readable
 * statement of the ke_gemm_kern.h contract and the path on CPUs without
 * AVX2. */
#include "ke_gemm_kern.h"

#define REF_MR 4
#define REF_NR 16

static void ukr_ref(const ke_gemm_ukr_t *u) {
    /* plain loops the compiler can keep in vector registers: a fixed
     * 4 x 16 accumulator tile, K walked once */
    float acc[REF_MR][REF_NR] = {{0}};
    const int mr = u->mr;
    const float *restrict bp = u->b;
    const float *restrict a = u->a;
    const int64_t rs = u->rs_a, cs = u->cs_a;
    float ar[REF_MR] = {0};
    for (int64_t k = 0; k < u->k; k++) {
        for (int i = 0; i < REF_MR; i++)
            ar[i] = i < mr ? a[i * rs + k * cs] : 0.0f;
        const float *restrict b = bp + k * REF_NR;
        for (int i = 0; i < REF_MR; i++)
            for (int j = 0; j < REF_NR; j++)
                acc[i][j] += ar[i] * b[j];
    }
    for (int i = 0; i < mr; i++) {
        float *c = u->c + i * u->ldc;
        for (int j = 0; j < u->nr; j++) {
            float v = u->alpha * acc[i][j];
            if (u->bias)
                v += u->bias[j];
            if (u->flags & KE_UKR_ACCUM)
                v += c[j];
            if ((u->flags & KE_UKR_RELU) && !(v > 0.0f))
                v = 0.0f;
            c[j] = v;
        }
    }
}

int ke_gemm_kernel_ref(ke_gemm_kernel_t *k) {
    k->mr = REF_MR;
    k->nr = REF_NR;
    k->fn = ukr_ref;
    return 0;
}
