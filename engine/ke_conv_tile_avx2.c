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

/* One channel's three accumulators += weight w x the three input vectors.
 * Named variables and broadcasts by value: an accumulator array or the
 * pointer form of the broadcast made gcc keep the tile in memory. */
#define T256_ROW(A0, A1, A2, WV)                                                                   \
    do {                                                                                           \
        const __m256 wv_ = (WV);                                                                   \
        A0 = _mm256_fmadd_ps(wv_, x0, A0);                                                         \
        A1 = _mm256_fmadd_ps(wv_, x1, A1);                                                         \
        A2 = _mm256_fmadd_ps(wv_, x2, A2);                                                         \
    } while (0)

#define T256_STORE(O, A0, A1, A2)                                                                  \
    do {                                                                                           \
        _mm256_storeu_ps((O), A0);                                                                 \
        _mm256_storeu_ps((O) + 8, A1);                                                             \
        _mm256_storeu_ps((O) + 16, A2);                                                            \
    } while (0)

__attribute__((target("avx2,fma"))) static void
tile_avx2(const float *restrict x, const float *restrict w, const int64_t *restrict off,
          int64_t taps, const float *restrict bias, float *restrict out, int64_t ostride) {
    __m256 a00, a01, a02, a10, a11, a12, a20, a21, a22, a30, a31, a32;
    a00 = a01 = a02 = _mm256_set1_ps(bias[0]);
    a10 = a11 = a12 = _mm256_set1_ps(bias[1]);
    a20 = a21 = a22 = _mm256_set1_ps(bias[2]);
    a30 = a31 = a32 = _mm256_set1_ps(bias[3]);
    for (int64_t t = 0; t < taps; t++) {
        const float *xs = x + off[t];
        const __m256 x0 = _mm256_loadu_ps(xs), x1 = _mm256_loadu_ps(xs + 8),
                     x2 = _mm256_loadu_ps(xs + 16);
        const float *wt = w + t * T256_MB;
        T256_ROW(a00, a01, a02, _mm256_set1_ps(wt[0]));
        T256_ROW(a10, a11, a12, _mm256_set1_ps(wt[1]));
        T256_ROW(a20, a21, a22, _mm256_set1_ps(wt[2]));
        T256_ROW(a30, a31, a32, _mm256_set1_ps(wt[3]));
    }
    T256_STORE(out, a00, a01, a02);
    T256_STORE(out + ostride, a10, a11, a12);
    T256_STORE(out + 2 * ostride, a20, a21, a22);
    T256_STORE(out + 3 * ostride, a30, a31, a32);
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
