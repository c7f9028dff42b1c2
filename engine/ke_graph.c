/* ke_graph: IR storage. */
#include "ke_graph.h"

#include <stdlib.h>
#include <string.h>

static char *dupstr(const char *s) {
    if (!s)
        s = "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

ke_graph_t *ke_graph_new(void) {
    return calloc(1, sizeof(ke_graph_t));
}

static void free_attr(ke_attr_t *a) {
    free((char *)a->name);
    free((char *)a->s);
    free((int64_t *)a->ints);
    free((float *)a->floats);
    if (a->strings) {
        for (int64_t k = 0; k < a->n; k++)
            free((char *)a->strings[k]);
        free((char **)a->strings);
    }
    if (a->t) {
        ke_tensor_release((ke_tensor_t *)a->t);
        free((ke_tensor_t *)a->t);
    }
}

void ke_graph_free(ke_graph_t *g) {
    if (!g)
        return;
    for (int i = 0; i < g->n_vals; i++) {
        ke_value_t *v = &g->vals[i];
        free(v->name);
        ke_tensor_release(&v->t);
        free(v->aff_a);
        free(v->aff_c);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        ke_node_t *n = &g->nodes[i];
        free(n->name);
        free(n->op_type);
        free(n->domain);
        free(n->in);
        free(n->out);
        for (int k = 0; k < n->n_attrs; k++)
            free_attr(&n->attrs[k]);
        free(n->attrs);
    }
    free(g->vals);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    free(g);
}

int ke_graph_add_value(ke_graph_t *g, const char *name) {
    if (g->n_vals == g->cap_vals) {
        int nc = g->cap_vals ? g->cap_vals * 2 : 64;
        ke_value_t *nv = realloc(g->vals, (size_t)nc * sizeof *nv);
        if (!nv)
            return -1;
        g->vals = nv;
        g->cap_vals = nc;
    }
    ke_value_t *v = &g->vals[g->n_vals];
    memset(v, 0, sizeof *v);
    v->name = dupstr(name);
    if (!v->name)
        return -1;
    v->producer = -1;
    return g->n_vals++;
}

int ke_graph_add_node(ke_graph_t *g, const char *name, const char *op_type, const char *domain,
                      int n_in, int n_out) {
    if (g->n_nodes == g->cap_nodes) {
        int nc = g->cap_nodes ? g->cap_nodes * 2 : 32;
        ke_node_t *nn = realloc(g->nodes, (size_t)nc * sizeof *nn);
        if (!nn)
            return -1;
        g->nodes = nn;
        g->cap_nodes = nc;
    }
    ke_node_t *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->name = dupstr(name);
    n->op_type = dupstr(op_type);
    n->domain = dupstr(domain);
    n->in = malloc((size_t)(n_in > 0 ? n_in : 1) * sizeof(int));
    n->out = malloc((size_t)(n_out > 0 ? n_out : 1) * sizeof(int));
    if (!n->name || !n->op_type || !n->domain || !n->in || !n->out) {
        free(n->name);
        free(n->op_type);
        free(n->domain);
        free(n->in);
        free(n->out);
        return -1;
    }
    n->n_in = n_in;
    n->n_out = n_out;
    for (int i = 0; i < n_in; i++)
        n->in[i] = -1;
    for (int i = 0; i < n_out; i++)
        n->out[i] = -1;
    n->opset = g->opset;
    return g->n_nodes++;
}

ke_status_t ke_graph_node_set_attr(ke_graph_t *g, int ni, const ke_attr_t *a, ke_tensor_t *adopt) {
    ke_node_t *n = &g->nodes[ni];
    if (n->n_attrs == n->cap_attrs) {
        int nc = n->cap_attrs ? n->cap_attrs * 2 : 4;
        ke_attr_t *na = realloc(n->attrs, (size_t)nc * sizeof *na);
        if (!na)
            return KE_ERR_NOMEM;
        n->attrs = na;
        n->cap_attrs = nc;
    }
    ke_attr_t c;
    memset(&c, 0, sizeof c);
    c.type = a->type;
    c.i = a->i;
    c.f = a->f;
    c.n = a->n;
    c.name = dupstr(a->name);
    int bad = c.name == NULL;
    if (a->s) {
        c.s = dupstr(a->s);
        bad |= c.s == NULL;
    }
    if (a->ints && a->n > 0) {
        int64_t *p = malloc((size_t)a->n * sizeof *p);
        if (p)
            memcpy(p, a->ints, (size_t)a->n * sizeof *p);
        c.ints = p;
        bad |= p == NULL;
    }
    if (a->floats && a->n > 0) {
        float *p = malloc((size_t)a->n * sizeof *p);
        if (p)
            memcpy(p, a->floats, (size_t)a->n * sizeof *p);
        c.floats = p;
        bad |= p == NULL;
    }
    if (a->strings && a->n > 0) {
        char **p = calloc((size_t)a->n, sizeof *p);
        if (p)
            for (int64_t k = 0; k < a->n; k++) {
                p[k] = dupstr(a->strings[k]);
                bad |= p[k] == NULL;
            }
        c.strings = (const char *const *)p;
        bad |= p == NULL;
    }
    if (adopt) {
        ke_tensor_t *t = malloc(sizeof *t);
        if (t) {
            *t = *adopt;
            memset(adopt, 0, sizeof *adopt);
        }
        c.t = t;
        bad |= t == NULL;
    }
    if (bad) {
        free_attr(&c);
        return KE_ERR_NOMEM;
    }
    n->attrs[n->n_attrs++] = c;
    n->attrset.items = n->attrs;
    n->attrset.n = n->n_attrs;
    return KE_OK;
}

void ke_graph_node_info(const ke_graph_t *g, int ni, ke_node_info_t *info) {
    const ke_node_t *n = &g->nodes[ni];
    info->name = n->name;
    info->op_type = n->op_type;
    info->domain = n->domain;
    info->opset = n->opset;
    info->attrs = &n->attrset;
}

int ke_graph_uses(const ke_graph_t *g, int v) {
    int c = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const ke_node_t *n = &g->nodes[i];
        if (n->dead || n->folded)
            continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == v)
                c++;
    }
    return c;
}

