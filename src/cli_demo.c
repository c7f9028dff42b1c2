/* `kinfer demo` (stage 1): no external services. Starts an in-process
 * embedded broker, produces N random MNIST-shaped jobs, consumes them back,
 * decodes every one and checks it byte for byte against what was sent.
 * (The worker stage replaces this with jobs -> worker -> results.) */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kf_broker.h"
#include "kf_cli_util.h"
#include "kf_codec.h"
#include "kf_job_producer.h"

#define DEMO_TOPIC "kinfer.demo.jobs"
#define DEMO_FEATURES 784
/* The mock cluster keeps only ~5 MiB per partition and silently trims older
 * data: stay below 4 MiB of jobs per partition. */
#define DEMO_JOB_BYTES 3200
#define DEMO_PARTITION_BYTES (4 << 20)
#define DEMO_MAX_PARTITIONS 256

typedef struct demo_opts {
    int64_t jobs, partitions, seed;
    kf_codec_params_t codec;
} demo_opts_t;

static void usage(FILE *out) {
    fprintf(out, "usage: kinfer demo [--jobs N] [--partitions P] [--codec raw|confluent] "
                 "[--seed S]\n"
                 "\n"
                 "Stage-1 demo, no external services: embedded broker, N random jobs\n"
                 "(input:float32:1x784) produced and consumed back, each checked byte for byte.\n"
                 "\n"
                 "options:\n"
                 "      --jobs N              jobs to send (default 1000)\n"
                 "      --partitions P        partitions of the jobs topic (default: 4, or more\n"
                 "                            to keep each under 4 MiB, the mock's limit)\n"
                 "      --codec raw|confluent framing (default raw)\n"
                 "      --seed S              random seed (default 42)\n"
                 "  -h, --help                this help\n");
}

/* Job j's tensor is a pure function of (seed, j), so the checker can
 * regenerate it instead of keeping copies. */
static void job_data(int64_t seed, int64_t j, float *x) {
    kf_rng_t r;
    kf_rng_seed(&r, (uint64_t)seed * 1000003u + (uint64_t)j + 1);
    kf_random_fill(&r, KF_DTYPE_FLOAT32, x, DEMO_FEATURES * sizeof(float));
}

