/* kf_worker_internal: the worker's state and job record, shared by the
 * worker's own files only (kf_worker.c, kf_worker_chunks.c,
 * kf_worker_txn.c); not part of the public API (see kf_worker.h). */
#ifndef KF_WORKER_INTERNAL_H
#define KF_WORKER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "kf_batcher.h"
#include "kf_codec.h"
#include "kf_consumer.h"
#include "kf_models.h"
#include "kf_offsets.h"
#include "kf_result_producer.h"
#include "kf_worker.h"
#include "kf_worker_model.h"

typedef struct kf_wsplit kf_wsplit_t; /* kf_worker_chunks.h */

/* One job between the consumer thread and its result. */
typedef struct kf_wjob {
    kf_batch_job_t bj;
    rd_kafka_message_t *msg;   /* owned; tensor data points into it */
    kf_request_t *req;         /* owned */
    kf_model_ref_t *ref;       /* holds the model version */
    int64_t t0_us;             /* consumed at (monotonic), for e2e latency */
    kf_wsplit_t *split;        /* owned; set when the job has more rows than max_batch */
    struct kf_wjob *next_free; /* in its model version's freeq once answered */
} kf_wjob_t;

struct kf_worker {
    kf_worker_params_t p;
    char worker_id[128];
    kf_offsets_t *offs;
    kf_result_producer_t *rp;
    kf_consumer_t *c;
    kf_models_t *models;
    kf_buf_t enc;       /* consumer thread: error results */
    pthread_mutex_t mu; /* guards st (batch counters), mvs */
    kf_worker_stats_t st;
    /* per-job counters, lock-free (two threads update them for every job);
     * kf_worker_stats copies them into its result */
    atomic_uint_fast64_t n_consumed, n_dlq, n_results[KF_RESULT_STATUS_COUNT];
    kf_mv_t *mvs;                  /* every payload not yet destroyed */
    kf_model_batching_t *batching; /* per-model overrides (guarded by mu) */
    size_t n_batching;
    atomic_long live; /* jobs queued or running (pushed, not yet freed) */
    /* answered jobs (chained by next_free) whose request and job memory the
     * consumer thread frees: it allocated them, so its frees and its next
     * mallocs stay in its own malloc cache; freed from another thread they
     * were ~40% of the consumer thread's time at peak (_int_malloc,
     * _int_free) */
    _Atomic(struct kf_wjob *) reap;
    char txn_id[320]; /* exactly-once: transactional.id */
};

/* Monotonic clock in microseconds. Any thread. */
int64_t kf_worker_mono_us(void);

/* Engine thread: produces the result of job j (all of its rows) and queues
 * j to be freed once its batch is handed back (on_job_done). out: one buffer of j->bj.rows rows per
 * model output (borrowed), NULL when status is not KF_OK; err: the failure text (borrowed). */
void kf_worker_job_result(kf_worker_t *w, kf_wjob_t *j, kf_status_t status, const void *const *out,
                          const kf_batch_info_t *info, const char *err);

#endif
