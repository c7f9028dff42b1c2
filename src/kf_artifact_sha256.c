#include "kf_artifact_sha256.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kf_sha256 {
    EVP_MD_CTX *ctx;
};

kf_sha256_t *kf_sha256_new(void) {
    kf_sha256_t *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || kf_sha256_reset(h) != KF_OK) {
        kf_sha256_free(h);
        return NULL;
    }
    return h;
}

void kf_sha256_free(kf_sha256_t *h) {
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

kf_status_t kf_sha256_reset(kf_sha256_t *h) {
    if (!h)
        return KF_ERR_INVALID_ARG;
    return EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) == 1 ? KF_OK : KF_ERR_INTERNAL;
}

kf_status_t kf_sha256_update(kf_sha256_t *h, const void *data, size_t len) {
    if (!h || (!data && len))
        return KF_ERR_INVALID_ARG;
    if (len == 0)
        return KF_OK;
    return EVP_DigestUpdate(h->ctx, data, len) == 1 ? KF_OK : KF_ERR_INTERNAL;
}

static void to_hex(const unsigned char *md, unsigned n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[2 * n] = '\0';
}

kf_status_t kf_sha256_final_hex(kf_sha256_t *h, char out[KF_SHA256_HEX_LEN + 1]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!h || !out)
        return KF_ERR_INVALID_ARG;
    if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != KF_SHA256_HEX_LEN / 2)
        return KF_ERR_INTERNAL;
    to_hex(md, n, out);
    return KF_OK;
}

kf_status_t kf_sha256_buf(const void *data, size_t len, char out[KF_SHA256_HEX_LEN + 1]) {
    kf_sha256_t *h = kf_sha256_new();
    if (!h)
        return KF_ERR_NOMEM;
    kf_status_t st = kf_sha256_update(h, data, len);
    if (st == KF_OK)
        st = kf_sha256_final_hex(h, out);
    kf_sha256_free(h);
    return st;
}

kf_status_t kf_sha256_file(const char *path, char out[KF_SHA256_HEX_LEN + 1], char *errstr,
                           size_t errstr_size) {
    if (!path || !out)
        return KF_ERR_INVALID_ARG;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return KF_ERR_IO;
    }
    kf_sha256_t *h = kf_sha256_new();
    if (!h) {
        fclose(f);
        snprintf(errstr, errstr_size, "%s: out of memory", path);
        return KF_ERR_NOMEM;
    }
    unsigned char buf[1 << 16];
    kf_status_t st = KF_OK;
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        st = kf_sha256_update(h, buf, n);
        if (st != KF_OK)
            break;
    }
    if (st == KF_OK && ferror(f)) {
        snprintf(errstr, errstr_size, "%s: read error", path);
        st = KF_ERR_IO;
    }
    if (st == KF_OK)
        st = kf_sha256_final_hex(h, out);
    kf_sha256_free(h);
    fclose(f);
    return st;
}

static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int hex_val(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

kf_status_t kf_sha256_parse_hex(const char *text, size_t len, char out[KF_SHA256_HEX_LEN + 1]) {
    if (!text || !out)
        return KF_ERR_INVALID_ARG;
    size_t i = 0;
    while (i < len && is_space(text[i]))
        i++;
    if (len - i < KF_SHA256_HEX_LEN)
        return KF_ERR_DECODE;
    for (size_t k = 0; k < KF_SHA256_HEX_LEN; k++) {
        int v = hex_val(text[i + k]);
        if (v < 0)
            return KF_ERR_DECODE;
        out[k] = "0123456789abcdef"[v];
    }
    out[KF_SHA256_HEX_LEN] = '\0';
    i += KF_SHA256_HEX_LEN;
    if (i < len && !is_space(text[i]))
        return KF_ERR_DECODE;
    return KF_OK;
}
