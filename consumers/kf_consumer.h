/* kf_consumer: the worker's Kafka consumer side.
 *
 * A group member using the cooperative-sticky assignor, with
 * enable.auto.commit=false and enable.auto.offset.store=false. It owns one
 * poll thread that:
 *   - hands every consumed message to on_msg (after tracking its offset in
 *     the offset tracker); on_msg takes ownership of the message and must
 *     eventually make the job's output acknowledged (which acks the offset),
 *     and destroy the message;
 *   - above high_mark jobs in flight, stops taking messages (a "hold")
 *     until the count is half way back to low_mark; a hold longer than
 *     hold_ms pauses all assigned partitions instead, resumed below
 *     low_mark (librdkafka's own prefetch is bounded by its queued.* limits);
 *   - commits the tracker's committable offsets asynchronously every
 *     commit_interval_ms;
 *   - on revoke, waits up to drain_timeout_ms for the revoked partitions'
 *     jobs to be acknowledged, commits them synchronously, then drops them
 *     from the tracker before acknowledging the revoke (jobs still in flight
 *     after the timeout are dropped and not committed: they are re-delivered
 *     to the new owner); lost partitions are dropped without a commit;
 *   - on kf_consumer_stop: stops fetching (pauses), waits up to
 *     drain_timeout_ms for in-flight jobs, commits, and closes the consumer
 *     (leaves the group).
 *
 * Threads: on_msg runs on the poll thread and must not block for long.
 * kf_consumer_stop/_paused/_stats may be called from any thread. */
#ifndef KF_CONSUMER_H
#define KF_CONSUMER_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "kf_log.h"
#include "kf_offsets.h"
#include "kf_result_producer.h" /* kf_kafka_conf_fn */
#include "kf_status.h"

typedef struct kf_consumer kf_consumer_t;

/* Takes ownership of `msg` (rd_kafka_message_destroy when done). */
typedef void (*kf_consumer_msg_fn)(void *opaque, rd_kafka_message_t *msg);

/* Optional replacement for the consumer's own offset commits (exactly-once:
 * offsets go into the producer's transaction). Called on the poll thread
 * with the consumer handle when offsets are due: every commit_interval_ms
 * (final 0), on revoke and at shutdown (final 1). No message reaches on_msg
 * while it runs. Returns KF_OK (committed, or nothing to commit),
 * KF_ERR_TIMEOUT (not now; called again at the next interval),
 * KF_ERR_KAFKA (the transaction was aborted and the hook rewound the
 * assigned partitions to their committed offsets) or KF_ERR_INTERNAL
 * (fatal: the consumer stops without committing and kf_consumer_wait
 * reports it). */
typedef kf_status_t (*kf_consumer_commit_fn)(void *opaque, rd_kafka_t *consumer, int final);

typedef struct kf_consumer_params {
    const char *bootstrap;       /* required */
    const char *group;           /* required */
    const char *const *topics;   /* NULL-terminated; required */
    const char *const *kafka_kv; /* NULL-terminated key, value pairs; optional */
    kf_kafka_conf_fn conf_fn;    /* optional hook, see kf_result_producer.h */
    void *conf_user;
    kf_offsets_t *offsets;     /* borrowed; required */
    kf_logger_t *log;          /* borrowed; NULL = stderr */
    size_t high_mark;          /* pause above (default 20000 jobs) */
    size_t low_mark;           /* resume below (default 5000) */
    int commit_interval_ms;    /* default 1000 */
    int drain_timeout_ms;      /* default 10000 */
    int hold_ms;               /* longest hold before a pause (default 200) */
    kf_consumer_msg_fn on_msg; /* required */
    void *opaque;
    /* Optional: librdkafka statistics JSON every stats_interval_ms (> 0),
     * called on the poll thread with `opaque`; json is valid during the
     * call only (metrics: consumer lag per partition). */
    void (*on_stats)(void *opaque, const char *json, size_t len);
    int stats_interval_ms;
    /* Optional (exactly-once), see kf_consumer_commit_fn; called with
     * `opaque`. When set the consumer never commits offsets itself and
     * reads with isolation.level=read_committed (unless kafka_kv says
     * otherwise). */
    kf_consumer_commit_fn commit_fn;
} kf_consumer_params_t;

typedef struct kf_consumer_stats {
    uint64_t consumed, holds, pauses, refills, commits, commit_errors, revoked, assigned,
        dropped_jobs;
    uint64_t closed_joining; /* 1: stopped inside librdkafka < 2.3's join window, so the
                              * client is closed but not destroyed (kf_consumer.c) */
} kf_consumer_stats_t;

kf_consumer_params_t kf_consumer_default_params(void);

/* Creates the consumer, subscribes and starts the poll thread. NULL + err
 * on failure. Caller owns; free with kf_consumer_free. */
kf_consumer_t *kf_consumer_new(const kf_consumer_params_t *params, char *err, size_t err_size);

/* Asks the poll thread to stop (drain, commit, close). Returns at once;
 * async-signal-safe is NOT promised: call it from a normal thread. */
void kf_consumer_stop(kf_consumer_t *c);

/* Waits for the poll thread to finish (after _stop, or on its own after a
 * fatal commit_fn error), up to timeout_ms. KF_OK when it has closed the
 * consumer, KF_ERR_INTERNAL when it closed after a fatal commit error,
 * KF_ERR_TIMEOUT otherwise. */
kf_status_t kf_consumer_wait(kf_consumer_t *c, int timeout_ms);

/* Stops (if needed), joins and destroys. NULL is a no-op. */
void kf_consumer_free(kf_consumer_t *c);

int kf_consumer_paused(kf_consumer_t *c);
/* Partitions currently assigned (assigned minus revoked/lost); any thread. */
int64_t kf_consumer_assigned(kf_consumer_t *c);
kf_consumer_stats_t kf_consumer_stats(kf_consumer_t *c);

#endif
