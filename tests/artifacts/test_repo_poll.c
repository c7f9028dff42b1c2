/* The repository poller over a file:// repository in a temp dir (real
 * files, real cache, real poller thread): LATEST moves v1 -> v2 (handed
 * over and made current), -> v3 with a wrong digest file (rejected,
 * counted, not retried, v2 kept), -> v4 that the loader refuses (counted,
 * v2 kept), -> v5 (current). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kf_artifact_repo.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                  \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

typedef struct seen {
    pthread_mutex_t mu;
    int calls;
    char last[KF_REPO_VERSION_MAX];
    char last_sha[KF_SHA256_HEX_LEN + 1];
    char last_bytes[64];
    char reasons[256]; /* on_error reasons, comma-separated */
} seen_t;

static void on_error(void *user, const char *model, const char *version, const char *reason,
                     const char *errstr) {
    (void)model, (void)version, (void)errstr;
    seen_t *s = user;
    pthread_mutex_lock(&s->mu);
    size_t n = strlen(s->reasons);
    snprintf(s->reasons + n, sizeof(s->reasons) - n, "%s,", reason);
    pthread_mutex_unlock(&s->mu);
}

static kf_status_t on_version(void *user, const char *model, const kf_repo_version_t *v,
                              char *errstr, size_t errstr_size) {
    seen_t *s = user;
    CHECK(!strcmp(model, "m"));
    if (!strcmp(v->version, "v4")) {
        snprintf(errstr, errstr_size, "engine refused v4");
        return KF_ERR_INVALID_INPUT;
    }
    char bytes[64] = "";
    FILE *f = fopen(v->path, "rb");
    CHECK(f);
    size_t n = fread(bytes, 1, sizeof(bytes) - 1, f);
    bytes[n] = '\0';
    fclose(f);
    pthread_mutex_lock(&s->mu);
    s->calls++;
    snprintf(s->last, sizeof(s->last), "%s", v->version);
    snprintf(s->last_sha, sizeof(s->last_sha), "%s", v->sha256);
    snprintf(s->last_bytes, sizeof(s->last_bytes), "%s", bytes);
    pthread_mutex_unlock(&s->mu);
    return KF_OK;
}

