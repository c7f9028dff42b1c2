/* ke_plan: memory planning and the run loop.
 *
 * Plan time: the live nodes form a flat array; each runtime value gets a
 * slot in one arena (greedy best-offset placement by size, buffers whose
 * lifetimes do not overlap share bytes); VIEW outputs alias their input's
 * bytes; graph inputs point at the caller's memory during a run; constants
 * stay in the model. Run time: when the row count changes, affine shapes
 * and affine shape-arithmetic values are recomputed (a flat loop), then
 * each node's run is called; outputs are copied to the caller. Nothing is
 * allocated on the run path.
 *
 * Device backends with async hooks (CUDA) get KE_PLAN_SLOTS input slots:
 * pinned host staging + device input buffers + pinned output staging per
 * slot. Submitting batch k into slot s: the host copies the caller's inputs
 * into s's staging; the copy queue waits until the compute that last used
 * s is done (EV_DONE(s)), copies them to s's device buffers and records
 * EV_IN(s); the compute queue waits for EV_IN(s), runs the nodes, copies
 * the outputs into s's output staging and records EV_DONE(s). Waiting for
 * batch k syncs EV_DONE(s) and copies its outputs out. So the input copy
 * of batch k+1 (other slot) runs while batch k computes; the arena is
 * shared, and the compute queue's order keeps batches from overlapping in
 * it. A slot is reused only after the batch in it was waited for, so its
 * host staging is never written while a copy from it may be in flight. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ke_backend.h"
#include "ke_model_impl.h"

#define KE_ALIGN 64
#define KE_PLAN_MAX_BYTES 17179869184.0 /* 16 GiB */

typedef struct {
    int node; /* graph node index */
    ke_node_info_t info;
    void *state;
    int n_in, n_out;
    const ke_tensor_t **in;
    ke_tensor_t **out;
} plan_node_t;

struct ke_plan {
    const ke_model_t *m;
    const ke_graph_t *g;
    ke_backend_t *be;
    int max_batch, cur_batch;
    ke_tensor_t *vt; /* per value */
    plan_node_t *nodes;
    int n_nodes;
    const ke_tensor_t **in_pool;
    ke_tensor_t **out_pool;
    int *upd;
    int n_upd; /* values with batch-dependent shapes */
    int *aff;
    int n_aff;     /* AFFINE values (data recomputed per batch) */
    int *in_alias; /* per value: graph input index it aliases, -1 */
    unsigned char *arena;
    size_t arena_bytes, per_row, weight_bytes;
    void *scratch;
    size_t scratch_bytes;
    void **dev_inputs; /* device_memory backends without async hooks */
    ke_precision_t precision;
    /* asynchronous runs (ke_plan_submit / ke_plan_wait) */
    int async_dev;            /* backend has the async hooks: slots live on the device */
    size_t *in_off, *out_off; /* per graph input / output: offset in a slot's staging */
    size_t in_total, out_total;
    struct {
        unsigned char *h_in, *h_out; /* pinned (async_dev) or plain host (h_out only) */
        void **d_in;                 /* async_dev: device input buffers */
        size_t *out_bytes;           /* per output, for the queued batch */
        int n_rows;
    } slot[KE_PLAN_SLOTS];
    int head, n_pending; /* next slot to fill; batches queued */
    void **out_ptrs;     /* per output: scratch pointer array */
    ke_exec_ctx_t x;
    char errbuf[256];
    int profile;
    double *prof_s; /* per plan node, seconds */
    int prof_runs;
};

