/* ke_gemm_avx2: the AVX2 + FMA micro-kernel, 6 x 16 (two ymm per row,
 * 12 accumulators). Compiled with a target attribute so the build needs no
 * -march flag; ke_gemm_kernel_avx2() refuses when the CPU lacks AVX2/FMA.
 * Few rows (mr 1-2) split K over extra accumulators to hide FMA latency;
 * a tile of at most one vector of columns skips the other half. */
#include "ke_gemm_kern.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define K256_MR 6
#define K256_NR 16
#define K256_TARGET __attribute__((target("avx2,fma")))
#define K256_INLINE static inline __attribute__((always_inline)) K256_TARGET

K256_INLINE __m256i lane_mask(int n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}

K256_INLINE void store_row(const ke_gemm_ukr_t *u, int i, __m256 v0, __m256 v1, __m256i m0,
                           __m256i m1, __m256 va, __m256 b0, __m256 b1) {
    float *c = u->c + i * u->ldc;
    v0 = _mm256_mul_ps(v0, va);
    v1 = _mm256_mul_ps(v1, va);
    if (u->bias) {
        v0 = _mm256_add_ps(v0, b0);
        v1 = _mm256_add_ps(v1, b1);
    }
    if (u->flags & KE_UKR_ACCUM) {
        v0 = _mm256_add_ps(v0, _mm256_maskload_ps(c, m0));
        v1 = _mm256_add_ps(v1, _mm256_maskload_ps(c + 8, m1));
    }
    if (u->flags & KE_UKR_RELU) {
        v0 = _mm256_max_ps(v0, _mm256_setzero_ps());
        v1 = _mm256_max_ps(v1, _mm256_setzero_ps());
    }
    _mm256_maskstore_ps(c, m0, v0);
    _mm256_maskstore_ps(c + 8, m1, v1);
}

/* MR rows, U-way split of K (U accumulator sets, summed at the end);
 * U * MR <= 8. One flat accumulator array indexed s * MR + i so the
 * compiler keeps it in registers. */
K256_INLINE void ukr_body(const ke_gemm_ukr_t *u, const int MR, const int U, const int W) {
    __m256 c0[8], c1[8];
    for (int i = 0; i < MR * U; i++) {
        c0[i] = _mm256_setzero_ps();
        c1[i] = _mm256_setzero_ps();
    }
    const float *r[K256_MR];
    for (int i = 0; i < MR; i++) {
        r[i] = u->a + i * u->rs_a;
        /* the C rows are written at the end: start their fetch now */
        _mm_prefetch((const char *)(u->c + i * u->ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(u->c + i * u->ldc + 8), _MM_HINT_T0);
    }
    const int64_t cs = u->cs_a, K = u->k;
    const float *b = u->b;
    int64_t k = 0, ko = 0;
    for (; k + U <= K; k += U) {
        for (int s = 0; s < U; s++) {
            const __m256 b0 = _mm256_loadu_ps(b);
            const __m256 b1 = W == 2 ? _mm256_loadu_ps(b + 8) : _mm256_setzero_ps();
            b += K256_NR;
            for (int i = 0; i < MR; i++) {
                const __m256 a = _mm256_set1_ps(r[i][ko]);
                c0[s * MR + i] = _mm256_fmadd_ps(a, b0, c0[s * MR + i]);
                if (W == 2)
                    c1[s * MR + i] = _mm256_fmadd_ps(a, b1, c1[s * MR + i]);
            }
            ko += cs;
        }
    }
    for (; k < K; k++) {
        const __m256 b0 = _mm256_loadu_ps(b);
        const __m256 b1 = W == 2 ? _mm256_loadu_ps(b + 8) : _mm256_setzero_ps();
        b += K256_NR;
        for (int i = 0; i < MR; i++) {
            const __m256 a = _mm256_set1_ps(r[i][ko]);
            c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
            if (W == 2)
                c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
        }
        ko += cs;
    }
    for (int s = 1; s < U; s++)
        for (int i = 0; i < MR; i++) {
            c0[i] = _mm256_add_ps(c0[i], c0[s * MR + i]);
            c1[i] = _mm256_add_ps(c1[i], c1[s * MR + i]);
        }
    const __m256i m0 = lane_mask(u->nr), m1 = lane_mask(u->nr - 8);
    const __m256 va = _mm256_set1_ps(u->alpha);
    __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
    if (u->bias) {
        b0 = _mm256_maskload_ps(u->bias, m0);
        b1 = _mm256_maskload_ps(u->bias + 8, m1);
    }
    for (int i = 0; i < MR; i++)
        store_row(u, i, c0[i], c1[i], m0, m1, va, b0, b1);
}

static K256_TARGET void ukr_1(const ke_gemm_ukr_t *u) {
    ukr_body(u, 1, 4, 2);
}
static K256_TARGET void ukr_n1(const ke_gemm_ukr_t *u) {
    ukr_body(u, 1, 4, 1);
}
static K256_TARGET void ukr_2(const ke_gemm_ukr_t *u) {
    ukr_body(u, 2, 2, 2);
}
static K256_TARGET void ukr_n2(const ke_gemm_ukr_t *u) {
    ukr_body(u, 2, 4, 1);
}
static K256_TARGET void ukr_3(const ke_gemm_ukr_t *u) {
    ukr_body(u, 3, 1, 2);
}
static K256_TARGET void ukr_n3(const ke_gemm_ukr_t *u) {
    ukr_body(u, 3, 2, 1);
}
static K256_TARGET void ukr_4(const ke_gemm_ukr_t *u) {
    ukr_body(u, 4, 1, 2);
}
static K256_TARGET void ukr_n4(const ke_gemm_ukr_t *u) {
    ukr_body(u, 4, 2, 1);
}
static K256_TARGET void ukr_5(const ke_gemm_ukr_t *u) {
    ukr_body(u, 5, 1, 2);
}
static K256_TARGET void ukr_n5(const ke_gemm_ukr_t *u) {
    ukr_body(u, 5, 1, 1);
}
static K256_TARGET void ukr_6(const ke_gemm_ukr_t *u) {
    ukr_body(u, 6, 1, 2);
}
static K256_TARGET void ukr_n6(const ke_gemm_ukr_t *u) {
    ukr_body(u, 6, 1, 1);
}

static void ukr_avx2(const ke_gemm_ukr_t *u) {
    if (u->nr <= 8) { /* one vector of columns: skip the other half */
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

int ke_gemm_kernel_avx2(ke_gemm_kernel_t *k) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return -1;
    k->mr = K256_MR;
    k->nr = K256_NR;
    k->fn = ukr_avx2;
    return 0;
}

#else

int ke_gemm_kernel_avx2(ke_gemm_kernel_t *k) {
    (void)k;
    return -1;
}

#endif
