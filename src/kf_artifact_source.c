#include "kf_artifact_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct source {
    char *name;
    kf_repo_t *repo;
    long poll_ms;
    char initial[KF_REPO_VERSION_MAX]; /* version loaded by kf_model_sources_new */
} source_t;

struct kf_model_sources {
    kf_cache_t *cache;
    source_t *v;
    size_t n;
    const kf_logger_t *log;
};

int kf_model_source_is_repo(const char *source) {
    if (!source || !*source)
        return 0;
    if (!strncmp(source, "http://", 7) || !strncmp(source, "https://", 8) ||
        !strncmp(source, "s3://", 5))
        return 1;
    const char *path = !strncmp(source, "file://", 7) ? source + 7 : source;
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static const char *str_or_null(const kf_config_t *cfg, const char *key) {
    const char *v = kf_config_get(cfg, key);
    return (v && *v) ? v : NULL;
}

kf_status_t kf_model_sources_cache_params(const kf_config_t *cfg, kf_cache_params_t *out,
                                          char *errstr, size_t errstr_size) {
    if (!cfg || !out)
        return KF_ERR_INVALID_ARG;
    kf_cache_params_t p = kf_cache_default_params();
    p.dir = str_or_null(cfg, "cache.dir");
    p.offline_ok = kf_config_get_bool(cfg, "cache.offline", 1);
    kf_fetch_params_t *f = &p.fetch;
    f->timeout_ms = (long)kf_config_get_int(cfg, "fetch.timeout_ms", f->timeout_ms);
    f->connect_timeout_ms =
        (long)kf_config_get_int(cfg, "fetch.connect_timeout_ms", f->connect_timeout_ms);
    f->stall_timeout_ms =
        (long)kf_config_get_int(cfg, "fetch.stall_timeout_ms", f->stall_timeout_ms);
    f->max_retries = (int)kf_config_get_int(cfg, "fetch.retries", f->max_retries);
    f->backoff_initial_ms = (long)kf_config_get_int(cfg, "fetch.backoff_ms", f->backoff_initial_ms);
    f->backoff_max_ms = (long)kf_config_get_int(cfg, "fetch.backoff_max_ms", f->backoff_max_ms);
    f->max_bytes = (uint64_t)kf_config_get_int(cfg, "fetch.max_bytes", (int64_t)f->max_bytes);
    f->ca_file = str_or_null(cfg, "fetch.ca_file");
    f->s3.endpoint = str_or_null(cfg, "s3.endpoint");
    f->s3.region = str_or_null(cfg, "s3.region");
    f->s3.access_key = str_or_null(cfg, "s3.access_key_id");
    f->s3.secret_key = str_or_null(cfg, "s3.secret_access_key");
    f->s3.session_token = str_or_null(cfg, "s3.session_token");
    const char *style = str_or_null(cfg, "s3.addressing");
    if (!style || !strcmp(style, "auto"))
        f->s3.path_style = -1;
    else if (!strcmp(style, "path"))
        f->s3.path_style = 1;
    else if (!strcmp(style, "virtual"))
        f->s3.path_style = 0;
    else {
        snprintf(errstr, errstr_size, "s3.addressing: unknown value '%s' (auto|path|virtual)",
                 style);
        return KF_ERR_CONFIG;
    }
    *out = p;
    return KF_OK;
}

kf_model_sources_t *kf_model_sources_new(const kf_config_t *cfg,
                                         const kf_model_sources_params_t *mp, char *errstr,
                                         size_t errstr_size) {
    if (!cfg || !mp || !mp->on_version) {
        snprintf(errstr, errstr_size, "model sources: no config or loader");
        return NULL;
    }
    kf_repo_on_version_fn on_version = mp->on_version;
    void *user = mp->user;
    const kf_logger_t *log = mp->log;
    kf_model_sources_t *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(errstr, errstr_size, "model sources: out of memory");
        return NULL;
    }
    s->log = log;
    kf_cache_params_t cp;
    if (kf_model_sources_cache_params(cfg, &cp, errstr, errstr_size) != KF_OK)
        goto fail;
    cp.log = log;
    cp.fetch.log = log;
    size_t nm = kf_config_model_count(cfg);
    s->v = calloc(nm ? nm : 1, sizeof(*s->v));
    if (!s->v) {
        snprintf(errstr, errstr_size, "model sources: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < nm; i++) {
        const char *name = kf_config_model_name(cfg, i);
        char key[512];
        snprintf(key, sizeof(key), "model.%s.source", name);
        const char *base = str_or_null(cfg, key);
        if (!base || !kf_model_source_is_repo(base))
            continue; /* no source, or a single local file the caller loads */
        if (!s->cache) {
            s->cache = kf_cache_new(&cp, errstr, errstr_size);
            if (!s->cache)
                goto fail;
        }
        snprintf(key, sizeof(key), "model.%s.poll_interval_ms", name);
        long poll = (long)kf_config_get_int(cfg, key, 30000);
        kf_repo_params_t rp = kf_repo_default_params();
        rp.base_url = base;
        rp.model = name;
        rp.cache = s->cache;
        rp.poll_interval_ms = poll > 0 ? poll : 30000;
        rp.on_version = on_version;
        rp.on_error = mp->on_error;
        rp.user = user;
        rp.log = log;
        source_t *src = &s->v[s->n];
        src->name = strdup(name);
        src->poll_ms = poll;
        src->repo = src->name ? kf_repo_new(&rp, errstr, errstr_size) : NULL;
        if (!src->repo) {
            if (!src->name)
                snprintf(errstr, errstr_size, "model sources: out of memory");
            free(src->name);
            src->name = NULL;
            goto fail;
        }
        s->n++;
        char err[1536];
        kf_repo_version_t v;
        kf_status_t st = kf_repo_fetch_version(src->repo, NULL, NULL, &v, err, sizeof(err));
        if (st != KF_OK) {
            if (mp->on_error)
                mp->on_error(user, name, NULL, kf_repo_error_reason(st), err);
            snprintf(errstr, errstr_size, "model %s: %s", name, err);
            goto fail;
        }
        if (v.offline)
            kf_log(log, KF_LOG_WARN,
                   "model %s: artifact store unreachable; starting on cached version %s "
                   "(sha256 %s)",
                   name, v.version, v.sha256);
        err[0] = '\0';
        st = on_version(user, name, &v, err, sizeof(err));
        if (st != KF_OK) {
            if (mp->on_error)
                mp->on_error(user, name, v.version, "load", err);
            snprintf(errstr, errstr_size, "model %s version %s: %s", name, v.version,
                     err[0] ? err : kf_status_str(st));
            goto fail;
        }
        kf_log(log, KF_LOG_INFO, "model %s: serving version %s (%s, sha256 %s%s)", name, v.version,
               kf_cache_source_str(v.source), v.sha256, v.verified ? ", verified" : "");
        snprintf(src->initial, sizeof(src->initial), "%s", v.version);
    }
    return s;
fail:
    kf_model_sources_free(s);
    return NULL;
}

void kf_model_sources_free(kf_model_sources_t *s) {
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        kf_repo_free(s->v[i].repo);
        free(s->v[i].name);
    }
    free(s->v);
    kf_cache_free(s->cache);
    free(s);
}

kf_status_t kf_model_sources_start(kf_model_sources_t *s) {
    if (!s)
        return KF_ERR_INVALID_ARG;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].poll_ms <= 0)
            continue;
        kf_status_t st = kf_repo_start(s->v[i].repo, s->v[i].initial);
        if (st != KF_OK)
            return st;
    }
    return KF_OK;
}

size_t kf_model_sources_count(const kf_model_sources_t *s) {
    return s ? s->n : 0;
}

const char *kf_model_sources_name(const kf_model_sources_t *s, size_t i) {
    return (s && i < s->n) ? s->v[i].name : NULL;
}

void kf_model_sources_stats(kf_model_sources_t *s, size_t i, kf_repo_stats_t *out) {
    if (!s || i >= s->n || !out)
        return;
    kf_repo_get_stats(s->v[i].repo, out);
}