__attribute__((format(printf, 3, 4))) static void seterr(char *err, size_t errsz, const char *fmt,
                                                         ...) {
    if (!err || errsz == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

ke_plan_params_t ke_plan_default_params(void) {
    ke_plan_params_t p = {1, 0, "cpu", KE_PREC_FP32, NULL};
    return p;
}

static size_t align_up(size_t n) {
    return (n + KE_ALIGN - 1) & ~(size_t)(KE_ALIGN - 1);
}

static size_t value_bytes_at(const ke_value_t *v, int64_t b) {
    ke_tensor_t t;
    ke_value_shape_at(v, b, &t);
    return ke_tensor_nbytes(&t);
}

typedef struct {
    int v;          /* root value */
    int start, end; /* run positions [start, end] */
    size_t size;
    size_t off;
} buf_t;

static int cmp_size_desc(const void *a, const void *b) {
    const buf_t *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? 1 : -1;
    return x->start - y->start;
}

/* Greedy placement: each buffer (largest first) at the lowest offset that
 * does not overlap any placed buffer alive at the same time. Returns the
 * arena size. bufs are reordered. */
static size_t place(buf_t *bufs, int n) {
    qsort(bufs, (size_t)n, sizeof *bufs, cmp_size_desc);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        size_t off = 0;
        for (int again = 1; again;) {
            again = 0;
            for (int j = 0; j < i; j++) {
                if (bufs[j].end < bufs[i].start || bufs[i].end < bufs[j].start)
                    continue;
                if (off < bufs[j].off + bufs[j].size && bufs[j].off < off + bufs[i].size) {
                    off = bufs[j].off + bufs[j].size;
                    again = 1;
                }
            }
        }
        bufs[i].off = off;
        if (off + bufs[i].size > total)
            total = off + bufs[i].size;
    }
    return total;
}

static void update_batch(ke_plan_t *p, int64_t b) {
    const ke_graph_t *g = p->g;
    for (int i = 0; i < p->n_upd; i++) {
        int v = p->upd[i];
        const ke_value_t *val = &g->vals[v];
        for (int d = 0; d < val->t.rank; d++)
            p->vt[v].shape[d] = val->dim_a[d] * b + val->dim_c[d];
    }
    for (int i = 0; i < p->n_aff; i++) {
        int v = p->aff[i];
        const ke_value_t *val = &g->vals[v];
        int64_t n = ke_tensor_numel(&p->vt[v]);
        if (val->t.dtype == KE_DT_I64)
            for (int64_t k = 0; k < n; k++)
                ((int64_t *)p->vt[v].data)[k] = val->aff_a[k] * b + val->aff_c[k];
        else
            for (int64_t k = 0; k < n; k++)
                ((int32_t *)p->vt[v].data)[k] = (int32_t)(val->aff_a[k] * b + val->aff_c[k]);
    }
    p->cur_batch = (int)b;
}

static int has_async(const ke_backend_iface_t *bi) {
    return bi->device_memory && bi->host_alloc && bi->host_free && bi->copy_async &&
           bi->event_record && bi->event_wait && bi->event_sync && bi->sync;
}

static void free_slots(ke_plan_t *p) {
    const ke_backend_iface_t *bi = p->be ? p->be->iface : NULL;
    for (int s = 0; s < KE_PLAN_SLOTS; s++) {
        if (p->async_dev && bi) {
            bi->host_free(p->be->ctx, p->slot[s].h_in);
            bi->host_free(p->be->ctx, p->slot[s].h_out);
            for (int i = 0; p->slot[s].d_in && i < p->g->n_inputs; i++)
                bi->free(p->be->ctx, p->slot[s].d_in[i]);
        } else {
            free(p->slot[s].h_out);
        }
        free(p->slot[s].d_in);
        free(p->slot[s].out_bytes);
    }
}

void ke_plan_free(ke_plan_t *p) {
    if (!p)
        return;
    /* no copy may be in flight into memory freed below */
    if (p->async_dev && p->be)
        (void)p->be->iface->sync(p->be->ctx);
    free_slots(p);
    for (int i = 0; i < p->n_nodes; i++) {
        plan_node_t *pn = &p->nodes[i];
        const ke_node_t *n = &p->g->nodes[pn->node];
        if (pn->state && n->def->free_state)
            n->def->free_state(pn->state);
    }
    if (p->be) {
        p->be->iface->free(p->be->ctx, p->arena);
        p->be->iface->free(p->be->ctx, p->scratch);
        for (int i = 0; p->dev_inputs && i < p->g->n_inputs; i++)
            p->be->iface->free(p->be->ctx, p->dev_inputs[i]);
    }
    if (p->vt && p->g)
        for (int v = 0; v < p->g->n_vals; v++)
            if (p->g->vals[v].kind == KE_VAL_AFFINE)
                free(p->vt[v].data);
    ke_backend_free(p->be);
    free(p->vt);
    free(p->dev_inputs);
    free(p->nodes);
    free(p->in_pool);
    free(p->out_pool);
    free(p->upd);
    free(p->aff);
    free(p->in_alias);
    free(p->prof_s);
    free(p->in_off);
    free(p->out_off);
    free(p->out_ptrs);
    free(p);
}

/* Staging layout (offsets at max batch: p->vt holds max-batch shapes here)
 * and, for device backends, the device input buffers: one set per slot
 * with async hooks, one set (dev_inputs) without. */
static ke_status_t plan_slots(ke_plan_t *p) {
    const ke_graph_t *g = p->g;
    const ke_backend_iface_t *bi = p->be->iface;
    p->in_off = calloc((size_t)g->n_inputs + 1, sizeof *p->in_off);
    p->out_off = calloc((size_t)g->n_outputs + 1, sizeof *p->out_off);
    p->out_ptrs = calloc((size_t)g->n_outputs + 1, sizeof *p->out_ptrs);
    if (!p->in_off || !p->out_off || !p->out_ptrs)
        return KE_ERR_NOMEM;
    for (int i = 0; i < g->n_inputs; i++) {
        p->in_off[i] = p->in_total;
        p->in_total += align_up(ke_tensor_nbytes(&p->vt[g->inputs[i]]));
    }
    for (int i = 0; i < g->n_outputs; i++) {
        p->out_off[i] = p->out_total;
        p->out_total += align_up(ke_tensor_nbytes(&p->vt[g->outputs[i]]));
    }
    for (int s = 0; s < KE_PLAN_SLOTS; s++) {
        p->slot[s].out_bytes = calloc((size_t)g->n_outputs + 1, sizeof(size_t));
        if (!p->slot[s].out_bytes)
            return KE_ERR_NOMEM;
    }
    if (!bi->device_memory)
        return KE_OK;     /* CPU: output staging on first submit */
    if (!has_async(bi)) { /* graph inputs live on the device, copied synchronously */
        p->dev_inputs = calloc((size_t)g->n_inputs + 1, sizeof *p->dev_inputs);
        if (!p->dev_inputs)
            return KE_ERR_NOMEM;
        for (int i = 0; i < g->n_inputs; i++) {
            p->dev_inputs[i] = bi->alloc(p->be->ctx, ke_tensor_nbytes(&p->vt[g->inputs[i]]));
            if (!p->dev_inputs[i])
                return KE_ERR_NOMEM;
        }
        return KE_OK;
    }
    p->async_dev = 1;
    for (int s = 0; s < KE_PLAN_SLOTS; s++) {
        p->slot[s].h_in = bi->host_alloc(p->be->ctx, p->in_total ? p->in_total : KE_ALIGN);
        p->slot[s].h_out = bi->host_alloc(p->be->ctx, p->out_total ? p->out_total : KE_ALIGN);
        p->slot[s].d_in = calloc((size_t)g->n_inputs + 1, sizeof(void *));
        if (!p->slot[s].h_in || !p->slot[s].h_out || !p->slot[s].d_in)
            return KE_ERR_NOMEM;
        for (int i = 0; i < g->n_inputs; i++) {
            p->slot[s].d_in[i] = bi->alloc(p->be->ctx, ke_tensor_nbytes(&p->vt[g->inputs[i]]));
            if (!p->slot[s].d_in[i])
                return KE_ERR_NOMEM;
        }
    }
    return KE_OK;
}

ke_plan_t *ke_plan_new(const ke_model_t *m, const ke_plan_params_t *params, char *err,
                       size_t errsz) {
    ke_plan_params_t pp = params ? *params : ke_plan_default_params();
    if (!m) {
        seterr(err, errsz, "no model");
        ke_backend_free(pp.backend);
        return NULL;
    }
    const ke_graph_t *g = m->g;
    if (pp.max_batch < 1)
        pp.max_batch = 1;
    if (!g->has_batch)
        pp.max_batch = 1;
    ke_plan_t *p = calloc(1, sizeof *p);
    if (!p) {
        seterr(err, errsz, "out of memory");
        ke_backend_free(pp.backend);
        return NULL;
    }
    p->m = m;
    p->g = g;
    p->max_batch = pp.max_batch;
    p->precision = pp.precision;
    p->be =
        pp.backend ? pp.backend : ke_backend_new(pp.device, pp.n_threads, pp.precision, err, errsz);
    if (!p->be) {
        free(p);
        return NULL;
    }
    int nv = g->n_vals;
    int64_t B = pp.max_batch;
    p->vt = calloc((size_t)nv + 1, sizeof *p->vt);
    p->upd = calloc((size_t)nv + 1, sizeof(int));
    p->aff = calloc((size_t)nv + 1, sizeof(int));
    p->in_alias = malloc(((size_t)nv + 1) * sizeof(int));
    p->nodes = calloc((size_t)g->n_nodes + 1, sizeof *p->nodes);
    int *pos_of = calloc((size_t)g->n_nodes + 1, sizeof(int));
    int *root = malloc(((size_t)nv + 1) * sizeof(int));
    buf_t *bufs = calloc((size_t)nv + 1, sizeof *bufs);
    int *buf_of = malloc(((size_t)nv + 1) * sizeof(int));
    size_t n_slots = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const ke_node_t *n = &g->nodes[i];
        if (!n->dead && !n->folded)
            n_slots += (size_t)n->n_in + (size_t)n->n_out;
    }
    p->in_pool = calloc(n_slots + 1, sizeof *p->in_pool);
    p->out_pool = calloc(n_slots + 1, sizeof *p->out_pool);
    if (!p->vt || !p->upd || !p->aff || !p->in_alias || !p->nodes || !pos_of || !root || !bufs ||
        !buf_of || !p->in_pool || !p->out_pool)
        goto nomem;

    /* value descriptors at max batch */
    for (int v = 0; v < nv; v++) {
        const ke_value_t *val = &g->vals[v];
        p->in_alias[v] = -1;
        root[v] = v;
        buf_of[v] = -1;
        ke_value_shape_at(val, B, &p->vt[v]);
        int dep = 0;
        for (int d = 0; d < val->t.rank; d++)
            dep |= val->dim_a[d] != 0;
        if (dep)
            p->upd[p->n_upd++] = v;
        if (val->kind == KE_VAL_CONST)
            p->vt[v].data = val->t.data;
        if (val->kind == KE_VAL_AFFINE) {
            p->vt[v].data = calloc(1, ke_tensor_nbytes(&p->vt[v]) + 8);
            if (!p->vt[v].data)
                goto nomem;
            p->aff[p->n_aff++] = v;
        }
    }
    for (int i = 0; i < g->n_inputs; i++)
        p->in_alias[g->inputs[i]] = i;

    /* flat node array + prepare */
    size_t slot = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const ke_node_t *n = &g->nodes[i];
        if (n->dead || n->folded)
            continue;
        plan_node_t *pn = &p->nodes[p->n_nodes];
        pos_of[i] = p->n_nodes++;
        pn->node = i;
        ke_graph_node_info(g, i, &pn->info);
        pn->n_in = n->n_in;
        pn->n_out = n->n_out;
        pn->in = &p->in_pool[slot];
        slot += (size_t)n->n_in;
        pn->out = &p->out_pool[slot];
        slot += (size_t)n->n_out;
        for (int k = 0; k < n->n_in; k++)
            pn->in[k] = n->in[k] >= 0 ? &p->vt[n->in[k]] : NULL;
        for (int k = 0; k < n->n_out; k++)
            pn->out[k] = n->out[k] >= 0 ? &p->vt[n->out[k]] : NULL;
        if (!p->be->iface->supports_op(p->be->ctx, &pn->info, n->def)) {
            seterr(err, errsz, "node '%s' (%s): not supported by the %s backend", n->name,
                   n->op_type, p->be->iface->name);
            goto fail;
        }
        /* VIEW: output 0 shares input 0's bytes */
        if ((n->def->flags & KE_OP_VIEW) && n->n_in >= 1 && n->in[0] >= 0 && n->n_out >= 1 &&
            n->out[0] >= 0 && g->vals[n->out[0]].kind == KE_VAL_RUNTIME) {
            int src = root[n->in[0]];
            root[n->out[0]] = src;
            p->in_alias[n->out[0]] = p->in_alias[src];
        }
    }
    /* lifetimes of root buffers */
    int nb = 0;
    for (int i = 0; i < p->n_nodes; i++) {
        const ke_node_t *n = &g->nodes[p->nodes[i].node];
        for (int k = 0; k < n->n_out; k++) {
            int o = n->out[k];
            if (o < 0 || root[o] != o || g->vals[o].kind != KE_VAL_RUNTIME)
                continue;
            buf_of[o] = nb;
            bufs[nb].v = o;
            bufs[nb].start = i;
            bufs[nb].end = i;
            bufs[nb].size = align_up(value_bytes_at(&g->vals[o], B));
            nb++;
        }
        for (int k = 0; k < n->n_in; k++) {
            int v = n->in[k];
            if (v < 0 || buf_of[root[v]] < 0)
                continue;
            buf_t *b = &bufs[buf_of[root[v]]];
            if (b->end < i)
                b->end = i;
        }
        for (int k = 0; k < n->n_out; k++) { /* aliases keep their root alive */
            int o = n->out[k];
            if (o < 0 || buf_of[root[o]] < 0)
                continue;
            buf_t *b = &bufs[buf_of[root[o]]];
            if (b->end < i)
                b->end = i;
        }
    }
    for (int i = 0; i < g->n_outputs; i++) {
        int o = g->outputs[i];
        if (buf_of[root[o]] >= 0)
            bufs[buf_of[root[o]]].end = p->n_nodes;
    }
    /* bytes per row from layouts at batch 1 and 65 */
    {
        buf_t *tmp = calloc((size_t)nb + 1, sizeof *tmp);
        if (!tmp)
            goto nomem;
        memcpy(tmp, bufs, (size_t)nb * sizeof *tmp);
        for (int i = 0; i < nb; i++)
            tmp[i].size = align_up(value_bytes_at(&g->vals[tmp[i].v], 1));
        size_t l1 = place(tmp, nb);
        memcpy(tmp, bufs, (size_t)nb * sizeof *tmp);
        for (int i = 0; i < nb; i++)
            tmp[i].size = align_up(value_bytes_at(&g->vals[tmp[i].v], 65));
        size_t l65 = place(tmp, nb);
        free(tmp);
        p->per_row = g->has_batch ? (l65 > l1 ? (l65 - l1 + 63) / 64 : 0) : 0;
    }
    p->arena_bytes = place(bufs, nb);
    {
        double need = 0; /* per-value sizes in double: no size_t wrap-around */
        for (int i = 0; i < nb; i++) {
            ke_tensor_t t;
            ke_value_shape_at(&g->vals[bufs[i].v], B, &t);
            double b = (double)ke_dtype_size(t.dtype);
            for (int d = 0; d < t.rank; d++)
                b *= (double)t.shape[d];
            if (b > need)
                need = b;
        }
        if (need > KE_PLAN_MAX_BYTES || (double)p->arena_bytes > KE_PLAN_MAX_BYTES) {
            seterr(err, errsz,
                   "plan: batch %d needs more than %.0f bytes of activations; use a "
                   "smaller max batch",
                   pp.max_batch, KE_PLAN_MAX_BYTES);
            goto fail;
        }
    }
    p->arena = p->be->iface->alloc(p->be->ctx, p->arena_bytes ? p->arena_bytes : KE_ALIGN);
    if (!p->arena)
        goto nomem;
    for (int i = 0; i < nb; i++)
        p->vt[bufs[i].v].data = p->arena + bufs[i].off;
    for (int v = 0; v < nv; v++)
        if (root[v] != v && g->vals[v].kind == KE_VAL_RUNTIME)
            p->vt[v].data = p->vt[root[v]].data;
    for (int v = 0; v < nv; v++) {
        const ke_value_t *val = &g->vals[v];
        if (val->kind == KE_VAL_CONST && val->t.data)
            p->weight_bytes += ke_tensor_nbytes(&val->t);
    }
    update_batch(p, B);

    /* prepare each node at max batch (constant inputs carry data) */
    size_t scratch = 0;
    for (int i = 0; i < p->n_nodes; i++) {
        plan_node_t *pn = &p->nodes[i];
        const ke_node_t *n = &g->nodes[pn->node];
        if (!n->def->prepare)
            continue;
        ke_tensor_t di[64], dout[64];
        const ke_tensor_t *pi[64];
        const ke_tensor_t *po[64];
        for (int k = 0; k < n->n_in && k < 64; k++) {
            pi[k] = NULL;
            if (!pn->in[k])
                continue;
            di[k] = *pn->in[k];
            int v = n->in[k];
            if (g->vals[v].kind != KE_VAL_CONST && g->vals[v].kind != KE_VAL_AFFINE)
                di[k].data = NULL;
            pi[k] = &di[k];
        }
        for (int k = 0; k < n->n_out && k < 64; k++) {
            po[k] = NULL;
            if (!pn->out[k])
                continue;
            dout[k] = *pn->out[k];
            dout[k].data = NULL;
            po[k] = &dout[k];
        }
        size_t s = 0;
        char e2[256] = "";
        ke_status_t st =
            n->def->prepare(&pn->info, pi, n->n_in, po, n->n_out, &pn->state, &s, e2, sizeof e2);
        if (st != KE_OK) {
            seterr(err, errsz, "node '%s' (%s): %s", n->name, n->op_type,
                   e2[0] ? e2 : ke_status_str(st));
            goto fail;
        }
        if (s > scratch)
            scratch = s;
    }
    p->scratch_bytes = scratch;
    if (scratch) {
        p->scratch = p->be->iface->alloc(p->be->ctx, scratch);
        if (!p->scratch)
            goto nomem;
    }
    if (plan_slots(p) != KE_OK)
        goto nomem;
    p->x.pool = p->be->pool;
    p->x.n_threads = p->be->n_threads;
    p->x.scratch = p->scratch;
    p->x.scratch_bytes = p->scratch_bytes;
    p->x.err = p->errbuf;
    p->x.errsz = sizeof p->errbuf;
    free(pos_of);
    free(root);
    free(bufs);
    free(buf_of);
    return p;
