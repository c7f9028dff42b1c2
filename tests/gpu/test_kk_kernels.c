/* Differential tests: every CUDA kernel against its plain-C reference over
 * random shapes, odd sizes and broadcasting. FP32 tolerance rtol 1e-4,
 * atol 1e-5; GEMMs (inputs in [-1, 1], K <= 300): FP32 rtol/atol 1e-4,
 * TF32 5e-3, FP16 operands 1e-2, BF16 operands 5e-2 (kk_gemm.h). Exits 77
 * (SKIP) without a GPU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kk_conv.h"
#include "kk_convert.h"
#include "kk_cuda.h"
#include "kk_device.h"
#include "kk_elementwise.h"
#include "kk_gemm.h"
#include "kk_movement.h"
#include "kk_reduce.h"
#include "kk_ref.h"
#include "kk_rownorm.h"

typedef struct {
    kk_stream_t stream;
    uint64_t rng;
    int failures;
    int cases;
} ctx_t;

static uint64_t next_u64(ctx_t *c) {
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return c->rng;
}
static int64_t rand_int(ctx_t *c, int64_t lo, int64_t hi) {
    return lo + (int64_t)(next_u64(c) % (uint64_t)(hi - lo + 1));
}
static float rand_float(ctx_t *c, float lo, float hi) {
    return lo + (hi - lo) * (float)((next_u64(c) >> 40) / (double)(1ull << 24));
}
static float *rand_buf(ctx_t *c, int64_t n, float lo, float hi) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        p[i] = rand_float(c, lo, hi);
    return p;
}

#define CHECK_KK(call)                                                                             \
    do {                                                                                           \
        kk_status_t st_ = (call);                                                                  \
        if (st_ != KK_OK) {                                                                        \
            fprintf(stderr, "%s:%d %s: %s (%s)\n", __FILE__, __LINE__, #call, kk_status_str(st_),  \
                    kk_last_error_str());                                                          \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static void *up(ctx_t *c, const void *h, size_t bytes) {
    void *d;
    CHECK_KK(kk_malloc(&d, bytes));
    if (h)
        CHECK_KK(kk_memcpy_h2d(d, h, bytes, c->stream));
    return d;
}
static void down(ctx_t *c, void *h, const void *d, size_t bytes) {
    CHECK_KK(kk_memcpy_d2h(h, d, bytes, c->stream));
    CHECK_KK(kk_stream_sync(c->stream));
}

static void compare(ctx_t *c, const char *what, const float *got, const float *want, int64_t n,
                    double rtol, double atol) {
    c->cases++;
    double worst = 0;
    int64_t bad = -1;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]), lim = atol + rtol * fabs(want[i]);
        if (!(d <= lim) && (isnan(got[i]) != isnan(want[i]) || d > lim)) {
            if (bad < 0)
                bad = i;
        }
        if (d > worst)
            worst = d;
    }
    if (bad >= 0) {
        fprintf(stderr, "FAIL %s: element %lld got %g want %g (max abs err %g)\n", what,
                (long long)bad, got[bad], want[bad], worst);
        c->failures++;
    }
}

static void test_unary(ctx_t *c) {
    for (int op = KK_UN_IDENTITY; op <= KK_UN_CLIP; op++) {
        int64_t n = rand_int(c, 1, 5000);
        float lo = op == KK_UN_SQRT ? 0.f : -6.f;
        float *x = rand_buf(c, n, lo, 6.f), *want = malloc(n * sizeof(float)),
              *got = malloc(n * sizeof(float));
        for (int64_t i = 0; i < n; i++)
            want[i] = kk_ref_unary((kk_unop_t)op, x[i], 0.1f, 0.5f);
        float *dx = up(c, x, n * sizeof(float));
        CHECK_KK(kk_unary_launch((kk_unop_t)op, dx, dx, n, 0.1f, 0.5f, c->stream));
        down(c, got, dx, n * sizeof(float));
        char what[64];
        snprintf(what, sizeof(what), "unary op %d n=%lld", op, (long long)n);
        compare(c, what, got, want, n, 1e-4, 1e-5);
        kk_free(dx);
        free(x), free(want), free(got);
    }
}

static void test_binary(ctx_t *c) {
    for (int iter = 0; iter < 40; iter++) {
        int rank = (int)rand_int(c, 1, 5);
        int64_t shape[8], ashape[8], bshape[8], as[8], bs[8];
        int64_t n = 1;
        for (int k = 0; k < rank; k++) {
            shape[k] = rand_int(c, 1, 9);
            n *= shape[k];
        }
        // each input: drop leading axes and set some axes to 1 (broadcast)
        int arank = (int)rand_int(c, 1, rank), brank = (int)rand_int(c, 1, rank);
        int64_t an = 1, bn = 1;
        for (int k = 0; k < arank; k++) {
            ashape[k] = rand_int(c, 0, 2) ? shape[rank - arank + k] : 1;
            an *= ashape[k];
        }
        for (int k = 0; k < brank; k++) {
            bshape[k] = rand_int(c, 0, 2) ? shape[rank - brank + k] : 1;
            bn *= bshape[k];
        }
        CHECK_KK(kk_broadcast_strides(ashape, arank, shape, rank, as));
        CHECK_KK(kk_broadcast_strides(bshape, brank, shape, rank, bs));
        kk_binop_t op = (kk_binop_t)(iter % (KK_BIN_MAX + 1));
        float *a = rand_buf(c, an, op == KK_BIN_POW ? 0.1f : -3.f, 3.f);
        float *b = rand_buf(c, bn, op == KK_BIN_POW ? -2.f : 0.5f, 3.f);
        float *want = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
        kk_ref_binary_nd(op, a, as, b, bs, want, shape, rank);
        float *da = up(c, a, an * sizeof(float)), *db = up(c, b, bn * sizeof(float)),
              *dout = up(c, NULL, n * sizeof(float));
        CHECK_KK(kk_binary_launch(op, da, as, db, bs, dout, shape, rank, c->stream));
        down(c, got, dout, n * sizeof(float));
        char what[64];
        snprintf(what, sizeof(what), "binary op %d rank %d", (int)op, rank);
        compare(c, what, got, want, n, 1e-4, 1e-5);
        kk_free(da), kk_free(db), kk_free(dout);
        free(a), free(b), free(want), free(got);
    }
}

static void test_bias_act(ctx_t *c) {
    int64_t rows = rand_int(c, 1, 300), cols = rand_int(c, 1, 257);
    float *y = rand_buf(c, rows * cols, -2, 2), *bias = rand_buf(c, cols, -1, 1);
    float *want = malloc(rows * cols * sizeof(float)), *got = malloc(rows * cols * sizeof(float));
    for (int64_t i = 0; i < rows * cols; i++)
        want[i] = kk_ref_unary(KK_UN_GELU, y[i] + bias[i % cols], 0, 0);
    float *dy = up(c, y, rows * cols * sizeof(float)), *db = up(c, bias, cols * sizeof(float));
    CHECK_KK(kk_bias_act_launch(dy, db, rows, cols, KK_UN_GELU, 0, 0, c->stream));
    down(c, got, dy, rows * cols * sizeof(float));
    compare(c, "bias+gelu", got, want, rows * cols, 1e-4, 1e-5);
    kk_free(dy), kk_free(db);
    free(y), free(bias), free(want), free(got);
}

static void test_chan_bias_act(ctx_t *c) {
    for (int iter = 0; iter < 6; iter++) {
        int64_t outer = rand_int(c, 1, 7), ch = rand_int(c, 1, 33), inner = rand_int(c, 1, 200);
        int64_t n = outer * ch * inner;
        float *y = rand_buf(c, n, -2, 2), *bias = rand_buf(c, ch, -1, 1);
        float *want = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
        kk_unop_t act = iter & 1 ? KK_UN_RELU : KK_UN_IDENTITY;
        int with_bias = iter != 4;
        for (int64_t i = 0; i < n; i++)
            want[i] = kk_ref_unary(act, y[i] + (with_bias ? bias[(i / inner) % ch] : 0.f), 0, 0);
        float *dy = up(c, y, n * sizeof(float)), *db = up(c, bias, ch * sizeof(float));
        CHECK_KK(kk_chan_bias_act_launch(dy, with_bias ? db : NULL, outer, ch, inner, act, 0, 0,
                                         c->stream));
        down(c, got, dy, n * sizeof(float));
        compare(c, "chan bias+act", got, want, n, 1e-6, 1e-6);
        kk_free(dy), kk_free(db);
        free(y), free(bias), free(want), free(got);
    }
}

static void test_convert(ctx_t *c) {
    int64_t n = 5003;
    float *x = rand_buf(c, n, -70000.f, 70000.f);
    x[0] = 0.f, x[1] = -0.f, x[2] = 1e-8f, x[3] = 65504.f, x[4] = 65520.f; /* edges */
    uint16_t *got = malloc(n * 2);
    float *dx = up(c, x, n * sizeof(float));
    void *dh = up(c, NULL, n * 2);
    for (int t = KK_GEMM_T_F16; t <= KK_GEMM_T_BF16; t++) {
        CHECK_KK(kk_convert_launch((kk_gemm_type_t)t, dx, dh, n, c->stream));
        down(c, got, dh, n * 2);
        c->cases++;
        for (int64_t i = 0; i < n; i++) {
            float back =
                t == KK_GEMM_T_F16 ? kk_half_bits_to_float(got[i]) : kk_bf16_bits_to_float(got[i]);
            int ok;
            if (t == KK_GEMM_T_BF16)
                ok = got[i] == kk_float_to_bf16_bits(x[i]);
            else if (fabsf(x[i]) >= 65520.f) /* rounds past the largest half */
                ok = isinf(back) && (back > 0) == (x[i] > 0);
            else /* nearest: within half an ulp (2^-11 relative), or a subnormal step */
                ok = fabsf(back - x[i]) <= fmaxf(fabsf(x[i]) * 0x1p-11f, 0x1p-25f);
            if (!ok) {
                fprintf(stderr, "FAIL convert type %d: %.9g -> 0x%04x (%.9g)\n", t, x[i], got[i],
                        back);
                c->failures++;
                break;
            }
        }
    }
    kk_free(dx), kk_free(dh);
    free(x), free(got);
}

