/* Unit tests for the request/result codec: round trips, framing, and one
 * test per malformed-input case, each checking the status and the field the
 * error message names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kf_avro_bin.h"
#include "kf_codec.h"

/* ---- helpers --------------------------------------------------------------- */

static void fill_pattern(uint8_t *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31u + i * 7u + (i >> 8));
}

/* Writes a request by hand (bypassing the encoder's checks) with one input
 * "x" of the given dtype index, shape and data length. */
static void raw_request(kf_buf_t *b, int64_t dtype, const int64_t *shape, int rank,
                        size_t data_len) {
    kf_buf_clear(b);
    assert_int_equal(kf_avro_put_string(b, "job-7"), KF_OK);
    assert_int_equal(kf_avro_put_string(b, "mnist"), KF_OK);
    assert_int_equal(kf_avro_put_long(b, 0), KF_OK); /* model_version null */
    assert_int_equal(kf_avro_put_long(b, 1), KF_OK); /* one input */
    assert_int_equal(kf_avro_put_string(b, "x"), KF_OK);
    assert_int_equal(kf_avro_put_long(b, dtype), KF_OK);
    if (rank) {
        assert_int_equal(kf_avro_put_long(b, rank), KF_OK);
        for (int i = 0; i < rank; i++)
            assert_int_equal(kf_avro_put_long(b, shape[i]), KF_OK);
    }
    assert_int_equal(kf_avro_put_long(b, 0), KF_OK);
    uint8_t *data = calloc(1, data_len + 1);
    assert_non_null(data);
    assert_int_equal(kf_avro_put_bytes(b, data, data_len), KF_OK);
    free(data);
    assert_int_equal(kf_avro_put_long(b, 0), KF_OK); /* end of inputs */
    assert_int_equal(kf_avro_put_long(b, 0), KF_OK); /* deadline null */
    assert_int_equal(kf_avro_put_long(b, 0), KF_OK); /* reply_topic null */
    assert_int_equal(kf_avro_put_long(b, 0), KF_OK); /* metadata {} */
}

/* Decodes and expects failure with status st and a message containing s. */
static void expect_fail(const kf_codec_params_t *p, const void *msg, size_t len, kf_status_t st,
                        const char *s) {
    kf_request_t *req = (kf_request_t *)(uintptr_t)1;
    kf_codec_error_t err;
    kf_status_t got = kf_codec_decode_request(p, msg, len, &req, &err);
    if (got != st || !strstr(err.msg, s))
        print_error("got %s \"%s\", want %s \"%s\"\n", kf_status_str(got), err.msg,
                    kf_status_str(st), s);
    assert_int_equal(got, st);
    assert_non_null(strstr(err.msg, s));
    assert_null(req);
}

static const kf_kv_t meta[] = {{"trace", "abc-123"}, {"tenant", ""}};

static kf_request_t sample_request(kf_tensor_view_t *in, uint8_t *data, size_t n) {
    fill_pattern(data, n, 3);
    memset(in, 0, sizeof(*in) * 2);
    in[0] = (kf_tensor_view_t){.name = "pixels",
                               .dtype = KF_DTYPE_FLOAT32,
                               .rank = 2,
                               .shape = {2, 3},
                               .data = data,
                               .nbytes = 24};
    in[1] = (kf_tensor_view_t){.name = "",
                               .dtype = KF_DTYPE_INT64,
                               .rank = 1,
                               .shape = {2},
                               .data = data + 24,
                               .nbytes = 16};
    return (kf_request_t){.id = "job-1",
                          .model = "mnist",
                          .model_version = "3",
                          .has_deadline = 1,
                          .deadline_ms = 1700000000123LL,
                          .reply_topic = "replies",
                          .inputs = in,
                          .n_inputs = 2,
                          .metadata = meta,
                          .n_metadata = 2};
}

