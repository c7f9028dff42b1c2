/* kf_artifact_repo (prefix kf_repo_): a model repository in object storage
 * and a poller that follows its newest version.
 *
 *   {base}/{model}/LATEST                     newest version name (one line)
 *   {base}/{model}/{version}/model.onnx       the artifact
 *   {base}/{model}/{version}/model.onnx.sha256  optional digest (sha256sum format)
 *
 * {base} is any URL kf_fetch takes (http(s)://, s3://bucket/prefix,
 * file://, a path). Every object goes through the kf_cache, so a warm cache
 * serves a cold start while the store is down.
 *
 * The poller (kf_repo_start) is one thread per repository: every
 * poll_interval_ms it revalidates LATEST (If-None-Match); when it names a
 * version other than the current one it downloads and verifies it and
 * hands the local file to on_version (called on the poller thread; its
 * work, e.g. load + warm-up, stays off the caller's hot path). Only when
 * on_version returns KF_OK does that version become current. A version that
 * fails to fetch, verify or load is logged and counted and is not tried
 * again until LATEST changes (new content or new ETag).
 *
 * Thread-safety: kf_repo_resolve/kf_repo_fetch_version/kf_repo_get_stats
 * may be called from any thread; new/start/free from one owner thread. */
#ifndef KF_ARTIFACT_REPO_H
#define KF_ARTIFACT_REPO_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "kf_artifact_cache.h"
#include "kf_log.h"
#include "kf_status.h"

#define KF_REPO_VERSION_MAX 128

typedef struct kf_repo_version {
    char version[KF_REPO_VERSION_MAX];
    char path[PATH_MAX]; /* local file in the cache */
    char sha256[KF_SHA256_HEX_LEN + 1];
    int verified; /* 1 when checked against a digest */
    int offline;  /* 1 when LATEST, the digest or the model was served from the
                     cache because the store was unreachable */
    kf_cache_source_t source;
} kf_repo_version_t;

/* Called on the poller thread with a downloaded, verified version. Return
 * KF_OK once it is loaded and serving; anything else (with errstr filled)
 * keeps the current version. */
typedef kf_status_t (*kf_repo_on_version_fn)(void *user, const char *model,
                                             const kf_repo_version_t *v, char *errstr,
                                             size_t errstr_size);

/* Optional: called on the poller thread for each failure, with a short
 * reason for metrics ("poll", "http", "not_found", "timeout", "checksum",
 * "size", "bad_metadata", "load") and the error text. version may be NULL
 * (LATEST could not be read). */
typedef void (*kf_repo_on_error_fn)(void *user, const char *model, const char *version,
                                    const char *reason, const char *errstr);

/* The reason string for a fetch/verify status (see kf_repo_on_error_fn). */
const char *kf_repo_error_reason(kf_status_t st);

typedef struct kf_repo_params {
    const char *base_url;             /* required */
    const char *model;                /* required: [A-Za-z0-9._-]+ */
    long poll_interval_ms;            /* default 30000 */
    kf_cache_t *cache;                /* required; not owned, must outlive the repo */
    kf_repo_on_version_fn on_version; /* required by kf_repo_start */
    kf_repo_on_error_fn on_error;     /* optional */
    void *user;                       /* passed to both callbacks */
    const kf_logger_t *log;           /* not owned */
} kf_repo_params_t;

typedef struct kf_repo_stats {
    uint64_t polls;          /* LATEST checks done by the poller */
    uint64_t poll_errors;    /* LATEST could not be read (or only from cache) */
    uint64_t changes;        /* LATEST named a new version */
    uint64_t fetch_failures; /* a new version failed to download or verify */
    uint64_t load_failures;  /* on_version refused it */
    uint64_t swaps;          /* on_version accepted it */
    char current[KF_REPO_VERSION_MAX];
    char last_error[512];
} kf_repo_stats_t;

typedef struct kf_repo kf_repo_t;

kf_repo_params_t kf_repo_default_params(void);

/* Copies the params' strings. NULL + errstr on a missing/bad field. */
kf_repo_t *kf_repo_new(const kf_repo_params_t *p, char *errstr, size_t errstr_size);
/* Stops the poller (waits for it) and frees. NULL is a no-op. */
void kf_repo_free(kf_repo_t *r);

/* Checks a version name: 1..127 chars of [A-Za-z0-9._-], not "." or "..". */
int kf_repo_version_valid(const char *v);

/* Builds {base}/{model}/{version}/{file} (version/file may be NULL to stop
 * early). Returns a malloc'd string (caller frees) or NULL on OOM. */
char *kf_repo_url(const char *base, const char *model, const char *version, const char *file);

/* Reads LATEST into version (KF_REPO_VERSION_MAX). */
kf_status_t kf_repo_resolve(kf_repo_t *r, char *version, kf_cache_source_t *source, char *errstr,
                            size_t errstr_size);

/* Downloads and verifies one version (NULL = the one LATEST names). The
 * digest comes from model.onnx.sha256 when present and/or expect_sha256
 * (nullable); when both exist they must agree. */
kf_status_t kf_repo_fetch_version(kf_repo_t *r, const char *version, const char *expect_sha256,
                                  kf_repo_version_t *out, char *errstr, size_t errstr_size);

/* Starts the poller; current_version (nullable) is the version already
 * serving. KF_ERR_INVALID_ARG without on_version, or when running. */
kf_status_t kf_repo_start(kf_repo_t *r, const char *current_version);
/* Stops the poller and waits for it; safe when not running. */
void kf_repo_stop(kf_repo_t *r);

void kf_repo_get_stats(kf_repo_t *r, kf_repo_stats_t *out);

#endif
