/* kk_backend_ops: the nodes the CUDA backend runs natively. Each handler
 * checks everything it needs (dtypes, attributes, layouts) BEFORE launching
 * anything and returns KE_ERR_UNSUPPORTED otherwise, so the node falls back
 * to the CPU kernel with identical semantics. */
#include <stdio.h>
#include <string.h>

#include "kk_backend_impl.h"
#include "kk_conv.h"
#include "kk_convert.h"
#include "kk_elementwise.h"
#include "kk_movement.h"
#include "kk_reduce.h"
#include "kk_rownorm.h"

#define UNSUP KE_ERR_UNSUPPORTED

typedef struct {
    kk_bk_t *c;
    const ke_node_info_t *node;
    const ke_tensor_t *const *in;
    int n_in;
    ke_tensor_t *const *out;
    int n_out;
    char *err;
    size_t errsz;
} op_ctx_t;

static ke_status_t kk_fail(op_ctx_t *o, kk_status_t st) {
    if (o->err)
        snprintf(o->err, o->errsz, "cuda: %s (%s)", kk_status_str(st), kk_last_error_str());
    return KE_ERR_INTERNAL;
}
#define KK_TRY(o, call)                                                                            \
    do {                                                                                           \
        kk_status_t s_ = (call);                                                                   \
        if (s_ != KK_OK)                                                                           \
            return kk_fail((o), s_);                                                               \
    } while (0)

static const ke_tensor_t *IN(op_ctx_t *o, int i) {
    return i < o->n_in ? o->in[i] : NULL;
}
static ke_tensor_t *OUT(op_ctx_t *o, int i) {
    return i < o->n_out ? o->out[i] : NULL;
}
static int f32(const ke_tensor_t *t) {
    return t && t->dtype == KE_DT_F32;
}
static int64_t iattr(op_ctx_t *o, const char *n, int64_t d) {
    return ke_attr_int(o->node->attrs, n, d);
}
static float fattr(op_ctx_t *o, const char *n, float d) {
    return ke_attr_float(o->node->attrs, n, d);
}
static int only_out0(op_ctx_t *o) {
    for (int i = 1; i < o->n_out; i++)
        if (o->out[i])
            return 0;
    return OUT(o, 0) && kk_bk_is_device(OUT(o, 0)->data);
}
static int64_t prod(const int64_t *d, int from, int to) {
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= d[i];
    return p;
}
static int copyable(size_t es) {
    return es == 1 || es == 2 || es == 4 || es == 8;
}
static int norm_axis(int64_t a, int rank) {
    return (int)(a < 0 ? a + rank : a);
}

static int act_of(op_ctx_t *o, kk_unop_t *act, float *alpha) {
    int64_t a = iattr(o, "ke_act", KE_ACT_NONE);
    *alpha = fattr(o, "ke_act_alpha", 0.01f);
    switch (a) {
    case KE_ACT_NONE: *act = KK_UN_IDENTITY; return 1;
    case KE_ACT_RELU: *act = KK_UN_RELU; return 1;
    case KE_ACT_SIGMOID: *act = KK_UN_SIGMOID; return 1;
    case KE_ACT_TANH: *act = KK_UN_TANH; return 1;
    case KE_ACT_GELU: *act = KK_UN_GELU; return 1;
    case KE_ACT_LEAKY_RELU: *act = KK_UN_LEAKY_RELU; return 1;
    }
    return 0;
}

/* ---- elementwise -------------------------------------------------------- */

static ke_status_t op_binary(op_ctx_t *o, kk_binop_t op) {
    const ke_tensor_t *a = IN(o, 0), *b = IN(o, 1);
    ke_tensor_t *y = OUT(o, 0);
    if (o->n_in != 2 || !f32(a) || !f32(b) || !f32(y) || !only_out0(o))
        return UNSUP;
    const float *da = kk_bk_dev_input(o->c, a), *db = kk_bk_dev_input(o->c, b);
    int64_t as[KK_MAX_RANK], bs[KK_MAX_RANK];
    if (!da || !db || kk_broadcast_strides(a->shape, a->rank, y->shape, y->rank, as) != KK_OK ||
        kk_broadcast_strides(b->shape, b->rank, y->shape, y->rank, bs) != KK_OK)
        return UNSUP;
    KK_TRY(o, kk_binary_launch(op, da, as, db, bs, y->data, y->shape, y->rank, o->c->stream));
    return KE_OK;
}

