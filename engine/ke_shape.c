/* ke_shape: shape inference at several batch sizes, folding, affine dims. */
#include "ke_shape.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KE_NEVAL 3
#define KE_SMALL_INT_ELEMS 64
/* one tensor at batch <= 3 (load-time inference) */
#define KE_MAX_TENSOR_BYTES 4294967296.0

__attribute__((format(printf, 3, 4))) static void seterr(char *err, size_t errsz, const char *fmt,
                                                         ...) {
    if (!err || errsz == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

typedef struct {
    ke_tensor_t *desc; /* per value; data set when known */
    unsigned char *known;
    unsigned char *bdep;
    unsigned char *set; /* desc assigned */
} eval_t;

static void eval_free(eval_t *e, int n) {
    if (!e->desc)
        return;
    for (int i = 0; i < n; i++)
        if (e->desc[i].owned)
            ke_tensor_release(&e->desc[i]);
    free(e->desc);
    free(e->known);
    free(e->bdep);
    free(e->set);
    memset(e, 0, sizeof *e);
}

static int is_int_dtype(ke_dtype_t dt) {
    return dt == KE_DT_I64 || dt == KE_DT_I32;
}

ke_status_t ke_shape_run_node(const ke_graph_t *g, int ni, const ke_tensor_t *const *in, int n_in,
                              ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    const ke_node_t *n = &g->nodes[ni];
    ke_node_info_t info;
    ke_graph_node_info(g, ni, &info);
    void *state = NULL;
    size_t scratch = 0;
    char e2[256] = "";
    ke_status_t st = KE_OK;
    if (n->def->prepare) {
        st = n->def->prepare(&info, in, n_in, (const ke_tensor_t *const *)out, n_out, &state,
                             &scratch, e2, sizeof e2);
        if (st != KE_OK) {
            seterr(err, errsz, "node '%s' (%s): %s", n->name, n->op_type, e2);
            return st;
        }
    }
    void *sbuf = NULL;
    if (scratch) {
        sbuf = aligned_alloc(64, (scratch + 63) & ~(size_t)63);
        if (!sbuf) {
            if (state && n->def->free_state)
                n->def->free_state(state);
            seterr(err, errsz, "node '%s' (%s): out of memory", n->name, n->op_type);
            return KE_ERR_NOMEM;
        }
    }
    ke_exec_ctx_t x = {NULL, 1, sbuf, scratch, e2, sizeof e2};
    st = n->def->run(&info, state, in, n_in, out, n_out, &x);
    if (st != KE_OK)
        seterr(err, errsz, "node '%s' (%s): %s", n->name, n->op_type, e2);
    free(sbuf);
    if (state && n->def->free_state)
        n->def->free_state(state);
    return st;
}

/* Shape / Size computed here (they read only the input's shape). */
static ke_status_t eval_shape_op(const ke_node_t *n, const ke_tensor_t *in, ke_tensor_t *out) {
    int64_t r = in->rank;
    if (strcmp(n->op_type, "Size") == 0) {
        ke_status_t st = ke_tensor_alloc(out, KE_DT_I64, 0, NULL);
        if (st == KE_OK)
            *(int64_t *)out->data = ke_tensor_numel(in);
        return st;
    }
    int64_t s = ke_attr_int(&n->attrset, "start", 0), e = ke_attr_int(&n->attrset, "end", r);
    if (s < 0)
        s += r;
    if (e < 0)
        e += r;
    if (s < 0)
        s = 0;
    if (e > r)
        e = r;
    int64_t len = e > s ? e - s : 0;
    ke_status_t st = ke_tensor_alloc(out, KE_DT_I64, 1, &len);
    if (st == KE_OK)
        for (int64_t i = 0; i < len; i++)
            ((int64_t *)out->data)[i] = in->shape[s + i];
    return st;
}

static int is_shape_op(const ke_node_t *n) {
    return (strcmp(n->op_type, "Shape") == 0 || strcmp(n->op_type, "Size") == 0) && n->n_in >= 1 &&
           n->in[0] >= 0;
}

static ke_status_t check_out_desc(const ke_node_t *n, const ke_tensor_t *t, int k, char *err,
                                  size_t errsz) {
    if (t->rank < 0 || t->rank > KE_MAX_RANK || ke_dtype_size(t->dtype) == 0) {
        seterr(err, errsz, "node '%s' (%s): output %d has an invalid rank/dtype", n->name,
               n->op_type, k);
        return KE_ERR_SHAPE;
    }
    double bytes = (double)ke_dtype_size(t->dtype);
    for (int d = 0; d < t->rank; d++) {
        if (t->shape[d] < 0) {
            seterr(err, errsz, "node '%s' (%s): output %d has negative dim %d", n->name, n->op_type,
                   k, d);
            return KE_ERR_SHAPE;
        }
        bytes *= (double)t->shape[d];
    }
    if (bytes > KE_MAX_TENSOR_BYTES) {
        seterr(err, errsz, "node '%s' (%s): output %d would take %.0f bytes (limit %.0f)", n->name,
               n->op_type, k, bytes, KE_MAX_TENSOR_BYTES);
        return KE_ERR_SHAPE;
    }
    return KE_OK;
}

static ke_status_t eval_at(ke_graph_t *g, int64_t batch, eval_t *e, int fold, char *err,
                           size_t errsz) {
    int nv = g->n_vals;
    e->desc = calloc((size_t)nv, sizeof *e->desc);
    e->known = calloc((size_t)nv, 1);
    e->bdep = calloc((size_t)nv, 1);
    e->set = calloc((size_t)nv, 1);
    if (!e->desc || !e->known || !e->bdep || !e->set) {
        seterr(err, errsz, "out of memory");
        return KE_ERR_NOMEM;
    }
    for (int v = 0; v < nv; v++) {
        ke_value_t *val = &g->vals[v];
        if (val->kind == KE_VAL_CONST) {
            e->desc[v] = val->t;
            e->desc[v].owned = 0;
            e->known[v] = e->set[v] = 1;
        } else if (val->kind == KE_VAL_INPUT) {
            ke_value_shape_at(val, batch, &e->desc[v]);
            e->bdep[v] = (unsigned char)g->has_batch;
            e->set[v] = 1;
        }
    }
    const ke_tensor_t *ins[64];
    ke_tensor_t *outs[64];
    char e2[256];
    for (int ni = 0; ni < g->n_nodes; ni++) {
        ke_node_t *n = &g->nodes[ni];
        if (n->dead || n->folded)
            continue;
        int allknown = 1, anybdep = 0;
        for (int k = 0; k < n->n_in; k++) {
            int v = n->in[k];
            ins[k] = NULL;
            if (v < 0)
                continue;
            if (!e->set[v]) {
                seterr(err, errsz,
                       "node '%s' (%s): input '%s' has no shape (graph not in "
                       "topological order?)",
                       n->name, n->op_type, g->vals[v].name);
                return KE_ERR_SHAPE;
            }
            ins[k] = &e->desc[v];
            allknown &= e->known[v];
            anybdep |= e->bdep[v];
        }
        for (int k = 0; k < n->n_out; k++)
            outs[k] = n->out[k] >= 0 ? &e->desc[n->out[k]] : NULL;
        if (is_shape_op(n)) {
            int o = n->out[0];
            if (o >= 0) {
                ke_status_t st = eval_shape_op(n, ins[0], &e->desc[o]);
                if (st != KE_OK) {
                    seterr(err, errsz, "out of memory");
                    return st;
                }
                e->known[o] = e->set[o] = 1;
                e->bdep[o] = e->bdep[n->in[0]];
            }
            continue;
        }
        for (int k = 0; k < n->n_in; k++)
            if ((n->def->value_inputs >> k) & 1u) {
                if (!ins[k])
                    continue; /* omitted optional input */
                if (!e->known[n->in[k]]) {
                    seterr(err, errsz,
                           "node '%s' (%s): input %d ('%s') must be computable at "
                           "load time (it decides a shape)",
                           n->name, n->op_type, k, g->vals[n->in[k]].name);
                    return KE_ERR_UNSUPPORTED;
                }
            }
        ke_node_info_t info;
        ke_graph_node_info(g, ni, &info);
        e2[0] = 0;
        ke_status_t st = n->def->infer(&info, ins, n->n_in, outs, n->n_out, e2, sizeof e2);
        if (st != KE_OK) {
            seterr(err, errsz, "node '%s' (%s): %s", n->name, n->op_type,
                   e2[0] ? e2 : ke_status_str(st));
            return st;
        }
        int small_int = 1;
        for (int k = 0; k < n->n_out; k++) {
            if (!outs[k])
                continue;
            outs[k]->data = NULL;
            outs[k]->owned = 0;
            st = check_out_desc(n, outs[k], k, err, errsz);
            if (st != KE_OK)
                return st;
            e->set[n->out[k]] = 1;
            if (!is_int_dtype(outs[k]->dtype) || ke_tensor_numel(outs[k]) > KE_SMALL_INT_ELEMS)
                small_int = 0;
        }
        int evaluate = allknown && ((!anybdep && fold) || (anybdep && small_int));
        if (!evaluate) {
            /* a run-time value depends on the batch when any input does */
            for (int k = 0; k < n->n_out; k++)
                if (n->out[k] >= 0)
                    e->bdep[n->out[k]] = (unsigned char)anybdep;
            continue;
        }
        for (int k = 0; k < n->n_out; k++) {
            if (!outs[k])
                continue;
            ke_tensor_t d = *outs[k];
            st = ke_tensor_alloc(outs[k], d.dtype, d.rank, d.shape);
            if (st != KE_OK) {
                seterr(err, errsz, "node '%s' (%s): out of memory folding a constant", n->name,
                       n->op_type);
                return st;
            }
        }
        st = ke_shape_run_node(g, ni, ins, n->n_in, outs, n->n_out, err, errsz);
        if (st != KE_OK)
            return st;
        for (int k = 0; k < n->n_out; k++) {
            int o = n->out[k];
            if (o < 0)
                continue;
            e->known[o] = 1;
            e->bdep[o] = (unsigned char)anybdep;
            if (!anybdep) { /* permanent constant */
                ke_value_t *val = &g->vals[o];
                val->kind = KE_VAL_CONST;
                val->t = e->desc[o];
                for (int d = 0; d < val->t.rank; d++) {
                    val->dim_a[d] = 0;
                    val->dim_c[d] = val->t.shape[d];
                }
                e->desc[o].owned = 0; /* the graph owns it now */
            }
        }
        if (!anybdep)
            n->folded = 1;
    }
    return KE_OK;
}

static int same_data(const ke_tensor_t *a, const ke_tensor_t *b) {
    if (a->dtype != b->dtype || !ke_tensor_same_shape(a, b))
        return 0;
    size_t nb = ke_tensor_nbytes(a);
    return nb == 0 || memcmp(a->data, b->data, nb) == 0;
}

static ke_status_t classify(ke_graph_t *g, eval_t *ev, int neval, char *err, size_t errsz) {
    for (int v = 0; v < g->n_vals; v++) {
        ke_value_t *val = &g->vals[v];
        if (val->kind == KE_VAL_CONST || val->kind == KE_VAL_INPUT)
            continue;
        if (!ev[0].set[v])
            continue; /* produced by a dead node */
        const ke_tensor_t *d0 = &ev[0].desc[v];
        const char *pn = val->producer >= 0 ? g->nodes[val->producer].name : "?";
        const char *po = val->producer >= 0 ? g->nodes[val->producer].op_type : "?";
        for (int k = 1; k < neval; k++)
            if (ev[k].desc[v].rank != d0->rank || ev[k].desc[v].dtype != d0->dtype ||
                ev[k].known[v] != ev[0].known[v]) {
                seterr(err, errsz,
                       "node '%s' (%s): output '%s' changes rank or type with the "
                       "batch size",
                       pn, po, val->name);
                return KE_ERR_UNSUPPORTED;
            }
        val->t.dtype = d0->dtype;
        val->t.rank = d0->rank;
        for (int d = 0; d < d0->rank; d++) {
            int64_t s1 = d0->shape[d];
            int64_t a = neval > 1 ? ev[1].desc[v].shape[d] - s1 : 0;
            int64_t c = s1 - a;
            for (int k = 2; k < neval; k++)
                if (ev[k].desc[v].shape[d] != a * (k + 1) + c)
                    a = -1;
            if (a < 0) {
                seterr(err, errsz,
                       "node '%s' (%s): dim %d of output '%s' is not linear in the "
                       "batch size",
                       pn, po, d, val->name);
                return KE_ERR_UNSUPPORTED;
            }
            val->dim_a[d] = a;
            val->dim_c[d] = c;
            val->t.shape[d] = s1;
        }
        if (!ev[0].known[v]) {
            val->kind = KE_VAL_RUNTIME;
            continue;
        }
        int same = 1;
        for (int k = 1; k < neval; k++)
            same &= same_data(&ev[k].desc[v], d0);
        if (same) { /* batch-dependent inputs, batch-independent value */
            ke_tensor_t c;
            ke_status_t st = ke_tensor_clone(&c, d0);
            if (st != KE_OK) {
                seterr(err, errsz, "out of memory");
                return st;
            }
            val->t = c;
            val->kind = KE_VAL_CONST;
            continue;
        }
        int64_t n = ke_tensor_numel(d0);
        for (int d = 0; d < d0->rank; d++)
            if (val->dim_a[d] != 0)
                n = -1;
        if (n < 0) {
            seterr(err, errsz,
                   "node '%s' (%s): output '%s' (shape arithmetic) changes size with "
                   "the batch size",
                   pn, po, val->name);
            return KE_ERR_UNSUPPORTED;
        }
        val->aff_a = calloc((size_t)(n ? n : 1), sizeof(int64_t));
        val->aff_c = calloc((size_t)(n ? n : 1), sizeof(int64_t));
        if (!val->aff_a || !val->aff_c) {
            seterr(err, errsz, "out of memory");
            return KE_ERR_NOMEM;
        }
        for (int64_t i = 0; i < n; i++) {
            int64_t x1 = ke_tensor_get_i64(d0, i);
            int64_t a = ke_tensor_get_i64(&ev[1].desc[v], i) - x1;
            for (int k = 2; k < neval; k++)
                if (ke_tensor_get_i64(&ev[k].desc[v], i) != a * (k + 1) + x1 - a) {
                    seterr(err, errsz,
                           "node '%s' (%s): value of '%s' is not linear in the batch "
                           "size",
                           pn, po, val->name);
                    return KE_ERR_UNSUPPORTED;
                }
            val->aff_a[i] = a;
            val->aff_c[i] = x1 - a;
        }
        val->kind = KE_VAL_AFFINE;
    }
    /* nodes whose outputs are all known at load are not run */
    for (int ni = 0; ni < g->n_nodes; ni++) {
        ke_node_t *n = &g->nodes[ni];
        if (n->dead || n->folded)
            continue;
        int all = 1, any = 0;
        for (int k = 0; k < n->n_out; k++) {
            int o = n->out[k];
            if (o < 0)
                continue;
            any = 1;
            all &= g->vals[o].kind == KE_VAL_CONST || g->vals[o].kind == KE_VAL_AFFINE;
        }
        if (any && all)
            n->folded = 1;
    }
    return KE_OK;
}

ke_status_t ke_shape_infer(ke_graph_t *g, int fold, char *err, size_t errsz) {
    for (int i = 0; i < g->n_inputs; i++) {
        const ke_value_t *v = &g->vals[g->inputs[i]];
        if (g->has_batch && (v->t.rank == 0 || v->dim_a[0] != 1)) {
            seterr(err, errsz,
                   "graph input '%s': the model has a symbolic batch dim but this "
                   "input's leading dim is fixed",
                   v->name);
            return KE_ERR_UNSUPPORTED;
        }
    }
    int neval = g->has_batch ? KE_NEVAL : 1;
    eval_t ev[KE_NEVAL];
    memset(ev, 0, sizeof ev);
    ke_status_t st = KE_OK;
    int nv = g->n_vals;
    for (int k = 0; k < neval && st == KE_OK; k++)
        st = eval_at(g, k + 1, &ev[k], fold, err, errsz);
    if (st == KE_OK)
        st = classify(g, ev, neval, err, errsz);
    for (int k = 0; k < neval; k++)
        eval_free(&ev[k], nv);
    return st;
}

int ke_pass_dead_nodes(ke_graph_t *g) {
    unsigned char *need = calloc((size_t)g->n_vals + 1, 1);
    if (!need)
        return 0;
    for (int i = 0; i < g->n_outputs; i++)
        need[g->outputs[i]] = 1;
    int removed = 0;
    for (int ni = g->n_nodes - 1; ni >= 0; ni--) {
        ke_node_t *n = &g->nodes[ni];
        if (n->dead)
            continue;
        if (n->folded) {
            n->dead = 1;
            removed++;
            continue;
        }
        int live = 0;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0 && need[n->out[k]])
                live = 1;
        if (!live) {
            n->dead = 1;
            removed++;
            continue;
        }
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                need[n->in[k]] = 1;
    }
    for (int v = 0; v < g->n_vals; v++) {
        ke_value_t *val = &g->vals[v];
        if (!need[v] && val->kind == KE_VAL_CONST && val->t.owned) {
            ke_tensor_t d = val->t;
            ke_tensor_release(&val->t);
            val->t.dtype = d.dtype; /* keep the descriptor, drop the bytes */
            val->t.rank = d.rank;
            memcpy(val->t.shape, d.shape, sizeof d.shape);
        }
    }
    free(need);
    return removed;
}