static void test_rows(ctx_t *c) {
    int64_t colsv[] = {1, 7, 64, 128, 1000, 3001};
    for (size_t i = 0; i < sizeof(colsv) / sizeof(colsv[0]); i++) {
        int64_t rows = rand_int(c, 1, 70), cols = colsv[i], n = rows * cols;
        float *x = rand_buf(c, n, -8, 8), *g = rand_buf(c, cols, 0.5f, 1.5f),
              *b = rand_buf(c, cols, -1, 1);
        float *want = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
        float *dx = up(c, x, n * sizeof(float)), *dy = up(c, NULL, n * sizeof(float)),
              *dg = up(c, g, cols * sizeof(float)), *db = up(c, b, cols * sizeof(float));
        for (int log_sm = 0; log_sm <= 1; log_sm++) {
            kk_ref_softmax(x, want, rows, cols, log_sm);
            CHECK_KK(kk_softmax_launch(dx, dy, rows, cols, log_sm, c->stream));
            down(c, got, dy, n * sizeof(float));
            compare(c, log_sm ? "log_softmax" : "softmax", got, want, n, 1e-4, 1e-5);
        }
        kk_ref_layernorm(x, g, b, want, rows, cols, 1e-5f);
        CHECK_KK(kk_layernorm_launch(dx, dg, db, dy, rows, cols, 1e-5f, c->stream));
        down(c, got, dy, n * sizeof(float));
        compare(c, "layernorm", got, want, n, 1e-4, 1e-4);
        kk_free(dx), kk_free(dy), kk_free(dg), kk_free(db);
        free(x), free(g), free(b), free(want), free(got);
    }
}

