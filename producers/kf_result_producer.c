/* kf_result_producer: see kf_result_producer.h. Each produced record carries
 * a heap "rec" as its msg_opaque (origin + DLQ flag); the delivery report
 * acks the origin in the offset tracker, or queues a copy of the record for
 * a re-produce by the poll thread after a backoff. */
#include "kf_result_producer.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct rec {
    int is_dlq;
    int has_origin;
    int32_t partition;
    int64_t offset;
    char topic[]; /* origin topic */
} rec_t;

typedef struct retry {
    struct retry *next;
    int64_t due_us;
    char *topic; /* destination */
    void *key, *value;
    size_t key_len, value_len;
    rd_kafka_headers_t *hdrs;
    rec_t *rec;
} retry_t;

#define RP_MAX_TOPICS 16 /* cached topic handles; later topics go by name */

struct kf_result_producer {
    rd_kafka_t *rk;
    kf_result_producer_params_t p;
    char *dlq_topic;
    pthread_t th;
    atomic_int stop;
    atomic_long outstanding; /* records not yet finally delivered */
    pthread_mutex_t mu;      /* guards retries, st and topic inserts */
    retry_t *retries;
    kf_result_producer_stats_t st; /* sent/delivered/dlq_delivered live in n_* */
    /* per-record counters, lock-free: the sending threads and the poll
     * thread update them for every record */
    atomic_uint_fast64_t n_sent, n_delivered, n_dlq_delivered;
    /* topic handles by name, so a send skips librdkafka's lookup by name:
     * entries [0, n_topics) are never changed once published; inserts
     * under mu */
    struct {
        char *name;
        rd_kafka_topic_t *rkt;
    } topics[RP_MAX_TOPICS];
    atomic_int n_topics;
    int txn;                 /* transactional */
    atomic_int txn_broken;   /* a record of the open transaction failed */
    atomic_long txn_records; /* records produced in the open transaction */
};

static int64_t mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

kf_result_producer_params_t kf_result_producer_default_params(void) {
    kf_result_producer_params_t p;
    memset(&p, 0, sizeof(p));
    p.retry_backoff_ms = 200;
    return p;
}

kf_status_t kf_kafka_conf_apply(rd_kafka_conf_t *conf, const char *const *kv, char *err,
                                size_t err_size) {
    for (size_t i = 0; kv && kv[i]; i += 2) {
        if (!kv[i + 1]) {
            snprintf(err, err_size, "kafka config key '%s' has no value", kv[i]);
            return KF_ERR_CONFIG;
        }
        char e[256];
        if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], e, sizeof(e)) != RD_KAFKA_CONF_OK) {
            snprintf(err, err_size, "kafka config key '%s': %s", kv[i], e);
            return KF_ERR_CONFIG;
        }
    }
    return KF_OK;
}

static void retry_free(retry_t *r) {
    free(r->topic);
    free(r->key);
    free(r->value);
    if (r->hdrs)
        rd_kafka_headers_destroy(r->hdrs);
    free(r->rec);
    free(r);
}