static ke_status_t op_unary(op_ctx_t *o, kk_unop_t op, float alpha, float beta) {
    const ke_tensor_t *x = IN(o, 0);
    ke_tensor_t *y = OUT(o, 0);
    if (!f32(x) || !f32(y) || !only_out0(o))
        return UNSUP;
    const float *dx = kk_bk_dev_input(o->c, x);
    if (!dx)
        return UNSUP;
    KK_TRY(o, kk_unary_launch(op, dx, y->data, ke_tensor_numel(y), alpha, beta, o->c->stream));
    return KE_OK;
}

/* ---- GEMMs -------------------------------------------------------------- */

/* A GEMM operand in the backend's operand type: the float32 device data as
 * is (FP32/TF32); for FP16/BF16 a host constant's converted copy (made
 * once, cached with the mirror) or device activations converted into
 * scratch `slot` on every call. t: the tensor the data came from (NULL for
 * scratch data such as im2col columns); n: elements. NULL on failure. */
static const void *lower(op_ctx_t *o, const float *f32, int64_t n, const ke_tensor_t *t, int slot) {
    kk_bk_t *c = o->c;
    if (c->gemm_type == KK_GEMM_T_F32)
        return f32;
    if (t && t->data && !kk_bk_is_device(t->data))
        return kk_bk_const_converted(c, t->data, ke_tensor_nbytes(t), f32, c->gemm_type);
    void *dst = kk_bk_scratch(c, slot, (size_t)n * 2);
    if (!dst || kk_convert_launch(c->gemm_type, f32, dst, n, c->stream) != KK_OK)
        return NULL;
    return dst;
}

static kk_status_t gemm(op_ctx_t *o, int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                        const void *A, int64_t lda, int64_t sa, const void *B, int64_t ldb,
                        int64_t sb, float beta, float *C, int64_t ldc, int64_t sc, int64_t batch) {
    return kk_gemm_ex_batched(o->c->gemm, o->c->gemm_type, ta, tb, M, N, K, alpha, A, lda, sa, B,
                              ldb, sb, beta, C, ldc, sc, batch);
}

static ke_status_t op_gemm(op_ctx_t *o) {
    const ke_tensor_t *a = IN(o, 0), *b = IN(o, 1), *cc = IN(o, 2);
    ke_tensor_t *y = OUT(o, 0);
    kk_unop_t act;
    float act_alpha;
    if (!f32(a) || !f32(b) || !f32(y) || a->rank != 2 || b->rank != 2 || !only_out0(o) ||
        !act_of(o, &act, &act_alpha))
        return UNSUP;
    int ta = (int)iattr(o, "transA", 0), tb = (int)iattr(o, "transB", 0);
    float alpha = fattr(o, "alpha", 1.f), beta = fattr(o, "beta", 1.f);
    int64_t M = ta ? a->shape[1] : a->shape[0], K = ta ? a->shape[0] : a->shape[1];
    int64_t N = tb ? b->shape[0] : b->shape[1];
    if ((tb ? b->shape[1] : b->shape[0]) != K || y->rank != 2 || y->shape[0] != M ||
        y->shape[1] != N || !kk_gemm_args_ok(ta, tb, M, N, K, a->shape[1], b->shape[1], N, 1))
        return UNSUP; /* empty or odd shapes: the CPU kernel handles them */
    const float *da = kk_bk_dev_input(o->c, a), *db = kk_bk_dev_input(o->c, b), *dc = NULL;
    if (!da || !db)
        return UNSUP;
    int bias_row = 0, full_c = 0;
    if (cc && beta != 0.f) {
        if (!f32(cc) || !(dc = kk_bk_dev_input(o->c, cc)))
            return UNSUP;
        int64_t cn = ke_tensor_numel(cc);
        if (cn == N && (cc->rank == 1 || (cc->rank == 2 && cc->shape[0] == 1)) && beta == 1.f)
            bias_row = 1;
        else if (cc->rank == 2 && cc->shape[0] == M && cc->shape[1] == N)
            full_c = 1;
        else
            return UNSUP;
    }
    const void *la = lower(o, da, ke_tensor_numel(a), a, KK_SCRATCH_A16);
    const void *lb = la ? lower(o, db, ke_tensor_numel(b), b, KK_SCRATCH_B16) : NULL;
    if (!la || !lb)
        return UNSUP;
    if (full_c)
        KK_TRY(o, kk_memcpy_d2d(y->data, dc, (size_t)(M * N) * sizeof(float), o->c->stream));
    KK_TRY(o, gemm(o, ta, tb, M, N, K, alpha, la, a->shape[1], 0, lb, b->shape[1], 0,
                   full_c ? beta : 0.f, y->data, N, 0, 1));
    if (bias_row || act != KK_UN_IDENTITY)
        KK_TRY(o, kk_bias_act_launch(y->data, bias_row ? dc : NULL, M, N, act, act_alpha, 0.f,
                                     o->c->stream));
    return KE_OK;
}

