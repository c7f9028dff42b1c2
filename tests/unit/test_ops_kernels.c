/* Unit tests for the operator kernels (engine/ke_ops_kern.h): every fast
 * path against its plain reference loop on shapes that hit each branch
 * (same shape, scalar, row broadcast, strided broadcast; 1x1 and im2col
 * convolutions with pads/strides/dilations/groups; batched MatMul). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include "ke_ops_kern.h"

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
        if (!(d <= atol + rtol * fabsf(b[i]))) {
            print_error("element %lld: %g vs %g\n", (long long)i, a[i], b[i]);
            fail();
        }
    }
}

static int64_t numel(int r, const int64_t *s) {
    int64_t n = 1;
    for (int i = 0; i < r; i++)
        n *= s[i];
    return n;
}

static void check_binary(int ra, const int64_t *sa, int rb, const int64_t *sb) {
    int ry;
    int64_t sy[KE_KERN_MAX_RANK];
    assert_int_equal(ke_bcast_shape(ra, sa, rb, sb, &ry, sy), 0);
    ke_bcast_t bc;
    const int rin[2] = {ra, rb};
    const int64_t *in[2] = {sa, sb};
    assert_int_equal(ke_bcast_init(&bc, ry, sy, 2, rin, in), 0);
    int64_t na = numel(ra, sa), nb = numel(rb, sb), ny = numel(ry, sy);
    assert_int_equal(bc.total, ny);
    float *a = malloc(sizeof(float) * (size_t)na), *b = malloc(sizeof(float) * (size_t)nb);
    float *y1 = malloc(sizeof(float) * (size_t)ny), *y2 = malloc(sizeof(float) * (size_t)ny);
    fill(a, na, 1);
    fill(b, nb, 2);
    for (int op = KE_BIN_ADD; op <= KE_BIN_MAX; op++) {
        if (op == KE_BIN_POW)
            for (int64_t i = 0; i < na; i++)
                a[i] = fabsf(a[i]) + 0.5f;
        assert_int_equal(ke_binary((ke_binop_t)op, KE_K_F32, &bc, a, b, y1), 0);
        assert_int_equal(ke_binary_ref((ke_binop_t)op, KE_K_F32, &bc, a, b, y2), 0);
        assert_close(y1, y2, ny, 0, 0);
    }
    /* independent check of Add against the numpy definition */
    ke_binary(KE_BIN_ADD, KE_K_F32, &bc, a, b, y1);
    for (int64_t e = 0; e < ny; e++) {
        int64_t rem = e, oa = 0, ob = 0, ma = 1, mb = 1;
        for (int i = ry - 1; i >= 0; i--) {
            int64_t x = rem % sy[i];
            rem /= sy[i];
            int ia = i - (ry - ra), ib = i - (ry - rb);
            if (ia >= 0) {
                oa += (sa[ia] == 1 ? 0 : x) * ma;
                ma *= sa[ia];
            }
            if (ib >= 0) {
                ob += (sb[ib] == 1 ? 0 : x) * mb;
                mb *= sb[ib];
            }
        }
        assert_true(y1[e] == a[oa] + b[ob]);
    }
    free(a), free(b), free(y1), free(y2);
}

static void test_binary_broadcast(void **st) {
    (void)st;
    const int64_t s234[] = {2, 3, 4}, s4[] = {4}, s1[] = {1}, s31[] = {3, 1}, s214[] = {2, 1, 4};
    const int64_t s5617[] = {5, 6, 1, 7}, s67[] = {6, 1}, s17[] = {1, 7};
    check_binary(3, s234, 3, s234); /* same shape */
    check_binary(3, s234, 0, s1);   /* scalar (rank 0) */
    check_binary(0, s1, 3, s234);   /* scalar on the left */
    check_binary(3, s234, 1, s4);   /* row broadcast */
    check_binary(3, s234, 2, s31);  /* column broadcast: strided */
    check_binary(3, s234, 3, s214); /* middle dim */
    check_binary(4, s5617, 2, s67);
    check_binary(2, s17, 2, s67); /* both sides broadcast */
}

