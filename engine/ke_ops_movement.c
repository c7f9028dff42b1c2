/* ke_ops_movement: ops that move or convert data: Transpose, Concat, Split,
 * Slice, Gather, Tile, Cast, CastLike. Any dtype unless stated. */
#include <math.h>
#include <string.h>

#include "ke_ops_util.h"

static int64_t prod(const int64_t *s, int b, int e) {
    int64_t p = 1;
    for (int i = b; i < e; i++)
        p *= s[i];
    return p;
}

/* ---- Transpose --------------------------------------------------------------- */

static int get_perm(const ke_node_info_t *node, int r, int64_t *perm) {
    const int64_t *p;
    int64_t n = ke_attr_ints(node->attrs, "perm", &p);
    if (n < 0) {
        for (int i = 0; i < r; i++)
            perm[i] = r - 1 - i;
        return 0;
    }
    if (n != r)
        return -1;
    uint8_t seen[KE_MAX_RANK] = {0};
    for (int i = 0; i < r; i++) {
        int a = ke_ops_axis(p[i], r);
        if (a < 0 || seen[a])
            return -1;
        seen[a] = 1;
        perm[i] = a;
    }
    return 0;
}

ke_status_t ke_ops_transpose_infer(const ke_node_info_t *node, const ke_tensor_t *const *in,
                                   int n_in, ke_tensor_t *const *out, int n_out, char *err,
                                   size_t errsz) {
    if (n_in < 1 || !in[0] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "missing input");
    int64_t perm[KE_MAX_RANK], shape[KE_MAX_RANK];
    int r = in[0]->rank;
    if (get_perm(node, r, perm))
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "perm is not a permutation of %d axes", r);
    for (int i = 0; i < r; i++)
        shape[i] = in[0]->shape[perm[i]];
    return ke_ops_set(out[0], in[0]->dtype, r, shape, err, errsz);
}

ke_status_t ke_ops_transpose_run(const ke_node_info_t *node, const void *state,
                                 const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                                 int n_out, ke_exec_ctx_t *x) {
    (void)state, (void)n_in, (void)n_out, (void)x;
    int64_t perm[KE_MAX_RANK];
    get_perm(node, in[0]->rank, perm);
    if (ke_tensor_numel(in[0]) == 0)
        return KE_OK;
    ke_transpose(in[0]->rank, in[0]->shape, perm, in[0]->data, out[0]->data,
                 ke_dtype_size(in[0]->dtype));
    return KE_OK;
}

/* ---- Concat ---------------------------------------------------------------------- */

ke_status_t ke_ops_concat_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    if (n_in < 1 || !in[0] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "missing input");
    int r = in[0]->rank;
    int axis = ke_ops_axis(ke_attr_int(node->attrs, "axis", 0), r);
    if (axis < 0)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "axis out of range");
    int64_t shape[KE_MAX_RANK];
    memcpy(shape, in[0]->shape, sizeof(int64_t) * (size_t)r);
    shape[axis] = 0;
    for (int i = 0; i < n_in; i++) {
        if (!in[i] || in[i]->rank != r || in[i]->dtype != in[0]->dtype)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "input %d rank/dtype differs", i);
        for (int d = 0; d < r; d++)
            if (d != axis && in[i]->shape[d] != shape[d])
                return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "input %d dim %d differs", i, d);
        shape[axis] += in[i]->shape[axis];
    }
    return ke_ops_set(out[0], in[0]->dtype, r, shape, err, errsz);
}

ke_status_t ke_ops_concat_run(const ke_node_info_t *node, const void *state,
                              const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                              int n_out, ke_exec_ctx_t *x) {
    (void)state, (void)n_out, (void)x;
    ke_tensor_t *y = out[0];
    int r = y->rank;
    int axis = ke_ops_axis(ke_attr_int(node->attrs, "axis", 0), r);
    size_t es = ke_dtype_size(y->dtype);
    int64_t outer = prod(y->shape, 0, axis), inner = prod(y->shape, axis + 1, r);
    size_t yrow = (size_t)(y->shape[axis] * inner) * es;
    size_t off = 0;
    for (int i = 0; i < n_in; i++) {
        size_t row = (size_t)(in[i]->shape[axis] * inner) * es;
        const char *src = in[i]->data;
        char *dst = (char *)y->data + off;
        if (row)
            for (int64_t o = 0; o < outer; o++)
                memcpy(dst + (size_t)o * yrow, src + (size_t)o * row, row);
        off += row;
    }
    return KE_OK;
}

