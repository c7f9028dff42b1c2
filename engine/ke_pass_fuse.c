/* ke_pass_fuse: fusion pattern matching (see ke_op.h "Fusion").
 *
 * In order: decomposed GELU -> Gelu; decomposed LayerNorm ->
 * LayerNormalization; Conv + BatchNormalization -> Conv with folded
 * weights; MatMul + bias Add -> MatMul with a bias input; Gemm/MatMul/Conv +
 * activation -> "ke_act"; Transposes around a batched MatMul ->
 * "ke_perm_a/b/y"; batched MatMul + Div/Mul by a constant -> "ke_alpha";
 * Conv (+ act) + non-overlapping MaxPool -> Conv with "ke_pool" (these
 * three only when the caller says every plan is for the CPU: the CUDA
 * backend hands such nodes to its CPU fallback).
 * Every rewrite needs its target row in the op
 * table (MatMul bias and ke_act need rows flagged KE_OP_FUSE_ACT); when it
 * is missing the graph is left as it was. Replaced nodes are marked dead;
 * the rewritten node keeps the last node's output (and position), so the
 * node order stays topological. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ke_conv_direct.h"
#include "ke_pass.h"

typedef struct {
    ke_graph_t *g;
    int *uses; /* live consumers per value (+1 for graph outputs) */
} fctx_t;

static ke_status_t count_uses(fctx_t *f) {
    ke_graph_t *g = f->g;
    free(f->uses);
    f->uses = calloc((size_t)g->n_vals + 1, sizeof(int));
    if (!f->uses)
        return KE_ERR_NOMEM;
    for (int i = 0; i < g->n_nodes; i++) {
        const ke_node_t *n = &g->nodes[i];
        if (n->dead || n->folded)
            continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                f->uses[n->in[k]]++;
    }
    for (int i = 0; i < g->n_outputs; i++)
        f->uses[g->outputs[i]]++;
    return KE_OK;
}

static int live(const ke_node_t *n) {
    return !n->dead && !n->folded;
}

static int is_op(const ke_graph_t *g, int ni, const char *op) {
    return ni >= 0 && live(&g->nodes[ni]) && strcmp(g->nodes[ni].op_type, op) == 0;
}

/* live producer of v, -1 if none */
static int prod(const ke_graph_t *g, int v) {
    if (v < 0 || g->vals[v].kind != KE_VAL_RUNTIME)
        return -1;
    int p = g->vals[v].producer;
    return p >= 0 && live(&g->nodes[p]) ? p : -1;
}

/* the only live consumer of v (v used exactly once, not a graph output) */
static int sole_consumer(const fctx_t *f, int v) {
    const ke_graph_t *g = f->g;
    if (v < 0 || f->uses[v] != 1 || g->vals[v].is_output)
        return -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const ke_node_t *n = &g->nodes[i];
        if (!live(n))
            continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == v)
                return i;
    }
    return -1;
}

static int const_f32(const ke_graph_t *g, int v) {
    return v >= 0 && g->vals[v].kind == KE_VAL_CONST && g->vals[v].t.data &&
           g->vals[v].t.dtype == KE_DT_F32;
}

static int const_scalar(const ke_graph_t *g, int v, float *out) {
    if (!const_f32(g, v) || ke_tensor_numel(&g->vals[v].t) != 1)
        return 0;
    *out = *(const float *)g->vals[v].t.data;
    return 1;
}

static int near(float a, float b) {
    return fabsf(a - b) <= 1e-3f * fabsf(b) + 1e-6f;
}

/* binary node ni with one input == v: the other input, else -1 */
static int other_in(const ke_graph_t *g, int ni, int v) {
    const ke_node_t *n = &g->nodes[ni];
    if (n->n_in != 2)
        return -1;
    if (n->in[0] == v)
        return n->in[1];
    if (n->in[1] == v)
        return n->in[0];
    return -1;
}

static void kill(ke_graph_t *g, int ni) {
    g->nodes[ni].dead = 1;
}

