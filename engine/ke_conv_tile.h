/* ke_conv_tile: the micro-kernel contract between the direct Conv driver
 * (ke_ops_conv_direct.c) and its per-level tile kernels
 * (ke_conv_tile_ref.c, ke_conv_tile_avx2.c, ke_conv_tile_avx512.c).
 * Private to the engine.
 *
 * One call computes an mb x pb tile of the "wide" output:
 *   out[m * ostride + q] = bias[m] + sum_t w[t * mb + m] * x[off[t] + q]
 * for m < mb, q < pb, t < taps: bias holds mb floats, w is the packed
 * weight block ([tap][mb]), every x[off[t] + q] is readable. The levels
 * are ke_gemm.h's (one CPU dispatch for the engine). Reentrant. */
#ifndef KE_CONV_TILE_H
#define KE_CONV_TILE_H

#include <stdint.h>

#include "ke_gemm.h"

typedef void (*ke_conv_tile_fn)(const float *x, const float *w, const int64_t *off, int64_t taps,
                                const float *bias, float *out, int64_t ostride);

typedef struct ke_conv_tile {
    int mb, pb; /* output channels, wide positions per tile */
    ke_conv_tile_fn fn;
} ke_conv_tile_t;

/* Largest mb and pb of any level (scratch is sized for all levels). */
#define KE_CONV_TILE_MB_MAX 8
#define KE_CONV_TILE_PB_MAX 32

/* Each returns 0 and fills *k, or -1 when the level is not compiled in
 * (non-x86 builds) or the CPU lacks it. */
int ke_conv_tile_ref(ke_conv_tile_t *k);
int ke_conv_tile_avx2(ke_conv_tile_t *k);
int ke_conv_tile_avx512(ke_conv_tile_t *k);

/* The kernel of `level`; -1 as above. */
int ke_conv_tile_for(ke_gemm_level_t level, ke_conv_tile_t *k);

#endif
