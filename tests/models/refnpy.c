/* refnpy: see refnpy.h. */
#include "refnpy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errsz, const char *path, const char *why) {
    snprintf(err, errsz, "%s: %s", path, why);
    return -1;
}

/* Finds 'key': in the header dict and returns a pointer past the colon. */
static const char *dict_value(const char *hdr, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "'%s':", key);
    const char *p = strstr(hdr, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    return p;
}

static int parse_header(const char *hdr, refnpy_t *out) {
    const char *d = dict_value(hdr, "descr");
    if (!d || *d != '\'')
        return -1;
    if (!strncmp(d, "'<f4'", 5))
        out->dtype = KE_DT_F32;
    else if (!strncmp(d, "'<i8'", 5))
        out->dtype = KE_DT_I64;
    else if (!strncmp(d, "'|u1'", 5))
        out->dtype = KE_DT_U8;
    else
        return -2;
    const char *f = dict_value(hdr, "fortran_order");
    if (!f || strncmp(f, "False", 5))
        return -2;
    const char *s = dict_value(hdr, "shape");
    if (!s || *s != '(')
        return -1;
    s++;
    out->numel = 1;
    while (*s && *s != ')') {
        while (*s == ' ' || *s == ',')
            s++;
        if (*s == ')')
            break;
        char *end = NULL;
        long long v = strtoll(s, &end, 10);
        if (end == s || v < 0 || out->rank >= REFNPY_MAX_RANK)
            return -1;
        out->shape[out->rank++] = v;
        out->numel *= (size_t)v;
        s = end;
    }
    return *s == ')' ? 0 : -1;
}

int refnpy_read(const char *path, refnpy_t *out, char *err, size_t errsz) {
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return fail(err, errsz, path, "cannot open");
    unsigned char pre[12];
    int rc = -1;
    char *hdr = NULL;
    if (fread(pre, 1, 10, fp) != 10 || memcmp(pre, "\x93NUMPY", 6)) {
        fail(err, errsz, path, "not a .npy file");
        goto out;
    }
    size_t hlen;
    if (pre[6] == 1) {
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, fp) != 2) {
            fail(err, errsz, path, "truncated header");
            goto out;
        }
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    } else {
        fail(err, errsz, path, "unknown .npy version");
        goto out;
    }
    if (hlen > 65536 || !(hdr = calloc(1, hlen + 1)) || fread(hdr, 1, hlen, fp) != hlen) {
        fail(err, errsz, path, "bad or truncated header");
        goto out;
    }
    int ph = parse_header(hdr, out);
    if (ph) {
        fail(err, errsz, path, ph == -2 ? "dtype/order not supported" : "bad header");
        goto out;
    }
    size_t nbytes = out->numel * ke_dtype_size(out->dtype);
    out->data = malloc(nbytes ? nbytes : 1);
    if (!out->data || fread(out->data, 1, nbytes, fp) != nbytes || fgetc(fp) != EOF) {
        fail(err, errsz, path, "data length does not match the shape");
        refnpy_free(out);
        goto out;
    }
    rc = 0;
out:
    free(hdr);
    fclose(fp);
    return rc;
}

void refnpy_free(refnpy_t *a) {
    if (!a)
        return;
    free(a->data);
    a->data = NULL;
}
