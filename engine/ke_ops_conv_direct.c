/* ke_ops_conv_direct: 2-D (and 1-D) convolution without im2col, for
 * layers with a short reduction (c/group * kernel taps <=
 * KE_CONV_DIRECT_MAX_K), where im2col's copy costs more than the GEMM.
 *
 * One (image, group) unit at a time:
 *  1. the group's input channels are copied into a zero-padded buffer,
 *     split by stride phase: channel c, phase (py, px) holds the padded
 *     input at rows hq * sh + py, columns wq * sw + px (one phase at stride
 *     1: the padded input itself). Each plane is Hq x Wq, where Wq = OW +
 *     (kw - 1) * dw / sw, so every kernel tap is a constant offset into
 *     one phase plane and the output, computed "wide" (OH rows of Wq
 *     columns, the last Wq - OW of each row discarded), is one long run;
 *  2. weights (and the bias) are packed [channel block][tap][mb];
 *  3. for each block of mb output channels and pb wide output positions,
 *     the level's tile kernel (ke_conv_tile.h: AVX-512F, AVX2+FMA or
 *     portable) sums every tap into a register tile started at the bias;
 *  4. the valid columns go to Y through the activation, or, with a fused
 *     MaxPool, straight into the pooled output while still in cache.
 * Steps 1's borders and 2 are done once per lane while the group stays the
 * same. Same results as the im2col + sgemm path up to summation order. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ke_conv_direct.h"
#include "ke_conv_geom.h"

typedef struct dgeom {
    int64_t cg, mg, kh, kw, dh, dw, sh, sw, ph, pw;
    int64_t H, W, OH, OW;
    int64_t Hp, Wp;  /* a phase plane's rows and columns (Hq, Wq above) */
    int64_t plane;   /* floats per phase plane */
    int64_t cplane;  /* floats per channel: sh * sw phase planes */
    int64_t P, taps; /* wide positions (+ slack), reduction length */
} dgeom_t;

static void dgeom_of(const ke_conv_geom_t *g, const ke_g3_t *t, dgeom_t *d) {
    d->cg = g->c / g->group;
    d->mg = g->m / g->group;
    d->kh = t->k[1];
    d->kw = t->k[2];
    d->dh = t->d[1];
    d->dw = t->d[2];
    d->ph = t->pb[1];
    d->pw = t->pb[2];
    d->H = t->in[1];
    d->W = t->in[2];
    d->sh = t->s[1];
    d->sw = t->s[2];
    d->OH = t->out[1];
    d->OW = t->out[2];
    /* output column ow, tap b reads padded column ow * sw + b * dw: phase
     * (b * dw) % sw, phase column ow + (b * dw) / sw (so at stride 1, Wp =
     * OW + span - 1 covers the input plus both pads; the end pad may be cut
     * short) */
    d->Wp = d->OW + (d->kw - 1) * d->dw / d->sw;
    d->Hp = d->OH + (d->kh - 1) * d->dh / d->sh;
    d->plane = d->Hp * d->Wp;
    d->cplane = d->sh * d->sw * d->plane;
    /* wide positions, rounded up to whole tiles of any level */
    d->P = d->OH * d->Wp + KE_CONV_TILE_PB_MAX;
    d->taps = d->cg * d->kh * d->kw;
}

int ke_conv_direct_ok(const ke_conv_geom_t *g) {
    if (g->nd > 2)
        return 0;
    int64_t taps = g->c / g->group;
    for (int i = 0; i < g->nd; i++)
        taps *= g->k[i];
    return taps > 1 && taps <= KE_CONV_DIRECT_MAX_K;
}

static int64_t up16(int64_t n) {
    return (n + 15) / 16 * 16;
}

/* Scratch parts, in floats, each a whole number of 64-byte lines (so the
 * next stays aligned): padded input + one tile of slack (the last tile
 * reads past OH * Wp), packed weights, packed bias, the wide output of one
 * channel block, tap offsets (int64: two floats each). */