static void assert_request_equal(const kf_request_t *a, const kf_request_t *b) {
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->model, b->model);
    if (a->model_version)
        assert_string_equal(a->model_version, b->model_version);
    else
        assert_null(b->model_version);
    assert_int_equal(a->has_deadline, b->has_deadline);
    if (a->has_deadline)
        assert_true(a->deadline_ms == b->deadline_ms);
    if (a->reply_topic)
        assert_string_equal(a->reply_topic, b->reply_topic);
    else
        assert_null(b->reply_topic);
    assert_int_equal(a->n_inputs, b->n_inputs);
    for (uint32_t i = 0; i < a->n_inputs; i++) {
        assert_string_equal(a->inputs[i].name, b->inputs[i].name);
        assert_int_equal(a->inputs[i].dtype, b->inputs[i].dtype);
        assert_int_equal(a->inputs[i].rank, b->inputs[i].rank);
        for (uint32_t k = 0; k < a->inputs[i].rank; k++)
            assert_true(a->inputs[i].shape[k] == b->inputs[i].shape[k]);
        assert_int_equal(a->inputs[i].nbytes, b->inputs[i].nbytes);
        assert_memory_equal(a->inputs[i].data, b->inputs[i].data, a->inputs[i].nbytes);
    }
    assert_int_equal(a->n_metadata, b->n_metadata);
    for (uint32_t i = 0; i < a->n_metadata; i++) {
        assert_string_equal(a->metadata[i].key, b->metadata[i].key);
        assert_string_equal(a->metadata[i].value, b->metadata[i].value);
    }
}

/* ---- round trips -------------------------------------------------------------- */

/* One test per dtype (state = dtype index): shape {3, 5}. */
static void test_roundtrip_dtype(void **state) {
    kf_dtype_t dt = (kf_dtype_t)(intptr_t)*state;
    size_t n = 15 * kf_dtype_size(dt);
    uint8_t *data = malloc(n);
    assert_non_null(data);
    fill_pattern(data, n, (unsigned)dt);
    kf_tensor_view_t in = {
        .name = "t", .dtype = dt, .rank = 2, .shape = {3, 5}, .data = data, .nbytes = n};
    kf_request_t req = {.id = "id", .model = "m", .inputs = &in, .n_inputs = 1};
    kf_buf_t b = KF_BUF_INIT;
    kf_codec_error_t err;
    assert_int_equal(kf_codec_encode_request(NULL, &req, &b, &err), KF_OK);
    kf_request_t *out = NULL;
    assert_int_equal(kf_codec_decode_request(NULL, b.data, b.len, &out, &err), KF_OK);
    assert_request_equal(&req, out);
    assert_int_equal(out->inputs[0].dtype, dt);
    /* zero copy: the tensor bytes are inside the message */
    const uint8_t *d = out->inputs[0].data;
    assert_true(d >= b.data && d + n <= b.data + b.len);
    kf_request_free(out);
    kf_buf_free(&b);
    free(data);
}

static void test_roundtrip_full_request(void **state) {
    (void)state;
    uint8_t data[40];
    kf_tensor_view_t in[2];
    kf_request_t req = sample_request(in, data, sizeof(data));
    kf_buf_t b = KF_BUF_INIT;
    kf_codec_error_t err;
    assert_int_equal(kf_codec_encode_request(NULL, &req, &b, &err), KF_OK);
    kf_request_t *out = NULL;
    assert_int_equal(kf_codec_decode_request(NULL, b.data, b.len, &out, &err), KF_OK);
    assert_request_equal(&req, out);
    kf_request_free(out);
    /* optional fields absent */
    req.model_version = NULL;
    req.reply_topic = NULL;
    req.has_deadline = 0;
    req.n_metadata = 0;
    req.metadata = NULL;
    assert_int_equal(kf_codec_encode_request(NULL, &req, &b, &err), KF_OK);
    assert_int_equal(kf_codec_decode_request(NULL, b.data, b.len, &out, &err), KF_OK);
    assert_request_equal(&req, out);
    assert_null(out->metadata);
    kf_request_free(out);
    kf_request_free(NULL);
    kf_buf_free(&b);
}