static void test_binary_int_and_compare(void **st) {
    (void)st;
    const int64_t sa[] = {2, 3}, sb[] = {3};
    int64_t a[6] = {-7, 7, 9, -9, 4, 0}, b[3] = {2, -2, 3}, y[6];
    ke_bcast_t bc;
    const int rin[2] = {2, 1};
    const int64_t *in[2] = {sa, sb};
    assert_int_equal(ke_bcast_init(&bc, 2, sa, 2, rin, in), 0);
    assert_int_equal(ke_binary(KE_BIN_MOD, KE_K_I64, &bc, a, b, y), 0);
    /* python semantics: the sign follows the divisor */
    const int64_t mod[6] = {1, -1, 0, 1, 0, 0};
    assert_memory_equal(y, mod, sizeof mod);
    assert_int_equal(ke_binary(KE_BIN_DIV, KE_K_I64, &bc, a, b, y), 0);
    const int64_t dv[6] = {-3, -3, 3, -4, -2, 0};
    assert_memory_equal(y, dv, sizeof dv);
    uint8_t c[6];
    assert_int_equal(ke_binary(KE_BIN_GT, KE_K_I64, &bc, a, b, c), 0);
    const uint8_t gt[6] = {0, 1, 1, 0, 1, 0};
    assert_memory_equal(c, gt, sizeof gt);
    assert_int_equal(ke_binary(KE_BIN_AND, KE_K_I64, &bc, a, b, c), -1); /* bool only */
}

static void test_unary_vs_ref(void **st) {
    (void)st;
    float x[257], y[257];
    fill(x, 257, 3);
    for (int op = KE_UN_NONE; op < KE_UN_COUNT; op++) {
        if (op == KE_UN_ACOSH)
            continue; /* domain [1, inf): checked below */
        ke_unparams_t p = {0.3f, 0.6f};
        ke_unary_f32((ke_unop_t)op, p, x, y, 257);
        for (int i = 0; i < 257; i++) {
            float r = ke_unary_ref((ke_unop_t)op, p, x[i]);
            if (isnan(r)) {
                assert_true(isnan(y[i]));
                continue;
            }
            if (!(fabsf(y[i] - r) <= 1e-6f + 1e-5f * fabsf(r))) {
                print_error("op %d x %g: %g vs %g\n", op, x[i], y[i], r);
                fail();
            }
        }
    }
    assert_true(fabsf(ke_unary_ref(KE_UN_ACOSH, (ke_unparams_t){0, 0}, 2.0f) - 1.3169579f) < 1e-6f);
    assert_true(ke_unary_ref(KE_UN_RELU, (ke_unparams_t){0, 0}, -2.0f) == 0.0f);
    assert_true(fabsf(ke_unary_ref(KE_UN_GELU, (ke_unparams_t){0, 0}, 1.0f) - 0.8413447f) < 1e-6f);
}

static void check_gemm(int ta, int tb, int64_t M, int64_t N, int64_t K, int64_t cm, int64_t cn,
                       ke_unop_t act) {
    float *A = malloc(sizeof(float) * (size_t)(M * K)),
          *B = malloc(sizeof(float) * (size_t)(K * N));
    float *C = malloc(sizeof(float) * (size_t)(cm * cn));
    float *Y1 = malloc(sizeof(float) * (size_t)(M * N)),
          *Y2 = malloc(sizeof(float) * (size_t)(M * N));
    fill(A, M * K, 4);
    fill(B, K * N, 5);
    fill(C, cm * cn, 6);
    ke_unparams_t p = {0.1f, 0};
    ke_gemm_f32(ta, tb, M, N, K, 0.7f, A, B, 1.3f, C, cm, cn, Y1, act, p);
    ke_gemm_ref(ta, tb, M, N, K, 0.7f, A, B, 1.3f, C, cm, cn, Y2, act, p);
    assert_close(Y1, Y2, M * N, 1e-4f, 1e-5f);
    free(A), free(B), free(C), free(Y1), free(Y2);
}

static void test_gemm(void **st) {
    (void)st;
    check_gemm(0, 0, 7, 5, 3, 1, 5, KE_UN_NONE);
    check_gemm(1, 0, 7, 5, 3, 7, 5, KE_UN_RELU);
    check_gemm(0, 1, 33, 17, 65, 33, 1, KE_UN_SIGMOID);
    check_gemm(1, 1, 4, 9, 6, 1, 1, KE_UN_GELU);
    check_gemm(0, 0, 64, 128, 784, 1, 128, KE_UN_LEAKY_RELU);
}