const ke_op_def_t *ke_graph_find_op(const ke_graph_t *g, const char *op_type, const char *domain,
                                    int opset) {
    if (g->ops)
        return ke_op_find_in(g->ops, g->n_ops, op_type, domain, opset);
    return ke_op_find(op_type, domain, opset);
}

void ke_value_shape_at(const ke_value_t *v, int64_t batch, ke_tensor_t *t) {
    t->dtype = v->t.dtype;
    t->rank = v->t.rank;
    for (int i = 0; i < KE_MAX_RANK; i++)
        t->shape[i] = i < v->t.rank ? v->dim_a[i] * batch + v->dim_c[i] : 0;
}

ke_status_t ke_graph_node_rewrite(ke_graph_t *g, int ni, const char *op_type, int opset,
                                  const int *in, int n_in) {
    const ke_op_def_t *def = ke_graph_find_op(g, op_type, "", KE_OPSET_INTERNAL);
    if (!def)
        return KE_ERR_UNSUPPORTED;
    ke_node_t *n = &g->nodes[ni];
    char *ot = dupstr(op_type);
    int *nin = malloc((size_t)(n_in > 0 ? n_in : 1) * sizeof(int));
    if (!ot || !nin) {
        free(ot);
        free(nin);
        return KE_ERR_NOMEM;
    }
    for (int k = 0; k < n_in; k++)
        nin[k] = in[k];
    free(n->op_type);
    free(n->in);
    n->op_type = ot;
    n->in = nin;
    n->n_in = n_in;
    for (int k = 0; k < n->n_attrs; k++)
        free_attr(&n->attrs[k]);
    n->n_attrs = 0;
    n->attrset.n = 0;
    n->opset = opset;
    n->def = def;
    return KE_OK;
}

int ke_graph_add_const(ke_graph_t *g, const char *name, ke_tensor_t *t) {
    int v = ke_graph_add_value(g, name);
    if (v < 0)
        return -1;
    ke_value_t *val = &g->vals[v];
    val->kind = KE_VAL_CONST;
    val->t = *t;
    memset(t, 0, sizeof *t);
    for (int d = 0; d < val->t.rank; d++)
        val->dim_c[d] = val->t.shape[d];
    return v;
}
