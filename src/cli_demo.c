/* `kinfer demo`: no external services. An embedded broker, the bundled MNIST
 * MLP (models/mnist_mlp.onnx) and N jobs made from the MNIST test slice
 * (models/mnist_test_images.npy, cycled) go through an in-process worker;
 * a result reader checks every answer against the label. Prints accuracy,
 * throughput, p50/p99 end-to-end latency (job produced → result read, one
 * clock) and the batch-size histogram. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "kf_broker.h"
#include "kf_cli_util.h"
#include "kf_codec.h"
#include "kf_npy.h"
#include "kf_worker.h"

#define JOBS_TOPIC "kinfer.demo.jobs"
#define RESULTS_TOPIC "kinfer.demo.results"
#define DLQ_TOPIC "kinfer.demo.dlq"
#define FEAT 784
#define SENT_HDR "kinfer.demo.sent_us"
/* the mock broker keeps ~5 MiB per partition; a job is ~3.2 KB */
#define JOBS_PER_PARTITION 1200

typedef struct demo_opts {
    int64_t jobs, partitions, seed, max_batch, delay_ms, threads;
    kf_codec_params_t codec;
    const char *model, *images, *labels;
} demo_opts_t;

static void usage(FILE *out) {
    fprintf(out,
            "usage: kinfer demo [--jobs N] [--partitions P] [--codec raw|confluent] [--seed S]\n"
            "                   [--max-batch N] [--max-queue-delay-ms D] [--threads T]\n"
            "                   [--model PATH] [--images NPY] [--labels NPY]\n"
            "\n"
            "No external services: embedded broker + the bundled MNIST MLP + N MNIST test\n"
            "jobs through a worker. Prints accuracy, throughput, p50/p99 end-to-end latency\n"
            "and the batch-size histogram.\n"
            "\n"
            "options:\n"
            "      --jobs N              jobs (default 10000; the 2,000-image slice is cycled)\n"
            "      --partitions P        partitions of the jobs topic (default 16)\n"
            "      --codec raw|confluent framing (default raw)\n"
            "      --seed S              order of the images (default 42)\n"
            "      --max-batch N         worker max batch (default 64)\n"
            "      --max-queue-delay-ms D  worker batch delay (default 2)\n"
            "      --threads T           engine threads (default 1)\n"
            "      --model PATH          default models/mnist_mlp.onnx\n"
            "      --images NPY          default models/mnist_test_images.npy\n"
            "      --labels NPY          default models/mnist_test_labels.npy\n"
            "  -h, --help                this help\n");
}

/* models/<file> under the current directory, else under the source tree the
 * binary was built from (KINFER_SOURCE_DIR at build time or in the env). */
static const char *find_model_file(const char *file, char *buf, size_t n) {
    snprintf(buf, n, "models/%s", file);
    FILE *f = fopen(buf, "rb");
    if (f) {
        fclose(f);
        return buf;
    }
    const char *src = getenv("KINFER_SOURCE_DIR");
    snprintf(buf, n, "%s/models/%s", src ? src : KINFER_SOURCE_DIR, file);
    return buf;
}

typedef struct reader {
    const char *bootstrap;
    int partitions;
    int64_t jobs;
    const uint8_t *labels;
    const int32_t *order; /* job j shows image order[j] */
    kf_codec_params_t codec;
    int64_t got, correct, errors;
    int64_t *lat_us;
    int64_t first_us, last_us;
    int failed;
    char err[320];
} reader_t;

