/* ke_ops_activation: float32 unary functions and activations (Relu,
 * Sigmoid, Gelu, Clip, Sqrt, Exp, ...), Not, and int Neg/Abs. */
#include <math.h>
#include <string.h>

#include "ke_ops_util.h"

typedef struct un_desc {
    const char *name;
    ke_unop_t op;
    float alpha, beta; /* attribute defaults */
} un_desc_t;

static const un_desc_t k_un[] = {
    {"Relu", KE_UN_RELU, 0, 0},
    {"LeakyRelu", KE_UN_LEAKY_RELU, 0.01f, 0},
    {"Sigmoid", KE_UN_SIGMOID, 0, 0},
    {"Tanh", KE_UN_TANH, 0, 0},
    {"Erf", KE_UN_ERF, 0, 0},
    {"Sqrt", KE_UN_SQRT, 0, 0},
    {"Neg", KE_UN_NEG, 0, 0},
    {"Exp", KE_UN_EXP, 0, 0},
    {"Log", KE_UN_LOG, 0, 0},
    {"Abs", KE_UN_ABS, 0, 0},
    {"Reciprocal", KE_UN_RECIPROCAL, 0, 0},
    {"Floor", KE_UN_FLOOR, 0, 0},
    {"Ceil", KE_UN_CEIL, 0, 0},
    {"Round", KE_UN_ROUND, 0, 0},
    {"Sin", KE_UN_SIN, 0, 0},
    {"Cos", KE_UN_COS, 0, 0},
    {"Tan", KE_UN_TAN, 0, 0},
    {"Asin", KE_UN_ASIN, 0, 0},
    {"Acos", KE_UN_ACOS, 0, 0},
    {"Atan", KE_UN_ATAN, 0, 0},
    {"Sinh", KE_UN_SINH, 0, 0},
    {"Cosh", KE_UN_COSH, 0, 0},
    {"Asinh", KE_UN_ASINH, 0, 0},
    {"Acosh", KE_UN_ACOSH, 0, 0},
    {"Atanh", KE_UN_ATANH, 0, 0},
    {"Sign", KE_UN_SIGN, 0, 0},
    {"Softplus", KE_UN_SOFTPLUS, 0, 0},
    {"Softsign", KE_UN_SOFTSIGN, 0, 0},
    {"Elu", KE_UN_ELU, 1.0f, 0},
    {"Selu", KE_UN_SELU, 1.67326319217681884765625f, 1.05070102214813232421875f},
    {"Celu", KE_UN_CELU, 1.0f, 0},
    {"HardSigmoid", KE_UN_HARD_SIGMOID, 0.2f, 0.5f},
    {"HardSwish", KE_UN_HARD_SWISH, 0, 0},
    {"ThresholdedRelu", KE_UN_THRESHOLDED_RELU, 1.0f, 0},
    {"Gelu", KE_UN_GELU, 0, 0},
    {"Clip", KE_UN_CLIP, -INFINITY, INFINITY},
};

static const un_desc_t *un_find(const char *op_type) {
    for (size_t i = 0; i < sizeof k_un / sizeof k_un[0]; i++)
        if (!strcmp(k_un[i].name, op_type))
            return &k_un[i];
    return NULL;
}

/* Resolves the op and its parameters from the node (attributes, and Clip's
 * min/max inputs). */
static ke_status_t un_params(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                             ke_unop_t *op, ke_unparams_t *p, char *err, size_t errsz) {
    const un_desc_t *d = un_find(node->op_type);
    if (!d)
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "not a unary op");
    *op = d->op;
    p->alpha = d->alpha;
    p->beta = d->beta;
    if (d->op == KE_UN_CLIP) {
        const ke_tensor_t *lo = ke_ops_in(in, n_in, 1), *hi = ke_ops_in(in, n_in, 2);
        if (lo && lo->data && ke_tensor_numel(lo) == 1)
            p->alpha = (float)ke_tensor_get_f64(lo, 0);
        if (hi && hi->data && ke_tensor_numel(hi) == 1)
            p->beta = (float)ke_tensor_get_f64(hi, 0);
        return KE_OK;
    }
    if (d->op == KE_UN_SELU) {
        p->alpha = ke_attr_float(node->attrs, "alpha", d->alpha);
        p->beta = ke_attr_float(node->attrs, "gamma", d->beta);
    } else if (d->op == KE_UN_GELU) {
        const char *ap = ke_attr_string(node->attrs, "approximate", "none");
        if (!strcmp(ap, "tanh"))
            *op = KE_UN_GELU_TANH;
        else if (strcmp(ap, "none"))
            return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "approximate='%s'", ap);
    } else {
        p->alpha = ke_attr_float(node->attrs, "alpha", d->alpha);
        p->beta = ke_attr_float(node->attrs, "beta", d->beta);
    }
    return KE_OK;
}