nomem:
    seterr(err, errsz, "plan: out of memory");
fail:
    free(pos_of);
    free(root);
    free(bufs);
    free(buf_of);
    ke_plan_free(p);
    return NULL;
}

size_t ke_plan_arena_bytes(const ke_plan_t *p) {
    return p ? p->arena_bytes + p->scratch_bytes : 0;
}
size_t ke_plan_bytes_per_row(const ke_plan_t *p) {
    return p ? p->per_row : 0;
}
size_t ke_plan_weight_bytes(const ke_plan_t *p) {
    return p ? p->weight_bytes : 0;
}
int ke_plan_max_batch(const ke_plan_t *p) {
    return p ? p->max_batch : 0;
}
int ke_plan_threads(const ke_plan_t *p) {
    return p ? p->be->n_threads : 0;
}
const char *ke_plan_device(const ke_plan_t *p) {
    return p ? p->be->iface->name : "?";
}
ke_precision_t ke_plan_precision(const ke_plan_t *p) {
    return p ? p->precision : KE_PREC_FP32;
}

void ke_plan_device_name(const ke_plan_t *p, char *buf, size_t size) {
    if (!buf || !size)
        return;
    snprintf(buf, size, "%s", p ? p->be->iface->name : "?");
    if (p && p->be->iface->device_name && p->be->iface->device_name(p->be->ctx, buf, size) != KE_OK)
        snprintf(buf, size, "%s", p->be->iface->name);
}

