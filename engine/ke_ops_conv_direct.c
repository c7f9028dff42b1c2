/* ke_ops_conv_direct: stride-1 2-D (and 1-D) convolution without im2col,
 * for layers with a short reduction (c/group * kernel taps <=
 * KE_CONV_DIRECT_MAX_K), where im2col's copy costs more than the GEMM.
 *
 * One (image, group) unit at a time:
 *  1. the group's input channels are copied into a zero-padded buffer
 *     (rows of Wp = W + pads), so that for stride 1 every kernel tap is a
 *     constant offset into it and the output, computed "wide" (OH rows of
 *     Wp columns, the last Wp - OW of each row discarded), is one long run;
 *  2. weights are packed [channel block][tap][DIRECT_MB];
 *  3. for each block of DIRECT_MB output channels and DIRECT_PB wide
 *     output positions, an accumulator tile sums every tap (broadcast
 *     weight x contiguous input run): fixed-size loops the compiler
 *     unrolls and vectorises, the tile staying in registers;
 *  4. each tile is added to the bias and run through the activation while
 *     copied into Y's valid columns.
 * Same results as the im2col + sgemm path up to float summation order. */
#include <string.h>

#include "ke_conv_geom.h"

#define DIRECT_MB 8  /* output channels per tile (tile() unrolls 8) */
#define DIRECT_PB 16 /* wide output positions per tile */

typedef struct dgeom {
    int64_t cg, mg, mblocks, kh, kw, dh, dw, ph, pw;
    int64_t H, W, OH, OW, Hp, Wp, plane, P, taps;
} dgeom_t;

static void dgeom_of(const ke_conv_geom_t *g, const ke_g3_t *t, dgeom_t *d) {
    d->cg = g->c / g->group;
    d->mg = g->m / g->group;
    d->mblocks = (d->mg + DIRECT_MB - 1) / DIRECT_MB;
    d->kh = t->k[1];
    d->kw = t->k[2];
    d->dh = t->d[1];
    d->dw = t->d[2];
    d->ph = t->pb[1];
    d->pw = t->pb[2];
    d->H = t->in[1];
    d->W = t->in[2];
    d->OH = t->out[1];
    d->OW = t->out[2];
    /* stride 1: OW = W + pads - span + 1, so Wp = OW + span - 1 covers
     * the input plus both pads (ceil-free, the end pad may be cut short) */
    d->Wp = d->OW + (d->kw - 1) * d->dw;
    d->Hp = d->OH + (d->kh - 1) * d->dh;
    /* + one tile of slack: the last tile's reads run past OH * Wp */
    d->plane = d->Hp * d->Wp;
    d->P = (d->OH * d->Wp + DIRECT_PB - 1) / DIRECT_PB * DIRECT_PB;
    d->taps = d->cg * d->kh * d->kw;
}

int ke_conv_direct_ok(const ke_conv_geom_t *g) {
    if (g->nd > 2)
        return 0;
    for (int i = 0; i < g->nd; i++)
        if (g->stride[i] != 1)
            return 0;
    int64_t taps = g->c / g->group;
    for (int i = 0; i < g->nd; i++)
        taps *= g->k[i];
    return taps > 1 && taps <= KE_CONV_DIRECT_MAX_K;
}

/* padded input + one tile of slack, in whole 64-byte lines (keeps what
 * follows aligned) */
static size_t xin_floats(const dgeom_t *d) {
    return ((size_t)(d->cg * d->plane + d->P + DIRECT_PB) + 15) / 16 * 16;
}

/* floats: padded input (+ slack), packed weights, wide output of one
 * channel block, tap offsets (int64, two floats' room each) */
static size_t lane_floats(const dgeom_t *d) {
    size_t xin = xin_floats(d);
    size_t wp = (size_t)(d->mblocks * d->taps * DIRECT_MB);
    size_t wide = (size_t)(DIRECT_MB * d->P);
    return xin + wp + wide + 2 * (size_t)d->taps + 16;
}

size_t ke_conv_direct_scratch_bytes(const ke_conv_geom_t *g) {
    ke_g3_t t;
    ke_g3_from(g, &t);
    dgeom_t d;
    dgeom_of(g, &t, &d);
    return lane_floats(&d) * sizeof(float);
}

/* A row of DIRECT_PB floats as one generic vector (GCC/clang vector
 * extension: lowered to whatever the target has, SSE2 upwards), so the
 * DIRECT_MB accumulators stay in registers. */
typedef float dvec_t __attribute__((vector_size(DIRECT_PB * sizeof(float))));

