/* kf_job_producer: sends inference requests to a topic and tracks their
 * delivery reports. Used by `kinfer produce`, the demo and benchmarks.
 *
 * Each send encodes the request with kf_codec (framing per params), copies
 * the bytes into librdkafka, and counts the delivery report (delivered or
 * failed, with the first failure's reason kept). _flush waits until every
 * report arrived. Client settings (idempotence, acks, linger) are the
 * caller's, in the rd_kafka_conf_t it passes.
 *
 * Threads: one thread calls all functions of one producer; delivery reports
 * are served from kf_job_producer_send/_poll/_flush on that thread. */
#ifndef KF_JOB_PRODUCER_H
#define KF_JOB_PRODUCER_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "kf_codec.h"
#include "kf_log.h"
#include "kf_status.h"

typedef struct kf_job_producer kf_job_producer_t;

typedef struct kf_job_producer_params {
    const char *topic;         /* required (copied) */
    int32_t partition;         /* RD_KAFKA_PARTITION_UA (default) = by key */
    kf_codec_params_t codec;   /* default kf_codec_default_params() */
    const kf_logger_t *logger; /* not owned; NULL = stderr */
} kf_job_producer_params_t;

kf_job_producer_params_t kf_job_producer_default_params(void);

/* Creates the producer. `conf` is consumed on success and on failure (the
 * caller must not use or destroy it after the call); bootstrap.servers and
 * any other client settings must already be in it. Returns NULL with `err`
 * filled on failure. */
kf_job_producer_t *kf_job_producer_new(const kf_job_producer_params_t *params,
                                       rd_kafka_conf_t *conf, char *err, size_t errsz);

/* Waits for outstanding deliveries (up to 10 s) and frees; NULL is a no-op. */
void kf_job_producer_free(kf_job_producer_t *p);

/* Encodes `req` and enqueues it with key `key` (keylen bytes; NULL = no
 * key). Blocks (serving delivery reports) while librdkafka's queue is full.
 * KF_ERR_INVALID_INPUT / KF_ERR_LIMIT when the request does not encode
 * (err names the field), KF_ERR_KAFKA when librdkafka refuses it. */
kf_status_t kf_job_producer_send(kf_job_producer_t *p, const kf_request_t *req, const void *key,
                                 size_t keylen, char *err, size_t errsz);

/* Serves delivery reports for up to timeout_ms. */
void kf_job_producer_poll(kf_job_producer_t *p, int timeout_ms);

/* Waits until every sent message has a delivery report or timeout_ms
 * passed. KF_OK when all were delivered, KF_ERR_TIMEOUT when reports are
 * still missing, KF_ERR_KAFKA when some failed (err says how many and why). */
kf_status_t kf_job_producer_flush(kf_job_producer_t *p, int timeout_ms, char *err, size_t errsz);

/* Counters: messages enqueued, delivered, failed (reports so far). */
typedef struct kf_job_producer_stats {
    uint64_t sent, delivered, failed;
    uint64_t bytes; /* encoded bytes enqueued */
} kf_job_producer_stats_t;
kf_job_producer_stats_t kf_job_producer_stats(const kf_job_producer_t *p);

/* The librdkafka handle (owned by p), e.g. for metadata queries. */
rd_kafka_t *kf_job_producer_handle(kf_job_producer_t *p);

#endif