/* ---- GELU: x * 0.5 * (1 + erf(x / sqrt2)) ------------------------------ */
static ke_status_t fuse_gelu(fctx_t *f) {
    ke_graph_t *g = f->g;
    if (!ke_graph_find_op(g, "Gelu", "", KE_OPSET_INTERNAL))
        return KE_OK;
    for (int e = 0; e < g->n_nodes; e++) {
        if (!is_op(g, e, "Erf"))
            continue;
        int d = g->nodes[e].in[0];
        int pd = prod(g, d);
        float c;
        if (pd < 0 || f->uses[d] != 1 || g->nodes[pd].n_in != 2)
            continue;
        int x = g->nodes[pd].in[0];
        if (is_op(g, pd, "Div")) {
            if (!const_scalar(g, g->nodes[pd].in[1], &c) || !near(c, 1.4142135f))
                continue;
        } else if (is_op(g, pd, "Mul")) {
            if (!const_scalar(g, g->nodes[pd].in[1], &c) || !near(c, 0.70710678f))
                continue;
        } else {
            continue;
        }
        int a = sole_consumer(f, g->nodes[e].out[0]);
        if (!is_op(g, a, "Add") || !const_scalar(g, other_in(g, a, g->nodes[e].out[0]), &c) ||
            !near(c, 1.0f))
            continue;
        int m1 = sole_consumer(f, g->nodes[a].out[0]);
        if (!is_op(g, m1, "Mul"))
            continue;
        int o1 = other_in(g, m1, g->nodes[a].out[0]);
        int final = -1, extra = -1;
        if (o1 == x) { /* (x * (1 + erf)) * 0.5 */
            int m2 = sole_consumer(f, g->nodes[m1].out[0]);
            if (!is_op(g, m2, "Mul") ||
                !const_scalar(g, other_in(g, m2, g->nodes[m1].out[0]), &c) || !near(c, 0.5f))
                continue;
            final = m2;
            extra = m1;
        } else { /* (x * 0.5) * (1 + erf) */
            int h = prod(g, o1);
            if (!is_op(g, h, "Mul") || f->uses[o1] != 1 || other_in(g, h, x) < 0 ||
                !const_scalar(g, other_in(g, h, x), &c) || !near(c, 0.5f))
                continue;
            final = m1;
            extra = h;
        }
        ke_status_t st = ke_graph_node_rewrite(g, final, "Gelu", 20, &x, 1);
        if (st == KE_ERR_UNSUPPORTED)
            return KE_OK;
        if (st != KE_OK)
            return st;
        kill(g, pd);
        kill(g, e);
        kill(g, a);
        kill(g, extra);
        if ((st = count_uses(f)) != KE_OK)
            return st;
    }
    return KE_OK;
}

/* ---- LayerNorm: (x - mean) / sqrt(var + eps) * gamma + beta ------------ */
static int last_axis_mean(const ke_graph_t *g, int ni, int rank) {
    if (!is_op(g, ni, "ReduceMean") || g->nodes[ni].n_in != 1)
        return 0;
    const int64_t *ax;
    if (ke_attr_ints(&g->nodes[ni].attrset, "axes", &ax) != 1)
        return 0;
    if (ke_attr_int(&g->nodes[ni].attrset, "keepdims", 1) != 1)
        return 0;
    return ax[0] == -1 || ax[0] == rank - 1;
}