static ke_status_t op_matmul(op_ctx_t *o) {
    const ke_tensor_t *a = IN(o, 0), *b = IN(o, 1), *bias = IN(o, 2);
    ke_tensor_t *y = OUT(o, 0);
    kk_unop_t act;
    float act_alpha;
    if (!f32(a) || !f32(b) || !f32(y) || a->rank < 2 || b->rank < 2 || !only_out0(o) ||
        !act_of(o, &act, &act_alpha))
        return UNSUP;
    /* Transposes or a scale the fusion pass folded in: CPU kernel */
    if (ke_attr_find(o->node->attrs, "ke_perm_a") || ke_attr_find(o->node->attrs, "ke_perm_b") ||
        ke_attr_find(o->node->attrs, "ke_perm_y") || ke_attr_find(o->node->attrs, "ke_alpha"))
        return UNSUP;
    int64_t K = a->shape[a->rank - 1], N = b->shape[b->rank - 1];
    if (b->shape[b->rank - 2] != K || K < 1 || N < 1 || ke_tensor_numel(y) < 1)
        return UNSUP;
    const float *da = kk_bk_dev_input(o->c, a), *db = kk_bk_dev_input(o->c, b), *dbias = NULL;
    if (!da || !db)
        return UNSUP;
    if (bias &&
        (!f32(bias) || ke_tensor_numel(bias) != N || !(dbias = kk_bk_dev_input(o->c, bias))))
        return UNSUP;
    int64_t rows = ke_tensor_numel(y) / N;
    if (b->rank == 2) { /* weights: one GEMM over all leading rows of A */
        int64_t M = ke_tensor_numel(a) / K;
        if (M != rows || !kk_gemm_args_ok(0, 0, M, N, K, K, N, N, 1))
            return UNSUP;
        const void *la = lower(o, da, ke_tensor_numel(a), a, KK_SCRATCH_A16);
        const void *lb = la ? lower(o, db, ke_tensor_numel(b), b, KK_SCRATCH_B16) : NULL;
        if (!la || !lb)
            return UNSUP;
        KK_TRY(o, gemm(o, 0, 0, M, N, K, 1.f, la, K, 0, lb, N, 0, 0.f, y->data, N, 0, 1));
    } else {
        if (a->rank != b->rank || y->rank != a->rank)
            return UNSUP;
        int64_t ba = prod(a->shape, 0, a->rank - 2), bb = prod(b->shape, 0, b->rank - 2);
        int64_t M = a->shape[a->rank - 2];
        for (int i = 0; i < a->rank - 2; i++)
            if (a->shape[i] != b->shape[i] && !(ba == 1 || bb == 1))
                return UNSUP;
        int64_t batch = ba > bb ? ba : bb;
        if (batch * M != rows || !kk_gemm_args_ok(0, 0, M, N, K, K, N, N, batch))
            return UNSUP;
        const void *la = lower(o, da, ke_tensor_numel(a), a, KK_SCRATCH_A16);
        const void *lb = la ? lower(o, db, ke_tensor_numel(b), b, KK_SCRATCH_B16) : NULL;
        if (!la || !lb)
            return UNSUP;
        KK_TRY(o, gemm(o, 0, 0, M, N, K, 1.f, la, K, ba == 1 ? 0 : M * K, lb, N,
                       bb == 1 ? 0 : K * N, 0.f, y->data, N, M * N, batch));
    }
    if (dbias || act != KK_UN_IDENTITY)
        KK_TRY(o, kk_bias_act_launch(y->data, dbias, rows, N, act, act_alpha, 0.f, o->c->stream));
    return KE_OK;
}

