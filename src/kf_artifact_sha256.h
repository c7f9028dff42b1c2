/* kf_artifact_sha256 (prefix kf_sha256_): SHA-256 digests through OpenSSL's libcrypto (EVP), as
 * lowercase hex strings.
 *
 * A kf_sha256_t is an incremental hasher owned by one thread at a time.
 * The helpers below are stateless and safe from any thread. */
#ifndef KF_SHA256_H
#define KF_SHA256_H

#include <stddef.h>

#include "kf_status.h"

#define KF_SHA256_HEX_LEN 64 /* hex characters, without the NUL */

typedef struct kf_sha256 kf_sha256_t;

/* Returns a new hasher (caller owns; kf_sha256_free) or NULL on failure. */
kf_sha256_t *kf_sha256_new(void);
void kf_sha256_free(kf_sha256_t *h);

/* Restarts the hasher as if newly created. */
kf_status_t kf_sha256_reset(kf_sha256_t *h);
kf_status_t kf_sha256_update(kf_sha256_t *h, const void *data, size_t len);
/* Writes 64 lowercase hex chars + NUL into out; the hasher must be reset
 * before it is used again. */
kf_status_t kf_sha256_final_hex(kf_sha256_t *h, char out[KF_SHA256_HEX_LEN + 1]);

/* Digest of a whole file. On error fills errstr naming the path. */
kf_status_t kf_sha256_file(const char *path, char out[KF_SHA256_HEX_LEN + 1], char *errstr,
                           size_t errstr_size);

/* Digest of a buffer. */
kf_status_t kf_sha256_buf(const void *data, size_t len, char out[KF_SHA256_HEX_LEN + 1]);

/* Parses a digest as written by `sha256sum` ("<hex>  name") or bare hex,
 * with optional surrounding whitespace and either case; writes the
 * lowercase hex into out. Returns KF_ERR_DECODE when text does not start
 * with exactly 64 hex digits followed by whitespace or the end. */
kf_status_t kf_sha256_parse_hex(const char *text, size_t len, char out[KF_SHA256_HEX_LEN + 1]);

#endif
