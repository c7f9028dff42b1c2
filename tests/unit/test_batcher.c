/* Unit tests for kf_batcher with a fake compute step (below our API
 * boundary): batch closing on size, delay and preferred size, row copy and
 * output split, deadlines, oversize jobs, compute failure, drain on free. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h> /* after the headers it needs */

#include "kf_batcher.h"
#include "kt_wait.h"

#define COLS 3
#define MAXJ 64

/* fake model: out0[r] = sum(row r), out1[r] = 2 * row r */
typedef struct {
    float in[256 * COLS];
    float out0[256];
    float out1[256 * COLS];
    int fail;
    int runs;
    size_t run_rows[64];
} fake_t;

static kf_status_t fake_prepare(void *ctx, size_t rows, void *in[KF_BATCH_MAX_IO], char *err,
                                size_t n) {
    fake_t *f = ctx;
    (void)err;
    (void)n;
    assert_true(rows <= 256);
    in[0] = f->in;
    return KF_OK;
}

static kf_status_t fake_run(void *ctx, size_t rows, const void *out[KF_BATCH_MAX_IO], char *err,
                            size_t n) {
    fake_t *f = ctx;
    if (f->fail) {
        snprintf(err, n, "fake failure");
        return KF_ERR_INTERNAL;
    }
    for (size_t r = 0; r < rows; r++) {
        f->out0[r] = 0;
        for (int c = 0; c < COLS; c++) {
            f->out0[r] += f->in[r * COLS + c];
            f->out1[r * COLS + c] = 2 * f->in[r * COLS + c];
        }
    }
    if (f->runs < 64)
        f->run_rows[f->runs] = rows;
    f->runs++;
    out[0] = f->out0;
    out[1] = f->out1;
    return KF_OK;
}

typedef struct {
    kf_batch_job_t job;
    float data[16 * COLS];
    kf_status_t st;
    int done;
    int ok_outputs;
    size_t batch_rows;
    int64_t ended_us, compute_us;
    char err[256];
} tjob_t;

typedef struct {
    pthread_mutex_t mu;
    int ndone;
} sink_t;

static void on_done(void *opaque, kf_batch_job_t *job, kf_status_t st, const void *const *out,
                    const kf_batch_info_t *info, const char *err) {
    sink_t *s = opaque;
    tjob_t *t = job->user;
    t->st = st;
    t->batch_rows = info->batch_rows;
    t->ended_us = info->ended_us;
    t->compute_us = info->compute_us;
    if (err)
        snprintf(t->err, sizeof(t->err), "%s", err);
    if (st == KF_OK) {
        const float *o0 = out[0], *o1 = out[1];
        int ok = 1;
        for (size_t r = 0; r < job->rows; r++) {
            float sum = 0;
            for (int c = 0; c < COLS; c++) {
                sum += t->data[r * COLS + c];
                if (o1[r * COLS + c] != 2 * t->data[r * COLS + c])
                    ok = 0;
            }
            if (o0[r] != sum)
                ok = 0;
        }
        t->ok_outputs = ok;
    }
    pthread_mutex_lock(&s->mu);
    t->done = 1;
    s->ndone++;
    pthread_mutex_unlock(&s->mu);
}

static void job_init(tjob_t *t, size_t rows, float seed) {
    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < rows * COLS; i++)
        t->data[i] = seed + (float)i;
    t->job.rows = rows;
    t->job.in[0] = t->data;
    t->job.user = t;
}

static kf_batch_compute_t fake_compute(fake_t *f) {
    kf_batch_compute_t c;
    memset(&c, 0, sizeof(c));
    c.ctx = f;
    c.n_inputs = 1;
    c.n_outputs = 2;
    c.in_row_bytes[0] = COLS * sizeof(float);
    c.out_row_bytes[0] = sizeof(float);
    c.out_row_bytes[1] = COLS * sizeof(float);
    c.prepare = fake_prepare;
    c.run = fake_run;
    return c;
}

static int wait_done(sink_t *s, int n, int timeout_ms) {
    return kt_wait_count(&s->mu, &s->ndone, n, timeout_ms);
}

typedef struct {
    fake_t f;
    sink_t s;
    tjob_t jobs[MAXJ];
    kf_batcher_t *b;
} fx_t;

static fx_t *fx_new_q(size_t max_batch, int delay_ms, const size_t *preferred, size_t max_queued) {
    fx_t *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    pthread_mutex_init(&x->s.mu, NULL);
    kf_batcher_params_t p = kf_batcher_default_params();
    p.max_batch = max_batch;
    p.max_queue_delay_ms = delay_ms;
    p.name = "fake@1";
    if (max_queued)
        p.max_queued_jobs = max_queued;
    for (int i = 0; preferred && preferred[i]; i++)
        p.preferred[i] = preferred[i];
    kf_batch_compute_t c = fake_compute(&x->f);
    char err[256];
    x->b = kf_batcher_new(&p, &c, on_done, &x->s, err, sizeof(err));
    assert_non_null(x->b);
    return x;
}