/* ---- Split ---------------------------------------------------------------------- */

/* Part sizes from input 1 (opset 13), the "split" attribute, or equal parts. */
static ke_status_t split_sizes(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                               int n_out, int axis, int64_t *sizes, char *err, size_t errsz) {
    const ke_tensor_t *sp = ke_ops_in(in, n_in, 1);
    int64_t dim = in[0]->shape[axis], total = 0;
    const int64_t *a;
    int64_t na = ke_attr_ints(node->attrs, "split", &a);
    if (sp) {
        if (!sp->data)
            return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "split must be a constant");
        if (ke_tensor_numel(sp) != n_out)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "split has %lld entries for %d outputs",
                               (long long)ke_tensor_numel(sp), n_out);
        for (int i = 0; i < n_out; i++)
            sizes[i] = ke_tensor_get_i64(sp, i);
    } else if (na >= 0) {
        if (na != n_out)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "split has %lld entries for %d outputs",
                               (long long)na, n_out);
        for (int i = 0; i < n_out; i++)
            sizes[i] = a[i];
    } else {
        int64_t part = (dim + n_out - 1) / n_out;
        for (int i = 0; i < n_out; i++) {
            int64_t left = dim - part * i;
            sizes[i] = left < part ? (left > 0 ? left : 0) : part;
        }
    }
    for (int i = 0; i < n_out; i++) {
        if (sizes[i] < 0)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "negative split");
        total += sizes[i];
    }
    if (total != dim)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "split sums to %lld, axis has %lld",
                           (long long)total, (long long)dim);
    return KE_OK;
}

#define KE_SPLIT_MAX 64

ke_status_t ke_ops_split_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                               ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    if (n_in < 1 || !in[0] || n_out < 1 || n_out > KE_SPLIT_MAX)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "bad input/output count");
    int r = in[0]->rank;
    int axis = ke_ops_axis(ke_attr_int(node->attrs, "axis", 0), r);
    if (axis < 0)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "axis out of range");
    int64_t sizes[KE_SPLIT_MAX];
    ke_status_t st = split_sizes(node, in, n_in, n_out, axis, sizes, err, errsz);
    int64_t shape[KE_MAX_RANK];
    memcpy(shape, in[0]->shape, sizeof(int64_t) * (size_t)r);
    for (int i = 0; i < n_out && st == KE_OK; i++) {
        shape[axis] = sizes[i];
        st = ke_ops_set(out[i], in[0]->dtype, r, shape, err, errsz);
    }
    return st;
}

ke_status_t ke_ops_split_run(const ke_node_info_t *node, const void *state,
                             const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                             int n_out, ke_exec_ctx_t *x) {
    (void)state;
    const ke_tensor_t *X = in[0];
    int r = X->rank;
    int axis = ke_ops_axis(ke_attr_int(node->attrs, "axis", 0), r);
    int64_t sizes[KE_SPLIT_MAX];
    ke_status_t st = split_sizes(node, in, n_in, n_out, axis, sizes, x->err, x->errsz);
    if (st != KE_OK)
        return st;
    size_t es = ke_dtype_size(X->dtype);
    int64_t outer = prod(X->shape, 0, axis), inner = prod(X->shape, axis + 1, r);
    size_t xrow = (size_t)(X->shape[axis] * inner) * es, off = 0;
    for (int i = 0; i < n_out; i++) {
        size_t row = (size_t)(sizes[i] * inner) * es;
        if (out[i] && row)
            for (int64_t o = 0; o < outer; o++)
                memcpy((char *)out[i]->data + (size_t)o * row,
                       (const char *)X->data + (size_t)o * xrow + off, row);
        off += row;
    }
    return KE_OK;
}

/* ---- Slice ---------------------------------------------------------------------- */

typedef struct slice_geom {
    int64_t starts[KE_MAX_RANK], steps[KE_MAX_RANK], out[KE_MAX_RANK];
} slice_geom_t;