static void test_reduce(ctx_t *c) {
    for (int iter = 0; iter < 12; iter++) {
        int64_t outer = rand_int(c, 1, 20), n = rand_int(c, 1, 300),
                inner = iter % 3 == 0 ? 1 : rand_int(c, 1, 33);
        int64_t total = outer * n * inner, on = outer * inner;
        float *x = rand_buf(c, total, -4, 4), *want = malloc(on * sizeof(float)),
              *got = malloc(on * sizeof(float));
        float *dx = up(c, x, total * sizeof(float)), *dy = up(c, NULL, on * sizeof(float));
        for (int op = KK_REDUCE_SUM; op <= KK_REDUCE_MAX; op++) {
            kk_ref_reduce((kk_reduce_op_t)op, x, want, outer, n, inner);
            CHECK_KK(kk_reduce_launch((kk_reduce_op_t)op, dx, dy, outer, n, inner, c->stream));
            down(c, got, dy, on * sizeof(float));
            compare(c, "reduce", got, want, on, 1e-4, 1e-4);
        }
        int64_t *wi = malloc(on * sizeof(int64_t)), *gi = malloc(on * sizeof(int64_t));
        int64_t *di = up(c, NULL, on * sizeof(int64_t));
        kk_ref_argmax(x, wi, outer, n, inner);
        CHECK_KK(kk_argmax_launch(dx, di, outer, n, inner, c->stream));
        down(c, gi, di, on * sizeof(int64_t));
        c->cases++;
        if (memcmp(wi, gi, on * sizeof(int64_t)) != 0) {
            fprintf(stderr, "FAIL argmax outer=%lld n=%lld inner=%lld\n", (long long)outer,
                    (long long)n, (long long)inner);
            c->failures++;
        }
        kk_free(dx), kk_free(dy), kk_free(di);
        free(x), free(want), free(got), free(wi), free(gi);
    }
}

