/* ke_conv_tile_ref: the portable direct-Conv tile, 8 channels x 16
 * positions in GCC/clang generic vectors (lowered to whatever the target
 * has, SSE2 upwards, so the accumulators stay in registers), and the level
 * dispatch of ke_conv_tile.h. */
#include <string.h>

#include "ke_conv_tile.h"

#define REF_MB 8
#define REF_PB 16

typedef float rvec_t __attribute__((vector_size(REF_PB * sizeof(float))));

static void tile_ref(const float *restrict x, const float *restrict w, const int64_t *restrict off,
                     int64_t taps, const float *restrict bias, float *restrict out,
                     int64_t ostride) {
    rvec_t a[REF_MB];
    for (int m = 0; m < REF_MB; m++)
        a[m] = (rvec_t){0} + bias[m];
    for (int64_t t = 0; t < taps; t++) {
        rvec_t xv;
        memcpy(&xv, x + off[t], sizeof xv);
        const float *restrict wt = w + t * REF_MB;
        for (int m = 0; m < REF_MB; m++)
            a[m] += wt[m] * xv;
    }
    for (int m = 0; m < REF_MB; m++)
        memcpy(out + m * ostride, &a[m], sizeof a[m]);
}

int ke_conv_tile_ref(ke_conv_tile_t *k) {
    k->mb = REF_MB;
    k->pb = REF_PB;
    k->fn = tile_ref;
    return 0;
}

int ke_conv_tile_for(ke_gemm_level_t level, ke_conv_tile_t *k) {
    switch (level) {
    case KE_GEMM_AVX512: return ke_conv_tile_avx512(k);
    case KE_GEMM_AVX2: return ke_conv_tile_avx2(k);
    case KE_GEMM_REF: return ke_conv_tile_ref(k);
    default: return -1;
    }
}