typedef struct dparts {
    int64_t xin, wpk, bias, wide, off, hm;
} dparts_t;

static void dparts_of(const dgeom_t *d, dparts_t *p) {
    const int64_t mgp = d->mg + KE_CONV_TILE_MB_MAX; /* any level's blocks */
    p->xin = up16(d->cg * d->cplane + d->P + KE_CONV_TILE_PB_MAX);
    p->wpk = up16(mgp * d->taps);
    p->bias = up16(mgp);
    p->wide = up16(KE_CONV_TILE_MB_MAX * d->P);
    p->off = up16(2 * d->taps);
    p->hm = up16(d->OH * d->Wp / 2 + 16); /* fused 2x2 pool's pairs */
}

size_t ke_conv_direct_scratch_bytes(const ke_conv_geom_t *g) {
    ke_g3_t t;
    ke_g3_from(g, &t);
    dgeom_t d;
    dgeom_of(g, &t, &d);
    dparts_t p;
    dparts_of(&d, &p);
    return (size_t)(p.xin + p.wpk + p.bias + p.wide + p.off + p.hm) * sizeof(float);
}

/* Padded-input borders, tap offsets, packed weights and bias of group gr:
 * what every unit of the group shares. */
static void unit_setup(const ke_conv_geom_t *g, const dgeom_t *d, const ke_conv_tile_t *tk,
                       const float *W, const float *bias, int64_t gr, float *xp, float *wpk,
                       float *bpk, int64_t *off, int64_t xin) {
    const int mb = tk->mb;
    const int64_t mblocks = (d->mg + mb - 1) / mb;
    const float *wg = W + gr * d->mg * d->taps;
    memset(xp, 0, sizeof(float) * (size_t)xin);
    int64_t tp = 0;
    for (int64_t c = 0; c < d->cg; c++)
        for (int64_t a = 0; a < d->kh; a++)
            for (int64_t b = 0; b < d->kw; b++)
                off[tp++] = c * d->cplane +
                            ((a * d->dh) % d->sh * d->sw + (b * d->dw) % d->sw) * d->plane +
                            (a * d->dh) / d->sh * d->Wp + (b * d->dw) / d->sw;
    for (int64_t blk = 0; blk < mblocks; blk++)
        for (int64_t k = 0; k < d->taps; k++)
            for (int m = 0; m < mb; m++) {
                int64_t mm = blk * mb + m;
                wpk[(blk * d->taps + k) * mb + m] = mm < d->mg ? wg[mm * d->taps + k] : 0.0f;
            }
    for (int64_t mm = 0; mm < mblocks * mb; mm++)
        bpk[mm] = bias && mm < d->mg ? bias[gr * d->mg + mm] : 0.0f;
    (void)g;
}

/* Pooled rows are short (7 or 14 for the CNN): they are written in
 * fixed chunks of PV floats (loops the compiler turns into one vector op);
 * a row shorter than PV writes PV anyway, spilling into the rows after it
 * (rewritten right after), unless that would run past the plane's end. */
#define PV 8

typedef float pv_t __attribute__((vector_size(PV * sizeof(float))));
typedef int32_t pvi_t __attribute__((vector_size(PV * sizeof(float))));

static inline float max2(float a, float b) {
    return b > a ? b : a;
}

/* max2 lane by lane, as a bit select (C has no vector ?:); a macro, as
 * a function taking vectors by value would change the ABI on targets
 * without wide registers (-Wpsabi) */
#define VMAX2(A, B) ((pv_t)(((pvi_t)((B) > (A)) & (pvi_t)(B)) | (~(pvi_t)((B) > (A)) & (pvi_t)(A))))

/* o[c] = act(max(a[c], b[c])), or act(a[c]) when b is NULL, for c < w
 * (chunks of PV; may write up to o[PV - 1] when spill, may read up to
 * a[PV - 1], b[PV - 1]) */