ke_status_t ke_ops_unary_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                               ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    if (n_in < 1 || !in[0] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "missing input");
    ke_unop_t op;
    ke_unparams_t p;
    ke_status_t st = un_params(node, in, n_in, &op, &p, err, errsz);
    if (st != KE_OK)
        return st;
    ke_dtype_t dt = in[0]->dtype;
    int int_ok = (op == KE_UN_NEG || op == KE_UN_ABS || op == KE_UN_RELU || op == KE_UN_SIGN) &&
                 (dt == KE_DT_I64 || dt == KE_DT_I32);
    if (dt != KE_DT_F32 && !int_ok)
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "dtype %s not supported",
                           ke_dtype_name(dt));
    if (op == KE_UN_CLIP) {
        for (int i = 1; i < n_in && i < 3; i++)
            if (in[i] && (ke_tensor_numel(in[i]) != 1 || in[i]->dtype != dt))
                return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "Clip bound %d must be a %s scalar", i,
                                   ke_dtype_name(dt));
    }
    return ke_ops_set(out[0], dt, in[0]->rank, in[0]->shape, err, errsz);
}

typedef struct un_task {
    ke_unop_t op;
    ke_unparams_t p;
    const float *x;
    float *y;
} un_task_t;

static void un_chunk(void *arg, int64_t b, int64_t e, int tid) {
    (void)tid;
    const un_task_t *t = arg;
    ke_unary_f32(t->op, t->p, t->x + b, t->y + b, e - b);
}

#define KE_INT_UNARY(T)                                                                            \
    do {                                                                                           \
        const T *a = in[0]->data;                                                                  \
        T *b = out[0]->data;                                                                       \
        for (int64_t i = 0; i < n; i++)                                                            \
            b[i] = op == KE_UN_NEG    ? (T)-a[i]                                                   \
                   : op == KE_UN_ABS  ? (a[i] < 0 ? (T)-a[i] : a[i])                               \
                   : op == KE_UN_RELU ? (a[i] > 0 ? a[i] : 0)                                      \
                                      : (T)((a[i] > 0) - (a[i] < 0));                              \
    } while (0)

ke_status_t ke_ops_unary_run(const ke_node_info_t *node, const void *state,
                             const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                             int n_out, ke_exec_ctx_t *x) {
    (void)state, (void)n_out;
    ke_unop_t op;
    ke_unparams_t p;
    ke_status_t st = un_params(node, in, n_in, &op, &p, x->err, x->errsz);
    if (st != KE_OK)
        return st;
    int64_t n = ke_tensor_numel(in[0]);
    if (in[0]->dtype == KE_DT_I64) {
        KE_INT_UNARY(int64_t);
        return KE_OK;
    }
    if (in[0]->dtype == KE_DT_I32) {
        KE_INT_UNARY(int32_t);
        return KE_OK;
    }
    un_task_t t = {op, p, in[0]->data, out[0]->data};
    /* cheap ops are memory bound: split only large tensors */
    int64_t grain =
        (op == KE_UN_RELU || op == KE_UN_NEG || op == KE_UN_CLIP) ? (1 << 17) : (1 << 13);
    if (x->pool && n > grain)
        ke_threadpool_parallel_for(x->pool, n, grain, un_chunk, &t);
    else
        ke_unary_f32(op, p, t.x, t.y, n);
    return KE_OK;
}

/* ---- Not, IsNaN, IsInf ------------------------------------------------------ */

ke_status_t ke_ops_predicate_infer(const ke_node_info_t *node, const ke_tensor_t *const *in,
                                   int n_in, ke_tensor_t *const *out, int n_out, char *err,
                                   size_t errsz) {
    if (n_in < 1 || !in[0] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "missing input");
    ke_dtype_t want = !strcmp(node->op_type, "Not") ? KE_DT_BOOL : KE_DT_F32;
    if (in[0]->dtype != want)
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "dtype %s not supported",
                           ke_dtype_name(in[0]->dtype));
    return ke_ops_set(out[0], KE_DT_BOOL, in[0]->rank, in[0]->shape, err, errsz);
}

ke_status_t ke_ops_predicate_run(const ke_node_info_t *node, const void *state,
                                 const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                                 int n_out, ke_exec_ctx_t *x) {
    (void)state, (void)n_in, (void)n_out, (void)x;
    int64_t n = ke_tensor_numel(in[0]);
    uint8_t *y = out[0]->data;
    if (!strcmp(node->op_type, "Not")) {
        const uint8_t *a = in[0]->data;
        for (int64_t i = 0; i < n; i++)
            y[i] = !a[i];
        return KE_OK;
    }
    const float *a = in[0]->data;
    if (!strcmp(node->op_type, "IsNaN")) {
        for (int64_t i = 0; i < n; i++)
            y[i] = isnan(a[i]) != 0;
        return KE_OK;
    }
    int pos = (int)ke_attr_int(node->attrs, "detect_positive", 1);
    int neg = (int)ke_attr_int(node->attrs, "detect_negative", 1);
    for (int64_t i = 0; i < n; i++)
        y[i] = isinf(a[i]) && ((a[i] > 0 && pos) || (a[i] < 0 && neg));
    return KE_OK;
}
