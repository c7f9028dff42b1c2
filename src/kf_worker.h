/* kf_worker: the inference worker, wired end to end.
 *
 *   consumer thread  kf_consumer poll → decode (zero copy) → route to the
 *                    model version (kf_models) → validate dtype/shape →
 *                    deadline check → push to the version's batcher; any
 *                    failure → error result + DLQ record at once
 *   engine threads   one per loaded model version (its kf_batcher): copy
 *                    rows into the plan's inputs, ke_plan_run, encode one
 *                    result per job, produce it (reply_topic or the output
 *                    topic, keyed by the job key, input headers propagated)
 *   producer thread  delivery reports ack the offset tracker; the consumer
 *                    commits what is done
 *
 * Bounded: the consumer pauses above high_mark jobs in flight. A job holds
 * a reference on its model version until its result is produced, so a hot
 * swap (kf_worker_load_model of a newer version) frees the old version only
 * after its last batch.
 *
 * Threads: new/load_model/start/stop/wait/free from one owner thread
 * (load_model may also be called from an artifact poller thread while
 * running); kf_worker_stats from any thread. */
#ifndef KF_WORKER_H
#define KF_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "kf_codec.h"
#include "kf_log.h"
#include "kf_model_batching.h"
#include "kf_result_producer.h" /* kf_kafka_conf_fn */
#include "kf_status.h"
#include "kf_worker_metrics.h"

typedef struct kf_worker kf_worker_t;

/* Resolves a model SOURCE (e.g. a URL) to a local .onnx path written into
 * `path`. The default (NULL) takes SOURCE as a local path. The artifacts
 * layer plugs its fetcher in here. */
typedef kf_status_t (*kf_worker_resolve_fn)(void *user, const char *name, const char *source,
                                            char *path, size_t path_size, char *err,
                                            size_t err_size);

/* What the per-job observer is told, in microseconds. */
typedef struct kf_worker_job_info {
    int64_t latency_us;  /* inside the worker: consumed -> result handed to the producer */
    int64_t queue_us;    /* queued -> its batch started */
    int64_t compute_us;  /* its batch's copy + run */
    int64_t handback_us; /* its batch's compute ended -> this job's result handed over;
                          * for the batch's last job, the batch's whole hand-back */
    size_t batch_rows, batch_jobs, job_index;
} kf_worker_job_info_t;

/* Optional per-job observer: called on an engine thread once per job that
 * ran in a batch, after its result was handed to the producer. Must be quick
 * and thread-safe (one engine thread per model version). */
typedef void (*kf_worker_job_fn)(void *user, const kf_worker_job_info_t *job);

typedef struct kf_worker_params {
    const char *bootstrap;          /* required */
    const char *group;              /* default "kinfer" */
    const char *const *topics;      /* NULL-terminated input topics; required */
    const char *output_topic;       /* required */
    const char *dlq_topic;          /* required */
    const char *const *kafka_kv;    /* NULL-terminated pairs for both clients */
    kf_kafka_conf_fn kafka_conf_fn; /* optional hook for both clients */
    void *kafka_conf_user;
    kf_codec_params_t codec;    /* framing, schema ids, limits */
    size_t max_batch;           /* rows cap (default 64) */
    int max_queue_delay_ms;     /* default 5 */
    size_t preferred_batch;     /* 0 = none */
    size_t memory_budget;       /* bytes for plan activations; 0 = no limit (a
                                 * device plan then sizes from free memory) */
    int device_percent;         /* % of free device memory per plan (0 = 80) */
    int threads;                /* engine threads per plan; 0 = all cores */
    const char *device;         /* "cpu" (default), "cuda", "cuda:N", "auto" */
    const char *precision;      /* "fp32" (NULL), "tf32", "fp16", "bf16" (cuda) */
    size_t high_mark, low_mark; /* in-flight jobs (default 4096 / 1024) */
    int commit_interval_ms;     /* default 1000 */
    int drain_timeout_ms;       /* default 10000 */
    const char *worker_id;      /* written into results; default host:pid */
    kf_worker_resolve_fn resolve;
    void *resolve_user;
    kf_logger_t *log; /* borrowed; NULL = stderr */
    /* Borrowed metric set (kf_obs_metrics); NULL = no metrics. Must outlive
     * the worker. stats_interval_ms > 0 feeds kinfer_consumer_lag from
     * librdkafka statistics. */
    kf_wmetrics_t *metrics;
    int stats_interval_ms;
    kf_worker_job_fn on_job; /* optional, see above */
    void *on_job_user;
    /* processing.guarantee=exactly_once: a transactional producer; every
     * commit_interval_ms the consumer stops handing out jobs until those in
     * flight are answered, then the results/DLQ records and the input
     * offsets are committed in ONE transaction (no separate offset commit).
     * An abortable error aborts it and rewinds the partitions to their
     * committed offsets; a fatal one (e.g. fenced) stops the worker and
     * kf_worker_wait returns KF_ERR_INTERNAL. */
    int exactly_once;
    const char *transactional_id; /* default "kinfer-<group>-<worker id>" */
} kf_worker_params_t;