static inline void row_out(float *restrict o, const float *restrict a, const float *restrict b,
                           int64_t w, int relu, int spill) {
    int64_t c = 0;
    if (w >= PV || spill) {
        const pv_t zero = {0};
        for (; c < w; c += PV) {
            if (c + PV > w && w >= PV)
                c = w - PV; /* last chunk ends at the row's end */
            pv_t v, vb;
            memcpy(&v, a + c, sizeof v);
            if (b) {
                memcpy(&vb, b + c, sizeof vb);
                v = VMAX2(v, vb);
            }
            if (relu)
                v = VMAX2(zero, v);
            memcpy(o + c, &v, sizeof v);
        }
        return;
    }
    for (; c < w; c++) {
        float v = b ? max2(a[c], b[c]) : a[c];
        o[c] = relu ? max2(0.0f, v) : v;
    }
}

/* Valid columns of one wide channel plane into Y's plane. */
static void store_plane(const dgeom_t *d, const float *restrict src, float *restrict dst,
                        int relu) {
    for (int64_t r = 0; r < d->OH; r++)
        row_out(dst + r * d->OW, src + r * d->Wp, NULL, d->OW, relu, (d->OH - r) * d->OW >= PV);
}

/* Max over kh x kw windows (stride = window) of one wide channel plane
 * into Y's pooled plane; ReLU after the max when relu. 2x2 over even Wp:
 * pairs along the whole plane in one long loop into hm (a wide row of Wp
 * holds Wp / 2 pairs, so pair k of the plane is hm[k]), then the max of
 * two hm rows per output row. hm holds OH * Wp / 2 + PV floats. */
static void pool_plane(const dgeom_t *d, const ke_conv_pool_t *pl, const float *restrict src,
                       float *restrict dst, float *restrict hm, int relu) {
    const int64_t poh = d->OH / pl->kh, pow_ = d->OW / pl->kw;
    if (pl->kh == 2 && pl->kw == 2 && d->Wp % 2 == 0) {
        const int64_t hw = d->Wp / 2, n = 2 * poh * hw;
        for (int64_t k = 0; k < n; k++)
            hm[k] = max2(src[2 * k], src[2 * k + 1]);
        for (int64_t r = 0; r < poh; r++)
            row_out(dst + r * pow_, hm + 2 * r * hw, hm + (2 * r + 1) * hw, pow_, relu,
                    (poh - r) * pow_ >= PV);
        return;
    }
    for (int64_t r = 0; r < poh; r++) {
        float *restrict o = dst + r * pow_;
        const float *restrict r0 = src + r * pl->kh * d->Wp;
        for (int64_t c = 0; c < pow_; c++) {
            float a = -INFINITY;
            for (int64_t i = 0; i < pl->kh; i++)
                for (int64_t j = 0; j < pl->kw; j++)
                    a = max2(a, r0[i * d->Wp + c * pl->kw + j]);
            o[c] = relu ? (a > 0.0f ? a : 0.0f) : a;
        }
    }
}

/* First index q >= 0 with q * s + ph - pad in [0, n), and one past the
 * last (clipped to [0, qn)). */
static void phase_range(int64_t n, int64_t s, int64_t ph, int64_t pad, int64_t qn, int64_t *q0,
                        int64_t *q1) {
    int64_t lo = pad - ph; /* q * s >= lo */
    *q0 = lo > 0 ? (lo + s - 1) / s : 0;
    int64_t hi = n - 1 + pad - ph; /* q * s <= hi */
    *q1 = hi < 0 ? 0 : hi / s + 1;
    if (*q1 > qn)
        *q1 = qn;
    if (*q0 > *q1)
        *q0 = *q1;
}

/* 1 when some tap k < kn (dilation dl) reads phase ph at stride s (a
 * kernel narrower than the stride leaves phases unread) */
static int phase_used(int64_t kn, int64_t dl, int64_t s, int64_t ph) {
    for (int64_t k = 0; k < kn && k < s; k++)
        if (k * dl % s == ph)
            return 1;
    return 0;
}

/* Phase plane (py, px) of one channel x (H x W) into dst (Hp x Wp): the
 * positions inside the input only (the zero border is left alone). */
