/* Fusion passes on small graphs with fake op rows: decomposed GELU and
 * LayerNorm are recognised, MatMul takes the bias Add and the activation,
 * and the fused graph computes the same numbers as the unfused one. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include "engine.h"
#include "fake_ops.h"
#include "onnx_build.h"

/* elementwise binary with scalar / last-dim broadcast of input 1 */
static ke_status_t fz_bin_run(const ke_node_info_t *n, const void *st, const ke_tensor_t *const *in,
                              int n_in, ke_tensor_t *const *out, int n_out, ke_exec_ctx_t *x) {
    (void)st;
    (void)n_in;
    (void)n_out;
    (void)x;
    int64_t na = ke_tensor_numel(in[0]), nb = ke_tensor_numel(in[1]);
    const float *a = in[0]->data, *b = in[1]->data;
    float *y = out[0]->data;
    char op = n->op_type[0];
    for (int64_t i = 0; i < na; i++) {
        float u = a[i], v = b[i % nb];
        y[i] = op == 'A'   ? u + v
               : op == 'S' ? u - v
               : op == 'M' ? u * v
               : op == 'D' ? u / v
                           : powf(u, v);
    }
    return KE_OK;
}

static ke_status_t fz_unary_run(const ke_node_info_t *n, const void *st,
                                const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                                int n_out, ke_exec_ctx_t *x) {
    (void)st;
    (void)n_in;
    (void)n_out;
    (void)x;
    int64_t na = ke_tensor_numel(in[0]);
    const float *a = in[0]->data;
    float *y = out[0]->data;
    for (int64_t i = 0; i < na; i++) {
        float u = a[i];
        if (!strcmp(n->op_type, "Erf"))
            y[i] = erff(u);
        else if (!strcmp(n->op_type, "Sqrt"))
            y[i] = sqrtf(u);
        else if (!strcmp(n->op_type, "Gelu"))
            y[i] = 0.5f * u * (1.0f + erff(u / sqrtf(2.0f)));
        else
            y[i] = u > 0 ? u : 0;
    }
    return KE_OK;
}

static ke_status_t fz_rmean_infer(const ke_node_info_t *n, const ke_tensor_t *const *in, int n_in,
                                  ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    (void)n;
    (void)n_in;
    (void)n_out;
    (void)err;
    (void)errsz;
    *out[0] = *in[0];
    out[0]->shape[in[0]->rank - 1] = 1;
    return KE_OK;
}

static ke_status_t fz_rmean_run(const ke_node_info_t *n, const void *st,
                                const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                                int n_out, ke_exec_ctx_t *x) {
    (void)n;
    (void)st;
    (void)n_in;
    (void)n_out;
    (void)x;
    int64_t D = in[0]->shape[in[0]->rank - 1], rows = ke_tensor_numel(in[0]) / D;
    for (int64_t r = 0; r < rows; r++) {
        float s = 0;
        for (int64_t k = 0; k < D; k++)
            s += ((const float *)in[0]->data)[r * D + k];
        ((float *)out[0]->data)[r] = s / (float)D;
    }
    return KE_OK;
}

/* Sub/Div/Mul with the second input broadcast from [..,1] (per row) */
static ke_status_t fz_rowbin_run(const ke_node_info_t *n, const void *st,
                                 const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                                 int n_out, ke_exec_ctx_t *x) {
    if (in[1]->rank == in[0]->rank && in[1]->shape[in[1]->rank - 1] == 1 &&
        in[0]->shape[in[0]->rank - 1] != 1) {
        int64_t D = in[0]->shape[in[0]->rank - 1], rows = ke_tensor_numel(in[0]) / D;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t k = 0; k < D; k++) {
                float u = ((const float *)in[0]->data)[r * D + k],
                      v = ((const float *)in[1]->data)[r];
                ((float *)out[0]->data)[r * D + k] = n->op_type[0] == 'S' ? u - v : u / v;
            }
        return KE_OK;
    }
    return fz_bin_run(n, st, in, n_in, out, n_out, x);
}

static ke_status_t fz_ln_run(const ke_node_info_t *n, const void *st, const ke_tensor_t *const *in,
                             int n_in, ke_tensor_t *const *out, int n_out, ke_exec_ctx_t *x) {
    (void)st;
    (void)n_in;
    (void)n_out;
    (void)x;
    float eps = ke_attr_float(n->attrs, "epsilon", 1e-5f);
    int64_t D = in[0]->shape[in[0]->rank - 1], rows = ke_tensor_numel(in[0]) / D;
    const float *a = in[0]->data, *g = in[1]->data, *b = in[2]->data;
    for (int64_t r = 0; r < rows; r++) {
        float m = 0, v = 0;
        for (int64_t k = 0; k < D; k++)
            m += a[r * D + k];
        m /= (float)D;
        for (int64_t k = 0; k < D; k++)
            v += (a[r * D + k] - m) * (a[r * D + k] - m);
        v /= (float)D;
        for (int64_t k = 0; k < D; k++)
            ((float *)out[0]->data)[r * D + k] = (a[r * D + k] - m) / sqrtf(v + eps) * g[k] + b[k];
    }
    return KE_OK;
}

