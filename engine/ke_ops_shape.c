/* ke_ops_shape: ops that only reshape (views: Reshape, Flatten, Squeeze,
 * Unsqueeze, Identity, Dropout) or make shape values (Shape, Size,
 * Constant, ConstantOfShape, Range). */
#include <math.h>
#include <string.h>

#include "ke_ops_util.h"

static ke_status_t need_values(const ke_tensor_t *t, const char *what, char *err, size_t errsz) {
    if (!t || !t->data)
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "%s must be a constant", what);
    return KE_OK;
}

/* ---- views ----------------------------------------------------------------- */

ke_status_t ke_ops_view_run(const ke_node_info_t *node, const void *state,
                            const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                            int n_out, ke_exec_ctx_t *x) {
    (void)node, (void)state, (void)n_in, (void)x;
    ke_ops_copy_view(in[0], out[0]);
    /* Dropout's optional mask: all kept in inference */
    ke_tensor_t *mask = ke_ops_out(out, n_out, 1);
    if (mask && mask->data)
        memset(mask->data, 1, (size_t)ke_tensor_numel(mask));
    return KE_OK;
}

ke_status_t ke_ops_identity_infer(const ke_node_info_t *node, const ke_tensor_t *const *in,
                                  int n_in, ke_tensor_t *const *out, int n_out, char *err,
                                  size_t errsz) {
    if (n_in < 1 || !in[0] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "missing input");
    if (!strcmp(node->op_type, "Dropout")) {
        const ke_tensor_t *tm = ke_ops_in(in, n_in, 2);
        if (ke_attr_int(node->attrs, "training_mode", 0) ||
            (tm && (!tm->data || ke_tensor_get_i64(tm, 0))))
            return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "training_mode");
        ke_tensor_t *mask = ke_ops_out(out, n_out, 1);
        ke_status_t st = ke_ops_set(mask, KE_DT_BOOL, in[0]->rank, in[0]->shape, err, errsz);
        if (st != KE_OK)
            return st;
    }
    return ke_ops_set(out[0], in[0]->dtype, in[0]->rank, in[0]->shape, err, errsz);
}

ke_status_t ke_ops_reshape_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                 ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    if (n_in < 2 || !in[0] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "Reshape needs data and shape");
    ke_status_t st = need_values(in[1], "shape", err, errsz);
    if (st != KE_OK)
        return st;
    int64_t n = ke_tensor_numel(in[1]);
    if (in[1]->rank != 1 || n > KE_MAX_RANK)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "shape must be 1-D with <= %d dims",
                           KE_MAX_RANK);
    int allowzero = (int)ke_attr_int(node->attrs, "allowzero", 0);
    int64_t shape[KE_MAX_RANK], known = 1, numel = ke_tensor_numel(in[0]);
    int neg = -1;
    for (int i = 0; i < n; i++) {
        int64_t d = ke_tensor_get_i64(in[1], i);
        if (d == 0 && !allowzero) {
            if (i >= in[0]->rank)
                return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "0 at dim %d beyond input rank", i);
            d = in[0]->shape[i];
        }
        if (d == -1) {
            if (neg >= 0)
                return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "more than one -1");
            neg = i;
            d = 1;
        } else if (d < 0) {
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "negative dim %lld", (long long)d);
        } else {
            known *= d;
        }
        shape[i] = d;
    }
    if (neg >= 0) {
        if (known == 0 || numel % known)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "cannot infer -1 (%lld elements)",
                               (long long)numel);
        shape[neg] = numel / known;
    } else if (known != numel) {
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "%lld elements cannot take %lld",
                           (long long)numel, (long long)known);
    }
    return ke_ops_set(out[0], in[0]->dtype, (int)n, shape, err, errsz);
}

ke_status_t ke_ops_flatten_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                 ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    if (n_in < 1 || !in[0] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "missing input");
    int r = in[0]->rank;
    int64_t axis = ke_attr_int(node->attrs, "axis", 1);
    if (axis < 0)
        axis += r;
    if (axis < 0 || axis > r)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "axis out of range");
    int64_t shape[2] = {1, 1};
    for (int i = 0; i < r; i++)
        shape[i < axis ? 0 : 1] *= in[0]->shape[i];
    return ke_ops_set(out[0], in[0]->dtype, 2, shape, err, errsz);
}

