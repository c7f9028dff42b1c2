/* ke_conv_direct: the direct stride-1 Conv path (ke_ops_conv_direct.c)
 * and the level-forcing entry point for tests. Private to the engine;
 * reentrant (all state is in the caller's scratch). */
#ifndef KE_CONV_DIRECT_H
#define KE_CONV_DIRECT_H

#include "ke_conv_tile.h"
#include "ke_ops_kern.h"

/* A MaxPool fused behind the Conv (ke_op.h "ke_pool"): window kh x kw,
 * stride = window, no pads, no dilation, floor; Y is then the pooled
 * [n, m, OH / kh, OW / kw]. The activation goes before the max (ReLU
 * after it: the same values). */
typedef struct ke_conv_pool {
    int64_t kh, kw;
} ke_conv_pool_t;

/* One (image n, group gr) unit with tile kernel tk; scratch of
 * ke_conv_direct_scratch_bytes, 64-byte aligned, owned by the calling lane.
 * setup: 1 when the scratch does not hold group gr's packed weights yet
 * (the first unit of a lane, or a new group). */
void ke_conv_direct_unit(const ke_conv_geom_t *g, const ke_conv_tile_t *tk, const float *X,
                         const float *W, const float *bias, float *Y, int64_t n, int64_t gr,
                         float *scratch, int setup, const ke_conv_pool_t *pool, ke_unop_t act,
                         ke_unparams_t actp);

/* ke_conv_f32_mt with the direct path's tile kernel at `level` (tests
 * force each level; ke_conv_f32_mt passes ke_gemm_level_best()) and an
 * optional fused MaxPool (NULL: none; only when ke_conv_pool_ok()).
 * Returns 0, or -1 when this CPU cannot run `level` or the pool cannot be
 * fused (nothing written). */
int ke_conv_f32_level(ke_gemm_level_t level, const ke_conv_geom_t *g, const ke_conv_pool_t *pool,
                      const float *X, const float *W, const float *bias, float *Y, float *scratch,
                      int64_t lanes, struct ke_threadpool *tp, ke_unop_t act, ke_unparams_t actp);

/* 1 when a MaxPool can be fused behind this Conv: the direct path takes
 * it (2-D or 1-D, not a plain 1x1: see ke_conv_direct_ok) and the window
 * fits the output (for 1-D, kh must be 1). */
int ke_conv_pool_ok(const ke_conv_geom_t *g, const ke_conv_pool_t *pool);

#endif