static ke_status_t fuse_layernorm(fctx_t *f) {
    ke_graph_t *g = f->g;
    if (!ke_graph_find_op(g, "LayerNormalization", "", KE_OPSET_INTERNAL))
        return KE_OK;
    for (int r1 = 0; r1 < g->n_nodes; r1++) {
        if (!is_op(g, r1, "ReduceMean"))
            continue;
        int x = g->nodes[r1].in[0];
        if (x < 0)
            continue;
        int rank = g->vals[x].t.rank;
        if (rank < 1 || g->vals[x].dim_a[rank - 1] != 0 || !last_axis_mean(g, r1, rank))
            continue;
        int64_t D = g->vals[x].dim_c[rank - 1];
        int mean = g->nodes[r1].out[0];
        int s = sole_consumer(f, mean);
        if (!is_op(g, s, "Sub") || g->nodes[s].in[0] != x || g->nodes[s].in[1] != mean)
            continue;
        int d = g->nodes[s].out[0];
        if (f->uses[d] != 2 || g->vals[d].is_output)
            continue;
        int p = -1, q = -1;
        for (int i = 0; i < g->n_nodes; i++) {
            if (!live(&g->nodes[i]) || g->nodes[i].n_in != 2 || g->nodes[i].in[0] != d)
                continue;
            if (is_op(g, i, "Pow"))
                p = i;
            else if (is_op(g, i, "Div"))
                q = i;
        }
        float c, eps;
        if (p < 0 || q < 0 || !const_scalar(g, g->nodes[p].in[1], &c) || c != 2.0f)
            continue;
        int r2 = sole_consumer(f, g->nodes[p].out[0]);
        if (!last_axis_mean(g, r2, rank))
            continue;
        int ae = sole_consumer(f, g->nodes[r2].out[0]);
        if (!is_op(g, ae, "Add") || !const_scalar(g, other_in(g, ae, g->nodes[r2].out[0]), &eps))
            continue;
        int sq = sole_consumer(f, g->nodes[ae].out[0]);
        if (!is_op(g, sq, "Sqrt") || sole_consumer(f, g->nodes[sq].out[0]) != q ||
            g->nodes[q].in[1] != g->nodes[sq].out[0])
            continue;
        int mg = sole_consumer(f, g->nodes[q].out[0]);
        if (!is_op(g, mg, "Mul"))
            continue;
        int gamma = other_in(g, mg, g->nodes[q].out[0]);
        int ab = sole_consumer(f, g->nodes[mg].out[0]);
        if (!is_op(g, ab, "Add"))
            continue;
        int beta = other_in(g, ab, g->nodes[mg].out[0]);
        if (!const_f32(g, gamma) || !const_f32(g, beta) || g->vals[gamma].t.rank != 1 ||
            g->vals[beta].t.rank != 1 || g->vals[gamma].t.shape[0] != D ||
            g->vals[beta].t.shape[0] != D)
            continue;
        int ins[3] = {x, gamma, beta};
        ke_status_t st = ke_graph_node_rewrite(g, ab, "LayerNormalization", 17, ins, 3);
        if (st == KE_ERR_UNSUPPORTED)
            return KE_OK;
        if (st != KE_OK)
            return st;
        ke_attr_t at;
        memset(&at, 0, sizeof at);
        at.name = "axis";
        at.type = KE_ATTR_INT;
        at.i = -1;
        if ((st = ke_graph_node_set_attr(g, ab, &at, NULL)) != KE_OK)
            return st;
        at.name = "epsilon";
        at.type = KE_ATTR_FLOAT;
        at.f = eps;
        if ((st = ke_graph_node_set_attr(g, ab, &at, NULL)) != KE_OK)
            return st;
        int deadn[8] = {r1, s, p, r2, ae, sq, q, mg};
        for (int k = 0; k < 8; k++)
            kill(g, deadn[k]);
        if ((st = count_uses(f)) != KE_OK)
            return st;
    }
    return KE_OK;
}

