/* ke_ops_elementwise: the broadcasting binary ops (arithmetic, comparison,
 * logic, variadic Min/Max/Sum/Mean), Where and Expand. */
#include <string.h>

#include "ke_ops_util.h"

typedef struct bin_desc {
    const char *name;
    ke_binop_t op;
    int variadic; /* 1: any number of inputs >= 1 */
    int mean;     /* Mean: Sum then divide */
} bin_desc_t;

static const bin_desc_t k_bin[] = {
    {"Add", KE_BIN_ADD, 0, 0},
    {"Sub", KE_BIN_SUB, 0, 0},
    {"Mul", KE_BIN_MUL, 0, 0},
    {"Div", KE_BIN_DIV, 0, 0},
    {"Pow", KE_BIN_POW, 0, 0},
    {"Mod", KE_BIN_MOD, 0, 0},
    {"Min", KE_BIN_MIN, 1, 0},
    {"Max", KE_BIN_MAX, 1, 0},
    {"Sum", KE_BIN_ADD, 1, 0},
    {"Mean", KE_BIN_ADD, 1, 1},
    {"Equal", KE_BIN_EQ, 0, 0},
    {"Less", KE_BIN_LT, 0, 0},
    {"LessOrEqual", KE_BIN_LE, 0, 0},
    {"Greater", KE_BIN_GT, 0, 0},
    {"GreaterOrEqual", KE_BIN_GE, 0, 0},
    {"And", KE_BIN_AND, 0, 0},
    {"Or", KE_BIN_OR, 0, 0},
    {"Xor", KE_BIN_XOR, 0, 0},
};

static const bin_desc_t *bin_find(const char *op_type) {
    for (size_t i = 0; i < sizeof k_bin / sizeof k_bin[0]; i++)
        if (!strcmp(k_bin[i].name, op_type))
            return &k_bin[i];
    return NULL;
}

ke_status_t ke_ops_binary_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    const bin_desc_t *d = bin_find(node->op_type);
    if (!d)
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "not a binary op");
    if (n_in < 1 || (!d->variadic && n_in != 2) || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "wrong number of inputs (%d)", n_in);
    ke_dtype_t dt = in[0] ? in[0]->dtype : KE_DT_UNDEF;
    int rank = 0;
    int64_t shape[KE_MAX_RANK];
    for (int i = 0; i < n_in; i++) {
        if (!in[i])
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "input %d is missing", i);
        if (in[i]->dtype != dt)
            return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "mixed input dtypes %s and %s",
                               ke_dtype_name(dt), ke_dtype_name(in[i]->dtype));
        int r2;
        int64_t s2[KE_MAX_RANK];
        if (ke_bcast_shape(rank, shape, in[i]->rank, in[i]->shape, &r2, s2) != 0)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "input %d does not broadcast", i);
        rank = r2;
        memcpy(shape, s2, sizeof(int64_t) * (size_t)rank);
    }
    int kind = ke_ops_kind(dt);
    size_t isz, osz;
    (void)isz;
    (void)osz;
    int logic = d->op == KE_BIN_AND || d->op == KE_BIN_OR || d->op == KE_BIN_XOR;
    if (kind < 0 || (logic && dt != KE_DT_BOOL) ||
        (!logic && dt == KE_DT_BOOL && d->op != KE_BIN_EQ))
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "dtype %s not supported",
                           ke_dtype_name(dt));
    if (d->op == KE_BIN_MOD) {
        int fm = (int)ke_attr_int(node->attrs, "fmod", 0);
        if (fm != (dt == KE_DT_F32 || dt == KE_DT_F64))
            return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "Mod fmod=%d on %s", fm,
                               ke_dtype_name(dt));
    }
    ke_dtype_t odt = d->op >= KE_BIN_EQ ? KE_DT_BOOL : dt;
    return ke_ops_set(out[0], odt, rank, shape, err, errsz);
}

typedef struct bin_task {
    ke_binop_t op;
    ke_kind_t kind;
    const ke_bcast_t *bc;
    const void *a, *b;
    void *y;
} bin_task_t;

static void bin_chunk(void *arg, int64_t r0, int64_t r1, int tid) {
    (void)tid;
    const bin_task_t *t = arg;
    ke_binary_rows(t->op, t->kind, t->bc, t->a, t->b, t->y, r0, r1);
}

/* y = a op b over y's full shape, split across the pool when large. */
static ke_status_t bin_apply(ke_exec_ctx_t *x, ke_binop_t op, ke_kind_t kind, const ke_tensor_t *a,
                             const ke_tensor_t *b, ke_tensor_t *y) {
    ke_bcast_t bc;
    const int rin[2] = {a->rank, b->rank};
    const int64_t *shp[2] = {a->shape, b->shape};
    if (ke_bcast_init(&bc, y->rank, y->shape, 2, rin, shp) != 0)
        return ke_ops_fail(x->err, x->errsz, KE_ERR_SHAPE, "inputs do not broadcast");
    bin_task_t t = {op, kind, &bc, a->data, b->data, y->data};
    if (bc.total >= (1 << 16) && x->pool) {
        int64_t grain = bc.inner >= (1 << 14) ? 1 : ((1 << 14) + bc.inner - 1) / bc.inner;
        ke_threadpool_parallel_for(x->pool, bc.rows, grain, bin_chunk, &t);
    } else if (bc.total) {
        ke_binary_rows(op, kind, &bc, a->data, b->data, y->data, 0, bc.rows);
    }
    return KE_OK;
}