static void test_movement(ctx_t *c) {
    // transpose: random permutation of a random shape
    for (int iter = 0; iter < 20; iter++) {
        int rank = (int)rand_int(c, 1, 6);
        int64_t shape[8], perm[8], in_strides[8], src_strides[8], dst_strides[8], oshape[8];
        int64_t n = 1;
        for (int k = 0; k < rank; k++) {
            shape[k] = rand_int(c, 1, 7);
            perm[k] = k;
            n *= shape[k];
        }
        for (int k = rank - 1; k > 0; k--) {
            int j = (int)rand_int(c, 0, k);
            int64_t t = perm[k];
            perm[k] = perm[j];
            perm[j] = t;
        }
        int64_t s = 1;
        for (int k = rank - 1; k >= 0; k--) {
            in_strides[k] = s;
            s *= shape[k];
        }
        for (int k = 0; k < rank; k++) {
            oshape[k] = shape[perm[k]];
            src_strides[k] = in_strides[perm[k]];
        }
        s = 1;
        for (int k = rank - 1; k >= 0; k--) {
            dst_strides[k] = s;
            s *= oshape[k];
        }
        float *x = rand_buf(c, n, -1, 1), *want = malloc(n * sizeof(float)),
              *got = malloc(n * sizeof(float));
        kk_ref_strided_copy(x, 0, src_strides, want, 0, dst_strides, oshape, rank);
        float *dx = up(c, x, n * sizeof(float)), *dy = up(c, NULL, n * sizeof(float));
        CHECK_KK(kk_strided_copy(dx, 0, src_strides, dy, 0, dst_strides, oshape, rank,
                                 sizeof(float), c->stream));
        down(c, got, dy, n * sizeof(float));
        compare(c, "transpose", got, want, n, 0, 0);
        kk_free(dx), kk_free(dy);
        free(x), free(want), free(got);
    }
    // slice with negative step along axis 1 of [a, b]
    {
        int64_t a = 5, b = 11, n = a * b;
        int64_t shape[2] = {a, 4}, ss[2] = {b, -2}, ds[2] = {4, 1};
        float *x = rand_buf(c, n, -1, 1), want[20], got[20];
        kk_ref_strided_copy(x, 9, ss, want, 0, ds, shape, 2);
        float *dx = up(c, x, n * sizeof(float)), *dy = up(c, NULL, sizeof(got));
        CHECK_KK(kk_strided_copy(dx, 9, ss, dy, 0, ds, shape, 2, sizeof(float), c->stream));
        down(c, got, dy, sizeof(got));
        compare(c, "slice step -2", got, want, 20, 0, 0);
        kk_free(dx), kk_free(dy);
        free(x);
    }
    // gather
    for (int iter = 0; iter < 10; iter++) {
        int64_t outer = rand_int(c, 1, 6), ad = rand_int(c, 1, 40), m = rand_int(c, 1, 30),
                inner = rand_int(c, 1, 17);
        int64_t *idx = malloc(m * sizeof(int64_t));
        for (int64_t j = 0; j < m; j++)
            idx[j] = rand_int(c, -ad, ad - 1);
        int64_t dn = outer * ad * inner, on = outer * m * inner;
        float *x = rand_buf(c, dn, -1, 1), *want = malloc(on * sizeof(float)),
              *got = malloc(on * sizeof(float));
        kk_ref_gather(x, idx, want, outer, ad, m, inner);
        float *dx = up(c, x, dn * sizeof(float)), *dy = up(c, NULL, on * sizeof(float));
        int64_t *didx = up(c, idx, m * sizeof(int64_t));
        int *derr = up(c, NULL, sizeof(int)), err = 0;
        CHECK_KK(kk_memset(derr, 0, sizeof(int), c->stream));
        CHECK_KK(
            kk_gather_launch(dx, didx, dy, outer, ad, m, inner, sizeof(float), derr, c->stream));
        down(c, got, dy, on * sizeof(float));
        down(c, &err, derr, sizeof(int));
        compare(c, "gather", got, want, on, 0, 0);
        if (err) {
            fprintf(stderr, "FAIL gather flagged an in-range index\n");
            c->failures++;
        }
        /* one index out of range: zeros written, the flag raised */
        idx[m - 1] = iter & 1 ? ad : -ad - 1;
        CHECK_KK(kk_memcpy_h2d(didx, idx, m * sizeof(int64_t), c->stream));
        CHECK_KK(
            kk_gather_launch(dx, didx, dy, outer, ad, m, inner, sizeof(float), derr, c->stream));
        down(c, &err, derr, sizeof(int));
        c->cases++;
        if (!err) {
            fprintf(stderr, "FAIL gather did not flag index %lld of [0, %lld)\n",
                    (long long)idx[m - 1], (long long)ad);
            c->failures++;
        }
        kk_free(dx), kk_free(dy), kk_free(didx), kk_free(derr);
        free(idx), free(x), free(want), free(got);
    }
}

