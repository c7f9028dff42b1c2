/* kf_worker: wiring of consumer → decode/route/validate → batcher → engine
 * → encode → producer → offsets; see kf_worker.h. */
#include "kf_worker.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kf_worker_chunks.h"
#include "kf_worker_internal.h"
#include "kf_worker_txn.h"

int64_t kf_worker_mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

kf_worker_params_t kf_worker_default_params(void) {
    kf_worker_params_t p;
    memset(&p, 0, sizeof(p));
    p.group = "kinfer";
    p.codec = kf_codec_default_params();
    p.max_batch = 64;
    p.max_queue_delay_ms = 5;
    p.device = "cpu";
    p.high_mark = 4096;
    p.low_mark = 1024;
    p.commit_interval_ms = 1000;
    p.drain_timeout_ms = 10000;
    return p;
}

static int hist_bucket(uint64_t rows) {
    int b = 0;
    uint64_t lim = 1;
    while (rows > lim && b < KF_WORKER_HIST - 1) {
        lim *= 2;
        b++;
    }
    return b;
}

const char *kf_worker_hist_label(int i) {
    static const char *const l[KF_WORKER_HIST] = {"1",       "2",       "3-4",      "5-8",
                                                  "9-16",    "17-32",   "33-64",    "65-128",
                                                  "129-256", "257-512", "513-1024", "1025+"};
    return i >= 0 && i < KF_WORKER_HIST ? l[i] : "?";
}

static void stat_result(kf_worker_t *w, kf_result_status_t s, int dlq) {
    atomic_fetch_add_explicit(&w->n_results[s], 1, memory_order_relaxed);
    if (dlq)
        atomic_fetch_add_explicit(&w->n_dlq, 1, memory_order_relaxed);
}

/* ---- results -------------------------------------------------------------- */

static const char *out_topic(kf_worker_t *w, const kf_request_t *req) {
    return req && req->reply_topic && req->reply_topic[0] ? req->reply_topic : w->p.output_topic;
}

static void base_result(kf_worker_t *w, const rd_kafka_message_t *m, const kf_request_t *req,
                        kf_result_t *r) {
    memset(r, 0, sizeof(*r));
    r->id = req ? req->id : "";
    r->model = req ? req->model : "";
    r->model_version = req && req->model_version ? req->model_version : "";
    r->worker = w->worker_id;
    r->source_topic = rd_kafka_topic_name(m->rkt);
    r->source_partition = m->partition;
    r->source_offset = m->offset;
    if (req) {
        r->metadata = req->metadata;
        r->n_metadata = req->n_metadata;
    }
}

/* Encodes and produces result r for message m. A result that cannot be
 * encoded or produced (over a size limit) is replaced by an INTERNAL error
 * result without outputs, so the job is still answered and its offset
 * acked rather than held forever. */
static void send_encoded(kf_worker_t *w, kf_buf_t *buf, const kf_result_t *r,
                         const rd_kafka_message_t *m, const char *topic, int ack) {
    kf_codec_error_t ce;
    kf_log_ctx_t ctx = {r->model, rd_kafka_topic_name(m->rkt), m->partition, m->offset};
    rd_kafka_headers_t *h = NULL;
    rd_kafka_message_headers(m, &h);
    kf_origin_t o = {rd_kafka_topic_name(m->rkt), m->partition, m->offset};
    kf_result_t fb;
    char why[300];
    for (int attempt = 0; attempt < 2; attempt++) {
        kf_status_t st = kf_codec_encode_result(&w->p.codec, r, buf, &ce);
        if (st != KF_OK) {
            kf_log_at(w->p.log, KF_LOG_ERROR, &ctx, "cannot encode result: %s", ce.msg);
            snprintf(why, sizeof(why), "result not encodable: %s", ce.msg);
        } else {
            st = kf_result_producer_send(w->rp, topic, m->key, m->key_len, buf->data, buf->len, h,
                                         ack ? &o : NULL);
            if (st == KF_OK) {
                stat_result(w, r->status, 0);
                return;
            }
            kf_log_at(w->p.log, KF_LOG_ERROR, &ctx, "cannot produce result (%zu bytes) to %s: %s",
                      buf->len, topic, kf_status_str(st));
            snprintf(why, sizeof(why), "result of %zu bytes could not be produced", buf->len);
        }
        if (r->n_outputs == 0 && r->status != KF_RESULT_OK)
            break; /* already the smallest answer */
        fb = *r;
        fb.outputs = NULL;
        fb.n_outputs = 0;
        fb.status = KF_RESULT_INTERNAL;
        fb.error = why;
        r = &fb;
    }
    kf_log_at(w->p.log, KF_LOG_ERROR, &ctx, "job not answered; its offset stays uncommitted");
}

