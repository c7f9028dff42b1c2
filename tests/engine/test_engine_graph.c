/* Engine graph side: import, shape inference with the batch dim, folding,
 * affine shape arithmetic, planner, run, load-time errors. Fake op rows
 * (fake_ops.h) stand in for the kernels; models are built with protobuf-c. */
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

static ke_load_params_t fake_params(void) {
    ke_load_params_t p = ke_load_default_params();
    p.ops = k_fake_ops;
    p.n_ops = sizeof k_fake_ops / sizeof k_fake_ops[0];
    return p;
}

/* x[N,4] -> MatMul W[4,3] -> Add b[3] -> Relu -> y; plus a folded branch */
static unsigned char *mlp_model(size_t *len, const char *op3, int opset) {
    static const float W[12] = {1, -1, 0.5f, 2, 0, -2, 0.25f, 1, 1, -1, 3, 0};
    static const float bias[3] = {0.5f, -0.25f, 1};
    static const float one[3] = {1, 1, 1};
    tb_model_t b;
    tb_init(&b, opset);
    int64_t xd[2] = {-1, 4}, wd[2] = {4, 3}, bd[1] = {3};
    tb_input(&b, "x", 1, 2, xd);
    tb_init_f32(&b, "W", 2, wd, W, 12);
    tb_init_f32(&b, "b0", 1, bd, bias, 3);
    tb_init_f32(&b, "one", 1, bd, one, 3);
    static const char *n0i[] = {"b0", "one", NULL}, *n0o[] = {"bias", NULL};
    static const char *n1i[] = {"x", "W", NULL}, *n1o[] = {"h", NULL};
    static const char *n2i[] = {"h", "bias", NULL}, *n2o[] = {"hb", NULL};
    static const char *n3i[] = {"hb", NULL}, *n3o[] = {"y", NULL};
    tb_node(&b, "fold_me", "Add", n0i, n0o); /* constant: folded at load */
    tb_node(&b, "mm", "MatMul", n1i, n1o);
    tb_node(&b, "add", "Add", n2i, n2o);
    tb_node(&b, "act", op3, n3i, n3o);
    tb_output(&b, "y");
    return tb_pack(&b, len);
}

static void ref_mlp(const float *x, int n, float *y) {
    static const float W[12] = {1, -1, 0.5f, 2, 0, -2, 0.25f, 1, 1, -1, 3, 0};
    static const float bias[3] = {1.5f, 0.75f, 2};
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 3; j++) {
            float s = bias[j];
            for (int k = 0; k < 4; k++)
                s += x[i * 4 + k] * W[k * 3 + j];
            y[i * 3 + j] = s > 0 ? s : 0;
        }
}