static void write_file(const char *dir, const char *rel, const char *text) {
    char path[4096], tmp[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    CHECK(f);
    CHECK(fputs(text, f) >= 0);
    CHECK(fclose(f) == 0);
    CHECK(rename(tmp, path) == 0);
}

static void add_version(const char *root, const char *v, const char *body, const char *digest) {
    char rel[256];
    snprintf(rel, sizeof(rel), "m/%s", v);
    char d[4096];
    snprintf(d, sizeof(d), "%s/%s", root, rel);
    CHECK(mkdir(d, 0755) == 0);
    snprintf(rel, sizeof(rel), "m/%s/model.onnx", v);
    write_file(root, rel, body);
    if (digest) {
        char line[128];
        snprintf(line, sizeof(line), "%s  model.onnx\n", digest);
        snprintf(rel, sizeof(rel), "m/%s/model.onnx.sha256", v);
        write_file(root, rel, line);
    }
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits up to 10 s for pred(stats) to hold. */
static int wait_for(kf_repo_t *r, int (*pred)(const kf_repo_stats_t *, const void *),
                    const void *arg) {
    for (int i = 0; i < 1000; i++) {
        kf_repo_stats_t st;
        kf_repo_get_stats(r, &st);
        if (pred(&st, arg))
            return 1;
        sleep_ms(10);
    }
    return 0;
}

static int is_current(const kf_repo_stats_t *s, const void *v) {
    return !strcmp(s->current, v);
}
static int fetch_failed(const kf_repo_stats_t *s, const void *n) {
    return s->fetch_failures >= *(const uint64_t *)n;
}
static int load_failed(const kf_repo_stats_t *s, const void *n) {
    return s->load_failures >= *(const uint64_t *)n;
}

int main(void) {
    char root[3000];
    const char *tmpdir = getenv("TMPDIR");
    snprintf(root, sizeof(root), "%s/kinfer-poll.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    CHECK(mkdtemp(root));
    char d[4096], cache_dir[4096], base[4200];
    snprintf(d, sizeof(d), "%s/m", root);
    CHECK(mkdir(d, 0755) == 0);
    snprintf(cache_dir, sizeof(cache_dir), "%s/cache", root);
    snprintf(base, sizeof(base), "file://%s", root);

    char sha[KF_SHA256_HEX_LEN + 1];
    CHECK(kf_sha256_buf("model-one", 9, sha) == KF_OK);
    add_version(root, "v1", "model-one", sha);
    write_file(root, "m/LATEST", "v1\n");

    char err[1024];
    kf_log_params_t lp = kf_log_default_params();
    lp.level = KF_LOG_WARN;
    kf_logger_t *lg = kf_logger_new(&lp);
    kf_cache_params_t cp = kf_cache_default_params();
    cp.dir = cache_dir;
    cp.log = lg;
    cp.fetch.log = lg;
    cp.fetch.max_retries = 0;
    kf_cache_t *cache = kf_cache_new(&cp, err, sizeof(err));
    CHECK(cache);
    seen_t s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    kf_repo_params_t rp = kf_repo_default_params();
    rp.base_url = base;
    rp.model = "m";
    rp.cache = cache;
    rp.poll_interval_ms = 50;
    rp.on_version = on_version;
    rp.on_error = on_error;
    rp.user = &s;
    rp.log = lg;
    kf_repo_t *r = kf_repo_new(&rp, err, sizeof(err));
    CHECK(r);

    kf_repo_version_t v;
    CHECK(kf_repo_fetch_version(r, NULL, NULL, &v, err, sizeof(err)) == KF_OK);
    CHECK(!strcmp(v.version, "v1") && v.verified && !strcmp(v.sha256, sha));
    CHECK(kf_repo_start(r, v.version) == KF_OK);
    CHECK(kf_repo_start(r, v.version) == KF_ERR_INVALID_ARG); /* already running */

    /* v2 */
    CHECK(kf_sha256_buf("model-two", 9, sha) == KF_OK);
    add_version(root, "v2", "model-two", sha);
    write_file(root, "m/LATEST", "v2\n");
    CHECK(wait_for(r, is_current, "v2"));
    pthread_mutex_lock(&s.mu);
    CHECK(s.calls == 1 && !strcmp(s.last, "v2") && !strcmp(s.last_bytes, "model-two"));
    CHECK(!strcmp(s.last_sha, sha));
    pthread_mutex_unlock(&s.mu);
    printf("ok: LATEST v1 -> v2 handed over and current\n");

    /* v3: wrong digest file */
    add_version(root, "v3", "model-three",
                "0000000000000000000000000000000000000000000000000000000000000003");
    write_file(root, "m/LATEST", "v3\n");
    uint64_t one = 1;
    CHECK(wait_for(r, fetch_failed, &one));
    sleep_ms(300); /* several more polls: v3 must not be retried */
    kf_repo_stats_t st;
    kf_repo_get_stats(r, &st);
    CHECK(st.fetch_failures == 1 && !strcmp(st.current, "v2"));
    CHECK(strstr(st.last_error, "sha256 mismatch: expected 0000"));
    CHECK(strstr(st.last_error, "version v3"));
    pthread_mutex_lock(&s.mu);
    CHECK(s.calls == 1 && !strcmp(s.last, "v2"));
    pthread_mutex_unlock(&s.mu);
    printf("ok: corrupt v3 rejected once, v2 kept (%s)\n", st.last_error);

    /* v4: the loader refuses it */
    CHECK(kf_sha256_buf("model-four", 10, sha) == KF_OK);
    add_version(root, "v4", "model-four", sha);
    write_file(root, "m/LATEST", "v4\n");
    CHECK(wait_for(r, load_failed, &one));
    kf_repo_get_stats(r, &st);
    CHECK(!strcmp(st.current, "v2") && strstr(st.last_error, "engine refused v4"));
    printf("ok: v4 refused by the loader, v2 kept\n");

    /* v5 (no digest file) */
    add_version(root, "v5", "model-five", NULL);
    write_file(root, "m/LATEST", "v5\n");
    CHECK(wait_for(r, is_current, "v5"));
    kf_repo_get_stats(r, &st);
    CHECK(st.swaps == 2 && st.changes == 4 && st.fetch_failures == 1 && st.load_failures == 1);
    CHECK(st.polls >= 5);
    pthread_mutex_lock(&s.mu);
    CHECK(!strcmp(s.reasons, "checksum,load,"));
    pthread_mutex_unlock(&s.mu);
    printf("ok: v5 current; polls=%llu changes=%llu swaps=%llu\n", (unsigned long long)st.polls,
           (unsigned long long)st.changes, (unsigned long long)st.swaps);

    kf_repo_free(r);
    kf_cache_free(cache);
    kf_logger_free(lg);
    char cmd[4300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);
    return 0;
}
