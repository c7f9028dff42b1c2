/* Integration: consumer lag from real librdkafka statistics.
 *
 * An in-process librdkafka mock cluster holds topic "jobs" (2 partitions).
 * We produce 30 records to partition 0 and 12 to partition 1, then a
 * consumer (statistics.interval.ms=200) assigned both partitions consumes
 * exactly 10 records of partition 0, commits them and pauses. Its stats
 * documents go through kf_wmetrics_rdkafka_stats; the test waits until the
 * rendered kinfer_consumer_lag shows partition 0 = 20 (fails after 30 s).
 * Every document must parse. With an argument, the last statistics document is written
 * to that path (used to seed the fuzz corpus). */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kf_worker_metrics.h"

typedef struct ctx {
    kf_wmetrics_t *wm;
    char *last;
    size_t last_len;
    int bad;
} ctx_t;

static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
    (void)rk;
    ctx_t *c = opaque;
    if (kf_wmetrics_rdkafka_stats(c->wm, json, len) != KF_OK)
        c->bad++;
    char *copy = malloc(len);
    if (copy) {
        memcpy(copy, json, len);
        free(c->last);
        c->last = copy;
        c->last_len = len;
    }
    return 0; /* librdkafka frees json */
}

static int fail(const char *what) {
    fprintf(stderr, "lag_rdkafka: %s\n", what);
    return 1;
}

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v) {
    char err[256];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "lag_rdkafka: %s=%s: %s\n", k, v, err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    char err[512];
    ctx_t c = {0};
    kf_metrics_t *reg = kf_metrics_new();
    c.wm = reg ? kf_wmetrics_new(reg, err, sizeof(err)) : NULL;
    if (!c.wm)
        return fail("metrics setup failed");

    /* mock cluster owned by a producer handle */
    rd_kafka_conf_t *pconf = rd_kafka_conf_new();
    if (conf_set(pconf, "test.mock.num.brokers", "1") || conf_set(pconf, "linger.ms", "0"))
        return 1;
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof(err));
    if (!p)
        return fail(err);
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(p);
    if (!mc || rd_kafka_mock_topic_create(mc, "jobs", 2, 1) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return fail("mock topic create failed");
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    for (int i = 0; i < 42; i++) {
        int32_t part = i < 30 ? 0 : 1;
        rd_kafka_resp_err_t e = rd_kafka_producev(
            p, RD_KAFKA_V_TOPIC("jobs"), RD_KAFKA_V_PARTITION(part), RD_KAFKA_V_VALUE("x", 1),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e)
            return fail(rd_kafka_err2str(e));
    }
    if (rd_kafka_flush(p, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return fail("flush timed out");

    rd_kafka_conf_t *cconf = rd_kafka_conf_new();
    if (conf_set(cconf, "bootstrap.servers", bootstrap) || conf_set(cconf, "group.id", "lag") ||
        conf_set(cconf, "enable.auto.commit", "false") ||
        conf_set(cconf, "auto.offset.reset", "earliest") ||
        conf_set(cconf, "statistics.interval.ms", "200"))
        return 1;
    rd_kafka_conf_set_stats_cb(cconf, stats_cb);
    rd_kafka_conf_set_opaque(cconf, &c);
    rd_kafka_t *k = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, err, sizeof(err));
    if (!k)
        return fail(err);
    rd_kafka_poll_set_consumer(k);
    rd_kafka_topic_partition_list_t *as = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(as, "jobs", 0)->offset = 0;
    /* partition 1: assigned at its end, never consumed from */
    rd_kafka_topic_partition_list_add(as, "jobs", 1)->offset = RD_KAFKA_OFFSET_END;
    if (rd_kafka_assign(k, as) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return fail("assign failed");

    int got = 0, ok = 0;
    time_t start = time(NULL);
    while (time(NULL) - start < 30 && !ok) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k, 100);
        if (m) {
            if (!m->err && m->partition == 0 && got < 10) {
                got++;
                if (got == 10) {
                    rd_kafka_topic_partition_list_t *off = rd_kafka_topic_partition_list_new(1);
                    rd_kafka_topic_partition_list_add(off, "jobs", 0)->offset = m->offset + 1;
                    if (rd_kafka_commit(k, off, 0) != RD_KAFKA_RESP_ERR_NO_ERROR)
                        return fail("commit failed");
                    rd_kafka_topic_partition_list_destroy(off);
                    /* stop fetching so the lag stays at 20 */
                    rd_kafka_topic_partition_list_t *pp = rd_kafka_topic_partition_list_new(1);
                    rd_kafka_topic_partition_list_add(pp, "jobs", 0);
                    rd_kafka_pause_partitions(k, pp);
                    rd_kafka_topic_partition_list_destroy(pp);
                }
            }
            rd_kafka_message_destroy(m);
        }
        if (got < 10)
            continue;
        char *s = NULL;
        size_t n;
        if (kf_metrics_render(reg, &s, &n) != KF_OK)
            return fail("render failed");
        ok = strstr(s, "kinfer_consumer_lag{topic=\"jobs\",partition=\"0\"} 20\n") != NULL;
        if (ok || time(NULL) - start >= 29)
            fprintf(stderr, "%s", s);
        free(s);
    }
    if (argc > 1 && c.last) {
        FILE *f = fopen(argv[1], "wb");
        if (f) {
            fwrite(c.last, 1, c.last_len, f);
            fclose(f);
        }
    }
    rd_kafka_topic_partition_list_destroy(as);
    rd_kafka_consumer_close(k);
    rd_kafka_destroy(k);
    rd_kafka_destroy(p);
    free(c.last);
    kf_wmetrics_free(c.wm);
    kf_metrics_free(reg);
    if (c.bad)
        return fail("a statistics document did not parse");
    if (!ok)
        return fail("kinfer_consumer_lag for jobs/0 never reached 20");
    printf("lag_rdkafka: consumer lag jobs/0 = 20 from librdkafka statistics\n");
    return 0;
}
