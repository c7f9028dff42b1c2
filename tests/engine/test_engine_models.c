/* The committed models (models/) on the engine with the real kernels (a
 * SKIP until the op registry has them):
 * outputs match onnxruntime's reference outputs (rtol 1e-3, atol 1e-4) at
 * batch 1, 7 and 64 through one plan per model (max batch 64, so smaller
 * row counts reuse it); the fusion passes fired (op counts after load);
 * MNIST accuracy on the 2,000-image slice equals onnxruntime's. */
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
#include "kf_npy.h"

static const char *src_dir(void) {
    const char *s = getenv("KINFER_SOURCE_DIR");
    return s ? s : ".";
}

static ke_model_t *load(const char *name) {
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/models/%s.onnx", src_dir(), name);
    ke_model_t *m = ke_model_load_file(path, NULL, err, sizeof err);
    if (!m)
        fail_msg("%s", err);
    return m;
}

static kf_npy_t *npy(const char *fmt, ...) {
    char path[1024], err[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    kf_npy_t *a = NULL;
    if (kf_npy_load_file(path, 0, &a, err, sizeof err) != KF_OK)
        fail_msg("%s", err);
    return a;
}

/* Runs ref sets b1, b7, b64 of `name` through one plan, compares. */
static void check_refs(const char *name) {
    ke_model_t *m = load(name);
    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = 64;
    pp.n_threads = 2;
    char err[512];
    ke_plan_t *p = ke_plan_new(m, &pp, err, sizeof err);
    if (!p)
        fail_msg("%s: %s", name, err);
    static const int batches[] = {64, 1, 7};
    for (int bi = 0; bi < 3; bi++) {
        int b = batches[bi];
        int ni = ke_model_num_inputs(m), no = ke_model_num_outputs(m);
        kf_npy_t *ins[8] = {0};
        const void *iptr[8];
        void *optr[8];
        assert_true(ni <= 8 && no <= 8);
        for (int i = 0; i < ni; i++) {
            ke_io_info_t io;
            ke_model_input(m, i, &io);
            ins[i] = npy("%s/models/ref/%s/b%d/inputs/%s.npy", src_dir(), name, b, io.name);
            assert_int_equal(ins[i]->shape[0], b);
            iptr[i] = ins[i]->data;
        }
        for (int o = 0; o < no; o++) {
            ke_tensor_t d;
            ke_plan_output_desc(p, o, b, &d);
            optr[o] = malloc(ke_tensor_nbytes(&d));
        }
        if (ke_plan_run(p, b, iptr, optr, err, sizeof err) != KE_OK)
            fail_msg("%s: %s", name, err);
        for (int o = 0; o < no; o++) {
            ke_io_info_t io;
            ke_tensor_t d;
            ke_model_output(m, o, &io);
            ke_plan_output_desc(p, o, b, &d);
            kf_npy_t *ref = npy("%s/models/ref/%s/b%d/outputs/%s.npy", src_dir(), name, b, io.name);
            assert_int_equal(ref->rank, d.rank);
            for (int k = 0; k < d.rank; k++)
                assert_int_equal(ref->shape[k], d.shape[k]);
            const float *r = ref->data, *g = optr[o];
            int64_t n = ke_tensor_numel(&d), bad = 0;
            double worst = 0;
            for (int64_t i = 0; i < n; i++) {
                double diff = fabs((double)r[i] - (double)g[i]);
                if (diff > 1e-4 + 1e-3 * fabs((double)r[i]))
                    bad++;
                if (diff > worst)
                    worst = diff;
            }
            if (bad)
                fail_msg("%s b%d %s: %lld of %lld values off (max abs diff %g)", name, b, io.name,
                         (long long)bad, (long long)n, worst);
            kf_npy_free(ref);
            free(optr[o]);
        }
        for (int i = 0; i < ni; i++)
            kf_npy_free(ins[i]);
    }
    ke_plan_free(p);
    ke_model_free(m);
}

static void test_mlp(void **st) {
    (void)st;
    check_refs("mnist_mlp");
}
static void test_cnn(void **st) {
    (void)st;
    check_refs("cnn");
}
static void test_binary(void **st) {
    (void)st;
    check_refs("binary_classifier");
}
static void test_bert(void **st) {
    (void)st;
    check_refs("bert_tiny");
}
static void test_identity(void **st) {
    (void)st;
    check_refs("identity16");
}

static int row_flag(const char *op, uint32_t flag) {
    const ke_op_def_t *d = ke_op_find(op, "", KE_OPSET_INTERNAL);
    return d && (d->flags & flag);
}

static void test_fusion_counts(void **st) {
    (void)st;
    ke_model_t *m = load("bert_tiny");
    /* shape arithmetic folded; decomposed LayerNorm/GELU fused when the
     * kernels have LayerNormalization / Gelu rows */
    assert_int_equal(ke_model_count_op(m, "Shape"), 0);
    assert_int_equal(ke_model_count_op(m, "Concat"), 0);
    if (ke_op_find("LayerNormalization", "", KE_OPSET_INTERNAL)) {
        assert_int_equal(ke_model_count_op(m, "ReduceMean"), 0);
        assert_int_equal(ke_model_count_op(m, "Sqrt"), 0);
        assert_true(ke_model_count_op(m, "LayerNormalization") >= 4);
    }
    if (ke_op_find("Gelu", "", KE_OPSET_INTERNAL))
        assert_int_equal(ke_model_count_op(m, "Erf"), 0);
    ke_model_free(m);
    /* activations go into GEMM/Conv epilogues when the rows say they can */
    m = load("cnn");
    assert_int_equal(ke_model_count_op(m, "BatchNormalization"), 0);
    assert_int_equal(ke_model_count_op(m, "Relu"), row_flag("Conv", KE_OP_FUSE_ACT) ? 0 : 2);
    assert_int_equal(ke_model_count_op(m, "Conv"), 2);
    ke_model_free(m);
    m = load("mnist_mlp");
    assert_int_equal(ke_model_count_op(m, "Relu"), row_flag("Gemm", KE_OP_FUSE_ACT) ? 0 : 1);
    ke_model_free(m);
    /* without fusion the same model keeps its nodes */
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/models/cnn.onnx", src_dir());
    ke_load_params_t lp = ke_load_default_params();
    lp.fuse = 0;
    m = ke_model_load_file(path, &lp, err, sizeof err);
    assert_non_null(m);
    assert_int_equal(ke_model_count_op(m, "BatchNormalization"), 2);
    ke_model_free(m);
}

static int accuracy(const char *name, int rows_per_run) {
    ke_model_t *m = load(name);
    kf_npy_t *img = npy("%s/models/mnist_test_images.npy", src_dir());
    kf_npy_t *lab = npy("%s/models/mnist_test_labels.npy", src_dir());
    int64_t n = img->shape[0];
    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = rows_per_run;
    pp.n_threads = 2;
    char err[512];
    ke_plan_t *p = ke_plan_new(m, &pp, err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    float *x = malloc((size_t)rows_per_run * 784 * sizeof(float));
    float *y = malloc((size_t)rows_per_run * 10 * sizeof(float));
    int correct = 0;
    for (int64_t s = 0; s < n; s += rows_per_run) {
        int b = (int)(n - s < rows_per_run ? n - s : rows_per_run);
        for (int64_t i = 0; i < (int64_t)b * 784; i++)
            x[i] = (float)((const uint8_t *)img->data)[s * 784 + i] / 255.0f;
        const void *ip[1] = {x};
        void *op[1] = {y};
        if (ke_plan_run(p, b, ip, op, err, sizeof err) != KE_OK)
            fail_msg("%s", err);
        for (int r = 0; r < b; r++) {
            int best = 0;
            for (int k = 1; k < 10; k++)
                if (y[r * 10 + k] > y[r * 10 + best])
                    best = k;
            correct += best == ((const uint8_t *)lab->data)[s + r];
        }
    }
    free(x);
    free(y);
    kf_npy_free(img);
    kf_npy_free(lab);
    ke_plan_free(p);
    ke_model_free(m);
    return correct;
}

static void test_accuracy(void **st) {
    (void)st;
    /* onnxruntime 1.30.0 on the same slice: models/ref/onnxruntime_accuracy.json */
    assert_int_equal(accuracy("mnist_mlp", 256), 1947);
    assert_int_equal(accuracy("cnn", 100), 1963);
}

int main(void) {
    /* Needs the real kernels: until the ops registry has them this program
     * is a SKIP (77), never a pass. */
    static const char *need[] = {"Gemm", "MatMul", "Conv", "Relu", "Softmax", "Gather", NULL};
    for (int i = 0; need[i]; i++)
        if (!ke_op_find(need[i], "", 13)) {
            fprintf(stderr, "no kernel row for %s yet: SKIP\n", need[i]);
            return 77;
        }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mlp),      cmocka_unit_test(test_cnn),
        cmocka_unit_test(test_binary),   cmocka_unit_test(test_bert),
        cmocka_unit_test(test_identity), cmocka_unit_test(test_fusion_counts),
        cmocka_unit_test(test_accuracy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
