/* kf_codec_decode: hand-written validating decoder for the fixed request and
 * result schemas.
 *
 * Each message is parsed twice by the same code. Pass 1 (count) validates
 * everything and adds up the string bytes, tensors and metadata entries; it
 * allocates nothing. Pass 2 (fill) runs over the same, now known-good bytes
 * and writes into one allocation sized by pass 1: the object, its tensor
 * views, its key/value array and a NUL-terminated string arena. Tensor data
 * is never copied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kf_codec.h"
#include "kf_codec_internal.h"

typedef struct dec {
    kf_avro_rd_t r;
    const uint8_t *body; /* start of the Avro body, for byte offsets */
    const kf_codec_params_t *p;
    kf_codec_error_t *err;
    /* pass 1 totals */
    size_t str_bytes;
    uint32_t n_tensors;
    uint32_t n_meta;
    /* pass 2 destinations (NULL in pass 1) */
    char *arena;
    kf_tensor_view_t *tensors;
    kf_kv_t *kvs;
} dec_t;

/* A field path ("inputs[3].shape"), formatted only when an error needs it
 * so the hot path never calls snprintf. idx < 0: plain name. */
typedef struct fld {
    const char *base;
    long idx;
    const char *sub;
} fld_t;

#define FLD(name) ((fld_t){(name), -1, NULL})

static const char *fld_str(fld_t f, char *buf, size_t n) {
    if (f.idx < 0)
        return f.base;
    snprintf(buf, n, "%s[%ld]%s%s", f.base, f.idx, f.sub ? "." : "", f.sub ? f.sub : "");
    return buf;
}

static size_t dec_off(const dec_t *d) {
    return (size_t)(d->r.p - d->body);
}

static kf_status_t bad(dec_t *d, fld_t field, const char *what) {
    char b[96];
    return kf_codec_fail(d->err, KF_ERR_DECODE, "%s: %s at byte %zu", fld_str(field, b, sizeof(b)),
                         what, dec_off(d));
}

/* Reads a string; in pass 2 copies it NUL-terminated into the arena. */
static kf_status_t rd_str(dec_t *d, fld_t field, const char **out) {
    const uint8_t *s;
    size_t n;
    if (kf_avro_get_bytes(&d->r, &s, &n) != KF_OK)
        return bad(d, field, "truncated or invalid string length");
    if (memchr(s, 0, n)) {
        char b[96];
        return kf_codec_fail(d->err, KF_ERR_DECODE, "%s: string contains a NUL byte",
                             fld_str(field, b, sizeof(b)));
    }
    if (!d->arena) {
        d->str_bytes += n + 1;
        return KF_OK;
    }
    memcpy(d->arena, s, n);
    d->arena[n] = '\0';
    *out = d->arena;
    d->arena += n + 1;
    return KF_OK;
}

static kf_status_t rd_long(dec_t *d, fld_t field, int64_t *v) {
    return kf_avro_get_long(&d->r, v) == KF_OK ? KF_OK
                                               : bad(d, field, "truncated or malformed varint");
}

static kf_status_t rd_int(dec_t *d, fld_t field, int32_t *v) {
    return kf_avro_get_int(&d->r, v) == KF_OK ? KF_OK
                                              : bad(d, field, "truncated or out-of-range int");
}

/* Reads a union branch index and checks it is 0 or 1 (["null", T]). */
static kf_status_t rd_union(dec_t *d, fld_t field, int *branch) {
    int64_t v;
    kf_status_t st = rd_long(d, field, &v);
    if (st != KF_OK)
        return st;
    if (v != 0 && v != 1) {
        char b[96];
        return kf_codec_fail(d->err, KF_ERR_DECODE, "%s: bad union branch %lld (0=null or 1)",
                             fld_str(field, b, sizeof(b)), (long long)v);
    }
    *branch = (int)v;
    return KF_OK;
}

/* Reads an enum index, checking 0 <= idx < n. */
static kf_status_t rd_enum(dec_t *d, fld_t field, int n, int *out) {
    int64_t v;
    kf_status_t st = rd_long(d, field, &v);
    if (st != KF_OK)
        return st;
    if (v < 0 || v >= n) {
        char b[96];
        return kf_codec_fail(d->err, KF_ERR_DECODE, "%s: unknown enum symbol index %lld (of %d)",
                             fld_str(field, b, sizeof(b)), (long long)v, n);
    }
    *out = (int)v;
    return KF_OK;
}

/* Reads an array/map block header: *count items follow, 0 = end. A negative
 * count is followed by the block's byte size, which is read and checked. */