#define KF_WORKER_HIST 12 /* batch-size buckets: 1, 2, 3-4, 5-8, ... 1025+ */

typedef struct kf_worker_stats {
    uint64_t consumed;
    uint64_t results[KF_RESULT_STATUS_COUNT]; /* produced results by status */
    uint64_t dlq;                             /* DLQ records produced */
    uint64_t delivered;                       /* records acked by the brokers */
    uint64_t batches, batch_rows;
    uint64_t batch_hist[KF_WORKER_HIST]; /* batches by size bucket */
    uint64_t inflight;
    int paused;
    int64_t assigned;    /* partitions currently assigned */
    uint64_t commits;    /* offset commits (exactly-once: transactions committed) */
    uint64_t txn_aborts; /* exactly-once: transactions aborted */
} kf_worker_stats_t;

kf_worker_params_t kf_worker_default_params(void);

/* Creates the worker (producer and registry; no consumer yet). NULL + err
 * on failure. Caller owns; kf_worker_free. */
kf_worker_t *kf_worker_new(const kf_worker_params_t *params, char *err, size_t err_size);

/* Loads SOURCE (resolved to a local path), compiles a plan, warms it up,
 * starts its batcher and publishes it as the newest version of `name`.
 * version NULL = "1". Errors name the model and the file. */
kf_status_t kf_worker_load_model(kf_worker_t *w, const char *name, const char *version,
                                 const char *source, char *err, size_t err_size);

/* Per-model batching (max_batch, max_queue_delay_ms, preferred_batch) for
 * the models named in b[0..n), applied to every version of them loaded
 * after the call (copied; replaces an earlier set). Other models use the
 * worker-wide values. KF_ERR_INVALID_ARG on a zero max_batch, a negative
 * delay or preferred_batch > max_batch. Owner thread, before loading. */
kf_status_t kf_worker_set_model_batching(kf_worker_t *w, const kf_model_batching_t *b, size_t n);

/* The batching in effect for the newest loaded version of `name`
 * (max_batch after the memory budget). KF_ERR_NOT_FOUND when none is
 * loaded. Any thread. */
kf_status_t kf_worker_model_batching(kf_worker_t *w, const char *name, kf_model_batching_t *out);

/* Joins the group and starts consuming. */
kf_status_t kf_worker_start(kf_worker_t *w, char *err, size_t err_size);

/* Stops fetching, finishes in-flight jobs, delivers, commits, leaves the
 * group. Returns at once; kf_worker_wait waits for the end: KF_OK,
 * KF_ERR_TIMEOUT, or KF_ERR_INTERNAL when the worker stopped on its own
 * after a fatal error (exactly-once: the producer was fenced or failed). */
void kf_worker_stop(kf_worker_t *w);
kf_status_t kf_worker_wait(kf_worker_t *w, int timeout_ms);

/* Stops if needed, then frees everything. NULL is a no-op. */
void kf_worker_free(kf_worker_t *w);

kf_worker_stats_t kf_worker_stats(kf_worker_t *w);

/* The offset of topic/partition last confirmed committed by this worker
 * (exactly-once: by a committed transaction), -1 when none. Any thread. */
int64_t kf_worker_committed(kf_worker_t *w, const char *topic, int32_t partition);

/* Readiness for /readyz (a kf_http_ready_fn; ctx is the worker): a model is
 * loaded and the consumer has partitions assigned. Any thread. */
int kf_worker_ready(void *ctx, char *reason, size_t reason_size);

/* Copies in-flight jobs and the paused flag into the metric set; register
 * with kf_metrics_on_collect (ctx is the worker) so each scrape is current.
 * Stop the HTTP server before kf_worker_free. */
void kf_worker_collect_metrics(void *ctx, kf_metrics_t *reg);

/* "1", "2", "3-4", ... label of batch-size bucket i (static string). */
const char *kf_worker_hist_label(int i);

#endif