static fx_t *fx_new(size_t max_batch, int delay_ms, const size_t *preferred) {
    return fx_new_q(max_batch, delay_ms, preferred, 0);
}

static void fx_free(fx_t *x) {
    kf_batcher_free(x->b);
    pthread_mutex_destroy(&x->s.mu);
    free(x);
}

static void push_ok(fx_t *x, int i, size_t rows) {
    char err[256];
    job_init(&x->jobs[i], rows, (float)(i * 100));
    assert_int_equal(kf_batcher_push(x->b, &x->jobs[i].job, err, sizeof(err)), KF_OK);
}

static void test_closes_at_max_batch(void **state) {
    (void)state;
    fx_t *x = fx_new(8, 60000, NULL); /* delay never reached */
    for (int i = 0; i < 8; i++)
        push_ok(x, i, 1);
    assert_true(wait_done(&x->s, 8, 10000));
    for (int i = 0; i < 8; i++) {
        assert_int_equal(x->jobs[i].st, KF_OK);
        assert_true(x->jobs[i].ok_outputs);
        assert_int_equal(x->jobs[i].batch_rows, 8);
    }
    assert_int_equal(x->f.runs, 1);
    kf_batcher_stats_t s = kf_batcher_stats(x->b);
    assert_int_equal(s.batches, 1);
    assert_int_equal(s.rows, 8);
    fx_free(x);
}

static void test_closes_after_delay(void **state) {
    (void)state;
    fx_t *x = fx_new(64, 30, NULL);
    int64_t t0 = kt_now_ms();
    push_ok(x, 0, 2);
    push_ok(x, 1, 3);
    push_ok(x, 2, 1);
    assert_true(wait_done(&x->s, 3, 10000));
    assert_true(kt_now_ms() - t0 >= 25);
    assert_int_equal(x->f.runs, 1);
    assert_int_equal(x->f.run_rows[0], 6);
    for (int i = 0; i < 3; i++) {
        assert_true(x->jobs[i].ok_outputs); /* outputs split back per job */
        assert_int_equal(x->jobs[i].batch_rows, 6);
    }
    fx_free(x);
}

static void test_jobs_that_do_not_fit(void **state) {
    (void)state;
    fx_t *x = fx_new(8, 20, NULL);
    push_ok(x, 0, 5);
    push_ok(x, 1, 5);
    push_ok(x, 2, 3);
    assert_true(wait_done(&x->s, 3, 10000));
    assert_int_equal(x->f.runs, 2);
    assert_int_equal(x->f.run_rows[0], 5);
    assert_int_equal(x->f.run_rows[1], 8);
    for (int i = 0; i < 3; i++)
        assert_true(x->jobs[i].ok_outputs);
    fx_free(x);
}

static void test_preferred_size(void **state) {
    (void)state;
    size_t pref[] = {2, 4, 0};
    fx_t *x = fx_new(64, 60000, pref);
    for (int i = 0; i < 4; i++)
        push_ok(x, i, 1);
    assert_true(wait_done(&x->s, 4, 10000));
    assert_int_equal(x->f.run_rows[0], 4);
    fx_free(x);
}

static void test_deadline_and_oversize(void **state) {
    (void)state;
    fx_t *x = fx_new(8, 10, NULL);
    char err[256];
    job_init(&x->jobs[0], 1, 1);
    struct timespec ts, mono;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    int64_t pushed_us = (int64_t)mono.tv_sec * 1000000 + mono.tv_nsec / 1000;
    clock_gettime(CLOCK_REALTIME, &ts);
    x->jobs[0].job.deadline_unix_us = (int64_t)ts.tv_sec * 1000000 - 1000000; /* 1 s ago */
    assert_int_equal(kf_batcher_push(x->b, &x->jobs[0].job, err, sizeof(err)), KF_OK);
    push_ok(x, 1, 2);
    job_init(&x->jobs[2], 9, 1);
    assert_int_equal(kf_batcher_push(x->b, &x->jobs[2].job, err, sizeof(err)), KF_ERR_LIMIT);
    assert_non_null(strstr(err, "9 rows"));
    assert_non_null(strstr(err, "max_batch 8"));
    job_init(&x->jobs[3], 0, 1);
    assert_int_equal(kf_batcher_push(x->b, &x->jobs[3].job, err, sizeof(err)), KF_ERR_INVALID_ARG);
    assert_true(wait_done(&x->s, 2, 10000));
    assert_int_equal(x->jobs[0].st, KF_ERR_TIMEOUT);
    assert_non_null(strstr(x->jobs[0].err, "deadline"));
    assert_int_equal(x->jobs[0].batch_rows, 0);
    assert_int_equal(x->jobs[1].st, KF_OK);
    assert_int_equal(x->f.run_rows[0], 2); /* the late job did not run */
    /* the hand-back start: none for the late job; after the push and the
     * batch's compute for the one that ran */
    assert_int_equal(x->jobs[0].ended_us, 0);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    assert_true(x->jobs[1].ended_us >= pushed_us + x->jobs[1].compute_us);
    assert_true(x->jobs[1].ended_us <= (int64_t)mono.tv_sec * 1000000 + mono.tv_nsec / 1000);
    assert_int_equal(kf_batcher_stats(x->b).deadline_exceeded, 1);
    fx_free(x);
}

