/* Unit tests for kf_npy: round trips, byte-exact numpy headers, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kf_npy.h"

/* A scratch directory under the test's working directory. */
static int setup_dir(void **state) {
    char *dir = strdup("test_npy_XXXXXX");
    if (!dir || !mkdtemp(dir)) {
        free(dir);
        return -1;
    }
    *state = dir;
    return 0;
}

static int teardown_dir(void **state) {
    char *dir = *state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    int rc = system(cmd);
    free(dir);
    return rc == 0 ? 0 : -1;
}

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Builds a v1.0 .npy image with a given header dict and data length. */
static size_t make_npy(uint8_t *buf, const char *dict, size_t data_len) {
    size_t dl = strlen(dict);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (uint8_t)((dl + 1) & 0xff);
    buf[9] = (uint8_t)((dl + 1) >> 8);
    memcpy(buf + 10, dict, dl);
    buf[10 + dl] = '\n';
    memset(buf + 11 + dl, 0x5a, data_len);
    return 11 + dl + data_len;
}

static void test_roundtrip_all_dtypes(void **state) {
    const char *dir = *state;
    const kf_dtype_t dts[] = {KF_DTYPE_FLOAT32, KF_DTYPE_FLOAT16, KF_DTYPE_FLOAT64, KF_DTYPE_INT8,
                              KF_DTYPE_UINT8,   KF_DTYPE_INT32,   KF_DTYPE_INT64,   KF_DTYPE_BOOL};
    for (size_t i = 0; i < sizeof(dts) / sizeof(dts[0]); i++) {
        int64_t shape[3] = {2, 3, 4};
        size_t n = 24 * kf_dtype_size(dts[i]);
        uint8_t *data = malloc(n);
        assert_non_null(data);
        for (size_t k = 0; k < n; k++)
            data[k] = (uint8_t)(k * 13 + i);
        char path[256];
        snprintf(path, sizeof(path), "%s/a%zu.npy", dir, i);
        char err[256] = "";
        assert_int_equal(kf_npy_save_file(path, dts[i], 3, shape, data, n, err, sizeof(err)),
                         KF_OK);
        kf_npy_t *a = NULL;
        assert_int_equal(kf_npy_load_file(path, 0, &a, err, sizeof(err)), KF_OK);
        assert_int_equal(a->dtype, dts[i]);
        assert_int_equal(a->rank, 3);
        assert_true(a->shape[0] == 2 && a->shape[1] == 3 && a->shape[2] == 4);
        assert_int_equal(a->elements, 24);
        assert_int_equal(a->nbytes, n);
        assert_memory_equal(a->data, data, n);
        kf_npy_free(a);
        free(data);
    }
    kf_npy_free(NULL);
}

