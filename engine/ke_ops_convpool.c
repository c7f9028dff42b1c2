/* ke_ops_convpool: Conv (with the engine's fused activation), MaxPool,
 * AveragePool, LpPool, GlobalAveragePool, GlobalMaxPool. float32, 1 to 3
 * spatial dims. */
#include <string.h>
#include <unistd.h>

#include "ke_conv_direct.h"
#include "ke_ops_util.h"

/* Most im2col buffers a Conv asks for (one per thread at most). */
#define KE_CONV_MAX_LANES 64

/* Geometry of a Conv (is_conv) or pooling node from X's shape, W's shape
 * (conv) and the attributes. */
static ke_status_t geom(const ke_node_info_t *node, const ke_tensor_t *X, const ke_tensor_t *W,
                        int is_conv, ke_conv_geom_t *g, char *err, size_t errsz) {
    memset(g, 0, sizeof *g);
    if (X->dtype != KE_DT_F32 || (W && W->dtype != KE_DT_F32))
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "float32 only");
    if (X->rank < 3 || X->rank > 5)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "X must be 3-D to 5-D, got rank %d", X->rank);
    int nd = X->rank - 2;
    g->nd = nd;
    g->n = X->shape[0];
    g->c = X->shape[1];
    g->m = g->c;
    g->group = 1;
    const int64_t *ks = NULL, *st = NULL, *dl = NULL, *pd = NULL;
    int64_t nks = ke_attr_ints(node->attrs, "kernel_shape", &ks);
    int64_t nst = ke_attr_ints(node->attrs, "strides", &st);
    int64_t ndl = ke_attr_ints(node->attrs, "dilations", &dl);
    int64_t npd = ke_attr_ints(node->attrs, "pads", &pd);
    if (is_conv) {
        if (!W || W->rank != X->rank)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "W must have X's rank");
        g->group = ke_attr_int(node->attrs, "group", 1);
        g->m = W->shape[0];
        if (g->group < 1 || g->c % g->group || g->m % g->group || W->shape[1] * g->group != g->c)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "channels %lld / group %lld vs W",
                               (long long)g->c, (long long)g->group);
    }
    if ((nks >= 0 && nks != nd) || (!is_conv && nks < 0) || (nst >= 0 && nst != nd) ||
        (ndl >= 0 && ndl != nd) || (npd >= 0 && npd != 2 * nd))
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "attribute lengths do not match rank");
    int ceil_mode = is_conv ? 0 : (int)ke_attr_int(node->attrs, "ceil_mode", 0);
    const char *auto_pad = ke_attr_string(node->attrs, "auto_pad", "NOTSET");
    for (int i = 0; i < nd; i++) {
        g->in[i] = X->shape[2 + i];
        g->k[i] = nks >= 0 ? ks[i] : W->shape[2 + i];
        if (is_conv && W->shape[2 + i] != g->k[i])
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "kernel_shape does not match W");
        g->stride[i] = nst >= 0 ? st[i] : 1;
        g->dil[i] = ndl >= 0 ? dl[i] : 1;
        g->pad_begin[i] = npd >= 0 ? pd[i] : 0;
        g->pad_end[i] = npd >= 0 ? pd[nd + i] : 0;
        if (g->k[i] < 1 || g->stride[i] < 1 || g->dil[i] < 1 || g->pad_begin[i] < 0 ||
            g->pad_end[i] < 0)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "bad kernel/stride/dilation/pad");
        if (ke_conv_auto_pad(auto_pad, g->in[i], g->k[i], g->stride[i], g->dil[i], &g->pad_begin[i],
                             &g->pad_end[i]))
            return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "auto_pad '%s'", auto_pad);
        g->out[i] = ke_conv_out_dim(g->in[i], g->k[i], g->stride[i], g->dil[i], g->pad_begin[i],
                                    g->pad_end[i], ceil_mode);
        if (g->out[i] < 1)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "kernel larger than padded input");
    }
    return KE_OK;
}

static ke_status_t set_out(const ke_conv_geom_t *g, const ke_conv_pool_t *pool, ke_tensor_t *y,
                           char *err, size_t errsz) {
    int64_t shape[KE_MAX_RANK] = {g->n, g->m};
    for (int i = 0; i < g->nd; i++)
        shape[2 + i] = g->out[i];
    if (pool) { /* pooled: floor(out / window) */
        if (g->nd == 2)
            shape[2] /= pool->kh;
        shape[1 + g->nd] /= pool->kw;
    }
    return ke_ops_set(y, KE_DT_F32, g->nd + 2, shape, err, errsz);
}

