#include "kf_artifact_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct kf_cache {
    kf_cache_params_t p;
    char *dir;
    char *s3_strs[6]; /* owned copies of the s3 strings and the CA file */
};

kf_cache_params_t kf_cache_default_params(void) {
    kf_cache_params_t p;
    memset(&p, 0, sizeof(p));
    p.fetch = kf_fetch_default_params();
    p.offline_ok = 1;
    return p;
}

void kf_cache_default_dir(char *out, size_t n) {
    const char *e = getenv("KINFER_CACHE_DIR");
    if (e && *e) {
        snprintf(out, n, "%s", e);
        return;
    }
    e = getenv("XDG_CACHE_HOME");
    if (e && *e) {
        snprintf(out, n, "%s/kinfer", e);
        return;
    }
    e = getenv("HOME");
    if (e && *e) {
        snprintf(out, n, "%s/.cache/kinfer", e);
        return;
    }
    snprintf(out, n, ".kinfer-cache");
}

const char *kf_cache_source_str(kf_cache_source_t s) {
    switch (s) {
    case KF_CACHE_DOWNLOADED: return "downloaded";
    case KF_CACHE_REVALIDATED: return "revalidated";
    case KF_CACHE_HIT: return "cache-hit";
    case KF_CACHE_OFFLINE: return "cache-offline";
    }
    return "unknown";
}

static int mkdir_p(const char *path) {
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -1;
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static char *dup_or_null(const char *s) {
    return s ? strdup(s) : NULL;
}

kf_cache_t *kf_cache_new(const kf_cache_params_t *p, char *errstr, size_t errstr_size) {
    kf_cache_t *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(errstr, errstr_size, "cache: out of memory");
        return NULL;
    }
    c->p = p ? *p : kf_cache_default_params();
    char d[PATH_MAX];
    if (c->p.dir && *c->p.dir)
        snprintf(d, sizeof(d), "%s", c->p.dir);
    else
        kf_cache_default_dir(d, sizeof(d));
    c->dir = strdup(d);
    kf_s3_params_t *s3 = &c->p.fetch.s3;
    const char **f[] = {&s3->endpoint, &s3->region, &s3->access_key, &s3->secret_key,
                        &s3->session_token};
    int oom = !c->dir;
    for (int i = 0; i < 5; i++) {
        c->s3_strs[i] = dup_or_null(*f[i]);
        if (*f[i] && !c->s3_strs[i])
            oom = 1;
        *f[i] = c->s3_strs[i];
    }
    c->s3_strs[5] = dup_or_null(c->p.fetch.ca_file);
    if (c->p.fetch.ca_file && !c->s3_strs[5])
        oom = 1;
    c->p.fetch.ca_file = c->s3_strs[5];
    c->p.dir = c->dir;
    if (oom) {
        snprintf(errstr, errstr_size, "cache: out of memory");
        kf_cache_free(c);
        return NULL;
    }
    if (mkdir_p(c->dir) != 0) {
        snprintf(errstr, errstr_size, "cache dir %s: %s", c->dir, strerror(errno));
        kf_cache_free(c);
        return NULL;
    }
    return c;
}

void kf_cache_free(kf_cache_t *c) {
    if (!c)
        return;
    for (int i = 0; i < 6; i++)
        free(c->s3_strs[i]);
    free(c->dir);
    free(c);
}

const char *kf_cache_dir(const kf_cache_t *c) {
    return c ? c->dir : NULL;
}

typedef struct meta {
    char url[4096];
    char etag[KF_FETCH_ETAG_MAX];
    char sha256[KF_SHA256_HEX_LEN + 1];
    unsigned long long size;
} meta_t;