/* Our writer produces exactly what numpy 1.24's np.save writes. */
static void test_numpy_identical_headers(void **state) {
    (void)state;
    static const struct {
        kf_dtype_t dt;
        uint32_t rank;
        int64_t shape[8];
        const char *dict;
        size_t total;
    } cases[] = {
        {KF_DTYPE_FLOAT32,
         2,
         {2, 3},
         "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
         152},
        {KF_DTYPE_INT64, 1, {3}, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", 152},
        {KF_DTYPE_UINT8, 0, {0}, "{'descr': '|u1', 'fortran_order': False, 'shape': (), }", 129},
        {KF_DTYPE_BOOL,
         8,
         {1, 2, 1, 1, 1, 1, 1, 1},
         "{'descr': '|b1', 'fortran_order': False, 'shape': (1, 2, 1, 1, 1, 1, 1, 1), }",
         130},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t data[64] = {0};
        uint64_t n = 1;
        for (uint32_t k = 0; k < cases[i].rank; k++)
            n *= (uint64_t)cases[i].shape[k];
        size_t nb = (size_t)n * kf_dtype_size(cases[i].dt);
        kf_buf_t b = KF_BUF_INIT;
        assert_int_equal(
            kf_npy_write_mem(&b, cases[i].dt, cases[i].rank, cases[i].shape, data, nb, NULL, 0),
            KF_OK);
        assert_int_equal(b.len, cases[i].total);
        assert_memory_equal(b.data, "\x93NUMPY\x01\x00", 8);
        assert_int_equal(b.data[8] | (b.data[9] << 8), 118);
        size_t dl = strlen(cases[i].dict);
        assert_memory_equal(b.data + 10, cases[i].dict, dl);
        for (size_t k = 10 + dl; k < 127; k++)
            assert_int_equal(b.data[k], ' ');
        assert_int_equal(b.data[127], '\n');
        kf_npy_t *a = NULL;
        assert_int_equal(kf_npy_load_mem(b.data, b.len, NULL, &a, NULL, 0), KF_OK);
        assert_int_equal(a->rank, cases[i].rank);
        assert_int_equal(a->elements, n);
        kf_npy_free(a);
        kf_buf_free(&b);
    }
}

static void test_header_variants(void **state) {
    (void)state;
    uint8_t buf[512];
    kf_npy_t *a = NULL;
    /* key order, double quotes, no trailing comma, '=' byte order, 'L' */
    size_t n =
        make_npy(buf, "{\"shape\": (2L, 2), \"fortran_order\": False, \"descr\": \"=i4\"}", 16);
    assert_int_equal(kf_npy_load_mem(buf, n, "v", &a, NULL, 0), KF_OK);
    assert_int_equal(a->dtype, KF_DTYPE_INT32);
    assert_true(a->shape[0] == 2 && a->shape[1] == 2);
    kf_npy_free(a);
    /* format version 2.0: 4-byte header length */
    const char *dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }\n";
    size_t dl = strlen(dict);
    memcpy(buf, "\x93NUMPY\x02\x00", 8);
    buf[8] = (uint8_t)dl;
    buf[9] = buf[10] = buf[11] = 0;
    memcpy(buf + 12, dict, dl);
    memset(buf + 12 + dl, 0, 8);
    assert_int_equal(kf_npy_load_mem(buf, 12 + dl + 8, "v2", &a, NULL, 0), KF_OK);
    assert_int_equal(a->dtype, KF_DTYPE_FLOAT64);
    assert_int_equal(a->elements, 1);
    kf_npy_free(a);
}

static void expect_mem_error(const char *dict, size_t data_len, kf_status_t st, const char *msg) {
    uint8_t buf[1024];
    size_t n = make_npy(buf, dict, data_len);
    kf_npy_t *a = (kf_npy_t *)(uintptr_t)1;
    char err[256] = "";
    kf_status_t got = kf_npy_load_mem(buf, n, "in.npy", &a, err, sizeof(err));
    if (got != st || !strstr(err, msg))
        print_error("got %s \"%s\", want \"%s\"\n", kf_status_str(got), err, msg);
    assert_int_equal(got, st);
    assert_non_null(strstr(err, msg));
    assert_null(a);
}

static void test_fortran_order_names_file(void **state) {
    const char *dir = *state;
    uint8_t buf[256];
    size_t n = make_npy(buf, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16);
    char path[256];
    snprintf(path, sizeof(path), "%s/fortran.npy", dir);
    write_bytes(path, buf, n);
    kf_npy_t *a = NULL;
    char err[256] = "";
    assert_int_equal(kf_npy_load_file(path, 0, &a, err, sizeof(err)), KF_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "fortran_order"));
    assert_null(a);
}

static void test_bad_magic(void **state) {
    (void)state;
    const char junk[] = "PK\x03\x04 this is a zip file, not npy";
    kf_npy_t *a = NULL;
    char err[256] = "";
    assert_int_equal(kf_npy_load_mem(junk, sizeof(junk), "x.npy", &a, err, sizeof(err)),
                     KF_ERR_DECODE);
    assert_string_equal(err, "x.npy: not a .npy file (bad magic)");
}

static void test_data_length_mismatch(void **state) {
    (void)state;
    expect_mem_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 15,
                     KF_ERR_DECODE, "in.npy: 15 data bytes, expected 16");
    expect_mem_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 17,
                     KF_ERR_DECODE, "in.npy: 17 data bytes, expected 16");
}

