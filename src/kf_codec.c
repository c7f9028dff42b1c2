/* kf_codec common parts: params, names, framing, tensor checks. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kf_codec.h"
#include "kf_codec_internal.h"

kf_codec_params_t kf_codec_default_params(void) {
    return (kf_codec_params_t){
        .framing = KF_FRAMING_RAW,
        .request_schema_id = 1,
        .result_schema_id = 2,
        .max_message_bytes = (size_t)64 << 20,
        .max_tensors = 64,
        .max_metadata = 64,
        .max_elements = (uint64_t)1 << 28,
    };
}

static const char *const framing_names[] = {"raw", "confluent", "auto"};

kf_status_t kf_framing_parse(const char *s, kf_framing_t *out) {
    if (!s || !out)
        return KF_ERR_CONFIG;
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(s, framing_names[i]) == 0) {
            *out = (kf_framing_t)i;
            return KF_OK;
        }
    }
    return KF_ERR_CONFIG;
}

const char *kf_framing_name(kf_framing_t f) {
    return ((int)f >= 0 && (int)f < 3) ? framing_names[f] : "invalid";
}

const char *kf_result_status_name(kf_result_status_t s) {
    static const char *const names[] = {"OK", "INVALID_INPUT", "MODEL_NOT_FOUND",
                                        "DEADLINE_EXCEEDED", "INTERNAL"};
    return ((int)s >= 0 && s < KF_RESULT_STATUS_COUNT) ? names[s] : "INVALID";
}

kf_status_t kf_codec_fail(kf_codec_error_t *err, kf_status_t st, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return st;
}

kf_status_t kf_tensor_elements(const kf_tensor_view_t *t, uint64_t *out) {
    if (!t || !out || t->rank > KF_MAX_RANK)
        return KF_ERR_INVALID_ARG;
    uint64_t n = 1;
    for (uint32_t i = 0; i < t->rank; i++) {
        if (t->shape[i] < 0)
            return KF_ERR_LIMIT;
        uint64_t d = (uint64_t)t->shape[i];
        if (d != 0 && n > UINT64_MAX / d)
            return KF_ERR_LIMIT;
        n *= d;
    }
    *out = n;
    return KF_OK;
}

static int32_t be32(const uint8_t *p) {
    return (int32_t)(((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
                     (uint32_t)p[3]);
}

kf_status_t kf_codec_unframe(const kf_codec_params_t *p, const uint8_t *msg, size_t len,
                             int32_t schema_id, const uint8_t **body, size_t *body_len,
                             int *auto_hint, int32_t *hint_id, kf_codec_error_t *err) {
    *auto_hint = 0;
    if (len > p->max_message_bytes)
        return kf_codec_fail(err, KF_ERR_LIMIT, "message: %zu bytes exceeds max_message_bytes %zu",
                             len, p->max_message_bytes);
    switch (p->framing) {
    case KF_FRAMING_RAW:
        *body = msg;
        *body_len = len;
        return KF_OK;
    case KF_FRAMING_CONFLUENT:
        if (len < 5)
            return kf_codec_fail(err, KF_ERR_DECODE, "confluent header: %zu bytes, need at least 5",
                                 len);
        if (msg[0] != 0)
            return kf_codec_fail(err, KF_ERR_DECODE,
                                 "confluent header: magic byte 0x%02x, expected 0x00", msg[0]);
        if (be32(msg + 1) != schema_id)
            return kf_codec_fail(err, KF_ERR_DECODE, "confluent header: schema id %d, expected %d",
                                 be32(msg + 1), schema_id);
        *body = msg + 5;
        *body_len = len - 5;
        return KF_OK;
    case KF_FRAMING_AUTO:
        if (len >= 5 && msg[0] == 0) {
            int32_t id = be32(msg + 1);
            if (id == schema_id) {
                *body = msg + 5;
                *body_len = len - 5;
                return KF_OK;
            }
            *auto_hint = 1;
            *hint_id = id;
        }
        *body = msg;
        *body_len = len;
        return KF_OK;
    }
    return kf_codec_fail(err, KF_ERR_INVALID_ARG, "codec params: invalid framing %d",
                         (int)p->framing);
}

kf_status_t kf_codec_check_tensor(const kf_codec_params_t *p, const char *field, uint32_t idx,
                                  kf_dtype_t dtype, uint32_t rank, const int64_t *shape,
                                  size_t data_len, int need_rows, kf_codec_error_t *err) {
    if (!kf_dtype_valid((int)dtype))
        return kf_codec_fail(err, KF_ERR_DECODE, "%s[%u].dtype: unknown symbol index %d", field,
                             idx, (int)dtype);
    if (rank > KF_MAX_RANK)
        return kf_codec_fail(err, KF_ERR_LIMIT, "%s[%u].shape: rank %u exceeds %d", field, idx,
                             rank, KF_MAX_RANK);
    if (need_rows && rank == 0)
        return kf_codec_fail(err, KF_ERR_INVALID_INPUT,
                             "%s[%u].shape: rank 0, need a leading batch dimension", field, idx);
    uint64_t n = 1;
    int overflow = 0;
    for (uint32_t i = 0; i < rank; i++) {
        if (shape[i] < 0)
            return kf_codec_fail(err, KF_ERR_INVALID_INPUT, "%s[%u].shape[%u]: negative dim %lld",
                                 field, idx, i, (long long)shape[i]);
        if (i == 0 && need_rows && shape[0] < 1)
            return kf_codec_fail(err, KF_ERR_INVALID_INPUT,
                                 "%s[%u].shape[0]: %lld rows, need at least 1", field, idx,
                                 (long long)shape[0]);
        uint64_t d = (uint64_t)shape[i];
        if (d != 0 && n > UINT64_MAX / d)
            overflow = 1;
        else
            n *= d;
    }
    /* a zero dim makes the product 0 whatever overflowed before it */
    for (uint32_t i = 0; i < rank; i++)
        if (shape[i] == 0)
            overflow = 0, n = 0;
    if (overflow)
        return kf_codec_fail(err, KF_ERR_LIMIT, "%s[%u].shape: element count overflows 64 bits",
                             field, idx);
    if (n > p->max_elements)
        return kf_codec_fail(err, KF_ERR_LIMIT,
                             "%s[%u].shape: %llu elements exceeds max_elements %llu", field, idx,
                             (unsigned long long)n, (unsigned long long)p->max_elements);
    uint64_t expect = n * kf_dtype_size(dtype); /* n <= max_elements; checked below */
    if (n != 0 && expect / n != kf_dtype_size(dtype))
        return kf_codec_fail(err, KF_ERR_LIMIT, "%s[%u].shape: byte count overflows", field, idx);
    if ((uint64_t)data_len != expect)
        return kf_codec_fail(err, KF_ERR_INVALID_INPUT, "%s[%u].data: %zu bytes, expected %llu",
                             field, idx, data_len, (unsigned long long)expect);
    return KF_OK;
}
