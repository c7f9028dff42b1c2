/* kf_npy: .npy reader/writer. The header is a Python dict literal such as
 * {'descr': '<f4', 'fortran_order': False, 'shape': (1, 784), }
 * parsed here by a small tolerant scanner (keys in any order, ' or " quotes,
 * optional trailing commas). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kf_npy.h"

static const char magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

static kf_status_t npy_fail(char *errbuf, size_t errlen, kf_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static kf_status_t npy_fail(char *errbuf, size_t errlen, kf_status_t st, const char *fmt, ...) {
    if (errbuf && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* descr <-> dtype. Byte order: '<' or '=' (this build is little-endian);
 * 1-byte types also '|'. */
static const struct {
    char kind;
    int size;
    kf_dtype_t dt;
} descrs[] = {
    {'f', 4, KF_DTYPE_FLOAT32}, {'f', 2, KF_DTYPE_FLOAT16}, {'f', 8, KF_DTYPE_FLOAT64},
    {'i', 1, KF_DTYPE_INT8},    {'u', 1, KF_DTYPE_UINT8},   {'i', 4, KF_DTYPE_INT32},
    {'i', 8, KF_DTYPE_INT64},   {'b', 1, KF_DTYPE_BOOL},
};

static int descr_parse(const char *s, size_t n, kf_dtype_t *out) {
    if (n != 3 || (s[0] != '<' && s[0] != '|' && s[0] != '=') || s[2] < '1' || s[2] > '9')
        return -1;
    int size = s[2] - '0';
    if (s[0] == '|' && size != 1)
        return -1;
    for (size_t i = 0; i < sizeof(descrs) / sizeof(descrs[0]); i++) {
        if (descrs[i].kind == s[1] && descrs[i].size == size) {
            *out = descrs[i].dt;
            return 0;
        }
    }
    return -1;
}

static const char *descr_of(kf_dtype_t dt) {
    switch (dt) {
    case KF_DTYPE_FLOAT32: return "<f4";
    case KF_DTYPE_FLOAT16: return "<f2";
    case KF_DTYPE_FLOAT64: return "<f8";
    case KF_DTYPE_INT8: return "|i1";
    case KF_DTYPE_UINT8: return "|u1";
    case KF_DTYPE_INT32: return "<i4";
    case KF_DTYPE_INT64: return "<i8";
    case KF_DTYPE_BOOL: return "|b1";
    default: return NULL;
    }
}

/* ---- header parsing ---------------------------------------------------------- */

typedef struct scan {
    const char *p, *end;
} scan_t;

static void skip_ws(scan_t *s) {
    while (s->p < s->end && isspace((unsigned char)*s->p))
        s->p++;
}

