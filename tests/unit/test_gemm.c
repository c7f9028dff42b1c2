/* Unit tests for the packed GEMM (engine/ke_gemm.h) against the plain
 * reference loop (ke_gemm_ref), at every micro-kernel level this CPU runs
 * (forced one by one): odd M/N/K around the tile sizes, 1, K slices
 * beyond one block, transposed A (strides) and B (packing), with and
 * without bias, accumulation and each fused activation, serial and split
 * over a thread pool; plus the batched run-time-B MatMul with broadcast
 * batch dims. */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ke_gemm.h"

static void fill(float *p, int64_t n, uint32_t seed) {
    uint32_t s = seed * 2654435761u + 1;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

static float *falloc(int64_t n) {
    float *p = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    assert_non_null(p);
    return p;
}

static void assert_close(const float *a, const float *b, int64_t n, int64_t K, const char *what) {
    const float tol = 1e-5f * (float)(K + 1);
    for (int64_t i = 0; i < n; i++) {
        const float d = fabsf(a[i] - b[i]);
        if (!(d <= tol + 1e-4f * fabsf(b[i]))) {
            print_error("%s: element %lld: %.7g vs reference %.7g\n", what, (long long)i, a[i],
                        b[i]);
            fail();
        }
    }
}

#define GUARD 12345.0f

/* Y rows of ldy floats: Y0's row then guard values */
static void fill_y(float *Y, const float *Y0, int64_t M, int64_t N, int64_t ldy) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < ldy; j++)
            Y[i * ldy + j] = j < N ? Y0[i * N + j] : GUARD;
}

/* guard columns intact; the result rows compacted into Yc [M,N] */
static void check_y(const float *Y, float *Yc, int64_t M, int64_t N, int64_t ldy,
                    const char *what) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < ldy; j++) {
            if (j < N) {
                Yc[i * N + j] = Y[i * ldy + j];
            } else if (Y[i * ldy + j] != GUARD) {
                print_error("%s: row %lld guard column %lld overwritten\n", what, (long long)i,
                            (long long)j);
                fail();
            }
        }
}

static const ke_unop_t k_acts[] = {KE_UN_NONE, KE_UN_RELU, KE_UN_SIGMOID,
                                   KE_UN_TANH, KE_UN_GELU, KE_UN_LEAKY_RELU};

/* One product at one level: op(A) [M,K] (A stored [K,M] when ta), B [K,N]
 * ([N,K] when tb), optional bias[N], optional accumulation into Y. */
