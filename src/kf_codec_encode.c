/* kf_codec_encode: writes requests and results as Avro binary (raw or
 * Confluent-framed) into a caller-owned, reusable kf_buf_t. Every invariant
 * the decoder checks is checked here first, so anything we write we also
 * accept. */
#include <string.h>

#include "kf_codec.h"
#include "kf_codec_internal.h"

/* Accumulates the first write error so the encoders read straight through. */
typedef struct enc {
    kf_buf_t *b;
    kf_status_t st;
} enc_t;

static void put_long(enc_t *e, int64_t v) {
    if (e->st == KF_OK)
        e->st = kf_avro_put_long(e->b, v);
}

static void put_str(enc_t *e, const char *s) {
    if (e->st == KF_OK)
        e->st = kf_avro_put_string(e->b, s);
}

static void put_bytes(enc_t *e, const void *p, size_t n) {
    if (e->st == KF_OK)
        e->st = kf_avro_put_bytes(e->b, p, n);
}

/* ["null", "string"] */
static void put_opt_str(enc_t *e, const char *s) {
    put_long(e, s ? 1 : 0);
    if (s)
        put_str(e, s);
}

static kf_status_t begin(const kf_codec_params_t *p, int32_t schema_id, kf_buf_t *out,
                         kf_codec_error_t *err) {
    if (err) {
        err->msg[0] = '\0';
        err->has_id = 0;
        err->id = NULL;
        err->id_len = 0;
    }
    kf_buf_clear(out);
    if (p->framing != KF_FRAMING_CONFLUENT)
        return KF_OK;
    uint8_t hdr[5] = {0, (uint8_t)((uint32_t)schema_id >> 24), (uint8_t)((uint32_t)schema_id >> 16),
                      (uint8_t)((uint32_t)schema_id >> 8), (uint8_t)schema_id};
    return kf_buf_append(out, hdr, sizeof(hdr));
}

static kf_status_t check_tensors(const kf_codec_params_t *p, const char *field,
                                 const kf_tensor_view_t *t, uint32_t n, int need_rows,
                                 kf_codec_error_t *err) {
    if (n > p->max_tensors)
        return kf_codec_fail(err, KF_ERR_LIMIT, "%s: %u tensors exceeds max_tensors %u", field, n,
                             p->max_tensors);
    if (need_rows && n == 0)
        return kf_codec_fail(err, KF_ERR_INVALID_INPUT, "%s: no tensors", field);
    if (n && !t)
        return kf_codec_fail(err, KF_ERR_INVALID_ARG, "%s: NULL array", field);
    for (uint32_t i = 0; i < n; i++) {
        kf_status_t st = kf_codec_check_tensor(p, field, i, t[i].dtype, t[i].rank, t[i].shape,
                                               t[i].nbytes, need_rows, err);
        if (st != KF_OK)
            return st;
        if (t[i].nbytes && !t[i].data)
            return kf_codec_fail(err, KF_ERR_INVALID_ARG, "%s[%u].data: NULL", field, i);
    }
    return KF_OK;
}

static kf_status_t check_meta(const kf_codec_params_t *p, const kf_kv_t *kv, uint32_t n,
                              kf_codec_error_t *err) {
    if (n > p->max_metadata)
        return kf_codec_fail(err, KF_ERR_LIMIT, "metadata: %u entries exceeds max_metadata %u", n,
                             p->max_metadata);
    if (n && !kv)
        return kf_codec_fail(err, KF_ERR_INVALID_ARG, "metadata: NULL array");
    return KF_OK;
}

static void put_tensors(enc_t *e, const kf_tensor_view_t *t, uint32_t n) {
    if (n) {
        put_long(e, n);
        for (uint32_t i = 0; i < n; i++) {
            put_str(e, t[i].name);
            put_long(e, (int64_t)t[i].dtype);
            if (t[i].rank) {
                put_long(e, t[i].rank);
                for (uint32_t k = 0; k < t[i].rank; k++)
                    put_long(e, t[i].shape[k]);
            }
            put_long(e, 0);
            put_bytes(e, t[i].data, t[i].nbytes);
        }
    }
    put_long(e, 0);
}

