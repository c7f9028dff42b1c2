/* kf_result_producer: result and DLQ records with delivery tracking.
 *
 * An idempotent librdkafka producer (enable.idempotence=true, acks=all).
 * Every record may carry the input position of the job it answers (its
 * "origin"); when the brokers acknowledge the record, the origin's offset is
 * acked in the offset tracker, which then lets the consumer commit it. A
 * record whose delivery fails is produced again after a backoff, never
 * skipped (so its input offset is never committed without it).
 *
 * Results are keyed by the job's key; the input headers are copied onto the
 * record. DLQ records carry the original key, value and headers plus
 * kinfer.error, kinfer.source.topic, kinfer.source.partition and
 * kinfer.source.offset.
 *
 * Threads: the producer owns one poll thread that serves delivery reports
 * and retries. kf_result_producer_send / _send_dlq / _flush / _stats may be
 * called from any thread. */
#ifndef KF_RESULT_PRODUCER_H
#define KF_RESULT_PRODUCER_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "kf_log.h"
#include "kf_offsets.h"
#include "kf_status.h"

typedef struct kf_result_producer kf_result_producer_t;

/* Input position a record answers; topic NULL = none (nothing to ack). */
typedef struct kf_origin {
    const char *topic;
    int32_t partition;
    int64_t offset;
} kf_origin_t;

/* Called on the poll thread once per record when the brokers acknowledged
 * it (after the tracker was acked). Optional. */
typedef void (*kf_rp_delivered_fn)(void *opaque, const kf_origin_t *origin, int is_dlq,
                                   const rd_kafka_headers_t *hdrs);

/* Optional hook applied to a librdkafka config after the defaults and
 * kafka_kv (e.g. the kafka.* keys of a kf_config). Returns KF_OK or fills
 * err naming the bad key. Called on the constructing thread. */
typedef kf_status_t (*kf_kafka_conf_fn)(void *user, rd_kafka_conf_t *conf, char *err,
                                        size_t err_size);

typedef struct kf_result_producer_params {
    const char *bootstrap;       /* required */
    const char *dlq_topic;       /* required for _send_dlq */
    const char *const *kafka_kv; /* NULL-terminated key, value, key, value...; optional */
    kf_kafka_conf_fn conf_fn;    /* optional */
    void *conf_user;
    kf_offsets_t *offsets; /* borrowed; acked on delivery; optional */
    kf_logger_t *log;      /* borrowed; NULL = stderr */
    int retry_backoff_ms;  /* app-level re-produce backoff, default 200 */
    kf_rp_delivered_fn on_delivered;
    void *opaque;
    /* Exactly-once: a transactional producer with this transactional.id
     * (NULL = plain idempotent producer). _new then initialises
     * transactions (the brokers fence an older producer with the same id)
     * and begins the first one; a failed delivery is not re-produced but
     * marks the transaction broken (see kf_result_producer_txn_*). */
    const char *transactional_id;
    int txn_init_timeout_ms; /* default 30000 */
} kf_result_producer_params_t;

typedef struct kf_result_producer_stats {
    uint64_t sent, delivered, dlq_delivered, retried;
    uint64_t txn_commits, txn_aborts; /* transactional producer only */
} kf_result_producer_stats_t;

kf_result_producer_params_t kf_result_producer_default_params(void);

/* Creates the producer and starts its poll thread; NULL + err on failure
 * (the librdkafka key that was rejected is named). Caller owns. */
kf_result_producer_t *kf_result_producer_new(const kf_result_producer_params_t *params, char *err,
                                             size_t err_size);

/* Flushes (up to 30 s), stops the poll thread, destroys. NULL is a no-op. */
void kf_result_producer_free(kf_result_producer_t *rp);

/* Produces a result record to `topic`. key/value are copied; `hdrs` (input
 * headers to propagate, may be NULL) is copied, the caller keeps it. Blocks
 * while the local queue is full. */
kf_status_t kf_result_producer_send(kf_result_producer_t *rp, const char *topic, const void *key,
                                    size_t key_len, const void *value, size_t value_len,
                                    const rd_kafka_headers_t *hdrs, const kf_origin_t *origin);

/* Produces the original bytes of a bad job to the DLQ topic with the
 * kinfer.* headers added to a copy of `hdrs`. `error` names what was wrong. */
kf_status_t kf_result_producer_send_dlq(kf_result_producer_t *rp, const void *key, size_t key_len,
                                        const void *value, size_t value_len,
                                        const rd_kafka_headers_t *hdrs, const char *error,
                                        const kf_origin_t *origin);

/* Fetches the metadata of `topics` (NULL-terminated) now, so the first
 * record to each does not wait for librdkafka's 1 s topic scan (measured
 * here: the first results of a new output topic were held ~1 s). Call from
 * the owner thread before producing; KF_ERR_KAFKA + err when the brokers do
 * not answer within timeout_ms (the records would still be produced later). */
kf_status_t kf_result_producer_warm(kf_result_producer_t *rp, const char *const *topics,
                                    int timeout_ms, char *err, size_t err_size);

/* Waits until every record (retries included) is delivered or timeout_ms
 * passes. KF_OK or KF_ERR_TIMEOUT. */
kf_status_t kf_result_producer_flush(kf_result_producer_t *rp, int timeout_ms);

kf_result_producer_stats_t kf_result_producer_stats(kf_result_producer_t *rp);

/* ---- exactly-once (transactional producer only; one caller thread) ---- */

/* 1 when a record of the open transaction failed (delivery or produce
 * error): it can only be aborted. Any thread. */
int kf_result_producer_txn_broken(kf_result_producer_t *rp);

/* Sends `offsets` (next offsets to consume, may be empty) with the consumer
 * group metadata `cgmd` to the open transaction, commits it (flushing its
 * records) and begins the next one. A transaction with no record and no
 * offset is left open (nothing to commit). Retriable errors are retried.
 * Returns KF_OK; KF_ERR_KAFKA when the transaction must be aborted
 * (kf_result_producer_txn_abort); KF_ERR_INTERNAL on a fatal error (the
 * producer is unusable, e.g. fenced by a newer instance). err says why. */
kf_status_t kf_result_producer_txn_commit(kf_result_producer_t *rp,
                                          const rd_kafka_topic_partition_list_t *offsets,
                                          const rd_kafka_consumer_group_metadata_t *cgmd, char *err,
                                          size_t err_size);

/* Aborts the open transaction (its records are discarded for
 * read_committed readers) and begins the next one, unless begin_next is 0
 * (then call _txn_begin). KF_OK or KF_ERR_INTERNAL (fatal). */
kf_status_t kf_result_producer_txn_abort(kf_result_producer_t *rp, int begin_next, char *err,
                                         size_t err_size);
kf_status_t kf_result_producer_txn_begin(kf_result_producer_t *rp, char *err, size_t err_size);

/* The librdkafka handle (borrowed), e.g. for a passthrough benchmark. */
rd_kafka_t *kf_result_producer_handle(kf_result_producer_t *rp);

/* Applies NULL-terminated key/value pairs to a librdkafka config; on a bad
 * key fills err naming it and returns KF_ERR_CONFIG. Shared with the
 * consumer. */
kf_status_t kf_kafka_conf_apply(rd_kafka_conf_t *conf, const char *const *kv, char *err,
                                size_t err_size);

#endif
