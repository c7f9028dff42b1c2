/* kf_worker_metrics: the worker's metric set, one call per event.
 *
 * Registers the kinfer_* families in a kf_metrics_t registry and gives the
 * worker, consumer, batcher, producer and artifact fetcher one function per
 * event. Every function accepts a NULL handle (metrics off) and is safe to
 * call from any thread. Families:
 *
 *   kinfer_jobs_total{model,status}                    counter
 *   kinfer_dlq_records_total{reason}                    counter
 *   kinfer_batch_size{model}                            histogram (rows)
 *   kinfer_queue_latency_seconds{model}                 histogram
 *   kinfer_compute_latency_seconds{model}               histogram
 *   kinfer_end_to_end_latency_seconds{model}            histogram
 *   kinfer_inflight_jobs                                gauge
 *   kinfer_consumer_paused                              gauge (0/1)
 *   kinfer_consumer_lag{topic,partition}                gauge (messages)
 *   kinfer_model_loaded{model,version}                  gauge (1 per loaded)
 *   kinfer_artifact_fetch_errors_total{model,reason}    counter
 *   kinfer_build_info{version}                          gauge (always 1)
 *
 * The caller caches nothing: the first event of a model creates its series
 * (jobs_total for each of the five result statuses, at 0, so rates work
 * from the first scrape) and later events find them in a lock-free list,
 * costing a few atomic adds (see tests/metrics/bench_metrics.c).
 *
 * Ownership: the registry is borrowed and must outlive the handle. */
#ifndef KF_WORKER_METRICS_H
#define KF_WORKER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "kf_metrics.h"
#include "kf_status.h"

typedef struct kf_wmetrics kf_wmetrics_t;

/* Registers the families in `reg`. Returns NULL with errstr set when a
 * family cannot be registered (e.g. a name is already taken). */
kf_wmetrics_t *kf_wmetrics_new(kf_metrics_t *reg, char *errstr, size_t errstr_size);
void kf_wmetrics_free(kf_wmetrics_t *wm);

/* The registry the handle writes to (borrowed), or NULL. */
kf_metrics_t *kf_wmetrics_registry(const kf_wmetrics_t *wm);

/* One finished job: its result status as written on the wire ("OK",
 * "INVALID_INPUT", "MODEL_NOT_FOUND", "DEADLINE_EXCEEDED", "INTERNAL") and
 * its latencies in microseconds (negative = unknown, not observed). A NULL
 * or empty model is counted as "" (e.g. undecodable jobs). */
void kf_wmetrics_job(kf_wmetrics_t *wm, const char *model, const char *status, int64_t queue_us,
                     int64_t compute_us, int64_t e2e_us);

/* One record written to the DLQ, with a short reason ("decode", "shape"). */
void kf_wmetrics_dlq(kf_wmetrics_t *wm, const char *reason);

/* One batch of `rows` rows run for `model`. */
void kf_wmetrics_batch(kf_wmetrics_t *wm, const char *model, uint64_t rows);

/* Current in-flight jobs, and whether the consumer is paused. */
void kf_wmetrics_inflight(kf_wmetrics_t *wm, int64_t jobs);
void kf_wmetrics_paused(kf_wmetrics_t *wm, int paused);

/* Feeds one librdkafka statistics document (from the consumer's stats_cb;
 * needs statistics.interval.ms > 0). Sets kinfer_consumer_lag for every
 * partition in it with a known lag and removes partitions that are no
 * longer reported (revoked). Returns KF_ERR_DECODE on malformed JSON. */
kf_status_t kf_wmetrics_rdkafka_stats(kf_wmetrics_t *wm, const char *json, size_t len);

/* A model version was loaded (loaded = 1) or unloaded (loaded = 0). */
void kf_wmetrics_model_loaded(kf_wmetrics_t *wm, const char *model, const char *version,
                              int loaded);

/* An artifact fetch failed (reason: "http", "checksum", "load", ...). */
void kf_wmetrics_fetch_error(kf_wmetrics_t *wm, const char *model, const char *reason);

/* Mirrors a model repository poller's own counters (kf_repo_get_stats) into
 * kinfer_artifact_fetch_errors_total{model,reason="fetch"|"load"|"poll"}:
 * call it from a kf_metrics_on_collect callback so every scrape is current.
 * (Use either this or kf_wmetrics_fetch_error for a given reason.) */
void kf_wmetrics_artifact_totals(kf_wmetrics_t *wm, const char *model, uint64_t fetch_failures,
                                 uint64_t load_failures, uint64_t poll_errors);

#endif
