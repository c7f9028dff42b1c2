/* Unit tests for the Conv and pooling fast paths (engine/ke_ops_conv.c,
 * engine/ke_ops_pool.c) against their reference loops: pooling over a grid
 * of odd shapes, kernels, strides, dilations, pads and ceil mode (MAX must
 * match bit for bit, AVG within float rounding); the threaded Conv over
 * lanes and a real thread pool, with groups, strides, dilations, pads, 1x1
 * kernels and fused activations, at every tile-kernel level this CPU runs
 * (ke_conv_f32_level forces each); and Conv with a fused MaxPool
 * (ke_conv_pool_t) against the reference Conv + pooling. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include "ke_conv_direct.h"
#include "ke_ops_kern.h"
#include "ke_threadpool.h"

/* deterministic pseudo-random floats in [-1, 1) */
static void fill(float *p, int64_t n, uint32_t seed) {
    uint32_t s = seed * 2654435761u + 1;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

static void assert_close(const float *a, const float *b, int64_t n, float rtol, float atol) {
    for (int64_t i = 0; i < n; i++) {
        float d = fabsf(a[i] - b[i]);
        if (!(d <= atol + rtol * fabsf(b[i])) && !(isinf(a[i]) && a[i] == b[i])) {
            print_error("element %lld: %.9g vs %.9g\n", (long long)i, a[i], b[i]);
            fail();
        }
    }
}

static int64_t prod_out(const ke_conv_geom_t *g) {
    int64_t n = 1;
    for (int i = 0; i < g->nd; i++)
        n *= g->out[i];
    return n;
}

static int64_t prod_in(const ke_conv_geom_t *g) {
    int64_t n = 1;
    for (int i = 0; i < g->nd; i++)
        n *= g->in[i];
    return n;
}

/* Fills the output dims; returns 0 when the geometry is empty. */
static int finish_geom(ke_conv_geom_t *g, int ceil_mode) {
    for (int i = 0; i < g->nd; i++) {
        g->out[i] = ke_conv_out_dim(g->in[i], g->k[i], g->stride[i], g->dil[i], g->pad_begin[i],
                                    g->pad_end[i], ceil_mode);
        if (g->out[i] < 1)
            return 0;
    }
    return 1;
}

static int check_pool_case(const ke_conv_geom_t *g, ke_pool_t kind, int cip) {
    int64_t ni = g->n * g->c * prod_in(g), no = g->n * g->c * prod_out(g);
    float *X = malloc(sizeof(float) * (size_t)ni);
    float *Y1 = malloc(sizeof(float) * (size_t)no), *Y2 = malloc(sizeof(float) * (size_t)no);
    fill(X, ni, (uint32_t)(ni + no));
    memset(Y1, 0xff, sizeof(float) * (size_t)no); /* NaN: every output must be written */
    ke_pool_f32(g, kind, cip, 2, X, Y1);
    ke_pool_ref(g, kind, cip, 2, X, Y2);
    if (kind == KE_POOL_MAX)
        assert_memory_equal(Y1, Y2, sizeof(float) * (size_t)no);
    else
        assert_close(Y1, Y2, no, 1e-5f, 1e-6f);
    /* the plane split used for threading covers the same result */
    if (g->n * g->c > 1) {
        memset(Y1, 0xff, sizeof(float) * (size_t)no);
        int64_t mid = g->n * g->c / 2;
        ke_pool_planes_f32(g, kind, cip, 2, X, Y1, mid, g->n * g->c);
        ke_pool_planes_f32(g, kind, cip, 2, X, Y1, 0, mid);
        assert_close(Y1, Y2, no, 1e-5f, 1e-6f);
    }
    free(X);
    free(Y1);
    free(Y2);
    return 1;
}

static void test_pool_2d_grid(void **st) {
    (void)st;
    static const int64_t ins[][2] = {{1, 1}, {5, 7}, {8, 8}, {13, 6}, {28, 28}};
    int checked = 0;
    for (size_t ii = 0; ii < sizeof ins / sizeof ins[0]; ii++)
        for (int64_t kh = 1; kh <= 3; kh++)
            for (int64_t kw = 1; kw <= 4; kw++)
                for (int64_t s = 1; s <= 3; s++)
                    for (int64_t d = 1; d <= 2; d++)
                        for (int64_t pad = 0; pad <= 2; pad++)
                            for (int cm = 0; cm <= 1; cm++)
                                for (int kind = KE_POOL_MAX; kind <= KE_POOL_AVG; kind++) {
                                    if (kind == KE_POOL_AVG && d != 1)
                                        continue;
                                    ke_conv_geom_t g = {.nd = 2, .n = 2, .c = 3, .group = 1};
                                    g.m = g.c;
                                    g.in[0] = ins[ii][0];
                                    g.in[1] = ins[ii][1];
                                    g.k[0] = kh;
                                    g.k[1] = kw;
                                    g.stride[0] = s;
                                    g.stride[1] = s == 3 ? 2 : s; /* mixed strides too */
                                    g.dil[0] = d;
                                    g.dil[1] = d;
                                    /* asymmetric pads, never as wide as the kernel */
                                    g.pad_begin[0] = pad < kh ? pad : kh - 1;
                                    g.pad_end[0] = pad / 2 < kh ? pad / 2 : kh - 1;
                                    g.pad_begin[1] = pad / 2 < kw ? pad / 2 : kw - 1;
                                    g.pad_end[1] = pad < kw ? pad : kw - 1;
                                    if (!finish_geom(&g, cm))
                                        continue;
                                    checked += check_pool_case(&g, (ke_pool_t)kind, (int)(pad & 1));
                                }
    assert_true(checked > 1000);
}

static void test_pool_1d_3d_lp(void **st) {
    (void)st;
    /* 1-D takes the fast path; 3-D and LpPool the reference one */
    ke_conv_geom_t g = {.nd = 1, .n = 3, .c = 2, .m = 2, .group = 1};
    g.in[0] = 17;
    g.k[0] = 3;
    g.stride[0] = 2;
    g.dil[0] = 1;
    g.pad_begin[0] = 1;
    g.pad_end[0] = 2;
    assert_true(finish_geom(&g, 1));
    check_pool_case(&g, KE_POOL_MAX, 0);
    check_pool_case(&g, KE_POOL_AVG, 1);
    check_pool_case(&g, KE_POOL_LP, 0);
    ke_conv_geom_t h = {.nd = 3, .n = 1, .c = 2, .m = 2, .group = 1};
    for (int i = 0; i < 3; i++) {
        h.in[i] = 5 + i;
        h.k[i] = 2;
        h.stride[i] = 2;
        h.dil[i] = 1;
        h.pad_begin[i] = i == 1;
    }
    assert_true(finish_geom(&h, 0));
    check_pool_case(&h, KE_POOL_MAX, 0);
    check_pool_case(&h, KE_POOL_AVG, 0);
}

static void test_pool_known_values(void **st) {
    (void)st;
    /* 2x2 stride 2 max over a 4x4 ramp: independent of both code paths */
    ke_conv_geom_t g = {.nd = 2, .n = 1, .c = 1, .m = 1, .group = 1};
    for (int i = 0; i < 2; i++) {
        g.in[i] = 4;
        g.k[i] = 2;
        g.stride[i] = 2;
        g.dil[i] = 1;
    }
    assert_true(finish_geom(&g, 0));
    float X[16], Y[4];
    for (int i = 0; i < 16; i++)
        X[i] = (float)((i * 7) % 16);
    ke_pool_f32(&g, KE_POOL_MAX, 0, 2, X, Y);
    for (int oh = 0; oh < 2; oh++)
        for (int ow = 0; ow < 2; ow++) {
            float m = -INFINITY;
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 2; b++) {
                    float v = X[(2 * oh + a) * 4 + 2 * ow + b];
                    m = v > m ? v : m;
                }
            assert_true(Y[oh * 2 + ow] == m);
        }
}

