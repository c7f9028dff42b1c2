/* ke_gemm_ukr_body: the x86 micro-kernel template shared by
 * ke_gemm_avx2.c (6 x 16, ymm) and ke_gemm_avx512.c (6 x 32, zmm). Private
 * to those two files: each defines the macros below, then includes this
 * file once, which defines the static kernels and KG_DISPATCH (the
 * ke_gemm_ukr_fn of the level).
 *
 * A tile is MR rows x two vectors of columns (12 accumulators at MR 6).
 * Few rows (mr 1-2) split K over extra accumulator sets (U, summed at the
 * end) to hide the FMA latency; a tile of at most one vector of columns
 * skips the other half (W 1).
 *
 * Macros: KG_MR, KG_VW (floats per vector; NR = 2 KG_VW), KG_V (vector
 * type), KG_M (lane-mask type), KG_TARGET (function attribute), KG_ZERO(),
 * KG_LOAD(p), KG_SET1(x), KG_FMA(a, b, c) (a*b+c), KG_ADD, KG_MUL, KG_MAX,
 * KG_MASK(n) (first n lanes; n <= 0: none, n >= KG_VW: all), KG_MLOAD(p, m)
 * (zero outside m), KG_MSTORE(p, m, v), KG_DISPATCH (name to define). */
#ifndef KG_DISPATCH
#error "define the KG_* macros before including ke_gemm_ukr_body.h"
#endif

#define KG_INLINE static inline __attribute__((always_inline)) KG_TARGET

KG_INLINE void kg_store_row(const ke_gemm_ukr_t *u, int i, KG_V v0, KG_V v1, KG_M m0, KG_M m1,
                            KG_V va, KG_V b0, KG_V b1) {
    float *c = u->c + i * u->ldc;
    v0 = KG_MUL(v0, va);
    v1 = KG_MUL(v1, va);
    if (u->bias) {
        v0 = KG_ADD(v0, b0);
        v1 = KG_ADD(v1, b1);
    }
    if (u->flags & KE_UKR_ACCUM) {
        v0 = KG_ADD(v0, KG_MLOAD(c, m0));
        v1 = KG_ADD(v1, KG_MLOAD(c + KG_VW, m1));
    }
    if (u->flags & KE_UKR_RELU) {
        v0 = KG_MAX(v0, KG_ZERO());
        v1 = KG_MAX(v1, KG_ZERO());
    }
    KG_MSTORE(c, m0, v0);
    KG_MSTORE(c + KG_VW, m1, v1);
}

/* MR rows, U-way split of K (U accumulator sets, summed at the end);
 * U * MR <= 8; W vectors of columns. One flat accumulator array indexed
 * s * MR + i so the compiler keeps it in registers; A broadcast by value
 * (the pointer form made gcc keep the accumulators in memory). */
KG_INLINE void kg_body(const ke_gemm_ukr_t *u, const int MR, const int U, const int W) {
    KG_V c0[8], c1[8];
    for (int i = 0; i < MR * U; i++) {
        c0[i] = KG_ZERO();
        c1[i] = KG_ZERO();
    }
    const float *r[KG_MR];
    for (int i = 0; i < MR; i++) {
        r[i] = u->a + i * u->rs_a;
        /* the C rows are written at the end: start their fetch now */
        _mm_prefetch((const char *)(u->c + i * u->ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(u->c + i * u->ldc + KG_VW), _MM_HINT_T0);
    }
    const int64_t cs = u->cs_a, K = u->k;
    const float *b = u->b;
    int64_t k = 0, ko = 0;
    for (; k + U <= K; k += U) {
        for (int s = 0; s < U; s++) {
            const KG_V b0 = KG_LOAD(b);
            const KG_V b1 = W == 2 ? KG_LOAD(b + KG_VW) : KG_ZERO();
            b += 2 * KG_VW;
            for (int i = 0; i < MR; i++) {
                const KG_V a = KG_SET1(r[i][ko]);
                c0[s * MR + i] = KG_FMA(a, b0, c0[s * MR + i]);
                if (W == 2)
                    c1[s * MR + i] = KG_FMA(a, b1, c1[s * MR + i]);
            }
            ko += cs;
        }
    }
    for (; k < K; k++) {
        const KG_V b0 = KG_LOAD(b);
        const KG_V b1 = W == 2 ? KG_LOAD(b + KG_VW) : KG_ZERO();
        b += 2 * KG_VW;
        for (int i = 0; i < MR; i++) {
            const KG_V a = KG_SET1(r[i][ko]);
            c0[i] = KG_FMA(a, b0, c0[i]);
            if (W == 2)
                c1[i] = KG_FMA(a, b1, c1[i]);
        }
        ko += cs;
    }
    for (int s = 1; s < U; s++)
        for (int i = 0; i < MR; i++) {
            c0[i] = KG_ADD(c0[i], c0[s * MR + i]);
            c1[i] = KG_ADD(c1[i], c1[s * MR + i]);
        }
    const KG_M m0 = KG_MASK(u->nr), m1 = KG_MASK(u->nr - KG_VW);
    const KG_V va = KG_SET1(u->alpha);
    KG_V b0 = KG_ZERO(), b1 = KG_ZERO();
    if (u->bias) {
        b0 = KG_MLOAD(u->bias, m0);
        b1 = KG_MLOAD(u->bias + KG_VW, m1);
    }
    for (int i = 0; i < MR; i++)
        kg_store_row(u, i, c0[i], c1[i], m0, m1, va, b0, b1);
}

/* kg_<mr>: two vectors of columns; kg_n<mr>: one */
#define KG_UKR(name, MR, U, W)                                                                     \
    static KG_TARGET void name(const ke_gemm_ukr_t *u) {                                           \
        kg_body(u, MR, U, W);                                                                      \
    }
KG_UKR(kg_1, 1, 4, 2)
KG_UKR(kg_n1, 1, 4, 1)
KG_UKR(kg_2, 2, 2, 2)
KG_UKR(kg_n2, 2, 4, 1)
KG_UKR(kg_3, 3, 1, 2)
KG_UKR(kg_n3, 3, 2, 1)
KG_UKR(kg_4, 4, 1, 2)
KG_UKR(kg_n4, 4, 2, 1)
KG_UKR(kg_5, 5, 1, 2)
KG_UKR(kg_n5, 5, 1, 1)
KG_UKR(kg_6, 6, 1, 2)
KG_UKR(kg_n6, 6, 1, 1)
#undef KG_UKR

static void KG_DISPATCH(const ke_gemm_ukr_t *u) {
    if (u->nr <= KG_VW) { /* one vector of columns: skip the other half */
        switch (u->mr) {
        case 1: kg_n1(u); break;
        case 2: kg_n2(u); break;
        case 3: kg_n3(u); break;
        case 4: kg_n4(u); break;
        case 5: kg_n5(u); break;
        default: kg_n6(u); break;
        }
        return;
    }
    switch (u->mr) {
    case 1: kg_1(u); break;
    case 2: kg_2(u); break;
    case 3: kg_3(u); break;
    case 4: kg_4(u); break;
    case 5: kg_5(u); break;
    default: kg_6(u); break;
    }
}

#undef KG_INLINE
