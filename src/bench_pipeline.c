/* `kinfer bench pipeline`: the worker beside its ceiling, in one run, on an
 * embedded broker. JSON lines on stdout:
 *   (a) passthrough: kf_consumer → kf_result_producer with the worker's own
 *       client settings (group, manual commits, idempotent acks=all
 *       producer), each message produced unchanged: the ceiling, at 200-byte
 *       and ~3 KiB messages;
 *   (b) the worker with identity16 (one row, ~200-byte jobs);
 *   (c) the worker with the MNIST MLP (one row, ~3.2 KB jobs).
 * Each case, on fresh topics and a fresh pipeline per phase:
 *   1. peak msg/s over a pre-produced backlog (the ratios b/a(200 B) and
 *      c/a(3 KiB) compare these);
 *   2. the end-to-end peak: msg/s read at the end while the load generator
 *      produces flat out beside the pipeline (on a small machine the
 *      generator, mock broker and reader share the pipeline's cores, so
 *      this is what the machine carries end to end);
 *   3. latency with jobs offered at --load-percent (50) of the end-to-end
 *      peak: end to end (produce → result read, one clock) and, for the
 *      worker, inside it, split into its parts. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "kf_broker.h"
#include "kf_cli_util.h"
#include "kf_codec.h"
#include "kf_consumer.h"
#include "kf_offsets.h"
#include "kf_result_producer.h"
#include "kf_worker.h"

#define SENT_HDR "kinfer.bench.sent_us"

typedef struct bcase {
    const char *name;
    const char *model; /* NULL = passthrough */
    int feat;          /* floats per row of the job */
    size_t pad;        /* passthrough message bytes */
} bcase_t;

typedef struct bench {
    kf_broker_t *broker;
    const char *bs;
    int partitions;
    int64_t backlog;
    double load_s;
    int load_pct; /* latency phase: offered load in % of the measured peak */
    int threads;
    kf_logger_t *log;
    int round;
    const char *kv[2 * 32 + 5];     /* client settings of every pipeline under test */
    const char *kv_lat[2 * 32 + 7]; /* the same for the latency phases (fetch_wait) */
    const char *const *cur_kv;      /* kv or kv_lat */
    const char *only;               /* run only the cases whose name contains this */
    size_t high_mark, low_mark;     /* in-flight pause/resume marks of every pipeline */
    int delay_ms;                   /* the worker's max_queue_delay_ms */
    int64_t max_batch;              /* the worker's max_batch */
    int peak_runs;                  /* backlog runs per case (median taken) */
    const char *fetch_wait;         /* fetch.wait.max.ms of the latency phases' consumers */
} bench_t;

/* ---- passthrough pipeline ---------------------------------------------------- */

typedef struct pass {
    kf_offsets_t *offs;
    kf_result_producer_t *rp;
    kf_consumer_t *c;
    const char *out;
} pass_t;

static void pass_on_msg(void *opaque, rd_kafka_message_t *m) {
    pass_t *p = opaque;
    rd_kafka_headers_t *h = NULL;
    rd_kafka_message_headers(m, &h);
    kf_origin_t o = {rd_kafka_topic_name(m->rkt), m->partition, m->offset};
    kf_result_producer_send(p->rp, p->out, m->key, m->key_len, m->payload, m->len, h, &o);
    rd_kafka_message_destroy(m);
}

/* ---- one pipeline under test ------------------------------------------------------ */

/* In-worker latencies (kf_worker_params.on_job), latency phase only; one
 * engine thread calls on_job. Per job: */
enum { R_LAT, R_QUEUE, R_COMPUTE, R_HANDBACK, R_PRE, R_SERVICE, R_N };
static const char *const rec_names[R_N] = {
    "latency",  /* consumed -> result handed to the producer */
    "queue",    /* queued -> its batch started */
    "compute",  /* its batch's copy + run */
    "handback", /* its batch's compute ended -> its own result handed over */
    "pre",      /* consumed -> queued (decode, validate, route) */
    "service",  /* its batch's compute + whole hand-back (encode + produce of
                 * every job of the batch): how long the batch held the engine */
};
typedef struct jobrec {
    long n, cap, n_service;
    int64_t *v[R_N];
} jobrec_t;