static kk_conv2d_geom_t rand_geom(ctx_t *c) {
    kk_conv2d_geom_t g;
    do {
        memset(&g, 0, sizeof(g));
        g.c = rand_int(c, 1, 5);
        g.h = rand_int(c, 1, 19);
        g.w = rand_int(c, 1, 19);
        g.kh = rand_int(c, 1, 5);
        g.kw = rand_int(c, 1, 5);
        g.stride_h = rand_int(c, 1, 3);
        g.stride_w = rand_int(c, 1, 3);
        g.dil_h = rand_int(c, 1, 2);
        g.dil_w = rand_int(c, 1, 2);
        g.pad_t = rand_int(c, 0, 2);
        g.pad_l = rand_int(c, 0, 2);
        g.pad_b = rand_int(c, 0, 2);
        g.pad_r = rand_int(c, 0, 2);
    } while (kk_conv2d_out_size(&g) != KK_OK);
    return g;
}

static void test_conv(ctx_t *c) {
    for (int iter = 0; iter < 20; iter++) {
        kk_conv2d_geom_t g = rand_geom(c);
        int64_t in = g.c * g.h * g.w, cn = g.c * g.kh * g.kw * g.oh * g.ow;
        float *x = rand_buf(c, in, -1, 1), *want = malloc(cn * sizeof(float)),
              *got = malloc(cn * sizeof(float));
        kk_ref_im2col(x, &g, want);
        float *dx = up(c, x, in * sizeof(float)), *dcol = up(c, NULL, cn * sizeof(float));
        CHECK_KK(kk_im2col_launch(dx, &g, dcol, c->stream));
        down(c, got, dcol, cn * sizeof(float));
        compare(c, "im2col", got, want, cn, 0, 0);
        int64_t on = g.c * g.oh * g.ow;
        float *dy = up(c, NULL, on * sizeof(float));
        for (int kind = KK_POOL_MAX; kind <= KK_POOL_AVG; kind++) {
            int cip = iter & 1;
            kk_ref_pool2d((kk_pool_kind_t)kind, x, want, g.c, &g, cip);
            CHECK_KK(kk_pool2d_launch((kk_pool_kind_t)kind, dx, dy, g.c, &g, cip, c->stream));
            down(c, got, dy, on * sizeof(float));
            compare(c, kind == KK_POOL_MAX ? "maxpool" : "avgpool", got, want, on, 1e-5, 1e-6);
        }
        kk_free(dx), kk_free(dcol), kk_free(dy);
        free(x), free(want), free(got);
    }
}