static void test_matmul_batched(void **st) {
    (void)st;
    /* A [2,3,4,5] @ B [3,5,6] -> [2,3,4,6], B broadcast over dim 0 */
    const int64_t sa[] = {2, 3, 4, 5}, sb[] = {3, 5, 6};
    int ry;
    int64_t sy[KE_KERN_MAX_RANK];
    assert_int_equal(ke_matmul_shape(4, sa, 3, sb, &ry, sy), 0);
    assert_int_equal(ry, 4);
    assert_int_equal(sy[3], 6);
    float A[120], B[90], bias[6], Y[144], R[24];
    fill(A, 120, 7);
    fill(B, 90, 8);
    fill(bias, 6, 9);
    ke_matmul_f32(4, sa, A, 3, sb, B, bias, Y, KE_UN_NONE, (ke_unparams_t){0, 0});
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) {
            ke_gemm_ref(0, 0, 4, 6, 5, 1.0f, A + (i * 3 + j) * 20, B + j * 30, 1.0f, bias, 1, 6, R,
                        KE_UN_NONE, (ke_unparams_t){0, 0});
            assert_close(Y + (i * 3 + j) * 24, R, 24, 1e-5f, 1e-6f);
        }
    /* [8,16] @ [16] -> [8] (vector on the right) and 2-D B shared: one sgemm */
    const int64_t s2[] = {8, 16}, s1[] = {16};
    assert_int_equal(ke_matmul_shape(2, s2, 1, s1, &ry, sy), 0);
    assert_int_equal(ry, 1);
    assert_int_equal(sy[0], 8);
    const int64_t bad[] = {15, 3};
    assert_int_equal(ke_matmul_shape(2, s2, 2, bad, &ry, sy), -1);
}

static void check_conv(int nd, int64_t n, int64_t c, int64_t m, int64_t group, const int64_t *in,
                       const int64_t *k, const int64_t *stride, const int64_t *dil,
                       const int64_t *pb, const int64_t *pe) {
    ke_conv_geom_t g = {.nd = nd, .n = n, .c = c, .m = m, .group = group};
    int64_t isz = 1, osz = 1, ksz = 1;
    for (int i = 0; i < nd; i++) {
        g.in[i] = in[i];
        g.k[i] = k[i];
        g.stride[i] = stride[i];
        g.dil[i] = dil[i];
        g.pad_begin[i] = pb[i];
        g.pad_end[i] = pe[i];
        g.out[i] = ke_conv_out_dim(in[i], k[i], stride[i], dil[i], pb[i], pe[i], 0);
        isz *= in[i];
        osz *= g.out[i];
        ksz *= k[i];
    }
    float *X = malloc(sizeof(float) * (size_t)(n * c * isz));
    float *W = malloc(sizeof(float) * (size_t)(m * (c / group) * ksz));
    float *B = malloc(sizeof(float) * (size_t)m);
    float *Y1 = malloc(sizeof(float) * (size_t)(n * m * osz));
    float *Y2 = malloc(sizeof(float) * (size_t)(n * m * osz));
    float *scratch = malloc(ke_conv_scratch_bytes(&g) + 1);
    fill(X, n * c * isz, 10);
    fill(W, m * (c / group) * ksz, 11);
    fill(B, m, 12);
    ke_conv_f32(&g, X, W, B, Y1, scratch, KE_UN_NONE, (ke_unparams_t){0, 0});
    ke_conv_ref(&g, X, W, B, Y2);
    assert_close(Y1, Y2, n * m * osz, 1e-4f, 1e-5f);
    free(X), free(W), free(B), free(Y1), free(Y2), free(scratch);
}

static void test_conv(void **st) {
    (void)st;
    const int64_t one[3] = {1, 1, 1}, two[3] = {2, 2, 2}, zero[3] = {0, 0, 0};
    const int64_t in28[2] = {28, 28}, k5[2] = {5, 5}, k3[2] = {3, 3}, k1[2] = {1, 1};
    const int64_t in9x7[2] = {9, 7}, p12[2] = {1, 2}, k23[2] = {2, 3};
    check_conv(2, 2, 1, 8, 1, in28, k5, one, one, two, two);    /* MNIST-like, padded */
    check_conv(2, 1, 6, 4, 1, in9x7, k1, one, one, zero, zero); /* 1x1: no im2col */
    check_conv(2, 2, 6, 4, 2, in9x7, k3, two, one, p12, one);   /* groups, stride, asym pads */
    check_conv(2, 1, 4, 4, 4, in9x7, k23, one, two, one, one);  /* depthwise, dilation */
    const int64_t in1[1] = {17}, kk[1] = {4}, s3[1] = {3};
    check_conv(1, 3, 2, 3, 1, in1, kk, s3, one, one, zero); /* 1-D */
    const int64_t in3[3] = {4, 5, 6}, k3d[3] = {2, 2, 3};
    check_conv(3, 1, 2, 2, 1, in3, k3d, one, one, one, zero); /* 3-D */
    int64_t pb = 0, pe = 0;
    assert_int_equal(ke_conv_auto_pad("SAME_UPPER", 7, 4, 2, 1, &pb, &pe), 0);
    assert_int_equal(pb, 1);
    assert_int_equal(pe, 2);
    assert_int_equal(ke_conv_auto_pad("SAME_LOWER", 7, 4, 2, 1, &pb, &pe), 0);
    assert_int_equal(pb, 2);
    assert_int_equal(ke_conv_auto_pad("BOGUS", 7, 4, 2, 1, &pb, &pe), -1);
}

