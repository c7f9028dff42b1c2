/* ke_ops_normalize: BatchNormalization (inference), LayerNormalization,
 * InstanceNormalization, Softmax and LogSoftmax (both axis semantics). */
#include <math.h>
#include <string.h>

#include "ke_ops_util.h"

static int64_t prod(const int64_t *s, int b, int e) {
    int64_t p = 1;
    for (int i = b; i < e; i++)
        p *= s[i];
    return p;
}

static int all_f32(const ke_tensor_t *const *in, int n_in) {
    for (int i = 0; i < n_in; i++)
        if (in[i] && in[i]->dtype != KE_DT_F32)
            return 0;
    return 1;
}

/* ---- BatchNormalization ----------------------------------------------------- */

ke_status_t ke_ops_batchnorm_infer(const ke_node_info_t *node, const ke_tensor_t *const *in,
                                   int n_in, ke_tensor_t *const *out, int n_out, char *err,
                                   size_t errsz) {
    if (n_in != 5 || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "needs X, scale, B, mean, var");
    for (int i = 0; i < 5; i++)
        if (!in[i])
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "input %d missing", i);
    if (!all_f32(in, n_in))
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "float32 only");
    if (ke_attr_int(node->attrs, "training_mode", 0) != 0)
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "training_mode=1");
    for (int i = 1; i < n_out; i++)
        if (out[i])
            return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "training outputs");
    const ke_tensor_t *X = in[0];
    if (X->rank < 2)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "X must be at least 2-D");
    for (int i = 1; i < 5; i++)
        if (in[i]->rank != 1 || in[i]->shape[0] != X->shape[1])
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "input %d must be [%lld]", i,
                               (long long)X->shape[1]);
    return ke_ops_set(out[0], KE_DT_F32, X->rank, X->shape, err, errsz);
}

ke_status_t ke_ops_batchnorm_run(const ke_node_info_t *node, const void *state,
                                 const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                                 int n_out, ke_exec_ctx_t *x) {
    (void)state, (void)n_in, (void)n_out, (void)x;
    const ke_tensor_t *X = in[0];
    float eps = ke_attr_float(node->attrs, "epsilon", 1e-5f);
    const ke_unparams_t none = {0, 0};
    ke_batchnorm_f32(X->shape[0], X->shape[1], prod(X->shape, 2, X->rank), X->data, in[1]->data,
                     in[2]->data, in[3]->data, in[4]->data, eps, out[0]->data, KE_UN_NONE, none);
    return KE_OK;
}

/* ---- LayerNormalization ------------------------------------------------------ */

ke_status_t ke_ops_layernorm_infer(const ke_node_info_t *node, const ke_tensor_t *const *in,
                                   int n_in, ke_tensor_t *const *out, int n_out, char *err,
                                   size_t errsz) {
    if (n_in < 2 || !in[0] || !in[1] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "needs X and Scale");
    if (!all_f32(in, n_in))
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "float32 only");
    const ke_tensor_t *X = in[0], *B = ke_ops_in(in, n_in, 2);
    int axis = ke_ops_axis(ke_attr_int(node->attrs, "axis", -1), X->rank);
    if (axis < 0)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "axis out of range");
    int64_t cols = prod(X->shape, axis, X->rank);
    if (ke_tensor_numel(in[1]) != cols || (B && ke_tensor_numel(B) != cols))
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED,
                           "Scale/B must cover the normalised dims (%lld elements)",
                           (long long)cols);
    ke_status_t st = ke_ops_set(out[0], KE_DT_F32, X->rank, X->shape, err, errsz);
    int64_t sshape[KE_MAX_RANK];
    for (int i = 0; i < X->rank; i++)
        sshape[i] = i < axis ? X->shape[i] : 1;
    for (int i = 1; i < n_out && i < 3 && st == KE_OK; i++)
        st = ke_ops_set(out[i], KE_DT_F32, X->rank, sshape, err, errsz);
    return st;
}

typedef struct ln_task {
    int64_t cols;
    const float *x, *scale, *bias;
    float eps;
    float *y, *mean, *invstd;
} ln_task_t;

static void ln_chunk(void *arg, int64_t b, int64_t e, int tid) {
    (void)tid;
    const ln_task_t *t = arg;
    ke_layernorm_f32(e - b, t->cols, t->x + b * t->cols, t->scale, t->bias, t->eps,
                     t->y + b * t->cols, t->mean ? t->mean + b : NULL,
                     t->invstd ? t->invstd + b : NULL);
}