static void on_job(void *user, const kf_worker_job_info_t *ji) {
    jobrec_t *r = user;
    if (r->n < r->cap) {
        long i = r->n++;
        r->v[R_LAT][i] = ji->latency_us;
        r->v[R_QUEUE][i] = ji->queue_us;
        r->v[R_COMPUTE][i] = ji->compute_us;
        r->v[R_HANDBACK][i] = ji->handback_us;
        r->v[R_PRE][i] = ji->latency_us - ji->queue_us - ji->compute_us - ji->handback_us;
    }
    /* the batch's last job closes its service time, counted once per job of
     * the batch (job-weighted, like the other percentiles) */
    if (ji->job_index + 1 == ji->batch_jobs)
        for (size_t k = 0; k < ji->batch_jobs && r->n_service < r->cap; k++)
            r->v[R_SERVICE][r->n_service++] = ji->compute_us + ji->handback_us;
}

typedef struct pipe {
    pass_t pass;
    kf_worker_t *w;
} pipe_t;

/* Starts the pipeline under test. */
static int pipe_start(bench_t *b, const bcase_t *bc, const char *in, const char *out, pipe_t *p,
                      jobrec_t *rec) {
    char e[512];
    const char *topics[] = {in, NULL};
    char group[64];
    snprintf(group, sizeof(group), "bench-%d", b->round);
    memset(p, 0, sizeof(*p));
    if (!bc->model) {
        p->pass.out = out;
        p->pass.offs = kf_offsets_new();
        kf_result_producer_params_t rp = kf_result_producer_default_params();
        rp.bootstrap = b->bs;
        rp.dlq_topic = "bench.dlq";
        rp.kafka_kv = b->cur_kv;
        rp.offsets = p->pass.offs;
        rp.log = b->log;
        p->pass.rp = kf_result_producer_new(&rp, e, sizeof(e));
        const char *outs[] = {out, rp.dlq_topic, NULL}; /* as kf_worker_start does */
        if (!p->pass.rp || kf_result_producer_warm(p->pass.rp, outs, 5000, e, sizeof(e)) != KF_OK)
            goto fail;
        kf_consumer_params_t cp = kf_consumer_default_params();
        cp.bootstrap = b->bs;
        cp.group = group;
        cp.topics = topics; /* copied by the consumer's subscribe */
        cp.kafka_kv = b->cur_kv;
        cp.offsets = p->pass.offs;
        cp.log = b->log;
        cp.high_mark = b->high_mark; /* the worker's defaults */
        cp.low_mark = b->low_mark;
        cp.on_msg = pass_on_msg;
        cp.opaque = &p->pass;
        p->pass.c = kf_consumer_new(&cp, e, sizeof(e));
        if (!p->pass.c)
            goto fail;
        return 0;
    }
    kf_worker_params_t wp = kf_worker_default_params();
    wp.bootstrap = b->bs;
    wp.group = group;
    wp.topics = topics;
    wp.output_topic = out;
    wp.dlq_topic = "bench.dlq";
    wp.kafka_kv = b->cur_kv;
    wp.threads = b->threads;
    wp.high_mark = b->high_mark;
    wp.low_mark = b->low_mark;
    wp.max_batch = (size_t)b->max_batch;
    wp.max_queue_delay_ms = b->delay_ms;
    wp.log = b->log;
    if (rec) {
        wp.on_job = on_job;
        wp.on_job_user = rec;
    }
    p->w = kf_worker_new(&wp, e, sizeof(e));
    if (!p->w || kf_worker_load_model(p->w, "m", "1", bc->model, e, sizeof(e)) != KF_OK ||
        kf_worker_start(p->w, e, sizeof(e)) != KF_OK)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "kinfer bench pipeline: %s: %s\n", bc->name, e);
    return -1;
}