static void check_one(ke_gemm_level_t lvl, ke_threadpool_t *pool, int ta, int tb, int64_t M,
                      int64_t N, int64_t K, int with_bias, int accumulate, ke_unop_t act) {
    float *A = falloc(M * K), *B = falloc(K * N), *bias = falloc(N);
    /* Y has 3 guard columns per row (ldy = N + 3) that must stay untouched */
    const int64_t ldy = N + 3;
    float *Y = falloc(M * ldy), *R = falloc(M * N), *Y0 = falloc(M * N), *Yc = falloc(M * N);
    fill(A, M * K, (uint32_t)(M * 31 + K));
    fill(B, K * N, (uint32_t)(N * 17 + K));
    fill(bias, N, 3);
    fill(Y0, M * N, 4);
    const ke_unparams_t ap = {0.1f, 0.0f};
    const float alpha = 0.75f;
    /* reference: accumulation enters as a [M,N] C with beta 1 */
    ke_gemm_ref(ta, tb, M, N, K, alpha, A, B, 1.0f, accumulate ? Y0 : (with_bias ? bias : NULL),
                accumulate ? M : 1, N, R, accumulate ? KE_UN_NONE : act, ap);
    if (accumulate) {
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                float v = R[i * N + j] + (with_bias ? bias[j] : 0.0f);
                R[i * N + j] = ke_unary_ref(act, ap, v);
            }
    }
    ke_gemm_packed_t *p = ke_gemm_packed_new(lvl, tb, K, N, B, with_bias ? bias : NULL, N, 1.0f);
    assert_non_null(p);
    fill_y(Y, Y0, M, N, ldy);
    const ke_gemm_job_t j = {.M = M,
                             .A = A,
                             .rs_a = ta ? 1 : K,
                             .cs_a = ta ? M : 1,
                             .alpha = alpha,
                             .Y = Y,
                             .ldy = ldy,
                             .accumulate = accumulate,
                             .act = act,
                             .actp = ap};
    ke_gemm_run(ke_gemm_packed_view(p), &j, pool);
    char what[160];
    snprintf(what, sizeof what, "%s ta=%d tb=%d M=%lld N=%lld K=%lld bias=%d acc=%d act=%d",
             ke_gemm_level_name(lvl), ta, tb, (long long)M, (long long)N, (long long)K, with_bias,
             accumulate, (int)act);
    check_y(Y, Yc, M, N, ldy, what);
    assert_close(Yc, R, M * N, K, what);
    /* the same through a caller-owned pack and the serial entry */
    float *buf = falloc((int64_t)ke_gemm_pack_floats(lvl, K, N));
    ke_gemm_b_t v;
    ke_gemm_pack_into(lvl, tb, K, N, B, tb ? K : N, buf, &v);
    ke_gemm_job_t j2 = j;
    j2.bias = with_bias ? bias : NULL;
    fill_y(Y, Y0, M, N, ldy);
    ke_gemm_run_serial(&v, &j2);
    check_y(Y, Yc, M, N, ldy, what);
    assert_close(Yc, R, M * N, K, what);
    free(buf);
    ke_gemm_packed_free(p);
    free(A), free(B), free(bias), free(Y), free(R), free(Y0), free(Yc);
}

static const int64_t k_dims[] = {1, 2, 5, 6, 7, 13, 17, 31, 33, 64, 65};

static void test_levels_shapes(void **st) {
    (void)st;
    char err[128];
    ke_threadpool_t *pool = ke_threadpool_new(3, err, sizeof err);
    assert_non_null(pool);
    for (int l = 0; l < KE_GEMM_LEVEL_COUNT; l++) {
        const ke_gemm_level_t lvl = (ke_gemm_level_t)l;
        if (!ke_gemm_level_supported(lvl)) {
            print_message("level %s: not on this CPU, skipped\n", ke_gemm_level_name(lvl));
            continue;
        }
        int n = 0;
        for (size_t a = 0; a < sizeof k_dims / sizeof *k_dims; a++)
            for (size_t b = 0; b < sizeof k_dims / sizeof *k_dims; b++)
                for (size_t c = 0; c < sizeof k_dims / sizeof *k_dims; c += 2) {
                    const int64_t M = k_dims[a], N = k_dims[b], K = k_dims[c];
                    const int v = (int)(a + b + c);
                    check_one(lvl, (v & 1) ? pool : NULL, v & 2 ? 1 : 0, v & 4 ? 1 : 0, M, N, K,
                              (v >> 1) & 1, 0, k_acts[v % 6]);
                    n++;
                }
        print_message("level %s: %d shapes\n", ke_gemm_level_name(lvl), n);
    }
    ke_threadpool_free(pool);
}