ke_status_t ke_plan_device_memory(const ke_plan_t *p, size_t *free_bytes, size_t *total_bytes) {
    if (!p || !free_bytes || !total_bytes)
        return KE_ERR_INVALID_ARG;
    if (!p->be->iface->mem_info)
        return KE_ERR_UNSUPPORTED;
    return p->be->iface->mem_info(p->be->ctx, free_bytes, total_bytes);
}

ke_status_t ke_plan_output_desc(const ke_plan_t *p, int i, int n_rows, ke_tensor_t *desc) {
    if (!p || !desc || i < 0 || i >= p->g->n_outputs)
        return KE_ERR_INVALID_ARG;
    if (!p->g->has_batch)
        n_rows = 1;
    ke_value_shape_at(&p->g->vals[p->g->outputs[i]], n_rows, desc);
    desc->data = NULL;
    desc->owned = 0;
    return KE_OK;
}

static const char *be_error(const ke_plan_t *p) {
    const char *e = p->be->iface->last_error ? p->be->iface->last_error(p->be->ctx) : NULL;
    return e ? e : "";
}

static ke_status_t check_run_args(ke_plan_t *p, int n_rows, const void *const *inputs, char *err,
                                  size_t errsz) {
    if (!p || !inputs) {
        seterr(err, errsz, "run: missing plan or inputs");
        return KE_ERR_INVALID_ARG;
    }
    if (n_rows < 1 || n_rows > p->max_batch) {
        seterr(err, errsz, "run: %d rows, the plan takes 1..%d", n_rows, p->max_batch);
        return KE_ERR_INVALID_ARG;
    }
    for (int i = 0; i < p->g->n_inputs; i++)
        if (!inputs[i]) {
            seterr(err, errsz, "run: input '%s' is NULL", p->g->vals[p->g->inputs[i]].name);
            return KE_ERR_INVALID_ARG;
        }
    return KE_OK;
}