/* ---- Conv ------------------------------------------------------------------ */

static void check_conv(ke_threadpool_t *tp, int nd, int64_t n, int64_t c, int64_t m, int64_t group,
                       const int64_t *in, const int64_t *k, const int64_t *s, const int64_t *d,
                       const int64_t *pb, const int64_t *pe, ke_unop_t act) {
    ke_conv_geom_t g = {.nd = nd, .n = n, .c = c, .m = m, .group = group};
    for (int i = 0; i < nd; i++) {
        g.in[i] = in[i];
        g.k[i] = k[i];
        g.stride[i] = s[i];
        g.dil[i] = d[i];
        g.pad_begin[i] = pb[i];
        g.pad_end[i] = pe[i];
    }
    assert_true(finish_geom(&g, 0));
    int64_t ksz = 1;
    for (int i = 0; i < nd; i++)
        ksz *= k[i];
    int64_t nx = n * c * prod_in(&g), nw = m * (c / group) * ksz, ny = n * m * prod_out(&g);
    float *X = malloc(sizeof(float) * (size_t)nx), *W = malloc(sizeof(float) * (size_t)nw);
    float B[128];
    float *Y1 = malloc(sizeof(float) * (size_t)ny), *Y2 = malloc(sizeof(float) * (size_t)ny);
    fill(X, nx, 11);
    fill(W, nw, 12);
    fill(B, m, 13);
    const ke_unparams_t ap = {0.1f, 0};
    ke_conv_ref(&g, X, W, B, Y2);
    for (int64_t i = 0; i < ny; i++)
        Y2[i] = ke_unary_ref(act, ap, Y2[i]);
    for (int64_t lanes = 1; lanes <= 5; lanes += 2) {
        size_t sb = ke_conv_scratch_bytes(&g) * (size_t)lanes;
        float *scratch = aligned_alloc(64, (sb + 64) / 64 * 64);
        memset(Y1, 0xff, sizeof(float) * (size_t)ny);
        ke_conv_f32_mt(&g, X, W, B, Y1, scratch, lanes, tp, act, ap);
        assert_close(Y1, Y2, ny, 1e-4f, 1e-5f);
        /* every tile kernel level this CPU runs (the default took the best) */
        for (int lv = 0; lv < KE_GEMM_LEVEL_COUNT; lv++) {
            memset(Y1, 0xff, sizeof(float) * (size_t)ny);
            int rc = ke_conv_f32_level((ke_gemm_level_t)lv, &g, NULL, X, W, B, Y1, scratch, lanes,
                                       tp, act, ap);
            assert_int_equal(rc, ke_gemm_level_supported((ke_gemm_level_t)lv) ? 0 : -1);
            if (rc == 0)
                assert_close(Y1, Y2, ny, 1e-4f, 1e-5f);
        }
        /* the lane count the op wrapper would pick never exceeds the scratch */
        int64_t l2 = ke_conv_lanes(&g, 8, sb);
        assert_true(l2 >= 1 && l2 <= (lanes > n * group ? lanes : n * group));
        if (ke_conv_scratch_bytes(&g))
            assert_true((size_t)l2 * ke_conv_scratch_bytes(&g) <= sb);
        free(scratch);
    }
    free(X);
    free(W);
    free(Y1);
    free(Y2);
}