/* ---- Conv + BatchNormalization ----------------------------------------- */
static ke_status_t fuse_conv_bn(fctx_t *f) {
    ke_graph_t *g = f->g;
    for (int bn = 0; bn < g->n_nodes; bn++) {
        if (!is_op(g, bn, "BatchNormalization") || g->nodes[bn].n_in != 5)
            continue;
        int y = g->nodes[bn].in[0];
        int c = prod(g, y);
        if (!is_op(g, c, "Conv") || f->uses[y] != 1 || g->vals[y].is_output)
            continue;
        if (g->nodes[c].n_in < 2 || g->nodes[c].n_out != 1)
            continue;
        int live_outs = 0;
        for (int k = 1; k < g->nodes[bn].n_out; k++)
            if (g->nodes[bn].out[k] >= 0 && f->uses[g->nodes[bn].out[k]] > 0)
                live_outs++;
        if (live_outs)
            continue;
        int w = g->nodes[c].in[1], b = g->nodes[c].n_in > 2 ? g->nodes[c].in[2] : -1;
        if (!const_f32(g, w) || g->vals[w].t.rank < 3 || (b >= 0 && !const_f32(g, b)))
            continue;
        int64_t oc = g->vals[w].t.shape[0];
        int ok = 1;
        for (int k = 1; k < 5; k++) {
            int v = g->nodes[bn].in[k];
            ok &= const_f32(g, v) && ke_tensor_numel(&g->vals[v].t) == oc;
        }
        if (!ok || (b >= 0 && ke_tensor_numel(&g->vals[b].t) != oc))
            continue;
        float eps = ke_attr_float(&g->nodes[bn].attrset, "epsilon", 1e-5f);
        const float *sc = g->vals[g->nodes[bn].in[1]].t.data,
                    *bb = g->vals[g->nodes[bn].in[2]].t.data;
        const float *mu = g->vals[g->nodes[bn].in[3]].t.data,
                    *var = g->vals[g->nodes[bn].in[4]].t.data;
        ke_tensor_t nw, nb;
        ke_status_t st = ke_tensor_clone(&nw, &g->vals[w].t);
        if (st != KE_OK)
            return st;
        st = ke_tensor_alloc(&nb, KE_DT_F32, 1, &oc);
        if (st != KE_OK) {
            ke_tensor_release(&nw);
            return st;
        }
        int64_t per = ke_tensor_numel(&nw) / (oc ? oc : 1);
        const float *ob = b >= 0 ? g->vals[b].t.data : NULL;
        for (int64_t o = 0; o < oc; o++) {
            float s = sc[o] / sqrtf(var[o] + eps);
            float *wp = (float *)nw.data + o * per;
            for (int64_t i = 0; i < per; i++)
                wp[i] *= s;
            ((float *)nb.data)[o] = ((ob ? ob[o] : 0.0f) - mu[o]) * s + bb[o];
        }
        char nm[256];
        snprintf(nm, sizeof nm, "%s/bn_folded_W", g->nodes[c].name);
        int vw = ke_graph_add_const(g, nm, &nw);
        snprintf(nm, sizeof nm, "%s/bn_folded_B", g->nodes[c].name);
        int vb = vw >= 0 ? ke_graph_add_const(g, nm, &nb) : -1;
        ke_tensor_release(&nw);
        ke_tensor_release(&nb);
        if (vw < 0 || vb < 0)
            return KE_ERR_NOMEM;
        ke_node_t *cn = &g->nodes[c];
        if (cn->n_in < 3) {
            int *ni = realloc(cn->in, 3 * sizeof(int));
            if (!ni)
                return KE_ERR_NOMEM;
            cn->in = ni;
            cn->n_in = 3;
        }
        cn->in[1] = vw;
        cn->in[2] = vb;
        int yo = g->nodes[bn].out[0];
        cn->out[0] = yo;
        g->vals[yo].producer = c;
        kill(g, bn);
        if ((st = count_uses(f)) != KE_OK)
            return st;
    }
    return KE_OK;
}

/* ---- MatMul + bias ------------------------------------------------------ */
static ke_status_t fuse_matmul_bias(fctx_t *f) {
    ke_graph_t *g = f->g;
    for (int mm = 0; mm < g->n_nodes; mm++) {
        if (!is_op(g, mm, "MatMul") || g->nodes[mm].n_in != 2)
            continue;
        const ke_node_t *m = &g->nodes[mm];
        if (!m->def || !(m->def->flags & KE_OP_FUSE_ACT))
            continue;
        int w = m->in[1];
        if (!const_f32(g, w) || g->vals[w].t.rank != 2 || g->vals[m->in[0]].t.dtype != KE_DT_F32)
            continue;
        int64_t N = g->vals[w].t.shape[1];
        int y = m->out[0];
        int ad = sole_consumer(f, y);
        if (!is_op(g, ad, "Add"))
            continue;
        int bias = other_in(g, ad, y);
        if (!const_f32(g, bias) || ke_tensor_numel(&g->vals[bias].t) != N)
            continue;
        const ke_tensor_t *bt = &g->vals[bias].t;
        if (bt->rank < 1 || bt->shape[bt->rank - 1] != N)
            continue;
        int b1 = bias;
        if (bt->rank != 1) { /* [1,..,N] -> [N] */
            ke_tensor_t c;
            ke_status_t st = ke_tensor_clone(&c, bt);
            if (st != KE_OK)
                return st;
            c.rank = 1;
            c.shape[0] = N;
            char nm[256];
            snprintf(nm, sizeof nm, "%s/bias", g->nodes[mm].name);
            b1 = ke_graph_add_const(g, nm, &c);
            ke_tensor_release(&c);
            if (b1 < 0)
                return KE_ERR_NOMEM;
        }
        ke_node_t *mn = &g->nodes[mm];
        int *ni = realloc(mn->in, 3 * sizeof(int));
        if (!ni)
            return KE_ERR_NOMEM;
        mn->in = ni;
        mn->in[2] = b1;
        mn->n_in = 3;
        int yo = g->nodes[ad].out[0];
        mn->out[0] = yo;
        g->vals[yo].producer = mm;
        kill(g, ad);
        ke_status_t st = count_uses(f);
        if (st != KE_OK)
            return st;
    }
    return KE_OK;
}