static void test_epilogue_and_big(void **st) {
    (void)st;
    char err[128];
    ke_threadpool_t *pool = ke_threadpool_new(2, err, sizeof err);
    assert_non_null(pool);
    for (int l = 0; l < KE_GEMM_LEVEL_COUNT; l++) {
        const ke_gemm_level_t lvl = (ke_gemm_level_t)l;
        if (!ke_gemm_level_supported(lvl))
            continue;
        for (size_t a = 0; a < sizeof k_acts / sizeof *k_acts; a++)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++)
                    for (int bias = 0; bias < 2; bias++)
                        for (int acc = 0; acc < 2; acc++)
                            check_one(lvl, acc ? pool : NULL, ta, tb, 19, 37, 11, bias, acc,
                                      k_acts[a]);
        /* several K slices, many row groups and panels, split over the pool */
        check_one(lvl, pool, 0, 1, 203, 129, 784, 1, 0, KE_UN_RELU);
        check_one(lvl, pool, 1, 0, 97, 70, 600, 1, 1, KE_UN_GELU);
        check_one(lvl, pool, 0, 0, 1, 128, 784, 1, 0, KE_UN_NONE);
        /* K = 0: only the bias (and activation) */
        check_one(lvl, pool, 0, 0, 9, 21, 0, 1, 0, KE_UN_SIGMOID);
    }
    ke_threadpool_free(pool);
}

/* Batched MatMul A [..,M,K] @ B [..,K,N] with broadcast batch dims. */
static void check_matmul(ke_gemm_level_t lvl, ke_threadpool_t *pool, int ra, const int64_t *sa,
                         int rb, const int64_t *sb, int with_bias, ke_unop_t act, int64_t slots) {
    int ry;
    int64_t sy[KE_KERN_MAX_RANK];
    assert_int_equal(ke_matmul_shape(ra, sa, rb, sb, &ry, sy), 0);
    int64_t na = 1, nb = 1, ny = 1;
    for (int i = 0; i < ra; i++)
        na *= sa[i];
    for (int i = 0; i < rb; i++)
        nb *= sb[i];
    for (int i = 0; i < ry; i++)
        ny *= sy[i];
    const int64_t K = sa[ra - 1], N = rb == 1 ? 1 : sb[rb - 1];
    float *A = falloc(na), *B = falloc(nb), *bias = falloc(N), *Y = falloc(ny), *R = falloc(ny);
    fill(A, na, 11);
    fill(B, nb, 12);
    fill(bias, N, 13);
    const ke_unparams_t ap = {0.1f, 0.0f};
    /* reference: the existing OpenBLAS MatMul (itself tested against loops) */
    ke_matmul_f32(ra, sa, A, rb, sb, B, with_bias ? bias : NULL, R, act, ap);
    float *scratch = falloc((int64_t)ke_gemm_matmul_scratch_floats(lvl, K, N, slots));
    assert_int_equal(ke_gemm_matmul(lvl, ra, sa, A, rb, sb, B, with_bias ? bias : NULL, Y, act, ap,
                                    scratch, slots, pool, ke_threadpool_size(pool)),
                     0);
    assert_close(Y, R, ny, K, ke_gemm_level_name(lvl));
    free(scratch);
    free(A), free(B), free(bias), free(Y), free(R);
}

