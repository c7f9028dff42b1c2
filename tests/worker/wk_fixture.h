/* Test fixture for the worker's Kafka integration tests: an in-process
 * librdkafka mock cluster, a job producer, a result verifier that counts
 * answers per job id, and committed-offset checks. Test code only. */
#ifndef WK_FIXTURE_H
#define WK_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

typedef struct wk_cluster {
    rd_kafka_t *rk; /* handle that owns the mock cluster */
    rd_kafka_mock_cluster_t *mc;
    char bootstrap[256];
} wk_cluster_t;

/* Starts a mock cluster with `brokers` brokers; exits the test on failure. */
void wk_cluster_start(wk_cluster_t *c, int brokers);
void wk_cluster_stop(wk_cluster_t *c);
void wk_topic(wk_cluster_t *c, const char *topic, int partitions);

/* A plain producer to the cluster (caller destroys). */
rd_kafka_t *wk_producer(const char *bootstrap);

/* Produces one record (copy), retrying while the queue is full. */
void wk_produce(rd_kafka_t *p, const char *topic, int32_t partition, const void *key, size_t klen,
                const void *val, size_t vlen, rd_kafka_headers_t *hdrs);

/* Flushes, failing the test if anything is left after 30 s. */
void wk_flush(rd_kafka_t *p);

/* Reads every record of `topic` (all `partitions`) from the beginning until
 * at least `want` records arrived and every partition reached its end, or
 * timeout_ms passed, or nothing new came for idle_ms. Calls fn for each record. Returns the number
 * read. */
typedef void (*wk_record_fn)(void *opaque, const rd_kafka_message_t *m);
size_t wk_read_all(const char *bootstrap, const char *topic, int partitions, size_t want,
                   int timeout_ms, int idle_ms, wk_record_fn fn, void *opaque);
/* The same over `partitions` partitions of each of n_topics topics. */
size_t wk_read_topics(const char *bootstrap, const char *const *topics, int n_topics,
                      int partitions, size_t want, int timeout_ms, int idle_ms, wk_record_fn fn,
                      void *opaque);

/* Committed offset of group/topic/partition (-1001 = none). */
int64_t wk_committed(const char *bootstrap, const char *group, const char *topic,
                     int32_t partition);
/* High watermark of topic/partition. */
int64_t wk_high_watermark(const char *bootstrap, const char *topic, int32_t partition);

/* Resident set size of this process, bytes (from /proc/self/status). */
size_t wk_rss_bytes(void);

int64_t wk_now_ms(void);
void wk_sleep_ms(int ms);

/* Prints "FAIL: ..." and exits 1 when cond is false. */
#define WK_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#endif