static int meta_read(const char *path, meta_t *m) {
    memset(m, 0, sizeof(*m));
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[4200];
    while (fgets(line, sizeof(line), f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *v = eq + 1;
        if (!strcmp(line, "url"))
            snprintf(m->url, sizeof(m->url), "%s", v);
        else if (!strcmp(line, "etag"))
            snprintf(m->etag, sizeof(m->etag), "%s", v);
        else if (!strcmp(line, "sha256"))
            snprintf(m->sha256, sizeof(m->sha256), "%s", v);
        else if (!strcmp(line, "size"))
            m->size = strtoull(v, NULL, 10);
    }
    fclose(f);
    return (m->url[0] && strlen(m->sha256) == KF_SHA256_HEX_LEN) ? 0 : -1;
}

static int meta_write(const char *path, const meta_t *m) {
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int bad = fprintf(f, "url=%s\netag=%s\nsha256=%s\nsize=%llu\n", m->url, m->etag, m->sha256,
                      m->size) < 0;
    bad |= fflush(f) != 0;
    bad |= fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

kf_status_t kf_cache_get(kf_cache_t *c, const char *url, const char *expect_sha256,
                         kf_cache_entry_t *out, char *errstr, size_t errstr_size) {
    if (!c || !url || !out)
        return KF_ERR_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    char key[KF_SHA256_HEX_LEN + 1];
    kf_status_t st = kf_sha256_buf(url, strlen(url), key);
    if (st != KF_OK)
        return st;
    key[32] = '\0';
    char edir[PATH_MAX - 16], data[PATH_MAX], metap[PATH_MAX], lockp[PATH_MAX];
    if (snprintf(edir, sizeof(edir), "%s/%s", c->dir, key) >= (int)sizeof(edir) - 8) {
        snprintf(errstr, errstr_size, "cache dir path too long: %s", c->dir);
        return KF_ERR_INVALID_ARG;
    }
    snprintf(data, sizeof(data), "%s/data", edir);
    snprintf(metap, sizeof(metap), "%s/meta", edir);
    snprintf(lockp, sizeof(lockp), "%s/lock", edir);
    if (mkdir_p(edir) != 0) {
        snprintf(errstr, errstr_size, "cache dir %s: %s", edir, strerror(errno));
        return KF_ERR_IO;
    }
    int lfd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lfd < 0 || flock(lfd, LOCK_EX) != 0) {
        snprintf(errstr, errstr_size, "cache lock %s: %s", lockp, strerror(errno));
        if (lfd >= 0)
            close(lfd);
        return KF_ERR_IO;
    }

    meta_t m;
    struct stat sb;
    int cached = meta_read(metap, &m) == 0 && !strcmp(m.url, url) && stat(data, &sb) == 0 &&
                 (unsigned long long)sb.st_size == m.size;
    snprintf(out->path, sizeof(out->path), "%s", data);

    if (cached && expect_sha256 && *expect_sha256 && !strcasecmp(expect_sha256, m.sha256)) {
        snprintf(out->sha256, sizeof(out->sha256), "%s", m.sha256);
        snprintf(out->etag, sizeof(out->etag), "%s", m.etag);
        out->size = m.size;
        out->source = KF_CACHE_HIT;
        close(lfd);
        return KF_OK;
    }

    kf_fetch_result_t r;
    char ferr[1024];
    st = kf_fetch_file(&c->p.fetch, url, cached && m.etag[0] ? m.etag : NULL, expect_sha256, data,
                       &r, ferr, sizeof(ferr));
    if (st == KF_OK && r.not_modified) {
        if (!cached) { /* cannot happen: we only send If-None-Match when cached */
            snprintf(errstr, errstr_size, "%s: 304 without a cached copy", url);
            close(lfd);
            return KF_ERR_INTERNAL;
        }
        if (expect_sha256 && *expect_sha256 && strcasecmp(expect_sha256, m.sha256) != 0) {
            snprintf(errstr, errstr_size, "%s: sha256 mismatch: expected %s, got %s", url,
                     expect_sha256, m.sha256);
            close(lfd);
            return KF_ERR_INVALID_INPUT;
        }
        out->source = KF_CACHE_REVALIDATED;
    } else if (st == KF_OK) {
        memset(&m, 0, sizeof(m));
        snprintf(m.url, sizeof(m.url), "%s", url);
        snprintf(m.etag, sizeof(m.etag), "%s", r.etag);
        snprintf(m.sha256, sizeof(m.sha256), "%s", r.sha256);
        m.size = r.bytes;
        if (meta_write(metap, &m) != 0) {
            snprintf(errstr, errstr_size, "cache: writing %s failed: %s", metap, strerror(errno));
            close(lfd);
            return KF_ERR_IO;
        }
        out->source = KF_CACHE_DOWNLOADED;
    } else if (cached && c->p.offline_ok && r.unreachable) {
        char have[KF_SHA256_HEX_LEN + 1], herr[256];
        kf_status_t hs = kf_sha256_file(data, have, herr, sizeof(herr));
        if (hs != KF_OK || strcmp(have, m.sha256) != 0 ||
            (expect_sha256 && *expect_sha256 && strcasecmp(expect_sha256, have) != 0)) {
            snprintf(errstr, errstr_size, "%s; the cached copy %s does not match its digest", ferr,
                     data);
            close(lfd);
            return KF_ERR_IO;
        }
        /* INFO: callers say what it means for them (a cold start, a poll) */
        kf_log(c->p.log, KF_LOG_INFO,
               "store unreachable (%s); using the cached copy of %s (offline, sha256 %s)", ferr,
               url, m.sha256);
        out->source = KF_CACHE_OFFLINE;
    } else {
        if (!cached && r.unreachable)
            snprintf(errstr, errstr_size, "%s; no cached copy in %s", ferr, c->dir);
        else
            snprintf(errstr, errstr_size, "%s", ferr);
        close(lfd);
        return st;
    }
    snprintf(out->sha256, sizeof(out->sha256), "%s", m.sha256);
    snprintf(out->etag, sizeof(out->etag), "%s", m.etag);
    out->size = m.size;
    close(lfd);
    return KF_OK;
}

kf_status_t kf_cache_get_small(kf_cache_t *c, const char *url, size_t cap, char **body, size_t *len,
                               kf_cache_entry_t *out, char *errstr, size_t errstr_size) {
    kf_cache_entry_t local;
    if (!out)
        out = &local;
    if (!body)
        return KF_ERR_INVALID_ARG;
    *body = NULL;
    kf_status_t st = kf_cache_get(c, url, NULL, out, errstr, errstr_size);
    if (st != KF_OK)
        return st;
    if (out->size > cap) {
        snprintf(errstr, errstr_size, "%s: %llu bytes, more than the %zu allowed", url,
                 (unsigned long long)out->size, cap);
        return KF_ERR_LIMIT;
    }
    FILE *f = fopen(out->path, "rb");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: %s", out->path, strerror(errno));
        return KF_ERR_IO;
    }
    char *b = malloc(cap + 1);
    if (!b) {
        fclose(f);
        return KF_ERR_NOMEM;
    }
    size_t n = fread(b, 1, cap + 1, f);
    int err = ferror(f);
    fclose(f);
    if (err || n > cap) {
        free(b);
        snprintf(errstr, errstr_size, "%s: read failed or grew past %zu bytes", out->path, cap);
        return err ? KF_ERR_IO : KF_ERR_LIMIT;
    }
    b[n] = '\0';
    *body = b;
    if (len)
        *len = n;
    return KF_OK;
}