static void test_negative_block_counts(void **state) {
    (void)state;
    /* shape written as one block with count -2 and its byte size */
    kf_buf_t b = KF_BUF_INIT;
    kf_avro_put_string(&b, "i");
    kf_avro_put_string(&b, "m");
    kf_avro_put_long(&b, 0);
    kf_avro_put_long(&b, -1); /* inputs: block of 1, byte size follows */
    kf_avro_put_long(&b, 10);
    kf_avro_put_string(&b, "x");
    kf_avro_put_long(&b, KF_DTYPE_UINT8);
    kf_avro_put_long(&b, -2);
    kf_avro_put_long(&b, 2);
    kf_avro_put_long(&b, 1);
    kf_avro_put_long(&b, 3);
    kf_avro_put_long(&b, 0);
    kf_avro_put_bytes(&b, "abc", 3);
    kf_avro_put_long(&b, 0);
    kf_avro_put_long(&b, 0);
    kf_avro_put_long(&b, 0);
    kf_avro_put_long(&b, 0);
    kf_request_t *out = NULL;
    kf_codec_error_t err;
    assert_int_equal(kf_codec_decode_request(NULL, b.data, b.len, &out, &err), KF_OK);
    assert_int_equal(out->inputs[0].rank, 2);
    assert_true(out->inputs[0].shape[1] == 3);
    assert_memory_equal(out->inputs[0].data, "abc", 3);
    kf_request_free(out);
    kf_buf_free(&b);
}

/* ---- framing ------------------------------------------------------------------- */

static void encode_sample(const kf_codec_params_t *p, kf_buf_t *b) {
    static uint8_t data[40];
    kf_tensor_view_t in[2];
    kf_request_t req = sample_request(in, data, sizeof(data));
    kf_codec_error_t err;
    assert_int_equal(kf_codec_encode_request(p, &req, b, &err), KF_OK);
}

static void test_confluent_roundtrip(void **state) {
    (void)state;
    kf_codec_params_t p = kf_codec_default_params();
    p.framing = KF_FRAMING_CONFLUENT;
    p.request_schema_id = 0x01020304;
    kf_buf_t raw = KF_BUF_INIT, conf = KF_BUF_INIT;
    encode_sample(NULL, &raw);
    encode_sample(&p, &conf);
    assert_int_equal(conf.len, raw.len + 5);
    const uint8_t hdr[5] = {0, 1, 2, 3, 4};
    assert_memory_equal(conf.data, hdr, 5);
    assert_memory_equal(conf.data + 5, raw.data, raw.len);
    kf_request_t *out = NULL;
    kf_codec_error_t err;
    assert_int_equal(kf_codec_decode_request(&p, conf.data, conf.len, &out, &err), KF_OK);
    assert_string_equal(out->id, "job-1");
    kf_request_free(out);
    /* a raw message is not a Confluent frame */
    expect_fail(&p, raw.data, raw.len, KF_ERR_DECODE, "confluent header: magic byte");
    expect_fail(&p, conf.data, 4, KF_ERR_DECODE, "confluent header: 4 bytes");
    kf_buf_free(&raw);
    kf_buf_free(&conf);
}

static void test_confluent_wrong_schema_id(void **state) {
    (void)state;
    kf_codec_params_t p = kf_codec_default_params();
    p.framing = KF_FRAMING_CONFLUENT;
    p.request_schema_id = 7;
    kf_buf_t b = KF_BUF_INIT;
    encode_sample(&p, &b);
    p.request_schema_id = 8;
    expect_fail(&p, b.data, b.len, KF_ERR_DECODE, "schema id 7, expected 8");
    kf_buf_free(&b);
}