static void test_pool(void **st) {
    (void)st;
    /* 1x1x4x4 ramp, 2x2 stride 2 */
    float X[16], Y[4];
    for (int i = 0; i < 16; i++)
        X[i] = (float)i;
    ke_conv_geom_t g = {.nd = 2, .n = 1, .c = 1, .m = 1, .group = 1};
    for (int i = 0; i < 2; i++) {
        g.in[i] = 4;
        g.k[i] = 2;
        g.stride[i] = 2;
        g.dil[i] = 1;
        g.out[i] = 2;
    }
    ke_pool_f32(&g, KE_POOL_MAX, 0, 2, X, Y);
    const float mx[4] = {5, 7, 13, 15};
    assert_close(Y, mx, 4, 0, 0);
    ke_pool_f32(&g, KE_POOL_AVG, 0, 2, X, Y);
    const float av[4] = {2.5f, 4.5f, 10.5f, 12.5f};
    assert_close(Y, av, 4, 0, 0);
    /* pad 1 at the start: corner window sees one real value */
    for (int i = 0; i < 2; i++) {
        g.pad_begin[i] = 1;
        g.out[i] = ke_conv_out_dim(4, 2, 2, 1, 1, 0, 0);
    }
    assert_int_equal(g.out[0], 2);
    ke_pool_f32(&g, KE_POOL_AVG, 0, 2, X, Y);
    assert_true(Y[0] == 0.0f);
    ke_pool_f32(&g, KE_POOL_AVG, 1, 2, X, Y);
    assert_true(Y[0] == 0.0f);
    assert_true(fabsf(Y[1] - (1.0f + 2.0f) / 4.0f) < 1e-6f);
    /* ceil mode adds a partial window */
    assert_int_equal(ke_conv_out_dim(5, 2, 2, 1, 0, 0, 1), 3);
    assert_int_equal(ke_conv_out_dim(5, 2, 2, 1, 0, 0, 0), 2);
}

static void test_softmax_layernorm(void **st) {
    (void)st;
    float X[3 * 5 * 2], Y[30], L[30];
    fill(X, 30, 13);
    /* axis in the middle: [3, 5, 2] over 5 */
    ke_softmax_f32(3, 5, 2, X, Y, 0);
    ke_softmax_f32(3, 5, 2, X, L, 1);
    for (int o = 0; o < 3; o++)
        for (int i = 0; i < 2; i++) {
            double s = 0, m = -1e30;
            for (int j = 0; j < 5; j++)
                m = fmax(m, X[o * 10 + j * 2 + i]);
            for (int j = 0; j < 5; j++)
                s += exp(X[o * 10 + j * 2 + i] - m);
            for (int j = 0; j < 5; j++) {
                int e = o * 10 + j * 2 + i;
                assert_true(fabs(Y[e] - exp(X[e] - m) / s) < 1e-6);
                assert_true(fabs(L[e] - (X[e] - m - log(s))) < 1e-5);
            }
        }
    /* contiguous rows: [6, 5] */
    ke_softmax_f32(6, 5, 1, X, Y, 0);
    for (int r = 0; r < 6; r++) {
        double s = 0;
        for (int j = 0; j < 5; j++)
            s += Y[r * 5 + j];
        assert_true(fabs(s - 1.0) < 1e-6);
    }
    float sc[10], b[10], mean[3], inv[3];
    fill(sc, 10, 14);
    fill(b, 10, 15);
    ke_layernorm_f32(3, 10, X, sc, b, 1e-5f, Y, mean, inv);
    for (int r = 0; r < 3; r++) {
        double m = 0, v = 0;
        for (int j = 0; j < 10; j++)
            m += X[r * 10 + j];
        m /= 10;
        for (int j = 0; j < 10; j++)
            v += (X[r * 10 + j] - m) * (X[r * 10 + j] - m);
        v /= 10;
        assert_true(fabs(mean[r] - m) < 1e-6);
        for (int j = 0; j < 10; j++) {
            double e = (X[r * 10 + j] - m) / sqrt(v + 1e-5) * sc[j] + b[j];
            assert_true(fabs(Y[r * 10 + j] - e) < 1e-5);
        }
    }
}

