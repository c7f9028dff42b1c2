/* Integration tests of the whole worker (kf_worker: real consumer, codec,
 * engine on models/mnist_mlp.onnx, batcher, producer) on the mock cluster.
 *
 *   test_worker correct   5,000 jobs of 1-8 rows over 8 partitions
 *                         (identity16): every id answered exactly once,
 *                         outputs equal (1e-4) to the engine API's
 *   test_worker poison    2,000 MNIST MLP jobs of 1-4 rows (outputs checked against the
 *                         engine API like above), 5% malformed of every kind (garbage,
 *                         truncated, wrong dtype, wrong shape, unknown model,
 *                         expired deadline, over the element limit): each has
 *                         its error result and/or DLQ record, all good jobs are
 *                         answered, every partition's commit reaches its end
 *   test_worker oversize  1,000 MNIST jobs of 1-4 rows, every 25th of 3.5 x
 *                         max_batch rows: each answered once, the big ones by
 *                         ONE OK result of all their rows equal to the engine
 *                         run on the whole job; every commit reaches the end
 *
 * In every scenario each job carries a header (kinfer.test.id) that its
 * result must carry back, every 10th good job names a reply_topic its
 * result must go to instead of the output topic (20 of them), and the per-job observer
 * (on_job) must see each OK job once with consistent batch figures. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "kf_codec.h"
#include "kf_worker.h"
#include "wk_fixture.h"

#define IN "jobs"
#define OUT "results"
#define DLQ "dlq"
/* reply topics: more than the result producer caches handles for (16) */
#define N_REPLY 20
#define ID_HDR "kinfer.test.id"
/* the model under test: mnist_mlp (784 -> 10) or identity16 (16 -> 16) */
static int FEAT = 784, OUTW = 10;
static const char *OUTNAME = "logits";

static uint32_t lcg(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void job_input(int i, int rows, float *x) {
    uint32_t s = (uint32_t)i * 2654435761u + 7u;
    for (int k = 0; k < rows * FEAT; k++)
        x[k] = (float)(lcg(&s) % 1000) / 1000.0f;
}

static int MAXROWS = 8;
/* oversize scenario: every 25th job has BIGROWS rows (3.5 x max_batch) */
#define WK_MAX_BATCH 16
#define BIGROWS (WK_MAX_BATCH * 7 / 2)
static int OVERSIZE;
/* exactly-once scenarios: 1 = clean, 2 = Produce errors injected (aborts) */
static int EOS;
static int job_rows(int i) {
    return OVERSIZE && i % 25 == 3 ? BIGROWS : 1 + i % MAXROWS;
}

enum { K_GOOD = -1, K_GARBAGE, K_TRUNC, K_DTYPE, K_SHAPE, K_MODEL, K_DEADLINE, K_ROWS, K_N };

static int job_kind(int i, int poison) {
    if (!poison || i % 20 != 0)
        return K_GOOD;
    return (i / 20) % K_N;
}

/* good jobs whose result goes to a reply topic: which one (0..N_REPLY-1),
 * or -1 for the output topic */
static int job_replies(int i, int poison) {
    return job_kind(i, poison) == K_GOOD && i % 10 == 5 ? (i / 10) % N_REPLY : -1;
}

static const char *reply_topic(int k) {
    static char names[N_REPLY][32];
    if (!names[k][0])
        snprintf(names[k], sizeof(names[k]), "replies.%d", k);
    return names[k];
}

static const kf_codec_params_t *codec(void) {
    static kf_codec_params_t p;
    static int init;
    if (!init) {
        p = kf_codec_default_params();
        init = 1;
    }
    return &p;
}

/* Encodes job i (of `kind`) into buf. */
static void encode_job(int i, int kind, int reply, float *x, kf_buf_t *buf) {
    char id[32];
    snprintf(id, sizeof(id), "j%d", i);
    int rows = kind == K_ROWS ? WK_MAX_BATCH + 1 : job_rows(i);
    job_input(i, rows, x);
    kf_tensor_view_t t;
    memset(&t, 0, sizeof(t));
    t.name = "input";
    t.dtype = kind == K_DTYPE ? KF_DTYPE_INT32 : KF_DTYPE_FLOAT32;
    t.rank = 2;
    t.shape[0] = rows;
    t.shape[1] = kind == K_SHAPE ? FEAT - 1 : FEAT;
    t.data = x;
    t.nbytes = (size_t)rows * (size_t)t.shape[1] * 4;
    kf_request_t r;
    memset(&r, 0, sizeof(r));
    r.id = id;
    r.model = kind == K_MODEL ? "nope" : "m";
    r.inputs = &t;
    r.n_inputs = 1;
    r.reply_topic = reply >= 0 ? reply_topic(reply) : NULL;
    if (kind == K_DEADLINE) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r.has_deadline = 1;
        r.deadline_ms = (int64_t)ts.tv_sec * 1000 - 60000;
    }
    kf_codec_error_t ce;
    kf_status_t st = kf_codec_encode_request(codec(), &r, buf, &ce);
    WK_CHECK(st == KF_OK, "encode job %d: %s", i, ce.msg);
    if (kind == K_TRUNC)
        buf->len /= 2;
    if (kind == K_GARBAGE)
        for (size_t k = 0; k < buf->len; k++)
            buf->data[k] = (uint8_t)(k * 131u + 17u);
}