/* axes from input 1 (opset 13) or the "axes" attribute; returns the count
 * (-1 when absent). */
static int64_t get_axes(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                        int64_t *axes, char *err, size_t errsz, ke_status_t *st) {
    *st = KE_OK;
    const ke_tensor_t *ax = ke_ops_in(in, n_in, 1);
    if (ax) {
        if ((*st = need_values(ax, "axes", err, errsz)) != KE_OK)
            return -1;
        int64_t n = ke_tensor_numel(ax);
        if (n > KE_MAX_RANK) {
            *st = ke_ops_fail(err, errsz, KE_ERR_SHAPE, "too many axes");
            return -1;
        }
        for (int64_t i = 0; i < n; i++)
            axes[i] = ke_tensor_get_i64(ax, i);
        return n;
    }
    const int64_t *a;
    int64_t n = ke_attr_ints(node->attrs, "axes", &a);
    if (n > KE_MAX_RANK) {
        *st = ke_ops_fail(err, errsz, KE_ERR_SHAPE, "too many axes");
        return -1;
    }
    for (int64_t i = 0; i < n; i++)
        axes[i] = a[i];
    return n;
}

ke_status_t ke_ops_squeeze_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                 ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    if (n_in < 1 || !in[0] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "missing input");
    int64_t axes[KE_MAX_RANK];
    ke_status_t st;
    int64_t na = get_axes(node, in, n_in, axes, err, errsz, &st);
    if (st != KE_OK)
        return st;
    int r = in[0]->rank;
    uint8_t drop[KE_MAX_RANK] = {0};
    if (na <= 0) {
        for (int i = 0; i < r; i++)
            drop[i] = in[0]->shape[i] == 1;
    } else {
        for (int64_t i = 0; i < na; i++) {
            int a = ke_ops_axis(axes[i], r);
            if (a < 0 || in[0]->shape[a] != 1)
                return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "cannot squeeze axis %lld",
                                   (long long)axes[i]);
            drop[a] = 1;
        }
    }
    int64_t shape[KE_MAX_RANK];
    int ro = 0;
    for (int i = 0; i < r; i++)
        if (!drop[i])
            shape[ro++] = in[0]->shape[i];
    return ke_ops_set(out[0], in[0]->dtype, ro, shape, err, errsz);
}

ke_status_t ke_ops_unsqueeze_infer(const ke_node_info_t *node, const ke_tensor_t *const *in,
                                   int n_in, ke_tensor_t *const *out, int n_out, char *err,
                                   size_t errsz) {
    if (n_in < 1 || !in[0] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "missing input");
    int64_t axes[KE_MAX_RANK];
    ke_status_t st;
    int64_t na = get_axes(node, in, n_in, axes, err, errsz, &st);
    if (st != KE_OK)
        return st;
    int r = in[0]->rank;
    if (na <= 0 || r + na > KE_MAX_RANK)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "bad axes");
    int ro = r + (int)na;
    uint8_t ins[KE_MAX_RANK] = {0};
    for (int64_t i = 0; i < na; i++) {
        int a = ke_ops_axis(axes[i], ro);
        if (a < 0 || ins[a])
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "bad axis %lld", (long long)axes[i]);
        ins[a] = 1;
    }
    int64_t shape[KE_MAX_RANK];
    for (int i = 0, j = 0; i < ro; i++)
        shape[i] = ins[i] ? 1 : in[0]->shape[j++];
    return ke_ops_set(out[0], in[0]->dtype, ro, shape, err, errsz);
}

/* ---- Shape, Size ------------------------------------------------------------- */

static void shape_range(const ke_node_info_t *node, int r, int64_t *b, int64_t *e) {
    int64_t s = ke_attr_int(node->attrs, "start", 0), en = ke_attr_int(node->attrs, "end", r);
    if (s < 0)
        s += r;
    if (en < 0)
        en += r;
    s = s < 0 ? 0 : s > r ? r : s;
    en = en < 0 ? 0 : en > r ? r : en;
    *b = s;
    *e = en < s ? s : en;
}