static void test_reduce_and_argmax(void **st) {
    (void)st;
    const int64_t s[3] = {3, 4, 5};
    float X[60], Y[20];
    fill(X, 60, 16);
    /* reduce the middle axis (general path) */
    const uint8_t mid[3] = {0, 1, 0};
    ke_reduce_f32(KE_RED_SUM, 3, s, mid, X, Y);
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 5; k++) {
            double acc = 0;
            for (int j = 0; j < 4; j++)
                acc += X[(i * 4 + j) * 5 + k];
            assert_true(fabs(Y[i * 5 + k] - acc) < 1e-5);
        }
    /* trailing axes (fast path) vs general path via max */
    const uint8_t tail[3] = {0, 1, 1};
    ke_reduce_f32(KE_RED_MAX, 3, s, tail, X, Y);
    for (int i = 0; i < 3; i++) {
        float m = -INFINITY;
        for (int j = 0; j < 20; j++)
            m = fmaxf(m, X[i * 20 + j]);
        assert_true(Y[i] == m);
    }
    const uint8_t first[3] = {1, 0, 0};
    ke_reduce_f32(KE_RED_MEAN, 3, s, first, X, Y);
    for (int j = 0; j < 20; j++)
        assert_true(fabs(Y[j] - (X[j] + X[20 + j] + X[40 + j]) / 3.0) < 1e-6);
    int64_t I[20];
    float T[6] = {1, 5, 5, 2, 0, 2};
    ke_argminmax_f32(2, 3, 1, T, I, 1, 0);
    assert_int_equal(I[0], 1);
    assert_int_equal(I[1], 0);
    ke_argminmax_f32(2, 3, 1, T, I, 1, 1);
    assert_int_equal(I[0], 2);
    assert_int_equal(I[1], 2);
}

static void test_movement(void **st) {
    (void)st;
    const int64_t s[3] = {2, 3, 4}, perm[3] = {2, 0, 1};
    float X[24], Y[24];
    for (int i = 0; i < 24; i++)
        X[i] = (float)i;
    ke_transpose(3, s, perm, X, Y, 4);
    /* Y[k,i,j] = X[i,j,k], Y shape [4,2,3] */
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                assert_true(Y[(k * 2 + i) * 3 + j] == X[(i * 3 + j) * 4 + k]);
    /* slice [:, ::-2, 1:3] */
    const int64_t starts[3] = {0, 2, 1}, steps[3] = {1, -2, 1}, out[3] = {2, 2, 2};
    ke_slice(3, s, starts, steps, out, X, Y, 4);
    const float want[8] = {9, 10, 1, 2, 21, 22, 13, 14};
    assert_close(Y, want, 8, 0, 0);
    const int64_t idx[2] = {2, 0};
    ke_gather(2, 3, 4, idx, 2, X, Y, 4);
    assert_true(Y[0] == 8 && Y[4] == 0 && Y[8] == 20 && Y[12] == 12);
    /* Expand a [3,1] column to [2,3,4] */
    const int64_t col[2] = {3, 1};
    ke_bcast_t bc;
    const int rin[1] = {2};
    const int64_t *in[1] = {col};
    assert_int_equal(ke_bcast_init(&bc, 3, s, 1, rin, in), 0);
    float c3[3] = {7, 8, 9};
    ke_expand(&bc, c3, Y, 4);
    for (int i = 0; i < 24; i++)
        assert_true(Y[i] == c3[(i / 4) % 3]);
    const int64_t bad[2] = {2, 5};
    in[0] = bad;
    assert_int_equal(ke_bcast_init(&bc, 3, s, 1, rin, in), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_broadcast),
        cmocka_unit_test(test_binary_int_and_compare),
        cmocka_unit_test(test_unary_vs_ref),
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_matmul_batched),
        cmocka_unit_test(test_conv),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_softmax_layernorm),
        cmocka_unit_test(test_reduce_and_argmax),
        cmocka_unit_test(test_movement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
