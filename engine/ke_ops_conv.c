/* ke_ops_conv: Conv (im2col + sgemm, or a straight sgemm for 1x1 kernels)
 * and Max/Average/Lp pooling, for 1 to 3 spatial dims. */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "ke_conv_direct.h"
#include "ke_conv_geom.h"
#include "ke_threadpool.h"

int64_t ke_conv_out_dim(int64_t in, int64_t k, int64_t stride, int64_t dil, int64_t pb, int64_t pe,
                        int ceil_mode) {
    int64_t ek = dil * (k - 1) + 1;
    int64_t span = in + pb + pe - ek;
    if (span < 0 || stride <= 0)
        return 0;
    int64_t o = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
    /* ceil mode: the last window must start inside the input or left pad */
    if (ceil_mode && (o - 1) * stride >= in + pb)
        o--;
    return o;
}

int ke_conv_auto_pad(const char *auto_pad, int64_t in, int64_t k, int64_t stride, int64_t dil,
                     int64_t *pb, int64_t *pe) {
    if (!auto_pad || !strcmp(auto_pad, "NOTSET"))
        return 0;
    if (!strcmp(auto_pad, "VALID")) {
        *pb = *pe = 0;
        return 0;
    }
    int upper = !strcmp(auto_pad, "SAME_UPPER");
    if (!upper && strcmp(auto_pad, "SAME_LOWER"))
        return -1;
    int64_t out = (in + stride - 1) / stride;
    int64_t ek = dil * (k - 1) + 1;
    int64_t total = (out - 1) * stride + ek - in;
    if (total < 0)
        total = 0;
    *pb = upper ? total / 2 : total - total / 2;
    *pe = total - *pb;
    return 0;
}

static int is_pointwise(const ke_conv_geom_t *g) {
    for (int i = 0; i < g->nd; i++)
        if (g->k[i] != 1 || g->stride[i] != 1 || g->pad_begin[i] || g->pad_end[i] ||
            g->in[i] != g->out[i])
            return 0;
    return 1;
}

int ke_conv_pool_ok(const ke_conv_geom_t *g, const ke_conv_pool_t *pool) {
    if (is_pointwise(g) || !ke_conv_direct_ok(g) || pool->kh < 1 || pool->kw < 1)
        return 0;
    if (g->nd == 1)
        return pool->kh == 1 && pool->kw <= g->out[0];
    return pool->kh <= g->out[0] && pool->kw <= g->out[1];
}

size_t ke_conv_scratch_bytes(const ke_conv_geom_t *g) {
    if (is_pointwise(g))
        return 0;
    if (ke_conv_direct_ok(g)) /* whole 64-byte lines: lanes stay aligned */
        return (ke_conv_direct_scratch_bytes(g) + 63) / 64 * 64;
    ke_g3_t t;
    ke_g3_from(g, &t);
    return ((size_t)((g->c / g->group) * t.ksz * t.osz) * sizeof(float) + 63) / 64 * 64;
}

/* col[(c, kd, kh, kw), (od, oh, ow)] for the channels of X given. */
static void im2col(const ke_g3_t *t, int64_t cg, const float *restrict X, float *restrict col) {
    for (int64_t c = 0; c < cg; c++) {
        const float *xc = X + c * t->isz;
        for (int64_t kd = 0; kd < t->k[0]; kd++)
            for (int64_t kh = 0; kh < t->k[1]; kh++)
                for (int64_t kw = 0; kw < t->k[2]; kw++) {
                    float *dst = col;
                    col += t->osz;
                    for (int64_t od = 0; od < t->out[0]; od++) {
                        int64_t id = od * t->s[0] - t->pb[0] + kd * t->d[0];
                        for (int64_t oh = 0; oh < t->out[1]; oh++) {
                            int64_t ih = oh * t->s[1] - t->pb[1] + kh * t->d[1];
                            float *row = dst + (od * t->out[1] + oh) * t->out[2];
                            if (id < 0 || id >= t->in[0] || ih < 0 || ih >= t->in[1]) {
                                memset(row, 0, (size_t)t->out[2] * sizeof *row);
                                continue;
                            }
                            const float *src = xc + (id * t->in[1] + ih) * t->in[2];
                            int64_t base = kw * t->d[2] - t->pb[2];
                            if (t->s[2] == 1) {
                                /* contiguous: zero edges + one memcpy */
                                int64_t lo = base < 0 ? -base : 0;
                                int64_t hi = t->in[2] - base;
                                if (hi > t->out[2])
                                    hi = t->out[2];
                                if (lo > t->out[2])
                                    lo = t->out[2];
                                for (int64_t ow = 0; ow < lo; ow++)
                                    row[ow] = 0.0f;
                                if (hi > lo)
                                    memcpy(row + lo, src + base + lo,
                                           (size_t)(hi - lo) * sizeof *row);
                                else
                                    hi = lo;
                                for (int64_t ow = hi; ow < t->out[2]; ow++)
                                    row[ow] = 0.0f;
                            } else {
                                for (int64_t ow = 0; ow < t->out[2]; ow++) {
                                    int64_t iw = base + ow * t->s[2];
                                    row[ow] = (iw >= 0 && iw < t->in[2]) ? src[iw] : 0.0f;
                                }
                            }
                        }
                    }
                }
    }
}