/* ---- producer + activation --------------------------------------------- */
static int act_code(const ke_node_t *n, float *alpha) {
    *alpha = 0.01f;
    if (strcmp(n->op_type, "Relu") == 0)
        return KE_ACT_RELU;
    if (strcmp(n->op_type, "Sigmoid") == 0)
        return KE_ACT_SIGMOID;
    if (strcmp(n->op_type, "Tanh") == 0)
        return KE_ACT_TANH;
    if (strcmp(n->op_type, "Gelu") == 0 &&
        strcmp(ke_attr_string(&n->attrset, "approximate", "none"), "none") == 0)
        return KE_ACT_GELU;
    if (strcmp(n->op_type, "LeakyRelu") == 0) {
        *alpha = ke_attr_float(&n->attrset, "alpha", 0.01f);
        return KE_ACT_LEAKY_RELU;
    }
    return KE_ACT_NONE;
}

static int fusable_producer(const ke_node_t *p) {
    if (!p->def || !(p->def->flags & KE_OP_FUSE_ACT))
        return 0;
    return strcmp(p->op_type, "Gemm") == 0 || strcmp(p->op_type, "MatMul") == 0 ||
           strcmp(p->op_type, "Conv") == 0;
}

static ke_status_t fuse_act(fctx_t *f) {
    ke_graph_t *g = f->g;
    for (int ni = 0; ni < g->n_nodes; ni++) {
        ke_node_t *a = &g->nodes[ni];
        if (!live(a) || a->n_in < 1 || a->n_out < 1)
            continue;
        float alpha;
        int code = act_code(a, &alpha);
        if (code == KE_ACT_NONE)
            continue;
        int x = a->in[0], y = a->out[0];
        if (x < 0 || y < 0 || f->uses[x] != 1 || g->vals[x].is_output)
            continue;
        int pi = prod(g, x);
        if (pi < 0)
            continue;
        ke_node_t *p = &g->nodes[pi];
        if (!fusable_producer(p) || p->out[0] != x || p->n_out != 1)
            continue;
        if (ke_attr_find(&p->attrset, "ke_act"))
            continue;
        if (g->vals[x].t.dtype != KE_DT_F32)
            continue;
        ke_attr_t at;
        memset(&at, 0, sizeof at);
        at.name = "ke_act";
        at.type = KE_ATTR_INT;
        at.i = code;
        ke_status_t st = ke_graph_node_set_attr(g, pi, &at, NULL);
        if (st == KE_OK && code == KE_ACT_LEAKY_RELU) {
            at.name = "ke_act_alpha";
            at.type = KE_ATTR_FLOAT;
            at.f = alpha;
            st = ke_graph_node_set_attr(g, pi, &at, NULL);
        }
        if (st != KE_OK)
            return st;
        g->nodes[pi].out[0] = y;
        g->vals[y].producer = pi;
        g->nodes[ni].dead = 1;
        if ((st = count_uses(f)) != KE_OK)
            return st;
    }
    return KE_OK;
}

/* ---- Transposes around a batched MatMul (attention) ----------------------
 * Transpose -> MatMul input and MatMul -> Transpose become INTS attributes
 * ke_perm_a / ke_perm_b / ke_perm_y on the MatMul, which then reads and
 * writes through strides (see ke_ops_linalg.c). Only for run-time operands
 * of equal rank >= 3, a Transpose whose output feeds nothing else, and an
 * output perm that keeps the last axis last (rows stay contiguous). */

