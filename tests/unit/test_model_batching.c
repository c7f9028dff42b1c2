/* Unit tests for per-model batching: model.<name>.max_batch /
 * .max_queue_delay_ms / .preferred_batch resolved from the config against
 * the worker-wide values (kf_model_batching_resolve), and applied by the
 * worker to that model's batcher only (kf_worker_set_model_batching). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kf_config.h"
#include "kf_model_batching.h"
#include "kf_worker.h"

static kf_model_batching_t defaults(void) {
    kf_model_batching_t d;
    memset(&d, 0, sizeof(d));
    d.max_batch = 64;
    d.max_queue_delay_ms = 5;
    return d;
}

static kf_config_t *config(const char *text) {
    kf_config_t *cfg = kf_config_new();
    char err[256];
    assert_non_null(cfg);
    assert_int_equal(kf_config_load_string(cfg, text, "test.properties", err, sizeof(err)), KF_OK);
    return cfg;
}

static void test_resolve(void **state) {
    (void)state;
    kf_config_t *cfg = config("model.a.max_batch=8\n"
                              "model.a.preferred_batch=4\n"
                              "model.b.max_queue_delay_ms=7\n"
                              "model.c.source=file:///models\n");
    const char *known[] = {"a", "b", "c"};
    kf_model_batching_t d = defaults(), out[4];
    size_t n = 99;
    char err[256] = "";
    assert_int_equal(kf_model_batching_resolve(cfg, known, 3, &d, out, 4, &n, err, sizeof(err)),
                     KF_OK);
    assert_int_equal(n, 2); /* c has no batching key: worker-wide values */
    assert_string_equal(out[0].name, "a");
    assert_int_equal(out[0].max_batch, 8);
    assert_int_equal(out[0].max_queue_delay_ms, 5);
    assert_int_equal(out[0].preferred_batch, 4);
    assert_string_equal(out[1].name, "b");
    assert_int_equal(out[1].max_batch, 64);
    assert_int_equal(out[1].max_queue_delay_ms, 7);
    assert_int_equal(out[1].preferred_batch, 0);
    kf_config_free(cfg);
}

static void test_unknown_model(void **state) {
    (void)state;
    kf_config_t *cfg = config("model.mnsit.max_batch=8\n");
    const char *known[] = {"mnist"};
    kf_model_batching_t d = defaults(), out[4];
    size_t n = 0;
    char err[256] = "";
    assert_int_equal(kf_model_batching_resolve(cfg, known, 1, &d, out, 4, &n, err, sizeof(err)),
                     KF_ERR_CONFIG);
    assert_non_null(strstr(err, "model.mnsit.max_batch"));
    assert_non_null(strstr(err, "no model named 'mnsit'"));
    assert_non_null(strstr(err, "test.properties"));
    kf_config_free(cfg);
}

static void test_preferred_over_max(void **state) {
    (void)state;
    /* the model's own max_batch, or the worker-wide one, bounds it */
    kf_config_t *cfg = config("model.a.max_batch=8\nmodel.a.preferred_batch=16\n");
    const char *known[] = {"a"};
    kf_model_batching_t d = defaults(), out[4];
    size_t n = 0;
    char err[256] = "";
    assert_int_equal(kf_model_batching_resolve(cfg, known, 1, &d, out, 4, &n, err, sizeof(err)),
                     KF_ERR_CONFIG);
    assert_non_null(strstr(err, "model.a.preferred_batch 16"));
    kf_config_free(cfg);
    cfg = config("model.a.preferred_batch=100\n");
    assert_int_equal(kf_model_batching_resolve(cfg, known, 1, &d, out, 4, &n, err, sizeof(err)),
                     KF_ERR_CONFIG);
    kf_config_free(cfg);
}

static void test_bad_values(void **state) {
    (void)state;
    kf_config_t *cfg = kf_config_new();
    char err[256];
    assert_int_not_equal(
        kf_config_set(cfg, "model.a.max_batch", "0", KF_CFG_SRC_FLAG, "-X", err, sizeof(err)),
        KF_OK);
    assert_int_not_equal(kf_config_set(cfg, "model.a.max_queue_delay_ms", "-1", KF_CFG_SRC_FLAG,
                                       "-X", err, sizeof(err)),
                         KF_OK);
    assert_int_not_equal(
        kf_config_set(cfg, "model.a.preferred_batch", "x", KF_CFG_SRC_FLAG, "-X", err, sizeof(err)),
        KF_OK);
    kf_config_free(cfg);
}

/* The worker applies a model's settings to that model only. */
static void test_worker_applies(void **state) {
    (void)state;
    const char *src = getenv("KINFER_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/models/identity16.onnx", src ? src : ".");
    const char *topics[] = {"jobs", NULL};
    kf_worker_params_t p = kf_worker_default_params();
    p.bootstrap = "127.0.0.1:1"; /* never contacted: the worker is not started */
    p.topics = topics;
    p.output_topic = "results";
    p.dlq_topic = "dlq";
    p.max_batch = 32;
    p.max_queue_delay_ms = 5;
    p.threads = 1;
    char err[512];
    kf_worker_t *w = kf_worker_new(&p, err, sizeof(err));
    assert_non_null(w);
    kf_model_batching_t b = defaults();
    snprintf(b.name, sizeof(b.name), "small");
    b.max_batch = 8;
    b.max_queue_delay_ms = 3;
    b.preferred_batch = 4;
    kf_model_batching_t bad = b;
    bad.preferred_batch = 9;
    assert_int_equal(kf_worker_set_model_batching(w, &bad, 1), KF_ERR_INVALID_ARG);
    assert_int_equal(kf_worker_set_model_batching(w, &b, 1), KF_OK);
    assert_int_equal(kf_worker_load_model(w, "small", "1", path, err, sizeof(err)), KF_OK);
    assert_int_equal(kf_worker_load_model(w, "big", "1", path, err, sizeof(err)), KF_OK);
    kf_model_batching_t got;
    assert_int_equal(kf_worker_model_batching(w, "small", &got), KF_OK);
    assert_int_equal(got.max_batch, 8);
    assert_int_equal(got.max_queue_delay_ms, 3);
    assert_int_equal(got.preferred_batch, 4);
    assert_int_equal(kf_worker_model_batching(w, "big", &got), KF_OK);
    assert_int_equal(got.max_batch, 32);
    assert_int_equal(got.max_queue_delay_ms, 5);
    assert_int_equal(got.preferred_batch, 0);
    assert_int_equal(kf_worker_model_batching(w, "none", &got), KF_ERR_NOT_FOUND);
    kf_worker_free(w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_unknown_model),
        cmocka_unit_test(test_preferred_over_max),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_worker_applies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
