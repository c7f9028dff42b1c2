#include "kf_artifact_repo.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHA_FILE_CAP 4096
#define LATEST_CAP 4096

struct kf_repo {
    kf_repo_params_t p;
    char *base;
    char *model;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int running;
    int stop;
    kf_repo_stats_t stats;
    /* poller-thread state */
    char failed_version[KF_REPO_VERSION_MAX];
    char failed_etag[KF_FETCH_ETAG_MAX];
};

kf_repo_params_t kf_repo_default_params(void) {
    kf_repo_params_t p;
    memset(&p, 0, sizeof(p));
    p.poll_interval_ms = 30000;
    return p;
}

int kf_repo_version_valid(const char *v) {
    if (!v)
        return 0;
    size_t n = strlen(v);
    if (n == 0 || n >= KF_REPO_VERSION_MAX)
        return 0;
    if (!strcmp(v, ".") || !strcmp(v, ".."))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

char *kf_repo_url(const char *base, const char *model, const char *version, const char *file) {
    if (!base || !model)
        return NULL;
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    size_t n = bl + strlen(model) + (version ? strlen(version) : 0) + (file ? strlen(file) : 0) + 4;
    char *u = malloc(n);
    if (!u)
        return NULL;
    int k = snprintf(u, n, "%.*s/%s", (int)bl, base, model);
    if (version)
        k += snprintf(u + k, n - (size_t)k, "/%s", version);
    if (file)
        snprintf(u + k, n - (size_t)k, "/%s", file);
    return u;
}

kf_repo_t *kf_repo_new(const kf_repo_params_t *p, char *errstr, size_t errstr_size) {
    if (!p || !p->base_url || !*p->base_url) {
        snprintf(errstr, errstr_size, "repo: no base URL");
        return NULL;
    }
    if (!kf_repo_version_valid(p->model)) { /* same alphabet as versions */
        snprintf(errstr, errstr_size, "repo %s: bad model name '%s' (want [A-Za-z0-9._-]+)",
                 p->base_url, p->model ? p->model : "");
        return NULL;
    }
    if (!p->cache) {
        snprintf(errstr, errstr_size, "repo %s: no cache", p->base_url);
        return NULL;
    }
    kf_repo_t *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(errstr, errstr_size, "repo: out of memory");
        return NULL;
    }
    r->p = *p;
    r->base = strdup(p->base_url);
    r->model = strdup(p->model);
    if (!r->base || !r->model) {
        free(r->base);
        free(r->model);
        free(r);
        snprintf(errstr, errstr_size, "repo: out of memory");
        return NULL;
    }
    r->p.base_url = r->base;
    r->p.model = r->model;
    if (r->p.poll_interval_ms <= 0)
        r->p.poll_interval_ms = 30000;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    return r;
}

void kf_repo_free(kf_repo_t *r) {
    if (!r)
        return;
    kf_repo_stop(r);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r->base);
    free(r->model);
    free(r);
}