static void *dup_bytes(const void *p, size_t n) {
    if (!p)
        return NULL;
    void *d = malloc(n ? n : 1);
    if (d)
        memcpy(d, p, n);
    return d;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    kf_result_producer_t *rp = opaque;
    rec_t *rec = m->_private;
    if (!m->err) {
        if (rec && rec->has_origin && rp->p.offsets)
            kf_offsets_ack(rp->p.offsets, rec->topic, rec->partition, rec->offset);
        if (rp->p.on_delivered) {
            kf_origin_t o = {rec && rec->has_origin ? rec->topic : NULL, rec ? rec->partition : -1,
                             rec ? rec->offset : -1};
            rd_kafka_headers_t *h = NULL;
            rd_kafka_message_headers(m, &h);
            rp->p.on_delivered(rp->p.opaque, &o, rec ? rec->is_dlq : 0, h);
        }
        atomic_fetch_add_explicit(&rp->n_delivered, 1, memory_order_relaxed);
        if (rec && rec->is_dlq)
            atomic_fetch_add_explicit(&rp->n_dlq_delivered, 1, memory_order_relaxed);
        free(rec);
        atomic_fetch_sub(&rp->outstanding, 1);
        return;
    }
    /* failed for good as far as librdkafka is concerned: re-produce later */
    kf_log_ctx_t ctx = {NULL, rd_kafka_topic_name(m->rkt), -1, -1};
    if (rec && rec->has_origin) {
        ctx.partition = rec->partition;
        ctx.offset = rec->offset;
    }
    if (rp->txn) {
        /* a transaction with a failed record can only be aborted: the
         * offset stays unacked and the input is consumed again */
        kf_log_at(rp->p.log, KF_LOG_WARN, &ctx,
                  "delivery to %s failed (%s); the transaction will be aborted",
                  rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        atomic_store(&rp->txn_broken, 1);
        free(rec);
        atomic_fetch_sub(&rp->outstanding, 1);
        return;
    }
    kf_log_at(rp->p.log, KF_LOG_WARN, &ctx, "delivery to %s failed (%s); retrying",
              rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
    retry_t *r = calloc(1, sizeof(*r));
    if (r) {
        r->topic = strdup(rd_kafka_topic_name(m->rkt));
        r->key = dup_bytes(m->key, m->key_len);
        r->key_len = m->key_len;
        r->value = dup_bytes(m->payload, m->len);
        r->value_len = m->len;
        rd_kafka_headers_t *h = NULL;
        if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h)
            r->hdrs = rd_kafka_headers_copy(h);
        r->rec = rec;
        r->due_us = mono_us() + (int64_t)rp->p.retry_backoff_ms * 1000;
    }
    if (!r || !r->topic || (m->key && !r->key) || (m->payload && !r->value)) {
        kf_log_at(rp->p.log, KF_LOG_ERROR, &ctx,
                  "out of memory keeping a failed record for retry; its input offset will "
                  "not be committed");
        if (r) {
            r->rec = NULL;
            retry_free(r);
        }
        free(rec);
        atomic_fetch_sub(&rp->outstanding, 1);
        return;
    }
    pthread_mutex_lock(&rp->mu);
    r->next = rp->retries;
    rp->retries = r;
    rp->st.retried++;
    pthread_mutex_unlock(&rp->mu);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    kf_result_producer_t *rp = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[256];
        rd_kafka_resp_err_t fe = rd_kafka_fatal_error(rk, buf, sizeof(buf));
        KF_ERROR(rp->p.log, "producer fatal error %s: %s", rd_kafka_err2name(fe), buf);
        return;
    }
    KF_DEBUG(rp->p.log, "producer: %s: %s", rd_kafka_err2name(err), reason);
}

/* Re-produces due retries without blocking; called on the poll thread. */
static void run_retries(kf_result_producer_t *rp) {
    int64_t now = mono_us();
    pthread_mutex_lock(&rp->mu);
    retry_t **pp = &rp->retries;
    while (*pp) {
        retry_t *r = *pp;
        if (r->due_us > now) {
            pp = &r->next;
            continue;
        }
        rd_kafka_headers_t *h = r->hdrs ? rd_kafka_headers_copy(r->hdrs) : NULL;
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rp->rk, RD_KAFKA_V_TOPIC(r->topic), RD_KAFKA_V_KEY(r->key, r->key_len),
            RD_KAFKA_V_VALUE(r->value, r->value_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(r->rec), RD_KAFKA_V_END);
        if (e) {
            if (h)
                rd_kafka_headers_destroy(h);
            r->due_us = now + (int64_t)rp->p.retry_backoff_ms * 1000;
            pp = &r->next;
            continue;
        }
        *pp = r->next;
        r->rec = NULL; /* now owned by the new record */
        retry_free(r);
    }
    pthread_mutex_unlock(&rp->mu);
}

static void *poll_main(void *arg) {
    kf_result_producer_t *rp = arg;
    pthread_setname_np(pthread_self(), "kf-delivery");
    while (!atomic_load(&rp->stop)) {
        rd_kafka_poll(rp->rk, 20);
        run_retries(rp);
    }
    return NULL;
}

