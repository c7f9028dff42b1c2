/* ke_ops_reduction: Reduce{Sum,Mean,Max,Min,Prod,L1,L2,LogSum,LogSumExp,
 * SumSquare} (axes as attribute, or as input for ReduceSum from opset 13),
 * ArgMax and ArgMin. */
#include <string.h>

#include "ke_ops_util.h"

static const struct {
    const char *name;
    ke_redop_t op;
} k_red[] = {
    {"ReduceSum", KE_RED_SUM},
    {"ReduceMean", KE_RED_MEAN},
    {"ReduceMax", KE_RED_MAX},
    {"ReduceMin", KE_RED_MIN},
    {"ReduceProd", KE_RED_PROD},
    {"ReduceL1", KE_RED_L1},
    {"ReduceL2", KE_RED_L2},
    {"ReduceLogSum", KE_RED_LOG_SUM},
    {"ReduceLogSumExp", KE_RED_LOG_SUM_EXP},
    {"ReduceSumSquare", KE_RED_SUM_SQUARE},
};

static int red_find(const char *op_type, ke_redop_t *op) {
    for (size_t i = 0; i < sizeof k_red / sizeof k_red[0]; i++)
        if (!strcmp(k_red[i].name, op_type)) {
            *op = k_red[i].op;
            return 0;
        }
    return -1;
}

/* Reduction mask from the axes (attribute or input 1 for ReduceSum-13).
 * *noop = 1 when the op is an identity (empty axes + noop_with_empty_axes). */
static ke_status_t red_mask(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                            uint8_t *mask, int *noop, char *err, size_t errsz) {
    int r = in[0]->rank;
    const ke_tensor_t *ax = ke_ops_in(in, n_in, 1);
    int64_t axes[KE_MAX_RANK * 2];
    int64_t na = 0;
    *noop = 0;
    if (ax) {
        if (!ax->data)
            return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "axes must be constant");
        na = ke_tensor_numel(ax);
        if (na > KE_MAX_RANK * 2)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "too many axes");
        for (int64_t i = 0; i < na; i++)
            axes[i] = ke_tensor_get_i64(ax, i);
    } else {
        const int64_t *a = NULL;
        na = ke_attr_ints(node->attrs, "axes", &a);
        if (na > KE_MAX_RANK * 2)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "too many axes");
        for (int64_t i = 0; i < na; i++)
            axes[i] = a[i];
        if (na < 0)
            na = 0;
    }
    memset(mask, 0, KE_MAX_RANK);
    if (na == 0) {
        if (ke_attr_int(node->attrs, "noop_with_empty_axes", 0))
            *noop = 1;
        else
            memset(mask, 1, (size_t)r);
        return KE_OK;
    }
    for (int64_t i = 0; i < na; i++) {
        int a = ke_ops_axis(axes[i], r);
        if (a < 0)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "axis %lld out of range",
                               (long long)axes[i]);
        mask[a] = 1;
    }
    return KE_OK;
}

ke_status_t ke_ops_reduce_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    ke_redop_t op;
    if (n_in < 1 || !in[0] || n_out < 1 || red_find(node->op_type, &op))
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "bad reduction node");
    ke_dtype_t dt = in[0]->dtype;
    int int_ok = op == KE_RED_SUM || op == KE_RED_MEAN || op == KE_RED_MAX || op == KE_RED_MIN ||
                 op == KE_RED_PROD;
    if (dt != KE_DT_F32 && !(dt == KE_DT_I64 && int_ok))
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "dtype %s not supported",
                           ke_dtype_name(dt));
    uint8_t mask[KE_MAX_RANK];
    int noop;
    ke_status_t st = red_mask(node, in, n_in, mask, &noop, err, errsz);
    if (st != KE_OK)
        return st;
    if (noop)
        return ke_ops_set(out[0], dt, in[0]->rank, in[0]->shape, err, errsz);
    int keep = (int)ke_attr_int(node->attrs, "keepdims", 1);
    int64_t shape[KE_MAX_RANK];
    int r = 0;
    for (int i = 0; i < in[0]->rank; i++) {
        if (!mask[i])
            shape[r++] = in[0]->shape[i];
        else if (keep)
            shape[r++] = 1;
    }
    return ke_ops_set(out[0], dt, r, shape, err, errsz);
}

ke_status_t ke_ops_reduce_run(const ke_node_info_t *node, const void *state,
                              const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                              int n_out, ke_exec_ctx_t *x) {
    (void)state, (void)n_out;
    ke_redop_t op;
    if (red_find(node->op_type, &op))
        return ke_ops_fail(x->err, x->errsz, KE_ERR_UNSUPPORTED, "not a reduction");
    uint8_t mask[KE_MAX_RANK];
    int noop;
    ke_status_t st = red_mask(node, in, n_in, mask, &noop, x->err, x->errsz);
    if (st != KE_OK)
        return st;
    if (noop) {
        ke_ops_copy_view(in[0], out[0]);
        return KE_OK;
    }
    if (in[0]->dtype == KE_DT_I64)
        ke_reduce_i64(op, in[0]->rank, in[0]->shape, mask, in[0]->data, out[0]->data);
    else
        ke_reduce_f32(op, in[0]->rank, in[0]->shape, mask, in[0]->data, out[0]->data);
    return KE_OK;
}

/* ---- ArgMax / ArgMin ---------------------------------------------------------- */

ke_status_t ke_ops_arg_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                             ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    if (n_in < 1 || !in[0] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "missing input");
    if (in[0]->dtype != KE_DT_F32)
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "float32 only");
    int r = in[0]->rank;
    int axis = ke_ops_axis(ke_attr_int(node->attrs, "axis", 0), r);
    if (axis < 0 || in[0]->shape[axis] == 0)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "axis out of range or empty");
    int keep = (int)ke_attr_int(node->attrs, "keepdims", 1);
    int64_t shape[KE_MAX_RANK];
    int ro = 0;
    for (int i = 0; i < r; i++) {
        if (i != axis)
            shape[ro++] = in[0]->shape[i];
        else if (keep)
            shape[ro++] = 1;
    }
    return ke_ops_set(out[0], KE_DT_I64, ro, shape, err, errsz);
}

ke_status_t ke_ops_arg_run(const ke_node_info_t *node, const void *state,
                           const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                           int n_out, ke_exec_ctx_t *x) {
    (void)state, (void)n_in, (void)n_out, (void)x;
    const ke_tensor_t *X = in[0];
    int axis = ke_ops_axis(ke_attr_int(node->attrs, "axis", 0), X->rank);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; i++)
        outer *= X->shape[i];
    for (int i = axis + 1; i < X->rank; i++)
        inner *= X->shape[i];
    ke_argminmax_f32(outer, X->shape[axis], inner, X->data, out[0]->data,
                     !strcmp(node->op_type, "ArgMax"),
                     (int)ke_attr_int(node->attrs, "select_last_index", 0));
    return KE_OK;
}