/* A fused MaxPool (ke_op.h "ke_pool": INTS, one window per spatial dim):
 * 0 and *pool = NULL when absent, 0 and *pool = pl when it applies, -1
 * when it is malformed or this Conv cannot take it. */
static int fused_pool(const ke_node_info_t *node, const ke_conv_geom_t *g, ke_conv_pool_t *pl,
                      const ke_conv_pool_t **pool) {
    const int64_t *v = NULL;
    int64_t n = ke_attr_ints(node->attrs, "ke_pool", &v);
    *pool = NULL;
    if (n < 0)
        return ke_attr_type_of(node->attrs, "ke_pool") == KE_ATTR_UNDEF ? 0 : -1;
    if (n != g->nd)
        return -1;
    pl->kh = g->nd == 2 ? v[0] : 1;
    pl->kw = v[n - 1];
    if (!ke_conv_pool_ok(g, pl))
        return -1;
    *pool = pl;
    return 0;
}

ke_status_t ke_ops_conv_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                              ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    if (n_in < 2 || !in[0] || !in[1] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "Conv needs X and W");
    ke_conv_geom_t g;
    ke_status_t st = geom(node, in[0], in[1], 1, &g, err, errsz);
    if (st != KE_OK)
        return st;
    const ke_tensor_t *B = ke_ops_in(in, n_in, 2);
    if (B && (B->dtype != KE_DT_F32 || B->rank != 1 || B->shape[0] != g.m))
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "B must be float32 [%lld]", (long long)g.m);
    ke_unop_t act;
    ke_unparams_t ap;
    if (ke_ops_fused_act(node->attrs, &act, &ap))
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "unknown ke_act");
    ke_conv_pool_t pl;
    const ke_conv_pool_t *pool;
    if (fused_pool(node, &g, &pl, &pool))
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "ke_pool does not fit this Conv");
    return set_out(&g, pool, out[0], err, errsz);
}

ke_status_t ke_ops_conv_prepare(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                const ke_tensor_t *const *out, int n_out, void **state,
                                size_t *scratch_bytes, char *err, size_t errsz) {
    (void)n_in, (void)out, (void)n_out;
    ke_conv_geom_t g;
    *state = NULL;
    ke_status_t st = geom(node, in[0], in[1], 1, &g, err, errsz);
    if (st != KE_OK)
        return st;
    /* one im2col buffer per lane; the thread count is not known here, so
     * plan for every online core (capped) or every unit, whichever is less */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t lanes = g.n * g.group;
    if (ncpu < 1)
        ncpu = 1;
    if (lanes > ncpu)
        lanes = ncpu;
    if (lanes > KE_CONV_MAX_LANES)
        lanes = KE_CONV_MAX_LANES;
    *scratch_bytes = ke_conv_scratch_bytes(&g) * (size_t)(lanes < 1 ? 1 : lanes);
    return KE_OK;
}

ke_status_t ke_ops_conv_run(const ke_node_info_t *node, const void *state,
                            const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                            int n_out, ke_exec_ctx_t *x) {
    (void)state, (void)n_out;
    ke_conv_geom_t g;
    ke_status_t st = geom(node, in[0], in[1], 1, &g, x->err, x->errsz);
    if (st != KE_OK)
        return st;
    size_t need = ke_conv_scratch_bytes(&g);
    if (need > x->scratch_bytes)
        return ke_ops_fail(x->err, x->errsz, KE_ERR_INTERNAL,
                           "Conv needs %zu scratch bytes, got %zu", need, x->scratch_bytes);
    const ke_tensor_t *B = ke_ops_in(in, n_in, 2);
    ke_unop_t act;
    ke_unparams_t ap;
    ke_ops_fused_act(node->attrs, &act, &ap);
    if (g.n == 0)
        return KE_OK;
    ke_conv_pool_t pl;
    const ke_conv_pool_t *pool;
    if (fused_pool(node, &g, &pl, &pool))
        return ke_ops_fail(x->err, x->errsz, KE_ERR_UNSUPPORTED, "ke_pool does not fit this Conv");
    int64_t lanes = ke_conv_lanes(&g, x->pool ? x->n_threads : 1, x->scratch_bytes);
    if (ke_conv_f32_level(ke_gemm_level_best(), &g, pool, in[0]->data, in[1]->data,
                          B ? B->data : NULL, out[0]->data, x->scratch, lanes, x->pool, act, ap))
        return ke_ops_fail(x->err, x->errsz, KE_ERR_INTERNAL, "Conv: no kernel level");
    return KE_OK;
}