typedef struct answers {
    int n, poison;
    int *ok, *err, *dlq;
    kf_result_status_t *status;
    int bad_outputs;
    int big_ok; /* OK results of jobs with more rows than max_batch */
    double max_diff;
    ke_model_t *model;
    ke_plan_t *plan;
    float *x, *ref;
} answers_t;

static int key_id(const rd_kafka_message_t *m) {
    char k[32];
    if (!m->key || m->key_len < 2 || m->key_len >= sizeof(k))
        return -1;
    memcpy(k, m->key, m->key_len);
    k[m->key_len] = 0;
    int id = atoi(k + 1);
    return id;
}

static void on_result(void *opaque, const rd_kafka_message_t *m) {
    answers_t *a = opaque;
    int id = key_id(m);
    WK_CHECK(id >= 0 && id < a->n, "result with a bad key");
    kf_result_t *r = NULL;
    kf_codec_error_t ce;
    kf_status_t st = kf_codec_decode_result(codec(), m->payload, m->len, &r, &ce);
    WK_CHECK(st == KF_OK, "undecodable result: %s", ce.msg);
    char want[32];
    snprintf(want, sizeof(want), "j%d", id);
    WK_CHECK(!strcmp(r->id, want), "result id %s under key %s", r->id, want);
    const char *topic = rd_kafka_topic_name(m->rkt);
    int rk = job_replies(id, a->poison);
    WK_CHECK(!strcmp(topic, rk >= 0 ? reply_topic(rk) : OUT), "result of %s on %s", want, topic);
    /* the job's headers are propagated */
    rd_kafka_headers_t *h = NULL;
    const void *hv;
    size_t hl;
    WK_CHECK(rd_kafka_message_headers(m, &h) == 0 &&
                 rd_kafka_header_get_last(h, ID_HDR, &hv, &hl) == 0 && hl == strlen(want) &&
                 !memcmp(hv, want, hl),
             "result of %s without its job's %s header", want, ID_HDR);
    a->status[id] = r->status;
    if (r->status != KF_RESULT_OK) {
        a->err[id]++;
        kf_result_free(r);
        return;
    }
    a->ok[id]++;
    int rows = job_rows(id);
    a->big_ok += rows > WK_MAX_BATCH;
    if (r->n_outputs != 1 || r->outputs[0].rank != 2 || r->outputs[0].shape[0] != rows ||
        r->outputs[0].shape[1] != OUTW || r->outputs[0].nbytes != (size_t)(rows * OUTW * 4) ||
        strcmp(r->outputs[0].name, OUTNAME) != 0 ||
        r->batch_size < (rows < WK_MAX_BATCH ? rows : WK_MAX_BATCH)) {
        a->bad_outputs++;
        kf_result_free(r);
        return;
    }
    /* the engine API on the same rows is the reference */
    job_input(id, rows, a->x);
    const void *in[1] = {a->x};
    void *out[1] = {a->ref};
    char e[256];
    WK_CHECK(ke_plan_run(a->plan, rows, in, out, e, sizeof(e)) == KE_OK, "%s", e);
    float got[BIGROWS * 16];
    memcpy(got, r->outputs[0].data, (size_t)(rows * OUTW * 4));
    for (int k = 0; k < rows * OUTW; k++) {
        double d = fabs((double)got[k] - (double)a->ref[k]);
        if (d > a->max_diff)
            a->max_diff = d;
        if (d > 1e-4 + 1e-4 * fabs((double)a->ref[k]))
            a->bad_outputs++;
    }
    kf_result_free(r);
}

