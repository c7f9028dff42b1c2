/* Interop tests: our codec against Avro C (libavro), an independent
 * implementation of the same schemas, in both directions; and the compiled-in
 * schema texts against schemas/ *.avsc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec_avro_check.h"
#include "kf_codec.h"

static char *read_file(const char *rel, size_t *len) {
    const char *root = getenv("KINFER_SOURCE_DIR");
    assert_non_null(root);
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void test_schemas_match_files(void **state) {
    (void)state;
    size_t n;
    char *req = read_file("schemas/inference_request.avsc", &n);
    assert_int_equal(strlen(kf_codec_request_schema_json()), n);
    assert_string_equal(kf_codec_request_schema_json(), req);
    free(req);
    char *res = read_file("schemas/inference_result.avsc", &n);
    assert_string_equal(kf_codec_result_schema_json(), res);
    free(res);
    avro_kind_t k;
    assert_int_equal(avro_kind_open(&k, kf_codec_request_schema_json()), 0);
    avro_kind_close(&k);
    assert_int_equal(avro_kind_open(&k, kf_codec_result_schema_json()), 0);
    avro_kind_close(&k);
}

static const kf_kv_t meta[] = {{"trace", "t-1"}, {"k2", "v2"}};

/* Our request encoder -> Avro C decoder: every field equal. */
static void test_request_ours_to_avro(void **state) {
    (void)state;
    float px[2 * 4];
    for (int i = 0; i < 8; i++)
        px[i] = (float)i * 0.5f - 1.0f;
    uint8_t mask[2] = {1, 0};
    kf_tensor_view_t in[2] = {
        {.name = "pixels",
         .dtype = KF_DTYPE_FLOAT32,
         .rank = 2,
         .shape = {2, 4},
         .data = px,
         .nbytes = sizeof(px)},
        {.name = "mask",
         .dtype = KF_DTYPE_BOOL,
         .rank = 1,
         .shape = {2},
         .data = mask,
         .nbytes = 2},
    };
    kf_request_t req = {.id = "job-1",
                        .model = "mnist",
                        .model_version = "v2",
                        .has_deadline = 1,
                        .deadline_ms = -77,
                        .reply_topic = NULL,
                        .inputs = in,
                        .n_inputs = 2,
                        .metadata = meta,
                        .n_metadata = 2};
    kf_buf_t b = KF_BUF_INIT;
    kf_codec_error_t err;
    assert_int_equal(kf_codec_encode_request(NULL, &req, &b, &err), KF_OK);
    avro_kind_t k;
    assert_int_equal(avro_kind_open(&k, kf_codec_request_schema_json()), 0);
    assert_int_equal(avro_kind_read(&k, b.data, b.len), 0);
    avro_value_t f, br, arr, t, v;
    assert_int_equal(av_field(&k.value, "id", &f), 0);
    assert_string_equal(av_string(&f), "job-1");
    assert_int_equal(av_field(&k.value, "model", &f), 0);
    assert_string_equal(av_string(&f), "mnist");
    assert_int_equal(av_field(&k.value, "model_version", &f), 0);
    int disc;
    assert_int_equal(avro_value_get_discriminant(&f, &disc), 0);
    assert_int_equal(disc, 1);
    assert_int_equal(avro_value_get_current_branch(&f, &br), 0);
    assert_string_equal(av_string(&br), "v2");
    assert_int_equal(av_field(&k.value, "deadline_ms", &f), 0);
    assert_int_equal(avro_value_get_current_branch(&f, &br), 0);
    int64_t l;
    assert_int_equal(avro_value_get_long(&br, &l), 0);
    assert_true(l == -77);
    assert_int_equal(av_field(&k.value, "reply_topic", &f), 0);
    assert_int_equal(avro_value_get_discriminant(&f, &disc), 0);
    assert_int_equal(disc, 0);
    assert_int_equal(av_field(&k.value, "inputs", &arr), 0);
    size_t n;
    assert_int_equal(avro_value_get_size(&arr, &n), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(avro_value_get_by_index(&arr, i, &t, NULL), 0);
        assert_int_equal(av_field(&t, "name", &v), 0);
        assert_string_equal(av_string(&v), in[i].name);
        assert_int_equal(av_field(&t, "dtype", &v), 0);
        int e;
        assert_int_equal(avro_value_get_enum(&v, &e), 0);
        assert_int_equal(e, in[i].dtype);
        assert_int_equal(av_field(&t, "shape", &v), 0);
        size_t rank;
        assert_int_equal(avro_value_get_size(&v, &rank), 0);
        assert_int_equal(rank, in[i].rank);
        for (size_t d = 0; d < rank; d++) {
            avro_value_t dim;
            assert_int_equal(avro_value_get_by_index(&v, d, &dim, NULL), 0);
            assert_int_equal(avro_value_get_long(&dim, &l), 0);
            assert_true(l == in[i].shape[d]);
        }
        assert_int_equal(av_field(&t, "data", &v), 0);
        const void *bytes;
        size_t nb;
        assert_int_equal(avro_value_get_bytes(&v, &bytes, &nb), 0);
        assert_int_equal(nb, in[i].nbytes);
        assert_memory_equal(bytes, in[i].data, nb);
    }
    assert_int_equal(av_field(&k.value, "metadata", &f), 0);
    assert_int_equal(avro_value_get_size(&f, &n), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        const char *key;
        assert_int_equal(avro_value_get_by_index(&f, i, &v, &key), 0);
        assert_string_equal(key, meta[i].key);
        assert_string_equal(av_string(&v), meta[i].value);
    }
    /* and Avro C writes back exactly the bytes we wrote */
    kf_buf_t again = KF_BUF_INIT;
    assert_int_equal(avro_kind_write(&k, &again), 0);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    kf_buf_free(&again);
    avro_kind_close(&k);
    kf_buf_free(&b);
}

