/* ke_gemm_avx512: the AVX-512F micro-kernel, 6 x 32 (two zmm per row,
 * 12 accumulators), from the template in ke_gemm_ukr_body.h. Compiled
 * with a target attribute so the build needs no -march flag;
 * ke_gemm_kernel_avx512() refuses when the CPU lacks AVX-512F. */
#include "ke_gemm_kern.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define KG_MR 6
#define KG_VW 16
#define KG_V __m512
#define KG_M __mmask16
#define KG_TARGET __attribute__((target("avx512f,avx2,fma")))
#define KG_ZERO() _mm512_setzero_ps()
#define KG_LOAD(p) _mm512_loadu_ps(p)
#define KG_SET1(x) _mm512_set1_ps(x)
#define KG_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define KG_ADD(a, b) _mm512_add_ps(a, b)
#define KG_MUL(a, b) _mm512_mul_ps(a, b)
#define KG_MAX(a, b) _mm512_max_ps(a, b)
#define KG_MASK(n) lane_mask(n)
#define KG_MLOAD(p, m) _mm512_maskz_loadu_ps(m, p)
#define KG_MSTORE(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define KG_DISPATCH ukr_avx512

static inline __mmask16 lane_mask(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

#include "ke_gemm_ukr_body.h"

int ke_gemm_kernel_avx512(ke_gemm_kernel_t *k) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx2") ||
        !__builtin_cpu_supports("fma"))
        return -1;
    k->mr = KG_MR;
    k->nr = 2 * KG_VW;
    k->fn = ukr_avx512;
    return 0;
}

#else

int ke_gemm_kernel_avx512(ke_gemm_kernel_t *k) {
    (void)k;
    return -1;
}

#endif
