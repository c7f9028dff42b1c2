/* ke_gemm_avx512: the AVX-512F micro-kernel, 6 x 32 (two zmm per row,
 * 12 accumulators). Compiled with a target attribute so the build needs no
 * -march flag; ke_gemm_kernel_avx512() refuses when the CPU lacks AVX-512F.
 * Few rows (mr 1-2) split K over extra accumulators to hide FMA latency;
 * a tile of at most one vector of columns skips the other half. */
#include "ke_gemm_kern.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define K512_MR 6
#define K512_NR 32
#define K512_TARGET __attribute__((target("avx512f,avx2,fma")))
#define K512_INLINE static inline __attribute__((always_inline)) K512_TARGET

K512_INLINE void store_row(const ke_gemm_ukr_t *u, int i, __m512 v0, __m512 v1, __mmask16 m0,
                           __mmask16 m1, __m512 va, __m512 b0, __m512 b1) {
    float *c = u->c + i * u->ldc;
    v0 = _mm512_mul_ps(v0, va);
    v1 = _mm512_mul_ps(v1, va);
    if (u->bias) {
        v0 = _mm512_add_ps(v0, b0);
        v1 = _mm512_add_ps(v1, b1);
    }
    if (u->flags & KE_UKR_ACCUM) {
        v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, c));
        v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, c + 16));
    }
    if (u->flags & KE_UKR_RELU) {
        v0 = _mm512_max_ps(v0, _mm512_setzero_ps());
        v1 = _mm512_max_ps(v1, _mm512_setzero_ps());
    }
    _mm512_mask_storeu_ps(c, m0, v0);
    _mm512_mask_storeu_ps(c + 16, m1, v1);
}

/* MR rows, U-way split of K (U accumulator sets, summed at the end);
 * U * MR <= 8. One flat accumulator array indexed s * MR + i so the
 * compiler keeps it in registers. */
K512_INLINE void ukr_body(const ke_gemm_ukr_t *u, const int MR, const int U, const int W) {
    __m512 c0[8], c1[8];
    for (int i = 0; i < MR * U; i++) {
        c0[i] = _mm512_setzero_ps();
        c1[i] = _mm512_setzero_ps();
    }
    const float *r[K512_MR];
    for (int i = 0; i < MR; i++) {
        r[i] = u->a + i * u->rs_a;
        /* the C rows are written at the end: start their fetch now */
        _mm_prefetch((const char *)(u->c + i * u->ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(u->c + i * u->ldc + 16), _MM_HINT_T0);
    }
    const int64_t cs = u->cs_a, K = u->k;
    const float *b = u->b;
    int64_t k = 0, ko = 0;
    for (; k + U <= K; k += U) {
        for (int s = 0; s < U; s++) {
            const __m512 b0 = _mm512_loadu_ps(b);
            const __m512 b1 = W == 2 ? _mm512_loadu_ps(b + 16) : _mm512_setzero_ps();
            b += K512_NR;
            for (int i = 0; i < MR; i++) {
                const __m512 a = _mm512_set1_ps(r[i][ko]);
                c0[s * MR + i] = _mm512_fmadd_ps(a, b0, c0[s * MR + i]);
                if (W == 2)
                    c1[s * MR + i] = _mm512_fmadd_ps(a, b1, c1[s * MR + i]);
            }
            ko += cs;
        }
    }
    for (; k < K; k++) {
        const __m512 b0 = _mm512_loadu_ps(b);
        const __m512 b1 = W == 2 ? _mm512_loadu_ps(b + 16) : _mm512_setzero_ps();
        b += K512_NR;
        for (int i = 0; i < MR; i++) {
            const __m512 a = _mm512_set1_ps(r[i][ko]);
            c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
            if (W == 2)
                c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
        }
        ko += cs;
    }
    for (int s = 1; s < U; s++)
        for (int i = 0; i < MR; i++) {
            c0[i] = _mm512_add_ps(c0[i], c0[s * MR + i]);
            c1[i] = _mm512_add_ps(c1[i], c1[s * MR + i]);
        }
    const int nr = u->nr;
    const __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1u);
    const __mmask16 m1 = nr >= 32   ? (__mmask16)0xFFFF
                         : nr <= 16 ? (__mmask16)0
                                    : (__mmask16)((1u << (nr - 16)) - 1u);
    const __m512 va = _mm512_set1_ps(u->alpha);
    __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
    if (u->bias) {
        b0 = _mm512_maskz_loadu_ps(m0, u->bias);
        b1 = _mm512_maskz_loadu_ps(m1, u->bias + 16);
    }
    for (int i = 0; i < MR; i++)
        store_row(u, i, c0[i], c1[i], m0, m1, va, b0, b1);
}

static K512_TARGET void ukr_1(const ke_gemm_ukr_t *u) {
    ukr_body(u, 1, 4, 2);
}
static K512_TARGET void ukr_n1(const ke_gemm_ukr_t *u) {
    ukr_body(u, 1, 4, 1);
}
static K512_TARGET void ukr_2(const ke_gemm_ukr_t *u) {
    ukr_body(u, 2, 2, 2);
}
static K512_TARGET void ukr_n2(const ke_gemm_ukr_t *u) {
    ukr_body(u, 2, 4, 1);
}
static K512_TARGET void ukr_3(const ke_gemm_ukr_t *u) {
    ukr_body(u, 3, 1, 2);
}
static K512_TARGET void ukr_n3(const ke_gemm_ukr_t *u) {
    ukr_body(u, 3, 2, 1);
}
static K512_TARGET void ukr_4(const ke_gemm_ukr_t *u) {
    ukr_body(u, 4, 1, 2);
}
static K512_TARGET void ukr_n4(const ke_gemm_ukr_t *u) {
    ukr_body(u, 4, 2, 1);
}
static K512_TARGET void ukr_5(const ke_gemm_ukr_t *u) {
    ukr_body(u, 5, 1, 2);
}
static K512_TARGET void ukr_n5(const ke_gemm_ukr_t *u) {
    ukr_body(u, 5, 1, 1);
}
static K512_TARGET void ukr_6(const ke_gemm_ukr_t *u) {
    ukr_body(u, 6, 1, 2);
}
static K512_TARGET void ukr_n6(const ke_gemm_ukr_t *u) {
    ukr_body(u, 6, 1, 1);
}

static void ukr_avx512(const ke_gemm_ukr_t *u) {
    if (u->nr <= 16) { /* one vector of columns: skip the other half */
        switch (u->mr) {
        case 1: ukr_n1(u); break;
        case 2: ukr_n2(u); break;
        case 3: ukr_n3(u); break;
        case 4: ukr_n4(u); break;
        case 5: ukr_n5(u); break;
        default: ukr_n6(u); break;
        }
        return;
    }
    switch (u->mr) {
    case 1: ukr_1(u); break;
    case 2: ukr_2(u); break;
    case 3: ukr_3(u); break;
    case 4: ukr_4(u); break;
    case 5: ukr_5(u); break;
    default: ukr_6(u); break;
    }
}

int ke_gemm_kernel_avx512(ke_gemm_kernel_t *k) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx2") ||
        !__builtin_cpu_supports("fma"))
        return -1;
    k->mr = K512_MR;
    k->nr = K512_NR;
    k->fn = ukr_avx512;
    return 0;
}

#else

int ke_gemm_kernel_avx512(ke_gemm_kernel_t *k) {
    (void)k;
    return -1;
}

#endif