static void on_dlq(void *opaque, const rd_kafka_message_t *m) {
    answers_t *a = opaque;
    int id = key_id(m);
    WK_CHECK(id >= 0 && id < a->n, "DLQ record with a bad key");
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t vl;
    WK_CHECK(rd_kafka_message_headers(m, &h) == 0 &&
                 rd_kafka_header_get_last(h, "kinfer.error", &v, &vl) == 0 && vl > 0,
             "DLQ record without kinfer.error");
    a->dlq[id]++;
}

static char g_model_path[4096];

/* The per-job observer's tally (one engine thread calls it). */
typedef struct observed {
    long jobs, batches, batch_jobs, bad;
} observed_t;

static void on_job(void *user, const kf_worker_job_info_t *ji) {
    observed_t *o = user;
    o->jobs++;
    if (ji->job_index >= ji->batch_jobs || ji->batch_rows == 0 || ji->queue_us < 0 ||
        ji->compute_us < 0 || ji->handback_us < 0 ||
        ji->latency_us < ji->queue_us + ji->compute_us + ji->handback_us)
        o->bad++;
    if (ji->job_index + 1 == ji->batch_jobs) { /* a batch's last job */
        o->batches++;
        o->batch_jobs += (long)ji->batch_jobs;
    }
}

static kf_worker_t *start_worker(const char *bs, const char *group, observed_t *obs) {
    static const char *const topics[] = {IN, NULL};
    static const char *const kv[] = {"session.timeout.ms", "6000", "log_level", "2", NULL};
    kf_worker_params_t p = kf_worker_default_params();
    p.bootstrap = bs;
    p.group = group;
    p.topics = topics;
    p.output_topic = OUT;
    p.dlq_topic = DLQ;
    p.kafka_kv = kv;
    p.max_batch = WK_MAX_BATCH;
    /* a job over the element limit (K_ROWS) stays refused */
    p.codec.max_elements = (uint64_t)WK_MAX_BATCH * (uint64_t)FEAT;
    if (OVERSIZE)
        p.codec.max_elements = (uint64_t)BIGROWS * (uint64_t)FEAT;
    p.max_queue_delay_ms = 2;
    p.threads = 1;
    p.commit_interval_ms = 200;
    p.exactly_once = EOS > 0;
    p.on_job = on_job;
    p.on_job_user = obs;
    char err[512];
    kf_worker_t *w = kf_worker_new(&p, err, sizeof(err));
    WK_CHECK(w != NULL, "%s", err);
    WK_CHECK(kf_worker_load_model(w, "m", "1", g_model_path, err, sizeof(err)) == KF_OK, "%s", err);
    WK_CHECK(kf_worker_start(w, err, sizeof(err)) == KF_OK, "%s", err);
    return w;
}

