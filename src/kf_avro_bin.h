/* kf_avro_bin: low-level Avro binary encoding pieces and a growable buffer.
 *
 * kf_buf_t is a plain growable byte buffer the caller owns and may reuse
 * across messages (kf_buf_clear keeps the allocation), so encoding a result
 * per message needs no malloc once the buffer is warm. A kf_buf_t is not
 * thread-safe: one thread uses it at a time.
 *
 * The reader (kf_avro_rd_t) walks a borrowed byte range and never reads
 * past its end: every getter returns KF_ERR_DECODE on truncation, a varint
 * longer than 10 bytes, or a negative/oversized length, and leaves the
 * cursor unspecified after an error. Pure functions on caller state; any
 * thread, one reader per thread. */
#ifndef KF_AVRO_BIN_H
#define KF_AVRO_BIN_H

#include <stddef.h>
#include <stdint.h>

#include "kf_status.h"

/* ---- growable buffer ----------------------------------------------------- */

typedef struct kf_buf {
    uint8_t *data; /* owned; NULL until the first write */
    size_t len;    /* bytes written */
    size_t cap;    /* bytes allocated */
} kf_buf_t;

#define KF_BUF_INIT ((kf_buf_t){NULL, 0, 0})

/* Sets len = 0 and keeps the allocation for reuse. */
void kf_buf_clear(kf_buf_t *b);
/* Frees the allocation and resets to KF_BUF_INIT; NULL is a no-op. */
void kf_buf_free(kf_buf_t *b);
/* Ensures room for `extra` more bytes. KF_ERR_NOMEM (buffer unchanged) on
 * allocation failure or size overflow. */
kf_status_t kf_buf_reserve(kf_buf_t *b, size_t extra);
/* Appends n bytes (n may be 0; p may be NULL when n == 0). */
kf_status_t kf_buf_append(kf_buf_t *b, const void *p, size_t n);

/* ---- writer (appends to a kf_buf_t) -------------------------------------- */

kf_status_t kf_avro_put_long(kf_buf_t *b, int64_t v);                /* zig-zag varint */
kf_status_t kf_avro_put_int(kf_buf_t *b, int32_t v);                 /* same encoding */
kf_status_t kf_avro_put_bytes(kf_buf_t *b, const void *p, size_t n); /* len + bytes */
kf_status_t kf_avro_put_string(kf_buf_t *b, const char *s);          /* NULL -> "" */

/* ---- reader --------------------------------------------------------------- */

typedef struct kf_avro_rd {
    const uint8_t *p;   /* cursor */
    const uint8_t *end; /* one past the last readable byte */
} kf_avro_rd_t;

/* Reads a zig-zag varint long (at most 10 bytes). */
kf_status_t kf_avro_get_long(kf_avro_rd_t *r, int64_t *out);
/* Reads a long and checks it fits an Avro int (int32). */
kf_status_t kf_avro_get_int(kf_avro_rd_t *r, int32_t *out);
/* Reads a bytes/string length prefix and returns a pointer to the payload
 * inside the reader's range (no copy); fails when the length is negative or
 * runs past the end. */
kf_status_t kf_avro_get_bytes(kf_avro_rd_t *r, const uint8_t **p, size_t *n);

/* Bytes still unread. */
size_t kf_avro_rd_left(const kf_avro_rd_t *r);

#endif