/* ---- rows: softmax, layernorm, reductions -------------------------------- */

static ke_status_t op_softmax(op_ctx_t *o, int log_sm) {
    const ke_tensor_t *x = IN(o, 0);
    ke_tensor_t *y = OUT(o, 0);
    if (!f32(x) || !f32(y) || x->rank < 1 || !only_out0(o))
        return UNSUP;
    int axis = norm_axis(iattr(o, "axis", o->node->opset >= 13 ? -1 : 1), x->rank);
    if (axis < 0 || axis >= x->rank)
        return UNSUP;
    if (o->node->opset >= 13 && axis != x->rank - 1)
        return UNSUP; /* single inner axis only */
    int64_t cols = prod(x->shape, axis, x->rank), rows = ke_tensor_numel(x) / (cols ? cols : 1);
    const float *dx = kk_bk_dev_input(o->c, x);
    if (!dx || cols <= 0)
        return UNSUP;
    KK_TRY(o, kk_softmax_launch(dx, y->data, rows, cols, log_sm, o->c->stream));
    return KE_OK;
}

static ke_status_t op_layernorm(op_ctx_t *o) {
    const ke_tensor_t *x = IN(o, 0), *g = IN(o, 1), *b = IN(o, 2);
    ke_tensor_t *y = OUT(o, 0);
    if (!f32(x) || !f32(g) || !f32(y) || (b && !f32(b)) || !only_out0(o) || x->rank < 1)
        return UNSUP;
    int axis = norm_axis(iattr(o, "axis", -1), x->rank);
    if (axis < 0 || axis >= x->rank)
        return UNSUP;
    int64_t cols = prod(x->shape, axis, x->rank), rows = ke_tensor_numel(x) / (cols ? cols : 1);
    if (ke_tensor_numel(g) != cols || (b && ke_tensor_numel(b) != cols))
        return UNSUP;
    const float *dx = kk_bk_dev_input(o->c, x), *dg = kk_bk_dev_input(o->c, g);
    const float *dbeta = b ? kk_bk_dev_input(o->c, b) : NULL;
    if (!dx || !dg || (b && !dbeta))
        return UNSUP;
    KK_TRY(o, kk_layernorm_launch(dx, dg, dbeta, y->data, rows, cols, fattr(o, "epsilon", 1e-5f),
                                  o->c->stream));
    return KE_OK;
}

/* Reduce over one contiguous block of axes given by the "axes" attribute
 * (all axes when absent). */
static ke_status_t op_reduce(op_ctx_t *o, kk_reduce_op_t op) {
    const ke_tensor_t *x = IN(o, 0);
    ke_tensor_t *y = OUT(o, 0);
    if (!f32(x) || !f32(y) || o->n_in > 1 || !only_out0(o) || x->rank < 1)
        return UNSUP;
    const int64_t *axes = NULL;
    int64_t na = ke_attr_ints(o->node->attrs, "axes", &axes);
    int lo = 0, hi = x->rank - 1;
    if (na <= 0 && iattr(o, "noop_with_empty_axes", 0) != 0)
        return UNSUP; /* identity in ONNX: the CPU kernel does it */
    if (na > 0) {
        int mark[KE_MAX_RANK] = {0};
        lo = x->rank;
        hi = -1;
        for (int64_t i = 0; i < na; i++) {
            int a = norm_axis(axes[i], x->rank);
            if (a < 0 || a >= x->rank)
                return UNSUP;
            mark[a] = 1;
            lo = a < lo ? a : lo;
            hi = a > hi ? a : hi;
        }
        for (int a = lo; a <= hi; a++)
            if (!mark[a])
                return UNSUP;
    }
    const float *dx = kk_bk_dev_input(o->c, x);
    int64_t outer = prod(x->shape, 0, lo), n = prod(x->shape, lo, hi + 1),
            inner = prod(x->shape, hi + 1, x->rank);
    if (!dx || n <= 0 || inner <= 0)
        return UNSUP;
    KK_TRY(o, kk_reduce_launch(op, dx, y->data, outer, n, inner, o->c->stream));
    return KE_OK;
}