static int run(int n, int poison) {
    wk_cluster_t c;
    wk_cluster_start(&c, 1);
    wk_topic(&c, IN, 8);
    wk_topic(&c, OUT, 8);
    wk_topic(&c, DLQ, 1);
    for (int k = 0; k < N_REPLY; k++)
        wk_topic(&c, reply_topic(k), 1);
    float *x = malloc(sizeof(float) * (size_t)FEAT * BIGROWS);
    kf_buf_t buf = KF_BUF_INIT;
    rd_kafka_t *p = wk_producer(c.bootstrap);
    int expect_records = 0;
    for (int i = 0; i < n; i++) {
        int kind = job_kind(i, poison);
        encode_job(i, kind, job_replies(i, poison), x, &buf);
        char key[32];
        snprintf(key, sizeof(key), "j%d", i);
        rd_kafka_headers_t *h = rd_kafka_headers_new(1);
        rd_kafka_header_add(h, ID_HDR, -1, key, (ssize_t)strlen(key));
        wk_produce(p, IN, i % 8, key, strlen(key), buf.data, buf.len, h);
        rd_kafka_poll(p, 0);
    }
    wk_flush(p);
    rd_kafka_destroy(p);
    (void)expect_records;

    if (EOS == 2) /* the first Produce requests fail: the transaction aborts */
        rd_kafka_mock_push_request_errors(
            c.mc, 0 /* Produce */, 3, RD_KAFKA_RESP_ERR_INVALID_RECORD,
            RD_KAFKA_RESP_ERR_INVALID_RECORD, RD_KAFKA_RESP_ERR_INVALID_RECORD);
    observed_t obs;
    memset(&obs, 0, sizeof(obs));
    kf_worker_t *w = start_worker(c.bootstrap, "g-worker", &obs);
    int64_t end = wk_now_ms() + 45000;
    while (wk_now_ms() < end) {
        kf_worker_stats_t s = kf_worker_stats(w);
        if (s.consumed >= (uint64_t)n && s.inflight == 0)
            break;
        wk_sleep_ms(50);
    }
    /* exactly-once: the periodic transactions commit every partition's
     * offsets up to its end while the worker runs (the partitions are
     * forgotten at the revoke on close) */
    int64_t txn_committed[8];
    while (EOS) {
        int done = 1;
        for (int part = 0; part < 8; part++) {
            txn_committed[part] = kf_worker_committed(w, IN, part);
            done &= txn_committed[part] == wk_high_watermark(c.bootstrap, IN, part);
        }
        if (done || wk_now_ms() > end + 15000)
            break;
        wk_sleep_ms(50);
    }
    kf_worker_stop(w);
    WK_CHECK(kf_worker_wait(w, 30000) == KF_OK, "worker did not stop");
    kf_worker_stats_t s = kf_worker_stats(w);
    kf_worker_free(w);
    printf("{\"exactly_once\":%d,\"commits\":%llu,\"txn_aborts\":%llu}\n", EOS,
           (unsigned long long)s.commits, (unsigned long long)s.txn_aborts);
    if (EOS) /* the offsets advanced through the transactions (checked below) */
        WK_CHECK(s.commits > 0, "no transaction committed");
    if (EOS == 2)
        WK_CHECK(s.txn_aborts > 0, "the injected Produce errors aborted no transaction");
    printf("{\"consumed\":%llu,\"ok\":%llu,\"invalid\":%llu,\"not_found\":%llu,"
           "\"deadline\":%llu,\"dlq\":%llu,\"batches\":%llu,\"mean_batch\":%.2f}\n",
           (unsigned long long)s.consumed, (unsigned long long)s.results[KF_RESULT_OK],
           (unsigned long long)s.results[KF_RESULT_INVALID_INPUT],
           (unsigned long long)s.results[KF_RESULT_MODEL_NOT_FOUND],
           (unsigned long long)s.results[KF_RESULT_DEADLINE_EXCEEDED], (unsigned long long)s.dlq,
           (unsigned long long)s.batches,
           s.batches ? (double)s.batch_rows / (double)s.batches : 0.0);

    answers_t a;
    memset(&a, 0, sizeof(a));
    a.n = n;
    a.poison = poison;
    a.ok = calloc((size_t)n, sizeof(int));
    a.err = calloc((size_t)n, sizeof(int));
    a.dlq = calloc((size_t)n, sizeof(int));
    a.status = calloc((size_t)n, sizeof(kf_result_status_t));
    a.x = x;
    a.ref = malloc(sizeof(float) * BIGROWS * 16);
    char e[256];
    a.model = ke_model_load_file(g_model_path, NULL, e, sizeof(e));
    WK_CHECK(a.model != NULL, "%s", e);
    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = BIGROWS; /* the whole job at once is the reference */
    pp.n_threads = 1;
    a.plan = ke_plan_new(a.model, &pp, e, sizeof(e));
    WK_CHECK(a.plan != NULL, "%s", e);
    int n_results = 0, n_dlq = 0, n_reply = 0;
    for (int i = 0; i < n; i++) {
        int k = job_kind(i, poison);
        n_results += k != K_GARBAGE && k != K_TRUNC;
        n_dlq += k != K_GOOD && k != K_DEADLINE;
        n_reply += job_replies(i, poison) >= 0;
    }
    wk_read_all(c.bootstrap, OUT, 8, (size_t)(n_results - n_reply), 60000, 5000, on_result, &a);
    const char *replies[N_REPLY];
    for (int k = 0; k < N_REPLY; k++)
        replies[k] = reply_topic(k);
    wk_read_topics(c.bootstrap, replies, N_REPLY, 1, (size_t)n_reply, 30000, 5000, on_result, &a);
    if (n_dlq)
        wk_read_all(c.bootstrap, DLQ, 1, (size_t)n_dlq, 30000, 5000, on_dlq, &a);

    int missing = 0, dups = 0, wrong = 0;
    for (int i = 0; i < n; i++) {
        int k = job_kind(i, poison);
        int answered = a.ok[i] + a.err[i];
        switch (k) {
        case K_GOOD:
            missing += a.ok[i] == 0;
            dups += a.ok[i] > 1 ? a.ok[i] - 1 : 0;
            wrong += a.err[i] > 0 || a.dlq[i] > 0;
            break;
        case K_GARBAGE:
        case K_TRUNC: /* no readable request: DLQ (an error result if the id was read) */
            missing += a.dlq[i] == 0;
            wrong += a.ok[i] > 0;
            break;
        case K_DTYPE:
        case K_SHAPE:
        case K_ROWS:
            missing += a.dlq[i] == 0 || answered == 0;
            wrong += a.ok[i] > 0 || (answered && a.status[i] != KF_RESULT_INVALID_INPUT);
            break;
        case K_MODEL:
            missing += a.dlq[i] == 0 || answered == 0;
            wrong += answered && a.status[i] != KF_RESULT_MODEL_NOT_FOUND;
            break;
        case K_DEADLINE:
            missing += answered == 0;
            wrong += answered && a.status[i] != KF_RESULT_DEADLINE_EXCEEDED;
            break;
        }
    }
    printf("{\"jobs\":%d,\"missing\":%d,\"duplicates\":%d,\"wrong\":%d,\"bad_outputs\":%d,"
           "\"max_abs_diff\":%.3g}\n",
           n, missing, dups, wrong, a.bad_outputs, a.max_diff);
    WK_CHECK(missing == 0, "%d job(s) without their answer", missing);
    WK_CHECK(wrong == 0, "%d job(s) answered wrongly", wrong);
    WK_CHECK(a.bad_outputs == 0, "%d output(s) differ from the engine API", a.bad_outputs);
    /* the mock broker does not hide aborted records from read_committed
     * readers: after an abort, duplicates are expected here */
    WK_CHECK(dups == 0 || EOS == 2, "%d duplicate(s) in a clean run", dups);
    int big = 0;
    for (int i = 0; i < n; i++)
        big += job_kind(i, poison) == K_GOOD && job_rows(i) > WK_MAX_BATCH;
    printf("{\"oversize_jobs\":%d,\"oversize_ok\":%d}\n", big, a.big_ok);
    WK_CHECK(a.big_ok == big, "%d of %d oversize job(s) answered OK", a.big_ok, big);
    /* the observer saw every OK job once (a clean run answers each once;
     * after an abort, jobs run again) and whole batches */
    long n_ok = 0;
    for (int i = 0; i < n; i++)
        n_ok += job_kind(i, poison) == K_GOOD;
    printf("{\"observed_jobs\":%ld,\"observed_batches\":%ld,\"bad\":%ld}\n", obs.jobs, obs.batches,
           obs.bad);
    WK_CHECK(obs.bad == 0, "%ld observed job(s) with inconsistent figures", obs.bad);
    WK_CHECK(EOS == 2 ? obs.jobs >= n_ok : obs.jobs == n_ok, "observer saw %ld jobs, %ld ran OK",
             obs.jobs, n_ok);
    WK_CHECK(obs.batches > 0 && obs.batch_jobs <= obs.jobs + (long)big * 4,
             "observed %ld batches of %ld jobs", obs.batches, obs.batch_jobs);
    for (int part = 0; part < 8; part++) {
        int64_t hw = wk_high_watermark(c.bootstrap, IN, part);
        int64_t co = wk_committed(c.bootstrap, "g-worker", IN, part);
        if (EOS) {
            /* offsets go only through the transactions (no OffsetCommit:
             * the group shows none), and they reached the end. The mock
             * broker accepts TxnOffsetCommit but does not store it, so the
             * worker's view of its committed transactions is checked. */
            WK_CHECK(co == -1001, "partition %d: a plain offset commit (%" PRId64 ")", part, co);
            WK_CHECK(txn_committed[part] == hw,
                     "partition %d: transactions committed %" PRId64 ", end %" PRId64, part,
                     txn_committed[part], hw);
            continue;
        }
        WK_CHECK(co == hw, "partition %d stalled: committed %" PRId64 ", end %" PRId64, part, co,
                 hw);
    }
    ke_plan_free(a.plan);
    ke_model_free(a.model);
    free(a.ok);
    free(a.err);
    free(a.dlq);
    free(a.status);
    free(a.ref);
    free(x);
    kf_buf_free(&buf);
    wk_cluster_stop(&c);
    return 0;
}