/* Answers a job that will not run: an error result when its id is known,
 * and (dlq) the original bytes on the DLQ. The record that acks the input
 * offset is the DLQ record when there is one, else the result. Consumes
 * msg and req. */
static void reject(kf_worker_t *w, rd_kafka_message_t *m, kf_request_t *req, const char *id,
                   kf_result_status_t status, const char *error, int dlq) {
    if (id) {
        kf_result_t r;
        base_result(w, m, req, &r);
        r.id = id;
        r.status = status;
        r.error = error;
        send_encoded(w, &w->enc, &r, m, out_topic(w, req), !dlq);
        kf_wmetrics_job(w->p.metrics, r.model, kf_result_status_name(status), -1, -1, -1);
    }
    if (dlq || !id) {
        rd_kafka_headers_t *h = NULL;
        rd_kafka_message_headers(m, &h);
        kf_origin_t o = {rd_kafka_topic_name(m->rkt), m->partition, m->offset};
        if (kf_result_producer_send_dlq(w->rp, m->key, m->key_len, m->payload, m->len, h, error,
                                        &o) != KF_OK) {
            kf_log_ctx_t ctx = {NULL, o.topic, o.partition, o.offset};
            kf_log_at(w->p.log, KF_LOG_ERROR, &ctx, "cannot produce DLQ record");
        }
        atomic_fetch_add_explicit(&w->n_dlq, 1, memory_order_relaxed);
        kf_wmetrics_dlq(w->p.metrics, id ? kf_result_status_name(status) : "undecodable");
    }
    kf_request_free(req);
    rd_kafka_message_destroy(m);
}

/* Frees the memory of the answered jobs chained from j (their messages
 * are gone already). The consumer thread (or kf_worker_free). */
static void reap_jobs(kf_wjob_t *j) {
    while (j) {
        kf_wjob_t *nx = j->next_free;
        kf_wsplit_free(j->split);
        kf_request_free(j->req);
        free(j);
        j = nx;
    }
}

/* Engine thread, once per batch (at its first job). */
static void count_batch(kf_worker_t *w, size_t rows) {
    pthread_mutex_lock(&w->mu);
    w->st.batches++;
    w->st.batch_rows += rows;
    w->st.batch_hist[hist_bucket(rows)]++;
    pthread_mutex_unlock(&w->mu);
}

void kf_worker_job_result(kf_worker_t *w, kf_wjob_t *j, kf_status_t status, const void *const *out,
                          const kf_batch_info_t *info, const char *err) {
    kf_mv_t *mv = kf_model_ref_payload(j->ref);
    kf_result_t r;
    base_result(w, j->msg, j->req, &r);
    r.model_version = mv->version;
    r.batch_size = (int32_t)info->batch_rows;
    r.queue_us = info->queue_us;
    r.compute_us = info->compute_us;
    kf_tensor_view_t outs[KF_BATCH_MAX_IO];
    if (status == KF_OK) {
        for (int i = 0; i < mv->n_out; i++) {
            kf_tensor_view_t *t = &outs[i];
            memset(t, 0, sizeof(*t));
            t->name = mv->out[i].name;
            t->dtype = mv->out[i].dtype;
            t->rank = (uint32_t)mv->out[i].rank;
            memcpy(t->shape, mv->out[i].shape, sizeof(int64_t) * (size_t)mv->out[i].rank);
            if (mv->has_batch && t->rank > 0)
                t->shape[0] = (int64_t)j->bj.rows;
            t->data = out[i];
            t->nbytes = j->bj.rows * mv->out[i].row_bytes;
        }
        r.outputs = outs;
        r.n_outputs = (uint32_t)mv->n_out;
        r.status = KF_RESULT_OK;
    } else {
        r.status = status == KF_ERR_TIMEOUT ? KF_RESULT_DEADLINE_EXCEEDED : KF_RESULT_INTERNAL;
        r.error = err;
    }
    send_encoded(w, &mv->enc, &r, j->msg, out_topic(w, j->req), 1);
    int64_t now = kf_worker_mono_us(), lat = now - j->t0_us;
    kf_wmetrics_job(w->p.metrics, mv->name, kf_result_status_name(r.status),
                    status == KF_OK ? r.queue_us : -1, status == KF_OK ? r.compute_us : -1, lat);
    if (w->p.on_job && status == KF_OK) {
        kf_worker_job_info_t ji = {lat,
                                   r.queue_us,
                                   r.compute_us,
                                   now - info->ended_us,
                                   info->batch_rows,
                                   info->batch_jobs,
                                   info->job_index};
        w->p.on_job(w->p.on_job_user, &ji);
    }
    /* the message goes now: once its offset is acked the consumer may
     * close, and no message may outlive its consumer. The rest is released
     * after the batch's last result (a job's result then waits only for the
     * encode and produce of those before it) and freed by the consumer
     * thread. */
    rd_kafka_message_destroy(j->msg);
    j->msg = NULL;
    j->next_free = mv->freeq;
    mv->freeq = j;
}

