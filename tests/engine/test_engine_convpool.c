/* Conv + MaxPool fusion on the committed CNN (models/cnn.onnx: two
 * Conv-BN-Relu-MaxPool stages): the fusion pass folds both MaxPools into
 * their Convs when the loader allows CPU-only fusions (not otherwise), and
 * the fused plan computes what the unfused one does, threaded or not. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h> /* after the headers it needs */

#include "engine.h"

static ke_model_t *load(int fuse, int cpu_fusions) {
    const char *s = getenv("KINFER_SOURCE_DIR");
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/models/cnn.onnx", s ? s : ".");
    ke_load_params_t lp = ke_load_default_params();
    lp.fuse = fuse;
    lp.cpu_fusions = cpu_fusions;
    ke_model_t *m = ke_model_load_file(path, &lp, err, sizeof err);
    if (!m)
        fail_msg("%s", err);
    return m;
}

static void run(ke_model_t *m, int threads, const float *x, int n, float *y) {
    char err[256];
    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = n;
    pp.n_threads = threads;
    ke_plan_t *p = ke_plan_new(m, &pp, err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    const void *ip[1] = {x};
    void *op[1] = {y};
    if (ke_plan_run(p, n, ip, op, err, sizeof err) != KE_OK)
        fail_msg("%s", err);
    ke_plan_free(p);
}

static void test_cnn_fused(void **st) {
    (void)st;
    ke_model_t *plain = load(0, 0), *fused = load(1, 1), *portable = load(1, 0);
    assert_int_equal(ke_model_count_op(plain, "MaxPool"), 2);
    assert_int_equal(ke_model_count_op(portable, "MaxPool"), 2);
    assert_int_equal(ke_model_count_op(fused, "MaxPool"), 0);
    assert_int_equal(ke_model_count_op(fused, "Conv"), 2);
    enum { N = 9, IN = 28 * 28, OUT = 10 };
    float *x = malloc(sizeof(float) * N * IN);
    float y0[N * OUT], y1[N * OUT], y2[N * OUT];
    uint32_t s = 12345;
    for (int i = 0; i < N * IN; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)(s >> 8) / 16777216.0f;
    }
    run(plain, 1, x, N, y0);
    run(fused, 1, x, N, y1);
    run(fused, 3, x, N, y2);
    for (int i = 0; i < N * OUT; i++) {
        assert_true(fabsf(y1[i] - y0[i]) <= 1e-4f + 1e-4f * fabsf(y0[i]));
        assert_true(fabsf(y2[i] - y0[i]) <= 1e-4f + 1e-4f * fabsf(y0[i]));
    }
    free(x);
    ke_model_free(plain);
    ke_model_free(fused);
    ke_model_free(portable);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cnn_fused)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