static void test_mlp_run(void **st) {
    (void)st;
    size_t len;
    unsigned char *buf = mlp_model(&len, "Relu", 13);
    ke_load_params_t lp = fake_params();
    char err[512];
    ke_model_t *m = ke_model_load_buffer(buf, len, &lp, err, sizeof err);
    free(buf);
    assert_non_null(m);
    assert_int_equal(ke_model_num_inputs(m), 1);
    assert_int_equal(ke_model_num_outputs(m), 1);
    assert_true(ke_model_has_batch(m));
    ke_io_info_t io;
    assert_int_equal(ke_model_input(m, 0, &io), KE_OK);
    assert_string_equal(io.name, "x");
    assert_int_equal(io.rank, 2);
    assert_int_equal(io.shape[0], -1);
    assert_int_equal(io.shape[1], 4);
    assert_int_equal(io.batch_axis, 0);
    assert_int_equal(io.row_bytes, 16);
    assert_int_equal(ke_model_output(m, 0, &io), KE_OK);
    assert_int_equal(io.shape[1], 3);
    assert_int_equal(io.row_bytes, 12);
    assert_int_equal(ke_model_num_nodes(m), 3); /* fold_me folded away */
    assert_int_equal(ke_model_find_input(m, "x"), 0);
    assert_int_equal(ke_model_find_input(m, "nope"), -1);

    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = 8;
    pp.n_threads = 2;
    ke_plan_t *p = ke_plan_new(m, &pp, err, sizeof err);
    assert_non_null(p);
    assert_string_equal(ke_plan_device(p), "cpu");
    assert_true(ke_plan_arena_bytes(p) > 0);
    assert_true(ke_plan_bytes_per_row(p) >= 12);
    float x[32], y[24], ref[24];
    for (int i = 0; i < 32; i++)
        x[i] = (float)((i * 7) % 11) - 5.0f;
    int rows[] = {1, 8, 3, 3, 8};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        int n = rows[r];
        ke_tensor_t d;
        assert_int_equal(ke_plan_output_desc(p, 0, n, &d), KE_OK);
        assert_int_equal(d.shape[0], n);
        memset(y, 0xff, sizeof y);
        const void *ins[1] = {x};
        void *outs[1] = {y};
        assert_int_equal(ke_plan_run(p, n, ins, outs, err, sizeof err), KE_OK);
        ref_mlp(x, n, ref);
        for (int i = 0; i < n * 3; i++)
            assert_true(y[i] == ref[i]);
    }
    const void *ins[1] = {x};
    void *outs[1] = {y};
    assert_int_equal(ke_plan_run(p, 9, ins, outs, err, sizeof err), KE_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "1..8"));
    assert_int_equal(ke_plan_run(p, 0, ins, outs, err, sizeof err), KE_ERR_INVALID_ARG);
    ke_plan_free(p);
    ke_plan_free(NULL);
    pp.max_batch = 2000000000; /* 24 GiB for one value: refused, not attempted */
    pp.device = "cpu";
    assert_null(ke_plan_new(m, &pp, err, sizeof err));
    assert_non_null(strstr(err, "smaller max batch"));
    pp.max_batch = 8;
    pp.device = "tpu";
    assert_null(ke_plan_new(m, &pp, err, sizeof err));
    assert_non_null(strstr(err, "tpu"));
    ke_model_free(m);
    ke_model_free(NULL);
}

/* x[N,2,3] -> Shape -> Mul [1,1,1] (batch-dependent shape arithmetic) ->
 * Reshape(x, .) -> Relu; plus Reshape(x, [0,-1]) -> y2 [N,6] */
static void test_affine_shapes(void **st) {
    (void)st;
    tb_model_t b;
    tb_init(&b, 13);
    int64_t xd[3] = {-1, 2, 3}, d3[1] = {3}, d2[1] = {2};
    static const int64_t ones[3] = {1, 1, 1}, flat[2] = {0, -1};
    tb_input(&b, "x", 1, 3, xd);
    tb_init_i64(&b, "ones", 1, d3, ones, 3);
    tb_init_i64(&b, "flat", 1, d2, flat, 2);
    static const char *p_i[] = {"x", NULL}, *p_o[] = {"xp", NULL};
    static const char *a_i[] = {"xp", NULL}, *a_o[] = {"s", NULL};
    static const char *b_i[] = {"s", "ones", NULL}, *b_o[] = {"s2", NULL};
    static const char *c_i[] = {"x", "s2", NULL}, *c_o[] = {"xr", NULL};
    static const char *d_i[] = {"xr", NULL}, *d_o[] = {"y", NULL};
    static const char *e_i[] = {"x", "flat", NULL}, *e_o[] = {"y2", NULL};
    tb_node(&b, "pre", "Relu", p_i, p_o); /* Shape of a run-time value */
    tb_node(&b, "shape", "Shape", a_i, a_o);
    tb_node(&b, "mul", "Mul", b_i, b_o);
    tb_node(&b, "reshape", "Reshape", c_i, c_o);
    tb_node(&b, "relu", "Relu", d_i, d_o);
    tb_node(&b, "flatten", "Reshape", e_i, e_o);
    tb_output(&b, "y");
    tb_output(&b, "y2");
    size_t len;
    unsigned char *buf = tb_pack(&b, &len);
    ke_load_params_t lp = fake_params();
    char err[512];
    ke_model_t *m = ke_model_load_buffer(buf, len, &lp, err, sizeof err);
    free(buf);
    if (!m)
        fail_msg("%s", err);
    /* Shape and Mul are shape arithmetic: not run at run time */
    assert_int_equal(ke_model_count_op(m, "Shape"), 0);
    assert_int_equal(ke_model_count_op(m, "Mul"), 0);
    assert_int_equal(ke_model_count_op(m, "Reshape"), 2);
    ke_io_info_t io;
    assert_int_equal(ke_model_output(m, 1, &io), KE_OK);
    assert_int_equal(io.rank, 2);
    assert_int_equal(io.shape[0], -1);
    assert_int_equal(io.shape[1], 6);
    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = 4;
    ke_plan_t *p = ke_plan_new(m, &pp, err, sizeof err);
    assert_non_null(p);
    float x[24], y[24], y2[24];
    for (int i = 0; i < 24; i++)
        x[i] = (float)i - 11.5f;
    for (int n = 4; n >= 1; n--) {
        const void *ins[1] = {x};
        void *outs[2] = {y, y2};
        assert_int_equal(ke_plan_run(p, n, ins, outs, err, sizeof err), KE_OK);
        ke_tensor_t d;
        ke_plan_output_desc(p, 0, n, &d);
        assert_int_equal(d.rank, 3);
        assert_int_equal(d.shape[0], n);
        for (int i = 0; i < n * 6; i++) {
            assert_true(y[i] == (x[i] > 0 ? x[i] : 0));
            assert_true(y2[i] == x[i]);
        }
    }
    ke_plan_free(p);
    ke_model_free(m);
}

