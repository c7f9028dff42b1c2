/* kf_consumer: see kf_consumer.h. The poll thread is the only thread that
 * touches the rd_kafka_t consumer (poll, pause/resume, commit, rebalance
 * callback, close); other threads only set the stop flag and read stats. */
#include "kf_consumer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kf_result_producer.h" /* kf_kafka_conf_apply */

struct kf_consumer {
    rd_kafka_t *rk;
    rd_kafka_queue_t *cq; /* the consumer queue (poll thread) */
    /* prefetch limits in effect and whether the fetcher was seen stopped
     * by them (poll thread only); see refill() */
    int64_t q_min_msgs, q_max_bytes;
    double avg_len;
    int throttled;
    kf_consumer_params_t p;
    pthread_t th;
    int started;
    atomic_int stop;
    atomic_int paused;
    atomic_int got_assign; /* an assignment (even empty) was served */
    int keep_handle;       /* see await_assignor_state (set by the poll thread before it ends) */
    pthread_mutex_t mu;    /* guards st, closed */
    pthread_cond_t cv;
    int closed;
    int fatal; /* commit_fn failed fatally (guarded by mu) */
    kf_consumer_stats_t st;
};

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A few ms coarse, and cheaper: for the poll loop's commit timer, read once
 * per consumed message. */
static int64_t coarse_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

kf_consumer_params_t kf_consumer_default_params(void) {
    kf_consumer_params_t p;
    memset(&p, 0, sizeof(p));
    p.high_mark = 20000;
    p.low_mark = 5000;
    p.commit_interval_ms = 1000;
    p.drain_timeout_ms = 10000;
    p.hold_ms = 200;
    return p;
}

static void stat_add(kf_consumer_t *c, uint64_t *field, uint64_t n) {
    pthread_mutex_lock(&c->mu);
    *field += n;
    pthread_mutex_unlock(&c->mu);
}

/* Commits `list` synchronously and records the outcome in the tracker.
 * Returns 1 when committed (or nothing to commit), 0 on failure. */
static int commit_sync(kf_consumer_t *c, rd_kafka_topic_partition_list_t *list) {
    if (list->cnt == 0)
        return 1;
    rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, list, 0);
    kf_offsets_commit_result(c->p.offsets, list, e);
    if (e) {
        KF_WARN(c->p.log, "offset commit failed: %s", rd_kafka_err2str(e));
        stat_add(c, &c->st.commit_errors, 1);
        return 0;
    }
    stat_add(c, &c->st.commits, 1);
    return 1;
}

/* commit_fn's outcome; 0 when it failed fatally (the poll loop stops). */
static int hook_commit(kf_consumer_t *c, int final) {
    kf_status_t st = c->p.commit_fn(c->p.opaque, c->rk, final);
    if (st == KF_OK) {
        stat_add(c, &c->st.commits, 1);
    } else if (st != KF_ERR_TIMEOUT) {
        stat_add(c, &c->st.commit_errors, 1);
    }
    if (st != KF_ERR_INTERNAL)
        return 1;
    pthread_mutex_lock(&c->mu);
    c->fatal = 1;
    pthread_mutex_unlock(&c->mu);
    atomic_store(&c->stop, 1);
    return 0;
}

static void commit_async(kf_consumer_t *c) {
    if (c->p.commit_fn) {
        hook_commit(c, 0);
        return;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    if (kf_offsets_collect(c->p.offsets, NULL, l) > 0) {
        rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, l, 1);
        if (e) { /* not even queued: hand it out again next time */
            kf_offsets_commit_result(c->p.offsets, l, e);
            stat_add(c, &c->st.commit_errors, 1);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
}

static void commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque) {
    (void)rk;
    kf_consumer_t *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET || !offsets)
        return;
    kf_offsets_commit_result(c->p.offsets, offsets, err);
    if (err) {
        KF_WARN(c->p.log, "offset commit failed: %s (will retry)", rd_kafka_err2str(err));
        stat_add(c, &c->st.commit_errors, 1);
    } else {
        stat_add(c, &c->st.commits, 1);
    }
}

/* librdkafka 2.0 only notices a resumed partition at its broker thread's next
 * wakeup (up to 1 s later: measured here, each pause/resume cycle cost ~1 s).
 * An asynchronous seek to the current position wakes it at once; it does
 * not move the position, so nothing is skipped or re-delivered. */