/* 1 when the engine in this build cannot run the model for want of op
 * kernels (the ops land separately): the test is then skipped, loudly. */
static int engine_lacks_ops(void) {
    char e[512];
    ke_model_t *m = ke_model_load_file(g_model_path, NULL, e, sizeof(e));
    if (m) {
        ke_model_free(m);
        return 0;
    }
    if (strstr(e, "unsupported op")) {
        printf("SKIP: this build's engine cannot run %s: %s\n", g_model_path, e);
        return 1;
    }
    return 0; /* another load error: let the test fail on it */
}

int main(int argc, char **argv) {
    const char *src = getenv("KINFER_SOURCE_DIR");
    const char *s = argc > 1 ? argv[1] : "correct";
    if (!strcmp(s, "correct")) {
        /* 5,000 jobs of 1-8 rows: identity16 keeps the volume under the mock
         * broker's ~5 MiB per partition (MNIST rows would be ~9 MiB) */
        FEAT = 16;
        OUTW = 16;
        OUTNAME = "output";
        snprintf(g_model_path, sizeof(g_model_path), "%s/models/identity16.onnx", src ? src : ".");
        return engine_lacks_ops() ? 77 : run(5000, 0);
    }
    snprintf(g_model_path, sizeof(g_model_path), "%s/models/mnist_mlp.onnx", src ? src : ".");
    if (!strcmp(s, "poison")) {
        MAXROWS = 4; /* ~2 MiB per partition: under the mock's ~5 MiB */
        return engine_lacks_ops() ? 77 : run(2000, 1);
    }
    if (!strcmp(s, "eos") || !strcmp(s, "eos_abort")) {
        /* processing.guarantee=exactly_once: results and input offsets in
         * one transaction; eos_abort injects Produce errors (aborts,
         * rewind to the committed offsets, read again) */
        FEAT = 16;
        OUTW = 16;
        OUTNAME = "output";
        EOS = !strcmp(s, "eos") ? 1 : 2;
        snprintf(g_model_path, sizeof(g_model_path), "%s/models/identity16.onnx", src ? src : ".");
        return engine_lacks_ops() ? 77 : run(2000, 0);
    }
    if (!strcmp(s, "oversize")) {
        /* 1,000 MNIST jobs of 1-4 rows, every 25th of 3.5 x max_batch rows
         * (split into max_batch chunks, reassembled into one result) */
        MAXROWS = 4;
        OVERSIZE = 1;
        return engine_lacks_ops() ? 77 : run(1000, 0);
    }
    fprintf(stderr, "unknown scenario %s\n", s);
    return 2;
}
