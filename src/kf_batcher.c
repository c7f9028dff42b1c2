/* kf_batcher: queue + engine thread. See kf_batcher.h. The queue is an
 * intrusive singly linked list of the caller's jobs (no allocation per job);
 * one mutex and one condition variable (CLOCK_MONOTONIC) guard it. */
#include "kf_batcher.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct kf_batcher {
    kf_batcher_params_t p;
    char name[128];
    size_t target; /* rows that close a batch at once */
    kf_batch_compute_t c;
    kf_batch_done_fn on_done;
    void *opaque;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    int stopping;
    kf_batch_job_t *head, *tail;
    size_t queued_jobs, queued_rows;
    kf_batcher_stats_t st;
};

static int64_t mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t unix_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

kf_batcher_params_t kf_batcher_default_params(void) {
    kf_batcher_params_t p;
    memset(&p, 0, sizeof(p));
    p.max_batch = 64;
    p.max_queue_delay_ms = 5;
    p.max_queued_jobs = 65536;
    p.name = "model";
    return p;
}

size_t kf_batcher_max_batch_for(size_t budget_bytes, size_t bytes_per_row, size_t cap) {
    size_t n = bytes_per_row ? budget_bytes / bytes_per_row : (cap ? cap : 1);
    if (cap && n > cap)
        n = cap;
    return n ? n : 1;
}

/* ---- engine thread ------------------------------------------------------ */

/* One batch taken off the queue: the jobs that run, and the ones whose
 * deadline had passed when it was taken. */
typedef struct {
    kf_batch_job_t *run, *late;
    size_t rows, njobs;
    int64_t start_us; /* CLOCK_MONOTONIC µs when taken */
} batch_t;

static void fail_all(kf_batcher_t *b, kf_batch_job_t *jobs, kf_status_t st, const char *err,
                     const kf_batch_info_t *info) {
    while (jobs) {
        kf_batch_job_t *nx = jobs->next;
        jobs->next = NULL;
        b->on_done(b->opaque, jobs, st, NULL, info, err);
        jobs = nx;
    }
}

/* Caller holds mu. Whether a batch may close now: full, its first job's
 * delay is up, or the batcher is draining. */
static int can_close_locked(const kf_batcher_t *b, int64_t now) {
    if (!b->head)
        return 0;
    return b->stopping || b->queued_rows >= b->target ||
           now >= b->head->enqueued_us + (int64_t)b->p.max_queue_delay_ms * 1000;
}

/* Caller holds mu. Blocks until a batch may close, or until the batcher is
 * stopping with nothing queued (head NULL on return). */
static void wait_close_locked(kf_batcher_t *b) {
    while (!b->head && !b->stopping)
        pthread_cond_wait(&b->cv, &b->mu);
    while (b->head && !can_close_locked(b, mono_us())) {
        int64_t close_at = b->head->enqueued_us + (int64_t)b->p.max_queue_delay_ms * 1000;
        int64_t now = mono_us();
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = (int64_t)ts.tv_nsec + (close_at - now) * 1000;
        ts.tv_sec += (time_t)(ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&b->cv, &b->mu, &ts);
    }
}

/* Caller holds mu and head is set: takes jobs in order while they fit. */
static void take_locked(kf_batcher_t *b, batch_t *bt) {
    memset(bt, 0, sizeof(*bt));
    kf_batch_job_t **rt = &bt->run, **lt = &bt->late;
    int64_t wall = unix_us();
    while (b->head && bt->rows < b->target && bt->rows + b->head->rows <= b->p.max_batch) {
        kf_batch_job_t *j = b->head;
        b->head = j->next;
        if (!b->head)
            b->tail = NULL;
        b->queued_jobs--;
        b->queued_rows -= j->rows;
        j->next = NULL;
        if (j->deadline_unix_us > 0 && wall > j->deadline_unix_us) {
            *lt = j;
            lt = &j->next;
            b->st.deadline_exceeded++;
        } else {
            *rt = j;
            rt = &j->next;
            bt->rows += j->rows;
            bt->njobs++;
        }
    }
    bt->start_us = mono_us();
}