static kf_status_t rd_block(dec_t *d, fld_t field, uint64_t *count) {
    int64_t c;
    kf_status_t st = rd_long(d, field, &c);
    if (st != KF_OK)
        return st;
    if (c < 0) {
        if (c == INT64_MIN)
            return bad(d, field, "bad block count");
        c = -c;
        int64_t size;
        st = rd_long(d, field, &size);
        if (st != KF_OK)
            return st;
        if (size < 0 || (uint64_t)size > kf_avro_rd_left(&d->r))
            return bad(d, field, "bad block byte size");
    }
    *count = (uint64_t)c;
    return KF_OK;
}

static kf_status_t rd_tensor(dec_t *d, const char *field, uint32_t i, int need_rows,
                             kf_tensor_view_t *t) {
    fld_t f = {field, (long)i, "name"};
    const char *name = NULL;
    kf_status_t st = rd_str(d, f, &name);
    if (st != KF_OK)
        return st;
    f.sub = "dtype";
    int dt = 0;
    if ((st = rd_enum(d, f, (int)KF_DTYPE_COUNT, &dt)) != KF_OK)
        return st;
    f.sub = "shape";
    int64_t shape[KF_MAX_RANK];
    uint32_t rank = 0;
    for (;;) {
        uint64_t c;
        if ((st = rd_block(d, f, &c)) != KF_OK)
            return st;
        if (c == 0)
            break;
        if (c > KF_MAX_RANK - rank)
            return kf_codec_fail(d->err, KF_ERR_LIMIT, "%s[%u].shape: rank %llu exceeds %d", field,
                                 i, (unsigned long long)(rank + c), KF_MAX_RANK);
        for (uint64_t k = 0; k < c; k++)
            if ((st = rd_long(d, f, &shape[rank++])) != KF_OK)
                return st;
    }
    f.sub = "data";
    const uint8_t *data;
    size_t n;
    if (kf_avro_get_bytes(&d->r, &data, &n) != KF_OK)
        return bad(d, f, "truncated or invalid bytes length");
    st = kf_codec_check_tensor(d->p, field, i, (kf_dtype_t)dt, rank, shape, n, need_rows, d->err);
    if (st != KF_OK || !t)
        return st;
    t->name = name;
    t->dtype = (kf_dtype_t)dt;
    t->rank = rank;
    memcpy(t->shape, shape, rank * sizeof(shape[0]));
    for (uint32_t k = rank; k < KF_MAX_RANK; k++)
        t->shape[k] = 0;
    t->data = data;
    t->nbytes = n;
    return KF_OK;
}

static kf_status_t rd_tensors(dec_t *d, const char *field, int need_rows) {
    uint32_t n = 0;
    for (;;) {
        uint64_t c;
        kf_status_t st = rd_block(d, FLD(field), &c);
        if (st != KF_OK)
            return st;
        if (c == 0)
            break;
        if (c > d->p->max_tensors - n)
            return kf_codec_fail(d->err, KF_ERR_LIMIT, "%s: more than max_tensors %u tensors",
                                 field, d->p->max_tensors);
        for (uint64_t k = 0; k < c; k++, n++)
            if ((st = rd_tensor(d, field, n, need_rows, d->tensors ? &d->tensors[n] : NULL)) !=
                KF_OK)
                return st;
    }
    if (need_rows && n == 0)
        return kf_codec_fail(d->err, KF_ERR_INVALID_INPUT, "%s: no tensors", field);
    d->n_tensors = n;
    return KF_OK;
}

static kf_status_t rd_map(dec_t *d, const char *field) {
    uint32_t n = 0;
    for (;;) {
        uint64_t c;
        kf_status_t st = rd_block(d, FLD(field), &c);
        if (st != KF_OK)
            return st;
        if (c == 0)
            break;
        if (c > d->p->max_metadata - n)
            return kf_codec_fail(d->err, KF_ERR_LIMIT, "%s: more than max_metadata %u entries",
                                 field, d->p->max_metadata);
        for (uint64_t k = 0; k < c; k++, n++) {
            const char *key = NULL, *val = NULL;
            if ((st = rd_str(d, (fld_t){field, (long)n, "key"}, &key)) != KF_OK)
                return st;
            if ((st = rd_str(d, (fld_t){field, (long)n, "value"}, &val)) != KF_OK)
                return st;
            if (d->kvs) {
                d->kvs[n].key = key;
                d->kvs[n].value = val;
            }
        }
    }
    d->n_meta = n;
    return KF_OK;
}

/* Records the id (inside the message) in err once it has been read. */
static void note_id(dec_t *d, const uint8_t *start) {
    if (!d->err || d->arena)
        return;
    kf_avro_rd_t r = {start, d->r.end};
    const uint8_t *s;
    size_t n;
    if (kf_avro_get_bytes(&r, &s, &n) == KF_OK) {
        d->err->has_id = 1;
        d->err->id = (const char *)s;
        d->err->id_len = n;
    }
}