/* Releases the answered jobs of mv's last batch (model references, live
 * count) and hands their memory to the consumer thread. mv may be
 * destroyed by the last release: not touched after it. */
static void free_answered(kf_mv_t *mv) {
    kf_wjob_t *j = mv->freeq;
    if (!j)
        return;
    mv->freeq = NULL;
    kf_worker_t *w = mv->owner;
    kf_model_ref_t *ref = NULL; /* one release per run of jobs on the same ref */
    size_t n_ref = 0;
    long n = 0;
    kf_wjob_t *head = j, *tail = j;
    for (; j; j = j->next_free) {
        if (j->ref != ref) {
            kf_models_release_n(ref, n_ref);
            ref = j->ref;
            n_ref = 0;
        }
        j->ref = NULL;
        n_ref++;
        n++;
        tail = j;
    }
    kf_models_release_n(ref, n_ref); /* may destroy mv: not touched after */
    atomic_fetch_sub(&w->live, n);
    /* hand the chain to the consumer thread */
    kf_wjob_t *old = atomic_load_explicit(&w->reap, memory_order_relaxed);
    do
        tail->next_free = old;
    while (!atomic_compare_exchange_weak_explicit(&w->reap, &old, head, memory_order_release,
                                                  memory_order_relaxed));
}

/* Engine thread: one job (or chunk of a split job) of a finished (or
 * refused) batch. */
static void on_job_done(void *opaque, kf_batch_job_t *bj, kf_status_t status,
                        const void *const *out, const kf_batch_info_t *info, const char *err) {
    kf_worker_t *w = opaque;
    kf_wjob_t *j = bj->user;
    kf_mv_t *mv = kf_model_ref_payload(j->ref);
    if (status == KF_OK && info->job_index == 0) {
        count_batch(w, info->batch_rows);
        kf_wmetrics_batch(w->p.metrics, mv->name, info->batch_rows);
    }
    if (j->split)
        kf_wsplit_chunk_done(w, j, bj, status, out, info, err);
    else
        kf_worker_job_result(w, j, status, out, info, err);
    /* a batch's last job, or a job answered outside a batch (late) */
    if (info->batch_jobs == 0 || info->job_index + 1 >= info->batch_jobs)
        free_answered(mv);
}

/* ---- consumer thread --------------------------------------------------------- */

/* Matches the request's tensors to the model inputs; fills job->in in model
 * order and returns the row count, or 0 with `err` set. */
