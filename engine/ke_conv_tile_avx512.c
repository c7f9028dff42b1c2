/* ke_conv_tile_avx512: the AVX-512F direct-Conv tile, 8 channels x 32
 * positions (two zmm per channel: 16 accumulators). Compiled with a target
 * attribute so the build needs no -march flag; ke_conv_tile_avx512()
 * refuses when the CPU lacks AVX-512F. */
#include "ke_conv_tile.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define T512_MB 8
#define T512_PB 32

/* One channel's two accumulators += weight w x the two input vectors.
 * Named variables and broadcasts by value keep the tile in registers. */
#define T512_ROW(A0, A1, W)                                                                        \
    do {                                                                                           \
        const __m512 wv_ = _mm512_set1_ps(W);                                                      \
        A0 = _mm512_fmadd_ps(wv_, x0, A0);                                                         \
        A1 = _mm512_fmadd_ps(wv_, x1, A1);                                                         \
    } while (0)

#define T512_STORE(O, A0, A1)                                                                      \
    do {                                                                                           \
        _mm512_storeu_ps((O), A0);                                                                 \
        _mm512_storeu_ps((O) + 16, A1);                                                            \
    } while (0)

__attribute__((target("avx512f,avx2,fma"))) static void
tile_avx512(const float *restrict x, const float *restrict w, const int64_t *restrict off,
            int64_t taps, const float *restrict bias, float *restrict out, int64_t ostride) {
    __m512 a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51, a60, a61, a70, a71;
    a00 = a01 = _mm512_set1_ps(bias[0]);
    a10 = a11 = _mm512_set1_ps(bias[1]);
    a20 = a21 = _mm512_set1_ps(bias[2]);
    a30 = a31 = _mm512_set1_ps(bias[3]);
    a40 = a41 = _mm512_set1_ps(bias[4]);
    a50 = a51 = _mm512_set1_ps(bias[5]);
    a60 = a61 = _mm512_set1_ps(bias[6]);
    a70 = a71 = _mm512_set1_ps(bias[7]);
    for (int64_t t = 0; t < taps; t++) {
        const float *xs = x + off[t];
        const __m512 x0 = _mm512_loadu_ps(xs), x1 = _mm512_loadu_ps(xs + 16);
        const float *wt = w + t * T512_MB;
        T512_ROW(a00, a01, wt[0]);
        T512_ROW(a10, a11, wt[1]);
        T512_ROW(a20, a21, wt[2]);
        T512_ROW(a30, a31, wt[3]);
        T512_ROW(a40, a41, wt[4]);
        T512_ROW(a50, a51, wt[5]);
        T512_ROW(a60, a61, wt[6]);
        T512_ROW(a70, a71, wt[7]);
    }
    T512_STORE(out, a00, a01);
    T512_STORE(out + ostride, a10, a11);
    T512_STORE(out + 2 * ostride, a20, a21);
    T512_STORE(out + 3 * ostride, a30, a31);
    T512_STORE(out + 4 * ostride, a40, a41);
    T512_STORE(out + 5 * ostride, a50, a51);
    T512_STORE(out + 6 * ostride, a60, a61);
    T512_STORE(out + 7 * ostride, a70, a71);
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