static int eat(scan_t *s, char c) {
    skip_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* A quoted string; returns its bytes (without quotes). */
static int scan_str(scan_t *s, const char **str, size_t *n) {
    skip_ws(s);
    if (s->p >= s->end || (*s->p != '\'' && *s->p != '"'))
        return -1;
    char q = *s->p++;
    const char *start = s->p;
    while (s->p < s->end && *s->p != q)
        s->p++;
    if (s->p >= s->end)
        return -1;
    *str = start;
    *n = (size_t)(s->p - start);
    s->p++;
    return 0;
}

static int scan_word(scan_t *s, const char *w) {
    skip_ws(s);
    size_t n = strlen(w);
    if ((size_t)(s->end - s->p) >= n && memcmp(s->p, w, n) == 0) {
        s->p += n;
        return 1;
    }
    return 0;
}

/* (d0, d1, ...) with optional trailing comma; "()" is rank 0. */
static int scan_shape(scan_t *s, int64_t *shape, uint32_t *rank) {
    if (!eat(s, '('))
        return -1;
    *rank = 0;
    for (;;) {
        if (eat(s, ')'))
            return 0;
        skip_ws(s);
        if (s->p >= s->end || !isdigit((unsigned char)*s->p))
            return -1;
        int64_t v = 0;
        while (s->p < s->end && isdigit((unsigned char)*s->p)) {
            if (v > (INT64_MAX - 9) / 10)
                return -1;
            v = v * 10 + (*s->p++ - '0');
        }
        if (s->p < s->end && (*s->p == 'L' || *s->p == 'l'))
            s->p++; /* Python 2 long suffix */
        if (*rank >= KF_MAX_RANK)
            return -2;
        shape[(*rank)++] = v;
        if (!eat(s, ',')) {
            return eat(s, ')') ? 0 : -1;
        }
    }
}

typedef struct npy_hdr {
    kf_dtype_t dtype;
    uint32_t rank;
    int64_t shape[KF_MAX_RANK];
    uint64_t elements;
    size_t nbytes;
    size_t data_off; /* bytes before the data */
} npy_hdr_t;

/* Parses magic, version, length and the dict from the first `len` bytes
 * (which must hold the whole header). */
static kf_status_t parse_header(const uint8_t *buf, size_t len, const char *what, npy_hdr_t *h,
                                char *errbuf, size_t errlen) {
    if (len < 10 || memcmp(buf, magic, 6) != 0)
        return npy_fail(errbuf, errlen, KF_ERR_DECODE, "%s: not a .npy file (bad magic)", what);
    uint8_t major = buf[6];
    size_t hlen, pre;
    if (major == 1) {
        hlen = (size_t)buf[8] | ((size_t)buf[9] << 8);
        pre = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            return npy_fail(errbuf, errlen, KF_ERR_DECODE, "%s: truncated header", what);
        hlen = (size_t)buf[8] | ((size_t)buf[9] << 8) | ((size_t)buf[10] << 16) |
               ((size_t)buf[11] << 24);
        pre = 12;
    } else {
        return npy_fail(errbuf, errlen, KF_ERR_UNSUPPORTED, "%s: .npy format version %u.%u", what,
                        major, buf[7]);
    }
    if (hlen > len - pre)
        return npy_fail(errbuf, errlen, KF_ERR_DECODE, "%s: header of %zu bytes runs past the end",
                        what, hlen);
    scan_t s = {(const char *)buf + pre, (const char *)buf + pre + hlen};
    int have_descr = 0, have_order = 0, have_shape = 0;
    if (!eat(&s, '{'))
        return npy_fail(errbuf, errlen, KF_ERR_DECODE, "%s: header is not a dict", what);
    while (!eat(&s, '}')) {
        const char *key, *val;
        size_t kn, vn;
        if (scan_str(&s, &key, &kn) != 0 || !eat(&s, ':'))
            return npy_fail(errbuf, errlen, KF_ERR_DECODE, "%s: malformed header dict", what);
        if (kn == 5 && memcmp(key, "descr", 5) == 0) {
            if (scan_str(&s, &val, &vn) != 0)
                return npy_fail(errbuf, errlen, KF_ERR_DECODE, "%s: descr is not a string", what);
            if (descr_parse(val, vn, &h->dtype) != 0)
                return npy_fail(errbuf, errlen, KF_ERR_UNSUPPORTED,
                                "%s: unsupported dtype descr '%.*s'", what,
                                (int)(vn < 16 ? vn : 16), val);
            have_descr = 1;
        } else if (kn == 13 && memcmp(key, "fortran_order", 13) == 0) {
            if (scan_word(&s, "True"))
                return npy_fail(errbuf, errlen, KF_ERR_UNSUPPORTED,
                                "%s: fortran_order arrays are not supported (C order only)", what);
            if (!scan_word(&s, "False"))
                return npy_fail(errbuf, errlen, KF_ERR_DECODE,
                                "%s: fortran_order is not True/False", what);
            have_order = 1;
        } else if (kn == 5 && memcmp(key, "shape", 5) == 0) {
            int rc = scan_shape(&s, h->shape, &h->rank);
            if (rc == -2)
                return npy_fail(errbuf, errlen, KF_ERR_LIMIT, "%s: shape rank exceeds %d", what,
                                KF_MAX_RANK);
            if (rc != 0)
                return npy_fail(errbuf, errlen, KF_ERR_DECODE, "%s: malformed shape tuple", what);
            have_shape = 1;
        } else {
            return npy_fail(errbuf, errlen, KF_ERR_DECODE, "%s: unknown header key '%.*s'", what,
                            (int)(kn < 32 ? kn : 32), key);
        }
        if (!eat(&s, ',')) {
            if (!eat(&s, '}'))
                return npy_fail(errbuf, errlen, KF_ERR_DECODE, "%s: malformed header dict", what);
            break;
        }
    }
    if (!have_descr || !have_order || !have_shape)
        return npy_fail(errbuf, errlen, KF_ERR_DECODE, "%s: header lacks %s", what,
                        !have_descr   ? "descr"
                        : !have_order ? "fortran_order"
                                      : "shape");
    kf_tensor_view_t t = {.rank = h->rank};
    memcpy(t.shape, h->shape, sizeof(h->shape));
    if (kf_tensor_elements(&t, &h->elements) != KF_OK ||
        h->elements > SIZE_MAX / kf_dtype_size(h->dtype))
        return npy_fail(errbuf, errlen, KF_ERR_LIMIT, "%s: element count overflows", what);
    h->nbytes = (size_t)h->elements * kf_dtype_size(h->dtype);
    h->data_off = pre + hlen;
    return KF_OK;
}

static kf_npy_t *npy_alloc(const npy_hdr_t *h) {
    kf_npy_t *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->data = malloc(h->nbytes ? h->nbytes : 1);
    if (!a->data) {
        free(a);
        return NULL;
    }
    a->dtype = h->dtype;
    a->rank = h->rank;
    memcpy(a->shape, h->shape, sizeof(a->shape));
    a->elements = h->elements;
    a->nbytes = h->nbytes;
    return a;
}

kf_status_t kf_npy_load_mem(const void *buf, size_t len, const char *what, kf_npy_t **out,
                            char *errbuf, size_t errlen) {
    if (!out)
        return KF_ERR_INVALID_ARG;
    *out = NULL;
    if (!what)
        what = "<memory>";
    if (!buf && len)
        return npy_fail(errbuf, errlen, KF_ERR_INVALID_ARG, "%s: NULL buffer", what);
    npy_hdr_t h;
    kf_status_t st = parse_header(buf, len, what, &h, errbuf, errlen);
    if (st != KF_OK)
        return st;
    if (len - h.data_off != h.nbytes)
        return npy_fail(errbuf, errlen, KF_ERR_DECODE, "%s: %zu data bytes, expected %zu", what,
                        len - h.data_off, h.nbytes);
    kf_npy_t *a = npy_alloc(&h);
    if (!a)
        return npy_fail(errbuf, errlen, KF_ERR_NOMEM, "%s: out of memory", what);
    if (h.nbytes)
        memcpy(a->data, (const uint8_t *)buf + h.data_off, h.nbytes);
    *out = a;
    return KF_OK;
}

kf_status_t kf_npy_load_file(const char *path, size_t max_bytes, kf_npy_t **out, char *errbuf,
                             size_t errlen) {
    if (!out || !path)
        return KF_ERR_INVALID_ARG;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return npy_fail(errbuf, errlen, KF_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return npy_fail(errbuf, errlen, KF_ERR_IO, "%s: not a regular file", path);
    }
    /* the header is small: read up to 64 KiB + 12 bytes of it */
    uint8_t head[65536 + 12];
    size_t got = fread(head, 1, sizeof(head), f);
    if (ferror(f)) {
        fclose(f);
        return npy_fail(errbuf, errlen, KF_ERR_IO, "%s: read error", path);
    }
    npy_hdr_t h;
    kf_status_t st = parse_header(head, got, path, &h, errbuf, errlen);
    if (st != KF_OK) {
        fclose(f);
        return st;
    }
    uint64_t fsize = (uint64_t)sb.st_size;
    if (fsize < h.data_off || fsize - h.data_off != h.nbytes) {
        fclose(f);
        return npy_fail(errbuf, errlen, KF_ERR_DECODE, "%s: %llu data bytes, expected %zu", path,
                        (unsigned long long)(fsize < h.data_off ? 0 : fsize - h.data_off),
                        h.nbytes);
    }
    if (max_bytes && h.nbytes > max_bytes) {
        fclose(f);
        return npy_fail(errbuf, errlen, KF_ERR_LIMIT, "%s: %zu data bytes exceeds limit %zu", path,
                        h.nbytes, max_bytes);
    }
    kf_npy_t *a = npy_alloc(&h);
    if (!a) {
        fclose(f);
        return npy_fail(errbuf, errlen, KF_ERR_NOMEM, "%s: out of memory", path);
    }
    /* data already in head[] first, then the rest from the file */
    size_t have = got > h.data_off ? got - h.data_off : 0;
    if (have > h.nbytes)
        have = h.nbytes;
    memcpy(a->data, head + h.data_off, have);
    if (have < h.nbytes &&
        fread((uint8_t *)a->data + have, 1, h.nbytes - have, f) != h.nbytes - have) {
        fclose(f);
        kf_npy_free(a);
        return npy_fail(errbuf, errlen, KF_ERR_IO, "%s: short read", path);
    }
    fclose(f);
    *out = a;
    return KF_OK;
}

void kf_npy_free(kf_npy_t *a) {
    if (!a)
        return;
    free(a->data);
    free(a);
}

/* ---- writing ------------------------------------------------------------------- */

kf_status_t kf_npy_write_mem(kf_buf_t *out, kf_dtype_t dtype, uint32_t rank, const int64_t *shape,
                             const void *data, size_t nbytes, char *errbuf, size_t errlen) {
    if (!out || (rank && !shape) || (nbytes && !data))
        return npy_fail(errbuf, errlen, KF_ERR_INVALID_ARG, "npy: NULL argument");
    const char *descr = descr_of(dtype);
    if (!descr)
        return npy_fail(errbuf, errlen, KF_ERR_UNSUPPORTED, "npy: dtype %s has no .npy descr",
                        kf_dtype_name(dtype));
    if (rank > KF_MAX_RANK)
        return npy_fail(errbuf, errlen, KF_ERR_INVALID_ARG, "npy: rank %u exceeds %d", rank,
                        KF_MAX_RANK);
    kf_tensor_view_t t = {.rank = rank};
    if (rank)
        memcpy(t.shape, shape, rank * sizeof(*shape));
    uint64_t n;
    if (kf_tensor_elements(&t, &n) != KF_OK || n > SIZE_MAX / kf_dtype_size(dtype) ||
        n * kf_dtype_size(dtype) != nbytes)
        return npy_fail(errbuf, errlen, KF_ERR_INVALID_ARG,
                        "npy: %zu data bytes do not match the shape", nbytes);
    char dict[512];
    int len =
        snprintf(dict, sizeof(dict), "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (uint32_t i = 0; i < rank; i++)
        len += snprintf(dict + len, sizeof(dict) - (size_t)len, "%s%lld", i ? ", " : "",
                        (long long)shape[i]);
    len += snprintf(dict + len, sizeof(dict) - (size_t)len, "%s), }", rank == 1 ? "," : "");
    /* as numpy (>= 1.24) does, byte for byte: spare room for the leading
     * dim to grow to 21 digits, then spaces so that 10 + header length is a
     * multiple of 64, then '\n' */
    size_t grow = 0;
    if (rank) {
        char digits[24];
        grow = 21 - (size_t)snprintf(digits, sizeof(digits), "%lld", (long long)shape[0]);
    }
    size_t total = ((10 + (size_t)len + grow + 1 + 63) / 64) * 64;
    size_t hlen = total - 10;
    uint8_t pre[10];
    memcpy(pre, magic, 6);
    pre[6] = 1;
    pre[7] = 0;
    pre[8] = (uint8_t)(hlen & 0xff);
    pre[9] = (uint8_t)(hlen >> 8);
    kf_status_t st = kf_buf_reserve(out, total + nbytes);
    if (st != KF_OK)
        return npy_fail(errbuf, errlen, st, "npy: out of memory");
    kf_buf_append(out, pre, sizeof(pre));
    kf_buf_append(out, dict, (size_t)len);
    memset(out->data + out->len, ' ', hlen - (size_t)len - 1);
    out->len += hlen - (size_t)len - 1;
    kf_buf_append(out, "\n", 1);
    kf_buf_append(out, data, nbytes);
    return KF_OK;
}

kf_status_t kf_npy_save_file(const char *path, kf_dtype_t dtype, uint32_t rank,
                             const int64_t *shape, const void *data, size_t nbytes, char *errbuf,
                             size_t errlen) {
    if (!path)
        return npy_fail(errbuf, errlen, KF_ERR_INVALID_ARG, "npy: NULL path");
    kf_buf_t b = KF_BUF_INIT;
    kf_status_t st = kf_npy_write_mem(&b, dtype, rank, shape, data, nbytes, errbuf, errlen);
    if (st != KF_OK) {
        kf_buf_free(&b);
        return st;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        kf_buf_free(&b);
        return npy_fail(errbuf, errlen, KF_ERR_IO, "%s: %s", path, strerror(errno));
    }
    size_t wrote = fwrite(b.data, 1, b.len, f);
    int rc = fclose(f);
    size_t want = b.len;
    kf_buf_free(&b);
    if (wrote != want || rc != 0)
        return npy_fail(errbuf, errlen, KF_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return KF_OK;
}