static void test_planner_reuse(void **st) {
    (void)st;
    tb_model_t b;
    tb_init(&b, 13);
    int64_t xd[2] = {-1, 256};
    tb_input(&b, "x", 1, 2, xd);
    static const char *names[] = {"x", "a1", "a2", "a3", "a4", "a5", "a6"};
    static const char *ins[6][2], *outs[6][2];
    for (int i = 0; i < 6; i++) {
        ins[i][0] = names[i];
        ins[i][1] = NULL;
        outs[i][0] = names[i + 1];
        outs[i][1] = NULL;
        tb_node(&b, names[i + 1], "Relu", ins[i], outs[i]);
    }
    tb_output(&b, "a6");
    size_t len;
    unsigned char *buf = tb_pack(&b, &len);
    ke_load_params_t lp = fake_params();
    char err[512];
    ke_model_t *m = ke_model_load_buffer(buf, len, &lp, err, sizeof err);
    free(buf);
    assert_non_null(m);
    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = 16;
    ke_plan_t *p = ke_plan_new(m, &pp, err, sizeof err);
    assert_non_null(p);
    size_t one = 16 * 256 * 4;
    /* 6 values of `one` bytes, at most 2 alive at once (+ the output) */
    assert_true(ke_plan_arena_bytes(p) <= 3 * one);
    assert_true(ke_plan_arena_bytes(p) >= 2 * one);
    assert_true(ke_plan_bytes_per_row(p) >= 2 * 1024);
    assert_true(ke_plan_bytes_per_row(p) <= 3 * 1024);
    ke_plan_free(p);
    ke_model_free(m);
}

static void expect_load_error(const unsigned char *buf, size_t len, const char *want1,
                              const char *want2) {
    ke_load_params_t lp = fake_params();
    char err[512] = "";
    ke_model_t *m = ke_model_load_buffer(buf, len, &lp, err, sizeof err);
    if (m) {
        ke_model_free(m);
        fail_msg("model loaded, expected an error with '%s'", want1);
    }
    if (want1 && !strstr(err, want1))
        fail_msg("error '%s' lacks '%s'", err, want1);
    if (want2 && !strstr(err, want2))
        fail_msg("error '%s' lacks '%s'", err, want2);
}