ke_status_t ke_ops_binary_run(const ke_node_info_t *node, const void *state,
                              const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                              int n_out, ke_exec_ctx_t *x) {
    (void)state;
    (void)n_out;
    const bin_desc_t *d = bin_find(node->op_type);
    ke_tensor_t *y = out[0];
    if (!d)
        return ke_ops_fail(x->err, x->errsz, KE_ERR_UNSUPPORTED, "not a binary op");
    ke_kind_t kind = (ke_kind_t)ke_ops_kind(in[0]->dtype);
    if (n_in == 1) {
        ke_bcast_t bc;
        const int rin[1] = {in[0]->rank};
        const int64_t *shp[1] = {in[0]->shape};
        if (ke_bcast_init(&bc, y->rank, y->shape, 1, rin, shp) != 0)
            return ke_ops_fail(x->err, x->errsz, KE_ERR_SHAPE, "bad shapes");
        ke_expand(&bc, in[0]->data, y->data, ke_dtype_size(y->dtype));
        return KE_OK;
    }
    ke_status_t st = bin_apply(x, d->op, kind, in[0], in[1], y);
    /* variadic: fold the remaining inputs into y in place */
    for (int i = 2; i < n_in && st == KE_OK; i++)
        st = bin_apply(x, d->op, kind, y, in[i], y);
    if (st == KE_OK && d->mean) {
        int64_t n = ke_tensor_numel(y);
        if (y->dtype == KE_DT_F32) {
            float *p = y->data, inv = 1.0f / (float)n_in;
            for (int64_t i = 0; i < n; i++)
                p[i] *= inv;
        } else if (y->dtype == KE_DT_F64) {
            double *p = y->data;
            for (int64_t i = 0; i < n; i++)
                p[i] /= n_in;
        } else if (y->dtype == KE_DT_I64) {
            int64_t *p = y->data;
            for (int64_t i = 0; i < n; i++)
                p[i] /= n_in;
        } else {
            return ke_ops_fail(x->err, x->errsz, KE_ERR_UNSUPPORTED, "Mean on %s",
                               ke_dtype_name(y->dtype));
        }
    }
    return st;
}

/* ---- Where ---------------------------------------------------------------- */

ke_status_t ke_ops_where_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                               ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    (void)node;
    if (n_in != 3 || !in[0] || !in[1] || !in[2] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "Where needs 3 inputs");
    if (in[0]->dtype != KE_DT_BOOL || in[1]->dtype != in[2]->dtype)
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "bad dtypes");
    int r1, r2;
    int64_t s1[KE_MAX_RANK], s2[KE_MAX_RANK];
    if (ke_bcast_shape(in[0]->rank, in[0]->shape, in[1]->rank, in[1]->shape, &r1, s1) ||
        ke_bcast_shape(r1, s1, in[2]->rank, in[2]->shape, &r2, s2))
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "inputs do not broadcast");
    return ke_ops_set(out[0], in[1]->dtype, r2, s2, err, errsz);
}

ke_status_t ke_ops_where_run(const ke_node_info_t *node, const void *state,
                             const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                             int n_out, ke_exec_ctx_t *x) {
    (void)node, (void)state, (void)n_in, (void)n_out;
    ke_bcast_t bc;
    const int rin[3] = {in[0]->rank, in[1]->rank, in[2]->rank};
    const int64_t *shp[3] = {in[0]->shape, in[1]->shape, in[2]->shape};
    if (ke_bcast_init(&bc, out[0]->rank, out[0]->shape, 3, rin, shp) != 0)
        return ke_ops_fail(x->err, x->errsz, KE_ERR_SHAPE, "inputs do not broadcast");
    if (bc.total)
        ke_where(&bc, in[0]->data, in[1]->data, in[2]->data, out[0]->data,
                 ke_dtype_size(out[0]->dtype));
    return KE_OK;
}

/* ---- Expand --------------------------------------------------------------- */

ke_status_t ke_ops_expand_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    (void)node;
    if (n_in != 2 || !in[0] || !in[1] || !in[1]->data || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "Expand needs input and shape values");
    int64_t n = ke_tensor_numel(in[1]);
    if (in[1]->rank != 1 || n > KE_MAX_RANK)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "bad shape input");
    int64_t want[KE_MAX_RANK], shape[KE_MAX_RANK];
    for (int64_t i = 0; i < n; i++)
        want[i] = ke_tensor_get_i64(in[1], i);
    int r;
    if (ke_bcast_shape(in[0]->rank, in[0]->shape, (int)n, want, &r, shape))
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "shape does not broadcast");
    return ke_ops_set(out[0], in[0]->dtype, r, shape, err, errsz);
}

ke_status_t ke_ops_expand_run(const ke_node_info_t *node, const void *state,
                              const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                              int n_out, ke_exec_ctx_t *x) {
    (void)node, (void)state, (void)n_in, (void)n_out;
    ke_bcast_t bc;
    const int rin[1] = {in[0]->rank};
    const int64_t *shp[1] = {in[0]->shape};
    if (ke_bcast_init(&bc, out[0]->rank, out[0]->shape, 1, rin, shp) != 0)
        return ke_ops_fail(x->err, x->errsz, KE_ERR_SHAPE, "input does not broadcast");
    if (bc.total)
        ke_expand(&bc, in[0]->data, out[0]->data, ke_dtype_size(out[0]->dtype));
    return KE_OK;
}
