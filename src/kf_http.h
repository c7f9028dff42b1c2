/* kf_http: the worker's operations endpoint (libmicrohttpd).
 *
 *   GET /metrics  the registry in the Prometheus text format 0.0.4
 *   GET /healthz  200 "ok" while the process serves requests
 *   GET /readyz   200 "ready" when the readiness callback says so (models
 *                 loaded and partitions assigned), else 503 with its reason
 *
 * HEAD works like GET without a body; other methods get 405, other paths
 * 404. The server runs on one internal libmicrohttpd thread; the readiness
 * callback and kf_metrics_render are called on that thread.
 *
 * Ownership: kf_http_new returns a handle the caller frees with
 * kf_http_free (stops the thread first). The registry and callback context
 * are borrowed and must outlive the handle. Any thread may call
 * kf_http_port; new/free from one thread. */
#ifndef KF_HTTP_H
#define KF_HTTP_H

#include <stddef.h>

#include "kf_log.h"
#include "kf_metrics.h"

typedef struct kf_http kf_http_t;

/* Readiness check, called on the HTTP thread for every /readyz request.
 * Returns non-zero when ready; when not ready it may write a short reason
 * ("no partitions assigned") into reason (NUL-terminated, reason_size
 * bytes). Must be thread-safe with respect to the worker (read atomics). */
typedef int (*kf_http_ready_fn)(void *ctx, char *reason, size_t reason_size);

typedef struct kf_http_params {
    int port;                 /* 0 = off (no server); KF_HTTP_PORT_ANY = any free
                                 port (tests; read it with kf_http_port) */
    const char *bind_address; /* numeric IPv4/IPv6 address; default "0.0.0.0" */
    kf_metrics_t *metrics;    /* may be NULL: /metrics then serves "" */
    kf_http_ready_fn ready;   /* may be NULL: /readyz then always 200 */
    void *ready_ctx;
    const kf_logger_t *log; /* may be NULL */
} kf_http_params_t;

#define KF_HTTP_PORT_ANY (-1)

kf_http_params_t kf_http_default_params(void);

/* Starts the server. With port 0 it returns a handle that serves nothing
 * (kf_http_port returns 0), so callers need no special case. Returns NULL
 * with a message in errstr when the address is invalid, the port is out of
 * range or cannot be bound. */
kf_http_t *kf_http_new(const kf_http_params_t *params, char *errstr, size_t errstr_size);

/* Stops the server thread and frees the handle. NULL is a no-op. */
void kf_http_free(kf_http_t *h);

/* The bound port, or 0 when off. */
int kf_http_port(const kf_http_t *h);

#endif