static ke_status_t op_global_avgpool(op_ctx_t *o) {
    const ke_tensor_t *x = IN(o, 0);
    ke_tensor_t *y = OUT(o, 0);
    if (!f32(x) || !f32(y) || x->rank < 3 || !only_out0(o))
        return UNSUP;
    const float *dx = kk_bk_dev_input(o->c, x);
    int64_t n = prod(x->shape, 2, x->rank);
    if (!dx || n <= 0)
        return UNSUP;
    KK_TRY(o, kk_reduce_launch(KK_REDUCE_MEAN, dx, y->data, x->shape[0] * x->shape[1], n, 1,
                               o->c->stream));
    return KE_OK;
}

static ke_status_t op_argmax(op_ctx_t *o) {
    const ke_tensor_t *x = IN(o, 0);
    ke_tensor_t *y = OUT(o, 0);
    if (!f32(x) || !y || y->dtype != KE_DT_I64 || !only_out0(o) || x->rank < 1 ||
        iattr(o, "select_last_index", 0) != 0)
        return UNSUP;
    int axis = norm_axis(iattr(o, "axis", 0), x->rank);
    const float *dx = kk_bk_dev_input(o->c, x);
    if (!dx || axis < 0 || axis >= x->rank || x->shape[axis] <= 0)
        return UNSUP;
    KK_TRY(o, kk_argmax_launch(dx, y->data, prod(x->shape, 0, axis), x->shape[axis],
                               prod(x->shape, axis + 1, x->rank), o->c->stream));
    return KE_OK;
}

/* ---- data movement ------------------------------------------------------ */

static void contiguous_strides(const int64_t *shape, int rank, int64_t *st) {
    int64_t s = 1;
    for (int k = rank - 1; k >= 0; k--) {
        st[k] = s;
        s *= shape[k];
    }
}

static ke_status_t op_transpose(op_ctx_t *o) {
    const ke_tensor_t *x = IN(o, 0);
    ke_tensor_t *y = OUT(o, 0);
    if (!x || !y || !only_out0(o) || x->rank != y->rank || x->dtype != y->dtype ||
        !copyable(ke_dtype_size(x->dtype)))
        return UNSUP;
    const void *dx = kk_bk_dev_input(o->c, x);
    if (!dx)
        return UNSUP;
    int64_t perm[KE_MAX_RANK], in_st[KE_MAX_RANK], src[KE_MAX_RANK], dst[KE_MAX_RANK];
    const int64_t *pa = NULL;
    int64_t np = ke_attr_ints(o->node->attrs, "perm", &pa);
    for (int k = 0; k < x->rank; k++)
        perm[k] = np == x->rank ? pa[k] : x->rank - 1 - k;
    contiguous_strides(x->shape, x->rank, in_st);
    for (int k = 0; k < x->rank; k++) {
        if (perm[k] < 0 || perm[k] >= x->rank)
            return UNSUP;
        src[k] = in_st[perm[k]];
    }
    contiguous_strides(y->shape, y->rank, dst);
    KK_TRY(o, kk_strided_copy(dx, 0, src, y->data, 0, dst, y->shape, y->rank,
                              ke_dtype_size(x->dtype), o->c->stream));
    return KE_OK;
}

static ke_status_t op_concat(op_ctx_t *o) {
    ke_tensor_t *y = OUT(o, 0);
    if (!y || !only_out0(o) || o->n_in < 1 || !copyable(ke_dtype_size(y->dtype)))
        return UNSUP;
    int axis = norm_axis(iattr(o, "axis", 0), y->rank);
    if (axis < 0 || axis >= y->rank)
        return UNSUP;
    const void *src[64];
    if (o->n_in > 64)
        return UNSUP;
    for (int i = 0; i < o->n_in; i++)
        if (!o->in[i] || o->in[i]->dtype != y->dtype || o->in[i]->rank != y->rank ||
            !(src[i] = kk_bk_dev_input(o->c, o->in[i])))
            return UNSUP;
    int64_t dst_st[KE_MAX_RANK], off = 0;
    contiguous_strides(y->shape, y->rank, dst_st);
    for (int i = 0; i < o->n_in; i++) {
        const ke_tensor_t *x = o->in[i];
        int64_t st[KE_MAX_RANK];
        contiguous_strides(x->shape, x->rank, st);
        if (ke_tensor_numel(x) > 0)
            KK_TRY(o, kk_strided_copy(src[i], 0, st, y->data, off * dst_st[axis], dst_st, x->shape,
                                      x->rank, ke_dtype_size(y->dtype), o->c->stream));
        off += x->shape[axis];
    }
    return KE_OK;
}

