/* Unit tests for kf_config: the three layers and their precedence, unknown
 * keys named with file:line, bad values per type, environment mapping,
 * per-model keys and kafka.* passthrough into a real rd_kafka_conf_t. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kf_config.h"

static char *write_tmp(const char *text) {
    const char *tmp = getenv("TMPDIR");
    char *path = malloc(512);
    assert_non_null(path);
    snprintf(path, 512, "%s/kf_config_test_XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_defaults(void **state) {
    (void)state;
    kf_config_t *cfg = kf_config_new();
    assert_non_null(cfg);
    assert_string_equal(kf_config_get(cfg, "codec"), "raw");
    assert_int_equal(kf_config_get_int(cfg, "max_batch", -1), 64);
    assert_null(kf_config_get(cfg, "bootstrap"));
    assert_int_equal(kf_config_get_int(cfg, "model.mnist.keep_versions", -1), 2);
    assert_int_equal(kf_config_get_int(cfg, "model.mnist.max_batch", -7), -7);
    assert_int_equal(kf_config_source(cfg, "codec", NULL), KF_CFG_SRC_DEFAULT);
    kf_config_free(cfg);
    kf_config_free(NULL);
}

static void test_file_parsing(void **state) {
    (void)state;
    char *path = write_tmp("# comment\n"
                           "\n"
                           "  ! also a comment\n"
                           "  bootstrap =  localhost:9092  \r\n"
                           "codec=confluent\n"
                           "model.mnist.source = file:///models\n"
                           "model.mnist.max_batch=128\n"
                           "model.bert_tiny.max_batch=8\n"
                           "kafka.security.protocol=plaintext\n"
                           "memory.budget=512m\n"
                           "input.topics=a, b,c\n");
    kf_config_t *cfg = kf_config_new();
    char err[512] = "";
    assert_int_equal(kf_config_load_file(cfg, path, err, sizeof(err)), KF_OK);
    assert_string_equal(kf_config_get(cfg, "bootstrap"), "localhost:9092");
    assert_string_equal(kf_config_get(cfg, "codec"), "confluent");
    assert_string_equal(kf_config_get(cfg, "model.mnist.source"), "file:///models");
    assert_int_equal(kf_config_get_int(cfg, "model.mnist.max_batch", 0), 128);
    assert_int_equal(kf_config_get_int(cfg, "memory.budget", 0), 512 * 1024 * 1024);
    assert_string_equal(kf_config_get(cfg, "kafka.security.protocol"), "plaintext");
    assert_int_equal(kf_config_model_count(cfg), 2);
    assert_string_equal(kf_config_model_name(cfg, 0), "mnist");
    assert_string_equal(kf_config_model_name(cfg, 1), "bert_tiny");
    assert_null(kf_config_model_name(cfg, 2));
    const char *origin = NULL;
    assert_int_equal(kf_config_source(cfg, "codec", &origin), KF_CFG_SRC_FILE);
    char want[600];
    snprintf(want, sizeof(want), "%s:5", path);
    assert_string_equal(origin, want);
    kf_config_free(cfg);
    unlink(path);
    free(path);
}

static void test_precedence_all_layers(void **state) {
    (void)state;
    char *path = write_tmp("codec=confluent\n"
                           "max_batch=10\n"
                           "threads=3\n"
                           "group=from-file\n");
    char err[512] = "";
    char *envp[] = {"KINFER_MAX_BATCH=30", "KINFER_GROUP=from-env", "PATH=/bin", NULL};
    /* Load in every order: the result must not depend on it. */
    for (int order = 0; order < 3; order++) {
        kf_config_t *cfg = kf_config_new();
        for (int step = 0; step < 3; step++) {
            int layer = (step + order) % 3;
            if (layer == 0)
                assert_int_equal(kf_config_load_file(cfg, path, err, sizeof(err)), KF_OK);
            if (layer == 1) {
                assert_int_equal(kf_config_set(cfg, "max_batch", "20", KF_CFG_SRC_FLAG, "--set",
                                               err, sizeof(err)),
                                 KF_OK);
                assert_int_equal(kf_config_set_pair(cfg, "threads=4", 0, KF_CFG_SRC_FLAG, "--set",
                                                    err, sizeof(err)),
                                 KF_OK);
            }
            if (layer == 2)
                assert_int_equal(kf_config_load_env(cfg, envp, err, sizeof(err)), KF_OK);
        }
        assert_string_equal(kf_config_get(cfg, "codec"), "confluent"); /* file only */
        assert_int_equal(kf_config_get_int(cfg, "threads", 0), 4);     /* flag > file */
        assert_int_equal(kf_config_get_int(cfg, "max_batch", 0), 30);  /* env > flag */
        assert_string_equal(kf_config_get(cfg, "group"), "from-env");  /* env > file */
        assert_int_equal(kf_config_source(cfg, "max_batch", NULL), KF_CFG_SRC_ENV);
        assert_int_equal(kf_config_source(cfg, "threads", NULL), KF_CFG_SRC_FLAG);
        kf_config_free(cfg);
    }
    unlink(path);
    free(path);
}