static kf_status_t parse_request(dec_t *d, kf_request_t *q) {
    const uint8_t *id_start = d->r.p;
    kf_status_t st;
    if ((st = rd_str(d, FLD("id"), q ? &q->id : NULL)) != KF_OK)
        return st;
    note_id(d, id_start);
    if ((st = rd_str(d, FLD("model"), q ? &q->model : NULL)) != KF_OK)
        return st;
    int b = 0;
    if ((st = rd_union(d, FLD("model_version"), &b)) != KF_OK)
        return st;
    if (b && (st = rd_str(d, FLD("model_version"), q ? &q->model_version : NULL)) != KF_OK)
        return st;
    if ((st = rd_tensors(d, "inputs", 1)) != KF_OK)
        return st;
    if ((st = rd_union(d, FLD("deadline_ms"), &b)) != KF_OK)
        return st;
    int has_deadline = b;
    int64_t deadline = 0;
    if (b && (st = rd_long(d, FLD("deadline_ms"), &deadline)) != KF_OK)
        return st;
    if ((st = rd_union(d, FLD("reply_topic"), &b)) != KF_OK)
        return st;
    if (b && (st = rd_str(d, FLD("reply_topic"), q ? &q->reply_topic : NULL)) != KF_OK)
        return st;
    if ((st = rd_map(d, "metadata")) != KF_OK)
        return st;
    if (q) {
        q->has_deadline = has_deadline;
        q->deadline_ms = deadline;
    }
    return KF_OK;
}

static kf_status_t parse_result(dec_t *d, kf_result_t *res) {
    const uint8_t *id_start = d->r.p;
    kf_status_t st;
    if ((st = rd_str(d, FLD("id"), res ? &res->id : NULL)) != KF_OK)
        return st;
    note_id(d, id_start);
    if ((st = rd_str(d, FLD("model"), res ? &res->model : NULL)) != KF_OK)
        return st;
    if ((st = rd_str(d, FLD("model_version"), res ? &res->model_version : NULL)) != KF_OK)
        return st;
    int status = 0;
    if ((st = rd_enum(d, FLD("status"), (int)KF_RESULT_STATUS_COUNT, &status)) != KF_OK)
        return st;
    int b = 0;
    if ((st = rd_union(d, FLD("error"), &b)) != KF_OK)
        return st;
    if (b && (st = rd_str(d, FLD("error"), res ? &res->error : NULL)) != KF_OK)
        return st;
    if ((st = rd_tensors(d, "outputs", 0)) != KF_OK)
        return st;
    int32_t batch, partition;
    int64_t queue_us, compute_us, offset;
    if ((st = rd_int(d, FLD("batch_size"), &batch)) != KF_OK ||
        (st = rd_long(d, FLD("queue_us"), &queue_us)) != KF_OK ||
        (st = rd_long(d, FLD("compute_us"), &compute_us)) != KF_OK ||
        (st = rd_str(d, FLD("worker"), res ? &res->worker : NULL)) != KF_OK ||
        (st = rd_str(d, FLD("source.topic"), res ? &res->source_topic : NULL)) != KF_OK ||
        (st = rd_int(d, FLD("source.partition"), &partition)) != KF_OK ||
        (st = rd_long(d, FLD("source.offset"), &offset)) != KF_OK)
        return st;
    if ((st = rd_map(d, "metadata")) != KF_OK)
        return st;
    if (res) {
        res->status = (kf_result_status_t)status;
        res->batch_size = batch;
        res->queue_us = queue_us;
        res->compute_us = compute_us;
        res->source_partition = partition;
        res->source_offset = offset;
    }
    return KF_OK;
}

typedef kf_status_t (*parse_fn)(dec_t *d, void *obj);

static kf_status_t parse_req_cb(dec_t *d, void *obj) {
    return parse_request(d, obj);
}

static kf_status_t parse_res_cb(dec_t *d, void *obj) {
    return parse_result(d, obj);
}

/* Runs pass 1 and pass 2 for one message kind; obj_size is sizeof the
 * top-level struct. Sets the tensor/kv arrays through the returned dec. */
