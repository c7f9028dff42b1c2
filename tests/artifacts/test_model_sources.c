/* kf_model_sources from a real kf_config: model.<name>.source over a
 * file:// repository loads LATEST through the loader callback, the poller
 * (model.<name>.poll_interval_ms) hands over the next version; a model
 * whose store is down with an empty cache fails naming model, URL and
 * cache dir; fetch.* / s3.* keys reach the cache params. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kf_artifact_source.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                  \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

typedef struct loaded {
    pthread_mutex_t mu;
    int calls;
    char model[64], version[KF_REPO_VERSION_MAX];
    int errors;
    char reason[32];
} loaded_t;

static kf_status_t on_version(void *user, const char *model, const kf_repo_version_t *v,
                              char *errstr, size_t errstr_size) {
    (void)errstr, (void)errstr_size;
    loaded_t *l = user;
    pthread_mutex_lock(&l->mu);
    l->calls++;
    snprintf(l->model, sizeof(l->model), "%s", model);
    snprintf(l->version, sizeof(l->version), "%s", v->version);
    pthread_mutex_unlock(&l->mu);
    return KF_OK;
}

static void on_error(void *user, const char *model, const char *version, const char *reason,
                     const char *errstr) {
    (void)model, (void)version, (void)errstr;
    loaded_t *l = user;
    pthread_mutex_lock(&l->mu);
    l->errors++;
    snprintf(l->reason, sizeof(l->reason), "%s", reason);
    pthread_mutex_unlock(&l->mu);
}

static void put(const char *root, const char *rel, const char *text) {
    char p[3400], t[3500];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    snprintf(t, sizeof(t), "%s.tmp", p);
    FILE *f = fopen(t, "wb");
    CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0 && rename(t, p) == 0);
}

static void mk(const char *root, const char *rel) {
    char p[3400];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    CHECK(mkdir(p, 0755) == 0);
}

int main(void) {
    char root[3000];
    const char *tmpdir = getenv("TMPDIR");
    snprintf(root, sizeof(root), "%s/kinfer-src.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    CHECK(mkdtemp(root));
    mk(root, "repo");
    mk(root, "repo/clf");
    mk(root, "repo/clf/a");
    put(root, "repo/clf/a/model.onnx", "version-a");
    put(root, "repo/clf/LATEST", "a\n");

    char text[8192], err[2048];
    snprintf(text, sizeof(text),
             "model.clf.source=file://%s/repo\n"
             "model.clf.poll_interval_ms=50\n"
             "cache.dir=%s/cache\n"
             "fetch.retries=0\n"
             "fetch.max_bytes=1m\n"
             "s3.addressing=path\n"
             "s3.region=eu-north-1\n",
             root, root);
    kf_config_t *cfg = kf_config_new();
    CHECK(cfg);
    CHECK(kf_config_load_string(cfg, text, "test.properties", err, sizeof(err)) == KF_OK);

    CHECK(kf_model_source_is_repo("http://h/m") && kf_model_source_is_repo("s3://b/p"));
    CHECK(kf_model_source_is_repo(root) && !kf_model_source_is_repo("/no/such/model.onnx"));
    {
        char f[3400];
        snprintf(f, sizeof(f), "file://%s/repo", root);
        CHECK(kf_model_source_is_repo(f));
        snprintf(f, sizeof(f), "%s/repo/clf/a/model.onnx", root);
        CHECK(!kf_model_source_is_repo(f));
    }

    kf_cache_params_t cp;
    CHECK(kf_model_sources_cache_params(cfg, &cp, err, sizeof(err)) == KF_OK);
    CHECK(cp.fetch.max_retries == 0 && cp.fetch.max_bytes == 1u << 20);
    CHECK(cp.fetch.s3.path_style == 1 && !strcmp(cp.fetch.s3.region, "eu-north-1"));
    CHECK(cp.offline_ok == 1 && cp.fetch.connect_timeout_ms == 5000);

    kf_log_params_t lp = kf_log_default_params();
    lp.level = KF_LOG_WARN;
    kf_logger_t *lg = kf_logger_new(&lp);
    loaded_t l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    kf_model_sources_params_t mp = {on_version, on_error, &l, lg};
    kf_model_sources_t *s = kf_model_sources_new(cfg, &mp, err, sizeof(err));
    if (!s)
        fprintf(stderr, "%s\n", err);
    CHECK(s);
    CHECK(kf_model_sources_count(s) == 1 && !strcmp(kf_model_sources_name(s, 0), "clf"));
    CHECK(l.calls == 1 && !strcmp(l.model, "clf") && !strcmp(l.version, "a"));
    CHECK(kf_model_sources_start(s) == KF_OK);

    mk(root, "repo/clf/b");
    put(root, "repo/clf/b/model.onnx", "version-b");
    put(root, "repo/clf/LATEST", "b\n");
    int swapped = 0;
    for (int i = 0; i < 1000 && !swapped; i++) {
        pthread_mutex_lock(&l.mu);
        swapped = !strcmp(l.version, "b");
        pthread_mutex_unlock(&l.mu);
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    CHECK(swapped);
    kf_repo_stats_t st;
    kf_model_sources_stats(s, 0, &st);
    CHECK(st.swaps == 1 && !strcmp(st.current, "b"));
    kf_model_sources_free(s);
    printf("ok: config -> LATEST a loaded -> poller handed over b\n");

    /* store down, empty cache: clear error */
    kf_config_t *cfg2 = kf_config_new();
    snprintf(text, sizeof(text),
             "model.down.source=http://127.0.0.1:1/models\n"
             "cache.dir=%s/cache2\nfetch.retries=0\n",
             root);
    CHECK(kf_config_load_string(cfg2, text, "down.properties", err, sizeof(err)) == KF_OK);
    s = kf_model_sources_new(cfg2, &mp, err, sizeof(err));
    CHECK(s == NULL);
    CHECK(l.errors == 1 && !strcmp(l.reason, "http"));
    fprintf(stderr, "expected error: %s\n", err);
    CHECK(strstr(err, "model down: http://127.0.0.1:1/models/down/LATEST"));
    CHECK(strstr(err, "no cached copy in"));
    CHECK(strstr(err, "/cache2"));
    printf("ok: store down + empty cache -> clear error\n");

    kf_config_free(cfg2);
    kf_config_free(cfg);
    kf_logger_free(lg);
    snprintf(text, sizeof(text), "rm -rf '%s'", root);
    CHECK(system(text) == 0);
    return 0;
}