ke_status_t ke_ops_shapeof_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                 ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    if (n_in < 1 || !in[0] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "missing input");
    if (!strcmp(node->op_type, "Size"))
        return ke_ops_set(out[0], KE_DT_I64, 0, NULL, err, errsz);
    int64_t b, e;
    shape_range(node, in[0]->rank, &b, &e);
    const int64_t n = e - b;
    return ke_ops_set(out[0], KE_DT_I64, 1, &n, err, errsz);
}

ke_status_t ke_ops_shapeof_run(const ke_node_info_t *node, const void *state,
                               const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                               int n_out, ke_exec_ctx_t *x) {
    (void)state, (void)n_in, (void)n_out, (void)x;
    int64_t *y = out[0]->data;
    if (!strcmp(node->op_type, "Size")) {
        y[0] = ke_tensor_numel(in[0]);
        return KE_OK;
    }
    int64_t b, e;
    shape_range(node, in[0]->rank, &b, &e);
    for (int64_t i = b; i < e; i++)
        y[i - b] = in[0]->shape[i];
    return KE_OK;
}

/* ---- Constant ----------------------------------------------------------------- */

ke_status_t ke_ops_constant_infer(const ke_node_info_t *node, const ke_tensor_t *const *in,
                                  int n_in, ke_tensor_t *const *out, int n_out, char *err,
                                  size_t errsz) {
    (void)in, (void)n_in;
    if (n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "no output");
    const ke_tensor_t *t = ke_attr_tensor(node->attrs, "value");
    if (t)
        return ke_ops_set(out[0], t->dtype, t->rank, t->shape, err, errsz);
    const ke_attr_t *a;
    if ((a = ke_attr_find(node->attrs, "value_float")) && a->type == KE_ATTR_FLOAT)
        return ke_ops_set(out[0], KE_DT_F32, 0, NULL, err, errsz);
    if ((a = ke_attr_find(node->attrs, "value_int")) && a->type == KE_ATTR_INT)
        return ke_ops_set(out[0], KE_DT_I64, 0, NULL, err, errsz);
    if ((a = ke_attr_find(node->attrs, "value_floats")) && a->type == KE_ATTR_FLOATS)
        return ke_ops_set(out[0], KE_DT_F32, 1, &a->n, err, errsz);
    if ((a = ke_attr_find(node->attrs, "value_ints")) && a->type == KE_ATTR_INTS)
        return ke_ops_set(out[0], KE_DT_I64, 1, &a->n, err, errsz);
    return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "Constant without a supported value");
}

ke_status_t ke_ops_constant_run(const ke_node_info_t *node, const void *state,
                                const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                                int n_out, ke_exec_ctx_t *x) {
    (void)state, (void)in, (void)n_in, (void)n_out, (void)x;
    ke_tensor_t *y = out[0];
    const ke_tensor_t *t = ke_attr_tensor(node->attrs, "value");
    const ke_attr_t *a;
    if (t) {
        if (ke_tensor_nbytes(t))
            memcpy(y->data, t->data, ke_tensor_nbytes(t));
    } else if ((a = ke_attr_find(node->attrs, "value_float")) && a->type == KE_ATTR_FLOAT) {
        *(float *)y->data = a->f;
    } else if ((a = ke_attr_find(node->attrs, "value_int")) && a->type == KE_ATTR_INT) {
        *(int64_t *)y->data = a->i;
    } else if ((a = ke_attr_find(node->attrs, "value_floats")) && a->type == KE_ATTR_FLOATS) {
        if (a->n)
            memcpy(y->data, a->floats, (size_t)a->n * sizeof(float));
    } else if ((a = ke_attr_find(node->attrs, "value_ints")) && a->type == KE_ATTR_INTS) {
        if (a->n)
            memcpy(y->data, a->ints, (size_t)a->n * sizeof(int64_t));
    }
    return KE_OK;
}

/* ---- ConstantOfShape ------------------------------------------------------------ */