static uint64_t pipe_done(pipe_t *p) {
    if (p->w)
        return kf_worker_stats(p->w).delivered;
    return kf_result_producer_stats(p->pass.rp).delivered;
}

static int pipe_assigned(pipe_t *p) {
    if (p->w)
        return kf_worker_stats(p->w).assigned > 0;
    return kf_consumer_stats(p->pass.c).assigned > 0;
}

static void pipe_stop(pipe_t *p) {
    if (p->w) {
        kf_worker_free(p->w);
        return;
    }
    kf_consumer_free(p->pass.c);
    kf_result_producer_free(p->pass.rp);
    kf_offsets_free(p->pass.offs);
}

/* ---- jobs ------------------------------------------------------------------------------ */

static int make_msg(const bcase_t *bc, int64_t i, kf_buf_t *buf) {
    kf_buf_clear(buf);
    if (!bc->model) {
        for (size_t k = 0; k < bc->pad; k++) {
            uint8_t v = (uint8_t)(i + (int64_t)k);
            if (kf_buf_append(buf, &v, 1) != KF_OK)
                return -1;
        }
        return 0;
    }
    float x[784];
    for (int k = 0; k < bc->feat; k++)
        x[k] = (float)((i + k) % 255) / 255.0f;
    char id[32];
    snprintf(id, sizeof(id), "b%lld", (long long)i);
    kf_tensor_view_t t;
    kf_request_t req;
    kf_cli_row_request_init(&req, &t, id, "m", x, bc->feat);
    /* pad small jobs to ~200 bytes like the passthrough message */
    kf_kv_t md = {"pad", "................................................................"
                         "......................................"};
    if (bc->feat < 64) {
        req.metadata = &md;
        req.n_metadata = 1;
    }
    kf_codec_params_t cp = kf_codec_default_params();
    kf_codec_error_t ce;
    return kf_codec_encode_request(&cp, &req, buf, &ce) == KF_OK ? 0 : -1;
}

/* Produces n messages (rate <= 0: as fast as possible) with a send-time
 * header. Returns the message size, or 0 on error. */
static size_t produce(bench_t *b, const bcase_t *bc, const char *topic, int64_t n, double rate) {
    char e[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", b->bs, e, sizeof(e));
    rd_kafka_conf_set(conf, "linger.ms", "1", e, sizeof(e));
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
    if (!p) {
        rd_kafka_conf_destroy(conf);
        return 0;
    }
    kf_buf_t buf = KF_BUF_INIT;
    size_t size = 0;
    int64_t t0 = kf_now_us();
    for (int64_t i = 0; i < n; i++) {
        if (make_msg(bc, i, &buf) != 0)
            break;
        size = buf.len;
        if (rate > 0) {
            /* sleep (not spin: the machine may have 2 cores) until job i
             * is due; jobs go out in bursts of at most ~1 ms */
            int64_t due = t0 + (int64_t)((double)i * 1e6 / rate);
            int64_t wait = due - kf_now_us();
            if (wait > 1000) {
                rd_kafka_poll(p, 0);
                struct timespec ts = {wait / 1000000, (long)(wait % 1000000) * 1000L};
                nanosleep(&ts, NULL);
            }
        }
        char key[32];
        int kl = snprintf(key, sizeof(key), "%lld", (long long)i);
        while (kf_cli_stamped_produce(p, topic, (int32_t)(i % b->partitions), key, (size_t)kl,
                                      buf.data, buf.len, SENT_HDR) != RD_KAFKA_RESP_ERR_NO_ERROR)
            rd_kafka_poll(p, 5);
        rd_kafka_poll(p, 0);
    }
    rd_kafka_flush(p, 30000);
    kf_buf_free(&buf);
    rd_kafka_destroy(p);
    return size;
}

/* Reads n records of `topic` and fills their end-to-end latencies and the
 * times the 10% and 90% marks were read. */
typedef struct lat_reader {
    bench_t *b;
    const char *topic;
    int64_t n, got;
    int64_t *lat;
    int64_t t10, t90;
} lat_reader_t;

static void *lat_main(void *arg) {
    lat_reader_t *r = arg;
    char e[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", r->b->bs, e, sizeof(e));
    rd_kafka_conf_set(conf, "group.id", "bench-reader", e, sizeof(e));
    rd_kafka_conf_set(conf, "fetch.wait.max.ms", r->b->fetch_wait, e, sizeof(e));
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e));
    if (!c) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(c);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(r->b->partitions);
    for (int i = 0; i < r->b->partitions; i++)
        rd_kafka_topic_partition_list_add(l, r->topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c, l);
    rd_kafka_topic_partition_list_destroy(l);
    int64_t idle = kf_now_us();
    while (r->got < r->n && kf_now_us() - idle < 20000000) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 50);
        if (!m)
            continue;
        if (!m->err) {
            int64_t now = kf_now_us(), sent = kf_cli_stamp_read(m, SENT_HDR);
            idle = now;
            r->lat[r->got++] = sent ? now - sent : 0;
            if (r->got == r->n / 10)
                r->t10 = now;
            if (r->got == r->n * 9 / 10)
                r->t90 = now;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return NULL;
}