static void kick_fetch(kf_consumer_t *c, const rd_kafka_topic_partition_list_t *a) {
    rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_copy(a);
    if (rd_kafka_position(c->rk, pos) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_topic_partition_list_destroy(pos);
        return;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(pos->cnt);
    for (int i = 0; i < pos->cnt; i++)
        if (pos->elems[i].offset >= 0)
            rd_kafka_topic_partition_list_add(l, pos->elems[i].topic, pos->elems[i].partition)
                ->offset = pos->elems[i].offset;
    if (l->cnt > 0) {
        rd_kafka_error_t *se = rd_kafka_seek_partitions(c->rk, l, 0);
        if (se) {
            KF_DEBUG(c->p.log, "seek after resume: %s", rd_kafka_error_string(se));
            rd_kafka_error_destroy(se);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_topic_partition_list_destroy(pos);
}

static void set_paused(kf_consumer_t *c, int pause) {
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(c->rk, &a) != RD_KAFKA_RESP_ERR_NO_ERROR || !a)
        return;
    rd_kafka_resp_err_t e =
        pause ? rd_kafka_pause_partitions(c->rk, a) : rd_kafka_resume_partitions(c->rk, a);
    if (!pause && !e)
        kick_fetch(c, a);
    if (e)
        KF_WARN(c->p.log, "%s partitions: %s", pause ? "pause" : "resume", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(a);
    atomic_store(&c->paused, pause);
    if (pause)
        stat_add(c, &c->st.pauses, 1);
}

static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
    (void)rk;
    kf_consumer_t *c = opaque;
    c->p.on_stats(c->p.opaque, json, len);
    return 0; /* librdkafka frees json */
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    kf_consumer_t *c = opaque;
    int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) /* start clean */
            kf_offsets_drop(c->p.offsets, parts->elems[i].topic, parts->elems[i].partition);
        rd_kafka_error_t *ke = NULL;
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (coop)
            ke = rd_kafka_incremental_assign(rk, parts);
        else
            e = rd_kafka_assign(rk, parts);
        if (ke) {
            KF_ERROR(c->p.log, "assign: %s", rd_kafka_error_string(ke));
            rd_kafka_error_destroy(ke);
        } else if (e) {
            KF_ERROR(c->p.log, "assign: %s", rd_kafka_err2str(e));
        }
        if (atomic_load(&c->paused))
            rd_kafka_pause_partitions(rk, parts);
        atomic_store(&c->got_assign, 1);
        stat_add(c, &c->st.assigned, (uint64_t)parts->cnt);
        KF_INFO(c->p.log, "assigned %d partition(s)", parts->cnt);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        int lost = rd_kafka_assignment_lost(rk);
        if (!lost) {
            if (kf_offsets_wait_idle(c->p.offsets, parts, c->p.drain_timeout_ms) != KF_OK)
                KF_WARN(c->p.log,
                        "revoke: jobs still in flight after %d ms are dropped "
                        "(not committed; the new owner re-processes them)",
                        c->p.drain_timeout_ms);
            if (c->p.commit_fn) {
                hook_commit(c, 1);
            } else {
                rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts->cnt);
                kf_offsets_collect(c->p.offsets, parts, l);
                commit_sync(c, l);
                rd_kafka_topic_partition_list_destroy(l);
            }
        }
        uint64_t dropped = 0;
        for (int i = 0; i < parts->cnt; i++)
            dropped +=
                kf_offsets_drop(c->p.offsets, parts->elems[i].topic, parts->elems[i].partition);
        stat_add(c, &c->st.dropped_jobs, dropped);
        stat_add(c, &c->st.revoked, (uint64_t)parts->cnt);
        KF_INFO(c->p.log, "%s %d partition(s); %llu job(s) dropped uncommitted",
                lost ? "lost" : "revoked", parts->cnt, (unsigned long long)dropped);
        if (coop) {
            rd_kafka_error_t *ke = rd_kafka_incremental_unassign(rk, parts);
            if (ke) {
                KF_ERROR(c->p.log, "unassign: %s", rd_kafka_error_string(ke));
                rd_kafka_error_destroy(ke);
            }
        } else {
            rd_kafka_assign(rk, NULL);
        }
        return;
    }
    KF_ERROR(c->p.log, "rebalance error: %s", rd_kafka_err2str(err));
    if (!coop)
        rd_kafka_assign(rk, NULL);
}

