/* ke_ops_pool: Max/Average/Lp pooling over 1 to 3 spatial dims (float32).
 *
 * Reference: every output pixel through pool_pixel(), which checks each
 * window position against the input and the pads. Fast path (MAX and AVG,
 * 1-D and 2-D): an output row whose windows lie wholly inside the input
 * runs without bounds checks, one kernel tap at a time over the whole row
 * (so the inner loop is a strided load + max/add the compiler vectorises),
 * with a fused loop for the common 2x2 stride-2 window; the border pixels
 * (pads, ceil-mode overhang) still go through pool_pixel(). Taps are folded
 * in the reference's order, so MAX results are bit-identical (AVG sums in
 * float rather than double). */
#include <math.h>

#include "ke_conv_geom.h"

/* One output pixel of one plane, every window position checked. */
static float pool_pixel(const ke_g3_t *t, ke_pool_t kind, int cip, int p, const float *x,
                        int64_t od, int64_t oh, int64_t ow) {
    double acc = kind == KE_POOL_MAX ? -INFINITY : 0.0;
    int64_t cnt = 0, cnt_pad = 0;
    for (int64_t kd = 0; kd < t->k[0]; kd++) {
        int64_t id = od * t->s[0] - t->pb[0] + kd * t->d[0];
        for (int64_t kh = 0; kh < t->k[1]; kh++) {
            int64_t ih = oh * t->s[1] - t->pb[1] + kh * t->d[1];
            for (int64_t kw = 0; kw < t->k[2]; kw++) {
                int64_t iw = ow * t->s[2] - t->pb[2] + kw * t->d[2];
                /* positions inside input + pads count for count_include_pad;
                 * ceil-mode overhang does not */
                if (id < t->in[0] + t->pe[0] && ih < t->in[1] + t->pe[1] &&
                    iw < t->in[2] + t->pe[2])
                    cnt_pad++;
                if (id < 0 || id >= t->in[0] || ih < 0 || ih >= t->in[1] || iw < 0 ||
                    iw >= t->in[2])
                    continue;
                float v = x[(id * t->in[1] + ih) * t->in[2] + iw];
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
    if (kind == KE_POOL_MAX)
        return (float)acc;
    if (kind == KE_POOL_AVG)
        return (float)(acc / (double)(cip ? cnt_pad : cnt ? cnt : 1));
    return (float)pow(acc, 1.0 / p);
}

static void plane_ref(const ke_g3_t *t, ke_pool_t kind, int cip, int p, const float *x, float *y) {
    for (int64_t od = 0; od < t->out[0]; od++)
        for (int64_t oh = 0; oh < t->out[1]; oh++)
            for (int64_t ow = 0; ow < t->out[2]; ow++)
                y[(od * t->out[1] + oh) * t->out[2] + ow] =
                    pool_pixel(t, kind, cip, p, x, od, oh, ow);
}

void ke_pool_ref(const ke_conv_geom_t *g, ke_pool_t kind, int count_include_pad, int p,
                 const float *X, float *Y) {
    ke_g3_t t;
    ke_g3_from(g, &t);
    for (int64_t nc = 0; nc < g->n * g->c; nc++)
        plane_ref(&t, kind, count_include_pad, p, X + nc * t.isz, Y + nc * t.osz);
}

/* y[i] = fold(y[i], src[i * sw]) for one kernel tap over n interior
 * outputs; inlined with constant sw for the common strides. */
static inline void tap_max(float *restrict y, const float *restrict src, int64_t n, int64_t sw) {
    for (int64_t i = 0; i < n; i++) {
        float v = src[i * sw];
        y[i] = v > y[i] ? v : y[i];
    }
}

static inline void tap_add(float *restrict y, const float *restrict src, int64_t n, int64_t sw) {
    for (int64_t i = 0; i < n; i++)
        y[i] += src[i * sw];
}

static void tap(ke_pool_t kind, float *restrict y, const float *restrict src, int64_t n,
                int64_t sw) {
    if (kind == KE_POOL_MAX) {
        if (sw == 1)
            tap_max(y, src, n, 1);
        else if (sw == 2)
            tap_max(y, src, n, 2);
        else
            tap_max(y, src, n, sw);
    } else {
        if (sw == 1)
            tap_add(y, src, n, 1);
        else if (sw == 2)
            tap_add(y, src, n, 2);
        else
            tap_add(y, src, n, sw);
    }
}

/* 2x2 window, stride 2, no dilation: both input rows in one pass. */
static void max_2x2s2(float *restrict y, const float *restrict r0, const float *restrict r1,
                      int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float a = -INFINITY, v;
        v = r0[2 * i];
        a = v > a ? v : a;
        v = r0[2 * i + 1];
        a = v > a ? v : a;
        v = r1[2 * i];
        a = v > a ? v : a;
        v = r1[2 * i + 1];
        y[i] = v > a ? v : a;
    }
}

/* Interior outputs [lo, lo + n) of one output row; xr is the input row
 * where the window of output lo starts. */
static void row_interior(const ke_g3_t *t, ke_pool_t kind, const float *xr, float *y, int64_t n) {
    const int64_t W = t->in[2], kh_n = t->k[1], kw_n = t->k[2];
    const int64_t dh = t->d[1], dw = t->d[2], sw = t->s[2];
    if (kind == KE_POOL_MAX && kh_n == 2 && kw_n == 2 && sw == 2 && dh == 1 && dw == 1) {
        max_2x2s2(y, xr, xr + W, n);
        return;
    }
    const float init = kind == KE_POOL_MAX ? -INFINITY : 0.0f;
    for (int64_t i = 0; i < n; i++)
        y[i] = init;
    for (int64_t kh = 0; kh < kh_n; kh++)
        for (int64_t kw = 0; kw < kw_n; kw++)
            tap(kind, y, xr + kh * dh * W + kw * dw, n, sw);
    if (kind == KE_POOL_AVG) {
        const float inv = 1.0f / (float)(kh_n * kw_n);
        for (int64_t i = 0; i < n; i++)
            y[i] *= inv;
    }
}

/* One plane of 1-D/2-D MAX or AVG pooling (t->k[0] == t->out[0] == 1). */
static void plane_fast(const ke_g3_t *t, ke_pool_t kind, int cip, const float *x, float *y) {
    const int64_t H = t->in[1], W = t->in[2], OH = t->out[1], OW = t->out[2];
    const int64_t sw = t->s[2], pw = t->pb[2], ph = t->pb[1];
    /* outputs whose window columns lie inside [0, W) */
    int64_t lo = (pw + sw - 1) / sw;
    int64_t last = W - 1 - (t->k[2] - 1) * t->d[2] + pw; /* max ow * sw */
    int64_t hi = last < 0 ? 0 : last / sw + 1;
    if (hi > OW)
        hi = OW;
    if (lo > hi)
        lo = hi;
    for (int64_t oh = 0; oh < OH; oh++) {
        int64_t ih0 = oh * t->s[1] - ph;
        float *yr = y + oh * OW;
        int inside = ih0 >= 0 && ih0 + (t->k[1] - 1) * t->d[1] < H;
        int64_t a = inside ? lo : OW, b = inside ? hi : OW;
        for (int64_t ow = 0; ow < a; ow++)
            yr[ow] = pool_pixel(t, kind, cip, 0, x, 0, oh, ow);
        if (b > a)
            row_interior(t, kind, x + ih0 * W + a * sw - pw, yr + a, b - a);
        for (int64_t ow = b; ow < OW; ow++)
            yr[ow] = pool_pixel(t, kind, cip, 0, x, 0, oh, ow);
    }
}

void ke_pool_planes_f32(const ke_conv_geom_t *g, ke_pool_t kind, int count_include_pad, int p,
                        const float *X, float *Y, int64_t p0, int64_t p1) {
    ke_g3_t t;
    ke_g3_from(g, &t);
    int fast = kind != KE_POOL_LP && t.k[0] == 1 && t.out[0] == 1 && t.in[0] == 1;
    for (int64_t nc = p0; nc < p1; nc++) {
        if (fast)
            plane_fast(&t, kind, count_include_pad, X + nc * t.isz, Y + nc * t.osz);
        else
            plane_ref(&t, kind, count_include_pad, p, X + nc * t.isz, Y + nc * t.osz);
    }
}

void ke_pool_f32(const ke_conv_geom_t *g, ke_pool_t kind, int count_include_pad, int p,
                 const float *X, float *Y) {
    ke_pool_planes_f32(g, kind, count_include_pad, p, X, Y, 0, g->n * g->c);
}
