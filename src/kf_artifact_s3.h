/* kf_artifact_s3 (prefix kf_s3_): s3://bucket/key addressing and AWS Signature V4 request signing
 * (through libcurl's CURLOPT_AWS_SIGV4).
 *
 * Credentials come from the params or, where those are NULL, from the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN).
 * They are handed to libcurl only and never logged or put into error text.
 * Without an access key the request is sent unsigned (public buckets).
 * All functions are stateless and safe from any thread. */
#ifndef KF_S3_H
#define KF_S3_H

#include <curl/curl.h>
#include <stddef.h>

#include "kf_status.h"

typedef struct kf_s3_params {
    const char *endpoint;      /* "http://127.0.0.1:9000" (MinIO) or NULL for AWS */
    const char *region;        /* signing region; NULL = AWS_REGION env or "us-east-1" */
    int path_style;            /* 1 = {endpoint}/{bucket}/{key}; 0 = {bucket}.{host}/{key};
                                  -1 (default) = path style when an endpoint is set */
    const char *access_key;    /* NULL = AWS_ACCESS_KEY_ID */
    const char *secret_key;    /* NULL = AWS_SECRET_ACCESS_KEY */
    const char *session_token; /* NULL = AWS_SESSION_TOKEN (may be unset) */
} kf_s3_params_t;

kf_s3_params_t kf_s3_default_params(void);

/* True when url starts with "s3://". */
int kf_s3_is_url(const char *url);

/* Maps s3://bucket/key to the HTTP(S) URL to request. The key is
 * percent-encoded (except '/'). *out is malloc'd (caller frees). Returns
 * KF_ERR_INVALID_ARG naming the URL when it has no bucket or key. */
kf_status_t kf_s3_http_url(const kf_s3_params_t *p, const char *s3url, char **out, char *errstr,
                           size_t errstr_size);

/* Configures a curl easy handle to sign its request with SigV4 for S3 and
 * appends the x-amz-content-sha256 (and, with a session token,
 * x-amz-security-token) headers to *headers (caller frees the list with
 * curl_slist_free_all after the transfer). */
kf_status_t kf_s3_sign_setup(const kf_s3_params_t *p, CURL *curl, struct curl_slist **headers,
                             char *errstr, size_t errstr_size);

#endif