static ke_status_t check_outputs(const ke_plan_t *p, void *const *outputs, char *err,
                                 size_t errsz) {
    if (!outputs) {
        seterr(err, errsz, "run: missing outputs");
        return KE_ERR_INVALID_ARG;
    }
    for (int i = 0; i < p->g->n_outputs; i++)
        if (!outputs[i]) {
            seterr(err, errsz, "run: output buffer %d is NULL", i);
            return KE_ERR_INVALID_ARG;
        }
    return KE_OK;
}

/* Views of graph inputs follow the input's (new) data pointer. */
static void rebind_views(ke_plan_t *p) {
    const ke_graph_t *g = p->g;
    for (int i = 0; i < p->n_nodes; i++) {
        const ke_node_t *n = &g->nodes[p->nodes[i].node];
        if (n->n_out > 0 && n->out[0] >= 0 && p->in_alias[n->out[0]] >= 0 &&
            g->vals[n->out[0]].kind == KE_VAL_RUNTIME)
            p->vt[n->out[0]].data = p->vt[n->in[0]].data;
    }
}

/* Every node through the backend's run, in plan order. */
static ke_status_t run_nodes(ke_plan_t *p, char *err, size_t errsz) {
    const ke_backend_iface_t *bi = p->be->iface;
    struct timespec t0, t1;
    if (p->profile) {
        p->prof_runs++;
        clock_gettime(CLOCK_MONOTONIC, &t0);
    }
    for (int i = 0; i < p->n_nodes; i++) {
        plan_node_t *pn = &p->nodes[i];
        p->errbuf[0] = 0;
        ke_status_t st = bi->run(p->be->ctx, &pn->info, p->g->nodes[pn->node].def, pn->state,
                                 pn->in, pn->n_in, pn->out, pn->n_out, &p->x);
        if (p->profile) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            p->prof_s[i] +=
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
            t0 = t1;
        }
        if (st != KE_OK) {
            seterr(err, errsz, "node '%s' (%s): %s", pn->info.name, pn->info.op_type,
                   p->errbuf[0] ? p->errbuf : ke_status_str(st));
            return st;
        }
    }
    return KE_OK;
}

