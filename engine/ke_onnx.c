/* ke_onnx: import an ONNX ModelProto into the engine IR. */
#include "ke_onnx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

#define KE_MAX_ELEMS ((int64_t)1 << 34)

__attribute__((format(printf, 3, 4))) static void seterr(char *err, size_t errsz, const char *fmt,
                                                         ...) {
    if (!err || errsz == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

/* ---- name -> value index map (open addressing) ------------------------- */
typedef struct {
    const char **keys;
    int *vals;
    size_t cap;
} namemap_t;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int nm_init(namemap_t *m, size_t n) {
    m->cap = 16;
    while (m->cap < n * 2 + 16)
        m->cap *= 2;
    m->keys = calloc(m->cap, sizeof *m->keys);
    m->vals = calloc(m->cap, sizeof *m->vals);
    return m->keys && m->vals ? 0 : -1;
}

static void nm_free(namemap_t *m) {
    free(m->keys);
    free(m->vals);
}

static int nm_get(const namemap_t *m, const char *k) {
    for (size_t i = hash_str(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i])
            return -1;
        if (strcmp(m->keys[i], k) == 0)
            return m->vals[i];
    }
}

/* key must stay alive (we store the graph value's name). Caps sized at init
 * to the number of names, so the table never fills. */
static void nm_put(namemap_t *m, const char *k, int v) {
    size_t i = hash_str(k) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], k) != 0)
        i = (i + 1) & (m->cap - 1);
    m->keys[i] = k;
    m->vals[i] = v;
}

/* ---- tensors ------------------------------------------------------------ */
static int dtype_ok(int32_t dt) {
    switch (dt) {
    case KE_DT_F32:
    case KE_DT_U8:
    case KE_DT_I8:
    case KE_DT_U16:
    case KE_DT_I16:
    case KE_DT_I32:
    case KE_DT_I64:
    case KE_DT_BOOL:
    case KE_DT_F16:
    case KE_DT_F64:
    case KE_DT_U32:
    case KE_DT_U64: return 1;
    default: return 0;
    }
}