kf_result_producer_t *kf_result_producer_new(const kf_result_producer_params_t *params, char *err,
                                             size_t err_size) {
    if (!params || !params->bootstrap) {
        snprintf(err, err_size, "result producer: bootstrap servers not set");
        return NULL;
    }
    kf_result_producer_t *rp = calloc(1, sizeof(*rp));
    if (!rp) {
        snprintf(err, err_size, "result producer: out of memory");
        return NULL;
    }
    rp->p = *params;
    if (rp->p.retry_backoff_ms <= 0)
        rp->p.retry_backoff_ms = 200;
    if (rp->p.txn_init_timeout_ms <= 0)
        rp->p.txn_init_timeout_ms = 30000;
    rp->txn = params->transactional_id && params->transactional_id[0];
    if (params->dlq_topic && !(rp->dlq_topic = strdup(params->dlq_topic))) {
        free(rp);
        snprintf(err, err_size, "result producer: out of memory");
        return NULL;
    }
    pthread_mutex_init(&rp->mu, NULL);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *defaults[] = {"bootstrap.servers",
                              params->bootstrap,
                              "enable.idempotence",
                              "true",
                              "acks",
                              "all",
                              "linger.ms",
                              "2",
                              NULL};
    char e[256];
    if (kf_kafka_conf_apply(conf, defaults, e, sizeof(e)) != KF_OK ||
        kf_kafka_conf_apply(conf, params->kafka_kv, e, sizeof(e)) != KF_OK ||
        (params->conf_fn && params->conf_fn(params->conf_user, conf, e, sizeof(e)) != KF_OK)) {
        snprintf(err, err_size, "result producer: %s", e);
        goto fail_conf;
    }
    if (rp->txn && rd_kafka_conf_set(conf, "transactional.id", params->transactional_id, e,
                                     sizeof(e)) != RD_KAFKA_CONF_OK) {
        snprintf(err, err_size, "result producer: transactional.id: %s", e);
        goto fail_conf;
    }
    rd_kafka_conf_set_opaque(conf, rp);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rp->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
    if (!rp->rk) {
        snprintf(err, err_size, "result producer: %s", e);
        goto fail_conf;
    }
    if (rp->txn) {
        rd_kafka_error_t *ke = rd_kafka_init_transactions(rp->rk, rp->p.txn_init_timeout_ms);
        if (!ke)
            ke = rd_kafka_begin_transaction(rp->rk);
        if (ke) {
            snprintf(err, err_size, "result producer: transactional.id %s: %s",
                     params->transactional_id, rd_kafka_error_string(ke));
            rd_kafka_error_destroy(ke);
            rd_kafka_destroy(rp->rk);
            goto fail;
        }
    }
    if (pthread_create(&rp->th, NULL, poll_main, rp) != 0) {
        snprintf(err, err_size, "result producer: cannot start poll thread");
        rd_kafka_destroy(rp->rk);
        goto fail;
    }
    return rp;
fail_conf:
    rd_kafka_conf_destroy(conf);
fail:
    pthread_mutex_destroy(&rp->mu);
    free(rp->dlq_topic);
    free(rp);
    return NULL;
}

kf_status_t kf_result_producer_flush(kf_result_producer_t *rp, int timeout_ms) {
    if (!rp)
        return KF_ERR_INVALID_ARG;
    int64_t end = mono_us() + (int64_t)timeout_ms * 1000;
    struct timespec ts = {0, 2000000};
    while (atomic_load(&rp->outstanding) > 0) {
        if (mono_us() >= end)
            return KF_ERR_TIMEOUT;
        nanosleep(&ts, NULL);
    }
    return KF_OK;
}