/* The synchronous path: host backends (inputs aliased in place) and device
 * backends without async hooks (inputs uploaded into dev_inputs). */
static ke_status_t run_sync(ke_plan_t *p, int n_rows, const void *const *inputs,
                            void *const *outputs, char *err, size_t errsz) {
    const ke_graph_t *g = p->g;
    if (n_rows != p->cur_batch)
        update_batch(p, n_rows);
    for (int i = 0; i < g->n_inputs; i++) {
        if (p->dev_inputs) {
            ke_status_t st = p->be->iface->upload(p->be->ctx, p->dev_inputs[i], inputs[i],
                                                  ke_tensor_nbytes(&p->vt[g->inputs[i]]));
            if (st != KE_OK) {
                seterr(err, errsz, "run: copying input '%s' to the device failed %s",
                       g->vals[g->inputs[i]].name, be_error(p));
                return st;
            }
            p->vt[g->inputs[i]].data = p->dev_inputs[i];
            continue;
        }
        p->vt[g->inputs[i]].data = (void *)(uintptr_t)inputs[i];
    }
    rebind_views(p);
    ke_status_t st = run_nodes(p, err, errsz);
    if (st != KE_OK)
        return st;
    for (int i = 0; i < g->n_outputs; i++) {
        const ke_tensor_t *t = &p->vt[g->outputs[i]];
        st = p->be->iface->download(p->be->ctx, outputs[i], t->data, ke_tensor_nbytes(t));
        if (st != KE_OK) {
            seterr(err, errsz, "run: copying output '%s' failed %s", g->vals[g->outputs[i]].name,
                   be_error(p));
            return st;
        }
    }
    return KE_OK;
}