static int produce_jobs(const demo_opts_t *o, const char *bootstrap, double *secs) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err)) ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err))) {
        fprintf(stderr, "kinfer demo: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    kf_job_producer_params_t pp = kf_job_producer_default_params();
    pp.topic = DEMO_TOPIC;
    pp.codec = o->codec;
    kf_job_producer_t *p = kf_job_producer_new(&pp, conf, err, sizeof(err));
    if (!p) {
        fprintf(stderr, "kinfer demo: %s\n", err);
        return -1;
    }
    float x[DEMO_FEATURES];
    kf_tensor_view_t in = {.name = "input",
                           .dtype = KF_DTYPE_FLOAT32,
                           .rank = 2,
                           .shape = {1, DEMO_FEATURES},
                           .data = x,
                           .nbytes = sizeof(x)};
    kf_kv_t meta = {"source", "kinfer demo"};
    int rc = 0;
    int64_t t0 = kf_now_us();
    for (int64_t j = 0; j < o->jobs && rc == 0; j++) {
        char id[64];
        snprintf(id, sizeof(id), "demo-%lld", (long long)j);
        job_data(o->seed, j, x);
        kf_request_t req = {.id = id,
                            .model = "mnist",
                            .inputs = &in,
                            .n_inputs = 1,
                            .metadata = &meta,
                            .n_metadata = 1};
        if (kf_job_producer_send(p, &req, id, strlen(id), err, sizeof(err)) != KF_OK) {
            fprintf(stderr, "kinfer demo: %s\n", err);
            rc = -1;
        }
    }
    if (rc == 0 && kf_job_producer_flush(p, 30000, err, sizeof(err)) != KF_OK) {
        fprintf(stderr, "kinfer demo: %s\n", err);
        rc = -1;
    }
    *secs = (double)(kf_now_us() - t0) / 1e6;
    kf_job_producer_free(p);
    return rc;
}

/* Checks one decoded job against its regenerated tensor; returns its index
 * or -1 with a message. */
static int64_t check_job(const demo_opts_t *o, const kf_request_t *req) {
    long long j = -1;
    char tail;
    if (sscanf(req->id, "demo-%lld%c", &j, &tail) != 1 || j < 0 || j >= o->jobs) {
        fprintf(stderr, "kinfer demo: unexpected job id '%s'\n", req->id);
        return -1;
    }
    float want[DEMO_FEATURES];
    job_data(o->seed, j, want);
    const kf_tensor_view_t *t = req->n_inputs == 1 ? &req->inputs[0] : NULL;
    if (strcmp(req->model, "mnist") != 0 || !t || strcmp(t->name, "input") != 0 ||
        t->dtype != KF_DTYPE_FLOAT32 || t->rank != 2 || t->shape[0] != 1 ||
        t->shape[1] != DEMO_FEATURES || t->nbytes != sizeof(want) ||
        memcmp(t->data, want, sizeof(want)) != 0 || req->n_metadata != 1 ||
        strcmp(req->metadata[0].value, "kinfer demo") != 0) {
        fprintf(stderr, "kinfer demo: job '%s' differs from what was sent\n", req->id);
        return -1;
    }
    return (int64_t)j;
}

static int consume_and_check(const demo_opts_t *o, const char *bootstrap, double *secs,
                             int64_t *ok) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err)) ||
        rd_kafka_conf_set(conf, "group.id", "kinfer-demo", err, sizeof(err)) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err))) {
        fprintf(stderr, "kinfer demo: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "kinfer demo: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)o->partitions);
    for (int p = 0; p < o->partitions; p++)
        rd_kafka_topic_partition_list_add(l, DEMO_TOPIC, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    unsigned char *seen = calloc((size_t)o->jobs, 1);
    int rc = (e || !seen) ? -1 : 0;
    if (e)
        fprintf(stderr, "kinfer demo: assign: %s\n", rd_kafka_err2str(e));
    int64_t t0 = kf_now_us(), last = t0;
    *ok = 0;
    while (rc == 0 && *ok < o->jobs) {
        if (kf_now_us() - last > 10000000) {
            fprintf(stderr, "kinfer demo: only %lld of %lld jobs came back\n", (long long)*ok,
                    (long long)o->jobs);
            rc = -1;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "kinfer demo: consume: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        last = kf_now_us();
        kf_request_t *req = NULL;
        kf_codec_error_t cerr;
        memset(&cerr, 0, sizeof(cerr));
        if (kf_codec_decode_request(&o->codec, m->payload, m->len, &req, &cerr) != KF_OK) {
            fprintf(stderr, "kinfer demo: offset %lld: %s\n", (long long)m->offset, cerr.msg);
            rc = -1;
        } else {
            int64_t j = check_job(o, req);
            if (j < 0 || seen[j]) {
                if (j >= 0)
                    fprintf(stderr, "kinfer demo: job '%s' arrived twice\n", req->id);
                rc = -1;
            } else {
                seen[j] = 1;
                (*ok)++;
            }
        }
        kf_request_free(req);
        rd_kafka_message_destroy(m);
    }
    *secs = (double)(kf_now_us() - t0) / 1e6;
    free(seen);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

int kf_cli_demo(int argc, char **argv) {
    enum { O_JOBS = 256, O_PARTS, O_CODEC, O_SEED };
    static const struct option opts[] = {{"jobs", required_argument, NULL, O_JOBS},
                                         {"partitions", required_argument, NULL, O_PARTS},
                                         {"codec", required_argument, NULL, O_CODEC},
                                         {"seed", required_argument, NULL, O_SEED},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    demo_opts_t o = {.jobs = 1000, .partitions = 0, .seed = 42, .codec = kf_codec_default_params()};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_JOBS: bad = kf_cli_parse_i64(optarg, 1, 10000000, &o.jobs); break;
        case O_PARTS: bad = kf_cli_parse_i64(optarg, 1, 256, &o.partitions); break;
        case O_SEED: bad = kf_cli_parse_i64(optarg, 0, INT64_MAX / 2000000, &o.seed); break;
        case O_CODEC:
            bad = kf_framing_parse(optarg, &o.codec.framing) != KF_OK ||
                  o.codec.framing == KF_FRAMING_AUTO;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (bad) {
            fprintf(stderr, "kinfer demo: bad value '%s' (see kinfer demo --help)\n", optarg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kinfer demo: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    int64_t per_part = DEMO_PARTITION_BYTES / DEMO_JOB_BYTES;
    int64_t need = (o.jobs + per_part - 1) / per_part;
    if (need > DEMO_MAX_PARTITIONS) {
        fprintf(stderr,
                "kinfer demo: --jobs %lld needs more than %d partitions of the embedded "
                "broker (at most %lld jobs)\n",
                (long long)o.jobs, DEMO_MAX_PARTITIONS,
                (long long)(per_part * DEMO_MAX_PARTITIONS));
        return 2;
    }
    if (o.partitions == 0)
        o.partitions = need > 4 ? need : 4;
    if (o.partitions < need) {
        fprintf(stderr,
                "kinfer demo: --jobs %lld needs --partitions >= %lld (the embedded "
                "broker keeps ~5 MiB per partition)\n",
                (long long)o.jobs, (long long)need);
        return 2;
    }
    char err[512];
    kf_broker_t *b = kf_broker_new(NULL, err, sizeof(err));
    if (!b) {
        fprintf(stderr, "kinfer demo: broker: %s\n", err);
        return 1;
    }
    int rc = 1;
    double psecs = 0, csecs = 0;
    int64_t ok = 0;
    if (kf_broker_topic_create(b, DEMO_TOPIC, (int)o.partitions, err, sizeof(err)) != KF_OK)
        fprintf(stderr, "kinfer demo: %s\n", err);
    else if (produce_jobs(&o, kf_broker_bootstrap(b), &psecs) == 0 &&
             consume_and_check(&o, kf_broker_bootstrap(b), &csecs, &ok) == 0)
        rc = 0;
    printf("kinfer demo (stage 1: broker + produce + consume, no worker yet)\n"
           "  broker      embedded, %s, topic %s with %lld partitions\n"
           "  produced    %lld jobs (input float32 1x784, %s framing) in %.3f s (%.0f jobs/s)\n"
           "  consumed    %lld jobs back in %.3f s, %s\n",
           kf_broker_bootstrap(b), DEMO_TOPIC, (long long)o.partitions, (long long)o.jobs,
           kf_framing_name(o.codec.framing), psecs, psecs > 0 ? (double)o.jobs / psecs : 0.0,
           (long long)ok, csecs, rc == 0 ? "every tensor byte-identical" : "FAILED (see stderr)");
    kf_broker_free(b);
    return rc;
}