static void test_auto_detection(void **state) {
    (void)state;
    kf_codec_params_t pc = kf_codec_default_params();
    pc.framing = KF_FRAMING_CONFLUENT;
    pc.request_schema_id = 42;
    kf_codec_params_t pa = pc;
    pa.framing = KF_FRAMING_AUTO;
    kf_buf_t raw = KF_BUF_INIT, conf = KF_BUF_INIT;
    encode_sample(NULL, &raw);
    encode_sample(&pc, &conf);
    kf_request_t *a = NULL, *c = NULL;
    kf_codec_error_t err;
    assert_int_equal(kf_codec_decode_request(&pa, raw.data, raw.len, &a, &err), KF_OK);
    assert_int_equal(kf_codec_decode_request(&pa, conf.data, conf.len, &c, &err), KF_OK);
    assert_request_equal(a, c);
    /* data of the Confluent message points after the 5-byte header */
    assert_ptr_equal(c->inputs[0].data,
                     conf.data + 5 + ((const uint8_t *)a->inputs[0].data - raw.data));
    kf_request_free(a);
    kf_request_free(c);
    /* AUTO with a Confluent frame of another id: decoded as raw, fails, and
     * the error names both ids */
    pa.request_schema_id = 43;
    expect_fail(&pa, conf.data, conf.len, KF_ERR_DECODE,
                "confluent header: schema id 42, expected 43 (as raw Avro: ");
    kf_buf_free(&raw);
    kf_buf_free(&conf);
}

static void test_framing_parse(void **state) {
    (void)state;
    kf_framing_t f;
    assert_int_equal(kf_framing_parse("AUTO", &f), KF_OK);
    assert_int_equal(f, KF_FRAMING_AUTO);
    assert_int_equal(kf_framing_parse("confluent", &f), KF_OK);
    assert_int_equal(f, KF_FRAMING_CONFLUENT);
    assert_int_equal(kf_framing_parse("avro", &f), KF_ERR_CONFIG);
    assert_string_equal(kf_framing_name(KF_FRAMING_RAW), "raw");
}

/* ---- malformed input: one test per case ---------------------------------------- */

static void test_truncated(void **state) {
    (void)state;
    kf_buf_t b = KF_BUF_INIT;
    encode_sample(NULL, &b);
    /* every proper prefix fails as a decode error, never crashes */
    for (size_t n = 0; n < b.len; n++) {
        kf_request_t *out = NULL;
        kf_codec_error_t err;
        assert_int_equal(kf_codec_decode_request(NULL, b.data, n, &out, &err), KF_ERR_DECODE);
        assert_null(out);
        assert_true(strlen(err.msg) > 0);
    }
    /* cut inside the tensor data: names the field */
    int64_t shape[] = {1, 784};
    raw_request(&b, KF_DTYPE_FLOAT32, shape, 2, 3136);
    expect_fail(NULL, b.data, b.len - 100, KF_ERR_DECODE,
                "inputs[0].data: truncated or invalid bytes length");
    kf_buf_free(&b);
}

static void test_garbage(void **state) {
    (void)state;
    uint8_t g[512];
    unsigned x = 12345;
    int failures = 0;
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof(g); i++) {
            x = x * 1103515245u + 12345u;
            g[i] = (uint8_t)(x >> 16);
        }
        kf_request_t *out = NULL;
        kf_codec_error_t err;
        kf_status_t st = kf_codec_decode_request(NULL, g, sizeof(g), &out, &err);
        if (st != KF_OK) {
            assert_null(out);
            assert_true(strlen(err.msg) > 0);
            failures++;
        }
        kf_request_free(out);
    }
    assert_int_equal(failures, 200);
    const char text[] = "{\"id\": \"not avro\"}";
    expect_fail(NULL, text, sizeof(text) - 1, KF_ERR_DECODE, "");
}