enum { EV_IN = 0, EV_DONE = 1, EV_PER_SLOT = 2 };
static int ev(int slot, int kind) {
    return slot * EV_PER_SLOT + kind;
}

/* Queue one batch into slot p->head on a device backend (see the top). */
static ke_status_t submit_dev(ke_plan_t *p, int n_rows, const void *const *inputs, char *err,
                              size_t errsz) {
    const ke_graph_t *g = p->g;
    const ke_backend_iface_t *bi = p->be->iface;
    void *ctx = p->be->ctx;
    int s = p->head;
    const char *what = "queueing input copies";
    if (n_rows != p->cur_batch)
        update_batch(p, n_rows);
    /* slot s was waited for (or never used): its staging is free */
    for (int i = 0; i < g->n_inputs; i++)
        memcpy(p->slot[s].h_in + p->in_off[i], inputs[i], ke_tensor_nbytes(&p->vt[g->inputs[i]]));
    ke_status_t st = bi->event_wait(ctx, KE_Q_COPY, ev(s, EV_DONE));
    for (int i = 0; st == KE_OK && i < g->n_inputs; i++)
        st = bi->copy_async(ctx, KE_Q_COPY, p->slot[s].d_in[i], p->slot[s].h_in + p->in_off[i],
                            ke_tensor_nbytes(&p->vt[g->inputs[i]]));
    if (st == KE_OK)
        st = bi->event_record(ctx, KE_Q_COPY, ev(s, EV_IN));
    if (st == KE_OK)
        st = bi->event_wait(ctx, KE_Q_COMPUTE, ev(s, EV_IN));
    if (st == KE_OK) {
        for (int i = 0; i < g->n_inputs; i++)
            p->vt[g->inputs[i]].data = p->slot[s].d_in[i];
        rebind_views(p);
        st = run_nodes(p, err, errsz);
        if (st != KE_OK) {
            (void)bi->sync(ctx); /* leave nothing of this batch in flight */
            return st;
        }
        what = "queueing output copies";
    }
    for (int i = 0; st == KE_OK && i < g->n_outputs; i++) {
        const ke_tensor_t *t = &p->vt[g->outputs[i]];
        p->slot[s].out_bytes[i] = ke_tensor_nbytes(t);
        st = bi->copy_async(ctx, KE_Q_COMPUTE, p->slot[s].h_out + p->out_off[i], t->data,
                            p->slot[s].out_bytes[i]);
    }
    if (st == KE_OK)
        st = bi->event_record(ctx, KE_Q_COMPUTE, ev(s, EV_DONE));
    if (st != KE_OK) {
        seterr(err, errsz, "run: %s failed %s", what, be_error(p));
        (void)bi->sync(ctx);
        return st;
    }
    p->slot[s].n_rows = n_rows;
    p->head = (s + 1) % KE_PLAN_SLOTS;
    p->n_pending++;
    return KE_OK;
}

/* Queue one batch on a host backend: run it now into the slot's staging. */
static ke_status_t submit_host(ke_plan_t *p, int n_rows, const void *const *inputs, char *err,
                               size_t errsz) {
    int s = p->head;
    if (!p->slot[s].h_out) { /* first use */
        p->slot[s].h_out = aligned_alloc(KE_ALIGN, p->out_total ? p->out_total : KE_ALIGN);
        if (!p->slot[s].h_out) {
            seterr(err, errsz, "run: out of memory for output staging");
            return KE_ERR_NOMEM;
        }
    }
    for (int i = 0; i < p->g->n_outputs; i++)
        p->out_ptrs[i] = p->slot[s].h_out + p->out_off[i];
    ke_status_t st = run_sync(p, n_rows, inputs, p->out_ptrs, err, errsz);
    if (st != KE_OK)
        return st;
    for (int i = 0; i < p->g->n_outputs; i++)
        p->slot[s].out_bytes[i] = ke_tensor_nbytes(&p->vt[p->g->outputs[i]]);
    p->slot[s].n_rows = n_rows;
    p->head = (s + 1) % KE_PLAN_SLOTS;
    p->n_pending++;
    return KE_OK;
}

