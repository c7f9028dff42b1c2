/* ke_conv_tile_avx2: the AVX2 + FMA direct-Conv tile, 4 channels x 24
 * positions (three ymm per channel: 12 accumulators, 3 input vectors and
 * one broadcast weight fill the 16 registers). Compiled with a target
 * attribute so the build needs no -march flag; ke_conv_tile_avx2() refuses
 * when the CPU lacks AVX2/FMA. */
#include "ke_conv_tile.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define T256_MB 4
#define T256_PB 24

__attribute__((target("avx2,fma"))) static void
tile_avx2(const float *restrict x, const float *restrict w, const int64_t *restrict off,
          int64_t taps, const float *restrict bias, float *restrict out, int64_t ostride) {
    __m256 a[T256_MB][3];
    for (int m = 0; m < T256_MB; m++) {
        const __m256 b = _mm256_broadcast_ss(bias + m);
        a[m][0] = b;
        a[m][1] = b;
        a[m][2] = b;
    }
    for (int64_t t = 0; t < taps; t++) {
        const float *xs = x + off[t];
        const __m256 x0 = _mm256_loadu_ps(xs), x1 = _mm256_loadu_ps(xs + 8),
                     x2 = _mm256_loadu_ps(xs + 16);
        const float *wt = w + t * T256_MB;
        for (int m = 0; m < T256_MB; m++) {
            const __m256 wv = _mm256_broadcast_ss(wt + m);
            a[m][0] = _mm256_fmadd_ps(wv, x0, a[m][0]);
            a[m][1] = _mm256_fmadd_ps(wv, x1, a[m][1]);
            a[m][2] = _mm256_fmadd_ps(wv, x2, a[m][2]);
        }
    }
    for (int m = 0; m < T256_MB; m++) {
        float *o = out + m * ostride;
        _mm256_storeu_ps(o, a[m][0]);
        _mm256_storeu_ps(o + 8, a[m][1]);
        _mm256_storeu_ps(o + 16, a[m][2]);
    }
}

int ke_conv_tile_avx2(ke_conv_tile_t *k) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return -1;
    k->mb = T256_MB;
    k->pb = T256_PB;
    k->fn = tile_avx2;
    return 0;
}

#else

int ke_conv_tile_avx2(ke_conv_tile_t *k) {
    (void)k;
    return -1;
}

#endif