/* perm of Transpose node ti for rank r (reversal when absent); 0 if bad */
static int transpose_perm(const ke_node_t *t, int r, int64_t *perm) {
    const int64_t *p;
    int64_t n = ke_attr_ints(&t->attrset, "perm", &p);
    if (n < 0) {
        for (int i = 0; i < r; i++)
            perm[i] = r - 1 - i;
        return 1;
    }
    if (n != r)
        return 0;
    int seen = 0;
    for (int i = 0; i < r; i++) {
        if (p[i] < 0 || p[i] >= r || (seen & (1 << p[i])))
            return 0;
        seen |= 1 << p[i];
        perm[i] = p[i];
    }
    return 1;
}

static ke_status_t set_perm(ke_graph_t *g, int ni, const char *name, const int64_t *perm, int r) {
    ke_attr_t at;
    memset(&at, 0, sizeof at);
    at.name = name;
    at.type = KE_ATTR_INTS;
    at.ints = perm;
    at.n = r;
    return ke_graph_node_set_attr(g, ni, &at, NULL);
}

static ke_status_t fuse_matmul_transpose(fctx_t *f) {
    ke_graph_t *g = f->g;
    static const char *const names[2] = {"ke_perm_a", "ke_perm_b"};
    for (int mm = 0; mm < g->n_nodes; mm++) {
        if (!is_op(g, mm, "MatMul") || g->nodes[mm].n_in < 2 || g->nodes[mm].n_out != 1)
            continue;
        const ke_node_t *m = &g->nodes[mm];
        if (!m->def || !(m->def->flags & KE_OP_FUSE_ACT))
            continue;
        const int r = g->vals[m->in[0]].t.rank;
        if (r < 3 || r > KE_MAX_RANK || g->vals[m->in[1]].t.rank != r)
            continue;
        for (int s = 0; s < 2; s++) {
            int v = g->nodes[mm].in[s];
            int ti = prod(g, v);
            if (!is_op(g, ti, "Transpose") || f->uses[v] != 1 || g->vals[v].is_output)
                continue;
            if (ke_attr_find(&g->nodes[mm].attrset, names[s]))
                continue;
            const ke_node_t *t = &g->nodes[ti];
            int src = t->in[0];
            int64_t perm[KE_MAX_RANK];
            if (src < 0 || g->vals[src].t.rank != r || g->vals[src].t.dtype != KE_DT_F32 ||
                g->vals[src].kind != KE_VAL_RUNTIME || !transpose_perm(t, r, perm))
                continue;
            ke_status_t st = set_perm(g, mm, names[s], perm, r);
            if (st != KE_OK)
                return st;
            g->nodes[mm].in[s] = src;
            kill(g, ti);
            if ((st = count_uses(f)) != KE_OK)
                return st;
        }
        int y = g->nodes[mm].out[0];
        int ti = sole_consumer(f, y);
        if (!is_op(g, ti, "Transpose") || ke_attr_find(&g->nodes[mm].attrset, "ke_perm_y"))
            continue;
        int64_t perm[KE_MAX_RANK];
        if (g->vals[y].t.rank != r || !transpose_perm(&g->nodes[ti], r, perm) ||
            perm[r - 1] != r - 1 || g->nodes[ti].n_out < 1)
            continue;
        ke_status_t st = set_perm(g, mm, "ke_perm_y", perm, r);
        if (st != KE_OK)
            return st;
        int yo = g->nodes[ti].out[0];
        g->nodes[mm].out[0] = yo;
        g->vals[yo].producer = mm;
        kill(g, ti);
        if ((st = count_uses(f)) != KE_OK)
            return st;
    }
    return KE_OK;
}

/* ---- batched MatMul + Div/Mul by a constant (attention scale) ------------
 * -> FLOAT "ke_alpha" on the MatMul when it has no bias or activation yet
 * and both inputs have the same rank >= 3 (the strided path applies it). */
