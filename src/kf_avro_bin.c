#include "kf_avro_bin.h"

#include <stdlib.h>
#include <string.h>

void kf_buf_clear(kf_buf_t *b) {
    if (b)
        b->len = 0;
}

void kf_buf_free(kf_buf_t *b) {
    if (!b)
        return;
    free(b->data);
    *b = KF_BUF_INIT;
}

kf_status_t kf_buf_reserve(kf_buf_t *b, size_t extra) {
    if (extra > SIZE_MAX - b->len)
        return KF_ERR_NOMEM;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return KF_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return KF_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return KF_OK;
}

kf_status_t kf_buf_append(kf_buf_t *b, const void *p, size_t n) {
    if (n == 0)
        return KF_OK;
    kf_status_t st = kf_buf_reserve(b, n);
    if (st != KF_OK)
        return st;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return KF_OK;
}

kf_status_t kf_avro_put_long(kf_buf_t *b, int64_t v) {
    kf_status_t st = kf_buf_reserve(b, 10);
    if (st != KF_OK)
        return st;
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    uint8_t *p = b->data + b->len;
    while (z >= 0x80) {
        *p++ = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    *p++ = (uint8_t)z;
    b->len = (size_t)(p - b->data);
    return KF_OK;
}

kf_status_t kf_avro_put_int(kf_buf_t *b, int32_t v) {
    return kf_avro_put_long(b, v);
}

kf_status_t kf_avro_put_bytes(kf_buf_t *b, const void *p, size_t n) {
    if (n > (size_t)INT64_MAX)
        return KF_ERR_INVALID_ARG;
    kf_status_t st = kf_avro_put_long(b, (int64_t)n);
    return st != KF_OK ? st : kf_buf_append(b, p, n);
}

kf_status_t kf_avro_put_string(kf_buf_t *b, const char *s) {
    if (!s)
        s = "";
    return kf_avro_put_bytes(b, s, strlen(s));
}

kf_status_t kf_avro_get_long(kf_avro_rd_t *r, int64_t *out) {
    uint64_t z = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end)
            return KF_ERR_DECODE;
        uint8_t c = *r->p++;
        if (shift == 63 && (c & 0x7e))
            return KF_ERR_DECODE; /* more than 64 bits */
        z |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
            return KF_OK;
        }
    }
    return KF_ERR_DECODE; /* varint longer than 10 bytes */
}

kf_status_t kf_avro_get_int(kf_avro_rd_t *r, int32_t *out) {
    int64_t v;
    kf_status_t st = kf_avro_get_long(r, &v);
    if (st != KF_OK)
        return st;
    if (v < INT32_MIN || v > INT32_MAX)
        return KF_ERR_DECODE;
    *out = (int32_t)v;
    return KF_OK;
}

kf_status_t kf_avro_get_bytes(kf_avro_rd_t *r, const uint8_t **p, size_t *n) {
    int64_t len;
    kf_status_t st = kf_avro_get_long(r, &len);
    if (st != KF_OK)
        return st;
    if (len < 0 || (uint64_t)len > (uint64_t)(r->end - r->p))
        return KF_ERR_DECODE;
    *p = r->p;
    *n = (size_t)len;
    r->p += len;
    return KF_OK;
}

size_t kf_avro_rd_left(const kf_avro_rd_t *r) {
    return (size_t)(r->end - r->p);
}