static ke_status_t fz_mm_run(const ke_node_info_t *n, const void *st, const ke_tensor_t *const *in,
                             int n_in, ke_tensor_t *const *out, int n_out, ke_exec_ctx_t *x) {
    ke_status_t s = fk_matmul_run(n, st, in, 2, out, n_out, x);
    int64_t act = ke_attr_int(n->attrs, "ke_act", KE_ACT_NONE);
    int64_t N = out[0]->shape[1], total = ke_tensor_numel(out[0]);
    float *y = out[0]->data;
    for (int64_t i = 0; i < total; i++) {
        if (n_in > 2 && in[2])
            y[i] += ((const float *)in[2]->data)[i % N];
        if (act == KE_ACT_RELU)
            y[i] = y[i] > 0 ? y[i] : 0;
        else if (act == KE_ACT_GELU)
            y[i] = 0.5f * y[i] * (1.0f + erff(y[i] / sqrtf(2.0f)));
        else if (act != KE_ACT_NONE)
            return KE_ERR_UNSUPPORTED;
    }
    return s;
}

static ke_status_t fz_bin_infer(const ke_node_info_t *n, const ke_tensor_t *const *in, int n_in,
                                ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    const ke_tensor_t *a = in[0], *b = in[1];
    if (b->rank == a->rank && a->rank > 0 && b->shape[b->rank - 1] == 1) {
        for (int i = 0; i + 1 < a->rank; i++)
            if (a->shape[i] != b->shape[i])
                return KE_ERR_SHAPE;
        *out[0] = *a;
        return KE_OK;
    }
    return fk_same_infer(n, in, n_in, out, n_out, err, errsz);
}

static const ke_op_def_t k_ops[] = {
    {"Add", "", 7, 0, 0, fk_same_infer, NULL, NULL, fz_bin_run},
    {"Mul", "", 7, 0, 0, fk_same_infer, NULL, NULL, fz_bin_run},
    {"Div", "", 7, 0, 0, fz_bin_infer, NULL, NULL, fz_rowbin_run},
    {"Sub", "", 7, 0, 0, fz_bin_infer, NULL, NULL, fz_rowbin_run},
    {"Pow", "", 7, 0, 0, fk_same_infer, NULL, NULL, fz_bin_run},
    {"Erf", "", 9, 0, 0, fk_same_infer, NULL, NULL, fz_unary_run},
    {"Sqrt", "", 6, 0, 0, fk_same_infer, NULL, NULL, fz_unary_run},
    {"Relu", "", 6, 0, 0, fk_same_infer, NULL, NULL, fz_unary_run},
    {"Gelu", "", 20, 0, 0, fk_same_infer, NULL, NULL, fz_unary_run},
    {"ReduceMean", "", 1, 0, 0, fz_rmean_infer, NULL, NULL, fz_rmean_run},
    {"LayerNormalization", "", 17, 0, 0, fk_same_infer, NULL, NULL, fz_ln_run},
    {"MatMul", "", 1, 0, KE_OP_FUSE_ACT, fk_matmul_infer, NULL, NULL, fz_mm_run},
};

/* x[N,8] -> LayerNorm(decomposed) -> MatMul W[8,6] -> Add b -> GELU(decomposed)
 *        -> MatMul W2[6,4] -> Add b2 -> Relu -> y */