ke_status_t ke_plan_submit(ke_plan_t *p, int n_rows, const void *const *inputs, char *err,
                           size_t errsz) {
    ke_status_t st = check_run_args(p, n_rows, inputs, err, errsz);
    if (st != KE_OK)
        return st;
    if (p->n_pending >= KE_PLAN_SLOTS) {
        seterr(err, errsz, "submit: %d batches already queued; wait for one first", p->n_pending);
        return KE_ERR_INVALID_ARG;
    }
    return p->async_dev ? submit_dev(p, n_rows, inputs, err, errsz)
                        : submit_host(p, n_rows, inputs, err, errsz);
}

ke_status_t ke_plan_wait(ke_plan_t *p, void *const *outputs, int *n_rows, char *err, size_t errsz) {
    if (!p) {
        seterr(err, errsz, "wait: no plan");
        return KE_ERR_INVALID_ARG;
    }
    if (p->n_pending == 0) {
        seterr(err, errsz, "wait: no batch queued");
        return KE_ERR_INVALID_ARG;
    }
    ke_status_t st = check_outputs(p, outputs, err, errsz);
    if (st != KE_OK)
        return st;
    int s = (p->head + KE_PLAN_SLOTS - p->n_pending) % KE_PLAN_SLOTS;
    p->n_pending--; /* consumed, whatever happens below */
    if (p->async_dev) {
        st = p->be->iface->event_sync(p->be->ctx, ev(s, EV_DONE));
        if (st != KE_OK) {
            seterr(err, errsz, "run: device work failed %s", be_error(p));
            (void)p->be->iface->sync(p->be->ctx);
            return st;
        }
    }
    for (int i = 0; i < p->g->n_outputs; i++)
        memcpy(outputs[i], p->slot[s].h_out + p->out_off[i], p->slot[s].out_bytes[i]);
    if (n_rows)
        *n_rows = p->slot[s].n_rows;
    return KE_OK;
}

int ke_plan_pending(const ke_plan_t *p) {
    return p ? p->n_pending : 0;
}

int ke_plan_async(const ke_plan_t *p) {
    return p ? p->async_dev : 0;
}

ke_status_t ke_plan_run(ke_plan_t *p, int n_rows, const void *const *inputs, void *const *outputs,
                        char *err, size_t errsz) {
    ke_status_t st = check_run_args(p, n_rows, inputs, err, errsz);
    if (st == KE_OK)
        st = check_outputs(p, outputs, err, errsz);
    if (st != KE_OK)
        return st;
    if (p->n_pending) {
        seterr(err, errsz, "run: %d submitted batches not waited for", p->n_pending);
        return KE_ERR_INVALID_ARG;
    }
    if (!p->async_dev)
        return run_sync(p, n_rows, inputs, outputs, err, errsz);
    st = submit_dev(p, n_rows, inputs, err, errsz);
    return st == KE_OK ? ke_plan_wait(p, outputs, NULL, err, errsz) : st;
}

void ke_plan_set_profile(ke_plan_t *p, int on) {
    if (!p)
        return;
    if (on && !p->prof_s) {
        p->prof_s = calloc((size_t)p->n_nodes + 1, sizeof(double));
        if (!p->prof_s)
            return;
    }
    p->profile = on && p->prof_s;
}

void ke_plan_profile(ke_plan_t *p, void *out) {
    FILE *f = out;
    if (!p || !p->prof_s || !f || p->prof_runs == 0)
        return;
    double total = 0;
    for (int i = 0; i < p->n_nodes; i++)
        total += p->prof_s[i];
    fprintf(f, "profile: %d runs, %.4f ms per run, %d nodes\n", p->prof_runs,
            total * 1e3 / p->prof_runs, p->n_nodes);
    /* per op type (fused nodes show their ke_act) */
    unsigned char *done = calloc((size_t)p->n_nodes + 1, 1);
    if (!done)
        return;
    for (int i = 0; i < p->n_nodes; i++) {
        if (done[i])
            continue;
        const char *op = p->nodes[i].info.op_type;
        double s = 0;
        int calls = 0;
        for (int j = i; j < p->n_nodes; j++)
            if (!done[j] && strcmp(p->nodes[j].info.op_type, op) == 0) {
                done[j] = 1;
                s += p->prof_s[j];
                calls++;
            }
        fprintf(f, "  %-22s %9.4f ms/run %5.1f%% %4d nodes\n", op, s * 1e3 / p->prof_runs,
                total > 0 ? 100.0 * s / total : 0.0, calls);
    }
    free(done);
    memset(p->prof_s, 0, (size_t)p->n_nodes * sizeof(double));
    p->prof_runs = 0;
}