/* One (image, group) unit: im2col into col (unless pointwise), bias into
 * Y, one sgemm, then the activation while the block is still in cache. */
typedef struct conv_job {
    const ke_conv_geom_t *g;
    ke_g3_t t;
    const float *X, *W, *bias;
    float *Y, *scratch;
    size_t lane_floats;
    int64_t units, lanes;
    int direct;
    ke_conv_tile_t tile;
    const ke_conv_pool_t *pool;
    ke_unop_t act;
    ke_unparams_t actp;
} conv_job_t;

static void conv_unit(const conv_job_t *j, int64_t u, float *col_buf, int setup) {
    const ke_conv_geom_t *g = j->g;
    const ke_g3_t *t = &j->t;
    int64_t n = u / g->group, gr = u % g->group;
    if (j->direct) {
        ke_conv_direct_unit(g, &j->tile, j->X, j->W, j->bias, j->Y, n, gr, col_buf, setup, j->pool,
                            j->act, j->actp);
        return;
    }
    int64_t cg = g->c / g->group, mg = g->m / g->group;
    int64_t kdim = cg * t->ksz;
    const float *xg = j->X + (n * g->c + gr * cg) * t->isz;
    float *yg = j->Y + (n * g->m + gr * mg) * t->osz;
    const float *wg = j->W + gr * mg * kdim;
    const float *col = xg;
    if (col_buf) {
        im2col(t, cg, xg, col_buf);
        col = col_buf;
    }
    float beta = 0.0f;
    if (j->bias) {
        for (int64_t m = 0; m < mg; m++) {
            const float v = j->bias[gr * mg + m];
            float *y = yg + m * t->osz;
            for (int64_t i = 0; i < t->osz; i++)
                y[i] = v;
        }
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)mg, (blasint)t->osz,
                (blasint)kdim, 1.0f, wg, (blasint)kdim, col, (blasint)t->osz, beta, yg,
                (blasint)t->osz);
    if (j->act != KE_UN_NONE)
        ke_unary_f32(j->act, j->actp, yg, yg, mg * t->osz);
}

/* Lanes [b, e): lane l owns units [l*U/L, (l+1)*U/L) and im2col buffer l. */
static void conv_lanes(void *arg, int64_t b, int64_t e, int tid) {
    (void)tid;
    const conv_job_t *j = arg;
    for (int64_t l = b; l < e; l++) {
        float *col = j->lane_floats ? j->scratch + (size_t)l * j->lane_floats : NULL;
        int64_t last_gr = -1; /* the group whose weights the lane's scratch holds */
        for (int64_t u = l * j->units / j->lanes; u < (l + 1) * j->units / j->lanes; u++) {
            int64_t gr = u % j->g->group;
            conv_unit(j, u, col, gr != last_gr);
            last_gr = gr;
        }
    }
}

int64_t ke_conv_lanes(const ke_conv_geom_t *g, int n_threads, size_t scratch_bytes) {
    int64_t lanes = g->n * g->group;
    if (lanes > n_threads)
        lanes = n_threads;
    size_t lb = ke_conv_scratch_bytes(g);
    if (lb && (int64_t)(scratch_bytes / lb) < lanes)
        lanes = (int64_t)(scratch_bytes / lb);
    if (lanes > 1 && (is_pointwise(g) || !ke_conv_direct_ok(g)) && openblas_get_num_threads() > 1) {
        /* OpenBLAS threads a GEMM above ~2^18 multiply-adds (its
         * GEMM_MULTITHREAD_THRESHOLD): such units run one at a time on the
         * calling thread with OpenBLAS's own threads instead of
         * oversubscribing the cores from inside our pool */
        ke_g3_t t;
        ke_g3_from(g, &t);
        double mnk =
            (double)(g->m / g->group) * (double)t.osz * (double)(g->c / g->group) * (double)t.ksz;
        if (mnk >= KE_CONV_BLAS_MT_MNK)
            lanes = 1;
    }
    return lanes < 1 ? 1 : lanes;
}