static void test_compute_failure(void **state) {
    (void)state;
    fx_t *x = fx_new(4, 5, NULL);
    x->f.fail = 1;
    push_ok(x, 0, 1);
    push_ok(x, 1, 1);
    assert_true(wait_done(&x->s, 2, 10000));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(x->jobs[i].st, KF_ERR_INTERNAL);
        assert_non_null(strstr(x->jobs[i].err, "fake failure"));
        assert_non_null(strstr(x->jobs[i].err, "fake@1"));
    }
    assert_int_equal(kf_batcher_stats(x->b).failed, 2);
    fx_free(x);
}

static void test_free_drains(void **state) {
    (void)state;
    fx_t *x = fx_new(4, 60000, NULL);
    for (int i = 0; i < 10; i++)
        push_ok(x, i, 1);
    sink_t *s = &x->s;
    tjob_t *jobs = x->jobs;
    kf_batcher_free(x->b);
    x->b = NULL;
    assert_int_equal(s->ndone, 10);
    for (int i = 0; i < 10; i++)
        assert_true(jobs[i].ok_outputs);
    assert_int_equal(x->f.runs, 3); /* 4 + 4 + 2 */
    fx_free(x);
}

/* kf_batcher_push_all queues a chain in order, all or nothing. */
static void test_push_all(void **state) {
    (void)state;
    fx_t *x = fx_new_q(4, 60000, NULL, 4);
    char err[256];
    size_t rows[] = {4, 4, 2, 5};
    kf_batch_job_t *chain[4];
    for (int i = 0; i < 4; i++) {
        job_init(&x->jobs[i], rows[i], (float)(i * 100));
        chain[i] = &x->jobs[i].job;
    }
    /* one chunk over max_batch: nothing queued */
    assert_int_equal(kf_batcher_push_all(x->b, chain + 1, 3, err, sizeof(err)), KF_ERR_LIMIT);
    assert_non_null(strstr(err, "5 rows"));
    assert_int_equal(kf_batcher_queued(x->b), 0);
    push_ok(x, 5, 1);
    /* 1 queued + 4 > the queue's 4 jobs: refused whole */
    job_init(&x->jobs[3], 1, 300);
    assert_int_equal(kf_batcher_push_all(x->b, chain, 4, err, sizeof(err)), KF_ERR_LIMIT);
    assert_non_null(strstr(err, "queue full"));
    assert_int_equal(kf_batcher_queued(x->b), 1);
    assert_int_equal(kf_batcher_push_all(x->b, chain, 3, err, sizeof(err)), KF_OK);
    assert_int_equal(kf_batcher_queued(x->b), 4);
    sink_t *s = &x->s;
    kf_batcher_free(x->b);
    x->b = NULL;
    assert_int_equal(s->ndone, 4);
    /* in order: job 5 (1 row) alone (job 0's 4 rows do not fit), 4, 4, 2 */
    assert_int_equal(x->f.runs, 4);
    assert_int_equal(x->f.run_rows[0], 1);
    assert_int_equal(x->f.run_rows[1], 4);
    assert_int_equal(x->f.run_rows[2], 4);
    assert_int_equal(x->f.run_rows[3], 2);
    for (int i = 0; i < 3; i++)
        assert_true(x->jobs[i].ok_outputs);
    assert_true(x->jobs[5].ok_outputs);
    assert_false(x->jobs[3].done);
    fx_free(x);
}

static void test_max_batch_for(void **state) {
    (void)state;
    assert_int_equal(kf_batcher_max_batch_for(1 << 20, 4096, 0), 256);
    assert_int_equal(kf_batcher_max_batch_for(1 << 20, 4096, 64), 64);
    assert_int_equal(kf_batcher_max_batch_for(100, 4096, 64), 1);
    assert_int_equal(kf_batcher_max_batch_for(100, 0, 32), 32);
    char err[128];
    kf_batcher_params_t p = kf_batcher_default_params();
    p.max_batch = 0;
    fake_t f;
    kf_batch_compute_t c = fake_compute(&f);
    sink_t s;
    assert_null(kf_batcher_new(&p, &c, on_done, &s, err, sizeof(err)));
    kf_batcher_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closes_at_max_batch),
        cmocka_unit_test(test_closes_after_delay),
        cmocka_unit_test(test_jobs_that_do_not_fit),
        cmocka_unit_test(test_preferred_size),
        cmocka_unit_test(test_deadline_and_oversize),
        cmocka_unit_test(test_compute_failure),
        cmocka_unit_test(test_free_drains),
        cmocka_unit_test(test_max_batch_for),
        cmocka_unit_test(test_push_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