static ke_status_t tensor_from_proto(const Onnx__TensorProto *tp, ke_tensor_t *t, const char *what,
                                     char *err, size_t errsz) {
    const char *nm = tp->name && *tp->name ? tp->name : what;
    if ((tp->has_data_location &&
         tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
        tp->n_external_data > 0) {
        seterr(err, errsz, "tensor '%s': external data is not supported (embed the weights)", nm);
        return KE_ERR_UNSUPPORTED;
    }
    if (tp->segment) {
        seterr(err, errsz, "tensor '%s': segmented tensors are not supported", nm);
        return KE_ERR_UNSUPPORTED;
    }
    int32_t dt = tp->has_data_type ? tp->data_type : 0;
    if (!dtype_ok(dt)) {
        seterr(err, errsz, "tensor '%s': data type %d is not supported", nm, (int)dt);
        return KE_ERR_UNSUPPORTED;
    }
    if (tp->n_dims > KE_MAX_RANK) {
        seterr(err, errsz, "tensor '%s': rank %zu exceeds %d", nm, tp->n_dims, KE_MAX_RANK);
        return KE_ERR_UNSUPPORTED;
    }
    int64_t numel = 1;
    for (size_t i = 0; i < tp->n_dims; i++) {
        if (tp->dims[i] < 0 || (tp->dims[i] > 0 && numel > KE_MAX_ELEMS / tp->dims[i])) {
            seterr(err, errsz, "tensor '%s': invalid dim %lld", nm, (long long)tp->dims[i]);
            return KE_ERR_PARSE;
        }
        numel *= tp->dims[i];
    }
    size_t esz = ke_dtype_size((ke_dtype_t)dt);
    size_t nbytes = (size_t)numel * esz;
    size_t have;
    const char *field;
    if (tp->has_raw_data) {
        have = tp->raw_data.len;
        field = "raw_data bytes";
        if (have != nbytes)
            goto mismatch_bytes;
    } else {
        switch (dt) {
        case KE_DT_F32:
            have = tp->n_float_data;
            field = "float_data";
            break;
        case KE_DT_I64:
            have = tp->n_int64_data;
            field = "int64_data";
            break;
        case KE_DT_F64:
            have = tp->n_double_data;
            field = "double_data";
            break;
        case KE_DT_U32:
        case KE_DT_U64:
            have = tp->n_uint64_data;
            field = "uint64_data";
            break;
        default:
            have = tp->n_int32_data;
            field = "int32_data";
            break;
        }
        if (have != (size_t)numel) {
            seterr(err, errsz, "tensor '%s': %zu %s entries for %lld elements", nm, have, field,
                   (long long)numel);
            return KE_ERR_PARSE;
        }
    }
    int64_t shape[KE_MAX_RANK];
    for (size_t i = 0; i < tp->n_dims; i++)
        shape[i] = tp->dims[i];
    ke_status_t st = ke_tensor_alloc(t, (ke_dtype_t)dt, (int)tp->n_dims, shape);
    if (st != KE_OK) {
        seterr(err, errsz, "tensor '%s': cannot allocate %zu bytes", nm, nbytes);
        return st;
    }
    if (tp->has_raw_data) {
        if (nbytes)
            memcpy(t->data, tp->raw_data.data, nbytes);
        return KE_OK;
    }
    for (int64_t i = 0; i < numel; i++) {
        switch (dt) {
        case KE_DT_F32: ((float *)t->data)[i] = tp->float_data[i]; break;
        case KE_DT_I64: ((int64_t *)t->data)[i] = tp->int64_data[i]; break;
        case KE_DT_F64: ((double *)t->data)[i] = tp->double_data[i]; break;
        case KE_DT_U32: ((uint32_t *)t->data)[i] = (uint32_t)tp->uint64_data[i]; break;
        case KE_DT_U64: ((uint64_t *)t->data)[i] = tp->uint64_data[i]; break;
        case KE_DT_I32: ((int32_t *)t->data)[i] = tp->int32_data[i]; break;
        case KE_DT_I16: ((int16_t *)t->data)[i] = (int16_t)tp->int32_data[i]; break;
        case KE_DT_U16:
        case KE_DT_F16: ((uint16_t *)t->data)[i] = (uint16_t)tp->int32_data[i]; break;
        case KE_DT_I8: ((int8_t *)t->data)[i] = (int8_t)tp->int32_data[i]; break;
        case KE_DT_BOOL: ((uint8_t *)t->data)[i] = tp->int32_data[i] != 0; break;
        default: ((uint8_t *)t->data)[i] = (uint8_t)tp->int32_data[i]; break;
        }
    }
    return KE_OK;
mismatch_bytes:
    seterr(err, errsz, "tensor '%s': %zu %s, expected %zu (%lld x %s)", nm, have, field, nbytes,
           (long long)numel, ke_dtype_name((ke_dtype_t)dt));
    return KE_ERR_PARSE;
}

/* ---- attributes --------------------------------------------------------- */
static ke_status_t import_attr(ke_graph_t *g, int ni, const Onnx__AttributeProto *ap, char *err,
                               size_t errsz) {
    const ke_node_t *n = &g->nodes[ni];
    ke_attr_t a;
    memset(&a, 0, sizeof a);
    a.name = ap->name ? ap->name : "";
    a.type = ap->has_type ? (ke_attr_type_t)ap->type : KE_ATTR_UNDEF;
    ke_tensor_t t;
    memset(&t, 0, sizeof t);
    char *sbuf = NULL;
    char **strs = NULL;
    ke_status_t st = KE_OK;
    switch ((int)a.type) {
    case KE_ATTR_FLOAT: a.f = ap->f; break;
    case KE_ATTR_INT: a.i = ap->i; break;
    case KE_ATTR_STRING:
        sbuf = malloc(ap->s.len + 1);
        if (!sbuf)
            return KE_ERR_NOMEM;
        if (ap->s.len)
            memcpy(sbuf, ap->s.data, ap->s.len);
        sbuf[ap->s.len] = 0;
        a.s = sbuf;
        break;
    case KE_ATTR_TENSOR:
        if (!ap->t) {
            seterr(err, errsz, "node '%s' (%s): attribute '%s' has no tensor", n->name, n->op_type,
                   a.name);
            return KE_ERR_PARSE;
        }
        st = tensor_from_proto(ap->t, &t, a.name, err, errsz);
        if (st != KE_OK) {
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", err ? err : "");
            seterr(err, errsz, "node '%s' (%s): %s", n->name, n->op_type, tmp);
            return st;
        }
        break;
    case KE_ATTR_FLOATS:
        a.floats = ap->floats;
        a.n = (int64_t)ap->n_floats;
        break;
    case KE_ATTR_INTS:
        a.ints = ap->ints;
        a.n = (int64_t)ap->n_ints;
        break;
    case KE_ATTR_STRINGS:
        a.n = (int64_t)ap->n_strings;
        strs = calloc(ap->n_strings ? ap->n_strings : 1, sizeof *strs);
        if (!strs)
            return KE_ERR_NOMEM;
        for (size_t k = 0; k < ap->n_strings; k++) {
            strs[k] = malloc(ap->strings[k].len + 1);
            if (!strs[k]) {
                st = KE_ERR_NOMEM;
                break;
            }
            if (ap->strings[k].len)
                memcpy(strs[k], ap->strings[k].data, ap->strings[k].len);
            strs[k][ap->strings[k].len] = 0;
        }
        a.strings = (const char *const *)strs;
        break;
    default:
        seterr(err, errsz,
               "node '%s' (%s): attribute '%s' has unsupported type %d (sub-graphs, "
               "sparse tensors and type protos are not supported)",
               n->name, n->op_type, a.name, (int)a.type);
        return KE_ERR_UNSUPPORTED;
    }
    if (st == KE_OK)
        st = ke_graph_node_set_attr(g, ni, &a, a.type == KE_ATTR_TENSOR ? &t : NULL);
    free(sbuf);
    if (strs) {
        for (size_t k = 0; k < ap->n_strings; k++)
            free(strs[k]);
        free(strs);
    }
    ke_tensor_release(&t);
    if (st != KE_OK)
        seterr(err, errsz, "out of memory");
    return st;
}

/* ---- inputs ------------------------------------------------------------- */
static ke_status_t import_input(ke_graph_t *g, const Onnx__ValueInfoProto *vi, int v, char *err,
                                size_t errsz) {
    ke_value_t *val = &g->vals[v];
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type) {
        seterr(err, errsz, "graph input '%s': only tensor inputs are supported", val->name);
        return KE_ERR_UNSUPPORTED;
    }
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    int32_t dt = tt->has_elem_type ? tt->elem_type : 0;
    if (!dtype_ok(dt)) {
        seterr(err, errsz, "graph input '%s': element type %d is not supported", val->name,
               (int)dt);
        return KE_ERR_UNSUPPORTED;
    }
    if (!tt->shape) {
        seterr(err, errsz, "graph input '%s': no shape (rank must be known)", val->name);
        return KE_ERR_UNSUPPORTED;
    }
    if (tt->shape->n_dim > KE_MAX_RANK) {
        seterr(err, errsz, "graph input '%s': rank %zu exceeds %d", val->name, tt->shape->n_dim,
               KE_MAX_RANK);
        return KE_ERR_UNSUPPORTED;
    }
    val->kind = KE_VAL_INPUT;
    val->t.dtype = (ke_dtype_t)dt;
    val->t.rank = (int)tt->shape->n_dim;
    for (size_t i = 0; i < tt->shape->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        int sym = !d || d->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        if (i == 0 && sym) {
            g->has_batch = 1;
            val->dim_a[0] = 1;
            val->dim_c[0] = 0;
            continue;
        }
        if (sym) {
            seterr(err, errsz,
                   "graph input '%s': dim %zu is symbolic ('%s'); only the leading "
                   "batch dim may be",
                   val->name, i,
                   d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                           d->dim_param
                       ? d->dim_param
                       : "?");
            return KE_ERR_UNSUPPORTED;
        }
        if (d->dim_value < 0 || d->dim_value > KE_MAX_ELEMS) {
            seterr(err, errsz, "graph input '%s': invalid dim %zu = %lld", val->name, i,
                   (long long)d->dim_value);
            return KE_ERR_SHAPE;
        }
        val->dim_c[i] = d->dim_value;
    }
    return KE_OK;
}