static void test_conv_threaded(void **st) {
    (void)st;
    char err[128];
    ke_threadpool_t *tp = ke_threadpool_new(3, err, sizeof err);
    assert_non_null(tp);
    const int64_t one[3] = {1, 1, 1}, two[3] = {2, 2, 2}, zero[3] = {0, 0, 0};
    const int64_t in28[2] = {28, 28}, in9x7[2] = {9, 7}, k3[2] = {3, 3}, k1[2] = {1, 1};
    const int64_t k23[2] = {2, 3}, p12[2] = {1, 2}, s21[2] = {2, 1};
    ke_threadpool_t *pools[2] = {NULL, tp};
    for (int pi = 0; pi < 2; pi++) {
        ke_threadpool_t *p = pools[pi];
        check_conv(p, 2, 7, 1, 8, 1, in28, k3, one, one, one, one, KE_UN_RELU); /* the CNN's */
        check_conv(p, 2, 5, 8, 16, 1, in9x7, k3, one, one, one, one, KE_UN_NONE);
        check_conv(p, 2, 3, 6, 4, 1, in9x7, k1, one, one, zero, zero, KE_UN_SIGMOID); /* 1x1 */
        check_conv(p, 2, 3, 6, 4, 1, in9x7, k1, two, one, zero, zero, KE_UN_NONE);    /* 1x1 s2 */
        check_conv(p, 2, 2, 6, 4, 2, in9x7, k3, s21, one, p12, one, KE_UN_LEAKY_RELU);
        check_conv(p, 2, 3, 4, 4, 4, in9x7, k23, one, two, one, one, KE_UN_TANH); /* dw */
        check_conv(p, 2, 1, 3, 5, 1, in9x7, k3, two, two, two, zero, KE_UN_NONE); /* b1 */
        const int64_t in1[1] = {11}, kk[1] = {3}, s3[1] = {3};
        check_conv(p, 1, 4, 2, 3, 1, in1, kk, s3, one, one, zero, KE_UN_RELU);
        /* stride 1, direct path: partial channel blocks, asymmetric pads,
         * mixed dilation, groups, 1-D; and a reduction too long for it */
        const int64_t d21[2] = {2, 1}, p20[2] = {2, 0}, p03[2] = {0, 3}, in5x31[2] = {5, 31};
        check_conv(p, 2, 3, 6, 22, 2, in9x7, k3, one, d21, p20, p03, KE_UN_RELU);
        check_conv(p, 2, 2, 3, 11, 1, in5x31, k23, one, one, p12, zero, KE_UN_NONE);
        const int64_t in1s[1] = {19}, k5[1] = {5}, p3[1] = {3};
        check_conv(p, 1, 2, 4, 9, 1, in1s, k5, one, two, p3, one, KE_UN_GELU);
        check_conv(p, 2, 2, 72, 8, 1, in9x7, k3, one, one, one, one, KE_UN_NONE);
        /* strided, direct path (stride phases): even/odd sizes, pads cut
         * short, stride over the kernel, dilation; and im2col (long) */
        const int64_t in8x9[2] = {8, 9}, s22[2] = {2, 2}, s32[2] = {3, 2}, p10[2] = {1, 0};
        const int64_t k5x2[2] = {5, 2}, in13[2] = {13, 12};
        check_conv(p, 2, 3, 4, 9, 1, in8x9, k3, s22, one, one, one, KE_UN_RELU);
        check_conv(p, 2, 2, 3, 17, 1, in13, k5x2, s32, d21, p12, p10, KE_UN_NONE);
        check_conv(p, 2, 2, 4, 6, 2, in13, k23, s32, one, zero, one, KE_UN_SIGMOID);
        check_conv(p, 2, 2, 5, 8, 1, in13, k1, s32, one, one, zero, KE_UN_NONE);
        check_conv(p, 2, 2, 72, 8, 1, in13, k3, s22, one, one, one, KE_UN_RELU);
        const int64_t s2[1] = {2};
        check_conv(p, 1, 3, 3, 10, 1, in1s, k5, s2, two, p3, zero, KE_UN_NONE);
        const int64_t in3[3] = {4, 5, 3}, k3d[3] = {2, 2, 2};
        check_conv(p, 3, 3, 2, 2, 1, in3, k3d, one, one, one, zero, KE_UN_NONE);
    }
    ke_threadpool_free(tp);
}