static size_t validate(const kf_mv_t *mv, const kf_request_t *req, kf_batch_job_t *job, char *err,
                       size_t err_size) {
    if (req->n_inputs != (uint32_t)mv->n_in) {
        snprintf(err, err_size, "model %s takes %d input(s), the job has %u", mv->label, mv->n_in,
                 req->n_inputs);
        return 0;
    }
    size_t rows = 0;
    for (int i = 0; i < mv->n_in; i++) {
        const kf_mv_io_t *io = &mv->in[i];
        const kf_tensor_view_t *t = NULL;
        for (uint32_t k = 0; k < req->n_inputs && !t; k++)
            if (!strcmp(req->inputs[k].name, io->name))
                t = &req->inputs[k];
        if (!t && req->inputs[i].name[0] == '\0')
            t = &req->inputs[i]; /* positional */
        if (!t) {
            snprintf(err, err_size, "model %s: input '%s' missing", mv->label, io->name);
            return 0;
        }
        if (t->dtype != io->dtype) {
            snprintf(err, err_size, "model %s: input '%s' is %s, expected %s", mv->label, io->name,
                     kf_dtype_name(t->dtype), kf_dtype_name(io->dtype));
            return 0;
        }
        if ((int)t->rank != io->rank) {
            snprintf(err, err_size, "model %s: input '%s' has rank %u, expected %d", mv->label,
                     io->name, t->rank, io->rank);
            return 0;
        }
        for (int d = mv->has_batch ? 1 : 0; d < io->rank; d++) {
            if (t->shape[d] != io->shape[d]) {
                snprintf(err, err_size,
                         "model %s: input '%s' dim %d is %" PRId64 ", expected %" PRId64, mv->label,
                         io->name, d, t->shape[d], io->shape[d]);
                return 0;
            }
        }
        size_t r = mv->has_batch ? (size_t)t->shape[0] : 1;
        if (r == 0 || (rows && r != rows)) {
            snprintf(err, err_size, "model %s: input '%s' has %zu rows, other inputs %zu",
                     mv->label, io->name, r, rows);
            return 0;
        }
        rows = r;
        job->in[i] = t->data;
    }
    return rows;
}

static int64_t unix_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_msg(void *opaque, rd_kafka_message_t *m) {
    kf_worker_t *w = opaque;
    int64_t t0_us = kf_worker_mono_us();
    atomic_fetch_add_explicit(&w->n_consumed, 1, memory_order_relaxed);
    if (atomic_load_explicit(&w->reap, memory_order_relaxed))
        reap_jobs(atomic_exchange_explicit(&w->reap, NULL, memory_order_acquire));
    /* librdkafka parses a message's headers on first use and keeps them:
     * parse here, where the message is in cache, rather than in the engine
     * thread's hand-back (10% of its time at peak) */
    rd_kafka_headers_t *hdrs = NULL;
    rd_kafka_message_headers(m, &hdrs);
    kf_request_t *req = NULL;
    kf_codec_error_t ce;
    memset(&ce, 0, sizeof(ce));
    kf_status_t st = kf_codec_decode_request(&w->p.codec, m->payload, m->len, &req, &ce);
    if (st != KF_OK) {
        char id[256], msg[300];
        const char *idp = NULL;
        if (ce.has_id && ce.id) {
            size_t n = ce.id_len < sizeof(id) - 1 ? ce.id_len : sizeof(id) - 1;
            memcpy(id, ce.id, n);
            id[n] = 0;
            idp = id;
        }
        snprintf(msg, sizeof(msg), "%s: %s", kf_status_str(st), ce.msg);
        reject(w, m, NULL, idp, KF_RESULT_INVALID_INPUT, msg, 1);
        return;
    }
    kf_model_ref_t *ref = kf_models_acquire(w->models, req->model, req->model_version);
    if (!ref) {
        char msg[300];
        snprintf(msg, sizeof(msg), "model '%s'%s%s is not loaded", req->model,
                 req->model_version ? " version " : "",
                 req->model_version ? req->model_version : "");
        reject(w, m, req, req->id, KF_RESULT_MODEL_NOT_FOUND, msg, 1);
        return;
    }
    kf_mv_t *mv = kf_model_ref_payload(ref);
    kf_wjob_t *j = calloc(1, sizeof(*j));
    char err[300];
    if (!j) {
        kf_models_release(ref);
        reject(w, m, req, req->id, KF_RESULT_INTERNAL, "out of memory", 1);
        return;
    }
    size_t rows = validate(mv, req, &j->bj, err, sizeof(err));
    if (!rows) {
        free(j);
        kf_models_release(ref);
        reject(w, m, req, req->id, KF_RESULT_INVALID_INPUT, err, 1);
        return;
    }
    if (req->has_deadline && unix_ms() > req->deadline_ms) {
        free(j);
        kf_models_release(ref);
        snprintf(err, sizeof(err), "deadline %" PRId64 " passed before the job was queued",
                 req->deadline_ms);
        reject(w, m, req, req->id, KF_RESULT_DEADLINE_EXCEEDED, err, 0);
        return;
    }
    j->bj.rows = rows;
    j->bj.deadline_unix_us = req->has_deadline ? req->deadline_ms * 1000 : 0;
    j->bj.user = j;
    j->t0_us = t0_us;
    j->msg = m;
    j->req = req;
    j->ref = ref;
    atomic_fetch_add(&w->live, 1);
    if (mv->has_batch && rows > kf_batcher_max_batch(mv->batcher))
        st = kf_wsplit_push(w, mv, j, err, sizeof(err));
    else
        st = kf_batcher_push(mv->batcher, &j->bj, err, sizeof(err));
    if (st != KF_OK) {
        atomic_fetch_sub(&w->live, 1);
        j->msg = NULL;
        j->req = NULL;
        j->ref = NULL;
        free(j);
        kf_models_release(ref);
        reject(w, m, req, req->id, KF_RESULT_INVALID_INPUT, err, 1);
    }
}