static void fill_phase(const dgeom_t *d, const float *restrict x, float *restrict dst, int64_t py,
                       int64_t px) {
    int64_t r0, r1, c0, c1;
    phase_range(d->H, d->sh, py, d->ph, d->Hp, &r0, &r1);
    phase_range(d->W, d->sw, px, d->pw, d->Wp, &c0, &c1);
    if (c1 <= c0)
        return;
    for (int64_t r = r0; r < r1; r++) {
        const float *restrict src = x + (r * d->sh + py - d->ph) * d->W + (c0 * d->sw + px - d->pw);
        float *restrict o = dst + r * d->Wp + c0;
        if (d->sw == 1)
            memcpy(o, src, sizeof(float) * (size_t)(c1 - c0));
        else
            for (int64_t c = 0; c < c1 - c0; c++)
                o[c] = src[c * d->sw];
    }
}

void ke_conv_direct_unit(const ke_conv_geom_t *g, const ke_conv_tile_t *tk, const float *X,
                         const float *W, const float *bias, float *Y, int64_t n, int64_t gr,
                         float *scratch, int setup, const ke_conv_pool_t *pool, ke_unop_t act,
                         ke_unparams_t actp) {
    ke_g3_t t;
    ke_g3_from(g, &t);
    dgeom_t d;
    dgeom_of(g, &t, &d);
    dparts_t pt;
    dparts_of(&d, &pt);
    float *xp = scratch;
    float *wpk = xp + pt.xin;
    float *bpk = wpk + pt.wpk;
    float *wide = bpk + pt.bias;
    int64_t *off = (int64_t *)(void *)(wide + pt.wide);
    float *hm = wide + pt.wide + pt.off;
    const int mb = tk->mb, pb = tk->pb;
    const int64_t mblocks = (d.mg + mb - 1) / mb;
    const int64_t P = d.OH * d.Wp; /* wide positions to compute */
    const float *xg = X + (n * g->c + gr * d.cg) * t.isz;
    /* Y's plane: the conv output, or the pooled one */
    const int64_t ysz = pool ? (d.OH / pool->kh) * (d.OW / pool->kw) : t.osz;
    float *yg = Y + (n * g->m + gr * d.mg) * ysz;

    if (setup)
        unit_setup(g, &d, tk, W, bias, gr, xp, wpk, bpk, off, pt.xin);
    /* 1. the padded input's interior (the borders stay zero) */
    for (int64_t py = 0; py < d.sh; py++)
        for (int64_t px = 0; px < d.sw; px++)
            if (phase_used(d.kh, d.dh, d.sh, py) && phase_used(d.kw, d.dw, d.sw, px))
                for (int64_t c = 0; c < d.cg; c++)
                    fill_phase(&d, xg + c * d.H * d.W,
                               xp + c * d.cplane + (py * d.sw + px) * d.plane, py, px);
    /* 3. tiles into the wide output of the block, 4. valid columns out
     * (through the pool when fused) */
    const int relu = act == KE_UN_RELU;
    for (int64_t blk = 0; blk < mblocks; blk++) {
        const float *wb = wpk + blk * d.taps * mb;
        int64_t mcount = d.mg - blk * mb;
        if (mcount > mb)
            mcount = mb;
        for (int64_t p0 = 0; p0 < P; p0 += pb)
            tk->fn(xp + p0, wb, off, d.taps, bpk + blk * mb, wide + p0, d.P);
        float *yb = yg + blk * mb * ysz;
        for (int64_t m = 0; m < mcount; m++) {
            float *wm = wide + m * d.P;
            if (!pool) {
                store_plane(&d, wm, yb + m * ysz, relu);
            } else {
                if (act != KE_UN_NONE && !relu)
                    ke_unary_f32(act, actp, wm, wm, P);
                pool_plane(&d, pool, wm, yb + m * ysz, hm, relu);
            }
        }
        if (!pool && act != KE_UN_NONE && !relu)
            ke_unary_f32(act, actp, yb, yb, mcount * ysz);
    }
}
