/* Test fixture for the worker's Kafka integration tests; see wk_fixture.h. */
#include "wk_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t wk_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wk_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void wk_cluster_start(wk_cluster_t *c, int brokers) {
    char err[256];
    memset(c, 0, sizeof(*c));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "2", err, sizeof(err));
    c->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    WK_CHECK(c->rk != NULL, "%s", err);
    c->mc = rd_kafka_mock_cluster_new(c->rk, brokers);
    WK_CHECK(c->mc != NULL, "mock cluster");
    snprintf(c->bootstrap, sizeof(c->bootstrap), "%s", rd_kafka_mock_cluster_bootstraps(c->mc));
}

void wk_cluster_stop(wk_cluster_t *c) {
    rd_kafka_mock_cluster_destroy(c->mc);
    rd_kafka_destroy(c->rk);
}

void wk_topic(wk_cluster_t *c, const char *topic, int partitions) {
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(c->mc, topic, partitions, 1);
    WK_CHECK(e == RD_KAFKA_RESP_ERR_NO_ERROR, "create %s: %s", topic, rd_kafka_err2str(e));
}

rd_kafka_t *wk_producer(const char *bootstrap) {
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "2", err, sizeof(err));
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    WK_CHECK(p != NULL, "%s", err);
    return p;
}

void wk_produce(rd_kafka_t *p, const char *topic, int32_t partition, const void *key, size_t klen,
                const void *val, size_t vlen, rd_kafka_headers_t *hdrs) {
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_KEY(key, klen),
            RD_KAFKA_V_VALUE((void *)val, vlen), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(p, 10);
            continue;
        }
        WK_CHECK(e == RD_KAFKA_RESP_ERR_NO_ERROR, "produce: %s", rd_kafka_err2str(e));
        return;
    }
}

void wk_flush(rd_kafka_t *p) {
    rd_kafka_resp_err_t e = rd_kafka_flush(p, 30000);
    WK_CHECK(e == RD_KAFKA_RESP_ERR_NO_ERROR, "flush: %s", rd_kafka_err2str(e));
}

size_t wk_read_all(const char *bootstrap, const char *topic, int partitions, size_t want,
                   int timeout_ms, int idle_ms, wk_record_fn fn, void *opaque) {
    return wk_read_topics(bootstrap, &topic, 1, partitions, want, timeout_ms, idle_ms, fn, opaque);
}

size_t wk_read_topics(const char *bootstrap, const char *const *topics, int n_topics,
                      int partitions, size_t want, int timeout_ms, int idle_ms, wk_record_fn fn,
                      void *opaque) {
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", "wk-verifier", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "2", err, sizeof(err));
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    WK_CHECK(c != NULL, "%s", err);
    rd_kafka_poll_set_consumer(c);
    int eofs = 0;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n_topics * partitions);
    for (int t = 0; t < n_topics; t++)
        for (int i = 0; i < partitions; i++)
            rd_kafka_topic_partition_list_add(l, topics[t], i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    partitions *= n_topics; /* every one must reach its end */
    WK_CHECK(rd_kafka_assign(c, l) == RD_KAFKA_RESP_ERR_NO_ERROR, "assign");
    rd_kafka_topic_partition_list_destroy(l);
    size_t n = 0;
    int64_t end = wk_now_ms() + timeout_ms, last = wk_now_ms();
    /* read to the end of every partition once at least `want` arrived */
    while (wk_now_ms() < end && wk_now_ms() - last < idle_ms &&
           !(n >= want && eofs >= partitions)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eofs++;
        } else if (!m->err) {
            n++;
            last = wk_now_ms();
            if (fn)
                fn(opaque, m);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return n;
}

int64_t wk_committed(const char *bootstrap, const char *group, const char *topic,
                     int32_t partition) {
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "2", err, sizeof(err));
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    WK_CHECK(c != NULL, "%s", err);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition);
    rd_kafka_resp_err_t e = rd_kafka_committed(c, l, 10000);
    WK_CHECK(e == RD_KAFKA_RESP_ERR_NO_ERROR, "committed: %s", rd_kafka_err2str(e));
    int64_t off = l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(c);
    return off;
}

int64_t wk_high_watermark(const char *bootstrap, const char *topic, int32_t partition) {
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "2", err, sizeof(err));
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    WK_CHECK(c != NULL, "%s", err);
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(c, topic, partition, &lo, &hi, 10000);
    WK_CHECK(e == RD_KAFKA_RESP_ERR_NO_ERROR, "watermarks: %s", rd_kafka_err2str(e));
    rd_kafka_destroy(c);
    return hi;
}

size_t wk_rss_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    char line[256];
    size_t kb = 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %zu kB", &kb) == 1)
            break;
    fclose(f);
    return kb * 1024;
}