static ke_status_t slice_geom(const ke_tensor_t *const *in, int n_in, slice_geom_t *g, char *err,
                              size_t errsz) {
    const ke_tensor_t *X = in[0];
    int r = X->rank;
    for (int i = 1; i < n_in && i < 5; i++)
        if (in[i] && !in[i]->data)
            return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "Slice input %d must be constant",
                               i);
    const ke_tensor_t *st = in[1], *en = in[2], *ax = ke_ops_in(in, n_in, 3),
                      *sp = ke_ops_in(in, n_in, 4);
    int64_t n = ke_tensor_numel(st);
    if (ke_tensor_numel(en) != n || (ax && ke_tensor_numel(ax) != n) ||
        (sp && ke_tensor_numel(sp) != n) || n > r)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "starts/ends/axes/steps lengths differ");
    for (int i = 0; i < r; i++) {
        g->starts[i] = 0;
        g->steps[i] = 1;
        g->out[i] = X->shape[i];
    }
    uint8_t seen[KE_MAX_RANK] = {0};
    for (int64_t k = 0; k < n; k++) {
        int a = ke_ops_axis(ax ? ke_tensor_get_i64(ax, k) : k, r);
        if (a < 0 || seen[a])
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "bad or repeated axis");
        seen[a] = 1;
        int64_t d = X->shape[a], s = ke_tensor_get_i64(st, k), e = ke_tensor_get_i64(en, k);
        int64_t step = sp ? ke_tensor_get_i64(sp, k) : 1;
        if (step == 0)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "step 0");
        if (s < 0)
            s += d;
        if (e < 0)
            e += d;
        int64_t cnt;
        if (step > 0) {
            s = s < 0 ? 0 : s > d ? d : s;
            e = e < 0 ? 0 : e > d ? d : e;
            cnt = e > s ? (e - s + step - 1) / step : 0;
        } else {
            s = s < 0 ? -1 : s > d - 1 ? d - 1 : s;
            e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
            cnt = s > e ? (s - e + (-step) - 1) / (-step) : 0;
        }
        g->starts[a] = cnt ? s : 0;
        g->steps[a] = step;
        g->out[a] = cnt;
    }
    return KE_OK;
}

ke_status_t ke_ops_slice_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                               ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    (void)node;
    if (n_in < 3 || !in[0] || !in[1] || !in[2] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "Slice needs data, starts, ends");
    slice_geom_t g;
    ke_status_t st = slice_geom(in, n_in, &g, err, errsz);
    if (st != KE_OK)
        return st;
    return ke_ops_set(out[0], in[0]->dtype, in[0]->rank, g.out, err, errsz);
}

ke_status_t ke_ops_slice_run(const ke_node_info_t *node, const void *state,
                             const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                             int n_out, ke_exec_ctx_t *x) {
    (void)node, (void)state, (void)n_out;
    slice_geom_t g;
    ke_status_t st = slice_geom(in, n_in, &g, x->err, x->errsz);
    if (st != KE_OK)
        return st;
    if (ke_tensor_numel(out[0]) == 0)
        return KE_OK;
    ke_slice(in[0]->rank, in[0]->shape, g.starts, g.steps, g.out, in[0]->data, out[0]->data,
             ke_dtype_size(in[0]->dtype));
    return KE_OK;
}

/* ---- Gather ---------------------------------------------------------------------- */

ke_status_t ke_ops_gather_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    if (n_in != 2 || !in[0] || !in[1] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "Gather needs data and indices");
    if (in[1]->dtype != KE_DT_I64 && in[1]->dtype != KE_DT_I32)
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "indices must be int32/int64");
    int r = in[0]->rank, ri = in[1]->rank;
    int axis = ke_ops_axis(ke_attr_int(node->attrs, "axis", 0), r);
    if (axis < 0 || r + ri - 1 > KE_MAX_RANK)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "axis out of range");
    int64_t shape[KE_MAX_RANK];
    int ro = 0;
    for (int i = 0; i < axis; i++)
        shape[ro++] = in[0]->shape[i];
    for (int i = 0; i < ri; i++)
        shape[ro++] = in[1]->shape[i];
    for (int i = axis + 1; i < r; i++)
        shape[ro++] = in[0]->shape[i];
    return ke_ops_set(out[0], in[0]->dtype, ro, shape, err, errsz);
}