/* ---- model versions -------------------------------------------------------------- */

static void mv_destroy(void *payload) {
    kf_mv_t *mv = payload;
    kf_worker_t *w = mv->owner;
    pthread_mutex_lock(&w->mu);
    for (kf_mv_t **pp = &w->mvs; *pp; pp = &(*pp)->next)
        if (*pp == mv) {
            *pp = mv->next;
            break;
        }
    pthread_mutex_unlock(&w->mu);
    kf_wmetrics_model_loaded(w->p.metrics, mv->name, mv->version, 0);
    kf_mv_free(mv);
}

kf_status_t kf_worker_load_model(kf_worker_t *w, const char *name, const char *version,
                                 const char *source, char *err, size_t err_size) {
    if (!w || !name || !*name || !source) {
        snprintf(err, err_size, "load model: name and source are required");
        return KF_ERR_INVALID_ARG;
    }
    char path[4096];
    if (w->p.resolve) {
        kf_status_t st =
            w->p.resolve(w->p.resolve_user, name, source, path, sizeof(path), err, err_size);
        if (st != KF_OK)
            return st;
    } else {
        snprintf(path, sizeof(path), "%s",
                 strncmp(source, "file://", 7) == 0 ? source + 7 : source);
    }
    kf_mv_params_t mp;
    memset(&mp, 0, sizeof(mp));
    mp.max_batch = w->p.max_batch;
    mp.max_queue_delay_ms = w->p.max_queue_delay_ms;
    mp.preferred_batch = w->p.preferred_batch;
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < w->n_batching; i++)
        if (!strcmp(w->batching[i].name, name)) {
            mp.max_batch = w->batching[i].max_batch;
            mp.max_queue_delay_ms = w->batching[i].max_queue_delay_ms;
            mp.preferred_batch = w->batching[i].preferred_batch;
        }
    pthread_mutex_unlock(&w->mu);
    mp.memory_budget = w->p.memory_budget;
    mp.device_percent = w->p.device_percent;
    mp.threads = w->p.threads;
    mp.device = w->p.device;
    mp.precision = w->p.precision;
    mp.max_queued_jobs = w->p.high_mark * 2 + 1024;
    kf_mv_t *mv =
        kf_mv_new(name, version ? version : "1", path, &mp, on_job_done, w, err, err_size);
    if (!mv)
        return KF_ERR_INVALID_INPUT;
    mv->owner = w;
    pthread_mutex_lock(&w->mu);
    mv->next = w->mvs;
    w->mvs = mv;
    pthread_mutex_unlock(&w->mu);
    kf_status_t st = kf_models_publish(w->models, name, mv->version, mv, mv_destroy);
    if (st != KF_OK) {
        snprintf(err, err_size, "model %s: cannot publish: %s", mv->label, kf_status_str(st));
        return st;
    }
    kf_wmetrics_model_loaded(w->p.metrics, mv->name, mv->version, 1);
    KF_INFO(w->p.log, "model %s loaded from %s (max_batch %zu%s)", mv->label, path, mv->max_batch,
            mv->pipelined ? ", one batch in flight" : "");
    return KF_OK;
}

kf_status_t kf_worker_set_model_batching(kf_worker_t *w, const kf_model_batching_t *b, size_t n) {
    if (!w || (n && !b))
        return KF_ERR_INVALID_ARG;
    kf_model_batching_t *copy = n ? malloc(n * sizeof(*copy)) : NULL;
    if (n && !copy)
        return KF_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!b[i].max_batch || b[i].max_queue_delay_ms < 0 ||
            b[i].preferred_batch > b[i].max_batch) {
            free(copy);
            return KF_ERR_INVALID_ARG;
        }
        copy[i] = b[i];
    }
    pthread_mutex_lock(&w->mu);
    free(w->batching);
    w->batching = copy;
    w->n_batching = n;
    pthread_mutex_unlock(&w->mu);
    return KF_OK;
}

