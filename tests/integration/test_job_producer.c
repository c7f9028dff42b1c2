/* kf_job_producer against the in-process mock cluster (kf_broker) with
 * injected broker errors: retriable Produce errors are retried and every
 * job arrives exactly once (idempotent producer), decodable and intact; a
 * broker that stays down makes every delivery fail, and _flush says how many. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kf_broker.h"
#include "kf_cli_util.h"
#include "kf_codec.h"
#include "kf_job_producer.h"

#define N_JOBS 200
#define API_PRODUCE 0 /* Kafka protocol ApiKey of Produce */

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static rd_kafka_conf_t *conf_for(const char *bootstrap, const char *timeout_ms) {
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char err[256];
    CHECK(rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof(err)) == 0, "%s", err);
    CHECK(rd_kafka_conf_set(c, "enable.idempotence", "true", err, sizeof(err)) == 0, "%s", err);
    CHECK(rd_kafka_conf_set(c, "message.timeout.ms", timeout_ms, err, sizeof(err)) == 0, "%s", err);
    CHECK(rd_kafka_conf_set(c, "log_level", "0", err, sizeof(err)) == 0, "%s", err);
    return c;
}

static void fill(int j, float *x, size_t n) {
    kf_rng_t r;
    kf_rng_seed(&r, (uint64_t)j + 100);
    kf_random_fill(&r, KF_DTYPE_FLOAT32, x, n * sizeof(float));
}

static void send_jobs(kf_job_producer_t *p, int n, int first) {
    float x[32];
    char err[512];
    for (int j = first; j < first + n; j++) {
        fill(j, x, 32);
        kf_tensor_view_t t = {.name = "x",
                              .dtype = KF_DTYPE_FLOAT32,
                              .rank = 2,
                              .shape = {2, 16},
                              .data = x,
                              .nbytes = sizeof(x)};
        char id[32];
        snprintf(id, sizeof(id), "j%d", j);
        kf_request_t req = {.id = id, .model = "m", .inputs = &t, .n_inputs = 1};
        CHECK(kf_job_producer_send(p, &req, id, strlen(id), err, sizeof(err)) == KF_OK, "%s", err);
    }
}

static void consume_all(const char *bootstrap, const char *topic) {
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    CHECK(rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof(err)) == 0, "%s", err);
    CHECK(rd_kafka_conf_set(c, "group.id", "t", err, sizeof(err)) == 0, "%s", err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
    CHECK(rk, "%s", err);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
    for (int p = 0; p < 2; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    CHECK(rd_kafka_assign(rk, l) == 0, "assign");
    rd_kafka_topic_partition_list_destroy(l);
    int seen[N_JOBS] = {0}, got = 0;
    int64_t deadline = kf_now_us() + 20000000;
    kf_codec_params_t cp = kf_codec_default_params();
    while (got < N_JOBS && kf_now_us() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (!m->err) {
            kf_request_t *req = NULL;
            kf_codec_error_t ce;
            CHECK(kf_codec_decode_request(&cp, m->payload, m->len, &req, &ce) == KF_OK, "%s",
                  ce.msg);
            int j = atoi(req->id + 1);
            CHECK(j >= 0 && j < N_JOBS && !seen[j], "job %s unexpected or duplicated", req->id);
            seen[j] = 1;
            float want[32];
            fill(j, want, 32);
            CHECK(req->inputs[0].nbytes == sizeof(want) &&
                      !memcmp(req->inputs[0].data, want, sizeof(want)),
                  "job %s data differs", req->id);
            got++;
            kf_request_free(req);
        }
        rd_kafka_message_destroy(m);
    }
    CHECK(got == N_JOBS, "consumed %d of %d", got, N_JOBS);
    /* nothing beyond N_JOBS (no duplicates from retries) */
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
    CHECK(!m || m->err, "extra record after %d jobs", N_JOBS);
    if (m)
        rd_kafka_message_destroy(m);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

int main(void) {
    char err[512];
    kf_broker_params_t bp = kf_broker_default_params();
    bp.brokers = 1;
    kf_broker_t *b = kf_broker_new(&bp, err, sizeof(err));
    CHECK(b, "%s", err);
    CHECK(kf_broker_topic_create(b, "jobs", 2, err, sizeof(err)) == KF_OK, "%s", err);
    CHECK(kf_broker_topic_create(b, "bad name!", 1, err, sizeof(err)) == KF_ERR_INVALID_ARG &&
              strstr(err, "bad name!"),
          "bad topic name accepted");
    CHECK(kf_broker_topic_create_spec(b, "x:0", err, sizeof(err)) == KF_ERR_INVALID_ARG,
          "x:0 accepted");

    /* 1. retriable errors on the first Produce requests: retried, no loss,
     *    no duplicates */
    rd_kafka_mock_push_request_errors(
        kf_broker_mock(b), API_PRODUCE, 4, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
    kf_job_producer_params_t pp = kf_job_producer_default_params();
    pp.topic = "jobs";
    kf_job_producer_t *p =
        kf_job_producer_new(&pp, conf_for(kf_broker_bootstrap(b), "20000"), err, sizeof(err));
    CHECK(p, "%s", err);
    send_jobs(p, N_JOBS, 0);
    CHECK(kf_job_producer_flush(p, 30000, err, sizeof(err)) == KF_OK, "flush: %s", err);
    kf_job_producer_stats_t s = kf_job_producer_stats(p);
    CHECK(s.sent == N_JOBS && s.delivered == N_JOBS && s.failed == 0,
          "sent %llu delivered %llu failed %llu", (unsigned long long)s.sent,
          (unsigned long long)s.delivered, (unsigned long long)s.failed);
    kf_job_producer_free(p);
    consume_all(kf_broker_bootstrap(b), "jobs");

    /* 2. the broker stays down: every delivery fails and flush counts them */
    CHECK(rd_kafka_mock_broker_set_down(kf_broker_mock(b), 1) == 0, "set_down");
    p = kf_job_producer_new(&pp, conf_for(kf_broker_bootstrap(b), "1500"), err, sizeof(err));
    CHECK(p, "%s", err);
    send_jobs(p, 5, 0);
    kf_status_t st = kf_job_producer_flush(p, 10000, err, sizeof(err));
    CHECK(st == KF_ERR_KAFKA && strstr(err, "5 of 5 message(s) failed"), "flush: %d %s", st, err);
    kf_job_producer_free(p);
    CHECK(rd_kafka_mock_broker_set_up(kf_broker_mock(b), 1) == 0, "set_up");

    /* 3. a request that does not encode is refused before librdkafka */
    p = kf_job_producer_new(&pp, conf_for(kf_broker_bootstrap(b), "5000"), err, sizeof(err));
    CHECK(p, "%s", err);
    float x[3] = {0};
    kf_tensor_view_t t = {.name = "x",
                          .dtype = KF_DTYPE_FLOAT32,
                          .rank = 1,
                          .shape = {4},
                          .data = x,
                          .nbytes = sizeof(x)};
    kf_request_t bad = {.id = "bad", .model = "m", .inputs = &t, .n_inputs = 1};
    st = kf_job_producer_send(p, &bad, NULL, 0, err, sizeof(err));
    CHECK(st != KF_OK && strstr(err, "bad"), "bad request accepted: %s", err);
    CHECK(kf_job_producer_stats(p).sent == 0, "bad request counted as sent");
    kf_job_producer_free(p);
    kf_job_producer_free(NULL);
    kf_broker_free(b);
    kf_broker_free(NULL);
    printf("job producer: ok\n");
    return 0;
}
