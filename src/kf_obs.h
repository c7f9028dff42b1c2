/* kf_obs: the worker's observability bundle in one handle: a metrics
 * registry with the kinfer_* families (kf_worker_metrics.h) and the HTTP
 * endpoint serving /metrics, /healthz and /readyz (kf_http.h), configured
 * from the config keys metrics.port, metrics.bind and
 * metrics.stats_interval_ms.
 *
 * Typical wiring (worker):
 *     kf_obs_params_t op = kf_obs_default_params();
 *     kf_obs_params_from_config(&op, cfg, err, sizeof err);
 *     op.ready = worker_ready; op.ready_ctx = w; op.log = log;
 *     w->obs = kf_obs_new(&op, err, sizeof err);
 *     w->m = kf_obs_metrics(w->obs);          // pass to kf_wmetrics_* calls
 *     ... consumer conf: statistics.interval.ms = kf_obs_stats_interval_ms()
 *         and from its stats_cb: kf_wmetrics_rdkafka_stats(w->m, json, len)
 *     ... kf_model_sources_params_t.on_error: kf_wmetrics_fetch_error(w->m,
 *         model, reason)   (per-event reasons: http, checksum, load, ...)
 *     ... on each result delivered: kf_wmetrics_job(w->m, model, status,
 *         queue_us, compute_us, e2e_us); per batch: kf_wmetrics_batch();
 *         DLQ record: kf_wmetrics_dlq(); on (un)load: kf_wmetrics_model_loaded()
 *     ... in-flight / paused changes: kf_wmetrics_inflight(), _paused()
 *
 * Threads: new/free from one thread; the getters from any thread. The
 * readiness callback runs on the HTTP thread. */
#ifndef KF_OBS_H
#define KF_OBS_H

#include <stddef.h>

#include "kf_artifact_source.h"
#include "kf_config.h"
#include "kf_http.h"
#include "kf_log.h"
#include "kf_worker_metrics.h"

typedef struct kf_obs kf_obs_t;

typedef struct kf_obs_params {
    int port;                 /* 0 = no HTTP server (metrics still counted) */
    const char *bind_address; /* default "0.0.0.0" */
    int stats_interval_ms;    /* librdkafka statistics.interval.ms; 0 = off */
    kf_http_ready_fn ready;   /* NULL = always ready */
    void *ready_ctx;
    const kf_logger_t *log; /* borrowed; may be NULL */
} kf_obs_params_t;

kf_obs_params_t kf_obs_default_params(void);

/* Reads metrics.port, metrics.bind and metrics.stats_interval_ms from cfg
 * (table defaults when unset). Strings point into cfg, which must outlive
 * kf_obs_new. KF_ERR_CONFIG naming the key on a bad value. */
kf_status_t kf_obs_params_from_config(kf_obs_params_t *p, const kf_config_t *cfg, char *err,
                                      size_t errsz);

/* Creates the registry and metric set and starts the HTTP server (unless
 * port is 0). NULL with err set (naming the port/address) on failure.
 * Caller owns; kf_obs_free. */
kf_obs_t *kf_obs_new(const kf_obs_params_t *p, char *err, size_t errsz);

/* Stops the HTTP server (waits for its thread), so readiness and collect
 * callbacks are no longer called; the metric set stays usable. Shutdown
 * order: kf_obs_stop_http, free what the callbacks read (the worker, which
 * still reports to the metric set while it drains), then kf_obs_free.
 * Idempotent; owner thread. */
void kf_obs_stop_http(kf_obs_t *o);

/* Stops the server, frees everything. NULL is a no-op. */
void kf_obs_free(kf_obs_t *o);

/* The worker metric set (owned by the handle), NULL when o is NULL. */
kf_wmetrics_t *kf_obs_metrics(const kf_obs_t *o);
/* The registry, to add more families (owned by the handle). */
kf_metrics_t *kf_obs_registry(const kf_obs_t *o);
/* The bound HTTP port, 0 when off. */
int kf_obs_port(const kf_obs_t *o);
/* The statistics interval to set on the consumer (0 = do not set). */
int kf_obs_stats_interval_ms(const kf_obs_t *o);

/* Alternative to the on_error hook above (use one, not both): mirrors the
 * model pollers' failure counters into
 * kinfer_artifact_fetch_errors_total{model,reason=fetch|load|poll} at every
 * scrape. Pass NULL to stop watching; do that before freeing the sources
 * (or free the kf_obs first). Any thread. */
void kf_obs_watch_model_sources(kf_obs_t *o, kf_model_sources_t *sources);

#endif