static void test_oversize(void **state) {
    (void)state;
    kf_codec_params_t p = kf_codec_default_params();
    kf_buf_t b = KF_BUF_INIT;
    encode_sample(NULL, &b);
    p.max_message_bytes = b.len - 1;
    char want[96];
    snprintf(want, sizeof(want), "message: %zu bytes exceeds max_message_bytes %zu", b.len,
             b.len - 1);
    expect_fail(&p, b.data, b.len, KF_ERR_LIMIT, want);
    /* the encoder refuses to write it too */
    uint8_t data[40];
    kf_tensor_view_t in[2];
    kf_request_t req = sample_request(in, data, sizeof(data));
    kf_codec_error_t err;
    assert_int_equal(kf_codec_encode_request(&p, &req, &b, &err), KF_ERR_LIMIT);
    kf_buf_free(&b);
}

static void test_wrong_length(void **state) {
    (void)state;
    kf_buf_t b = KF_BUF_INIT;
    int64_t shape[] = {1, 785};
    raw_request(&b, KF_DTYPE_FLOAT32, shape, 2, 3136);
    expect_fail(NULL, b.data, b.len, KF_ERR_INVALID_INPUT,
                "inputs[0].data: 3136 bytes, expected 3140");
    kf_codec_error_t err;
    kf_request_t *out = NULL;
    kf_codec_decode_request(NULL, b.data, b.len, &out, &err);
    /* the id was read before the failure and is exposed */
    assert_true(err.has_id);
    assert_int_equal(err.id_len, 5);
    assert_memory_equal(err.id, "job-7", 5);
    assert_true((const uint8_t *)err.id > b.data && (const uint8_t *)err.id < b.data + b.len);
    kf_buf_free(&b);
}

static void test_trailing_bytes(void **state) {
    (void)state;
    kf_buf_t b = KF_BUF_INIT;
    encode_sample(NULL, &b);
    kf_buf_append(&b, "\0\0\0", 3);
    expect_fail(NULL, b.data, b.len, KF_ERR_DECODE, "message: 3 trailing bytes");
    kf_buf_free(&b);
}

static void test_bad_enum(void **state) {
    (void)state;
    kf_buf_t b = KF_BUF_INIT;
    int64_t shape[] = {1};
    raw_request(&b, 9, shape, 1, 4);
    expect_fail(NULL, b.data, b.len, KF_ERR_DECODE, "inputs[0].dtype: unknown enum symbol index 9");
    raw_request(&b, -1, shape, 1, 4);
    expect_fail(NULL, b.data, b.len, KF_ERR_DECODE,
                "inputs[0].dtype: unknown enum symbol index -1");
    kf_buf_free(&b);
}

static void test_bad_union(void **state) {
    (void)state;
    kf_buf_t b = KF_BUF_INIT;
    kf_avro_put_string(&b, "job-1");
    kf_avro_put_string(&b, "m");
    kf_avro_put_long(&b, 2); /* model_version: branch 2 does not exist */
    expect_fail(NULL, b.data, b.len, KF_ERR_DECODE, "model_version: bad union branch 2");
    kf_buf_free(&b);
}