static void test_matmul_batched(void **st) {
    (void)st;
    char err[128];
    ke_threadpool_t *pool = ke_threadpool_new(2, err, sizeof err);
    assert_non_null(pool);
    for (int l = 0; l < KE_GEMM_LEVEL_COUNT; l++) {
        const ke_gemm_level_t lvl = (ke_gemm_level_t)l;
        if (!ke_gemm_level_supported(lvl))
            continue;
        /* attention shapes: [B,H,S,D] @ [B,H,D,S], then [B,H,S,S] @ [B,H,S,D] */
        const int64_t q[] = {3, 4, 17, 8}, kt[] = {3, 4, 8, 17}, p[] = {3, 4, 17, 17};
        check_matmul(lvl, pool, 4, q, 4, kt, 0, KE_UN_NONE, 12);
        check_matmul(lvl, pool, 4, p, 4, q, 1, KE_UN_GELU, 12);
        /* fewer slots than matrices: slots per thread */
        check_matmul(lvl, pool, 4, q, 4, kt, 1, KE_UN_RELU, 2);
        check_matmul(lvl, NULL, 4, q, 4, kt, 0, KE_UN_NONE, 1);
        /* B broadcast over A's leading dim; B without batch dims; rank 1 */
        const int64_t a4[] = {2, 3, 5, 7}, b3[] = {3, 7, 9}, b2[] = {7, 9}, v[] = {7};
        check_matmul(lvl, pool, 4, a4, 3, b3, 1, KE_UN_TANH, 6);
        check_matmul(lvl, pool, 4, a4, 2, b2, 1, KE_UN_NONE, 1);
        check_matmul(lvl, pool, 4, a4, 1, v, 0, KE_UN_NONE, 1);
        check_matmul(lvl, pool, 1, v, 3, b3, 0, KE_UN_SIGMOID, 3);
    }
    /* too few slots for the pool's threads: refused, not overrun */
    const int64_t q[] = {3, 4, 17, 8}, kt[] = {3, 4, 8, 17};
    float A[3 * 4 * 17 * 8], B[3 * 4 * 8 * 17], Y[3 * 4 * 17 * 17];
    float *scratch = falloc((int64_t)ke_gemm_matmul_scratch_floats(KE_GEMM_REF, 8, 17, 1));
    fill(A, 3 * 4 * 17 * 8, 1);
    fill(B, 3 * 4 * 8 * 17, 2);
    assert_int_equal(ke_gemm_matmul(KE_GEMM_REF, 4, q, A, 4, kt, B, NULL, Y, KE_UN_NONE,
                                    (ke_unparams_t){0, 0}, scratch, 1, pool, 2),
                     -1);
    free(scratch);
    ke_threadpool_free(pool);
}

/* Contiguous copy of X [4-D] read through perm (a Transpose). */
static void transpose4(const float *X, const int64_t *xs, const int64_t *perm, float *out) {
    int64_t st[4], os[4];
    st[3] = 1;
    for (int d = 2; d >= 0; d--)
        st[d] = st[d + 1] * xs[d + 1];
    for (int i = 0; i < 4; i++)
        os[i] = xs[perm[i]];
    int64_t n = 0;
    for (int64_t i0 = 0; i0 < os[0]; i0++)
        for (int64_t i1 = 0; i1 < os[1]; i1++)
            for (int64_t i2 = 0; i2 < os[2]; i2++)
                for (int64_t i3 = 0; i3 < os[3]; i3++) {
                    const int64_t idx[4] = {i0, i1, i2, i3};
                    int64_t off = 0;
                    for (int i = 0; i < 4; i++)
                        off += idx[i] * st[perm[i]];
                    out[n++] = X[off];
                }
}

/* Attention-style MatMul through Transposes folded into views, against
 * materialised transposes + the OpenBLAS MatMul. */