static kf_status_t decode_two_pass(const kf_codec_params_t *params, const void *msg, size_t len,
                                   int32_t schema_id, parse_fn parse, size_t obj_size, void **out,
                                   dec_t *filled, kf_codec_error_t *err) {
    kf_codec_params_t defaults = kf_codec_default_params();
    const kf_codec_params_t *p = params ? params : &defaults;
    *out = NULL;
    if (err) {
        err->msg[0] = '\0';
        err->has_id = 0;
        err->id = NULL;
        err->id_len = 0;
    }
    if (!msg && len)
        return kf_codec_fail(err, KF_ERR_INVALID_ARG, "message: NULL buffer");
    const uint8_t *body;
    size_t body_len;
    int hint = 0;
    int32_t hint_id = 0;
    kf_status_t st =
        kf_codec_unframe(p, msg, len, schema_id, &body, &body_len, &hint, &hint_id, err);
    if (st != KF_OK)
        return st;
    dec_t d = {.r = {body, body + body_len}, .body = body, .p = p, .err = err};
    st = parse(&d, NULL);
    if (st == KF_OK && kf_avro_rd_left(&d.r) != 0)
        st = kf_codec_fail(err, KF_ERR_DECODE, "message: %zu trailing bytes after the record",
                           kf_avro_rd_left(&d.r));
    if (st != KF_OK) {
        if (hint) {
            /* AUTO took a 0x00-led message with another schema id as raw
             * Avro and that failed: report it as the Confluent frame it
             * most likely is, naming both ids */
            char raw_msg[sizeof(err->msg)];
            snprintf(raw_msg, sizeof(raw_msg), "%s", err ? err->msg : "");
            st = kf_codec_fail(err, KF_ERR_DECODE,
                               "confluent header: schema id %d, expected %d (as raw Avro: %s)",
                               hint_id, schema_id, raw_msg);
        }
        return st;
    }
    /* every size below is bounded by the (limit-checked) message length */
    size_t tsz = (size_t)d.n_tensors * sizeof(kf_tensor_view_t);
    size_t ksz = (size_t)d.n_meta * sizeof(kf_kv_t);
    size_t osz = (obj_size + 15) & ~(size_t)15;
    uint8_t *block = calloc(1, osz + tsz + ksz + d.str_bytes + 1);
    if (!block)
        return kf_codec_fail(err, KF_ERR_NOMEM, "message: out of memory");
    dec_t f = {.r = {body, body + body_len}, .body = body, .p = p, .err = NULL};
    f.tensors = (kf_tensor_view_t *)(block + osz);
    f.kvs = (kf_kv_t *)(block + osz + tsz);
    f.arena = (char *)(block + osz + tsz + ksz);
    st = parse(&f, block);
    if (st != KF_OK) { /* cannot happen: same bytes as pass 1 */
        free(block);
        return kf_codec_fail(err, KF_ERR_INTERNAL, "decoder: second pass failed");
    }
    /* duplicate map keys: Avro leaves them undefined (Avro C keeps the
     * last); refuse them. O(n^2) over at most max_metadata entries, on the
     * block sized by the validated counts. */
    for (uint32_t i = 1; i < f.n_meta; i++) {
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(f.kvs[i].key, f.kvs[j].key) == 0) {
                st = kf_codec_fail(err, KF_ERR_DECODE, "metadata[%u].key: duplicate key \"%.64s\"",
                                   i, f.kvs[i].key);
                free(block);
                return st;
            }
        }
    }
    *filled = f;
    *out = block;
    return KF_OK;
}

kf_status_t kf_codec_decode_request(const kf_codec_params_t *params, const void *msg, size_t len,
                                    kf_request_t **out, kf_codec_error_t *err) {
    if (!out)
        return kf_codec_fail(err, KF_ERR_INVALID_ARG, "decode_request: NULL out");
    int32_t id = params ? params->request_schema_id : kf_codec_default_params().request_schema_id;
    void *obj = NULL;
    dec_t f = {0};
    kf_status_t st =
        decode_two_pass(params, msg, len, id, parse_req_cb, sizeof(kf_request_t), &obj, &f, err);
    *out = obj;
    if (st == KF_OK) {
        (*out)->inputs = f.n_tensors ? f.tensors : NULL;
        (*out)->n_inputs = f.n_tensors;
        (*out)->metadata = f.n_meta ? f.kvs : NULL;
        (*out)->n_metadata = f.n_meta;
    }
    return st;
}

void kf_request_free(kf_request_t *req) {
    free(req);
}

kf_status_t kf_codec_decode_result(const kf_codec_params_t *params, const void *msg, size_t len,
                                   kf_result_t **out, kf_codec_error_t *err) {
    if (!out)
        return kf_codec_fail(err, KF_ERR_INVALID_ARG, "decode_result: NULL out");
    int32_t id = params ? params->result_schema_id : kf_codec_default_params().result_schema_id;
    void *obj = NULL;
    dec_t f = {0};
    kf_status_t st =
        decode_two_pass(params, msg, len, id, parse_res_cb, sizeof(kf_result_t), &obj, &f, err);
    *out = obj;
    if (st == KF_OK) {
        (*out)->outputs = f.n_tensors ? f.tensors : NULL;
        (*out)->n_outputs = f.n_tensors;
        (*out)->metadata = f.n_meta ? f.kvs : NULL;
        (*out)->n_metadata = f.n_meta;
    }
    return st;
}

void kf_result_free(kf_result_t *res) {
    free(res);
}