void kf_result_producer_free(kf_result_producer_t *rp) {
    if (!rp)
        return;
    if (kf_result_producer_flush(rp, 30000) != KF_OK)
        KF_WARN(rp->p.log, "result producer: %ld records not delivered at shutdown",
                (long)atomic_load(&rp->outstanding));
    atomic_store(&rp->stop, 1);
    pthread_join(rp->th, NULL);
    /* purge what is left so its delivery reports (and recs) are served */
    rd_kafka_purge(rp->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rp->rk, 1000);
    for (int i = 0; i < atomic_load(&rp->n_topics); i++) {
        rd_kafka_topic_destroy(rp->topics[i].rkt);
        free(rp->topics[i].name);
    }
    rd_kafka_destroy(rp->rk);
    while (rp->retries) {
        retry_t *r = rp->retries;
        rp->retries = r->next;
        retry_free(r);
    }
    pthread_mutex_destroy(&rp->mu);
    free(rp->dlq_topic);
    free(rp);
}

static rec_t *rec_new(const kf_origin_t *o, int is_dlq) {
    size_t tl = o && o->topic ? strlen(o->topic) : 0;
    rec_t *r = malloc(sizeof(*r) + tl + 1);
    if (!r)
        return NULL;
    r->is_dlq = is_dlq;
    r->has_origin = o && o->topic;
    r->partition = o ? o->partition : -1;
    r->offset = o ? o->offset : -1;
    memcpy(r->topic, tl ? o->topic : "", tl + 1);
    return r;
}

/* The cached handle of `topic`, created on first use. Once the cache is
 * full (or the entry cannot be made), a new handle that the caller destroys
 * after producing (*owned = 1). NULL when librdkafka cannot make one. */