static void test_unknown_key_names_file_line(void **state) {
    (void)state;
    char *path = write_tmp("codec=raw\n# ok\nmax_bach=3\n");
    kf_config_t *cfg = kf_config_new();
    char err[512] = "";
    assert_int_equal(kf_config_load_file(cfg, path, err, sizeof(err)), KF_ERR_CONFIG);
    assert_non_null(strstr(err, "unknown config key 'max_bach'"));
    char want[600];
    snprintf(want, sizeof(want), "%s:3", path);
    assert_non_null(strstr(err, want));
    kf_config_free(cfg);
    unlink(path);
    free(path);

    cfg = kf_config_new();
    assert_int_equal(
        kf_config_set(cfg, "model.mnist.bogus", "1", KF_CFG_SRC_FLAG, "--set", err, sizeof(err)),
        KF_ERR_CONFIG);
    assert_non_null(strstr(err, "'model.mnist.bogus'"));
    assert_int_equal(
        kf_config_set(cfg, "model..max_batch", "1", KF_CFG_SRC_FLAG, NULL, err, sizeof(err)),
        KF_ERR_CONFIG);
    assert_int_equal(kf_config_set(cfg, "kafka.", "1", KF_CFG_SRC_FLAG, NULL, err, sizeof(err)),
                     KF_ERR_CONFIG);
    kf_config_free(cfg);
}

