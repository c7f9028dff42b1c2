/* kf_worker_model: one loaded model version of the worker (internal to
 * kf_worker): the engine model + plan for max_batch, the batcher whose
 * compute step runs the plan, and its signature in wire dtypes.
 *
 * Threads: created on the loading thread; the batcher's engine thread runs
 * the plan and calls the done callback; destroyed by kf_models' reaper (or
 * the worker's free), never on its own engine thread. kf_mv_free stops the
 * batcher first, whose engine thread waits for a batch still in flight, so
 * a plan is never freed with a batch pending (hot swap, shutdown). */
#ifndef KF_WORKER_MODEL_H
#define KF_WORKER_MODEL_H

#include <stddef.h>

#include "engine.h"
#include "kf_avro_bin.h"
#include "kf_batcher.h"
#include "kf_dtype.h"

typedef struct kf_mv_io {
    const char *name; /* borrowed from the engine model */
    kf_dtype_t dtype;
    int rank;
    int64_t shape[KE_MAX_RANK]; /* shape[0] = -1 when batched */
    size_t row_bytes;
} kf_mv_io_t;

typedef struct kf_mv {
    char name[128], version[64], label[200]; /* label: "name@version" */
    ke_model_t *model;
    ke_plan_t *plan;
    int has_batch;
    size_t max_batch;
    int max_queue_delay_ms; /* as given to the batcher */
    size_t preferred_batch; /* 0 = none */
    int n_in, n_out;
    kf_mv_io_t in[KF_BATCH_MAX_IO], out[KF_BATCH_MAX_IO];
    void *inb[KF_BATCH_MAX_IO], *outb[KF_BATCH_MAX_IO];
    kf_batcher_t *batcher;
    int pipelined;      /* the batcher keeps one batch in flight (submit/wait) */
    kf_buf_t enc;       /* result encoding buffer, engine thread only */
    void *freeq;        /* engine thread only: answered jobs (kf_wjob_t) freed
                         * when their batch is all handed back */
    void *owner;        /* the worker */
    struct kf_mv *next; /* worker's list of live payloads */
} kf_mv_t;

typedef struct kf_mv_params {
    size_t max_batch;
    int max_queue_delay_ms;
    size_t preferred_batch;
    size_t memory_budget; /* host budget for activations; 0 = none (device: free memory) */
    int device_percent;   /* share of a device's free memory for a plan (0 = 80) */
    int threads;
    const char *device;
    const char *precision; /* "fp32" (NULL), "tf32", "fp16", "bf16" */
    size_t max_queued_jobs;
    /* 0: keep one batch in flight (ke_plan_submit/wait) when the plan's
     * backend overlaps copies with compute (ke_plan_async), else run each
     * batch synchronously; 1: always in flight; -1: never. */
    int pipeline;
    /* Tests: a backend for each plan (the plan owns it; NULL from the hook
     * fails the load); NULL = the backend named by `device`. */
    struct ke_backend *(*backend_new)(void *user);
    void *backend_user;
} kf_mv_params_t;

/* Loads `path`, compiles and warms up a plan, starts the batcher (jobs are
 * handed back through on_done(opaque, ...)). NULL + err naming the model
 * and file on failure. */
kf_mv_t *kf_mv_new(const char *name, const char *version, const char *path,
                   const kf_mv_params_t *params, kf_batch_done_fn on_done, void *opaque, char *err,
                   size_t err_size);

/* Stops the batcher (running what is queued). Idempotent. */
void kf_mv_stop(kf_mv_t *mv);
void kf_mv_free(kf_mv_t *mv); /* NULL is a no-op */

#endif