kf_status_t kf_worker_model_batching(kf_worker_t *w, const char *name, kf_model_batching_t *out) {
    kf_model_ref_t *ref = w && name ? kf_models_acquire(w->models, name, NULL) : NULL;
    if (!ref)
        return KF_ERR_NOT_FOUND;
    kf_mv_t *mv = kf_model_ref_payload(ref);
    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", mv->name);
    out->max_batch = mv->max_batch;
    out->max_queue_delay_ms = mv->max_queue_delay_ms;
    out->preferred_batch = mv->preferred_batch;
    kf_models_release(ref);
    return KF_OK;
}

/* ---- lifecycle ----------------------------------------------------------------------- */

kf_worker_t *kf_worker_new(const kf_worker_params_t *params, char *err, size_t err_size) {
    if (!params || !params->bootstrap || !params->topics || !params->topics[0] ||
        !params->output_topic || !params->dlq_topic) {
        snprintf(err, err_size,
                 "worker: bootstrap, input topics, output topic and DLQ topic "
                 "are required");
        return NULL;
    }
    kf_worker_t *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, err_size, "worker: out of memory");
        return NULL;
    }
    w->p = *params;
    if (!w->p.group)
        w->p.group = "kinfer";
    if (params->worker_id) {
        snprintf(w->worker_id, sizeof(w->worker_id), "%s", params->worker_id);
    } else {
        char host[64] = "localhost";
        gethostname(host, sizeof(host) - 1);
        snprintf(w->worker_id, sizeof(w->worker_id), "%s:%d", host, (int)getpid());
    }
    pthread_mutex_init(&w->mu, NULL);
    w->offs = kf_offsets_new();
    w->models = kf_models_new(2);
    if (!w->offs || !w->models) {
        snprintf(err, err_size, "worker: out of memory");
        goto fail;
    }
    kf_result_producer_params_t rp = kf_result_producer_default_params();
    rp.bootstrap = params->bootstrap;
    rp.dlq_topic = params->dlq_topic;
    rp.kafka_kv = params->kafka_kv;
    rp.conf_fn = params->kafka_conf_fn;
    rp.conf_user = params->kafka_conf_user;
    rp.offsets = w->offs;
    rp.log = params->log;
    if (params->exactly_once) {
        if (params->transactional_id && params->transactional_id[0])
            snprintf(w->txn_id, sizeof(w->txn_id), "%s", params->transactional_id);
        else
            snprintf(w->txn_id, sizeof(w->txn_id), "kinfer-%s-%s", w->p.group, w->worker_id);
        rp.transactional_id = w->txn_id;
    }
    w->rp = kf_result_producer_new(&rp, err, err_size);
    if (!w->rp)
        goto fail;
    return w;
fail:
    kf_models_free(w->models);
    kf_offsets_free(w->offs);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return NULL;
}

/* Poll thread: librdkafka statistics -> kinfer_consumer_lag. */
static void on_stats(void *opaque, const char *json, size_t len) {
    kf_worker_t *w = opaque;
    if (kf_wmetrics_rdkafka_stats(w->p.metrics, json, len) != KF_OK)
        KF_WARN(w->p.log, "metrics: librdkafka statistics did not parse");
}