/* out[m][q] = sum over taps of w[tap][m] * xp[off[tap] + q] */
static void tile(const float *restrict xp, const float *restrict wpk, const int64_t *restrict off,
                 int64_t taps, float *restrict out, int64_t ostride) {
    dvec_t a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
    for (int64_t tp = 0; tp < taps; tp++) {
        dvec_t xv;
        memcpy(&xv, xp + off[tp], sizeof xv);
        const float *restrict w = wpk + tp * DIRECT_MB;
        a0 += w[0] * xv;
        a1 += w[1] * xv;
        a2 += w[2] * xv;
        a3 += w[3] * xv;
        a4 += w[4] * xv;
        a5 += w[5] * xv;
        a6 += w[6] * xv;
        a7 += w[7] * xv;
    }
    memcpy(out + 0 * ostride, &a0, sizeof a0);
    memcpy(out + 1 * ostride, &a1, sizeof a1);
    memcpy(out + 2 * ostride, &a2, sizeof a2);
    memcpy(out + 3 * ostride, &a3, sizeof a3);
    memcpy(out + 4 * ostride, &a4, sizeof a4);
    memcpy(out + 5 * ostride, &a5, sizeof a5);
    memcpy(out + 6 * ostride, &a6, sizeof a6);
    memcpy(out + 7 * ostride, &a7, sizeof a7);
}

void ke_conv_direct_unit(const ke_conv_geom_t *g, const float *X, const float *W, const float *bias,
                         float *Y, int64_t n, int64_t gr, float *scratch, ke_unop_t act,
                         ke_unparams_t actp) {
    ke_g3_t t;
    ke_g3_from(g, &t);
    dgeom_t d;
    dgeom_of(g, &t, &d);
    float *xp = scratch;
    float *wpk = xp + xin_floats(&d);
    float *wide = wpk + d.mblocks * d.taps * DIRECT_MB;
    int64_t *off = (int64_t *)(void *)(wide + DIRECT_MB * d.P);
    const float *xg = X + (n * g->c + gr * d.cg) * t.isz;
    float *yg = Y + (n * g->m + gr * d.mg) * t.osz;
    const float *wg = W + gr * d.mg * d.taps;

    /* 1. zero-padded input */
    memset(xp, 0, sizeof(float) * xin_floats(&d));
    for (int64_t c = 0; c < d.cg; c++)
        for (int64_t h = 0; h < d.H; h++) {
            int64_t hp = h + d.ph;
            if (hp >= d.Hp)
                break;
            int64_t w0 = d.pw, len = d.W;
            if (w0 + len > d.Wp)
                len = d.Wp - w0;
            if (len > 0)
                memcpy(xp + c * d.plane + hp * d.Wp + w0, xg + (c * d.H + h) * d.W,
                       sizeof(float) * (size_t)len);
        }
    /* 2. tap offsets and packed weights (zero rows past mg) */
    int64_t tp = 0;
    for (int64_t c = 0; c < d.cg; c++)
        for (int64_t a = 0; a < d.kh; a++)
            for (int64_t b = 0; b < d.kw; b++)
                off[tp++] = c * d.plane + a * d.dh * d.Wp + b * d.dw;
    for (int64_t mb = 0; mb < d.mblocks; mb++)
        for (int64_t k = 0; k < d.taps; k++)
            for (int m = 0; m < DIRECT_MB; m++) {
                int64_t mm = mb * DIRECT_MB + m;
                wpk[(mb * d.taps + k) * DIRECT_MB + m] = mm < d.mg ? wg[mm * d.taps + k] : 0.0f;
            }
    /* 3. tiles into the wide output of the block, 4. valid columns out */
    for (int64_t mb = 0; mb < d.mblocks; mb++) {
        const float *wb = wpk + mb * d.taps * DIRECT_MB;
        int64_t mcount = d.mg - mb * DIRECT_MB;
        if (mcount > DIRECT_MB)
            mcount = DIRECT_MB;
        for (int64_t p0 = 0; p0 < d.P; p0 += DIRECT_PB)
            tile(xp + p0, wb, off, d.taps, wide + p0, d.P);
        for (int64_t m = 0; m < mcount; m++) {
            int64_t mm = mb * DIRECT_MB + m;
            const float bv = bias ? bias[gr * d.mg + mm] : 0.0f;
            float *ym = yg + mm * t.osz;
            for (int64_t r = 0; r < d.OH; r++) {
                const float *restrict src = wide + m * d.P + r * d.Wp;
                float *restrict dst = ym + r * d.OW;
                for (int64_t c = 0; c < d.OW; c++)
                    dst[c] = src[c] + bv;
            }
        }
        if (act != KE_UN_NONE)
            ke_unary_f32(act, actp, yg + mb * DIRECT_MB * t.osz, yg + mb * DIRECT_MB * t.osz,
                         mcount * t.osz);
    }
}
