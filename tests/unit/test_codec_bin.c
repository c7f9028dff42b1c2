/* Unit tests for kf_dtype and kf_avro_bin (varints, lengths, kf_buf). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kf_avro_bin.h"
#include "kf_codec.h" /* compiled here so the API headers stay warning-clean */
#include "kf_dtype.h"
#include "kf_npy.h"

static void test_dtype_table(void **state) {
    (void)state;
    static const size_t sizes[] = {4, 2, 2, 8, 1, 1, 4, 8, 1};
    static const char *names[] = {"FLOAT32", "FLOAT16", "BFLOAT16", "FLOAT64", "INT8",
                                  "UINT8",   "INT32",   "INT64",    "BOOL"};
    assert_int_equal(KF_DTYPE_COUNT, 9);
    for (int i = 0; i < (int)KF_DTYPE_COUNT; i++) {
        assert_true(kf_dtype_valid(i));
        assert_int_equal(kf_dtype_size((kf_dtype_t)i), sizes[i]);
        assert_string_equal(kf_dtype_name((kf_dtype_t)i), names[i]);
        kf_dtype_t dt = KF_DTYPE_COUNT;
        assert_int_equal(kf_dtype_parse(names[i], &dt), KF_OK);
        assert_int_equal(dt, i);
    }
    assert_false(kf_dtype_valid(-1));
    assert_false(kf_dtype_valid(9));
    assert_int_equal(kf_dtype_size((kf_dtype_t)9), 0);
    assert_string_equal(kf_dtype_name((kf_dtype_t)42), "INVALID");
}

static void test_dtype_parse_aliases(void **state) {
    (void)state;
    kf_dtype_t dt;
    assert_int_equal(kf_dtype_parse("float32", &dt), KF_OK);
    assert_int_equal(dt, KF_DTYPE_FLOAT32);
    assert_int_equal(kf_dtype_parse("bf16", &dt), KF_OK);
    assert_int_equal(dt, KF_DTYPE_BFLOAT16);
    assert_int_equal(kf_dtype_parse("I64", &dt), KF_OK);
    assert_int_equal(dt, KF_DTYPE_INT64);
    dt = KF_DTYPE_BOOL;
    assert_int_equal(kf_dtype_parse("float128", &dt), KF_ERR_INVALID_ARG);
    assert_int_equal(dt, KF_DTYPE_BOOL);
    assert_int_equal(kf_dtype_parse(NULL, &dt), KF_ERR_INVALID_ARG);
}

/* Known encodings from the Avro specification. */
static void test_varint_known(void **state) {
    (void)state;
    static const struct {
        int64_t v;
        uint8_t bytes[10];
        size_t n;
    } cases[] = {
        {0, {0x00}, 1},
        {-1, {0x01}, 1},
        {1, {0x02}, 1},
        {-64, {0x7f}, 1},
        {64, {0x80, 0x01}, 2},
        {-65, {0x81, 0x01}, 2},
        {INT64_MAX, {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
        {INT64_MIN, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
    };
    kf_buf_t b = KF_BUF_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kf_buf_clear(&b);
        assert_int_equal(kf_avro_put_long(&b, cases[i].v), KF_OK);
        assert_int_equal(b.len, cases[i].n);
        assert_memory_equal(b.data, cases[i].bytes, cases[i].n);
        kf_avro_rd_t r = {b.data, b.data + b.len};
        int64_t got = 0;
        assert_int_equal(kf_avro_get_long(&r, &got), KF_OK);
        assert_true(got == cases[i].v);
        assert_int_equal(kf_avro_rd_left(&r), 0);
    }
    kf_buf_free(&b);
    kf_buf_free(NULL);
}

static void test_varint_bad(void **state) {
    (void)state;
    int64_t v;
    const uint8_t trunc[] = {0x80, 0x80};
    kf_avro_rd_t r = {trunc, trunc + sizeof(trunc)};
    assert_int_equal(kf_avro_get_long(&r, &v), KF_ERR_DECODE);
    const uint8_t toolong[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    r = (kf_avro_rd_t){toolong, toolong + sizeof(toolong)};
    assert_int_equal(kf_avro_get_long(&r, &v), KF_ERR_DECODE);
    const uint8_t over64[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x03};
    r = (kf_avro_rd_t){over64, over64 + sizeof(over64)};
    assert_int_equal(kf_avro_get_long(&r, &v), KF_ERR_DECODE);
    /* an int beyond int32 */
    const uint8_t bigint[] = {0x80, 0x80, 0x80, 0x80, 0x10};
    r = (kf_avro_rd_t){bigint, bigint + sizeof(bigint)};
    int32_t i32;
    assert_int_equal(kf_avro_get_int(&r, &i32), KF_ERR_DECODE);
}

static void test_bytes_lengths(void **state) {
    (void)state;
    const uint8_t *p;
    size_t n;
    const uint8_t ok[] = {0x06, 'a', 'b', 'c'};
    kf_avro_rd_t r = {ok, ok + sizeof(ok)};
    assert_int_equal(kf_avro_get_bytes(&r, &p, &n), KF_OK);
    assert_int_equal(n, 3);
    assert_ptr_equal(p, ok + 1);
    const uint8_t neg[] = {0x01};
    r = (kf_avro_rd_t){neg, neg + sizeof(neg)};
    assert_int_equal(kf_avro_get_bytes(&r, &p, &n), KF_ERR_DECODE);
    const uint8_t past[] = {0x08, 'a', 'b', 'c'};
    r = (kf_avro_rd_t){past, past + sizeof(past)};
    assert_int_equal(kf_avro_get_bytes(&r, &p, &n), KF_ERR_DECODE);
}

static void test_buf_reuse(void **state) {
    (void)state;
    kf_buf_t b = KF_BUF_INIT;
    char big[1000];
    memset(big, 'x', sizeof(big));
    assert_int_equal(kf_avro_put_bytes(&b, big, sizeof(big)), KF_OK);
    assert_int_equal(b.len, 1002);
    uint8_t *data = b.data;
    size_t cap = b.cap;
    kf_buf_clear(&b);
    assert_int_equal(kf_avro_put_string(&b, "hi"), KF_OK);
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.len, 3);
    assert_int_equal(kf_avro_put_string(&b, NULL), KF_OK);
    assert_int_equal(b.len, 4);
    assert_int_equal(kf_buf_reserve(&b, SIZE_MAX), KF_ERR_NOMEM);
    kf_buf_free(&b);
    assert_null(b.data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dtype_table),   cmocka_unit_test(test_dtype_parse_aliases),
        cmocka_unit_test(test_varint_known),  cmocka_unit_test(test_varint_bad),
        cmocka_unit_test(test_bytes_lengths), cmocka_unit_test(test_buf_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
