/* ke_model: load (import -> shape inference + folding -> fusion -> dead
 * nodes) and the model's signature. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ke_gemm.h"
#include "ke_model_impl.h"
#include "ke_onnx.h"
#include "ke_pass.h"
#include "ke_shape.h"

ke_load_params_t ke_load_default_params(void) {
    ke_load_params_t p;
    memset(&p, 0, sizeof p);
    p.fold_constants = 1;
    p.fuse = 1;
    p.max_model_bytes = (size_t)2 << 30;
    return p;
}

ke_model_t *ke_model_load_buffer(const void *buf, size_t len, const ke_load_params_t *params,
                                 char *err, size_t errsz) {
    ke_load_params_t p = params ? *params : ke_load_default_params();
    if (err && errsz)
        err[0] = 0;
    if (p.max_model_bytes && len > p.max_model_bytes) {
        if (err)
            snprintf(err, errsz, "model is %zu bytes, over the %zu-byte limit", len,
                     p.max_model_bytes);
        return NULL;
    }
    ke_model_t *m = calloc(1, sizeof *m);
    if (!m || !(m->g = ke_graph_new())) {
        free(m);
        if (err)
            snprintf(err, errsz, "out of memory");
        return NULL;
    }
    m->g->ops = p.ops;
    m->g->n_ops = p.n_ops;
    ke_status_t st = ke_onnx_import(buf, len, m->g, err, errsz);
    if (st == KE_OK)
        st = ke_shape_infer(m->g, p.fold_constants, err, errsz);
    if (st == KE_OK) {
        ke_pass_dead_nodes(m->g);
        /* the CPU-only fusions need our vector kernels: the portable one
         * would be slower than OpenBLAS on the unfused graph */
        int cpu_only = p.cpu_fusions && ke_gemm_level_best() != KE_GEMM_REF;
        if (p.fuse)
            st = ke_pass_fuse(m->g, cpu_only, err, errsz);
        ke_pass_dead_nodes(m->g);
    }
    if (st != KE_OK) {
        if (err && errsz && !err[0])
            snprintf(err, errsz, "%s", ke_status_str(st));
        ke_model_free(m);
        return NULL;
    }
    return m;
}

ke_model_t *ke_model_load_file(const char *path, const ke_load_params_t *params, char *err,
                               size_t errsz) {
    ke_load_params_t p = params ? *params : ke_load_default_params();
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) {
        if (err)
            snprintf(err, errsz, "%s: %s", path ? path : "(null)", strerror(errno));
        return NULL;
    }
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t nc = cap ? cap * 2 : (1u << 16);
            if (p.max_model_bytes && cap > p.max_model_bytes)
                break;
            unsigned char *nb = realloc(buf, nc);
            if (!nb) {
                free(buf);
                fclose(f);
                if (err)
                    snprintf(err, errsz, "%s: out of memory", path);
                return NULL;
            }
            buf = nb;
            cap = nc;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
    }
    int rerr = ferror(f);
    fclose(f);
    if (rerr) {
        free(buf);
        if (err)
            snprintf(err, errsz, "%s: read error", path);
        return NULL;
    }
    char e2[512] = "";
    ke_model_t *m = ke_model_load_buffer(buf, len, &p, e2, sizeof e2);
    free(buf);
    if (!m && err)
        snprintf(err, errsz, "%s: %s", path, e2);
    return m;
}

void ke_model_free(ke_model_t *m) {
    if (!m)
        return;
    ke_graph_free(m->g);
    free(m);
}

int ke_model_num_inputs(const ke_model_t *m) {
    return m ? m->g->n_inputs : 0;
}
int ke_model_num_outputs(const ke_model_t *m) {
    return m ? m->g->n_outputs : 0;
}
int ke_model_has_batch(const ke_model_t *m) {
    return m ? m->g->has_batch : 0;
}

static void io_info(const ke_graph_t *g, int v, ke_io_info_t *out) {
    const ke_value_t *val = &g->vals[v];
    memset(out, 0, sizeof *out);
    out->name = val->name;
    out->dtype = val->t.dtype;
    out->rank = val->t.rank;
    out->batch_axis = -1;
    size_t row = ke_dtype_size(val->t.dtype);
    for (int d = 0; d < val->t.rank; d++) {
        if (val->dim_a[d] != 0) {
            out->shape[d] = -1;
            if (out->batch_axis < 0)
                out->batch_axis = d;
            row *= (size_t)val->dim_a[d]; /* per-row extent of this dim */
        } else {
            out->shape[d] = val->dim_c[d];
            row *= (size_t)val->dim_c[d];
        }
    }
    out->row_bytes = row;
}

ke_status_t ke_model_input(const ke_model_t *m, int i, ke_io_info_t *out) {
    if (!m || !out || i < 0 || i >= m->g->n_inputs)
        return KE_ERR_INVALID_ARG;
    io_info(m->g, m->g->inputs[i], out);
    return KE_OK;
}

ke_status_t ke_model_output(const ke_model_t *m, int i, ke_io_info_t *out) {
    if (!m || !out || i < 0 || i >= m->g->n_outputs)
        return KE_ERR_INVALID_ARG;
    io_info(m->g, m->g->outputs[i], out);
    return KE_OK;
}

int ke_model_find_input(const ke_model_t *m, const char *name) {
    for (int i = 0; m && name && i < m->g->n_inputs; i++)
        if (strcmp(m->g->vals[m->g->inputs[i]].name, name) == 0)
            return i;
    return -1;
}

int ke_model_find_output(const ke_model_t *m, const char *name) {
    for (int i = 0; m && name && i < m->g->n_outputs; i++)
        if (strcmp(m->g->vals[m->g->outputs[i]].name, name) == 0)
            return i;
    return -1;
}

int ke_model_num_nodes(const ke_model_t *m) {
    int c = 0;
    for (int i = 0; m && i < m->g->n_nodes; i++)
        if (!m->g->nodes[i].dead && !m->g->nodes[i].folded)
            c++;
    return c;
}

int ke_model_count_op(const ke_model_t *m, const char *op_type) {
    int c = 0;
    for (int i = 0; m && op_type && i < m->g->n_nodes; i++) {
        const ke_node_t *n = &m->g->nodes[i];
        if (!n->dead && !n->folded && strcmp(n->op_type, op_type) == 0)
            c++;
    }
    return c;
}