int ke_conv_f32_level(ke_gemm_level_t level, const ke_conv_geom_t *g, const ke_conv_pool_t *pool,
                      const float *X, const float *W, const float *bias, float *Y, float *scratch,
                      int64_t lanes, struct ke_threadpool *tp, ke_unop_t act, ke_unparams_t actp) {
    conv_job_t j = {.g = g,
                    .X = X,
                    .W = W,
                    .bias = bias,
                    .Y = Y,
                    .scratch = scratch,
                    .units = g->n * g->group,
                    .act = act,
                    .actp = actp,
                    .pool = pool};
    if (ke_conv_tile_for(level, &j.tile) || (pool && !ke_conv_pool_ok(g, pool)))
        return -1;
    ke_g3_from(g, &j.t);
    if (j.units == 0)
        return 0;
    j.direct = pool || (!is_pointwise(g) && ke_conv_direct_ok(g));
    /* lanes stay 64-byte aligned (scratch is) */
    j.lane_floats = ke_conv_scratch_bytes(g) / sizeof(float);
    j.lanes = lanes < 1 ? 1 : lanes > j.units ? j.units : lanes;
    if (tp && j.lanes > 1)
        ke_threadpool_parallel_for(tp, j.lanes, 1, conv_lanes, &j);
    else
        conv_lanes(&j, 0, j.lanes, 0);
    return 0;
}

void ke_conv_f32_mt(const ke_conv_geom_t *g, const float *X, const float *W, const float *bias,
                    float *Y, float *scratch, int64_t lanes, struct ke_threadpool *tp,
                    ke_unop_t act, ke_unparams_t actp) {
    ke_conv_f32_level(ke_gemm_level_best(), g, NULL, X, W, bias, Y, scratch, lanes, tp, act, actp);
}

void ke_conv_f32(const ke_conv_geom_t *g, const float *X, const float *W, const float *bias,
                 float *Y, float *scratch, ke_unop_t act, ke_unparams_t actp) {
    ke_conv_f32_mt(g, X, W, bias, Y, scratch, 1, NULL, act, actp);
}

void ke_conv_ref(const ke_conv_geom_t *g, const float *X, const float *W, const float *bias,
                 float *Y) {
    ke_g3_t t;
    ke_g3_from(g, &t);
    int64_t cg = g->c / g->group, mg = g->m / g->group;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t m = 0; m < g->m; m++) {
            int64_t gr = m / mg;
            for (int64_t o = 0; o < t.osz; o++) {
                int64_t od = o / (t.out[1] * t.out[2]), oh = (o / t.out[2]) % t.out[1],
                        ow = o % t.out[2];
                double s = bias ? bias[m] : 0.0;
                for (int64_t c = 0; c < cg; c++)
                    for (int64_t kd = 0; kd < t.k[0]; kd++)
                        for (int64_t kh = 0; kh < t.k[1]; kh++)
                            for (int64_t kw = 0; kw < t.k[2]; kw++) {
                                int64_t id = od * t.s[0] - t.pb[0] + kd * t.d[0];
                                int64_t ih = oh * t.s[1] - t.pb[1] + kh * t.d[1];
                                int64_t iw = ow * t.s[2] - t.pb[2] + kw * t.d[2];
                                if (id < 0 || id >= t.in[0] || ih < 0 || ih >= t.in[1] || iw < 0 ||
                                    iw >= t.in[2])
                                    continue;
                                float x = X[((n * g->c + gr * cg + c) * t.in[0] + id) * t.in[1] *
                                                t.in[2] +
                                            ih * t.in[2] + iw];
                                float w = W[((m * cg + c) * t.k[0] + kd) * t.k[1] * t.k[2] +
                                            kh * t.k[2] + kw];
                                s += (double)x * w;
                            }
                Y[(n * g->m + m) * t.osz + o] = (float)s;
            }
        }
}