static void test_rank_too_high(void **state) {
    (void)state;
    kf_buf_t b = KF_BUF_INIT;
    int64_t shape[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    raw_request(&b, KF_DTYPE_UINT8, shape, 9, 1);
    expect_fail(NULL, b.data, b.len, KF_ERR_LIMIT, "inputs[0].shape: rank 9 exceeds 8");
    kf_buf_free(&b);
}

static void test_element_overflow(void **state) {
    (void)state;
    kf_buf_t b = KF_BUF_INIT;
    int64_t shape[] = {1, INT64_MAX, 4};
    raw_request(&b, KF_DTYPE_FLOAT32, shape, 3, 16);
    expect_fail(NULL, b.data, b.len, KF_ERR_LIMIT, "inputs[0].shape: element count overflows");
    /* below overflow but above the configured limit */
    kf_codec_params_t p = kf_codec_default_params();
    p.max_elements = 1000;
    int64_t s2[] = {1, 1001};
    raw_request(&b, KF_DTYPE_UINT8, s2, 2, 1001);
    expect_fail(&p, b.data, b.len, KF_ERR_LIMIT,
                "inputs[0].shape: 1001 elements exceeds max_elements 1000");
    kf_buf_free(&b);
}

static void test_bad_dims(void **state) {
    (void)state;
    kf_buf_t b = KF_BUF_INIT;
    int64_t neg[] = {1, -4};
    raw_request(&b, KF_DTYPE_UINT8, neg, 2, 0);
    expect_fail(NULL, b.data, b.len, KF_ERR_INVALID_INPUT, "inputs[0].shape[1]: negative dim -4");
    int64_t zero_rows[] = {0, 4};
    raw_request(&b, KF_DTYPE_UINT8, zero_rows, 2, 0);
    expect_fail(NULL, b.data, b.len, KF_ERR_INVALID_INPUT, "inputs[0].shape[0]: 0 rows");
    raw_request(&b, KF_DTYPE_UINT8, NULL, 0, 1);
    expect_fail(NULL, b.data, b.len, KF_ERR_INVALID_INPUT, "inputs[0].shape: rank 0");
    /* an inner zero dim is fine: empty tensor */
    int64_t empty[] = {2, 0};
    raw_request(&b, KF_DTYPE_FLOAT32, empty, 2, 0);
    kf_request_t *out = NULL;
    kf_codec_error_t err;
    assert_int_equal(kf_codec_decode_request(NULL, b.data, b.len, &out, &err), KF_OK);
    assert_int_equal(out->inputs[0].nbytes, 0);
    kf_request_free(out);
    kf_buf_free(&b);
}

static void test_negative_length(void **state) {
    (void)state;
    kf_buf_t b = KF_BUF_INIT;
    kf_avro_put_long(&b, -5); /* id length -5 */
    kf_avro_put_string(&b, "xxxxxxxx");
    expect_fail(NULL, b.data, b.len, KF_ERR_DECODE, "id: truncated or invalid string length");
    kf_buf_clear(&b);
    kf_avro_put_string(&b, "job");
    kf_avro_put_long(&b, 1000); /* model: 500 bytes claimed, 3 present */
    kf_buf_append(&b, "abc", 3);
    expect_fail(NULL, b.data, b.len, KF_ERR_DECODE, "model: truncated or invalid string length");
    kf_buf_free(&b);
}

static void test_empty_inputs(void **state) {
    (void)state;
    kf_buf_t b = KF_BUF_INIT;
    kf_avro_put_string(&b, "job");
    kf_avro_put_string(&b, "m");
    kf_avro_put_long(&b, 0);
    kf_avro_put_long(&b, 0); /* inputs [] */
    kf_avro_put_long(&b, 0);
    kf_avro_put_long(&b, 0);
    kf_avro_put_long(&b, 0);
    expect_fail(NULL, b.data, b.len, KF_ERR_INVALID_INPUT, "inputs: no tensors");
    kf_buf_free(&b);
}

static void test_max_tensors_and_metadata(void **state) {
    (void)state;
    uint8_t data[40];
    kf_tensor_view_t in[2];
    kf_request_t req = sample_request(in, data, sizeof(data));
    kf_buf_t b = KF_BUF_INIT;
    encode_sample(NULL, &b);
    kf_codec_params_t p = kf_codec_default_params();
    p.max_tensors = 1;
    expect_fail(&p, b.data, b.len, KF_ERR_LIMIT, "inputs: more than max_tensors 1");
    p = kf_codec_default_params();
    p.max_metadata = 1;
    expect_fail(&p, b.data, b.len, KF_ERR_LIMIT, "metadata: more than max_metadata 1");
    kf_codec_error_t err;
    assert_int_equal(kf_codec_encode_request(&p, &req, &b, &err), KF_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "metadata"));
    kf_buf_free(&b);
}

static void test_nul_in_string(void **state) {
    (void)state;
    kf_buf_t b = KF_BUF_INIT;
    kf_avro_put_bytes(&b, "a\0b", 3);
    expect_fail(NULL, b.data, b.len, KF_ERR_DECODE, "id: string contains a NUL byte");
    kf_buf_free(&b);
}