static void test_bad_lines(void **state) {
    (void)state;
    kf_config_t *cfg = kf_config_new();
    char err[512] = "";
    assert_int_equal(
        kf_config_load_string(cfg, "codec=raw\nno equals sign\n", "w.properties", err, sizeof(err)),
        KF_ERR_CONFIG);
    assert_non_null(strstr(err, "w.properties:2"));
    assert_int_equal(kf_config_load_string(cfg, " = x\n", "w.properties", err, sizeof(err)),
                     KF_ERR_CONFIG);
    assert_non_null(strstr(err, "empty key"));
    assert_int_equal(kf_config_load_file(cfg, "/nonexistent/kinfer.properties", err, sizeof(err)),
                     KF_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/kinfer.properties"));
    kf_config_free(cfg);
}

static void expect_bad(const char *key, const char *value, const char *fragment) {
    kf_config_t *cfg = kf_config_new();
    char err[512] = "";
    kf_status_t st =
        kf_config_set(cfg, key, value, KF_CFG_SRC_FILE, "t.properties:9", err, sizeof(err));
    if (st != KF_ERR_CONFIG || !strstr(err, key) || !strstr(err, fragment) ||
        !strstr(err, "t.properties:9"))
        fail_msg("%s=%s: status %d, err '%s' (want '%s')", key, value, st, err, fragment);
    /* the bad value did not replace the default */
    const kf_config_key_t *k = kf_config_key_find(key);
    assert_non_null(k);
    if (k->def)
        assert_string_equal(kf_config_get(cfg, key), k->def);
    kf_config_free(cfg);
}

static void test_bad_value_types(void **state) {
    (void)state;
    expect_bad("max_batch", "abc", "not an integer");
    expect_bad("max_batch", "12x", "not an integer");
    expect_bad("max_batch", "", "not an integer");
    expect_bad("max_batch", "0", "out of range");
    expect_bad("metrics.port", "70000", "out of range");
    expect_bad("threads", "99999999999999999999", "not an integer");
    expect_bad("codec", "protobuf", "raw|confluent|auto");
    expect_bad("log.level", "INFO", "not one of");
    expect_bad("memory.budget", "12q", "not a size");
    expect_bad("memory.budget", "-1", "not a size");
    expect_bad("memory.budget", "99999999999g", "not a size");
    expect_bad("input.topics", "a,,b", "empty item");
    expect_bad("model.mnist.max_batch", "-4", "out of range");
}

static void test_good_values(void **state) {
    (void)state;
    kf_config_t *cfg = kf_config_new();
    char err[512] = "";
    assert_int_equal(
        kf_config_set(cfg, "memory.budget", "2GiB", KF_CFG_SRC_FLAG, NULL, err, sizeof(err)),
        KF_OK);
    assert_int_equal(kf_config_get_int(cfg, "memory.budget", 0), 2LL << 30);
    assert_int_equal(
        kf_config_set(cfg, "memory.budget", "4k", KF_CFG_SRC_FLAG, NULL, err, sizeof(err)), KF_OK);
    assert_int_equal(kf_config_get_int(cfg, "memory.budget", 0), 4096);
    int b = -1;
    assert_int_equal(kf_config_parse_bool("Yes", &b), KF_OK);
    assert_int_equal(b, 1);
    assert_int_equal(kf_config_parse_bool("off", &b), KF_OK);
    assert_int_equal(b, 0);
    assert_int_equal(kf_config_parse_bool("maybe", &b), KF_ERR_CONFIG);
    kf_config_free(cfg);
}

/* device takes auto|cpu|cuda and cuda:N (N a decimal index 0..1024, as
 * the engine), from any layer; anything else is refused naming the key. */
static void test_device_values(void **state) {
    (void)state;
    const char *good[] = {"auto", "cpu", "cuda", "cuda:0", "cuda:7", "cuda:12", "cuda:1024"};
    for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
        kf_config_t *cfg = kf_config_new();
        char err[512] = "";
        if (kf_config_set(cfg, "device", good[i], KF_CFG_SRC_FLAG, "--set", err, sizeof(err)) !=
            KF_OK)
            fail_msg("device=%s refused: %s", good[i], err);
        assert_string_equal(kf_config_get(cfg, "device"), good[i]);
        kf_config_free(cfg);
    }
    const char *bad[] = {"cuda:",         "cuda:-1", "cuda:+1", "cuda: 1", "cuda:1025",
                         "cuda:99999999", "cuda:1x", "cuda:N",  "CUDA:0",  "cpu:0",
                         "gpu",           "cuda0",   "cudax",   ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        expect_bad("device", bad[i], "auto|cpu|cuda|cuda:N (N: a device index 0..1024)");
    /* the environment layer validates the same way */
    kf_config_t *cfg = kf_config_new();
    char err[512] = "";
    char *env_ok[] = {"KINFER_DEVICE=cuda:3", NULL};
    assert_int_equal(kf_config_load_env(cfg, env_ok, err, sizeof(err)), KF_OK);
    assert_string_equal(kf_config_get(cfg, "device"), "cuda:3");
    char *env_bad[] = {"KINFER_DEVICE=cuda:x", NULL};
    assert_int_equal(kf_config_load_env(cfg, env_bad, err, sizeof(err)), KF_ERR_CONFIG);
    assert_non_null(strstr(err, "device"));
    assert_non_null(strstr(err, "cuda:x"));
    kf_config_free(cfg);
    /* --help shows the index form */
    const kf_config_key_t *k = kf_config_key_find("device");
    assert_non_null(k);
    assert_non_null(strstr(k->choices, "cuda:N"));
}

static void test_env_mapping(void **state) {
    (void)state;
    char *envp[] = {"KINFER_MODEL_MNIST_MAX_BATCH=32",
                    "KINFER_MODEL_BERT_TINY_MAX_QUEUE_DELAY_MS=7",
                    "KINFER_KAFKA_SECURITY_PROTOCOL=plaintext",
                    "KINFER_LOG_LEVEL=debug",
                    "KINFER_METRICS_PORT=0",
                    "KINFER_BIN=/usr/bin/kinfer", /* maps to no key: ignored */
                    "KINFER_SOURCE_DIR=/src",
                    "HOME=/root",
                    NULL};
    kf_config_t *cfg = kf_config_new();
    char err[512] = "";
    assert_int_equal(kf_config_load_env(cfg, envp, err, sizeof(err)), KF_OK);
    assert_int_equal(kf_config_get_int(cfg, "model.mnist.max_batch", 0), 32);
    assert_int_equal(kf_config_get_int(cfg, "model.bert_tiny.max_queue_delay_ms", 0), 7);
    assert_string_equal(kf_config_get(cfg, "kafka.security.protocol"), "plaintext");
    assert_string_equal(kf_config_get(cfg, "log.level"), "debug");
    assert_int_equal(kf_config_get_int(cfg, "metrics.port", -1), 0);
    const char *origin = NULL;
    kf_config_source(cfg, "model.mnist.max_batch", &origin);
    assert_string_equal(origin, "KINFER_MODEL_MNIST_MAX_BATCH");
    kf_config_free(cfg);

    char *bad[] = {"KINFER_MAX_BATCH=lots", NULL};
    cfg = kf_config_new();
    assert_int_equal(kf_config_load_env(cfg, bad, err, sizeof(err)), KF_ERR_CONFIG);
    assert_non_null(strstr(err, "'max_batch'"));
    assert_non_null(strstr(err, "KINFER_MAX_BATCH"));
    kf_config_free(cfg);
}

static void test_kafka_passthrough(void **state) {
    (void)state;
    kf_config_t *cfg = kf_config_new();
    char err[512] = "";
    assert_int_equal(kf_config_load_string(cfg,
                                           "bootstrap=broker1:9092\n"
                                           "kafka.client.id=from-file\n"
                                           "kafka.linger.ms=7\n",
                                           "k.properties", err, sizeof(err)),
                     KF_OK);
    /* -X style: bare librdkafka property, flag layer beats the file */
    assert_int_equal(
        kf_config_set_pair(cfg, "client.id=from-flag", 1, KF_CFG_SRC_FLAG, "-X", err, sizeof(err)),
        KF_OK);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(kf_config_apply_kafka(cfg, conf, err, sizeof(err)), KF_OK);
    char buf[256];
    size_t sz = sizeof(buf);
    assert_int_equal(rd_kafka_conf_get(conf, "client.id", buf, &sz), RD_KAFKA_CONF_OK);
    assert_string_equal(buf, "from-flag");
    sz = sizeof(buf);
    assert_int_equal(rd_kafka_conf_get(conf, "linger.ms", buf, &sz), RD_KAFKA_CONF_OK);
    assert_string_equal(buf, "7");
    sz = sizeof(buf);
    assert_int_equal(rd_kafka_conf_get(conf, "bootstrap.servers", buf, &sz), RD_KAFKA_CONF_OK);
    assert_string_equal(buf, "broker1:9092");
    rd_kafka_conf_destroy(conf);

    /* librdkafka rejects the property: the error names our key and origin */
    assert_int_equal(kf_config_load_string(cfg, "\nkafka.no.such.property=1\n", "k.properties", err,
                                           sizeof(err)),
                     KF_OK);
    conf = rd_kafka_conf_new();
    assert_int_equal(kf_config_apply_kafka(cfg, conf, err, sizeof(err)), KF_ERR_CONFIG);
    assert_non_null(strstr(err, "kafka.no.such.property"));
    assert_non_null(strstr(err, "k.properties:2"));
    rd_kafka_conf_destroy(conf);
    kf_config_free(cfg);

    cfg = kf_config_new();
    assert_int_equal(
        kf_config_set_pair(cfg, "linger.ms=abc", 1, KF_CFG_SRC_FLAG, "-X", err, sizeof(err)),
        KF_OK);
    conf = rd_kafka_conf_new();
    assert_int_equal(kf_config_apply_kafka(cfg, conf, err, sizeof(err)), KF_ERR_CONFIG);
    assert_non_null(strstr(err, "kafka.linger.ms"));
    rd_kafka_conf_destroy(conf);
    assert_int_equal(kf_config_set_pair(cfg, "=x", 1, KF_CFG_SRC_FLAG, "-X", err, sizeof(err)),
                     KF_ERR_CONFIG);
    assert_int_equal(kf_config_set_pair(cfg, "novalue", 1, KF_CFG_SRC_FLAG, "-X", err, sizeof(err)),
                     KF_ERR_CONFIG);
    kf_config_free(cfg);
}

static void test_key_table(void **state) {
    (void)state;
    assert_true(kf_config_key_count() > 10);
    for (size_t i = 0; i < kf_config_key_count(); i++) {
        const kf_config_key_t *k = kf_config_key_at(i);
        assert_non_null(k->name);
        assert_non_null(k->help);
        /* every default is valid for its own row */
        if (k->def) {
            kf_config_t *cfg = kf_config_new();
            char key[256], err[512] = "";
            snprintf(key, sizeof(key), "%s", k->name);
            char *star = strchr(key, '*');
            if (star) { /* model.*.x -> model.m.x */
                *star = 'm';
            }
            if (kf_config_set(cfg, key, k->def, KF_CFG_SRC_FILE, NULL, err, sizeof(err)) != KF_OK)
                fail_msg("default of %s invalid: %s", k->name, err);
            kf_config_free(cfg);
        }
    }
    assert_null(kf_config_key_at(kf_config_key_count()));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    kf_config_print_keys(f);
    fclose(f);
    assert_non_null(strstr(buf, "model.*.max_batch"));
    assert_non_null(strstr(buf, "kafka.<property>"));
    free(buf);
}

static void test_load_all_layers_and_dump(void **state) {
    (void)state;
    char *path = write_tmp("group=g-file\nthreads=2\ns3.secret_access_key=hunter2\n");
    char *sets[] = {"threads=3", "codec=auto"};
    char *xs[] = {"client.id=cli", "kafka.linger.ms=9"};
    char *envp[] = {"KINFER_CODEC=confluent", NULL};
    char err[512] = "";
    kf_config_t *cfg = kf_config_load(path, sets, 2, xs, 2, envp, err, sizeof(err));
    assert_non_null(cfg);
    assert_string_equal(kf_config_get(cfg, "group"), "g-file");
    assert_int_equal(kf_config_get_int(cfg, "threads", 0), 3);
    assert_string_equal(kf_config_get(cfg, "codec"), "confluent");
    assert_string_equal(kf_config_get(cfg, "kafka.client.id"), "cli");
    assert_string_equal(kf_config_get(cfg, "kafka.linger.ms"), "9");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    kf_config_dump(cfg, f);
    fclose(f);
    assert_non_null(strstr(buf, "threads=3  # flag --set"));
    assert_non_null(strstr(buf, "codec=confluent  # environment KINFER_CODEC"));
    assert_non_null(strstr(buf, "s3.secret_access_key=***"));
    assert_null(strstr(buf, "hunter2"));
    free(buf);
    kf_config_free(cfg);

    char *badset[] = {"thread=3"};
    assert_null(kf_config_load(path, badset, 1, NULL, 0, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "unknown config key 'thread' (--set)"));
    assert_null(
        kf_config_load("/nonexistent.properties", NULL, 0, NULL, 0, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent.properties"));
    unlink(path);
    free(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_file_parsing),
        cmocka_unit_test(test_precedence_all_layers),
        cmocka_unit_test(test_unknown_key_names_file_line),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_bad_value_types),
        cmocka_unit_test(test_good_values),
        cmocka_unit_test(test_env_mapping),
        cmocka_unit_test(test_kafka_passthrough),
        cmocka_unit_test(test_key_table),
        cmocka_unit_test(test_device_values),
        cmocka_unit_test(test_load_all_layers_and_dump),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