/* Conv (+ act) with a fused MaxPool (window = stride) at every level vs
 * the reference Conv, activation and pooling one after the other. */
static void check_conv_pool(ke_threadpool_t *tp, int nd, int64_t n, int64_t c, int64_t m,
                            int64_t group, const int64_t *in, const int64_t *k, const int64_t *st,
                            const int64_t *d, const int64_t *pb, const int64_t *pe,
                            const int64_t *win, ke_unop_t act) {
    ke_conv_geom_t g = {.nd = nd, .n = n, .c = c, .m = m, .group = group};
    ke_conv_geom_t pg = {.nd = nd, .n = n, .c = m, .m = m, .group = 1};
    int64_t ksz = 1, npo = 1;
    for (int i = 0; i < nd; i++) {
        g.in[i] = in[i];
        g.k[i] = k[i];
        g.stride[i] = st[i];
        g.dil[i] = d[i];
        g.pad_begin[i] = pb[i];
        g.pad_end[i] = pe[i];
        ksz *= k[i];
    }
    assert_true(finish_geom(&g, 0));
    for (int i = 0; i < nd; i++) {
        pg.in[i] = g.out[i];
        pg.k[i] = pg.stride[i] = win[i];
        pg.dil[i] = 1;
    }
    assert_true(finish_geom(&pg, 0));
    for (int i = 0; i < nd; i++)
        npo *= pg.out[i];
    const ke_conv_pool_t pl = {nd == 2 ? win[0] : 1, win[nd - 1]};
    assert_true(ke_conv_pool_ok(&g, &pl));
    int64_t nx = n * c * prod_in(&g), nw = m * (c / group) * ksz, ny = n * m * prod_out(&g);
    int64_t np = n * m * npo;
    float *X = malloc(sizeof(float) * (size_t)nx), *W = malloc(sizeof(float) * (size_t)nw);
    float B[128];
    float *Yc = malloc(sizeof(float) * (size_t)ny), *Y2 = malloc(sizeof(float) * (size_t)np);
    float *Y1 = malloc(sizeof(float) * (size_t)np);
    fill(X, nx, 21);
    fill(W, nw, 22);
    fill(B, m, 23);
    const ke_unparams_t ap = {0.1f, 0};
    ke_conv_ref(&g, X, W, B, Yc);
    for (int64_t i = 0; i < ny; i++)
        Yc[i] = ke_unary_ref(act, ap, Yc[i]);
    ke_pool_ref(&pg, KE_POOL_MAX, 0, 2, Yc, Y2);
    for (int64_t lanes = 1; lanes <= 3; lanes += 2) {
        size_t sb = ke_conv_scratch_bytes(&g) * (size_t)lanes;
        float *scratch = aligned_alloc(64, (sb + 64) / 64 * 64);
        for (int lv = 0; lv < KE_GEMM_LEVEL_COUNT; lv++) {
            memset(Y1, 0xff, sizeof(float) * (size_t)np);
            int rc = ke_conv_f32_level((ke_gemm_level_t)lv, &g, &pl, X, W, B, Y1, scratch, lanes,
                                       tp, act, ap);
            assert_int_equal(rc, ke_gemm_level_supported((ke_gemm_level_t)lv) ? 0 : -1);
            if (rc == 0)
                assert_close(Y1, Y2, np, 1e-4f, 1e-5f);
        }
        free(scratch);
    }
    free(X);
    free(W);
    free(Yc);
    free(Y1);
    free(Y2);
}