/* ---- model -------------------------------------------------------------- */
static ke_status_t import_graph(const Onnx__ModelProto *mp, ke_graph_t *g, char *err,
                                size_t errsz) {
    const Onnx__GraphProto *gp = mp->graph;
    if (!gp) {
        seterr(err, errsz, "model has no graph");
        return KE_ERR_PARSE;
    }
    int opset = -1;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        if (!o)
            continue;
        if (!o->domain || !*o->domain || strcmp(o->domain, "ai.onnx") == 0)
            opset = o->has_version ? (int)o->version : 1;
    }
    if (opset < 0) {
        seterr(err, errsz, "model imports no ai.onnx opset");
        return KE_ERR_UNSUPPORTED;
    }
    if (opset < KE_OPSET_MIN || opset > KE_OPSET_MAX) {
        seterr(err, errsz, "ai.onnx opset %d is not supported (supported: %d..%d)", opset,
               KE_OPSET_MIN, KE_OPSET_MAX);
        return KE_ERR_UNSUPPORTED;
    }
    g->opset = opset;
    if (gp->n_sparse_initializer) {
        seterr(err, errsz, "sparse initializers are not supported");
        return KE_ERR_UNSUPPORTED;
    }
    size_t names = gp->n_initializer + gp->n_input + 1;
    for (size_t i = 0; i < gp->n_node; i++)
        if (gp->node[i])
            names += gp->node[i]->n_output;
    namemap_t nm;
    if (nm_init(&nm, names) != 0) {
        nm_free(&nm);
        seterr(err, errsz, "out of memory");
        return KE_ERR_NOMEM;
    }
    ke_status_t st = KE_OK;