static void handle(kf_consumer_t *c, rd_kafka_message_t *m) {
    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            KF_WARN(c->p.log, "consumer: %s", rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        return;
    }
    const char *topic = rd_kafka_topic_name(m->rkt);
    if (kf_offsets_track(c->p.offsets, topic, m->partition, m->offset) != KF_OK) {
        kf_log_ctx_t ctx = {NULL, topic, m->partition, m->offset};
        kf_log_at(c->p.log, KF_LOG_ERROR, &ctx,
                  "cannot track offset (out of memory); job skipped, offset not committed");
        rd_kafka_message_destroy(m);
        return;
    }
    stat_add(c, &c->st.consumed, 1);
    c->p.on_msg(c->p.opaque, m);
}

/* librdkafka 2.0 stops fetching while the local queue is above
 * queued.min.messages or queued.max.messages.kbytes and looks again only at
 * its broker thread's next wakeup, up to 1 s later (fetch.queue.backoff.ms,
 * configurable from 2.4 only). When the queue was seen at a limit and this
 * thread has now emptied it, the fetcher is idle: wake it (kick_fetch) so
 * a worker faster than 1 s per queue-full does not stall. */
static void refill(kf_consumer_t *c, const rd_kafka_message_t *m) {
    if (m && !m->err)
        c->avg_len = c->avg_len * 0.99 + (double)m->len * 0.01;
    int64_t qlen = (int64_t)rd_kafka_queue_length(c->cq);
    if (qlen >= c->q_min_msgs || (double)qlen * c->avg_len >= 0.9 * (double)c->q_max_bytes) {
        c->throttled = 1;
        return;
    }
    if (qlen > 0 || !c->throttled || atomic_load(&c->paused))
        return;
    c->throttled = 0;
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(c->rk, &a) == RD_KAFKA_RESP_ERR_NO_ERROR && a) {
        stat_add(c, &c->st.refills, 1);
        kick_fetch(c, a);
    }
    if (a)
        rd_kafka_topic_partition_list_destroy(a);
}

/* librdkafka before 2.3.0 aborts the process when a cooperative-sticky
 * consumer is destroyed after its JoinGroup response chose the assignor but
 * before its first SyncGroup response gave the assignor its state
 * (assertion `assignor_state' in rd_kafka_sticky_assignor_state_destroy,
 * called from rd_kafka_destroy; librdkafka issue #4312, fixed in 2.3.0;
 * Debian 12 ships 2.0.2). Reproduced here (test consumer_close_joining): a
 * consumer stopped 0.3-1.5 s after it subscribed, i.e. a worker stopped
 * while it joins; the window lasts up to the session timeout when the
 * group's leader is a member that died while joining. A consumer in that
 * window has never had a partition, so it has nothing to drain or commit:
 * it waits up to bound_ms for its first assignment, and if none came it
 * still closes (leaves the group) but keeps its handle undestroyed until
 * the process exits (kf_consumer_free). Before the join ("NONE") there is
 * no assignor and nothing to wait for. Returns 1 when rd_kafka_destroy is
 * safe. */
static int await_assignor_state(kf_consumer_t *c, int bound_ms) {
    if (rd_kafka_version() >= 0x020300ff)
        return 1;
    int64_t end = mono_ms() + bound_ms;
    for (;;) {
        const char *proto = rd_kafka_rebalance_protocol(c->rk);
        if (atomic_load(&c->got_assign) || !proto || strcmp(proto, "COOPERATIVE") != 0)
            return 1;
        if (mono_ms() >= end)
            return 0;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 50);
        if (m)
            handle(c, m);
    }
}