static void test_conv_pool_fused(void **st) {
    (void)st;
    char err[128];
    ke_threadpool_t *tp = ke_threadpool_new(2, err, sizeof err);
    assert_non_null(tp);
    const int64_t one[2] = {1, 1}, zero[2] = {0, 0}, w2[2] = {2, 2}, w32[2] = {3, 2};
    const int64_t in28[2] = {28, 28}, in14[2] = {14, 14}, in9x7[2] = {9, 7}, k3[2] = {3, 3};
    const int64_t k1[2] = {1, 1}, d21[2] = {2, 1}, p12[2] = {1, 2};
    /* the CNN's two layers; odd sizes (floor drops the last row/column),
     * partial channel blocks, groups, dilation, a 3x2 window, 1x1 kernel
     * with pads, activations before the max, and 1-D */
    check_conv_pool(tp, 2, 3, 1, 8, 1, in28, k3, one, one, one, one, w2, KE_UN_RELU);
    check_conv_pool(tp, 2, 3, 8, 16, 1, in14, k3, one, one, one, one, w2, KE_UN_RELU);
    check_conv_pool(tp, 2, 2, 6, 10, 2, in9x7, k3, one, d21, p12, one, w2, KE_UN_NONE);
    check_conv_pool(tp, 2, 2, 3, 5, 1, in9x7, k3, one, one, one, zero, w32, KE_UN_TANH);
    check_conv_pool(NULL, 2, 2, 4, 7, 1, in9x7, k1, one, one, one, one, w2, KE_UN_GELU);
    const int64_t s2[2] = {2, 2}, in17[2] = {17, 18};
    check_conv_pool(tp, 2, 2, 3, 9, 1, in17, k3, s2, one, one, zero, w2, KE_UN_RELU);
    const int64_t in1[1] = {19}, kk[1] = {5}, p3[1] = {3}, w3[1] = {3};
    check_conv_pool(tp, 1, 2, 4, 9, 1, in1, kk, one, one, p3, one, w3, KE_UN_LEAKY_RELU);
    /* what the direct path cannot take is refused */
    ke_conv_geom_t g = {.nd = 2, .n = 1, .c = 4, .m = 4, .group = 1};
    for (int i = 0; i < 2; i++) {
        g.in[i] = 6;
        g.k[i] = 1;
        g.stride[i] = 1;
        g.dil[i] = 1;
    }
    assert_true(finish_geom(&g, 0));
    const ke_conv_pool_t p2 = {2, 2}, big = {7, 2};
    assert_false(ke_conv_pool_ok(&g, &p2)); /* plain 1x1 */
    g.k[0] = g.k[1] = 3;
    assert_true(finish_geom(&g, 0));
    assert_true(ke_conv_pool_ok(&g, &p2));
    assert_false(ke_conv_pool_ok(&g, &big)); /* window over the output */
    g.stride[0] = 2;
    assert_true(finish_geom(&g, 0));
    assert_true(ke_conv_pool_ok(&g, &p2)); /* strided: phases */
    g.nd = 3;
    g.in[2] = 4;
    g.k[2] = 1;
    g.stride[2] = 1;
    g.dil[2] = 1;
    assert_true(finish_geom(&g, 0));
    assert_false(ke_conv_pool_ok(&g, &p2)); /* 3-D */
    ke_threadpool_free(tp);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_2d_grid),      cmocka_unit_test(test_pool_1d_3d_lp),
        cmocka_unit_test(test_pool_known_values), cmocka_unit_test(test_conv_threaded),
        cmocka_unit_test(test_conv_pool_fused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