static void test_duplicate_metadata_key(void **state) {
    (void)state;
    kf_buf_t b = KF_BUF_INIT;
    int64_t shape[] = {1};
    raw_request(&b, KF_DTYPE_UINT8, shape, 1, 1);
    b.len--; /* replace the empty map with {"k": "a", "k": "b"} */
    kf_avro_put_long(&b, 2);
    kf_avro_put_string(&b, "k");
    kf_avro_put_string(&b, "a");
    kf_avro_put_string(&b, "k");
    kf_avro_put_string(&b, "b");
    kf_avro_put_long(&b, 0);
    expect_fail(NULL, b.data, b.len, KF_ERR_DECODE, "metadata[1].key: duplicate key \"k\"");
    kf_buf_free(&b);
}

static void test_encoder_rejects_bad_tensor(void **state) {
    (void)state;
    uint8_t data[40];
    kf_tensor_view_t in[2];
    kf_request_t req = sample_request(in, data, sizeof(data));
    in[0].nbytes = 20;
    kf_buf_t b = KF_BUF_INIT;
    kf_codec_error_t err;
    assert_int_equal(kf_codec_encode_request(NULL, &req, &b, &err), KF_ERR_INVALID_INPUT);
    assert_string_equal(err.msg, "inputs[0].data: 20 bytes, expected 24");
    in[0].nbytes = 24;
    in[1].dtype = (kf_dtype_t)12;
    assert_int_equal(kf_codec_encode_request(NULL, &req, &b, &err), KF_ERR_DECODE);
    assert_non_null(strstr(err.msg, "inputs[1].dtype"));
    kf_buf_free(&b);
}

/* ---- results ------------------------------------------------------------------- */

static void test_result_roundtrip(void **state) {
    (void)state;
    float probs[10];
    for (int i = 0; i < 10; i++)
        probs[i] = (float)i / 10.0f;
    int64_t label = 7;
    kf_tensor_view_t outs[3] = {
        {.name = "probs",
         .dtype = KF_DTYPE_FLOAT32,
         .rank = 2,
         .shape = {1, 10},
         .data = probs,
         .nbytes = sizeof(probs)},
        {.name = "label",
         .dtype = KF_DTYPE_INT64,
         .rank = 1,
         .shape = {1},
         .data = &label,
         .nbytes = 8},
        {.name = "scalar", .dtype = KF_DTYPE_INT64, .rank = 0, .data = &label, .nbytes = 8},
    };
    kf_result_t res = {.id = "job-1",
                       .model = "mnist",
                       .model_version = "3",
                       .status = KF_RESULT_OK,
                       .outputs = outs,
                       .n_outputs = 3,
                       .batch_size = 64,
                       .queue_us = 1234,
                       .compute_us = -5,
                       .worker = "host:42",
                       .source_topic = "jobs",
                       .source_partition = 3,
                       .source_offset = 1LL << 40,
                       .metadata = meta,
                       .n_metadata = 2};
    kf_codec_params_t p = kf_codec_default_params();
    p.framing = KF_FRAMING_CONFLUENT;
    kf_buf_t b = KF_BUF_INIT;
    kf_codec_error_t err;
    assert_int_equal(kf_codec_encode_result(&p, &res, &b, &err), KF_OK);
    assert_int_equal(b.data[4], 2); /* result_schema_id */
    uint8_t *first = b.data;
    kf_result_t *out = NULL;
    assert_int_equal(kf_codec_decode_result(&p, b.data, b.len, &out, &err), KF_OK);
    assert_string_equal(out->id, "job-1");
    assert_string_equal(out->model_version, "3");
    assert_int_equal(out->status, KF_RESULT_OK);
    assert_null(out->error);
    assert_int_equal(out->n_outputs, 3);
    assert_string_equal(out->outputs[0].name, "probs");
    assert_memory_equal(out->outputs[0].data, probs, sizeof(probs));
    assert_int_equal(out->outputs[2].rank, 0);
    assert_int_equal(out->batch_size, 64);
    assert_true(out->queue_us == 1234 && out->compute_us == -5);
    assert_string_equal(out->worker, "host:42");
    assert_string_equal(out->source_topic, "jobs");
    assert_int_equal(out->source_partition, 3);
    assert_true(out->source_offset == 1LL << 40);
    assert_int_equal(out->n_metadata, 2);
    assert_string_equal(out->metadata[0].value, "abc-123");
    kf_result_free(out);
    /* error result, buffer reused without reallocation */
    kf_result_t bad = {.id = "job-2",
                       .model = "mnist",
                       .model_version = "",
                       .status = KF_RESULT_INVALID_INPUT,
                       .error = "inputs[0].data: 1 bytes",
                       .source_topic = "jobs"};
    assert_int_equal(kf_codec_encode_result(&p, &bad, &b, &err), KF_OK);
    assert_ptr_equal(b.data, first);
    assert_int_equal(kf_codec_decode_result(&p, b.data, b.len, &out, &err), KF_OK);
    assert_int_equal(out->status, KF_RESULT_INVALID_INPUT);
    assert_string_equal(out->error, "inputs[0].data: 1 bytes");
    assert_int_equal(out->n_outputs, 0);
    assert_null(out->outputs);
    kf_result_free(out);
    kf_result_free(NULL);
    kf_buf_free(&b);
}

