/* kf_artifact_fetch (prefix kf_fetch_): download one object (http://, https://, s3://, file:// or a
 * bare path) into a local file with libcurl.
 *
 * - Timeouts: connect, whole attempt, and a stall timeout (no byte for
 *   stall_timeout_ms).
 * - Retries: on connection errors, timeouts, cut transfers, HTTP 5xx, 408
 *   and 429, with exponential backoff and jitter (a longer Retry-After in
 *   seconds is honoured up to backoff_max_ms); never on other 4xx.
 * - Resume: a partial download is continued with a Range request (guarded
 *   by If-Range with the ETag when the server sent one); a server answering
 *   200 instead of 206 restarts the file.
 * - A size cap, streaming to a temporary file next to the destination,
 *   optional SHA-256 verification, then an atomic rename: the destination
 *   holds either its old content or the complete, verified new one.
 * - Conditional GET: with an ETag, If-None-Match; a 304 leaves the
 *   destination untouched.
 *
 * Stateless: each call uses its own curl handle, so any thread may call
 * kf_fetch_file concurrently (for different destinations). */
#ifndef KF_FETCH_H
#define KF_FETCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "kf_artifact_s3.h"
#include "kf_artifact_sha256.h"
#include "kf_log.h"
#include "kf_status.h"

#define KF_FETCH_ETAG_MAX 256

typedef struct kf_fetch_params {
    long connect_timeout_ms;  /* default 5000 */
    long timeout_ms;          /* one attempt, whole transfer; 0 = none (default) */
    long stall_timeout_ms;    /* abort an attempt that receives nothing this long; default 30000 */
    int max_retries;          /* retries after the first attempt; default 4 */
    long backoff_initial_ms;  /* first retry delay before jitter; default 200 */
    long backoff_max_ms;      /* cap on the delay; default 5000 */
    uint64_t max_bytes;       /* size cap; 0 = none; default 4 GiB */
    kf_s3_params_t s3;        /* used for s3:// URLs */
    const char *ca_file;      /* PEM CA bundle for https (NULL = system store) */
    const kf_logger_t *log;   /* not owned; NULL = stderr */
    const atomic_int *cancel; /* optional: non-zero aborts the transfer/backoff */
} kf_fetch_params_t;

typedef struct kf_fetch_result {
    long http_status;                   /* last HTTP status (0 for file://) */
    int not_modified;                   /* 1 when the server answered 304 */
    int attempts;                       /* transfers tried */
    int resumed;                        /* attempts that continued with Range */
    int unreachable;                    /* gave up on connection errors, timeouts or 5xx/429: the
                                           store is down rather than refusing */
    uint64_t bytes;                     /* size of the destination file */
    char etag[KF_FETCH_ETAG_MAX];       /* ETag of the object, "" when none */
    char sha256[KF_SHA256_HEX_LEN + 1]; /* digest of the downloaded file */
} kf_fetch_result_t;

kf_fetch_params_t kf_fetch_default_params(void);

/* Downloads url into dest (see above). if_none_match (nullable) is an ETag
 * to revalidate with; expect_sha256 (nullable) a lowercase hex digest the
 * content must have. On a mismatch the error names both digests, the
 * download is deleted and dest is untouched. res may be NULL. errstr names
 * the URL and the cause (HTTP status, curl error, S3 error code); it never
 * contains credentials.
 * Returns KF_OK (also on 304: see res->not_modified), KF_ERR_NOT_FOUND
 * (404/410, missing file), KF_ERR_TIMEOUT, KF_ERR_LIMIT (size cap),
 * KF_ERR_INVALID_INPUT (digest mismatch), KF_ERR_IO (anything else). */
kf_status_t kf_fetch_file(const kf_fetch_params_t *p, const char *url, const char *if_none_match,
                          const char *expect_sha256, const char *dest, kf_fetch_result_t *res,
                          char *errstr, size_t errstr_size);

/* The delay before retry number `retry` (0-based): min(max, initial*2^retry)
 * scaled by a jitter factor in [0.5, 1.0] drawn from *seed (rand_r). */
long kf_fetch_backoff_ms(const kf_fetch_params_t *p, int retry, unsigned *seed);

/* Turns a bare path into a file:// URL (absolute); other URLs are copied.
 * Returns a malloc'd string (caller frees) or NULL on OOM. */
char *kf_fetch_normalize_url(const char *url_or_path);

#endif
