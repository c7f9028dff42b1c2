/* Unit tests for kf_log: level filtering, context fields, JSON escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include "kf_log.h"

static char *capture(kf_log_format_t fmt, kf_log_level_t min, kf_log_level_t at,
                     const kf_log_ctx_t *ctx, const char *msg) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    kf_log_params_t p = kf_log_default_params();
    p.format = fmt;
    p.level = min;
    p.stream = f;
    p.component = "test";
    kf_logger_t *lg = kf_logger_new(&p);
    assert_non_null(lg);
    kf_log_at(lg, at, ctx, "%s", msg);
    kf_logger_free(lg);
    fclose(f);
    return buf;
}

static void test_level_filter(void **state) {
    (void)state;
    char *s = capture(KF_LOG_TEXT, KF_LOG_WARN, KF_LOG_INFO, NULL, "hidden");
    assert_string_equal(s, "");
    free(s);
    s = capture(KF_LOG_TEXT, KF_LOG_WARN, KF_LOG_ERROR, NULL, "shown");
    assert_non_null(strstr(s, "error"));
    assert_non_null(strstr(s, "[test] shown"));
    free(s);
}

static void test_text_context(void **state) {
    (void)state;
    kf_log_ctx_t ctx = {"mnist", "jobs", 3, 42};
    char *s = capture(KF_LOG_TEXT, KF_LOG_DEBUG, KF_LOG_ERROR, &ctx, "bad job");
    assert_non_null(strstr(s, "bad job model=mnist topic=jobs partition=3 offset=42\n"));
    free(s);
}

static void test_json_escape(void **state) {
    (void)state;
    kf_log_ctx_t ctx = {"m\"x", NULL, -1, 7};
    char *s = capture(KF_LOG_JSON, KF_LOG_DEBUG, KF_LOG_WARN, &ctx, "a \"quoted\"\nline\\");
    assert_non_null(strstr(s, "\"level\":\"warn\""));
    assert_non_null(strstr(s, "\"model\":\"m\\\"x\""));
    assert_null(strstr(s, "\"partition\""));
    assert_non_null(strstr(s, "\"offset\":7"));
    assert_non_null(strstr(s, "\"msg\":\"a \\\"quoted\\\"\\nline\\\\\"}\n"));
    free(s);
}

static void test_parse(void **state) {
    (void)state;
    kf_log_level_t l;
    kf_log_format_t f;
    assert_int_equal(kf_log_level_parse("debug", &l), KF_OK);
    assert_int_equal(l, KF_LOG_DEBUG);
    assert_int_equal(kf_log_level_parse("loud", &l), KF_ERR_CONFIG);
    assert_int_equal(kf_log_format_parse("json", &f), KF_OK);
    assert_int_equal(f, KF_LOG_JSON);
    assert_int_equal(kf_log_format_parse("xml", &f), KF_ERR_CONFIG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_filter),
        cmocka_unit_test(test_text_context),
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