ke_status_t ke_ops_constofshape_infer(const ke_node_info_t *node, const ke_tensor_t *const *in,
                                      int n_in, ke_tensor_t *const *out, int n_out, char *err,
                                      size_t errsz) {
    if (n_in < 1 || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "missing input");
    ke_status_t st = need_values(in[0], "shape", err, errsz);
    if (st != KE_OK)
        return st;
    int64_t n = ke_tensor_numel(in[0]), shape[KE_MAX_RANK];
    if (in[0]->rank != 1 || n > KE_MAX_RANK)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "bad shape input");
    for (int64_t i = 0; i < n; i++)
        shape[i] = ke_tensor_get_i64(in[0], i);
    const ke_tensor_t *v = ke_attr_tensor(node->attrs, "value");
    if (v && ke_tensor_numel(v) != 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "value must have one element");
    return ke_ops_set(out[0], v ? v->dtype : KE_DT_F32, (int)n, shape, err, errsz);
}

ke_status_t ke_ops_constofshape_run(const ke_node_info_t *node, const void *state,
                                    const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                                    int n_out, ke_exec_ctx_t *x) {
    (void)state, (void)in, (void)n_in, (void)n_out, (void)x;
    const ke_tensor_t *v = ke_attr_tensor(node->attrs, "value");
    ke_tensor_t *y = out[0];
    int64_t n = ke_tensor_numel(y);
    size_t es = ke_dtype_size(y->dtype);
    if (!v) {
        memset(y->data, 0, (size_t)n * es);
        return KE_OK;
    }
    char *p = y->data;
    for (int64_t i = 0; i < n; i++)
        memcpy(p + (size_t)i * es, v->data, es);
    return KE_OK;
}

/* ---- Range -------------------------------------------------------------------- */

static int64_t range_count(const ke_tensor_t *const *in) {
    double s = ke_tensor_get_f64(in[0], 0), l = ke_tensor_get_f64(in[1], 0),
           d = ke_tensor_get_f64(in[2], 0);
    if (d == 0)
        return -1;
    double c = ceil((l - s) / d);
    return c > 0 ? (int64_t)c : 0;
}

ke_status_t ke_ops_range_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                               ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    (void)node;
    if (n_in != 3 || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "Range needs start, limit, delta");
    for (int i = 0; i < 3; i++) {
        ke_status_t st = need_values(in[i], "Range input", err, errsz);
        if (st != KE_OK)
            return st;
        if (ke_tensor_numel(in[i]) != 1 || in[i]->dtype != in[0]->dtype)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "inputs must be scalars of one dtype");
    }
    ke_dtype_t dt = in[0]->dtype;
    if (dt != KE_DT_F32 && dt != KE_DT_I64 && dt != KE_DT_I32 && dt != KE_DT_F64)
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "dtype %s", ke_dtype_name(dt));
    int64_t n = range_count(in);
    if (n < 0)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "delta is 0");
    return ke_ops_set(out[0], dt, 1, &n, err, errsz);
}

ke_status_t ke_ops_range_run(const ke_node_info_t *node, const void *state,
                             const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                             int n_out, ke_exec_ctx_t *x) {
    (void)node, (void)state, (void)n_in, (void)n_out, (void)x;
    ke_tensor_t *y = out[0];
    int64_t n = ke_tensor_numel(y);
    switch (y->dtype) {
    case KE_DT_F32: {
        float s = *(const float *)in[0]->data, d = *(const float *)in[2]->data, *p = y->data;
        for (int64_t i = 0; i < n; i++)
            p[i] = s + (float)i * d;
        break;
    }
    case KE_DT_F64: {
        double s = *(const double *)in[0]->data, d = *(const double *)in[2]->data, *p = y->data;
        for (int64_t i = 0; i < n; i++)
            p[i] = s + (double)i * d;
        break;
    }
    case KE_DT_I32: {
        int32_t s = *(const int32_t *)in[0]->data, d = *(const int32_t *)in[2]->data, *p = y->data;
        for (int64_t i = 0; i < n; i++)
            p[i] = s + (int32_t)i * d;
        break;
    }
    default: {
        int64_t s = *(const int64_t *)in[0]->data, d = *(const int64_t *)in[2]->data, *p = y->data;
        for (int64_t i = 0; i < n; i++)
            p[i] = s + i * d;
        break;
    }
    }
    return KE_OK;
}