/* Out-of-range indices fail the node as on the CPU: the kernel raises a
 * device flag that is read back before returning (one stream sync per
 * Gather node: it costs the host/device overlap after it, not the
 * correctness). */
static ke_status_t op_gather(op_ctx_t *o) {
    const ke_tensor_t *x = IN(o, 0), *idx = IN(o, 1);
    ke_tensor_t *y = OUT(o, 0);
    if (!x || !idx || !y || idx->dtype != KE_DT_I64 || !only_out0(o) || x->rank < 1 ||
        x->dtype != y->dtype || !copyable(ke_dtype_size(x->dtype)))
        return UNSUP;
    int axis = norm_axis(iattr(o, "axis", 0), x->rank);
    const void *dx = kk_bk_dev_input(o->c, x);
    const int64_t *di = kk_bk_is_device(idx->data) ? idx->data : NULL;
    if (!dx || !di || axis < 0 || axis >= x->rank || x->shape[axis] <= 0)
        return UNSUP;
    int64_t inner = prod(x->shape, axis + 1, x->rank), m = ke_tensor_numel(idx);
    int64_t outer = prod(x->shape, 0, axis);
    if (inner <= 0 || outer * m * inner != ke_tensor_numel(y))
        return UNSUP;
    kk_bk_t *c = o->c;
    KK_TRY(o, kk_memset(c->d_flag, 0, sizeof(int), c->stream));
    KK_TRY(o, kk_gather_launch(dx, di, y->data, outer, x->shape[axis], m, inner,
                               ke_dtype_size(x->dtype), c->d_flag, c->stream));
    KK_TRY(o, kk_memcpy_d2h(c->h_flag, c->d_flag, sizeof(int), c->stream));
    KK_TRY(o, kk_stream_sync(c->stream));
    if (*c->h_flag) {
        if (o->err)
            snprintf(o->err, o->errsz, "index out of range [-%lld, %lld)",
                     (long long)x->shape[axis], (long long)x->shape[axis]);
        return KE_ERR_INVALID_ARG;
    }
    return KE_OK;
}

/* ---- convolution and pooling -------------------------------------------- */

static int geom_from_attrs(op_ctx_t *o, const ke_tensor_t *x, int64_t kh, int64_t kw,
                           kk_conv2d_geom_t *g) {
    const char *ap = ke_attr_string(o->node->attrs, "auto_pad", "NOTSET");
    if (strcmp(ap, "NOTSET") != 0 || iattr(o, "ceil_mode", 0) != 0 || x->rank != 4)
        return 0;
    const int64_t *v = NULL;
    memset(g, 0, sizeof *g);
    g->c = x->shape[1];
    g->h = x->shape[2];
    g->w = x->shape[3];
    g->kh = kh;
    g->kw = kw;
    g->stride_h = g->stride_w = g->dil_h = g->dil_w = 1;
    if (ke_attr_ints(o->node->attrs, "strides", &v) == 2)
        g->stride_h = v[0], g->stride_w = v[1];
    if (ke_attr_ints(o->node->attrs, "dilations", &v) == 2)
        g->dil_h = v[0], g->dil_w = v[1];
    int64_t np = ke_attr_ints(o->node->attrs, "pads", &v);
    if (np == 4)
        g->pad_t = v[0], g->pad_l = v[1], g->pad_b = v[2], g->pad_r = v[3];
    else if (np > 0)
        return 0;
    return kk_conv2d_out_size(g) == KK_OK;
}

/* im2col columns are built for a chunk of images at a time so the column
 * scratch stays under this many bytes (one image always fits). */
#define KK_CONV_COL_CAP ((size_t)256 << 20)