kf_status_t kf_worker_start(kf_worker_t *w, char *err, size_t err_size) {
    if (!w || w->c) {
        snprintf(err, err_size, "worker: already started");
        return KF_ERR_INVALID_ARG;
    }
    kf_consumer_params_t cp = kf_consumer_default_params();
    cp.bootstrap = w->p.bootstrap;
    cp.group = w->p.group;
    cp.topics = w->p.topics;
    cp.kafka_kv = w->p.kafka_kv;
    cp.conf_fn = w->p.kafka_conf_fn;
    cp.conf_user = w->p.kafka_conf_user;
    cp.offsets = w->offs;
    cp.log = w->p.log;
    cp.high_mark = w->p.high_mark;
    cp.low_mark = w->p.low_mark;
    cp.commit_interval_ms = w->p.commit_interval_ms;
    cp.drain_timeout_ms = w->p.drain_timeout_ms;
    cp.on_msg = on_msg;
    cp.opaque = w;
    if (w->p.exactly_once)
        cp.commit_fn = kf_worker_txn_commit;
    if (w->p.metrics && w->p.stats_interval_ms > 0) {
        cp.on_stats = on_stats;
        cp.stats_interval_ms = w->p.stats_interval_ms;
    }
    const char *outs[] = {w->p.output_topic, w->p.dlq_topic, NULL};
    char e[256];
    if (kf_result_producer_warm(w->rp, outs, 5000, e, sizeof(e)) != KF_OK)
        KF_WARN(w->p.log, "output topics not known yet (%s); the first results may wait", e);
    w->c = kf_consumer_new(&cp, err, err_size);
    return w->c ? KF_OK : KF_ERR_KAFKA;
}

void kf_worker_stop(kf_worker_t *w) {
    if (w)
        kf_consumer_stop(w->c);
}

kf_status_t kf_worker_wait(kf_worker_t *w, int timeout_ms) {
    if (!w || !w->c)
        return KF_OK;
    return kf_consumer_wait(w->c, timeout_ms);
}

void kf_worker_free(kf_worker_t *w) {
    if (!w)
        return;
    kf_consumer_free(w->c); /* stops, drains, commits, leaves the group */
    w->c = NULL;
    /* run what is still queued (after a drain timeout) so every job
     * releases its model reference before the registry goes */
    for (;;) {
        pthread_mutex_lock(&w->mu);
        kf_mv_t *mv = w->mvs;
        while (mv && !mv->batcher)
            mv = mv->next;
        pthread_mutex_unlock(&w->mu);
        if (!mv)
            break;
        kf_mv_stop(mv);
    }
    reap_jobs(atomic_exchange(&w->reap, NULL));
    kf_models_free(w->models);
    kf_result_producer_free(w->rp);
    kf_offsets_free(w->offs);
    kf_buf_free(&w->enc);
    free(w->batching);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

kf_worker_stats_t kf_worker_stats(kf_worker_t *w) {
    kf_worker_stats_t s;
    memset(&s, 0, sizeof(s));
    if (!w)
        return s;
    pthread_mutex_lock(&w->mu);
    s = w->st;
    pthread_mutex_unlock(&w->mu);
    s.consumed = atomic_load_explicit(&w->n_consumed, memory_order_relaxed);
    s.dlq = atomic_load_explicit(&w->n_dlq, memory_order_relaxed);
    for (int i = 0; i < KF_RESULT_STATUS_COUNT; i++)
        s.results[i] = atomic_load_explicit(&w->n_results[i], memory_order_relaxed);
    s.delivered = kf_result_producer_stats(w->rp).delivered;
    s.inflight = kf_offsets_inflight(w->offs, NULL, 0);
    s.paused = kf_consumer_paused(w->c);
    if (w->c) {
        kf_consumer_stats_t cs = kf_consumer_stats(w->c);
        s.assigned = (int64_t)cs.assigned - (int64_t)cs.revoked;
        s.commits = cs.commits;
    }
    kf_result_producer_stats_t ps = kf_result_producer_stats(w->rp);
    if (w->p.exactly_once)
        s.commits = ps.txn_commits;
    s.txn_aborts = ps.txn_aborts;
    return s;
}

int64_t kf_worker_committed(kf_worker_t *w, const char *topic, int32_t partition) {
    return w ? kf_offsets_committed(w->offs, topic, partition) : -1;
}

int kf_worker_ready(void *ctx, char *reason, size_t reason_size) {
    kf_worker_t *w = ctx;
    if (!w)
        return 0;
    if (kf_models_count(w->models) == 0) {
        snprintf(reason, reason_size, "no model loaded");
        return 0;
    }
    if (kf_consumer_assigned(w->c) <= 0) {
        snprintf(reason, reason_size, "no partitions assigned");
        return 0;
    }
    return 1;
}

void kf_worker_collect_metrics(void *ctx, kf_metrics_t *reg) {
    kf_worker_t *w = ctx;
    (void)reg;
    kf_worker_stats_t s = kf_worker_stats(w);
    kf_wmetrics_inflight(w->p.metrics, (int64_t)s.inflight);
    kf_wmetrics_paused(w->p.metrics, s.paused);
}