static void *poll_main(void *arg) {
    kf_consumer_t *c = arg;
    pthread_setname_np(pthread_self(), "kf-consumer");
    int64_t next_commit = coarse_ms() + c->p.commit_interval_ms;
    while (!atomic_load(&c->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 50);
        refill(c, m);
        if (m)
            handle(c, m);
        size_t inflight = kf_offsets_inflight(c->p.offsets, NULL, 0);
        if (!atomic_load(&c->paused) && inflight > c->p.high_mark) {
            /* hold: stop taking messages until the pipeline is half way
             * back to the low mark. A pause costs more: librdkafka 2.0
             * discards the prefetched messages at a pause and fetches them
             * again after the resume. Only a hold that lasts becomes one. */
            stat_add(c, &c->st.holds, 1);
            size_t mid = c->p.low_mark + (c->p.high_mark - c->p.low_mark) / 2;
            if (kf_offsets_wait_below(c->p.offsets, mid + 1, c->p.hold_ms) != KF_OK)
                set_paused(c, 1);
        } else if (atomic_load(&c->paused) && inflight < c->p.low_mark) {
            set_paused(c, 0);
        }
        int64_t now = coarse_ms();
        if (now >= next_commit) {
            commit_async(c);
            next_commit = now + c->p.commit_interval_ms;
        }
    }
    /* shutdown: stop fetching, drain, commit, leave the group (after a
     * fatal commit error: drain what is queued, commit nothing) */
    set_paused(c, 1);
    int64_t end = mono_ms() + c->p.drain_timeout_ms;
    while (kf_offsets_inflight(c->p.offsets, NULL, 0) > 0 && mono_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 20);
        if (m)
            handle(c, m);
    }
    if (kf_offsets_inflight(c->p.offsets, NULL, 0) > 0)
        KF_WARN(c->p.log, "shutdown: %zu job(s) still in flight after %d ms; not committed",
                kf_offsets_inflight(c->p.offsets, NULL, 0), c->p.drain_timeout_ms);
    /* final commit; a group rebalancing at the same time rejects it, so
     * retry a few times while serving the rebalance */
    pthread_mutex_lock(&c->mu);
    int fatal = c->fatal;
    pthread_mutex_unlock(&c->mu);
    for (int attempt = 0; attempt < 10 && !fatal; attempt++) {
        int ok;
        if (c->p.commit_fn) {
            kf_status_t st = c->p.commit_fn(c->p.opaque, c->rk, 1);
            ok = st == KF_OK || st == KF_ERR_INTERNAL;
            if (st == KF_OK)
                stat_add(c, &c->st.commits, 1);
            if (st == KF_ERR_INTERNAL) {
                pthread_mutex_lock(&c->mu);
                c->fatal = 1;
                pthread_mutex_unlock(&c->mu);
            }
        } else {
            rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
            kf_offsets_collect(c->p.offsets, NULL, l);
            ok = commit_sync(c, l);
            rd_kafka_topic_partition_list_destroy(l);
        }
        if (ok)
            break;
        int64_t until = mono_ms() + 300;
        while (mono_ms() < until) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 50);
            if (m)
                handle(c, m);
        }
    }
    if (!await_assignor_state(c, 2000)) {
        KF_WARN(c->p.log, "shutdown: still joining the group; closing without destroying the "
                          "client (librdkafka < 2.3 would abort: issue #4312)");
        c->keep_handle = 1;
        stat_add(c, &c->st.closed_joining, 1);
    }
    rd_kafka_resp_err_t e = rd_kafka_consumer_close(c->rk);
    if (e)
        KF_WARN(c->p.log, "consumer close: %s", rd_kafka_err2str(e));
    pthread_mutex_lock(&c->mu);
    c->closed = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