/* ---- pooling --------------------------------------------------------------- */

static int pool_kind(const char *op) {
    if (!strcmp(op, "MaxPool"))
        return KE_POOL_MAX;
    if (!strcmp(op, "AveragePool"))
        return KE_POOL_AVG;
    if (!strcmp(op, "LpPool"))
        return KE_POOL_LP;
    return -1;
}

ke_status_t ke_ops_pool_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                              ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    if (n_in < 1 || !in[0] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "missing input");
    if (n_out > 1 && out[1])
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "MaxPool Indices output");
    if (pool_kind(node->op_type) < 0)
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "not a pooling op");
    if (ke_attr_int(node->attrs, "storage_order", 0) != 0)
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "storage_order != 0");
    ke_conv_geom_t g;
    ke_status_t st = geom(node, in[0], NULL, 0, &g, err, errsz);
    if (st != KE_OK)
        return st;
    if (pool_kind(node->op_type) != KE_POOL_MAX)
        for (int i = 0; i < g.nd; i++)
            if (g.dil[i] != 1)
                return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "dilations on %s",
                                   node->op_type);
    return set_out(&g, NULL, out[0], err, errsz);
}

typedef struct pool_task {
    const ke_conv_geom_t *g;
    ke_pool_t kind;
    int cip, p;
    const float *x;
    float *y;
} pool_task_t;

static void pool_chunk(void *arg, int64_t b, int64_t e, int tid) {
    (void)tid;
    const pool_task_t *t = arg;
    ke_pool_planes_f32(t->g, t->kind, t->cip, t->p, t->x, t->y, b, e);
}

ke_status_t ke_ops_pool_run(const ke_node_info_t *node, const void *state,
                            const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                            int n_out, ke_exec_ctx_t *x) {
    (void)state, (void)n_in, (void)n_out;
    ke_conv_geom_t g;
    ke_status_t st = geom(node, in[0], NULL, 0, &g, x->err, x->errsz);
    if (st != KE_OK)
        return st;
    int cip = (int)ke_attr_int(node->attrs, "count_include_pad", 0);
    int p = (int)ke_attr_int(node->attrs, "p", 2);
    pool_task_t t = {&g, (ke_pool_t)pool_kind(node->op_type), cip, p, in[0]->data, out[0]->data};
    int64_t planes = g.n * g.c, per = 1;
    for (int i = 0; i < g.nd; i++)
        per *= g.in[i] + g.out[i] * g.k[i];
    /* ~32k element visits per chunk: small tensors never wake the pool */
    int64_t grain = 1 + (1 << 15) / (per + 1);
    if (x->pool && planes > grain)
        ke_threadpool_parallel_for(x->pool, planes, grain, pool_chunk, &t);
    else
        pool_chunk(&t, 0, planes, 0);
    return KE_OK;
}

ke_status_t ke_ops_global_pool_infer(const ke_node_info_t *node, const ke_tensor_t *const *in,
                                     int n_in, ke_tensor_t *const *out, int n_out, char *err,
                                     size_t errsz) {
    (void)node;
    if (n_in < 1 || !in[0] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "missing input");
    if (in[0]->dtype != KE_DT_F32 || in[0]->rank < 3)
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "float32 [N,C,...] only");
    int64_t shape[KE_MAX_RANK];
    for (int i = 0; i < in[0]->rank; i++)
        shape[i] = i < 2 ? in[0]->shape[i] : 1;
    return ke_ops_set(out[0], KE_DT_F32, in[0]->rank, shape, err, errsz);
}

ke_status_t ke_ops_global_pool_run(const ke_node_info_t *node, const void *state,
                                   const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                                   int n_out, ke_exec_ctx_t *x) {
    (void)state, (void)n_in, (void)n_out, (void)x;
    const ke_tensor_t *X = in[0];
    int64_t nc = X->shape[0] * X->shape[1], inner = 1;
    for (int i = 2; i < X->rank; i++)
        inner *= X->shape[i];
    const int64_t shp[2] = {nc, inner};
    const uint8_t mask[2] = {0, 1};
    ke_redop_t op = !strcmp(node->op_type, "GlobalMaxPool") ? KE_RED_MAX : KE_RED_MEAN;
    ke_reduce_f32(op, 2, shp, mask, X->data, out[0]->data);
    return KE_OK;
}