static ke_status_t fuse_matmul_scale(fctx_t *f) {
    ke_graph_t *g = f->g;
    for (int mm = 0; mm < g->n_nodes; mm++) {
        if (!is_op(g, mm, "MatMul") || g->nodes[mm].n_in != 2 || g->nodes[mm].n_out != 1)
            continue;
        const ke_node_t *m = &g->nodes[mm];
        if (!m->def || !(m->def->flags & KE_OP_FUSE_ACT))
            continue;
        if (ke_attr_find(&m->attrset, "ke_act") || ke_attr_find(&m->attrset, "ke_alpha"))
            continue;
        const int r = g->vals[m->in[0]].t.rank;
        if (r < 3 || g->vals[m->in[1]].t.rank != r)
            continue;
        int y = m->out[0];
        int di = sole_consumer(f, y);
        float c;
        int divide = is_op(g, di, "Div");
        if (!divide && !is_op(g, di, "Mul"))
            continue;
        const ke_node_t *d = &g->nodes[di];
        if (d->n_in != 2 || d->n_out < 1)
            continue;
        if (divide ? d->in[0] != y : 0)
            continue;
        int cv = other_in(g, di, y);
        if (!const_scalar(g, cv, &c) || (divide && c == 0.0f))
            continue;
        /* the scale must not broadcast the output to a bigger shape */
        if (g->vals[cv].t.rank > r)
            continue;
        ke_attr_t at;
        memset(&at, 0, sizeof at);
        at.name = "ke_alpha";
        at.type = KE_ATTR_FLOAT;
        at.f = divide ? 1.0f / c : c;
        ke_status_t st = ke_graph_node_set_attr(g, mm, &at, NULL);
        if (st != KE_OK)
            return st;
        int yo = g->nodes[di].out[0];
        g->nodes[mm].out[0] = yo;
        g->vals[yo].producer = mm;
        kill(g, di);
        if ((st = count_uses(f)) != KE_OK)
            return st;
    }
    return KE_OK;
}

/* ---- Conv + MaxPool ---------------------------------------------------- */
/* value v's spatial dims (after N, C) when they are fixed; 0 otherwise */
static int spatial(const ke_graph_t *g, int v, int nd, int64_t *dims) {
    const ke_value_t *x = &g->vals[v];
    if (x->t.rank != nd + 2)
        return 0;
    for (int i = 0; i < nd; i++) {
        if (x->dim_a[2 + i] != 0 || x->dim_c[2 + i] < 1)
            return 0;
        dims[i] = x->dim_c[2 + i];
    }
    return 1;
}

/* attribute ints of length nd equal to `want` (absent: all `def`) */
static int ints_are(const ke_node_t *n, const char *name, int nd, const int64_t *want,
                    int64_t def) {
    const int64_t *v = NULL;
    int64_t k = ke_attr_ints(&n->attrset, name, &v);
    if (k < 0) {
        if (ke_attr_find(&n->attrset, name))
            return 0;
        for (int i = 0; i < nd; i++)
            if ((want ? want[i] : def) != def)
                return 0;
        return 1;
    }
    if (k != nd)
        return 0;
    for (int i = 0; i < nd; i++)
        if (v[i] != (want ? want[i] : def))
            return 0;
    return 1;
}

/* The Conv's geometry from its attributes and fixed value shapes; 0 when
 * anything is unknown or uses auto_pad. */
static int conv_geom_of(const ke_graph_t *g, const ke_node_t *c, ke_conv_geom_t *cg) {
    memset(cg, 0, sizeof *cg);
    if (c->n_in < 2 || !const_f32(g, c->in[1]))
        return 0;
    const ke_tensor_t *w = &g->vals[c->in[1]].t;
    int nd = w->rank - 2;
    const char *ap = ke_attr_string(&c->attrset, "auto_pad", "NOTSET");
    if (nd < 1 || nd > 2 || strcmp(ap, "NOTSET") != 0)
        return 0;
    cg->nd = nd;
    cg->group = ke_attr_int(&c->attrset, "group", 1);
    cg->c = w->shape[1] * cg->group;
    cg->m = w->shape[0];
    cg->n = 1;
    const int64_t *st = NULL, *dl = NULL, *pd = NULL;
    int64_t nst = ke_attr_ints(&c->attrset, "strides", &st);
    int64_t ndl = ke_attr_ints(&c->attrset, "dilations", &dl);
    int64_t npd = ke_attr_ints(&c->attrset, "pads", &pd);
    if ((nst >= 0 && nst != nd) || (ndl >= 0 && ndl != nd) || (npd >= 0 && npd != 2 * nd))
        return 0;
    for (int i = 0; i < nd; i++) {
        cg->k[i] = w->shape[2 + i];
        cg->stride[i] = nst >= 0 ? st[i] : 1;
        cg->dil[i] = ndl >= 0 ? dl[i] : 1;
        cg->pad_begin[i] = npd >= 0 ? pd[i] : 0;
        cg->pad_end[i] = npd >= 0 ? pd[nd + i] : 0;
    }
    return cg->group >= 1 && spatial(g, c->in[0], nd, cg->in) && spatial(g, c->out[0], nd, cg->out);
}