static void *reader_main(void *arg) {
    reader_t *r = arg;
    char e[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", r->bootstrap, e, sizeof(e)) ||
        rd_kafka_conf_set(conf, "group.id", "kinfer-demo-reader", e, sizeof(e)) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", e, sizeof(e)) ||
        rd_kafka_conf_set(conf, "fetch.wait.max.ms", "5", e, sizeof(e))) {
        snprintf(r->err, sizeof(r->err), "reader: %s", e);
        rd_kafka_conf_destroy(conf);
        r->failed = 1;
        return NULL;
    }
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e));
    if (!c) {
        snprintf(r->err, sizeof(r->err), "reader: %s", e);
        rd_kafka_conf_destroy(conf);
        r->failed = 1;
        return NULL;
    }
    rd_kafka_poll_set_consumer(c);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(r->partitions);
    for (int i = 0; i < r->partitions; i++)
        rd_kafka_topic_partition_list_add(l, RESULTS_TOPIC, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c, l);
    rd_kafka_topic_partition_list_destroy(l);
    int64_t idle_since = kf_now_us();
    while (r->got < r->jobs && kf_now_us() - idle_since < 30 * 1000000LL) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m)
            continue;
        if (m->err) {
            rd_kafka_message_destroy(m);
            continue;
        }
        int64_t now = kf_now_us();
        idle_since = now;
        kf_result_t *res = NULL;
        kf_codec_error_t ce;
        if (kf_codec_decode_result(&r->codec, m->payload, m->len, &res, &ce) != KF_OK) {
            r->errors++;
            rd_kafka_message_destroy(m);
            continue;
        }
        int64_t j = res->id[0] == 'd' ? atoll(res->id + 1) : -1;
        int64_t sent = kf_cli_stamp_read(m, SENT_HDR);
        if (j >= 0 && j < r->jobs && res->status == KF_RESULT_OK && res->n_outputs == 1 &&
            res->outputs[0].nbytes == 40) {
            float logits[10];
            memcpy(logits, res->outputs[0].data, sizeof(logits));
            int best = 0;
            for (int k = 1; k < 10; k++)
                if (logits[k] > logits[best])
                    best = k;
            r->correct += best == r->labels[r->order[j]];
            if (sent > 0)
                r->lat_us[r->got] = now - sent;
            r->got++;
            r->last_us = now;
        } else {
            r->errors++;
        }
        kf_result_free(res);
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return NULL;
}