static void test_gemm(ctx_t *c, kk_gemm_math_t math) {
    kk_gemm_t *g = kk_gemm_new(c->stream, math);
    if (!g) {
        fprintf(stderr, "FAIL kk_gemm_new: %s\n", kk_last_error_str());
        c->failures++;
        return;
    }
    double rtol = math == KK_GEMM_TF32 ? 5e-3 : 1e-4, atol = math == KK_GEMM_TF32 ? 5e-3 : 1e-4;
    for (int iter = 0; iter < 16; iter++) {
        int ta = iter & 1, tb = (iter >> 1) & 1;
        int64_t M = rand_int(c, 1, 130), N = rand_int(c, 1, 130), K = rand_int(c, 1, 300);
        int64_t batch = iter >= 8 ? rand_int(c, 2, 5) : 1;
        int64_t lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
        int64_t sa = M * K, sb = (iter % 3 == 0) ? 0 : K * N, sc = M * N;
        float *A = rand_buf(c, sa * batch, -1, 1), *B = rand_buf(c, K * N * batch, -1, 1);
        float *want = rand_buf(c, sc * batch, -1, 1), *got = malloc(sc * batch * sizeof(float));
        float *dA = up(c, A, sa * batch * sizeof(float)),
              *dB = up(c, B, K * N * batch * sizeof(float)),
              *dC = up(c, want, sc * batch * sizeof(float));
        for (int64_t bi = 0; bi < batch; bi++)
            kk_ref_sgemm(ta, tb, M, N, K, 0.5f, A + bi * sa, lda, B + bi * sb, ldb, 0.25f,
                         want + bi * sc, ldc);
        CHECK_KK(kk_sgemm_batched(g, ta, tb, M, N, K, 0.5f, dA, lda, sa, dB, ldb, sb, 0.25f, dC,
                                  ldc, sc, batch));
        down(c, got, dC, sc * batch * sizeof(float));
        char what[96];
        snprintf(what, sizeof(what), "sgemm%s ta=%d tb=%d %lldx%lldx%lld batch %lld",
                 math == KK_GEMM_TF32 ? "(tf32)" : "", ta, tb, (long long)M, (long long)N,
                 (long long)K, (long long)batch);
        compare(c, what, got, want, sc * batch, rtol, atol);
        kk_free(dA), kk_free(dB), kk_free(dC);
        free(A), free(B), free(want), free(got);
    }
    kk_gemm_free(g);
}

/* FP16 / BF16 operands (converted on the device), FP32 C and accumulate,
 * against the FP32 reference on the same (unrounded) inputs. */