static rd_kafka_topic_t *topic_handle(kf_result_producer_t *rp, const char *topic, int *owned) {
    *owned = 0;
    int n = atomic_load_explicit(&rp->n_topics, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (!strcmp(rp->topics[i].name, topic))
            return rp->topics[i].rkt;
    rd_kafka_topic_t *rkt = NULL;
    pthread_mutex_lock(&rp->mu);
    n = atomic_load_explicit(&rp->n_topics, memory_order_relaxed);
    for (int i = 0; i < n && !rkt; i++) /* another thread may have added it */
        if (!strcmp(rp->topics[i].name, topic))
            rkt = rp->topics[i].rkt;
    if (!rkt && n < RP_MAX_TOPICS) {
        char *name = strdup(topic);
        rkt = name ? rd_kafka_topic_new(rp->rk, topic, NULL) : NULL;
        if (rkt) {
            rp->topics[n].name = name;
            rp->topics[n].rkt = rkt;
            atomic_store_explicit(&rp->n_topics, n + 1, memory_order_release);
        } else {
            free(name);
        }
    }
    pthread_mutex_unlock(&rp->mu);
    if (!rkt) {
        rkt = rd_kafka_topic_new(rp->rk, topic, NULL);
        *owned = rkt != NULL;
    }
    return rkt;
}

static kf_status_t produce(kf_result_producer_t *rp, const char *topic, const void *key,
                           size_t key_len, const void *value, size_t value_len,
                           rd_kafka_headers_t *h, rec_t *rec) {
    atomic_fetch_add(&rp->outstanding, 1);
    int owned;
    rd_kafka_topic_t *rkt = topic_handle(rp, topic, &owned);
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__FAIL;
    if (rkt)
        e = rd_kafka_producev(rp->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_KEY(key, key_len),
                              RD_KAFKA_V_VALUE((void *)value, value_len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY | RD_KAFKA_MSG_F_BLOCK),
                              RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(rec), RD_KAFKA_V_END);
    else if (rd_kafka_last_error())
        e = rd_kafka_last_error();
    if (owned)
        rd_kafka_topic_destroy(rkt); /* the record holds its own reference */
    if (e) {
        atomic_fetch_sub(&rp->outstanding, 1);
        if (rp->txn)
            atomic_store(&rp->txn_broken, 1);
        if (h)
            rd_kafka_headers_destroy(h);
        free(rec);
        KF_ERROR(rp->p.log, "produce to %s failed: %s", topic, rd_kafka_err2str(e));
        return KF_ERR_KAFKA;
    }
    atomic_fetch_add(&rp->txn_records, 1);
    atomic_fetch_add_explicit(&rp->n_sent, 1, memory_order_relaxed);
    return KF_OK;
}

kf_status_t kf_result_producer_send(kf_result_producer_t *rp, const char *topic, const void *key,
                                    size_t key_len, const void *value, size_t value_len,
                                    const rd_kafka_headers_t *hdrs, const kf_origin_t *origin) {
    if (!rp || !topic)
        return KF_ERR_INVALID_ARG;
    rec_t *rec = rec_new(origin, 0);
    rd_kafka_headers_t *h = hdrs ? rd_kafka_headers_copy(hdrs) : NULL;
    if (!rec || (hdrs && !h)) {
        free(rec);
        if (h)
            rd_kafka_headers_destroy(h);
        return KF_ERR_NOMEM;
    }
    return produce(rp, topic, key, key_len, value, value_len, h, rec);
}

kf_status_t kf_result_producer_send_dlq(kf_result_producer_t *rp, const void *key, size_t key_len,
                                        const void *value, size_t value_len,
                                        const rd_kafka_headers_t *hdrs, const char *error,
                                        const kf_origin_t *origin) {
    if (!rp || !rp->dlq_topic)
        return KF_ERR_INVALID_ARG;
    rec_t *rec = rec_new(origin, 1);
    rd_kafka_headers_t *h = hdrs ? rd_kafka_headers_copy(hdrs) : rd_kafka_headers_new(4);
    if (!rec || !h) {
        free(rec);
        if (h)
            rd_kafka_headers_destroy(h);
        return KF_ERR_NOMEM;
    }
    const char *msg = error ? error : "unknown error";
    rd_kafka_header_add(h, "kinfer.error", -1, msg, (ssize_t)strlen(msg));
    if (origin && origin->topic) {
        char num[32];
        rd_kafka_header_add(h, "kinfer.source.topic", -1, origin->topic,
                            (ssize_t)strlen(origin->topic));
        snprintf(num, sizeof(num), "%" PRId32, origin->partition);
        rd_kafka_header_add(h, "kinfer.source.partition", -1, num, (ssize_t)strlen(num));
        snprintf(num, sizeof(num), "%" PRId64, origin->offset);
        rd_kafka_header_add(h, "kinfer.source.offset", -1, num, (ssize_t)strlen(num));
    }
    return produce(rp, rp->dlq_topic, key, key_len, value, value_len, h, rec);
}

kf_status_t kf_result_producer_warm(kf_result_producer_t *rp, const char *const *topics,
                                    int timeout_ms, char *err, size_t err_size) {
    if (!rp)
        return KF_ERR_INVALID_ARG;
    for (size_t i = 0; topics && topics[i]; i++) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rp->rk, topics[i], NULL);
        if (!rkt) {
            snprintf(err, err_size, "topic %s: %s", topics[i],
                     rd_kafka_err2str(rd_kafka_last_error()));
            return KF_ERR_KAFKA;
        }
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = rd_kafka_metadata(rp->rk, 0, rkt, &md, timeout_ms);
        if (md)
            rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        if (e) {
            snprintf(err, err_size, "metadata of topic %s: %s", topics[i], rd_kafka_err2str(e));
            return KF_ERR_KAFKA;
        }
    }
    return KF_OK;
}

kf_result_producer_stats_t kf_result_producer_stats(kf_result_producer_t *rp) {
    kf_result_producer_stats_t s;
    memset(&s, 0, sizeof(s));
    if (!rp)
        return s;
    pthread_mutex_lock(&rp->mu);
    s = rp->st;
    pthread_mutex_unlock(&rp->mu);
    s.sent = atomic_load(&rp->n_sent);
    s.delivered = atomic_load(&rp->n_delivered);
    s.dlq_delivered = atomic_load(&rp->n_dlq_delivered);
    return s;
}

rd_kafka_t *kf_result_producer_handle(kf_result_producer_t *rp) {
    return rp ? rp->rk : NULL;
}

/* ---- exactly-once ------------------------------------------------------------ */

int kf_result_producer_txn_broken(kf_result_producer_t *rp) {
    return rp && rp->txn && atomic_load(&rp->txn_broken);
}

/* Maps a transactional API error: KF_ERR_KAFKA (abort needed, or another
 * non-fatal failure), KF_ERR_INTERNAL (fatal). Destroys ke. */
