/* kf_batcher: dynamic batching for one model version.
 *
 * Jobs are pushed by the consumer thread and queued; the batcher's own engine
 * thread closes a batch when it holds max_batch rows (or the next job would
 * not fit), when it reaches the largest preferred batch size, or
 * max_queue_delay_ms after its first job was queued, whichever comes first.
 * Jobs whose deadline has passed are answered KF_ERR_TIMEOUT
 * (DEADLINE_EXCEEDED) without running. The rows of every job are copied once
 * into the compute step's input buffers; after the run, each job gets
 * pointers to its own rows of the outputs.
 *
 * The compute step is an interface (kf_batch_compute_t: function pointers +
 * ctx) so the worker plugs the engine's plan in, and a unit test a fake.
 * A compute step with submit/wait (a device backend) is pipelined: while a
 * batch is in flight, the next one is taken when it can close at once
 * (full, or its delay is up), filled and submitted before the batch in
 * flight is waited for and handed back; when none can close yet the batch
 * in flight is waited for at once, so pipelining never holds results back
 * for the queue delay. Jobs are still handed back in batch order (per
 * batch: its deadline-exceeded jobs, then the ones that ran).
 *
 * Ownership: kf_batch_job_t is owned by the caller. After a successful
 * kf_batcher_push the batcher borrows it (and the row data it points to)
 * until it hands it back through on_done, exactly once, on the engine
 * thread. Row pointers may point straight into a Kafka message (zero copy).
 *
 * Threads: kf_batcher_push, _stats and _queued may be called from any
 * thread; on_done and the compute functions run on the engine thread. */
#ifndef KF_BATCHER_H
#define KF_BATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "kf_status.h"

#define KF_BATCH_MAX_IO 8
#define KF_BATCH_MAX_PREFERRED 8

/* Compute step. in_row_bytes/out_row_bytes: bytes of one row of each input
 * / output (the leading dimension is the row). */
typedef struct kf_batch_compute {
    void *ctx;
    size_t n_inputs, n_outputs;
    size_t in_row_bytes[KF_BATCH_MAX_IO];
    size_t out_row_bytes[KF_BATCH_MAX_IO];
    /* Returns the input buffers for a batch of `rows` rows (owned by the
     * compute step, each at least rows * in_row_bytes[i] bytes). */
    kf_status_t (*prepare)(void *ctx, size_t rows, void *in_bufs[KF_BATCH_MAX_IO], char *err,
                           size_t err_size);
    /* Runs the batch; sets out_bufs (owned by the compute step, valid until
     * the next prepare) to rows * out_row_bytes[i] bytes each. */
    kf_status_t (*run)(void *ctx, size_t rows, const void *out_bufs[KF_BATCH_MAX_IO], char *err,
                       size_t err_size);
    /* Optional (both or neither): asynchronous compute, for device
     * backends. submit queues the batch whose inputs prepare handed out
     * (its input buffers may be refilled as soon as it returns; a failed
     * submit queues nothing); wait blocks until the OLDEST submitted batch
     * is done and sets out_bufs like run (valid until the next wait; a
     * failed wait consumes the batch). With them the engine thread keeps
     * one batch in flight while it fills and submits the next: prepare and
     * submit of batch k+1 come before the wait of batch k, so at most two
     * batches are submitted at once. Results still come back in batch
     * order, and every submitted batch is waited for before the engine
     * thread ends. run is not used when these are set. */
    kf_status_t (*submit)(void *ctx, size_t rows, char *err, size_t err_size);
    kf_status_t (*wait)(void *ctx, size_t rows, const void *out_bufs[KF_BATCH_MAX_IO], char *err,
                        size_t err_size);
} kf_batch_compute_t;

