/* Unit tests for kf_cli_util: tensor spec parsing, JSON string escaping,
 * random fill validity, integer parsing, overflow-checked tensor sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kf_cli_util.h"

static void test_spec_parse(void **state) {
    (void)state;
    kf_tensor_spec_t s;
    char err[256];
    assert_int_equal(kf_tensor_spec_parse("input:float32:1x784", &s, err, sizeof(err)), KF_OK);
    assert_string_equal(s.name, "input");
    assert_int_equal(s.dtype, KF_DTYPE_FLOAT32);
    assert_int_equal(s.rank, 2);
    assert_int_equal(s.shape[0], 1);
    assert_int_equal(s.shape[1], 784);
    assert_int_equal(kf_tensor_spec_parse(":i64:2X3x4", &s, err, sizeof(err)), KF_OK);
    assert_string_equal(s.name, "");
    assert_int_equal(s.dtype, KF_DTYPE_INT64);
    assert_int_equal(s.rank, 3);
    assert_int_equal(kf_tensor_spec_parse("s:bool:", &s, err, sizeof(err)), KF_OK);
    assert_int_equal(s.rank, 0);
    const char *bad[] = {"input",
                         "input:float32",
                         "x:nope:1",
                         "x:f32:1x",
                         "x:f32:-1",
                         "x:f32:1xx2",
                         "x:f32:a",
                         "x::1",
                         "x:f32:1x2x3x4x5x6x7x8x9",
                         "x:f32:99999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (kf_tensor_spec_parse(bad[i], &s, err, sizeof(err)) != KF_ERR_INVALID_ARG ||
            !strstr(err, bad[i]))
            fail_msg("spec '%s' accepted or error '%s' does not name it", bad[i], err);
    }
}

static char *json(const char *s, size_t n) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    kf_json_write_str(f, s, n);
    fclose(f);
    return buf;
}

static void test_json_escape(void **state) {
    (void)state;
    char *j = json("a\"b\\c\nd\te\r\x01\x7f", 12);
    assert_string_equal(j, "\"a\\\"b\\\\c\\nd\\te\\r\\u0001\\u007f\"");
    free(j);
    j = json("\xc3\xa9 \xe2\x9c\x93 \xf0\x9d\x84\x9e", 11); /* é ✓ 𝄞 stay UTF-8 */
    assert_string_equal(j, "\"\xc3\xa9 \xe2\x9c\x93 \xf0\x9d\x84\x9e\"");
    free(j);
    j = json("\xff\xc3(\xed\xa0\x80", 6); /* invalid UTF-8 / surrogate: escaped bytes */
    assert_string_equal(j, "\"\\u00ff\\u00c3(\\u00ed\\u00a0\\u0080\"");
    free(j);
    j = json("a\0b", 3); /* embedded NUL */
    assert_string_equal(j, "\"a\\u0000b\"");
    free(j);
}

static void test_random_fill(void **state) {
    (void)state;
    kf_rng_t r;
    kf_rng_seed(&r, 5);
    float f[1000];
    kf_random_fill(&r, KF_DTYPE_FLOAT32, f, sizeof(f));
    for (int i = 0; i < 1000; i++)
        assert_true(f[i] >= -1.0f && f[i] < 1.0f);
    uint8_t b[1000];
    kf_random_fill(&r, KF_DTYPE_BOOL, b, sizeof(b));
    int ones = 0;
    for (int i = 0; i < 1000; i++) {
        assert_true(b[i] <= 1);
        ones += b[i];
    }
    assert_true(ones > 100 && ones < 900);
    uint16_t h[1000];
    kf_random_fill(&r, KF_DTYPE_FLOAT16, h, sizeof(h));
    for (int i = 0; i < 1000; i++)
        assert_true(((h[i] >> 10) & 0x1f) < 16); /* |x| < 2: finite, no inf/nan */
    /* same seed, same data */
    kf_rng_t a, c;
    kf_rng_seed(&a, 9);
    kf_rng_seed(&c, 9);
    assert_int_equal(kf_rng_next(&a), kf_rng_next(&c));
}

static void test_parse_and_bytes(void **state) {
    (void)state;
    int64_t v;
    assert_int_equal(kf_cli_parse_i64("42", 1, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(kf_cli_parse_i64("0", 1, 100, &v), -1);
    assert_int_equal(kf_cli_parse_i64("4x", 1, 100, &v), -1);
    assert_int_equal(kf_cli_parse_i64("", 1, 100, &v), -1);
    size_t n;
    int64_t shape[] = {2, 3, 4};
    assert_int_equal(kf_tensor_bytes(KF_DTYPE_FLOAT64, 3, shape, 1 << 20, &n), KF_OK);
    assert_int_equal(n, 192);
    int64_t huge[] = {1LL << 40, 1LL << 40};
    assert_int_equal(kf_tensor_bytes(KF_DTYPE_FLOAT32, 2, huge, SIZE_MAX, &n), KF_ERR_LIMIT);
    assert_int_equal(kf_tensor_bytes(KF_DTYPE_FLOAT32, 3, shape, 95, &n), KF_ERR_LIMIT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_parse),
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_random_fill),
        cmocka_unit_test(test_parse_and_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
