/* kf_broker: an embedded Kafka-compatible broker (librdkafka mock cluster).
 *
 * Used by `kinfer broker`, `kinfer demo`, benchmarks and tests. The cluster
 * runs on librdkafka's own threads inside this process; clients anywhere on
 * the host connect to kf_broker_bootstrap(). Limits of the mock cluster: it
 * keeps only ~5 MiB per partition, transactions are accepted but not
 * isolated, a group's first join takes ~3 s, and topics that are not created
 * up front are auto-created with one partition.
 *
 * Threads: create, use and free a broker from one thread; the bootstrap
 * string may be read by any thread while the broker lives. */
#ifndef KF_BROKER_H
#define KF_BROKER_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "kf_log.h"
#include "kf_status.h"

typedef struct kf_broker kf_broker_t;

typedef struct kf_broker_params {
    int brokers;               /* number of mock brokers (default 1) */
    const kf_logger_t *logger; /* not owned; NULL = stderr */
} kf_broker_params_t;

kf_broker_params_t kf_broker_default_params(void);

/* Starts a mock cluster. Returns a broker (caller owns; kf_broker_free) or
 * NULL with `err` filled. */
kf_broker_t *kf_broker_new(const kf_broker_params_t *params, char *err, size_t errsz);

/* Stops the cluster; NULL is a no-op. */
void kf_broker_free(kf_broker_t *b);

/* "127.0.0.1:port[,...]"; owned by the broker. */
const char *kf_broker_bootstrap(const kf_broker_t *b);

/* Creates `topic` with `partitions` partitions (replication factor 1).
 * KF_ERR_INVALID_ARG on a bad name or count, KF_ERR_KAFKA otherwise. */
kf_status_t kf_broker_topic_create(kf_broker_t *b, const char *topic, int partitions, char *err,
                                   size_t errsz);

/* Parses "NAME[:PARTITIONS]" (as given to `kinfer broker --topic`) and
 * creates the topic. */
kf_status_t kf_broker_topic_create_spec(kf_broker_t *b, const char *spec, char *err, size_t errsz);

/* The underlying mock cluster, for fault injection in tests
 * (rd_kafka_mock_broker_set_down, _push_request_errors ...). Owned by b. */
rd_kafka_mock_cluster_t *kf_broker_mock(kf_broker_t *b);

#endif