/* Avro C builds and writes a request -> our decoder reads the same values. */
static void test_request_avro_to_ours(void **state) {
    (void)state;
    avro_kind_t k;
    assert_int_equal(avro_kind_open(&k, kf_codec_request_schema_json()), 0);
    avro_value_t f, br, arr, t, v, dim;
    assert_int_equal(av_field(&k.value, "id", &f), 0);
    assert_int_equal(avro_value_set_string(&f, "py-42"), 0);
    assert_int_equal(av_field(&k.value, "model", &f), 0);
    assert_int_equal(avro_value_set_string(&f, "bert"), 0);
    assert_int_equal(av_field(&k.value, "model_version", &f), 0);
    assert_int_equal(avro_value_set_branch(&f, 0, &br), 0);
    assert_int_equal(avro_value_set_null(&br), 0);
    assert_int_equal(av_field(&k.value, "inputs", &arr), 0);
    assert_int_equal(avro_value_append(&arr, &t, NULL), 0);
    assert_int_equal(av_field(&t, "name", &v), 0);
    assert_int_equal(avro_value_set_string(&v, "ids"), 0);
    assert_int_equal(av_field(&t, "dtype", &v), 0);
    assert_int_equal(avro_value_set_enum(&v, KF_DTYPE_INT64), 0);
    assert_int_equal(av_field(&t, "shape", &v), 0);
    assert_int_equal(avro_value_append(&v, &dim, NULL), 0);
    assert_int_equal(avro_value_set_long(&dim, 1), 0);
    assert_int_equal(avro_value_append(&v, &dim, NULL), 0);
    assert_int_equal(avro_value_set_long(&dim, 3), 0);
    int64_t ids[3] = {101, -2, 1LL << 50};
    assert_int_equal(av_field(&t, "data", &v), 0);
    assert_int_equal(avro_value_set_bytes(&v, ids, sizeof(ids)), 0);
    assert_int_equal(av_field(&k.value, "deadline_ms", &f), 0);
    assert_int_equal(avro_value_set_branch(&f, 1, &br), 0);
    assert_int_equal(avro_value_set_long(&br, 1700000000000LL), 0);
    assert_int_equal(av_field(&k.value, "reply_topic", &f), 0);
    assert_int_equal(avro_value_set_branch(&f, 1, &br), 0);
    assert_int_equal(avro_value_set_string(&br, "out"), 0);
    assert_int_equal(av_field(&k.value, "metadata", &f), 0);
    assert_int_equal(avro_value_add(&f, "a", &v, NULL, NULL), 0);
    assert_int_equal(avro_value_set_string(&v, "b"), 0);
    kf_buf_t b = KF_BUF_INIT;
    assert_int_equal(avro_kind_write(&k, &b), 0);
    avro_kind_close(&k);

    kf_request_t *q = NULL;
    kf_codec_error_t err;
    assert_int_equal(kf_codec_decode_request(NULL, b.data, b.len, &q, &err), KF_OK);
    assert_string_equal(q->id, "py-42");
    assert_string_equal(q->model, "bert");
    assert_null(q->model_version);
    assert_true(q->has_deadline && q->deadline_ms == 1700000000000LL);
    assert_string_equal(q->reply_topic, "out");
    assert_int_equal(q->n_inputs, 1);
    assert_string_equal(q->inputs[0].name, "ids");
    assert_int_equal(q->inputs[0].dtype, KF_DTYPE_INT64);
    assert_int_equal(q->inputs[0].rank, 2);
    assert_true(q->inputs[0].shape[0] == 1 && q->inputs[0].shape[1] == 3);
    assert_memory_equal(q->inputs[0].data, ids, sizeof(ids));
    assert_int_equal(q->n_metadata, 1);
    assert_string_equal(q->metadata[0].key, "a");
    assert_string_equal(q->metadata[0].value, "b");
    /* re-encoding with our encoder gives Avro C's bytes */
    kf_buf_t mine = KF_BUF_INIT;
    assert_int_equal(kf_codec_encode_request(NULL, q, &mine, &err), KF_OK);
    assert_int_equal(mine.len, b.len);
    assert_memory_equal(mine.data, b.data, b.len);
    kf_buf_free(&mine);
    kf_request_free(q);
    kf_buf_free(&b);
}

