/* ke_conv_tile_avx512: the AVX-512F direct-Conv tile, 8 channels x 32
 * positions (two zmm per channel: 16 accumulators). Compiled with a target
 * attribute so the build needs no -march flag; ke_conv_tile_avx512()
 * refuses when the CPU lacks AVX-512F. */
#include "ke_conv_tile.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define T512_MB 8
#define T512_PB 32

__attribute__((target("avx512f,avx2,fma"))) static void
tile_avx512(const float *restrict x, const float *restrict w, const int64_t *restrict off,
            int64_t taps, const float *restrict bias, float *restrict out, int64_t ostride) {
    __m512 a[T512_MB][2];
    for (int m = 0; m < T512_MB; m++) {
        const __m512 b = _mm512_set1_ps(bias[m]);
        a[m][0] = b;
        a[m][1] = b;
    }
    for (int64_t t = 0; t < taps; t++) {
        const float *xs = x + off[t];
        const __m512 x0 = _mm512_loadu_ps(xs), x1 = _mm512_loadu_ps(xs + 16);
        const float *wt = w + t * T512_MB;
        for (int m = 0; m < T512_MB; m++) {
            const __m512 wv = _mm512_set1_ps(wt[m]);
            a[m][0] = _mm512_fmadd_ps(wv, x0, a[m][0]);
            a[m][1] = _mm512_fmadd_ps(wv, x1, a[m][1]);
        }
    }
    for (int m = 0; m < T512_MB; m++) {
        float *o = out + m * ostride;
        _mm512_storeu_ps(o, a[m][0]);
        _mm512_storeu_ps(o + 16, a[m][1]);
    }
}

int ke_conv_tile_avx512(ke_conv_tile_t *k) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx2") ||
        !__builtin_cpu_supports("fma"))
        return -1;
    k->mb = T512_MB;
    k->pb = T512_PB;
    k->fn = tile_avx512;
    return 0;
}

#else

int ke_conv_tile_avx512(ke_conv_tile_t *k) {
    (void)k;
    return -1;
}

#endif