static void answer_late(kf_batcher_t *b, batch_t *bt) {
    if (!bt->late)
        return;
    char msg[200];
    snprintf(msg, sizeof(msg), "%s: deadline exceeded before the job ran", b->name);
    kf_batch_info_t li = {0, 0, 0, 0, 0, 0};
    fail_all(b, bt->late, KF_ERR_TIMEOUT, msg, &li);
    bt->late = NULL;
}

/* Copies the rows of every job into the compute step's input buffers. */
static kf_status_t fill(kf_batcher_t *b, const batch_t *bt, char *err, size_t err_size) {
    void *in[KF_BATCH_MAX_IO] = {0};
    kf_status_t st = b->c.prepare(b->c.ctx, bt->rows, in, err, err_size);
    if (st != KF_OK)
        return st;
    size_t off = 0;
    for (const kf_batch_job_t *j = bt->run; j; j = j->next) {
        for (size_t i = 0; i < b->c.n_inputs; i++)
            memcpy((char *)in[i] + off * b->c.in_row_bytes[i], j->in[i],
                   j->rows * b->c.in_row_bytes[i]);
        off += j->rows;
    }
    return KF_OK;
}

/* Hands every job of a batch that ran (or failed) back: on success each
 * job gets its own rows of out. */
static void deliver(kf_batcher_t *b, batch_t *bt, kf_status_t st, const void *const *out,
                    const char *err) {
    kf_batch_info_t info = {bt->rows, bt->njobs, 0, 0, 0, mono_us()};
    info.compute_us = info.ended_us - bt->start_us;
    kf_batch_job_t *jobs = bt->run;
    bt->run = NULL;
    pthread_mutex_lock(&b->mu);
    b->st.batches++;
    b->st.rows += bt->rows;
    b->st.jobs += bt->njobs;
    if (st != KF_OK)
        b->st.failed += bt->njobs;
    pthread_mutex_unlock(&b->mu);
    if (st != KF_OK) {
        char msg[400];
        if (snprintf(msg, sizeof(msg), "%s: batch of %zu rows failed: %s", b->name, bt->rows,
                     err && err[0] ? err : kf_status_str(st)) >= (int)sizeof(msg))
            msg[sizeof(msg) - 1] = '\0'; /* truncated on purpose (-Wformat-truncation) */
        while (jobs) {
            kf_batch_job_t *nx = jobs->next;
            jobs->next = NULL;
            info.queue_us = bt->start_us - jobs->enqueued_us;
            b->on_done(b->opaque, jobs, KF_ERR_INTERNAL, NULL, &info, msg);
            info.job_index++;
            jobs = nx;
        }
        return;
    }
    size_t off = 0;
    while (jobs) {
        kf_batch_job_t *nx = jobs->next;
        const void *mine[KF_BATCH_MAX_IO] = {0};
        for (size_t i = 0; i < b->c.n_outputs; i++)
            mine[i] = (const char *)out[i] + off * b->c.out_row_bytes[i];
        off += jobs->rows;
        info.queue_us = bt->start_us - jobs->enqueued_us;
        jobs->next = NULL;
        b->on_done(b->opaque, jobs, KF_OK, mine, &info, NULL);
        info.job_index++;
        jobs = nx;
    }
}

/* The synchronous path: fill, run, hand back. */
static void run_batch(kf_batcher_t *b, batch_t *bt) {
    char err[256] = "";
    const void *out[KF_BATCH_MAX_IO] = {0};
    kf_status_t st = fill(b, bt, err, sizeof(err));
    if (st == KF_OK)
        st = b->c.run(b->c.ctx, bt->rows, out, err, sizeof(err));
    deliver(b, bt, st, out, err);
}