static void test_truncated_file(void **state) {
    const char *dir = *state;
    kf_buf_t b = KF_BUF_INIT;
    int64_t shape[] = {100};
    float data[100] = {0};
    assert_int_equal(kf_npy_write_mem(&b, KF_DTYPE_FLOAT32, 1, shape, data, sizeof(data), NULL, 0),
                     KF_OK);
    char path[256];
    snprintf(path, sizeof(path), "%s/cut.npy", dir);
    char err[256] = "";
    kf_npy_t *a = NULL;
    for (size_t cut = 0; cut < b.len; cut += 37) {
        write_bytes(path, b.data, cut);
        assert_int_equal(kf_npy_load_file(path, 0, &a, err, sizeof(err)), KF_ERR_DECODE);
        assert_non_null(strstr(err, path));
        assert_null(a);
    }
    kf_buf_free(&b);
}

static void test_unsupported_descr(void **state) {
    (void)state;
    expect_mem_error("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", 4,
                     KF_ERR_UNSUPPORTED, "in.npy: unsupported dtype descr '>f4'");
    expect_mem_error("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8,
                     KF_ERR_UNSUPPORTED, "unsupported dtype descr '<c8'");
    expect_mem_error("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4,
                     KF_ERR_DECODE, "in.npy: descr is not a string");
}

static void test_bad_shape(void **state) {
    (void)state;
    expect_mem_error("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 4,
                     KF_ERR_LIMIT, "in.npy: shape rank exceeds 8");
    expect_mem_error("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 4, KF_ERR_DECODE,
                     "in.npy: malformed shape tuple");
    expect_mem_error("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, "
                     "4294967296, 4294967296), }",
                     4, KF_ERR_LIMIT, "in.npy: element count overflows");
    expect_mem_error("{'descr': '<f4', 'fortran_order': False}", 4, KF_ERR_DECODE,
                     "in.npy: header lacks shape");
}

static void test_limit_and_missing_file(void **state) {
    const char *dir = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/big.npy", dir);
    int64_t shape[] = {1000};
    static uint8_t data[1000];
    char err[256] = "";
    assert_int_equal(
        kf_npy_save_file(path, KF_DTYPE_UINT8, 1, shape, data, sizeof(data), err, sizeof(err)),
        KF_OK);
    kf_npy_t *a = NULL;
    assert_int_equal(kf_npy_load_file(path, 999, &a, err, sizeof(err)), KF_ERR_LIMIT);
    assert_non_null(strstr(err, "exceeds limit 999"));
    snprintf(path, sizeof(path), "%s/missing.npy", dir);
    assert_int_equal(kf_npy_load_file(path, 0, &a, err, sizeof(err)), KF_ERR_IO);
    assert_non_null(strstr(err, "missing.npy"));
}

static void test_write_errors(void **state) {
    (void)state;
    kf_buf_t b = KF_BUF_INIT;
    int64_t shape[] = {2};
    uint16_t bf[2] = {0};
    char err[256] = "";
    assert_int_equal(
        kf_npy_write_mem(&b, KF_DTYPE_BFLOAT16, 1, shape, bf, sizeof(bf), err, sizeof(err)),
        KF_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, "BFLOAT16"));
    assert_int_equal(kf_npy_write_mem(&b, KF_DTYPE_FLOAT32, 1, shape, bf, 4, err, sizeof(err)),
                     KF_ERR_INVALID_ARG);
    assert_int_equal(b.len, 0);
    assert_int_equal(
        kf_npy_save_file("no-such-dir/x.npy", KF_DTYPE_UINT8, 1, shape, bf, 2, err, sizeof(err)),
        KF_ERR_IO);
    assert_non_null(strstr(err, "no-such-dir/x.npy"));
    kf_buf_free(&b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_roundtrip_all_dtypes),
        T(test_numpy_identical_headers),
        T(test_header_variants),
        T(test_fortran_order_names_file),
        T(test_bad_magic),
        T(test_data_length_mismatch),
        T(test_truncated_file),
        T(test_unsupported_descr),
        T(test_bad_shape),
        T(test_limit_and_missing_file),
        T(test_write_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