ke_status_t ke_ops_layernorm_run(const ke_node_info_t *node, const void *state,
                                 const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                                 int n_out, ke_exec_ctx_t *x) {
    (void)state;
    const ke_tensor_t *X = in[0], *B = ke_ops_in(in, n_in, 2);
    int axis = ke_ops_axis(ke_attr_int(node->attrs, "axis", -1), X->rank);
    int64_t rows = prod(X->shape, 0, axis), cols = prod(X->shape, axis, X->rank);
    ke_tensor_t *m = ke_ops_out(out, n_out, 1), *s = ke_ops_out(out, n_out, 2);
    ln_task_t t = {cols,
                   X->data,
                   in[1]->data,
                   B ? B->data : NULL,
                   ke_attr_float(node->attrs, "epsilon", 1e-5f),
                   out[0]->data,
                   m ? m->data : NULL,
                   s ? s->data : NULL};
    if (x && x->pool && rows > 1 && rows * cols >= (1 << 14))
        ke_threadpool_parallel_for(x->pool, rows, 1 + (1 << 12) / (cols + 1), ln_chunk, &t);
    else
        ln_chunk(&t, 0, rows, 0);
    return KE_OK;
}

/* ---- InstanceNormalization ---------------------------------------------------- */

ke_status_t ke_ops_instnorm_infer(const ke_node_info_t *node, const ke_tensor_t *const *in,
                                  int n_in, ke_tensor_t *const *out, int n_out, char *err,
                                  size_t errsz) {
    (void)node;
    if (n_in != 3 || !in[0] || !in[1] || !in[2] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "needs input, scale, B");
    if (!all_f32(in, n_in))
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "float32 only");
    const ke_tensor_t *X = in[0];
    if (X->rank < 3 || ke_tensor_numel(in[1]) != X->shape[1] ||
        ke_tensor_numel(in[2]) != X->shape[1])
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "bad shapes");
    return ke_ops_set(out[0], KE_DT_F32, X->rank, X->shape, err, errsz);
}

ke_status_t ke_ops_instnorm_run(const ke_node_info_t *node, const void *state,
                                const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                                int n_out, ke_exec_ctx_t *x) {
    (void)state, (void)n_in, (void)n_out, (void)x;
    const ke_tensor_t *X = in[0];
    float eps = ke_attr_float(node->attrs, "epsilon", 1e-5f);
    int64_t n = X->shape[0], c = X->shape[1], inner = prod(X->shape, 2, X->rank);
    const float *scale = in[1]->data, *bias = in[2]->data;
    for (int64_t i = 0; i < n * c; i++) {
        const float *xs = (const float *)X->data + i * inner;
        float *y = (float *)out[0]->data + i * inner;
        double mean = 0, var = 0;
        for (int64_t j = 0; j < inner; j++)
            mean += xs[j];
        mean /= (double)inner;
        for (int64_t j = 0; j < inner; j++)
            var += (xs[j] - mean) * (xs[j] - mean);
        var /= (double)inner;
        const float k = (float)(scale[i % c] / sqrt(var + eps));
        const float b = bias[i % c] - (float)mean * k;
        for (int64_t j = 0; j < inner; j++)
            y[j] = xs[j] * k + b;
    }
    return KE_OK;
}

/* ---- Softmax / LogSoftmax ------------------------------------------------------- */

static int softmax_v13(const ke_node_info_t *node) {
    return node->opset >= 13;
}

ke_status_t ke_ops_softmax_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                 ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    if (n_in < 1 || !in[0] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "missing input");
    if (in[0]->dtype != KE_DT_F32)
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "float32 only");
    int64_t def = softmax_v13(node) ? -1 : 1;
    int r = in[0]->rank;
    if (r == 0 || ke_ops_axis(ke_attr_int(node->attrs, "axis", def), r) < 0)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "axis out of range");
    return ke_ops_set(out[0], KE_DT_F32, r, in[0]->shape, err, errsz);
}

typedef struct sm_task {
    int64_t n, inner;
    const float *x;
    float *y;
    int log;
} sm_task_t;

static void sm_chunk(void *arg, int64_t b, int64_t e, int tid) {
    (void)tid;
    const sm_task_t *t = arg;
    int64_t step = t->n * t->inner;
    ke_softmax_f32(e - b, t->n, t->inner, t->x + b * step, t->y + b * step, t->log);
}

ke_status_t ke_ops_softmax_run(const ke_node_info_t *node, const void *state,
                               const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                               int n_out, ke_exec_ctx_t *x) {
    (void)state, (void)n_in, (void)n_out;
    const ke_tensor_t *X = in[0];
    int v13 = softmax_v13(node);
    int axis = ke_ops_axis(ke_attr_int(node->attrs, "axis", v13 ? -1 : 1), X->rank);
    int lg = !strcmp(node->op_type, "LogSoftmax");
    sm_task_t t = {0, 1, X->data, out[0]->data, lg};
    int64_t outer = prod(X->shape, 0, axis);
    if (v13) {
        t.n = X->shape[axis];
        t.inner = prod(X->shape, axis + 1, X->rank);
    } else {
        t.n = prod(X->shape, axis, X->rank);
    }
    if (x->pool && outer > 1 && outer * t.n * t.inner >= (1 << 15)) {
        int64_t grain = 1 + (1 << 13) / (t.n * t.inner + 1);
        ke_threadpool_parallel_for(x->pool, outer, grain, sm_chunk, &t);
    } else {
        sm_chunk(&t, 0, outer, 0);
    }
    return KE_OK;
}
