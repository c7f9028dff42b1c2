/* Unit tests for the pure parts of the artifact modules: s3:// mapping,
 * digest parsing, backoff bounds, repository URLs and version names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kf_artifact_fetch.h"
#include "kf_artifact_repo.h"
#include "kf_artifact_s3.h"
#include "kf_artifact_sha256.h"

static void s3_url(const char *ep, int path_style, const char *region, const char *in,
                   const char *want) {
    kf_s3_params_t p = kf_s3_default_params();
    p.endpoint = ep;
    p.path_style = path_style;
    p.region = region;
    char *out = NULL, err[256] = "";
    assert_int_equal(kf_s3_http_url(&p, in, &out, err, sizeof(err)), KF_OK);
    assert_string_equal(out, want);
    free(out);
}

static void test_s3_mapping(void **state) {
    (void)state;
    s3_url("http://127.0.0.1:9000", -1, NULL, "s3://models/mnist/v1/model.onnx",
           "http://127.0.0.1:9000/models/mnist/v1/model.onnx");
    s3_url("http://127.0.0.1:9000/", 1, NULL, "s3://b/k", "http://127.0.0.1:9000/b/k");
    s3_url("https://minio.local", 0, NULL, "s3://b/a/k", "https://b.minio.local/a/k");
    s3_url(NULL, -1, "eu-west-1", "s3://b/k", "https://b.s3.eu-west-1.amazonaws.com/k");
    s3_url(NULL, 1, "eu-west-1", "s3://b/k", "https://s3.eu-west-1.amazonaws.com/b/k");
    s3_url("http://h:1", 1, NULL, "s3://b/a b+c", "http://h:1/b/a%20b%2Bc");
}

static void test_s3_bad(void **state) {
    (void)state;
    kf_s3_params_t p = kf_s3_default_params();
    char *out = NULL, err[256] = "";
    assert_int_equal(kf_s3_http_url(&p, "s3://bucket", &out, err, sizeof(err)), KF_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "s3://bucket"));
    assert_int_equal(kf_s3_http_url(&p, "s3:///key", &out, err, sizeof(err)), KF_ERR_INVALID_ARG);
    assert_int_equal(kf_s3_http_url(&p, "http://x/y", &out, err, sizeof(err)), KF_ERR_INVALID_ARG);
    assert_int_equal(kf_s3_http_url(&p, "s3://a b/k", &out, err, sizeof(err)), KF_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "bad bucket name"));
    assert_int_equal(kf_s3_http_url(&p, "s3://a@evil.com/k", &out, err, sizeof(err)),
                     KF_ERR_INVALID_ARG);
    assert_null(out);
}

static void test_sha256(void **state) {
    (void)state;
    char hex[KF_SHA256_HEX_LEN + 1];
    assert_int_equal(kf_sha256_buf("abc", 3, hex), KF_OK);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(kf_sha256_buf("", 0, hex), KF_OK);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *line =
        "  BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD  model.onnx\n";
    char out[KF_SHA256_HEX_LEN + 1];
    assert_int_equal(kf_sha256_parse_hex(line, strlen(line), out), KF_OK);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(kf_sha256_parse_hex("abc", 3, out), KF_ERR_DECODE);
    const char *long65 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0";
    assert_int_equal(kf_sha256_parse_hex(long65, strlen(long65), out), KF_ERR_DECODE);
    const char *bad = "za7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert_int_equal(kf_sha256_parse_hex(bad, strlen(bad), out), KF_ERR_DECODE);
}

static void test_backoff(void **state) {
    (void)state;
    kf_fetch_params_t p = kf_fetch_default_params();
    p.backoff_initial_ms = 100;
    p.backoff_max_ms = 1000;
    unsigned seed = 7;
    for (int i = 0; i < 200; i++) {
        int retry = i % 8;
        long want = 100L << retry;
        if (want > 1000)
            want = 1000;
        long d = kf_fetch_backoff_ms(&p, retry, &seed);
        assert_true(d >= want / 2 && d <= want);
    }
    /* jitter actually varies */
    long a = kf_fetch_backoff_ms(&p, 3, &seed), differ = 0;
    for (int i = 0; i < 20; i++)
        differ |= kf_fetch_backoff_ms(&p, 3, &seed) != a;
    assert_true(differ);
}

static void test_repo_names(void **state) {
    (void)state;
    assert_true(kf_repo_version_valid("v1"));
    assert_true(kf_repo_version_valid("2024-01-02_a.b"));
    assert_false(kf_repo_version_valid(""));
    assert_false(kf_repo_version_valid(".."));
    assert_false(kf_repo_version_valid("a/b"));
    assert_false(kf_repo_version_valid("a b"));
    char *u = kf_repo_url("s3://bucket/prefix/", "mnist", "v2", "model.onnx");
    assert_string_equal(u, "s3://bucket/prefix/mnist/v2/model.onnx");
    free(u);
    u = kf_repo_url("http://h/m", "mnist", "LATEST", NULL);
    assert_string_equal(u, "http://h/m/mnist/LATEST");
    free(u);
}

static void test_normalize(void **state) {
    (void)state;
    char *u = kf_fetch_normalize_url("/a/b.onnx");
    assert_string_equal(u, "file:///a/b.onnx");
    free(u);
    u = kf_fetch_normalize_url("http://x/y");
    assert_string_equal(u, "http://x/y");
    free(u);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3_mapping), cmocka_unit_test(test_s3_bad),
        cmocka_unit_test(test_sha256),     cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_repo_names), cmocka_unit_test(test_normalize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