static ke_status_t op_conv(op_ctx_t *o) {
    const ke_tensor_t *x = IN(o, 0), *w = IN(o, 1), *b = IN(o, 2);
    ke_tensor_t *y = OUT(o, 0);
    kk_unop_t act;
    float act_alpha;
    if (!f32(x) || !f32(w) || !f32(y) || (b && !f32(b)) || w->rank != 4 || !only_out0(o) ||
        !act_of(o, &act, &act_alpha))
        return UNSUP;
    int64_t groups = iattr(o, "group", 1), N = x->shape[0], M = w->shape[0];
    kk_conv2d_geom_t g;
    if (groups < 1 || x->rank != 4 || y->rank != 4 || x->shape[1] % groups || M % groups || N < 1 ||
        M < 1 || !geom_from_attrs(o, x, w->shape[2], w->shape[3], &g) || y->shape[0] != N ||
        y->shape[1] != M || y->shape[2] != g.oh || y->shape[3] != g.ow)
        return UNSUP;
    g.c = x->shape[1] / groups;
    if (w->shape[1] != g.c || (b && ke_tensor_numel(b) != M))
        return UNSUP;
    int64_t ckk = g.c * g.kh * g.kw, ohw = g.oh * g.ow, mg = M / groups;
    int64_t img_stride = x->shape[1] * g.h * g.w;
    if (!kk_gemm_args_ok(0, 0, mg, ohw, ckk, ckk, ohw, ohw, N))
        return UNSUP;
    const float *dx = kk_bk_dev_input(o->c, x), *dw = kk_bk_dev_input(o->c, w);
    const float *db = b ? kk_bk_dev_input(o->c, b) : NULL;
    if (!dx || !dw || (b && !db))
        return UNSUP;
    const char *lw = lower(o, dw, ke_tensor_numel(w), w, KK_SCRATCH_A16);
    if (!lw)
        return UNSUP;
    size_t esz = o->c->gemm_type == KK_GEMM_T_F32 ? 4 : 2; /* operand element bytes */
    size_t per_img = (size_t)(ckk * ohw) * sizeof(float);
    int64_t chunk = (int64_t)(KK_CONV_COL_CAP / per_img);
    if (chunk < 1)
        chunk = 1;
    if (chunk > N)
        chunk = N;
    float *col = kk_bk_scratch(o->c, KK_SCRATCH_COL, (size_t)chunk * per_img);
    if (!col)
        return kk_fail(o, KK_ERR_NOMEM);
    float *dy = y->data;
    for (int64_t n0 = 0; n0 < N; n0 += chunk) {
        int64_t cnt = N - n0 < chunk ? N - n0 : chunk;
        for (int64_t gi = 0; gi < groups; gi++) {
            KK_TRY(o, kk_im2col_batch_launch(dx + n0 * img_stride + gi * g.c * g.h * g.w,
                                             img_stride, cnt, &g, col, o->c->stream));
            const void *lcol = lower(o, col, cnt * ckk * ohw, NULL, KK_SCRATCH_B16);
            if (!lcol)
                return kk_fail(o, KK_ERR_NOMEM);
            /* Y[n, gi*mg .. , :] = W_g[mg, ckk] @ col_n[ckk, ohw] for every image n */
            KK_TRY(o, gemm(o, 0, 0, mg, ohw, ckk, 1.f, lw + (size_t)(gi * mg * ckk) * esz, ckk, 0,
                           lcol, ohw, ckk * ohw, 0.f, dy + (n0 * M + gi * mg) * ohw, ohw, M * ohw,
                           cnt));
        }
    }
    if (db || act != KK_UN_IDENTITY)
        KK_TRY(o, kk_chan_bias_act_launch(dy, db, N, M, ohw, act, act_alpha, 0.f, o->c->stream));
    return KE_OK;
}

static ke_status_t op_pool(op_ctx_t *o, kk_pool_kind_t kind) {
    const ke_tensor_t *x = IN(o, 0);
    ke_tensor_t *y = OUT(o, 0);
    const int64_t *ks = NULL;
    if (!f32(x) || !f32(y) || !only_out0(o) || x->rank != 4 ||
        ke_attr_ints(o->node->attrs, "kernel_shape", &ks) != 2 || iattr(o, "storage_order", 0) != 0)
        return UNSUP;
    kk_conv2d_geom_t g;
    if (!geom_from_attrs(o, x, ks[0], ks[1], &g) || y->shape[2] != g.oh || y->shape[3] != g.ow)
        return UNSUP;
    const float *dx = kk_bk_dev_input(o->c, x);
    if (!dx)
        return UNSUP;
    KK_TRY(o, kk_pool2d_launch(kind, dx, y->data, x->shape[0] * x->shape[1], &g,
                               (int)iattr(o, "count_include_pad", 0), o->c->stream));
    return KE_OK;
}