static int parse(int argc, char **argv, demo_opts_t *o) {
    static const struct option opts[] = {{"jobs", required_argument, NULL, 'j'},
                                         {"partitions", required_argument, NULL, 'p'},
                                         {"codec", required_argument, NULL, 'c'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"max-batch", required_argument, NULL, 'b'},
                                         {"max-queue-delay-ms", required_argument, NULL, 'd'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"model", required_argument, NULL, 'm'},
                                         {"images", required_argument, NULL, 'i'},
                                         {"labels", required_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int ok = 1;
        switch (c) {
        case 'j': ok = kf_cli_parse_i64(optarg, 1, 1000000, &o->jobs) == 0; break;
        case 'p': ok = kf_cli_parse_i64(optarg, 1, 1024, &o->partitions) == 0; break;
        case 's': ok = kf_cli_parse_i64(optarg, 0, INT64_MAX, &o->seed) == 0; break;
        case 'b': ok = kf_cli_parse_i64(optarg, 1, 65536, &o->max_batch) == 0; break;
        case 'd': ok = kf_cli_parse_i64(optarg, 0, 60000, &o->delay_ms) == 0; break;
        case 't': ok = kf_cli_parse_i64(optarg, 0, 256, &o->threads) == 0; break;
        case 'c':
            ok = kf_framing_parse(optarg, &o->codec.framing) == KF_OK &&
                 o->codec.framing != KF_FRAMING_AUTO;
            break;
        case 'm': o->model = optarg; break;
        case 'i': o->images = optarg; break;
        case 'l': o->labels = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (!ok) {
            fprintf(stderr, "kinfer demo: bad option value '%s'\n", optarg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kinfer demo: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (o->jobs > o->partitions * JOBS_PER_PARTITION) {
        fprintf(stderr,
                "kinfer demo: %lld jobs need --partitions >= %lld (the embedded broker keeps "
                "~5 MiB per partition)\n",
                (long long)o->jobs,
                (long long)((o->jobs + JOBS_PER_PARTITION - 1) / JOBS_PER_PARTITION));
        return 2;
    }
    return -1;
}

static int produce_jobs(const demo_opts_t *o, const char *bootstrap, const kf_npy_t *images,
                        const int32_t *order, int64_t *t0) {
    char e[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, e, sizeof(e)) ||
        rd_kafka_conf_set(conf, "linger.ms", "2", e, sizeof(e))) {
        fprintf(stderr, "kinfer demo: %s\n", e);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
    if (!p) {
        fprintf(stderr, "kinfer demo: %s\n", e);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    float x[FEAT];
    kf_buf_t buf = KF_BUF_INIT;
    int rc = 0;
    *t0 = kf_now_us();
    for (int64_t j = 0; j < o->jobs && rc == 0; j++) {
        const uint8_t *px = (const uint8_t *)images->data + (size_t)order[j] * FEAT;
        for (int k = 0; k < FEAT; k++)
            x[k] = (float)px[k] / 255.0f;
        char id[32];
        snprintf(id, sizeof(id), "d%lld", (long long)j);
        kf_tensor_view_t t;
        kf_request_t req;
        kf_cli_row_request_init(&req, &t, id, "mnist", x, FEAT);
        kf_codec_error_t ce;
        if (kf_codec_encode_request(&o->codec, &req, &buf, &ce) != KF_OK) {
            fprintf(stderr, "kinfer demo: encode: %s\n", ce.msg);
            rc = -1;
            break;
        }
        for (;;) {
            rd_kafka_resp_err_t err =
                kf_cli_stamped_produce(p, JOBS_TOPIC, (int32_t)(j % o->partitions), id, strlen(id),
                                       buf.data, buf.len, SENT_HDR);
            if (!err)
                break;
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "kinfer demo: produce: %s\n", rd_kafka_err2str(err));
                rc = -1;
                break;
            }
            rd_kafka_poll(p, 10);
        }
        rd_kafka_poll(p, 0);
    }
    if (rd_kafka_flush(p, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "kinfer demo: jobs not delivered to the embedded broker\n");
        rc = -1;
    }
    kf_buf_free(&buf);
    rd_kafka_destroy(p);
    return rc;
}

static int load_slice(const demo_opts_t *o, kf_npy_t **images, kf_npy_t **labels) {
    char b1[4096], b2[4096], e[512];
    const char *ip =
        o->images ? o->images : find_model_file("mnist_test_images.npy", b1, sizeof(b1));
    const char *lp =
        o->labels ? o->labels : find_model_file("mnist_test_labels.npy", b2, sizeof(b2));
    if (kf_npy_load_file(ip, 64u << 20, images, e, sizeof(e)) != KF_OK ||
        kf_npy_load_file(lp, 1u << 20, labels, e, sizeof(e)) != KF_OK) {
        fprintf(stderr, "kinfer demo: %s\n", e);
        return -1;
    }
    if ((*images)->dtype != KF_DTYPE_UINT8 || (*images)->rank != 2 || (*images)->shape[1] != FEAT ||
        (*labels)->dtype != KF_DTYPE_UINT8 || (*labels)->rank != 1 ||
        (*labels)->shape[0] != (*images)->shape[0] || (*images)->shape[0] < 1) {
        fprintf(stderr,
                "kinfer demo: %s / %s: expected uint8 [K,784] images and uint8 [K] "
                "labels\n",
                ip, lp);
        return -1;
    }
    return 0;
}

int kf_cli_demo(int argc, char **argv) {
    demo_opts_t o;
    memset(&o, 0, sizeof(o));
    o.jobs = 10000;
    o.partitions = 16;
    o.seed = 42;
    o.max_batch = 64;
    o.delay_ms = 2;
    o.threads = 1;
    o.codec = kf_codec_default_params();
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    rc = 1;
    kf_npy_t *images = NULL, *labels = NULL;
    kf_broker_t *broker = NULL;
    kf_worker_t *w = NULL;
    int32_t *order = NULL;
    reader_t r;
    memset(&r, 0, sizeof(r));
    kf_log_params_t lpar = kf_log_default_params();
    lpar.level = KF_LOG_WARN;
    kf_logger_t *log = kf_logger_new(&lpar);
    char e[512], mbuf[4096];
    const char *model = o.model ? o.model : find_model_file("mnist_mlp.onnx", mbuf, sizeof(mbuf));
    if (load_slice(&o, &images, &labels) != 0)
        goto out;
    order = malloc(sizeof(int32_t) * (size_t)o.jobs);
    r.lat_us = calloc((size_t)o.jobs, sizeof(int64_t));
    if (!order || !r.lat_us)
        goto out;
    kf_rng_t rng;
    kf_rng_seed(&rng, (uint64_t)o.seed);
    for (int64_t j = 0; j < o.jobs; j++)
        order[j] = (int32_t)(kf_rng_next(&rng) % (uint64_t)images->shape[0]);

    kf_broker_params_t bp = kf_broker_default_params();
    bp.logger = log;
    broker = kf_broker_new(&bp, e, sizeof(e));
    if (!broker || kf_broker_topic_create(broker, JOBS_TOPIC, (int)o.partitions, e, sizeof(e)) ||
        kf_broker_topic_create(broker, RESULTS_TOPIC, (int)o.partitions, e, sizeof(e)) ||
        kf_broker_topic_create(broker, DLQ_TOPIC, 1, e, sizeof(e))) {
        fprintf(stderr, "kinfer demo: broker: %s\n", e);
        goto out;
    }
    const char *bs = kf_broker_bootstrap(broker);
    static const char *const topics[] = {JOBS_TOPIC, NULL};
    static const char *const kv[] = {"session.timeout.ms", "6000", "log_level", "3", NULL};
    kf_worker_params_t wp = kf_worker_default_params();
    wp.bootstrap = bs;
    wp.group = "kinfer-demo";
    wp.topics = topics;
    wp.output_topic = RESULTS_TOPIC;
    wp.dlq_topic = DLQ_TOPIC;
    wp.kafka_kv = kv;
    wp.codec = o.codec;
    wp.max_batch = (size_t)o.max_batch;
    wp.max_queue_delay_ms = (int)o.delay_ms;
    wp.threads = (int)o.threads;
    wp.log = log;
    w = kf_worker_new(&wp, e, sizeof(e));
    if (!w || kf_worker_load_model(w, "mnist", "1", model, e, sizeof(e)) != KF_OK ||
        kf_worker_start(w, e, sizeof(e)) != KF_OK) {
        fprintf(stderr, "kinfer demo: %s\n", e);
        goto out;
    }
    printf("kinfer demo: embedded broker %s, model %s, %lld jobs over %lld partitions\n", bs, model,
           (long long)o.jobs, (long long)o.partitions);
    r.bootstrap = bs;
    r.partitions = (int)o.partitions;
    r.jobs = o.jobs;
    r.labels = labels->data;
    r.order = order;
    r.codec = o.codec;
    pthread_t th; /* the reader starts now: its first fetch is not a job's latency */
    if (pthread_create(&th, NULL, reader_main, &r) != 0)
        goto out;
    printf("waiting for the worker to join its group...\n");
    fflush(stdout);
    int64_t join_end = kf_now_us() + 30 * 1000000LL;
    while (kf_worker_stats(w).assigned == 0 && kf_now_us() < join_end) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    int64_t t0 = 0;
    int prc = produce_jobs(&o, bs, images, order, &t0);
    pthread_join(th, NULL);
    if (prc != 0)
        goto out;
    if (r.failed) {
        fprintf(stderr, "kinfer demo: %s\n", r.err);
        goto out;
    }
    kf_worker_stop(w);
    kf_worker_wait(w, 30000);
    kf_worker_stats_t s = kf_worker_stats(w);
    qsort(r.lat_us, (size_t)r.got, sizeof(int64_t), kf_cli_cmp_i64);
    double secs = (double)(r.last_us - t0) / 1e6;
    printf("answered     %lld/%lld jobs (%lld errors)\n", (long long)r.got, (long long)o.jobs,
           (long long)r.errors);
    printf("accuracy     %.2f%% (%lld/%lld correct)\n",
           r.got ? 100.0 * (double)r.correct / (double)r.got : 0.0, (long long)r.correct,
           (long long)r.got);
    printf("throughput   %.0f jobs/s (first job produced -> last result read: %.2f s)\n",
           secs > 0 ? (double)r.got / secs : 0.0, secs);
    if (r.got > 0)
        printf("latency      p50 %.2f ms, p99 %.2f ms, max %.2f ms (end to end; all jobs "
               "sent at once, so this includes the backlog)\n",
               (double)r.lat_us[r.got / 2] / 1000.0, (double)r.lat_us[(r.got * 99) / 100] / 1000.0,
               (double)r.lat_us[r.got - 1] / 1000.0);
    printf("batches      %llu, mean %.1f rows (max_batch %lld, max_queue_delay %lld ms)\n",
           (unsigned long long)s.batches,
           s.batches ? (double)s.batch_rows / (double)s.batches : 0.0, (long long)o.max_batch,
           (long long)o.delay_ms);
    printf("batch sizes ");
    for (int i = 0; i < KF_WORKER_HIST; i++)
        if (s.batch_hist[i])
            printf(" %s:%llu", kf_worker_hist_label(i), (unsigned long long)s.batch_hist[i]);
    printf("\n");
    rc = r.got == o.jobs && r.errors == 0 ? 0 : 1;
out:
    kf_worker_free(w);
    kf_broker_free(broker);
    kf_npy_free(images);
    kf_npy_free(labels);
    free(order);
    free(r.lat_us);
    kf_logger_free(log);
    return rc;
}