/* The asynchronous path, second half: wait for the batch and hand it back. */
static void finish_batch(kf_batcher_t *b, batch_t *bt) {
    char err[256] = "";
    const void *out[KF_BATCH_MAX_IO] = {0};
    kf_status_t st = b->c.wait(b->c.ctx, bt->rows, out, err, sizeof(err));
    deliver(b, bt, st, out, err);
}

/* Synchronous compute: take a batch, run it, hand it back, repeat. */
static void loop_sync(kf_batcher_t *b) {
    pthread_mutex_lock(&b->mu);
    for (;;) {
        wait_close_locked(b);
        if (!b->head)
            break; /* stopping and drained */
        batch_t bt;
        take_locked(b, &bt);
        pthread_mutex_unlock(&b->mu);
        answer_late(b, &bt);
        if (bt.run)
            run_batch(b, &bt);
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
}

/* Asynchronous compute (see kf_batcher.h): with batch k in flight, batch
 * k+1 is taken only when it can close now; it is filled and submitted,
 * then k is waited for and handed back, then k+1's late jobs are answered
 * and k+1 becomes the batch in flight. Leaves nothing in flight. */
static void loop_async(kf_batcher_t *b) {
    batch_t fl; /* the batch in flight */
    int have_fl = 0;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        batch_t cur;
        int have_cur = 0;
        if (!have_fl) {
            wait_close_locked(b);
            if (!b->head)
                break; /* stopping and drained; nothing in flight */
        }
        if (can_close_locked(b, mono_us())) {
            take_locked(b, &cur);
            have_cur = 1;
        }
        pthread_mutex_unlock(&b->mu);
        kf_status_t sst = KF_OK;
        char serr[256] = "";
        if (have_cur && cur.run) {
            sst = fill(b, &cur, serr, sizeof(serr));
            if (sst == KF_OK)
                sst = b->c.submit(b->c.ctx, cur.rows, serr, sizeof(serr));
        }
        if (have_fl) {
            finish_batch(b, &fl);
            have_fl = 0;
        }
        if (have_cur) {
            answer_late(b, &cur);
            if (cur.run && sst == KF_OK) {
                fl = cur;
                have_fl = 1;
            } else if (cur.run) {
                deliver(b, &cur, sst, NULL, serr);
            }
        }
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
}

static void *engine_main(void *arg) {
    kf_batcher_t *b = arg;
    pthread_setname_np(pthread_self(), "kf-engine"); /* top -H, perf --comm */
    if (b->c.submit && b->c.wait)
        loop_async(b);
    else
        loop_sync(b);
    return NULL;
}

/* ---- public API --------------------------------------------------------- */

kf_batcher_t *kf_batcher_new(const kf_batcher_params_t *params, const kf_batch_compute_t *compute,
                             kf_batch_done_fn on_done, void *opaque, char *err, size_t err_size) {
    kf_batcher_params_t p = params ? *params : kf_batcher_default_params();
    if (!compute || !compute->prepare || (!compute->run && !compute->wait) ||
        !compute->submit != !compute->wait || !on_done || compute->n_inputs > KF_BATCH_MAX_IO ||
        compute->n_outputs > KF_BATCH_MAX_IO || p.max_batch == 0 || p.max_queue_delay_ms < 0 ||
        p.max_queued_jobs == 0) {
        snprintf(err, err_size, "batcher: invalid parameters or compute interface");
        return NULL;
    }
    kf_batcher_t *b = calloc(1, sizeof(*b));
    if (!b) {
        snprintf(err, err_size, "batcher: out of memory");
        return NULL;
    }
    b->p = p;
    snprintf(b->name, sizeof(b->name), "%s", p.name ? p.name : "model");
    b->p.name = b->name;
    b->target = p.max_batch;
    size_t best = 0;
    for (int i = 0; i < KF_BATCH_MAX_PREFERRED && p.preferred[i]; i++)
        if (p.preferred[i] <= p.max_batch && p.preferred[i] > best)
            best = p.preferred[i];
    if (best)
        b->target = best;
    b->c = *compute;
    b->on_done = on_done;
    b->opaque = opaque;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int ok = pthread_mutex_init(&b->mu, NULL) == 0;
    if (ok && pthread_cond_init(&b->cv, &ca) != 0) {
        pthread_mutex_destroy(&b->mu);
        ok = 0;
    }
    pthread_condattr_destroy(&ca);
    if (!ok) {
        free(b);
        snprintf(err, err_size, "batcher %s: cannot create mutex", p.name ? p.name : "");
        return NULL;
    }
    if (pthread_create(&b->th, NULL, engine_main, b) != 0) {
        pthread_cond_destroy(&b->cv);
        pthread_mutex_destroy(&b->mu);
        snprintf(err, err_size, "batcher %s: cannot start engine thread", b->name);
        free(b);
        return NULL;
    }
    return b;
}

void kf_batcher_free(kf_batcher_t *b) {
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    b->stopping = 1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->th, NULL);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

kf_status_t kf_batcher_push(kf_batcher_t *b, kf_batch_job_t *job, char *err, size_t err_size) {
    return kf_batcher_push_all(b, job ? &job : NULL, 1, err, err_size);
}

kf_status_t kf_batcher_push_all(kf_batcher_t *b, kf_batch_job_t *const *jobs, size_t n, char *err,
                                size_t err_size) {
    if (!b || !jobs || n == 0) {
        snprintf(err, err_size, "batcher: job with no rows");
        return KF_ERR_INVALID_ARG;
    }
    size_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        if (!jobs[i] || jobs[i]->rows == 0) {
            snprintf(err, err_size, "batcher: job with no rows");
            return KF_ERR_INVALID_ARG;
        }
        if (jobs[i]->rows > b->p.max_batch) {
            snprintf(err, err_size, "%s: job has %zu rows, more than max_batch %zu", b->name,
                     jobs[i]->rows, b->p.max_batch);
            return KF_ERR_LIMIT;
        }
        rows += jobs[i]->rows;
    }
    int64_t now = mono_us();
    for (size_t i = 0; i < n; i++) {
        jobs[i]->next = i + 1 < n ? jobs[i + 1] : NULL;
        jobs[i]->enqueued_us = now;
    }
    pthread_mutex_lock(&b->mu);
    if (b->stopping || b->queued_jobs >= b->p.max_queued_jobs ||
        n > b->p.max_queued_jobs - b->queued_jobs) {
        pthread_mutex_unlock(&b->mu);
        snprintf(err, err_size, "%s: %s (%zu jobs queued, limit %zu, %zu to add)", b->name,
                 b->stopping ? "batcher is stopping" : "queue full", b->queued_jobs,
                 b->p.max_queued_jobs, n);
        return KF_ERR_LIMIT;
    }
    if (b->tail)
        b->tail->next = jobs[0];
    else
        b->head = jobs[0];
    b->tail = jobs[n - 1];
    b->queued_jobs += n;
    size_t before = b->queued_rows;
    b->queued_rows += rows;
    /* wake the engine for a new first job or when the batch is full */
    if (before == 0 || b->queued_rows >= b->target)
        pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
    return KF_OK;
}

size_t kf_batcher_max_batch(const kf_batcher_t *b) {
    return b ? b->p.max_batch : 0;
}

size_t kf_batcher_queued(kf_batcher_t *b) {
    if (!b)
        return 0;
    pthread_mutex_lock(&b->mu);
    size_t n = b->queued_jobs;
    pthread_mutex_unlock(&b->mu);
    return n;
}

kf_batcher_stats_t kf_batcher_stats(kf_batcher_t *b) {
    kf_batcher_stats_t s = {0, 0, 0, 0, 0};
    if (!b)
        return s;
    pthread_mutex_lock(&b->mu);
    s = b->st;
    pthread_mutex_unlock(&b->mu);
    return s;
}