static void put_meta(enc_t *e, const kf_kv_t *kv, uint32_t n) {
    if (n) {
        put_long(e, n);
        for (uint32_t i = 0; i < n; i++) {
            put_str(e, kv[i].key);
            put_str(e, kv[i].value);
        }
    }
    put_long(e, 0);
}

static kf_status_t finish(const kf_codec_params_t *p, enc_t *e, kf_codec_error_t *err) {
    if (e->st != KF_OK)
        return kf_codec_fail(err, e->st, "encode: %s", kf_status_str(e->st));
    if (e->b->len > p->max_message_bytes)
        return kf_codec_fail(err, KF_ERR_LIMIT, "message: %zu bytes exceeds max_message_bytes %zu",
                             e->b->len, p->max_message_bytes);
    return KF_OK;
}

static size_t tensor_bytes(const kf_tensor_view_t *t, uint32_t n) {
    size_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += t[i].nbytes + 128;
    return sum;
}

kf_status_t kf_codec_encode_request(const kf_codec_params_t *params, const kf_request_t *req,
                                    kf_buf_t *out, kf_codec_error_t *err) {
    kf_codec_params_t defaults = kf_codec_default_params();
    const kf_codec_params_t *p = params ? params : &defaults;
    if (!req || !out)
        return kf_codec_fail(err, KF_ERR_INVALID_ARG, "encode_request: NULL argument");
    kf_status_t st = begin(p, p->request_schema_id, out, err);
    if (st == KF_OK)
        st = check_tensors(p, "inputs", req->inputs, req->n_inputs, 1, err);
    if (st == KF_OK)
        st = check_meta(p, req->metadata, req->n_metadata, err);
    if (st != KF_OK)
        return st;
    enc_t e = {out, kf_buf_reserve(out, 256 + tensor_bytes(req->inputs, req->n_inputs))};
    put_str(&e, req->id);
    put_str(&e, req->model);
    put_opt_str(&e, req->model_version);
    put_tensors(&e, req->inputs, req->n_inputs);
    put_long(&e, req->has_deadline ? 1 : 0);
    if (req->has_deadline)
        put_long(&e, req->deadline_ms);
    put_opt_str(&e, req->reply_topic);
    put_meta(&e, req->metadata, req->n_metadata);
    return finish(p, &e, err);
}

kf_status_t kf_codec_encode_result(const kf_codec_params_t *params, const kf_result_t *res,
                                   kf_buf_t *out, kf_codec_error_t *err) {
    kf_codec_params_t defaults = kf_codec_default_params();
    const kf_codec_params_t *p = params ? params : &defaults;
    if (!res || !out)
        return kf_codec_fail(err, KF_ERR_INVALID_ARG, "encode_result: NULL argument");
    if ((int)res->status < 0 || res->status >= KF_RESULT_STATUS_COUNT)
        return kf_codec_fail(err, KF_ERR_INVALID_ARG, "status: invalid value %d", (int)res->status);
    kf_status_t st = begin(p, p->result_schema_id, out, err);
    if (st == KF_OK)
        st = check_tensors(p, "outputs", res->outputs, res->n_outputs, 0, err);
    if (st == KF_OK)
        st = check_meta(p, res->metadata, res->n_metadata, err);
    if (st != KF_OK)
        return st;
    enc_t e = {out, kf_buf_reserve(out, 256 + tensor_bytes(res->outputs, res->n_outputs))};
    put_str(&e, res->id);
    put_str(&e, res->model);
    put_str(&e, res->model_version);
    put_long(&e, (int64_t)res->status);
    put_opt_str(&e, res->error);
    put_tensors(&e, res->outputs, res->n_outputs);
    put_long(&e, res->batch_size);
    put_long(&e, res->queue_us);
    put_long(&e, res->compute_us);
    put_str(&e, res->worker);
    put_str(&e, res->source_topic);
    put_long(&e, res->source_partition);
    put_long(&e, res->source_offset);
    put_meta(&e, res->metadata, res->n_metadata);
    return finish(p, &e, err);
}