ke_status_t ke_ops_gather_run(const ke_node_info_t *node, const void *state,
                              const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                              int n_out, ke_exec_ctx_t *x) {
    (void)state, (void)n_in, (void)n_out;
    const ke_tensor_t *X = in[0], *I = in[1];
    int axis = ke_ops_axis(ke_attr_int(node->attrs, "axis", 0), X->rank);
    int64_t outer = prod(X->shape, 0, axis), n = X->shape[axis];
    int64_t inner = prod(X->shape, axis + 1, X->rank), ni = ke_tensor_numel(I);
    size_t row = (size_t)inner * ke_dtype_size(X->dtype);
    const char *src = X->data;
    char *dst = out[0]->data;
    for (int64_t j = 0; j < ni; j++) {
        int64_t k =
            I->dtype == KE_DT_I64 ? ((const int64_t *)I->data)[j] : ((const int32_t *)I->data)[j];
        if (k < 0)
            k += n;
        if (k < 0 || k >= n)
            return ke_ops_fail(x->err, x->errsz, KE_ERR_INVALID_ARG,
                               "index %lld out of range [0, %lld)", (long long)k, (long long)n);
        for (int64_t o = 0; o < outer; o++)
            memcpy(dst + (size_t)(o * ni + j) * row, src + (size_t)(o * n + k) * row, row);
    }
    return KE_OK;
}

/* ---- Tile ---------------------------------------------------------------------- */

ke_status_t ke_ops_tile_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                              ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    (void)node;
    if (n_in != 2 || !in[0] || !in[1] || !in[1]->data || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "Tile needs input and constant repeats");
    int r = in[0]->rank;
    if (ke_tensor_numel(in[1]) != r)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "repeats must have %d entries", r);
    int64_t shape[KE_MAX_RANK];
    for (int i = 0; i < r; i++) {
        int64_t k = ke_tensor_get_i64(in[1], i);
        if (k < 0)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "negative repeat");
        shape[i] = in[0]->shape[i] * k;
    }
    return ke_ops_set(out[0], in[0]->dtype, r, shape, err, errsz);
}

ke_status_t ke_ops_tile_run(const ke_node_info_t *node, const void *state,
                            const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                            int n_out, ke_exec_ctx_t *x) {
    (void)node, (void)state, (void)n_in, (void)n_out, (void)x;
    const ke_tensor_t *X = in[0];
    ke_tensor_t *Y = out[0];
    int64_t total = ke_tensor_numel(Y);
    if (total == 0)
        return KE_OK;
    size_t es = ke_dtype_size(X->dtype);
    int r = X->rank;
    if (r == 0) {
        memcpy(Y->data, X->data, es);
        return KE_OK;
    }
    /* each output row (last dim) repeats one input row */
    int64_t xin = X->shape[r - 1], yin = Y->shape[r - 1];
    int64_t idx[KE_MAX_RANK] = {0};
    for (int64_t row = 0; row < total / yin; row++) {
        int64_t off = 0;
        for (int i = 0; i < r - 1; i++)
            off = off * X->shape[i] + idx[i] % X->shape[i];
        const char *src = (const char *)X->data + (size_t)(off * xin) * es;
        char *dst = (char *)Y->data + (size_t)(row * yin) * es;
        for (int64_t c = 0; c < yin; c += xin)
            memcpy(dst + (size_t)c * es, src, (size_t)xin * es);
        for (int i = r - 2; i >= 0; i--) {
            if (++idx[i] < Y->shape[i])
                break;
            idx[i] = 0;
        }
    }
    return KE_OK;
}

/* ---- Cast / CastLike -------------------------------------------------------------- */

static int cast_ok(ke_dtype_t dt) {
    switch (dt) {
    case KE_DT_F32:
    case KE_DT_F64:
    case KE_DT_I64:
    case KE_DT_I32:
    case KE_DT_I16:
    case KE_DT_I8:
    case KE_DT_U8:
    case KE_DT_U16:
    case KE_DT_U32:
    case KE_DT_U64:
    case KE_DT_BOOL: return 1;
    default: return 0;
    }
}

