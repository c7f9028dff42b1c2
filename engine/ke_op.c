/* ke_op: attribute accessors and registry lookup. */
#include "ke_op.h"

#include <string.h>

const ke_attr_t *ke_attr_find(const ke_attrs_t *attrs, const char *name) {
    if (!attrs || !name)
        return NULL;
    for (int i = 0; i < attrs->n; i++)
        if (attrs->items[i].name && strcmp(attrs->items[i].name, name) == 0)
            return &attrs->items[i];
    return NULL;
}

ke_attr_type_t ke_attr_type_of(const ke_attrs_t *attrs, const char *name) {
    const ke_attr_t *a = ke_attr_find(attrs, name);
    return a ? a->type : KE_ATTR_UNDEF;
}

int64_t ke_attr_int(const ke_attrs_t *attrs, const char *name, int64_t def) {
    const ke_attr_t *a = ke_attr_find(attrs, name);
    return a && a->type == KE_ATTR_INT ? a->i : def;
}

float ke_attr_float(const ke_attrs_t *attrs, const char *name, float def) {
    const ke_attr_t *a = ke_attr_find(attrs, name);
    return a && a->type == KE_ATTR_FLOAT ? a->f : def;
}

const char *ke_attr_string(const ke_attrs_t *attrs, const char *name, const char *def) {
    const ke_attr_t *a = ke_attr_find(attrs, name);
    return a && a->type == KE_ATTR_STRING && a->s ? a->s : def;
}

int64_t ke_attr_ints(const ke_attrs_t *attrs, const char *name, const int64_t **out) {
    const ke_attr_t *a = ke_attr_find(attrs, name);
    if (!a || a->type != KE_ATTR_INTS) {
        if (out)
            *out = NULL;
        return -1;
    }
    if (out)
        *out = a->ints;
    return a->n;
}

int64_t ke_attr_floats(const ke_attrs_t *attrs, const char *name, const float **out) {
    const ke_attr_t *a = ke_attr_find(attrs, name);
    if (!a || a->type != KE_ATTR_FLOATS) {
        if (out)
            *out = NULL;
        return -1;
    }
    if (out)
        *out = a->floats;
    return a->n;
}

const ke_tensor_t *ke_attr_tensor(const ke_attrs_t *attrs, const char *name) {
    const ke_attr_t *a = ke_attr_find(attrs, name);
    return a && a->type == KE_ATTR_TENSOR ? a->t : NULL;
}

static int same_domain(const char *a, const char *b) {
    if (!a || strcmp(a, "ai.onnx") == 0)
        a = "";
    if (!b || strcmp(b, "ai.onnx") == 0)
        b = "";
    return strcmp(a, b) == 0;
}

const ke_op_def_t *ke_op_find(const char *op_type, const char *domain, int opset) {
    size_t n = 0;
    const ke_op_def_t *tab = ke_ops_table(&n);
    return ke_op_find_in(tab, n, op_type, domain, opset);
}

const ke_op_def_t *ke_op_find_in(const ke_op_def_t *tab, size_t n, const char *op_type,
                                 const char *domain, int opset) {
    const ke_op_def_t *best = NULL;
    if (!op_type || !tab)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const ke_op_def_t *d = &tab[i];
        if (!d->op_type || strcmp(d->op_type, op_type) != 0)
            continue;
        if (!same_domain(d->domain, domain))
            continue;
        if (d->since_version > opset)
            continue;
        if (!best || d->since_version > best->since_version)
            best = d;
    }
    return best;
}