static unsigned char *model(size_t *len) {
    static float W[48], W2[24], b[6], b2[4], g8[8], be8[8];
    for (int i = 0; i < 48; i++)
        W[i] = (float)((i * 37) % 17 - 8) / 8.0f;
    for (int i = 0; i < 24; i++)
        W2[i] = (float)((i * 29) % 13 - 6) / 6.0f;
    for (int i = 0; i < 6; i++)
        b[i] = 0.1f * (float)i - 0.2f;
    for (int i = 0; i < 4; i++)
        b2[i] = 0.05f * (float)i;
    for (int i = 0; i < 8; i++) {
        g8[i] = 1.0f + 0.1f * (float)i;
        be8[i] = 0.01f * (float)i;
    }
    static const float two = 2.0f, eps = 1e-5f, sqrt2 = 1.4142135f, one = 1.0f, half = 0.5f;
    tb_model_t m;
    tb_init(&m, 13);
    int64_t xd[2] = {-1, 8}, wd[2] = {8, 6}, w2d[2] = {6, 4}, d6[1] = {6}, d4[1] = {4}, d8[1] = {8};
    tb_input(&m, "x", 1, 2, xd);
    tb_init_f32(&m, "W", 2, wd, W, 48);
    tb_init_f32(&m, "W2", 2, w2d, W2, 24);
    tb_init_f32(&m, "b", 1, d6, b, 6);
    tb_init_f32(&m, "b2", 1, d4, b2, 4);
    tb_init_f32(&m, "gamma", 1, d8, g8, 8);
    tb_init_f32(&m, "beta", 1, d8, be8, 8);
    tb_init_f32(&m, "two", 0, NULL, &two, 1);
    tb_init_f32(&m, "eps", 0, NULL, &eps, 1);
    tb_init_f32(&m, "sqrt2", 0, NULL, &sqrt2, 1);
    tb_init_f32(&m, "one", 0, NULL, &one, 1);
    tb_init_f32(&m, "half", 0, NULL, &half, 1);
#define N(name, op, ...)                                                                           \
    do {                                                                                           \
        static const char *io[] = {__VA_ARGS__};                                                   \
        static const char *ins[8], *outs[2];                                                       \
        int k = 0, o = 0, j = 0;                                                                   \
        for (; io[j] && strcmp(io[j], "->"); j++) {                                                \
            ins[k++] = io[j];                                                                      \
        }                                                                                          \
        ins[k] = NULL;                                                                             \
        for (j++; io[j]; j++) {                                                                    \
            outs[o++] = io[j];                                                                     \
        }                                                                                          \
        outs[o] = NULL;                                                                            \
        last = tb_node(&m, name, op, ins, outs);                                                   \
    } while (0)
    Onnx__NodeProto *last;
    N("ln_mean", "ReduceMean", "x", "->", "mean", NULL);
    static const int64_t axes[1] = {-1};
    Onnx__AttributeProto *a = tb_alloc(&m, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = "axes";
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    a->n_ints = 1;
    a->ints = (int64_t *)axes;
    last->attribute[last->n_attribute++] = a;
    N("ln_sub", "Sub", "x", "mean", "->", "d", NULL);
    N("ln_pow", "Pow", "d", "two", "->", "d2", NULL);
    N("ln_var", "ReduceMean", "d2", "->", "var", NULL);
    last->attribute[last->n_attribute++] = a;
    N("ln_addeps", "Add", "var", "eps", "->", "ve", NULL);
    N("ln_sqrt", "Sqrt", "ve", "->", "sd", NULL);
    N("ln_div", "Div", "d", "sd", "->", "nrm", NULL);
    N("ln_mul", "Mul", "nrm", "gamma", "->", "sc", NULL);
    N("ln_add", "Add", "sc", "beta", "->", "ln", NULL);
    N("fc1", "MatMul", "ln", "W", "->", "h", NULL);
    N("fc1_bias", "Add", "h", "b", "->", "hb", NULL);
    N("g_div", "Div", "hb", "sqrt2", "->", "gd", NULL);
    N("g_erf", "Erf", "gd", "->", "ge", NULL);
    N("g_add", "Add", "ge", "one", "->", "ga", NULL);
    N("g_mul", "Mul", "hb", "ga", "->", "gm", NULL);
    N("g_half", "Mul", "gm", "half", "->", "gelu", NULL);
    N("fc2", "MatMul", "gelu", "W2", "->", "h2", NULL);
    N("fc2_bias", "Add", "h2", "b2", "->", "h2b", NULL);
    N("act", "Relu", "h2b", "->", "y", NULL);
#undef N
    tb_output(&m, "y");
    return tb_pack(&m, len);
}

static void run(ke_model_t *m, const float *x, int n, float *y) {
    char err[256];
    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = n;
    pp.n_threads = 1;
    ke_plan_t *p = ke_plan_new(m, &pp, err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    const void *ip[1] = {x};
    void *op[1] = {y};
    if (ke_plan_run(p, n, ip, op, err, sizeof err) != KE_OK)
        fail_msg("%s", err);
    ke_plan_free(p);
}

static void test_fuse(void **st) {
    (void)st;
    size_t len;
    unsigned char *buf = model(&len);
    ke_load_params_t lp = ke_load_default_params();
    lp.ops = k_ops;
    lp.n_ops = sizeof k_ops / sizeof k_ops[0];
    char err[512];
    lp.fuse = 0;
    ke_model_t *plain = ke_model_load_buffer(buf, len, &lp, err, sizeof err);
    if (!plain)
        fail_msg("%s", err);
    lp.fuse = 1;
    ke_model_t *fused = ke_model_load_buffer(buf, len, &lp, err, sizeof err);
    if (!fused)
        fail_msg("%s", err);
    free(buf);
    assert_int_equal(ke_model_num_nodes(plain), 19);
    /* LayerNormalization + 2 MatMul (bias and GELU/Relu folded in) */
    assert_int_equal(ke_model_count_op(fused, "LayerNormalization"), 1);
    assert_int_equal(ke_model_count_op(fused, "MatMul"), 2);
    assert_int_equal(ke_model_num_nodes(fused), 3);
    float x[5 * 8], y0[5 * 4], y1[5 * 4];
    for (int i = 0; i < 40; i++)
        x[i] = sinf((float)i * 0.7f) * 2.0f;
    run(plain, x, 5, y0);
    run(fused, x, 5, y1);
    for (int i = 0; i < 20; i++)
        assert_true(fabsf(y0[i] - y1[i]) <= 1e-4f + 1e-4f * fabsf(y0[i]));
    int nonzero = 0;
    for (int i = 0; i < 20; i++)
        nonzero += y0[i] != 0.0f;
    assert_true(nonzero > 0);
    ke_model_free(plain);
    ke_model_free(fused);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fuse)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
