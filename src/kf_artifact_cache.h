/* kf_artifact_cache (prefix kf_cache_): a local directory of downloaded objects keyed by URL, each
 * remembered with its ETag and SHA-256, surviving restarts.
 *
 *   {dir}/{sha256(url)[0:32]}/data   the object
 *   {dir}/{sha256(url)[0:32]}/meta   url=, etag=, sha256=, size= lines
 *   {dir}/{sha256(url)[0:32]}/lock   flock()ed while the entry is updated
 *
 * kf_cache_get revalidates a cached object with If-None-Match, downloads a
 * changed one (verified before it replaces the old), and, when the store
 * cannot be reached, answers from the cache and says so (source OFFLINE,
 * logged as a warning). A cached object whose digest equals the expected
 * one is used without any request (content addressing).
 *
 * A kf_cache_t is immutable after creation: any thread may call
 * kf_cache_get concurrently; entries are serialised by the lock file, so
 * several processes may share one directory. */
#ifndef KF_CACHE_H
#define KF_CACHE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "kf_artifact_fetch.h"
#include "kf_log.h"
#include "kf_status.h"

typedef struct kf_cache_params {
    const char *dir;         /* NULL = kf_cache_default_dir() */
    kf_fetch_params_t fetch; /* transfer settings (timeouts, retries, s3) */
    int offline_ok;          /* serve cached copies when the store is down; default 1 */
    const kf_logger_t *log;  /* not owned */
} kf_cache_params_t;

typedef enum kf_cache_source {
    KF_CACHE_DOWNLOADED = 0, /* fetched now */
    KF_CACHE_REVALIDATED,    /* store answered 304: cached copy is current */
    KF_CACHE_HIT,            /* digest matched the expected one: no request */
    KF_CACHE_OFFLINE         /* store unreachable: cached copy served */
} kf_cache_source_t;

typedef struct kf_cache_entry {
    char path[PATH_MAX]; /* local file (valid while the cache dir exists) */
    char sha256[KF_SHA256_HEX_LEN + 1];
    char etag[KF_FETCH_ETAG_MAX];
    uint64_t size;
    kf_cache_source_t source;
} kf_cache_entry_t;

typedef struct kf_cache kf_cache_t;

kf_cache_params_t kf_cache_default_params(void);

/* $KINFER_CACHE_DIR, else $XDG_CACHE_HOME/kinfer, else $HOME/.cache/kinfer,
 * else ./.kinfer-cache. */
void kf_cache_default_dir(char *out, size_t out_size);

/* Creates the directory if needed. Returns NULL and fills errstr on
 * failure. The params (and the strings they point to) are copied. */
kf_cache_t *kf_cache_new(const kf_cache_params_t *p, char *errstr, size_t errstr_size);
void kf_cache_free(kf_cache_t *c);

const char *kf_cache_dir(const kf_cache_t *c);
const char *kf_cache_source_str(kf_cache_source_t s);

/* Makes url's object available locally (see above). expect_sha256 may be
 * NULL. Errors name the URL and, without a cached copy, the cache dir:
 * KF_ERR_NOT_FOUND (404 / missing file), KF_ERR_INVALID_INPUT (digest
 * mismatch, cached copy left as it was), KF_ERR_LIMIT, KF_ERR_TIMEOUT,
 * KF_ERR_IO. */
kf_status_t kf_cache_get(kf_cache_t *c, const char *url, const char *expect_sha256,
                         kf_cache_entry_t *out, char *errstr, size_t errstr_size);

/* kf_cache_get, then reads the object (at most cap bytes, else
 * KF_ERR_LIMIT) into a NUL-terminated malloc'd buffer (caller frees).
 * For small objects such as LATEST and model.onnx.sha256. */
kf_status_t kf_cache_get_small(kf_cache_t *c, const char *url, size_t cap, char **body, size_t *len,
                               kf_cache_entry_t *out, char *errstr, size_t errstr_size);

#endif