/* MaxPool with window == stride, no pads/dilation, floor, no Indices,
 * behind a direct-path Conv (+ activation) whose output nothing else reads
 * -> the Conv with "ke_pool" (the pooled output written from cache).
 * Only the CPU kernels know "ke_pool": a CPU-only fusion. */
static ke_status_t fuse_conv_pool(fctx_t *f) {
    ke_graph_t *g = f->g;
    for (int pi = 0; pi < g->n_nodes; pi++) {
        if (!is_op(g, pi, "MaxPool"))
            continue;
        const ke_node_t *mp = &g->nodes[pi];
        if (mp->n_in != 1 || mp->n_out < 1 || (mp->n_out > 1 && mp->out[1] >= 0))
            continue;
        int x = mp->in[0];
        int ci = prod(g, x);
        if (!is_op(g, ci, "Conv") || f->uses[x] != 1 || g->vals[x].is_output)
            continue;
        const ke_node_t *c = &g->nodes[ci];
        if (!c->def || !(c->def->flags & KE_OP_FUSE_ACT) || c->n_out != 1 || c->out[0] != x ||
            ke_attr_find(&c->attrset, "ke_pool"))
            continue;
        ke_conv_geom_t cg;
        if (!conv_geom_of(g, c, &cg))
            continue;
        const int nd = cg.nd;
        const int64_t *ks = NULL;
        if (ke_attr_ints(&mp->attrset, "kernel_shape", &ks) != nd)
            continue;
        const char *ap = ke_attr_string(&mp->attrset, "auto_pad", "NOTSET");
        if ((strcmp(ap, "NOTSET") != 0 && strcmp(ap, "VALID") != 0) ||
            ke_attr_int(&mp->attrset, "ceil_mode", 0) != 0 ||
            ke_attr_int(&mp->attrset, "storage_order", 0) != 0 ||
            !ints_are(mp, "strides", nd, ks, 1) || !ints_are(mp, "dilations", nd, NULL, 1))
            continue;
        const int64_t *pd = NULL;
        int64_t npd = ke_attr_ints(&mp->attrset, "pads", &pd);
        int padded = npd >= 0 && npd != 2 * nd;
        for (int64_t i = 0; i < npd && !padded; i++)
            padded = pd[i] != 0;
        if (padded)
            continue;
        ke_conv_pool_t pl = {nd == 2 ? ks[0] : 1, ks[nd - 1]};
        if (!ke_conv_pool_ok(&cg, &pl))
            continue;
        ke_attr_t at;
        memset(&at, 0, sizeof at);
        at.name = "ke_pool";
        at.type = KE_ATTR_INTS;
        at.ints = ks;
        at.n = nd;
        ke_status_t st = ke_graph_node_set_attr(g, ci, &at, NULL);
        if (st != KE_OK)
            return st;
        int y = g->nodes[pi].out[0];
        g->nodes[ci].out[0] = y;
        g->vals[y].producer = ci;
        kill(g, pi);
        if ((st = count_uses(f)) != KE_OK)
            return st;
    }
    return KE_OK;
}

ke_status_t ke_pass_fuse(ke_graph_t *g, int cpu_only, char *err, size_t errsz) {
    fctx_t f = {g, NULL};
    ke_status_t st = count_uses(&f);
    if (st == KE_OK)
        st = fuse_gelu(&f);
    if (st == KE_OK)
        st = fuse_layernorm(&f);
    if (st == KE_OK)
        st = fuse_conv_bn(&f);
    if (st == KE_OK)
        st = fuse_matmul_bias(&f);
    if (st == KE_OK)
        st = fuse_act(&f);
    if (st == KE_OK && cpu_only)
        st = fuse_conv_pool(&f);
    if (st == KE_OK && cpu_only)
        st = fuse_matmul_transpose(&f);
    if (st == KE_OK && cpu_only)
        st = fuse_matmul_scale(&f);
    free(f.uses);
    if (st != KE_OK && err && errsz)
        snprintf(err, errsz, "fusion pass: %s", ke_status_str(st));
    return st;
}