static kf_status_t txn_error(kf_result_producer_t *rp, const char *what, rd_kafka_error_t *ke,
                             char *err, size_t err_size) {
    int fatal = rd_kafka_error_is_fatal(ke);
    snprintf(err, err_size, "transaction %s: %s%s", what, rd_kafka_error_string(ke),
             fatal ? " (fatal)" : "");
    rd_kafka_error_destroy(ke);
    if (!fatal)
        atomic_store(&rp->txn_broken, 1);
    return fatal ? KF_ERR_INTERNAL : KF_ERR_KAFKA;
}

kf_status_t kf_result_producer_txn_begin(kf_result_producer_t *rp, char *err, size_t err_size) {
    if (!rp || !rp->txn)
        return KF_ERR_INVALID_ARG;
    rd_kafka_error_t *ke = rd_kafka_begin_transaction(rp->rk);
    if (ke) { /* only a fatal or a state error can fail it */
        snprintf(err, err_size, "transaction begin: %s", rd_kafka_error_string(ke));
        rd_kafka_error_destroy(ke);
        return KF_ERR_INTERNAL;
    }
    atomic_store(&rp->txn_broken, 0);
    atomic_store(&rp->txn_records, 0);
    return KF_OK;
}

kf_status_t kf_result_producer_txn_commit(kf_result_producer_t *rp,
                                          const rd_kafka_topic_partition_list_t *offsets,
                                          const rd_kafka_consumer_group_metadata_t *cgmd, char *err,
                                          size_t err_size) {
    if (!rp || !rp->txn || !cgmd)
        return KF_ERR_INVALID_ARG;
    if (atomic_load(&rp->txn_broken)) {
        snprintf(err, err_size, "transaction: a record failed");
        return KF_ERR_KAFKA;
    }
    int has_offsets = offsets && offsets->cnt > 0;
    if (!has_offsets && atomic_load(&rp->txn_records) == 0)
        return KF_OK; /* empty: keep it open */
    for (int attempt = 0;; attempt++) {
        rd_kafka_error_t *ke = NULL;
        if (has_offsets)
            ke = rd_kafka_send_offsets_to_transaction(rp->rk, offsets, cgmd, -1);
        if (!ke)
            ke = rd_kafka_commit_transaction(rp->rk, -1);
        if (!ke)
            break;
        if (rd_kafka_error_is_retriable(ke) && attempt < 5) {
            KF_WARN(rp->p.log, "transaction commit: %s (retrying)", rd_kafka_error_string(ke));
            rd_kafka_error_destroy(ke);
            continue;
        }
        if (!rd_kafka_error_is_fatal(ke) && !rd_kafka_error_txn_requires_abort(ke)) {
            /* neither: treat as abortable so the inputs are read again */
            KF_WARN(rp->p.log, "transaction commit: %s", rd_kafka_error_string(ke));
        }
        return txn_error(rp, "commit", ke, err, err_size);
    }
    pthread_mutex_lock(&rp->mu);
    rp->st.txn_commits++;
    pthread_mutex_unlock(&rp->mu);
    return kf_result_producer_txn_begin(rp, err, err_size);
}

kf_status_t kf_result_producer_txn_abort(kf_result_producer_t *rp, int begin_next, char *err,
                                         size_t err_size) {
    if (!rp || !rp->txn)
        return KF_ERR_INVALID_ARG;
    for (int attempt = 0;; attempt++) {
        rd_kafka_error_t *ke = rd_kafka_abort_transaction(rp->rk, -1);
        if (!ke)
            break;
        if (rd_kafka_error_is_retriable(ke) && attempt < 5) {
            rd_kafka_error_destroy(ke);
            continue;
        }
        snprintf(err, err_size, "transaction abort: %s", rd_kafka_error_string(ke));
        rd_kafka_error_destroy(ke);
        return KF_ERR_INTERNAL;
    }
    pthread_mutex_lock(&rp->mu);
    rp->st.txn_aborts++;
    pthread_mutex_unlock(&rp->mu);
    return begin_next ? kf_result_producer_txn_begin(rp, err, err_size) : KF_OK;
}