#define PEAK_RUNS_MAX 9

typedef struct result {
    double peak; /* median of peak_runs */
    double peak_runs[PEAK_RUNS_MAX];
    size_t bytes;
    double p50_ms, p99_ms; /* end to end: job produced -> result read */
    int64_t lat_n;
    double e2e_peak; /* msg/s read at the end, generator flat out beside the pipeline */
    double offered;  /* msg/s the load generator reached in the latency phase */
    /* worker cases: p50/p99 (ms) of each jobrec series */
    double w_p50[R_N], w_p99[R_N];
    int64_t w_n;
} result_t;

static int wait_assigned(pipe_t *p) {
    int64_t end = kf_now_us() + 30000000;
    while (!pipe_assigned(p) && kf_now_us() < end) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    return pipe_assigned(p) ? 0 : -1;
}

/* Offers n jobs at `rate` msg/s (0: as fast as the generator goes) to a
 * fresh pipeline on fresh topics while `r` reads the results; `rec`
 * (optional) gets the in-worker latencies. On success the caller frees
 * r->lat. */
static int flow(bench_t *b, const bcase_t *bc, double rate, int64_t n, jobrec_t *rec,
                lat_reader_t *r, double *offered) {
    char in[64], out[64], e[256];
    b->round++;
    snprintf(in, sizeof(in), "bench.in.%d", b->round);
    snprintf(out, sizeof(out), "bench.out.%d", b->round);
    pipe_t p;
    b->cur_kv = b->kv_lat;
    int bad = kf_broker_topic_create(b->broker, in, b->partitions, e, sizeof(e)) ||
              kf_broker_topic_create(b->broker, out, b->partitions, e, sizeof(e)) ||
              pipe_start(b, bc, in, out, &p, rec) != 0;
    b->cur_kv = b->kv;
    if (bad)
        return -1;
    wait_assigned(&p);
    memset(r, 0, sizeof(*r));
    r->b = b;
    r->topic = out;
    r->n = n;
    r->lat = calloc((size_t)n, sizeof(int64_t));
    pthread_t th;
    if (!r->lat || pthread_create(&th, NULL, lat_main, r) != 0) {
        free(r->lat);
        pipe_stop(&p);
        return -1;
    }
    struct timespec warm = {1, 0}; /* let the reader's first fetch happen */
    nanosleep(&warm, NULL);
    int64_t ts = kf_now_us();
    produce(b, bc, in, n, rate);
    *offered = (double)n * 1e6 / (double)(kf_now_us() - ts); /* flush included */
    pthread_join(th, NULL);
    pipe_stop(&p);
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One backlog run: produces the backlog, starts a fresh pipeline on it and
 * returns its steady msg/s (between 10% and 90% of the backlog delivered:
 * the first fetches and the tail are not the pipeline's throughput), or -1. */
static double backlog_peak(bench_t *b, const bcase_t *bc, size_t *bytes) {
    char in[64], out[64], e[256];
    b->round++;
    snprintf(in, sizeof(in), "bench.in.%d", b->round);
    snprintf(out, sizeof(out), "bench.out.%d", b->round);
    if (kf_broker_topic_create(b->broker, in, b->partitions, e, sizeof(e)) ||
        kf_broker_topic_create(b->broker, out, b->partitions, e, sizeof(e)))
        return -1;
    *bytes = produce(b, bc, in, b->backlog, 0);
    pipe_t p;
    if (!*bytes || pipe_start(b, bc, in, out, &p, NULL) != 0)
        return -1;
    wait_assigned(&p);
    int64_t t0 = kf_now_us(), end = t0 + 60000000, t10 = 0, t90 = 0;
    uint64_t lo = (uint64_t)b->backlog / 10, hi = (uint64_t)b->backlog * 9 / 10, d10 = 0, d90 = 0;
    while (!t90 && kf_now_us() < end) {
        uint64_t d = pipe_done(&p);
        if (!t10 && d >= lo) {
            t10 = kf_now_us();
            d10 = d;
        }
        if (t10 && d >= hi) {
            t90 = kf_now_us();
            d90 = d;
        }
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
    }
    pipe_stop(&p);
    return t90 > t10 ? (double)(d90 - d10) * 1e6 / (double)(t90 - t10) : 0;
}

/* 0 = ran, 1 = skipped (--case), -1 = failed */
static int run_case(bench_t *b, const bcase_t *bc, result_t *res) {
    memset(res, 0, sizeof(*res));
    if (b->only && !strstr(bc->name, b->only))
        return 1;
    /* phase 1: peak over a backlog, the median of peak_runs runs (one
     * window is a fraction of a second; single runs varied by +-25%) */
    for (int k = 0; k < b->peak_runs; k++) {
        double v = backlog_peak(b, bc, &res->bytes);
        if (v < 0)
            return -1;
        res->peak_runs[k] = v;
    }
    double sorted[PEAK_RUNS_MAX];
    memcpy(sorted, res->peak_runs, sizeof(double) * (size_t)b->peak_runs);
    qsort(sorted, (size_t)b->peak_runs, sizeof(double), cmp_double);
    res->peak = sorted[b->peak_runs / 2];
    /* phase 2: the end-to-end peak, with the load generator and the reader
     * running beside the pipeline as in the latency phase */
    lat_reader_t r;
    double flat_out; /* the generator's own rate here; not reported */
    if (flow(b, bc, 0, b->backlog, NULL, &r, &flat_out) != 0)
        return -1;
    res->e2e_peak = r.t90 > r.t10 ? (double)(r.n * 8 / 10) * 1e6 / (double)(r.t90 - r.t10) : 0;
    free(r.lat);
    /* phase 3: latency at load_pct of the end-to-end peak */
    double rate = res->e2e_peak * b->load_pct / 100.0;
    int64_t n = (int64_t)(rate * b->load_s);
    if (n < 100)
        n = 100;
    jobrec_t rec;
    memset(&rec, 0, sizeof(rec));
    rec.cap = (long)n;
    int ok = 1;
    for (int i = 0; i < R_N; i++)
        ok &= (rec.v[i] = calloc((size_t)n, sizeof(int64_t))) != NULL;
    if (!ok || flow(b, bc, rate, n, &rec, &r, &res->offered) != 0) {
        for (int i = 0; i < R_N; i++)
            free(rec.v[i]);
        return -1;
    }
    if (r.got > 0) {
        qsort(r.lat, (size_t)r.got, sizeof(int64_t), kf_cli_cmp_i64);
        res->p50_ms = (double)r.lat[r.got / 2] / 1000.0;
        res->p99_ms = (double)r.lat[(r.got * 99) / 100] / 1000.0;
    }
    res->lat_n = r.got;
    free(r.lat);
    if (bc->model && rec.n > 0 && rec.n_service > 0) {
        res->w_n = rec.n;
        for (int i = 0; i < R_N; i++) {
            long k = i == R_SERVICE ? rec.n_service : rec.n;
            qsort(rec.v[i], (size_t)k, sizeof(int64_t), kf_cli_cmp_i64);
            res->w_p50[i] = (double)rec.v[i][k / 2] / 1000.0;
            res->w_p99[i] = (double)rec.v[i][(k * 99) / 100] / 1000.0;
        }
    }
    for (int i = 0; i < R_N; i++)
        free(rec.v[i]);
    return 0;
}

static void print(const bench_t *b, const bcase_t *bc, const result_t *r, int64_t backlog,
                  const char *ratio_name, double ratio) {
    printf("{\"bench\":\"pipeline\",\"case\":\"%s\",\"msg_bytes\":%zu,\"backlog\":%lld,"
           "\"partitions\":%d,\"msg_per_s\":%.0f,\"e2e_peak_msg_per_s\":%.0f,"
           "\"half_load_msg_per_s\":%.0f,\"load_percent\":%d,\"latency_jobs\":%lld,"
           "\"p50_ms\":%.2f,\"p99_ms\":%.2f",
           bc->name, r->bytes, (long long)backlog, b->partitions, r->peak, r->e2e_peak,
           r->e2e_peak * b->load_pct / 100.0, b->load_pct, (long long)r->lat_n, r->p50_ms,
           r->p99_ms);
    printf(",\"msg_per_s_runs\":[");
    for (int k = 0; k < b->peak_runs; k++)
        printf("%s%.0f", k ? "," : "", r->peak_runs[k]);
    printf("],\"offered_msg_per_s\":%.0f,\"fetch_wait_max_ms\":%s", r->offered, b->fetch_wait);
    if (bc->model && r->w_n > 0) {
        printf(",\"max_queue_delay_ms\":%d,\"max_batch\":%lld", b->delay_ms,
               (long long)b->max_batch);
        for (int i = 0; i < R_N; i++)
            printf(",\"worker_%s_p50_ms\":%.3f,\"worker_%s_p99_ms\":%.3f", rec_names[i],
                   r->w_p50[i], rec_names[i], r->w_p99[i]);
        /* the latency goal: p99 inside the worker under max_queue_delay + 2
         * batch times, read two ways: a batch's copy + run only, and the
         * time a batch holds the engine (copy + run + hand-back of its
         * results to the producer) */
        double b_run = b->delay_ms + 2 * r->w_p99[R_COMPUTE];
        double b_svc = b->delay_ms + 2 * r->w_p99[R_SERVICE];
        double lat = r->w_p99[R_LAT];
        printf(",\"bound_compute_ms\":%.3f,\"within_bound_compute\":%s"
               ",\"bound_service_ms\":%.3f,\"within_bound_service\":%s",
               b_run, lat < b_run ? "true" : "false", b_svc, lat < b_svc ? "true" : "false");
    }
    if (ratio_name)
        printf(",\"%s\":%.3f", ratio_name, ratio);
    printf("}\n");
    fflush(stdout);
}

int kf_bench_pipeline(int argc, char **argv) {
    static const struct option opts[] = {{"jobs", required_argument, NULL, 'n'},
                                         {"partitions", required_argument, NULL, 'p'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"load-seconds", required_argument, NULL, 's'},
                                         {"case", required_argument, NULL, 'k'},
                                         {"set", required_argument, NULL, 'X'},
                                         {"max-queue-delay-ms", required_argument, NULL, 'd'},
                                         {"load-percent", required_argument, NULL, 'l'},
                                         {"max-batch", required_argument, NULL, 'b'},
                                         {"peak-runs", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bench_t b;
    memset(&b, 0, sizeof(b));
    b.backlog = 120000;
    b.partitions = 8;
    b.threads = 1;
    b.load_s = 3;
    b.load_pct = 50;
    b.peak_runs = 3;
    kf_worker_params_t wdef = kf_worker_default_params();
    b.high_mark = wdef.high_mark;
    b.low_mark = wdef.low_mark;
    b.delay_ms = 2;
    b.max_batch = 256; /* the worker's default is 64: more per-batch work per job */
    int nkv = 0;
    b.kv[nkv++] = "session.timeout.ms";
    b.kv[nkv++] = "6000";
    b.kv[nkv++] = "log_level";
    b.kv[nkv++] = "3";
    /* The mock broker holds a fetch that found no records for the whole
     * fetch.wait.max.ms, even when records arrive meanwhile (librdkafka's
     * rdkafka_mock_handlers.c says so); a Kafka broker answers it as soon as
     * fetch.min.bytes are there. On the mock the setting is thus a polling
     * period that bunches a steady load into bursts, so in the latency
     * phases every consumer (pipelines and latency reader) polls every 1 ms
     * unless -X says otherwise. The peak over a backlog keeps the clients'
     * own settings. */
    b.fetch_wait = "1";
    int64_t v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hX:", opts, NULL)) != -1) {
        switch (c) {
        case 'k': b.only = optarg; break;
        case 'X': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || nkv + 2 >= (int)(sizeof(b.kv) / sizeof(b.kv[0]))) {
                fprintf(stderr, "kinfer bench pipeline: -X '%s': expected KEY=VALUE\n", optarg);
                return 2;
            }
            *eq = '\0';
            b.kv[nkv++] = optarg;
            b.kv[nkv++] = eq + 1;
            if (!strcmp(optarg, "fetch.wait.max.ms"))
                b.fetch_wait = eq + 1;
            break;
        }
        case 'n':
            if (kf_cli_parse_i64(optarg, 100, 10000000, &b.backlog))
                return 2;
            break;
        case 'p':
            if (kf_cli_parse_i64(optarg, 1, 256, &v))
                return 2;
            b.partitions = (int)v;
            break;
        case 't':
            if (kf_cli_parse_i64(optarg, 0, 256, &v))
                return 2;
            b.threads = (int)v;
            break;
        case 'd':
            if (kf_cli_parse_i64(optarg, 0, 60000, &v))
                return 2;
            b.delay_ms = (int)v;
            break;
        case 'b':
            if (kf_cli_parse_i64(optarg, 1, 1 << 20, &b.max_batch))
                return 2;
            break;
        case 'r':
            if (kf_cli_parse_i64(optarg, 1, PEAK_RUNS_MAX, &v))
                return 2;
            b.peak_runs = (int)v;
            break;
        case 'l':
            if (kf_cli_parse_i64(optarg, 1, 100, &v))
                return 2;
            b.load_pct = (int)v;
            break;
        case 's':
            if (kf_cli_parse_i64(optarg, 1, 600, &v))
                return 2;
            b.load_s = (double)v;
            break;
        case 'h':
            printf(
                "usage: kinfer bench pipeline [--jobs N] [--partitions P] [--threads T] "
                "[--load-seconds S]\n"
                "                             [--max-queue-delay-ms D] [--max-batch N] "
                "[--case NAME]\n"
                "                             [--load-percent L] [--peak-runs N] "
                "[-X KEY=VALUE ...]\n"
                "  (a) consume->produce passthrough at 200 B and ~3 KiB (the ceiling),\n"
                "  (b) worker + identity16, (c) worker + MNIST MLP; JSON lines.\n"
                "  Each case: steady msg/s over a backlog (msg_per_s, the ratios), the\n"
                "  end-to-end peak with the load generator running flat out beside the\n"
                "  pipeline (e2e_peak_msg_per_s), then latency with jobs offered at half\n"
                "  the end-to-end peak: end to end (produced -> result read) and, for the\n"
                "  worker, inside it (consumed -> result handed to the producer), split\n"
                "  into pre/queue/compute/handback, against max_queue_delay + 2 x the p99\n"
                "  batch time, read as copy+run (bound_compute_ms) and as the time a batch\n"
                "  holds the engine, hand-back of its results included (bound_service_ms).\n"
                "  In the latency phases every consumer uses fetch.wait.max.ms=1 unless\n"
                "  -X sets it: the mock broker holds an empty fetch that long even when\n"
                "  records arrive.\n"
                "  --jobs N          backlog per case (default 120000 over P partitions;\n"
                "                    the 3 KiB cases use N/4 jobs over 4P partitions)\n"
                "  --partitions P    default 8\n"
                "  --max-queue-delay-ms D  the worker's batch delay (default 2)\n"
                "  --max-batch N     the worker's max_batch (default 256)\n"
                "  --load-percent L  latency phase offered load, %% of the e2e peak (default 50;\n"
                "                    the half_load_msg_per_s field is this rate)\n"
                "  --peak-runs N     backlog runs per case, msg_per_s is their median\n"
                "                    (default 3, at most 9; msg_per_s_runs lists them)\n"
                "  --case NAME       only the cases whose name contains NAME\n"
                "  -X KEY=VALUE      librdkafka property for the clients of every case\n");
            return 0;
        default: return 2;
        }
    }
    int nl = 0;
    for (int i = 0; i < 4; i++)
        b.kv_lat[nl++] = b.kv[i];
    b.kv_lat[nl++] = "fetch.wait.max.ms";
    b.kv_lat[nl++] = "1";         /* b.fetch_wait unless -X (below) sets it */
    for (int i = 4; i < nkv; i++) /* -X last: it wins */
        b.kv_lat[nl++] = b.kv[i];
    b.cur_kv = b.kv;
    char e[512], m1[4096], m2[4096];
    const char *src = getenv("KINFER_SOURCE_DIR");
    snprintf(m1, sizeof(m1), "%s/models/identity16.onnx", src ? src : KINFER_SOURCE_DIR);
    snprintf(m2, sizeof(m2), "%s/models/mnist_mlp.onnx", src ? src : KINFER_SOURCE_DIR);
    kf_log_params_t lp = kf_log_default_params();
    lp.level = KF_LOG_WARN;
    b.log = kf_logger_new(&lp);
    kf_broker_params_t bp = kf_broker_default_params();
    bp.logger = b.log;
    b.broker = kf_broker_new(&bp, e, sizeof(e));
    if (!b.broker) {
        fprintf(stderr, "kinfer bench pipeline: %s\n", e);
        kf_logger_free(b.log);
        return 1;
    }
    b.bs = kf_broker_bootstrap(b.broker);
    bcase_t pass200 = {"passthrough_200B", NULL, 0, 200};
    bcase_t pass3k = {"passthrough_3KiB", NULL, 0, 3200};
    bcase_t ident = {"worker_identity16", m1, 16, 0};
    bcase_t mnist = {"worker_mnist_mlp", m2, 784, 0};
    result_t ra, ra3, rb, rc;
    /* the mock broker keeps ~5 MiB per partition: the 3 KiB cases get 4x
     * the partitions and 1/4 of the jobs (~3.6 MiB per partition at the
     * default 120000 over 8) */
    int64_t small = b.backlog, big = b.backlog / 4;
    int rcode = 0;
    int k;
    if ((k = run_case(&b, &pass200, &ra)) == 0)
        print(&b, &pass200, &ra, small, NULL, 0);
    rcode |= k < 0;
    if ((k = run_case(&b, &ident, &rb)) == 0)
        print(&b, &ident, &rb, small, ra.peak > 0 ? "ratio_vs_passthrough_200B" : NULL,
              ra.peak > 0 ? rb.peak / ra.peak : 0);
    rcode |= k < 0;
    b.backlog = big;
    b.partitions *= 4; /* same bytes per partition as the 200 B cases */
    if ((k = run_case(&b, &pass3k, &ra3)) == 0)
        print(&b, &pass3k, &ra3, big, NULL, 0);
    rcode |= k < 0;
    if ((k = run_case(&b, &mnist, &rc)) == 0)
        print(&b, &mnist, &rc, big, ra3.peak > 0 ? "ratio_vs_passthrough_3KiB" : NULL,
              ra3.peak > 0 ? rc.peak / ra3.peak : 0);
    rcode |= k < 0;
    kf_broker_free(b.broker);
    kf_logger_free(b.log);
    return rcode;
}