kf_consumer_t *kf_consumer_new(const kf_consumer_params_t *params, char *err, size_t err_size) {
    if (!params || !params->bootstrap || !params->group || !params->topics || !params->topics[0] ||
        !params->offsets || !params->on_msg) {
        snprintf(err, err_size,
                 "consumer: bootstrap, group, topics, offsets and on_msg are "
                 "required");
        return NULL;
    }
    kf_consumer_t *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, err_size, "consumer: out of memory");
        return NULL;
    }
    c->p = *params;
    if (c->p.low_mark > c->p.high_mark)
        c->p.low_mark = c->p.high_mark;
    if (c->p.commit_interval_ms <= 0)
        c->p.commit_interval_ms = 1000;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *defaults[] = {"bootstrap.servers", params->bootstrap, "group.id", params->group,
                              "partition.assignment.strategy", "cooperative-sticky",
                              "enable.auto.commit", "false", "enable.auto.offset.store", "false",
                              "auto.offset.reset", "earliest",
                              /* the prefetch: memory is bounded by these
                               * limits plus the in-flight high mark.
                               * librdkafka 2.0 stops fetching above either
                               * and looks again only up to 1 s later; see
                               * refill() (measured: a 2000-message limit
                               * without it capped the pipeline at ~4.7k
                               * msg/s with ~1 s stalls) */
                              "queued.min.messages", "20000", "queued.max.messages.kbytes", "65536",
                              "fetch.max.bytes", "8388608",
                              /* the mock broker holds an empty fetch for the
                               * whole wait: keep latency low when caught up */
                              "fetch.wait.max.ms", "10", NULL};
    char e[256];
    if (kf_kafka_conf_apply(conf, defaults, e, sizeof(e)) != KF_OK ||
        kf_kafka_conf_apply(conf, params->kafka_kv, e, sizeof(e)) != KF_OK ||
        (params->conf_fn && params->conf_fn(params->conf_user, conf, e, sizeof(e)) != KF_OK)) {
        snprintf(err, err_size, "consumer: %s", e);
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    const char *rc_kv[] = {"isolation.level", "read_committed", NULL};
    if (params->commit_fn &&
        (kf_kafka_conf_apply(conf, rc_kv, e, sizeof(e)) != KF_OK ||
         kf_kafka_conf_apply(conf, params->kafka_kv, e, sizeof(e)) != KF_OK ||
         (params->conf_fn && params->conf_fn(params->conf_user, conf, e, sizeof(e)) != KF_OK))) {
        snprintf(err, err_size, "consumer: %s", e);
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    if (params->on_stats && params->stats_interval_ms > 0) {
        char iv[16];
        snprintf(iv, sizeof(iv), "%d", params->stats_interval_ms);
        const char *kv[] = {"statistics.interval.ms", iv, NULL};
        if (kf_kafka_conf_apply(conf, kv, e, sizeof(e)) != KF_OK) {
            snprintf(err, err_size, "consumer: %s", e);
            rd_kafka_conf_destroy(conf);
            goto fail;
        }
        rd_kafka_conf_set_stats_cb(conf, stats_cb);
    }
    char v[32];
    size_t vl = sizeof(v);
    c->q_min_msgs = rd_kafka_conf_get(conf, "queued.min.messages", v, &vl) == RD_KAFKA_CONF_OK
                        ? atoll(v)
                        : 100000;
    vl = sizeof(v);
    c->q_max_bytes =
        (rd_kafka_conf_get(conf, "queued.max.messages.kbytes", v, &vl) == RD_KAFKA_CONF_OK
             ? atoll(v)
             : 65536) *
        1024;
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_offset_commit_cb(conf, commit_cb);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e));
    if (!c->rk) {
        snprintf(err, err_size, "consumer: %s", e);
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    rd_kafka_poll_set_consumer(c->rk);
    c->cq = rd_kafka_queue_get_consumer(c->rk);
    int n = 0;
    while (params->topics[n])
        n++;
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(subs, params->topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t se = rd_kafka_subscribe(c->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (se) {
        snprintf(err, err_size, "consumer: subscribe: %s", rd_kafka_err2str(se));
        rd_kafka_queue_destroy(c->cq);
        rd_kafka_destroy(c->rk);
        goto fail;
    }
    if (pthread_create(&c->th, NULL, poll_main, c) != 0) {
        snprintf(err, err_size, "consumer: cannot start poll thread");
        rd_kafka_consumer_close(c->rk);
        rd_kafka_queue_destroy(c->cq);
        rd_kafka_destroy(c->rk);
        goto fail;
    }
    c->started = 1;
    return c;
fail:
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
    return NULL;
}

void kf_consumer_stop(kf_consumer_t *c) {
    if (c)
        atomic_store(&c->stop, 1);
}

kf_status_t kf_consumer_wait(kf_consumer_t *c, int timeout_ms) {
    if (!c)
        return KF_ERR_INVALID_ARG;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->mu);
    while (!c->closed) {
        if (pthread_cond_timedwait(&c->cv, &c->mu, &dl) != 0)
            break;
    }
    int closed = c->closed, fatal = c->fatal;
    pthread_mutex_unlock(&c->mu);
    return !closed ? KF_ERR_TIMEOUT : fatal ? KF_ERR_INTERNAL : KF_OK;
}

void kf_consumer_free(kf_consumer_t *c) {
    if (!c)
        return;
    kf_consumer_stop(c);
    if (c->started)
        pthread_join(c->th, NULL);
    rd_kafka_queue_destroy(c->cq);
    if (!c->keep_handle)
        rd_kafka_destroy(c->rk); /* else: left to the process exit, see await_assignor_state */
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int kf_consumer_paused(kf_consumer_t *c) {
    return c ? atomic_load(&c->paused) : 0;
}

int64_t kf_consumer_assigned(kf_consumer_t *c) {
    if (!c)
        return 0;
    kf_consumer_stats_t s = kf_consumer_stats(c);
    return (int64_t)s.assigned - (int64_t)s.revoked;
}

kf_consumer_stats_t kf_consumer_stats(kf_consumer_t *c) {
    kf_consumer_stats_t s;
    memset(&s, 0, sizeof(s));
    if (!c)
        return s;
    pthread_mutex_lock(&c->mu);
    s = c->st;
    pthread_mutex_unlock(&c->mu);
    return s;
}