static void check_views(ke_gemm_level_t lvl, ke_threadpool_t *pool, const int64_t *xs,
                        const int64_t *pa, const int64_t *ws, const int64_t *pb, const int64_t *q,
                        int with_bias, ke_unop_t act, int use_ref, float alpha) {
    int64_t as[4], bs[4], ys[4], zs[4];
    for (int i = 0; i < 4; i++) {
        as[i] = xs[pa[i]];
        bs[i] = ws[pb[i]];
    }
    int ry;
    assert_int_equal(ke_matmul_shape(4, as, 4, bs, &ry, ys), 0);
    for (int i = 0; i < 4; i++)
        zs[i] = ys[q[i]];
    const int64_t na = xs[0] * xs[1] * xs[2] * xs[3], nw = ws[0] * ws[1] * ws[2] * ws[3];
    const int64_t ny = ys[0] * ys[1] * ys[2] * ys[3];
    float *X = falloc(na), *W = falloc(nw), *At = falloc(na), *Bt = falloc(nw);
    float *R = falloc(ny), *Zr = falloc(ny), *Z = falloc(ny), *bias = falloc(ys[3]);
    fill(X, na, 21);
    fill(W, nw, 22);
    fill(bias, ys[3], 23);
    transpose4(X, xs, pa, At);
    transpose4(W, ws, pb, Bt);
    for (int64_t i = 0; i < na; i++) /* alpha * (A @ B) = (alpha * A) @ B */
        At[i] *= alpha;
    const ke_unparams_t ap = {0.1f, 0.0f};
    ke_matmul_f32(4, as, At, 4, bs, Bt, with_bias ? bias : NULL, R, act, ap);
    transpose4(R, ys, q, Zr);
    ke_gemm_view_t a, b, y;
    ke_gemm_view_permuted(&a, 4, xs, pa);
    ke_gemm_view_permuted(&b, 4, ws, pb);
    int64_t qinv[4];
    for (int i = 0; i < 4; i++)
        qinv[q[i]] = i;
    ke_gemm_view_permuted(&y, 4, zs, qinv);
    if (use_ref) {
        ke_gemm_matmul_views_ref(&a, X, &b, W, alpha, with_bias ? bias : NULL, &y, Z, act, ap);
    } else {
        const int64_t slots = 5;
        float *scratch = falloc((int64_t)ke_gemm_matmul_scratch_floats(lvl, as[3], bs[3], slots));
        assert_int_equal(ke_gemm_matmul_views(lvl, &a, X, &b, W, alpha, with_bias ? bias : NULL, &y,
                                              Z, act, ap, scratch, slots, pool,
                                              ke_threadpool_size(pool)),
                         0);
        free(scratch);
    }
    assert_close(Z, Zr, ny, as[3], use_ref ? "views ref" : ke_gemm_level_name(lvl));
    free(X), free(W), free(At), free(Bt), free(R), free(Zr), free(Z), free(bias);
}

static void test_matmul_views(void **st) {
    (void)st;
    char err[128];
    ke_threadpool_t *pool = ke_threadpool_new(2, err, sizeof err);
    assert_non_null(pool);
    /* [B,S,H,D] projections: Q -> [B,H,S,D], K -> [B,H,D,S], context back */
    const int64_t bshd[] = {3, 17, 4, 8}, bhss[] = {3, 4, 17, 17};
    const int64_t p0213[] = {0, 2, 1, 3}, p0231[] = {0, 2, 3, 1}, id[] = {0, 1, 2, 3};
    for (int l = 0; l < KE_GEMM_LEVEL_COUNT; l++) {
        const ke_gemm_level_t lvl = (ke_gemm_level_t)l;
        if (!ke_gemm_level_supported(lvl))
            continue;
        check_views(lvl, pool, bshd, p0213, bshd, p0231, id, 0, KE_UN_NONE, 0, 0.125f);
        check_views(lvl, pool, bhss, id, bshd, p0213, p0213, 1, KE_UN_RELU, 0, 1.0f);
        check_views(lvl, NULL, bshd, p0213, bshd, p0231, p0213, 1, KE_UN_GELU, 0, -0.5f);
        /* B broadcast over the leading dim */
        const int64_t w1[] = {1, 8, 4, 5}, p0123[] = {0, 1, 2, 3};
        check_views(lvl, pool, bshd, p0213, w1, p0213, p0123, 0, KE_UN_NONE, 0, 1.0f);
    }
    check_views(KE_GEMM_REF, NULL, bshd, p0213, bshd, p0231, p0213, 1, KE_UN_TANH, 1, 0.3f);
    ke_threadpool_free(pool);
}

static void test_level_names(void **st) {
    (void)st;
    assert_true(ke_gemm_level_supported(KE_GEMM_REF));
    assert_true(ke_gemm_level_supported(ke_gemm_level_best()));
    assert_string_equal(ke_gemm_level_name(KE_GEMM_AVX512), "avx512");
    assert_int_equal(ke_gemm_pack_floats(KE_GEMM_AVX512, 3, 33), 3 * 64);
    assert_int_equal(ke_gemm_pack_floats(KE_GEMM_AVX2, 3, 16), 3 * 16);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_names),      cmocka_unit_test(test_levels_shapes),
        cmocka_unit_test(test_epilogue_and_big), cmocka_unit_test(test_matmul_batched),
        cmocka_unit_test(test_matmul_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
