/* Test helper: Avro C (libavro) as an independent implementation of the
 * wire schemas. Header-only (static functions) for the codec unit tests and
 * the fuzz target. Not thread-safe; tests only. */
#ifndef CODEC_AVRO_CHECK_H
#define CODEC_AVRO_CHECK_H

#include <avro.h>
#include <string.h>

#include "kf_codec.h"

typedef struct avro_kind {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t value;
} avro_kind_t;

/* Loads a schema (JSON text) and a generic value for it. 0 on success. */
static inline int avro_kind_open(avro_kind_t *k, const char *json) {
    memset(k, 0, sizeof(*k));
    if (avro_schema_from_json_length(json, strlen(json), &k->schema) != 0)
        return -1;
    k->iface = avro_generic_class_from_schema(k->schema);
    if (!k->iface)
        return -1;
    return avro_generic_value_new(k->iface, &k->value) == 0 ? 0 : -1;
}

static inline void avro_kind_close(avro_kind_t *k) {
    if (k->iface) {
        avro_value_decref(&k->value);
        avro_value_iface_decref(k->iface);
    }
    if (k->schema)
        avro_schema_decref(k->schema);
    memset(k, 0, sizeof(*k));
}

/* Decodes an Avro body (no framing) into k->value with Avro C. 0 on success. */
static inline int avro_kind_read(avro_kind_t *k, const void *body, size_t len) {
    avro_value_reset(&k->value);
    avro_reader_t rd = avro_reader_memory((const char *)body, (int64_t)len);
    if (!rd)
        return -1;
    int rc = avro_value_read(rd, &k->value);
    avro_reader_free(rd);
    return rc;
}

/* Encodes k->value with Avro C into out (cleared first). 0 on success. */
static inline int avro_kind_write(avro_kind_t *k, kf_buf_t *out) {
    size_t size = 0;
    if (avro_value_sizeof(&k->value, &size) != 0)
        return -1;
    kf_buf_clear(out);
    if (kf_buf_reserve(out, size + 1) != KF_OK)
        return -1;
    avro_writer_t wr = avro_writer_memory((char *)out->data, (int64_t)size + 1);
    if (!wr)
        return -1;
    int rc = avro_value_write(wr, &k->value);
    out->len = (size_t)avro_writer_tell(wr);
    avro_writer_free(wr);
    return rc;
}

/* Field access shorthands; each returns 0 on success. */
static inline int av_field(avro_value_t *rec, const char *name, avro_value_t *out) {
    return avro_value_get_by_name(rec, name, out, NULL);
}

static inline const char *av_string(avro_value_t *v) {
    const char *s = NULL;
    size_t n = 0;
    return avro_value_get_string(v, &s, &n) == 0 ? s : NULL;
}

#endif