static kf_status_t resolve(kf_repo_t *r, char *version, kf_cache_entry_t *e, char *errstr,
                           size_t errstr_size) {
    char *url = kf_repo_url(r->base, r->model, "LATEST", NULL);
    if (!url)
        return KF_ERR_NOMEM;
    char *body = NULL;
    size_t len = 0;
    kf_status_t st =
        kf_cache_get_small(r->p.cache, url, LATEST_CAP, &body, &len, e, errstr, errstr_size);
    if (st == KF_OK) {
        size_t i = 0, j = len;
        while (i < j && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r'))
            i++;
        size_t k = i;
        while (k < j && body[k] != '\n' && body[k] != '\r' && body[k] != ' ' && body[k] != '\t')
            k++;
        body[k] = '\0';
        if (!kf_repo_version_valid(body + i)) {
            snprintf(errstr, errstr_size, "%s: bad version name '%.64s' (want [A-Za-z0-9._-]+)",
                     url, body + i);
            st = KF_ERR_DECODE;
        } else {
            snprintf(version, KF_REPO_VERSION_MAX, "%s", body + i);
        }
    }
    free(body);
    free(url);
    return st;
}

kf_status_t kf_repo_resolve(kf_repo_t *r, char *version, kf_cache_source_t *source, char *errstr,
                            size_t errstr_size) {
    if (!r || !version)
        return KF_ERR_INVALID_ARG;
    kf_cache_entry_t e;
    kf_status_t st = resolve(r, version, &e, errstr, errstr_size);
    if (st == KF_OK && source)
        *source = e.source;
    return st;
}

kf_status_t kf_repo_fetch_version(kf_repo_t *r, const char *version, const char *expect_sha256,
                                  kf_repo_version_t *out, char *errstr, size_t errstr_size) {
    if (!r || !out)
        return KF_ERR_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    kf_status_t st;
    if (!version) {
        kf_cache_source_t ls = KF_CACHE_DOWNLOADED;
        st = kf_repo_resolve(r, out->version, &ls, errstr, errstr_size);
        if (ls == KF_CACHE_OFFLINE)
            out->offline = 1;
        if (st != KF_OK)
            return st;
    } else if (!kf_repo_version_valid(version)) {
        snprintf(errstr, errstr_size, "model %s: bad version name '%.64s'", r->model, version);
        return KF_ERR_INVALID_ARG;
    } else {
        snprintf(out->version, sizeof(out->version), "%s", version);
    }
    char want[KF_SHA256_HEX_LEN + 1] = "";
    if (expect_sha256 && *expect_sha256) {
        if (kf_sha256_parse_hex(expect_sha256, strlen(expect_sha256), want) != KF_OK) {
            snprintf(errstr, errstr_size, "model %s: bad sha256 '%.80s' (want 64 hex digits)",
                     r->model, expect_sha256);
            return KF_ERR_INVALID_ARG;
        }
    }
    /* optional digest file */
    char *shaurl = kf_repo_url(r->base, r->model, out->version, "model.onnx.sha256");
    if (!shaurl)
        return KF_ERR_NOMEM;
    char *body = NULL;
    size_t len = 0;
    char serr[1024];
    int sha_unreachable = 0;
    kf_cache_entry_t se;
    st = kf_cache_get_small(r->p.cache, shaurl, SHA_FILE_CAP, &body, &len, &se, serr, sizeof(serr));
    if (st == KF_OK && se.source == KF_CACHE_OFFLINE)
        out->offline = 1;
    if (st == KF_OK) {
        char filed[KF_SHA256_HEX_LEN + 1];
        if (kf_sha256_parse_hex(body, len, filed) != KF_OK) {
            snprintf(errstr, errstr_size, "%s: not a sha256 digest", shaurl);
            st = KF_ERR_DECODE;
        } else if (want[0] && strcmp(want, filed) != 0) {
            snprintf(errstr, errstr_size,
                     "model %s version %s: configured sha256 %s differs from %s (%s)", r->model,
                     out->version, want, shaurl, filed);
            st = KF_ERR_INVALID_INPUT;
        } else {
            memcpy(want, filed, sizeof(want));
        }
    } else if (st == KF_ERR_NOT_FOUND) {
        kf_log(r->p.log, KF_LOG_DEBUG, "model %s version %s: no model.onnx.sha256 (%s)", r->model,
               out->version, serr);
        st = KF_OK;
    } else if (st == KF_ERR_IO || st == KF_ERR_TIMEOUT) {
        /* store unreachable: acceptable only if the model itself is then
         * served from the cache (checked against its recorded digest) */
        sha_unreachable = 1;
        st = KF_OK;
    } else {
        snprintf(errstr, errstr_size, "%s", serr);
    }
    free(body);
    free(shaurl);
    if (st != KF_OK)
        return st;

    char *url = kf_repo_url(r->base, r->model, out->version, "model.onnx");
    if (!url)
        return KF_ERR_NOMEM;
    kf_cache_entry_t e;
    st = kf_cache_get(r->p.cache, url, want[0] ? want : NULL, &e, errstr, errstr_size);
    free(url);
    if (st != KF_OK)
        return st;
    if (sha_unreachable && e.source != KF_CACHE_OFFLINE) {
        snprintf(errstr, errstr_size, "%s", serr);
        return KF_ERR_IO;
    }
    snprintf(out->path, sizeof(out->path), "%s", e.path);
    memcpy(out->sha256, e.sha256, sizeof(out->sha256));
    out->verified = want[0] != 0;
    out->source = e.source;
    if (e.source == KF_CACHE_OFFLINE || sha_unreachable)
        out->offline = 1;
    return KF_OK;
}

const char *kf_repo_error_reason(kf_status_t st) {
    switch (st) {
    case KF_ERR_INVALID_INPUT: return "checksum";
    case KF_ERR_NOT_FOUND: return "not_found";
    case KF_ERR_TIMEOUT: return "timeout";
    case KF_ERR_LIMIT: return "size";
    case KF_ERR_DECODE: return "bad_metadata";
    default: return "http";
    }
}

static void report(kf_repo_t *r, const char *version, const char *reason, const char *err) {
    if (r->p.on_error)
        r->p.on_error(r->p.user, r->model, version, reason, err);
}

static void set_error(kf_repo_t *r, const char *msg) {
    pthread_mutex_lock(&r->mu);
    snprintf(r->stats.last_error, sizeof(r->stats.last_error), "%s", msg);
    pthread_mutex_unlock(&r->mu);
}

static void poll_once(kf_repo_t *r) {
    char version[KF_REPO_VERSION_MAX], err[1024];
    kf_cache_entry_t le;
    kf_status_t st = resolve(r, version, &le, err, sizeof(err));
    pthread_mutex_lock(&r->mu);
    r->stats.polls++;
    if (st != KF_OK || le.source == KF_CACHE_OFFLINE)
        r->stats.poll_errors++;
    int same = st == KF_OK && !strcmp(version, r->stats.current);
    pthread_mutex_unlock(&r->mu);
    if (st != KF_OK) {
        kf_log(r->p.log, KF_LOG_WARN, "model %s: polling LATEST failed: %s", r->model, err);
        set_error(r, err);
        report(r, NULL, "poll", err);
        return;
    }
    if (same)
        return;
    if (!strcmp(version, r->failed_version) && !strcmp(le.etag, r->failed_etag))
        return;

    pthread_mutex_lock(&r->mu);
    r->stats.changes++;
    pthread_mutex_unlock(&r->mu);
    kf_log(r->p.log, KF_LOG_INFO, "model %s: LATEST names version %s; fetching", r->model, version);
    kf_repo_version_t v;
    st = kf_repo_fetch_version(r, version, NULL, &v, err, sizeof(err));
    int load_failed = 0;
    if (st == KF_OK) {
        err[0] = '\0';
        st = r->p.on_version(r->p.user, r->model, &v, err, sizeof(err));
        load_failed = st != KF_OK;
        if (load_failed && !err[0])
            snprintf(err, sizeof(err), "%s", kf_status_str(st));
    }
    if (st != KF_OK) {
        snprintf(r->failed_version, sizeof(r->failed_version), "%s", version);
        snprintf(r->failed_etag, sizeof(r->failed_etag), "%s", le.etag);
        pthread_mutex_lock(&r->mu);
        if (load_failed)
            r->stats.load_failures++;
        else
            r->stats.fetch_failures++;
        snprintf(r->stats.last_error, sizeof(r->stats.last_error), "version %s: %.360s", version,
                 err);
        pthread_mutex_unlock(&r->mu);
        report(r, version, load_failed ? "load" : kf_repo_error_reason(st), err);
        kf_log(r->p.log, KF_LOG_ERROR,
               "model %s: version %s rejected (%s: %s); keeping the current version '%s'", r->model,
               version, load_failed ? "load failed" : "fetch/verify failed", err, r->stats.current);
        return;
    }
    pthread_mutex_lock(&r->mu);
    snprintf(r->stats.current, sizeof(r->stats.current), "%s", version);
    r->stats.swaps++;
    pthread_mutex_unlock(&r->mu);
    r->failed_version[0] = '\0';
    kf_log(r->p.log, KF_LOG_INFO, "model %s: now serving version %s (sha256 %s)", r->model, version,
           v.sha256);
}

static void *poller_main(void *arg) {
    kf_repo_t *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long ms = r->p.poll_interval_ms;
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (!r->stop) {
            int rc = pthread_cond_timedwait(&r->cv, &r->mu, &ts);
            if (rc == ETIMEDOUT)
                break;
        }
        if (r->stop)
            break;
        pthread_mutex_unlock(&r->mu);
        poll_once(r);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

kf_status_t kf_repo_start(kf_repo_t *r, const char *current_version) {
    if (!r || !r->p.on_version)
        return KF_ERR_INVALID_ARG;
    pthread_mutex_lock(&r->mu);
    if (r->running) {
        pthread_mutex_unlock(&r->mu);
        return KF_ERR_INVALID_ARG;
    }
    snprintf(r->stats.current, sizeof(r->stats.current), "%s",
             current_version ? current_version : "");
    r->stop = 0;
    int rc = pthread_create(&r->thread, NULL, poller_main, r);
    if (rc == 0)
        r->running = 1;
    pthread_mutex_unlock(&r->mu);
    return rc == 0 ? KF_OK : KF_ERR_INTERNAL;
}

void kf_repo_stop(kf_repo_t *r) {
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    if (!r->running) {
        pthread_mutex_unlock(&r->mu);
        return;
    }
    r->stop = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_mutex_lock(&r->mu);
    r->running = 0;
    pthread_mutex_unlock(&r->mu);
}

void kf_repo_get_stats(kf_repo_t *r, kf_repo_stats_t *out) {
    if (!r || !out)
        return;
    pthread_mutex_lock(&r->mu);
    *out = r->stats;
    pthread_mutex_unlock(&r->mu);
}
