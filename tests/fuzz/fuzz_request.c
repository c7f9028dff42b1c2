/* libFuzzer target for the request (and result) decoders.
 *
 * Whatever our decoder accepts, Avro C (an independent implementation) must
 * decode to the same values: both re-encode their decoded value and the
 * bytes must be identical (Avro binary is canonical for positive block
 * counts, which both writers use). Our decoder must never crash, leak or
 * read outside the input (ASan), whatever it rejects. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/codec_avro_check.h"
#include "kf_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Same rule as KF_FRAMING_AUTO with schema id `id`. */
static size_t body_offset(const uint8_t *data, size_t size, int32_t id) {
    if (size >= 5 && data[0] == 0 &&
        (int32_t)(((uint32_t)data[1] << 24) | ((uint32_t)data[2] << 16) | ((uint32_t)data[3] << 8) |
                  data[4]) == id)
        return 5;
    return 0;
}

static void check_same(const char *what, const char *schema, const uint8_t *body, size_t len,
                       const kf_buf_t *ours) {
    avro_kind_t k;
    kf_buf_t theirs = KF_BUF_INIT;
    if (avro_kind_open(&k, schema) != 0 || avro_kind_read(&k, body, len) != 0 ||
        avro_kind_write(&k, &theirs) != 0) {
        fprintf(stderr, "fuzz: %s accepted by kf_codec but not by Avro C: %s\n", what,
                avro_strerror());
        abort();
    }
    if (theirs.len != ours->len || memcmp(theirs.data, ours->data, ours->len) != 0) {
        fprintf(stderr, "fuzz: %s decoded differently by kf_codec and Avro C\n", what);
        abort();
    }
    kf_buf_free(&theirs);
    avro_kind_close(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kf_codec_params_t p = kf_codec_default_params();
    p.framing = KF_FRAMING_AUTO;
    p.max_message_bytes = 1 << 20;
    kf_codec_error_t err;
    kf_buf_t ours = KF_BUF_INIT;

    kf_request_t *req = NULL;
    if (kf_codec_decode_request(&p, data, size, &req, &err) == KF_OK) {
        if (kf_codec_encode_request(NULL, req, &ours, &err) != KF_OK) {
            fprintf(stderr, "fuzz: re-encoding an accepted request failed: %s\n", err.msg);
            abort();
        }
        size_t off = body_offset(data, size, p.request_schema_id);
        check_same("request", kf_codec_request_schema_json(), data + off, size - off, &ours);
        kf_request_free(req);
    } else if (req != NULL || err.msg[0] == '\0') {
        abort(); /* a failure must leave no object and say why */
    }

    p.result_schema_id = p.request_schema_id;
    kf_result_t *res = NULL;
    if (kf_codec_decode_result(&p, data, size, &res, &err) == KF_OK) {
        if (kf_codec_encode_result(NULL, res, &ours, &err) != KF_OK) {
            fprintf(stderr, "fuzz: re-encoding an accepted result failed: %s\n", err.msg);
            abort();
        }
        size_t off = body_offset(data, size, p.result_schema_id);
        check_same("result", kf_codec_result_schema_json(), data + off, size - off, &ours);
        kf_result_free(res);
    } else if (res != NULL || err.msg[0] == '\0') {
        abort();
    }
    kf_buf_free(&ours);
    return 0;
}
