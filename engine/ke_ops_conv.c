/* ke_ops_conv: Conv (im2col + sgemm, or a straight sgemm for 1x1 kernels)
 * and Max/Average/Lp pooling, for 1 to 3 spatial dims. */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "ke_ops_kern.h"

int64_t ke_conv_out_dim(int64_t in, int64_t k, int64_t stride, int64_t dil, int64_t pb, int64_t pe,
                        int ceil_mode)
{
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
                     int64_t *pb, int64_t *pe)
{
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

/* Geometry padded out to 3 spatial dims (missing leading dims are 1). */
typedef struct g3 {
    int64_t in[3], out[3], k[3], s[3], d[3], pb[3];
    int64_t isz, osz, ksz;
} g3_t;

static void to3(const ke_conv_geom_t *g, g3_t *t)
{
    int off = 3 - g->nd;
    for (int i = 0; i < 3; i++) {
        int j = i - off;
        t->in[i] = j >= 0 ? g->in[j] : 1;
        t->out[i] = j >= 0 ? g->out[j] : 1;
        t->k[i] = j >= 0 ? g->k[j] : 1;
        t->s[i] = j >= 0 ? g->stride[j] : 1;
        t->d[i] = j >= 0 ? g->dil[j] : 1;
        t->pb[i] = j >= 0 ? g->pad_begin[j] : 0;
    }
    t->isz = t->in[0] * t->in[1] * t->in[2];
    t->osz = t->out[0] * t->out[1] * t->out[2];
    t->ksz = t->k[0] * t->k[1] * t->k[2];
}

static int is_pointwise(const ke_conv_geom_t *g)
{
    for (int i = 0; i < g->nd; i++)
        if (g->k[i] != 1 || g->stride[i] != 1 || g->pad_begin[i] || g->pad_end[i] ||
            g->in[i] != g->out[i])
            return 0;
    return 1;
}

size_t ke_conv_scratch_bytes(const ke_conv_geom_t *g)
{
    if (is_pointwise(g))
        return 0;
    g3_t t;
    to3(g, &t);
    return (size_t)((g->c / g->group) * t.ksz * t.osz) * sizeof(float);
}

/* col[(c, kd, kh, kw), (od, oh, ow)] for the channels of X given. */
static void im2col(const g3_t *t, int64_t cg, const float *restrict X, float *restrict col)
{
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
                                    memcpy(row + lo, src + base + lo, (size_t)(hi - lo) * sizeof *row);
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

void ke_conv_f32(const ke_conv_geom_t *g, const float *X, const float *W, const float *bias,
                 float *Y, float *scratch, ke_unop_t act, ke_unparams_t actp)
{
    g3_t t;
    to3(g, &t);
    int64_t cg = g->c / g->group, mg = g->m / g->group;
    int64_t kdim = cg * t.ksz;
    int pw = is_pointwise(g);
    for (int64_t n = 0; n < g->n; n++) {
        for (int64_t gr = 0; gr < g->group; gr++) {
            const float *xg = X + (n * g->c + gr * cg) * t.isz;
            float *yg = Y + (n * g->m + gr * mg) * t.osz;
            const float *wg = W + gr * mg * kdim;
            const float *col = xg;
            if (!pw) {
                im2col(&t, cg, xg, scratch);
                col = scratch;
            }
            float beta = 0.0f;
            if (bias) {
                for (int64_t m = 0; m < mg; m++) {
                    const float v = bias[gr * mg + m];
                    float *y = yg + m * t.osz;
                    for (int64_t i = 0; i < t.osz; i++)
                        y[i] = v;
                }
                beta = 1.0f;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)mg, (blasint)t.osz,
                        (blasint)kdim, 1.0f, wg, (blasint)kdim, col, (blasint)t.osz, beta, yg,
                        (blasint)t.osz);
            if (act != KE_UN_NONE)
                ke_unary_f32(act, actp, yg, yg, mg * t.osz);
        }
    }
}

void ke_conv_ref(const ke_conv_geom_t *g, const float *X, const float *W, const float *bias,
                 float *Y)
{
    g3_t t;
    to3(g, &t);
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
                                if (id < 0 || id >= t.in[0] || ih < 0 || ih >= t.in[1] ||
                                    iw < 0 || iw >= t.in[2])
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

void ke_pool_f32(const ke_conv_geom_t *g, ke_pool_t kind, int count_include_pad, int p,
                 const float *X, float *Y)
{
    g3_t t;
    to3(g, &t);
    int64_t pe[3];
    {
        int off = 3 - g->nd;
        for (int i = 0; i < 3; i++)
            pe[i] = i - off >= 0 ? g->pad_end[i - off] : 0;
    }
    for (int64_t nc = 0; nc < g->n * g->c; nc++) {
        const float *x = X + nc * t.isz;
        float *y = Y + nc * t.osz;
        for (int64_t od = 0; od < t.out[0]; od++)
            for (int64_t oh = 0; oh < t.out[1]; oh++)
                for (int64_t ow = 0; ow < t.out[2]; ow++) {
                    double acc = kind == KE_POOL_MAX ? -INFINITY : 0.0;
                    int64_t cnt = 0, cnt_pad = 0;
                    for (int64_t kd = 0; kd < t.k[0]; kd++) {
                        int64_t id = od * t.s[0] - t.pb[0] + kd * t.d[0];
                        for (int64_t kh = 0; kh < t.k[1]; kh++) {
                            int64_t ih = oh * t.s[1] - t.pb[1] + kh * t.d[1];
                            for (int64_t kw = 0; kw < t.k[2]; kw++) {
                                int64_t iw = ow * t.s[2] - t.pb[2] + kw * t.d[2];
                                /* positions inside input + pads count for
                                 * count_include_pad; ceil-mode overhang not */
                                if (id < t.in[0] + pe[0] && ih < t.in[1] + pe[1] &&
                                    iw < t.in[2] + pe[2])
                                    cnt_pad++;
                                if (id < 0 || id >= t.in[0] || ih < 0 || ih >= t.in[1] ||
                                    iw < 0 || iw >= t.in[2])
                                    continue;
                                float v = x[(id * t.in[1] + ih) * t.in[2] + iw];
                                cnt++;
                                if (kind == KE_POOL_MAX)
                                    acc = v > acc ? v : acc;
                                else if (kind == KE_POOL_AVG)
                                    acc += v;
                                else
                                    acc += pow(fabs(v), p);
                            }
                        }
                    }
                    float r;
                    if (kind == KE_POOL_MAX)
                        r = (float)acc;
                    else if (kind == KE_POOL_AVG)
                        r = (float)(acc / (double)(count_include_pad ? cnt_pad : cnt ? cnt : 1));
                    else
                        r = (float)pow(acc, 1.0 / p);
                    y[(od * t.out[1] + oh) * t.out[2] + ow] = r;
                }
    }
}