static void test_gemm_ex(ctx_t *c, kk_gemm_type_t type) {
    kk_gemm_t *g = kk_gemm_new(c->stream, KK_GEMM_FP32);
    if (!g) {
        fprintf(stderr, "FAIL kk_gemm_new: %s\n", kk_last_error_str());
        c->failures++;
        return;
    }
    double tol = type == KK_GEMM_T_F16 ? 1e-2 : 5e-2;
    for (int iter = 0; iter < 12; iter++) {
        int ta = iter & 1, tb = (iter >> 1) & 1;
        int64_t M = rand_int(c, 1, 130), N = rand_int(c, 1, 130), K = rand_int(c, 1, 300);
        int64_t batch = iter >= 6 ? rand_int(c, 2, 4) : 1;
        int64_t lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
        int64_t sa = M * K, sb = (iter % 3 == 0) ? 0 : K * N, sc = M * N;
        float *A = rand_buf(c, sa * batch, -1, 1), *B = rand_buf(c, K * N * batch, -1, 1);
        float *want = rand_buf(c, sc * batch, -1, 1), *got = malloc(sc * batch * sizeof(float));
        float *dA = up(c, A, sa * batch * sizeof(float)),
              *dB = up(c, B, K * N * batch * sizeof(float)),
              *dC = up(c, want, sc * batch * sizeof(float));
        void *hA = up(c, NULL, sa * batch * 2), *hB = up(c, NULL, K * N * batch * 2);
        CHECK_KK(kk_convert_launch(type, dA, hA, sa * batch, c->stream));
        CHECK_KK(kk_convert_launch(type, dB, hB, K * N * batch, c->stream));
        for (int64_t bi = 0; bi < batch; bi++)
            kk_ref_sgemm(ta, tb, M, N, K, 0.5f, A + bi * sa, lda, B + bi * sb, ldb, 0.25f,
                         want + bi * sc, ldc);
        CHECK_KK(kk_gemm_ex_batched(g, type, ta, tb, M, N, K, 0.5f, hA, lda, sa, hB, ldb, sb, 0.25f,
                                    dC, ldc, sc, batch));
        down(c, got, dC, sc * batch * sizeof(float));
        char what[96];
        snprintf(what, sizeof(what), "gemm %s ta=%d tb=%d %lldx%lldx%lld batch %lld",
                 type == KK_GEMM_T_F16 ? "fp16" : "bf16", ta, tb, (long long)M, (long long)N,
                 (long long)K, (long long)batch);
        compare(c, what, got, want, sc * batch, tol, tol);
        kk_free(dA), kk_free(dB), kk_free(dC), kk_free(hA), kk_free(hB);
        free(A), free(B), free(want), free(got);
    }
    /* a bad size is refused before cuBLAS */
    c->cases++;
    if (kk_gemm_ex_batched(g, type, 0, 0, 0, 4, 4, 1.f, g, 4, 0, g, 4, 0, 0.f, (float *)g, 4, 0,
                           1) != KK_ERR_INVALID_ARG) {
        fprintf(stderr, "FAIL gemm_ex accepted M = 0\n");
        c->failures++;
    }
    kk_gemm_free(g);
}

int main(void) {
    if (kk_device_count() == 0) {
        printf("no CUDA device: SKIP\n");
        return 77;
    }
    ctx_t c = {0};
    c.rng = 0x9e3779b97f4a7c15ull;
    CHECK_KK(kk_device_select(0));
    CHECK_KK(kk_stream_new(&c.stream));
    test_unary(&c);
    test_binary(&c);
    test_bias_act(&c);
    test_chan_bias_act(&c);
    test_convert(&c);
    test_rows(&c);
    test_reduce(&c);
    test_movement(&c);
    test_conv(&c);
    test_gemm(&c, KK_GEMM_FP32);
    test_gemm(&c, KK_GEMM_TF32);
    test_gemm_ex(&c, KK_GEMM_T_F16);
    test_gemm_ex(&c, KK_GEMM_T_BF16);
    kk_stream_free(c.stream);
    printf("%d passed, %d failed\n", c.cases - c.failures, c.failures);
    return c.failures ? 1 : 0;
}