static void test_load_errors(void **st) {
    (void)st;
    size_t len;
    unsigned char *buf = mlp_model(&len, "Frobnicate", 13);
    expect_load_error(buf, len, "act", "Frobnicate");
    free(buf);
    buf = mlp_model(&len, "Relu", 13);
    for (size_t cut = 1; cut < len; cut += 7) { /* truncations: error, no crash */
        ke_load_params_t lp = fake_params();
        char err[256];
        ke_model_t *m = ke_model_load_buffer(buf, cut, &lp, err, sizeof err);
        ke_model_free(m);
    }
    expect_load_error(buf, len / 2, "ONNX", NULL);
    free(buf);
    buf = mlp_model(&len, "Relu", 9);
    expect_load_error(buf, len, "opset 9", NULL);
    free(buf);
    unsigned char rnd[4096];
    unsigned s = 12345;
    for (int rep = 0; rep < 50; rep++) {
        for (size_t i = 0; i < sizeof rnd; i++) {
            s = s * 1103515245u + 12345u;
            rnd[i] = (unsigned char)(s >> 16);
        }
        ke_load_params_t lp = fake_params();
        char err[256];
        ke_model_t *m = ke_model_load_buffer(rnd, sizeof rnd, &lp, err, sizeof err);
        ke_model_free(m);
    }
    expect_load_error(rnd, 0, "empty", NULL);

    /* inconsistent shapes: [N,4] x [5,3] */
    tb_model_t b;
    tb_init(&b, 13);
    int64_t xd[2] = {-1, 4}, wd[2] = {5, 3};
    float w[15] = {0};
    tb_input(&b, "x", 1, 2, xd);
    tb_init_f32(&b, "W", 2, wd, w, 15);
    static const char *i1[] = {"x", "W", NULL}, *o1[] = {"y", NULL};
    tb_node(&b, "proj", "MatMul", i1, o1);
    tb_output(&b, "y");
    buf = tb_pack(&b, &len);
    expect_load_error(buf, len, "node 'proj' (MatMul)", "inner dims");
    free(buf);

    /* external data */
    tb_init(&b, 13);
    tb_input(&b, "x", 1, 2, xd);
    Onnx__TensorProto *t = tb_init_f32(&b, "W", 2, wd, w, 15);
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    tb_node(&b, "proj", "MatMul", i1, o1);
    tb_output(&b, "y");
    buf = tb_pack(&b, &len);
    expect_load_error(buf, len, "'W'", "external data");
    free(buf);

    /* raw_data of the wrong length */
    tb_init(&b, 13);
    tb_input(&b, "x", 1, 2, xd);
    t = tb_init_f32(&b, "W", 2, wd, w, 15);
    t->raw_data.len = 7;
    tb_node(&b, "proj", "MatMul", i1, o1);
    tb_output(&b, "y");
    buf = tb_pack(&b, &len);
    expect_load_error(buf, len, "'W'", "raw_data");
    free(buf);

    /* dangling input */
    tb_init(&b, 13);
    tb_input(&b, "x", 1, 2, xd);
    static const char *i2[] = {"x", "ghost", NULL};
    tb_node(&b, "proj", "MatMul", i2, o1);
    tb_output(&b, "y");
    buf = tb_pack(&b, &len);
    expect_load_error(buf, len, "'ghost'", "proj");
    free(buf);

    /* Reshape whose shape is only known at run time */
    tb_init(&b, 13);
    int64_t sd[1] = {2}, xfixed[2] = {2, 4};
    tb_input(&b, "x", 1, 2, xfixed);
    tb_input(&b, "shp", 7, 1, sd);
    static const char *i3[] = {"x", "shp", NULL};
    tb_node(&b, "rs", "Reshape", i3, o1);
    tb_output(&b, "y");
    buf = tb_pack(&b, &len);
    expect_load_error(buf, len, "node 'rs' (Reshape)", "load time");
    free(buf);

    char err[256];
    assert_null(ke_model_load_file("/nonexistent/model.onnx", NULL, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/model.onnx"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mlp_run),
        cmocka_unit_test(test_affine_shapes),
        cmocka_unit_test(test_planner_reuse),
        cmocka_unit_test(test_load_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