typedef struct kf_batch_job kf_batch_job_t;
struct kf_batch_job {
    size_t rows;                     /* >= 1 */
    const void *in[KF_BATCH_MAX_IO]; /* rows * in_row_bytes[i] bytes each */
    int64_t deadline_unix_us;        /* 0: none (CLOCK_REALTIME, µs) */
    void *user;                      /* caller's job */
    /* set by the batcher */
    int64_t enqueued_us; /* CLOCK_MONOTONIC µs */
    kf_batch_job_t *next;
};

typedef struct kf_batch_info {
    size_t batch_rows; /* rows in the batch this job ran in (0: did not run) */
    size_t batch_jobs;
    size_t job_index;   /* this job's position in its batch (0 = first) */
    int64_t queue_us;   /* push → batch start */
    int64_t compute_us; /* copy + run of the batch (async compute: batch start ->
                         * its wait returned, so it includes the time it waited
                         * behind the batch in flight before it) */
    int64_t ended_us;   /* CLOCK_MONOTONIC µs at which the batch's compute ended
                         * and its hand-back began (0: did not run) */
} kf_batch_info_t;

/* Hands a job back. status KF_OK: out[i] points to the job's rows *
 * out_row_bytes[i] bytes of output i, valid only during the call. Otherwise
 * out is NULL and err says why (KF_ERR_TIMEOUT: deadline exceeded). */
typedef void (*kf_batch_done_fn)(void *opaque, kf_batch_job_t *job, kf_status_t status,
                                 const void *const *out, const kf_batch_info_t *info,
                                 const char *err);

typedef struct kf_batcher_params {
    size_t max_batch;                         /* rows; default 64 */
    int max_queue_delay_ms;                   /* default 5 */
    size_t preferred[KF_BATCH_MAX_PREFERRED]; /* 0-terminated; default none */
    size_t max_queued_jobs;                   /* push fails beyond it; default 65536 */
    const char *name;                         /* for messages, e.g. "mnist@1" (copied) */
} kf_batcher_params_t;

typedef struct kf_batcher_stats {
    uint64_t batches, rows, jobs, deadline_exceeded, failed;
} kf_batcher_stats_t;

typedef struct kf_batcher kf_batcher_t;

kf_batcher_params_t kf_batcher_default_params(void);

/* max_batch for a plan that needs bytes_per_row per row within a memory
 * budget, capped by `cap` (0: no cap); at least 1. */
size_t kf_batcher_max_batch_for(size_t budget_bytes, size_t bytes_per_row, size_t cap);

/* Creates a batcher and starts its engine thread. `compute` is copied; its
 * ctx is borrowed and must outlive the batcher. Returns NULL and fills err on
 * failure. */
kf_batcher_t *kf_batcher_new(const kf_batcher_params_t *params, const kf_batch_compute_t *compute,
                             kf_batch_done_fn on_done, void *opaque, char *err, size_t err_size);

/* Runs every queued job, stops and joins the engine thread, frees. NULL is
 * a no-op. Must not be called from on_done. */
void kf_batcher_free(kf_batcher_t *b);

/* Queues a job. KF_ERR_LIMIT (job not taken; err names the limit) when it
 * has more rows than max_batch or the queue is full; KF_ERR_INVALID_ARG for
 * zero rows. */
kf_status_t kf_batcher_push(kf_batcher_t *b, kf_batch_job_t *job, char *err, size_t err_size);

/* Queues jobs[0..n) in that order, all or none (so the chunks of a job
 * split by the caller are never half queued): KF_ERR_LIMIT when one has
 * more rows than max_batch or the queue cannot take all n. Same ownership
 * as kf_batcher_push for each job. */
kf_status_t kf_batcher_push_all(kf_batcher_t *b, kf_batch_job_t *const *jobs, size_t n, char *err,
                                size_t err_size);

size_t kf_batcher_max_batch(const kf_batcher_t *b);
size_t kf_batcher_queued(kf_batcher_t *b);
kf_batcher_stats_t kf_batcher_stats(kf_batcher_t *b);

#endif