/* Our result encoder -> Avro C decoder, and Avro C's bytes -> our decoder. */
static void test_result_ours_to_avro(void **state) {
    (void)state;
    uint16_t half[4] = {0x3c00, 0x4000, 0xbc00, 0};
    kf_tensor_view_t outs[1] = {{.name = "y",
                                 .dtype = KF_DTYPE_FLOAT16,
                                 .rank = 2,
                                 .shape = {2, 2},
                                 .data = half,
                                 .nbytes = sizeof(half)}};
    kf_result_t res = {.id = "r1",
                       .model = "m",
                       .model_version = "7",
                       .status = KF_RESULT_DEADLINE_EXCEEDED,
                       .error = "too late",
                       .outputs = outs,
                       .n_outputs = 1,
                       .batch_size = 32,
                       .queue_us = 10,
                       .compute_us = 20,
                       .worker = "w:1",
                       .source_topic = "jobs",
                       .source_partition = 5,
                       .source_offset = 99,
                       .metadata = meta,
                       .n_metadata = 1};
    kf_buf_t b = KF_BUF_INIT;
    kf_codec_error_t err;
    assert_int_equal(kf_codec_encode_result(NULL, &res, &b, &err), KF_OK);
    avro_kind_t k;
    assert_int_equal(avro_kind_open(&k, kf_codec_result_schema_json()), 0);
    assert_int_equal(avro_kind_read(&k, b.data, b.len), 0);
    avro_value_t f, br, v, t, src;
    assert_int_equal(av_field(&k.value, "id", &f), 0);
    assert_string_equal(av_string(&f), "r1");
    assert_int_equal(av_field(&k.value, "model_version", &f), 0);
    assert_string_equal(av_string(&f), "7");
    int e;
    assert_int_equal(av_field(&k.value, "status", &f), 0);
    assert_int_equal(avro_value_get_enum(&f, &e), 0);
    assert_int_equal(e, KF_RESULT_DEADLINE_EXCEEDED);
    assert_int_equal(av_field(&k.value, "error", &f), 0);
    assert_int_equal(avro_value_get_current_branch(&f, &br), 0);
    assert_string_equal(av_string(&br), "too late");
    assert_int_equal(av_field(&k.value, "outputs", &f), 0);
    assert_int_equal(avro_value_get_by_index(&f, 0, &t, NULL), 0);
    assert_int_equal(av_field(&t, "data", &v), 0);
    const void *bytes;
    size_t nb;
    assert_int_equal(avro_value_get_bytes(&v, &bytes, &nb), 0);
    assert_int_equal(nb, sizeof(half));
    assert_memory_equal(bytes, half, nb);
    int32_t i32;
    int64_t i64;
    assert_int_equal(av_field(&k.value, "batch_size", &f), 0);
    assert_int_equal(avro_value_get_int(&f, &i32), 0);
    assert_int_equal(i32, 32);
    assert_int_equal(av_field(&k.value, "compute_us", &f), 0);
    assert_int_equal(avro_value_get_long(&f, &i64), 0);
    assert_true(i64 == 20);
    assert_int_equal(av_field(&k.value, "worker", &f), 0);
    assert_string_equal(av_string(&f), "w:1");
    assert_int_equal(av_field(&k.value, "source", &src), 0);
    assert_int_equal(av_field(&src, "topic", &f), 0);
    assert_string_equal(av_string(&f), "jobs");
    assert_int_equal(av_field(&src, "partition", &f), 0);
    assert_int_equal(avro_value_get_int(&f, &i32), 0);
    assert_int_equal(i32, 5);
    assert_int_equal(av_field(&src, "offset", &f), 0);
    assert_int_equal(avro_value_get_long(&f, &i64), 0);
    assert_true(i64 == 99);
    /* Avro C re-encodes the same bytes, and our decoder reads Avro C's output */
    kf_buf_t again = KF_BUF_INIT;
    assert_int_equal(avro_kind_write(&k, &again), 0);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    kf_result_t *out = NULL;
    assert_int_equal(kf_codec_decode_result(NULL, again.data, again.len, &out, &err), KF_OK);
    assert_string_equal(out->error, "too late");
    assert_int_equal(out->source_partition, 5);
    kf_result_free(out);
    kf_buf_free(&again);
    avro_kind_close(&k);
    kf_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemas_match_files),
        cmocka_unit_test(test_request_ours_to_avro),
        cmocka_unit_test(test_request_avro_to_ours),
        cmocka_unit_test(test_result_ours_to_avro),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