#define FAIL(code, ...)                                                                            \
    do {                                                                                           \
        seterr(err, errsz, __VA_ARGS__);                                                           \
        st = (code);                                                                               \
        goto done;                                                                                 \
    } while (0)
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        if (!tp || !tp->name || !*tp->name)
            FAIL(KE_ERR_PARSE, "initializer %zu has no name", i);
        if (nm_get(&nm, tp->name) >= 0)
            FAIL(KE_ERR_PARSE, "initializer '%s' defined twice", tp->name);
        int v = ke_graph_add_value(g, tp->name);
        if (v < 0)
            FAIL(KE_ERR_NOMEM, "out of memory");
        st = tensor_from_proto(tp, &g->vals[v].t, tp->name, err, errsz);
        if (st != KE_OK)
            goto done;
        g->vals[v].kind = KE_VAL_CONST;
        for (int d = 0; d < g->vals[v].t.rank; d++)
            g->vals[v].dim_c[d] = g->vals[v].t.shape[d];
        nm_put(&nm, g->vals[v].name, v);
    }
    g->inputs = calloc(gp->n_input + 1, sizeof(int));
    if (!g->inputs)
        FAIL(KE_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        if (!vi || !vi->name || !*vi->name)
            FAIL(KE_ERR_PARSE, "graph input %zu has no name", i);
        int v = nm_get(&nm, vi->name);
        if (v >= 0) {
            if (g->vals[v].kind == KE_VAL_CONST)
                continue; /* initializer with a default */
            FAIL(KE_ERR_PARSE, "graph input '%s' declared twice", vi->name);
        }
        v = ke_graph_add_value(g, vi->name);
        if (v < 0)
            FAIL(KE_ERR_NOMEM, "out of memory");
        st = import_input(g, vi, v, err, errsz);
        if (st != KE_OK)
            goto done;
        nm_put(&nm, g->vals[v].name, v);
        g->inputs[g->n_inputs++] = v;
    }
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        if (!np || !np->op_type || !*np->op_type)
            FAIL(KE_ERR_PARSE, "node %zu has no op_type", i);
        char autoname[96];
        const char *name = np->name && *np->name ? np->name : NULL;
        if (!name) {
            snprintf(autoname, sizeof autoname, "%s_%zu", np->op_type, i);
            name = autoname;
        }
        const char *dom = np->domain ? np->domain : "";
        if (*dom && strcmp(dom, "ai.onnx") != 0)
            FAIL(KE_ERR_UNSUPPORTED, "node '%s' (%s): domain '%s' is not supported", name,
                 np->op_type, dom);
        const ke_op_def_t *def = ke_graph_find_op(g, np->op_type, "", opset);
        if (!def)
            FAIL(KE_ERR_UNSUPPORTED, "node '%s' (%s): unsupported op (ai.onnx opset %d)", name,
                 np->op_type, opset);
        if (np->n_input > 64 || np->n_output > 64)
            FAIL(KE_ERR_UNSUPPORTED, "node '%s' (%s): too many inputs/outputs", name, np->op_type);
        int ni = ke_graph_add_node(g, name, np->op_type, "", (int)np->n_input, (int)np->n_output);
        if (ni < 0)
            FAIL(KE_ERR_NOMEM, "out of memory");
        ke_node_t *n = &g->nodes[ni];
        n->def = def;
        for (size_t k = 0; k < np->n_input; k++) {
            const char *in = np->input[k];
            if (!in || !*in)
                continue;
            int v = nm_get(&nm, in);
            if (v < 0)
                FAIL(KE_ERR_PARSE,
                     "node '%s' (%s): input '%s' is not a graph input, initializer "
                     "or earlier node output",
                     name, np->op_type, in);
            g->nodes[ni].in[k] = v;
        }
        for (size_t k = 0; k < np->n_attribute; k++) {
            if (!np->attribute[k])
                continue;
            st = import_attr(g, ni, np->attribute[k], err, errsz);
            if (st != KE_OK)
                goto done;
        }
        for (size_t k = 0; k < np->n_output; k++) {
            const char *on = np->output[k];
            if (!on || !*on)
                continue;
            if (nm_get(&nm, on) >= 0)
                FAIL(KE_ERR_PARSE, "node '%s' (%s): output '%s' is defined twice", name,
                     np->op_type, on);
            int v = ke_graph_add_value(g, on);
            if (v < 0)
                FAIL(KE_ERR_NOMEM, "out of memory");
            g->vals[v].producer = ni;
            g->nodes[ni].out[k] = v;
            nm_put(&nm, g->vals[v].name, v);
        }
        (void)n;
    }
    if (gp->n_output == 0)
        FAIL(KE_ERR_PARSE, "graph has no outputs");
    g->outputs = calloc(gp->n_output, sizeof(int));
    if (!g->outputs)
        FAIL(KE_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        int v = vi && vi->name ? nm_get(&nm, vi->name) : -1;
        if (v < 0)
            FAIL(KE_ERR_PARSE, "graph output '%s' is not produced by the graph",
                 vi && vi->name ? vi->name : "?");
        g->vals[v].is_output = 1;
        g->outputs[g->n_outputs++] = v;
    }
#undef FAIL
done:
    nm_free(&nm);
    return st;
}

ke_status_t ke_onnx_import(const void *buf, size_t len, ke_graph_t *g, char *err, size_t errsz) {
    if (!buf || len == 0) {
        seterr(err, errsz, "empty model");
        return KE_ERR_PARSE;
    }
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
    if (!mp) {
        seterr(err, errsz,
               "not a valid ONNX model (protobuf decoding failed: truncated or corrupt)");
        return KE_ERR_PARSE;
    }
    ke_status_t st = import_graph(mp, g, err, errsz);
    onnx__model_proto__free_unpacked(mp, NULL);
    return st;
}