/* ---- dispatch ------------------------------------------------------------ */

ke_status_t kk_bk_run_native(kk_bk_t *c, const ke_node_info_t *node, const ke_tensor_t *const *in,
                             int n_in, ke_tensor_t *const *out, int n_out, char *err,
                             size_t errsz) {
    if (node->domain && node->domain[0] && strcmp(node->domain, "ai.onnx") != 0)
        return UNSUP;
    op_ctx_t o = {c, node, in, n_in, out, n_out, err, errsz};
    const char *t = node->op_type;
    if (!strcmp(t, "Gemm"))
        return op_gemm(&o);
    if (!strcmp(t, "MatMul"))
        return op_matmul(&o);
    if (!strcmp(t, "Conv"))
        return op_conv(&o);
    if (!strcmp(t, "Add"))
        return op_binary(&o, KK_BIN_ADD);
    if (!strcmp(t, "Sub"))
        return op_binary(&o, KK_BIN_SUB);
    if (!strcmp(t, "Mul"))
        return op_binary(&o, KK_BIN_MUL);
    if (!strcmp(t, "Div"))
        return op_binary(&o, KK_BIN_DIV);
    if (!strcmp(t, "Pow"))
        return op_binary(&o, KK_BIN_POW);
    if (!strcmp(t, "Min"))
        return op_binary(&o, KK_BIN_MIN);
    if (!strcmp(t, "Max"))
        return op_binary(&o, KK_BIN_MAX);
    if (!strcmp(t, "Relu"))
        return op_unary(&o, KK_UN_RELU, 0, 0);
    if (!strcmp(t, "LeakyRelu"))
        return op_unary(&o, KK_UN_LEAKY_RELU, fattr(&o, "alpha", 0.01f), 0);
    if (!strcmp(t, "Sigmoid"))
        return op_unary(&o, KK_UN_SIGMOID, 0, 0);
    if (!strcmp(t, "Tanh"))
        return op_unary(&o, KK_UN_TANH, 0, 0);
    if (!strcmp(t, "Erf"))
        return op_unary(&o, KK_UN_ERF, 0, 0);
    if (!strcmp(t, "Sqrt"))
        return op_unary(&o, KK_UN_SQRT, 0, 0);
    if (!strcmp(t, "Neg"))
        return op_unary(&o, KK_UN_NEG, 0, 0);
    if (!strcmp(t, "Gelu")) {
        if (strcmp(ke_attr_string(node->attrs, "approximate", "none"), "none") != 0)
            return UNSUP;
        return op_unary(&o, KK_UN_GELU, 0, 0);
    }
    if (!strcmp(t, "Softmax"))
        return op_softmax(&o, 0);
    if (!strcmp(t, "LogSoftmax"))
        return op_softmax(&o, 1);
    if (!strcmp(t, "LayerNormalization"))
        return op_layernorm(&o);
    if (!strcmp(t, "ReduceMean"))
        return op_reduce(&o, KK_REDUCE_MEAN);
    if (!strcmp(t, "ReduceSum") && node->opset < 13)
        return op_reduce(&o, KK_REDUCE_SUM);
    if (!strcmp(t, "GlobalAveragePool"))
        return op_global_avgpool(&o);
    if (!strcmp(t, "MaxPool"))
        return op_pool(&o, KK_POOL_MAX);
    if (!strcmp(t, "AveragePool"))
        return op_pool(&o, KK_POOL_AVG);
    if (!strcmp(t, "ArgMax"))
        return op_argmax(&o);
    if (!strcmp(t, "Transpose"))
        return op_transpose(&o);
    if (!strcmp(t, "Concat"))
        return op_concat(&o);
    if (!strcmp(t, "Gather"))
        return op_gather(&o);
    return UNSUP;
}
