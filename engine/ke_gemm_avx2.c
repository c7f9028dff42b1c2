/* ke_gemm_avx2: the AVX2 + FMA micro-kernel, 6 x 16 (two ymm per row,
 * 12 accumulators), from the template in ke_gemm_ukr_body.h. Compiled
 * with a target attribute so the build needs no -march flag;
 * ke_gemm_kernel_avx2() refuses when the CPU lacks AVX2/FMA. */
#include "ke_gemm_kern.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define KG_MR 6
#define KG_VW 8
#define KG_V __m256
#define KG_M __m256i
#define KG_TARGET __attribute__((target("avx2,fma")))
#define KG_ZERO() _mm256_setzero_ps()
#define KG_LOAD(p) _mm256_loadu_ps(p)
#define KG_SET1(x) _mm256_set1_ps(x)
#define KG_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define KG_ADD(a, b) _mm256_add_ps(a, b)
#define KG_MUL(a, b) _mm256_mul_ps(a, b)
#define KG_MAX(a, b) _mm256_max_ps(a, b)
#define KG_MASK(n) lane_mask(n)
#define KG_MLOAD(p, m) _mm256_maskload_ps(p, m)
#define KG_MSTORE(p, m, v) _mm256_maskstore_ps(p, m, v)
#define KG_DISPATCH ukr_avx2

static inline __attribute__((always_inline)) KG_TARGET __m256i lane_mask(int n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}

#include "ke_gemm_ukr_body.h"

int ke_gemm_kernel_avx2(ke_gemm_kernel_t *k) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return -1;
    k->mr = KG_MR;
    k->nr = 2 * KG_VW;
    k->fn = ukr_avx2;
    return 0;
}

#else

int ke_gemm_kernel_avx2(ke_gemm_kernel_t *k) {
    (void)k;
    return -1;
}

#endif