static ke_dtype_t cast_target(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in) {
    if (!strcmp(node->op_type, "CastLike"))
        return n_in > 1 && in[1] ? in[1]->dtype : KE_DT_UNDEF;
    return (ke_dtype_t)ke_attr_int(node->attrs, "to", KE_DT_UNDEF);
}

ke_status_t ke_ops_cast_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                              ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    if (n_in < 1 || !in[0] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "missing input");
    ke_dtype_t to = cast_target(node, in, n_in);
    if (!cast_ok(to) || !cast_ok(in[0]->dtype))
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "cast %s -> %s",
                           ke_dtype_name(in[0]->dtype), ke_dtype_name(to));
    return ke_ops_set(out[0], to, in[0]->rank, in[0]->shape, err, errsz);
}

static int is_float(ke_dtype_t dt) {
    return dt == KE_DT_F32 || dt == KE_DT_F64;
}

static void put_f(ke_dtype_t dt, void *p, int64_t i, double v) {
    switch (dt) {
    case KE_DT_F32: ((float *)p)[i] = (float)v; break;
    case KE_DT_F64: ((double *)p)[i] = v; break;
    case KE_DT_I64: ((int64_t *)p)[i] = (int64_t)v; break;
    case KE_DT_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    case KE_DT_I16: ((int16_t *)p)[i] = (int16_t)v; break;
    case KE_DT_I8: ((int8_t *)p)[i] = (int8_t)v; break;
    case KE_DT_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case KE_DT_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    case KE_DT_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case KE_DT_U64: ((uint64_t *)p)[i] = (uint64_t)v; break;
    case KE_DT_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    default: break;
    }
}

static void put_i(ke_dtype_t dt, void *p, int64_t i, int64_t v) {
    switch (dt) {
    case KE_DT_F32: ((float *)p)[i] = (float)v; break;
    case KE_DT_F64: ((double *)p)[i] = (double)v; break;
    case KE_DT_I64: ((int64_t *)p)[i] = v; break;
    case KE_DT_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    case KE_DT_I16: ((int16_t *)p)[i] = (int16_t)v; break;
    case KE_DT_I8: ((int8_t *)p)[i] = (int8_t)v; break;
    case KE_DT_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case KE_DT_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    case KE_DT_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case KE_DT_U64: ((uint64_t *)p)[i] = (uint64_t)v; break;
    case KE_DT_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    default: break;
    }
}

ke_status_t ke_ops_cast_run(const ke_node_info_t *node, const void *state,
                            const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                            int n_out, ke_exec_ctx_t *x) {
    (void)node, (void)state, (void)n_in, (void)n_out, (void)x;
    const ke_tensor_t *X = in[0];
    ke_tensor_t *Y = out[0];
    int64_t n = ke_tensor_numel(X);
    if (X->dtype == Y->dtype) {
        ke_ops_copy_view(X, Y);
        return KE_OK;
    }
    if (X->dtype == KE_DT_F32 && Y->dtype == KE_DT_I64) {
        const float *a = X->data;
        int64_t *b = Y->data;
        for (int64_t i = 0; i < n; i++)
            b[i] = (int64_t)a[i];
        return KE_OK;
    }
    if (X->dtype == KE_DT_I64 && Y->dtype == KE_DT_F32) {
        const int64_t *a = X->data;
        float *b = Y->data;
        for (int64_t i = 0; i < n; i++)
            b[i] = (float)a[i];
        return KE_OK;
    }
    if (is_float(X->dtype)) {
        for (int64_t i = 0; i < n; i++) {
            double v = ke_tensor_get_f64(X, i);
            /* float -> int of NaN/inf/out of range is undefined in C:
             * saturate instead of invoking it */
            if (!is_float(Y->dtype) && Y->dtype != KE_DT_BOOL) {
                if (isnan(v))
                    v = 0;
                else if (v > 9.2e18)
                    v = 9.2e18;
                else if (v < -9.2e18)
                    v = -9.2e18;
                put_i(Y->dtype, Y->data, i, (int64_t)v);
            } else {
                put_f(Y->dtype, Y->data, i, v);
            }
        }
    } else {
        for (int64_t i = 0; i < n; i++)
            put_i(Y->dtype, Y->data, i, ke_tensor_get_i64(X, i));
    }
    return KE_OK;
}