static void test_result_bad_status(void **state) {
    (void)state;
    kf_buf_t b = KF_BUF_INIT;
    kf_avro_put_string(&b, "job-9");
    kf_avro_put_string(&b, "m");
    kf_avro_put_string(&b, "1");
    kf_avro_put_long(&b, 5); /* status: 5 symbols only */
    kf_result_t *out = NULL;
    kf_codec_error_t err;
    assert_int_equal(kf_codec_decode_result(NULL, b.data, b.len, &out, &err), KF_ERR_DECODE);
    assert_non_null(strstr(err.msg, "status: unknown enum symbol index 5"));
    assert_true(err.has_id);
    assert_memory_equal(err.id, "job-9", 5);
    assert_null(out);
    assert_string_equal(kf_result_status_name(KF_RESULT_DEADLINE_EXCEEDED), "DEADLINE_EXCEEDED");
    kf_buf_free(&b);
}

#define DT(i) cmocka_unit_test_prestate(test_roundtrip_dtype, (void *)(intptr_t)(i))

int main(void) {
    const struct CMUnitTest tests[] = {
        DT(KF_DTYPE_FLOAT32),
        DT(KF_DTYPE_FLOAT16),
        DT(KF_DTYPE_BFLOAT16),
        DT(KF_DTYPE_FLOAT64),
        DT(KF_DTYPE_INT8),
        DT(KF_DTYPE_UINT8),
        DT(KF_DTYPE_INT32),
        DT(KF_DTYPE_INT64),
        DT(KF_DTYPE_BOOL),
        cmocka_unit_test(test_roundtrip_full_request),
        cmocka_unit_test(test_negative_block_counts),
        cmocka_unit_test(test_confluent_roundtrip),
        cmocka_unit_test(test_confluent_wrong_schema_id),
        cmocka_unit_test(test_auto_detection),
        cmocka_unit_test(test_framing_parse),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_wrong_length),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_bad_enum),
        cmocka_unit_test(test_bad_union),
        cmocka_unit_test(test_rank_too_high),
        cmocka_unit_test(test_element_overflow),
        cmocka_unit_test(test_bad_dims),
        cmocka_unit_test(test_negative_length),
        cmocka_unit_test(test_empty_inputs),
        cmocka_unit_test(test_max_tensors_and_metadata),
        cmocka_unit_test(test_nul_in_string),
        cmocka_unit_test(test_duplicate_metadata_key),
        cmocka_unit_test(test_encoder_rejects_bad_tensor),
        cmocka_unit_test(test_result_roundtrip),
        cmocka_unit_test(test_result_bad_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
