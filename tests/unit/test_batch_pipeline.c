/* The worker's batch runner (kf_mv: engine plan + kf_batcher) with one
 * batch in flight (ke_plan_submit / ke_plan_wait), checked on the host
 * with the fake device backend of tests/common/ke_fake_device.h (deferred
 * copies, injected faults):
 *  - many jobs of varied row counts, pushed in bursts, against the
 *    bundled MNIST MLP: every job is answered exactly once, with its own
 *    rows of the output (compared with a CPU plan run on that job alone),
 *    and jobs that ran are answered in the order they were queued;
 *  - a batch whose compute fails at submit, and one whose device work
 *    fails when waited for: exactly the jobs of those batches get an
 *    error, the batch in flight before them is still delivered, later
 *    batches run;
 *  - jobs past their deadline: DEADLINE_EXCEEDED, never run;
 *  - two batches really were in flight at once (the fake counts), none is
 *    left pending when the batcher stops (drain), also when it is stopped
 *    with jobs still queued (what a hot swap or shutdown does);
 *  - the same on the synchronous path (pipeline off) and with the async
 *    path forced on the CPU backend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ke_fake_device.h"
#include "kf_worker_model.h"
#include "kt_wait.h"

#define NJOBS 240
#define MAXB 8
#define IN_COLS 784
#define OUT_COLS 10

enum { POISON_NONE = 0, POISON_RUN, POISON_LATE };

typedef struct {
    kf_batch_job_t bj;
    int seq;
    int poison;  /* POISON_* carried in its rows */
    int late;    /* deadline already passed */
    float *in;   /* rows * IN_COLS */
    float *want; /* rows * OUT_COLS (CPU plan, this job alone) */
    /* set on the engine thread */
    int done;
    kf_status_t st;
    int outputs_ok;
    size_t batch_rows, batch_jobs, job_index;
    char err[256];
} tjob_t;

typedef struct {
    pthread_mutex_t mu;
    int ndone;
    tjob_t *order[NJOBS]; /* jobs in the order they were answered */
} sink_t;

static void on_done(void *opaque, kf_batch_job_t *bj, kf_status_t st, const void *const *out,
                    const kf_batch_info_t *info, const char *err) {
    sink_t *s = opaque;
    tjob_t *t = bj->user;
    t->st = st;
    t->batch_rows = info->batch_rows;
    t->batch_jobs = info->batch_jobs;
    t->job_index = info->job_index;
    if (err)
        snprintf(t->err, sizeof(t->err), "%s", err);
    if (st == KF_OK) {
        const float *o = out[0];
        int ok = 1;
        for (size_t i = 0; i < bj->rows * OUT_COLS; i++)
            if (!(fabsf(o[i] - t->want[i]) <= 1e-5f + 1e-4f * fabsf(t->want[i])))
                ok = 0;
        t->outputs_ok = ok;
    }
    pthread_mutex_lock(&s->mu);
    if (s->ndone < NJOBS)
        s->order[s->ndone] = t;
    s->ndone++;
    t->done++;
    pthread_mutex_unlock(&s->mu);
}

static void model_path(char *path, size_t n) {
    const char *root = getenv("KINFER_SOURCE_DIR");
    snprintf(path, n, "%s/models/mnist_mlp.onnx", root ? root : KINFER_SOURCE_DIR);
}

static ke_backend_t *fake_hook(void *user) {
    return fake_dev_new(user);
}

static int wait_done(sink_t *s, int n, int timeout_ms) {
    return kt_wait_count(&s->mu, &s->ndone, n, timeout_ms);
}

/* Jobs with rows 1..MAXB from a fixed LCG; the ones listed poisoned or
 * late. References from a synchronous CPU plan, one job at a time. */
static tjob_t *make_jobs(const int *poison_run, const int *poison_late, const int *late) {
    char path[4096], err[512];
    model_path(path, sizeof(path));
    ke_model_t *m = ke_model_load_file(path, NULL, err, sizeof(err));
    if (!m)
        fail_msg("%s: %s", path, err);
    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = MAXB;
    pp.n_threads = 1;
    ke_plan_t *cpu = ke_plan_new(m, &pp, err, sizeof(err));
    assert_non_null(cpu);
    tjob_t *jobs = calloc(NJOBS, sizeof(*jobs));
    assert_non_null(jobs);
    unsigned seed = 20240611u;
    for (int k = 0; k < NJOBS; k++) {
        tjob_t *t = &jobs[k];
        seed = seed * 1664525u + 1013904223u;
        size_t rows = 1 + (seed >> 16) % (k % 17 == 5 ? MAXB : 5); /* mostly 1..5, some up to 8 */
        t->seq = k;
        t->in = malloc(rows * IN_COLS * sizeof(float));
        t->want = malloc(rows * OUT_COLS * sizeof(float));
        assert_non_null(t->in);
        assert_non_null(t->want);
        for (size_t i = 0; i < rows * IN_COLS; i++) {
            seed = seed * 1664525u + 1013904223u;
            t->in[i] = (float)(seed >> 8) / (float)(1u << 24) - 0.5f;
        }
        for (const int *p = poison_run; p && *p >= 0; p++)
            if (*p == k)
                t->poison = POISON_RUN;
        for (const int *p = poison_late; p && *p >= 0; p++)
            if (*p == k)
                t->poison = POISON_LATE;
        for (const int *p = late; p && *p >= 0; p++)
            if (*p == k)
                t->late = 1;
        if (t->poison)
            t->in[(rows - 1) * IN_COLS + 3] =
                t->poison == POISON_RUN ? FAKE_DEV_POISON_RUN : FAKE_DEV_POISON_LATE;
        else if (ke_plan_run(cpu, (int)rows, (const void *const *)&t->in, (void *const *)&t->want,
                             err, sizeof(err)) != KE_OK)
            fail_msg("reference run: %s", err);
        t->bj.rows = rows;
        t->bj.in[0] = t->in;
        t->bj.user = t;
        t->bj.deadline_unix_us = t->late ? 1 : 0; /* 1970: long past */
    }
    ke_plan_free(cpu);
    ke_model_free(m);
    return jobs;
}

static void free_jobs(tjob_t *jobs) {
    for (int k = 0; k < NJOBS; k++) {
        free(jobs[k].in);
        free(jobs[k].want);
    }
    free(jobs);
}

typedef struct {
    int fake;     /* fake device backend (else the CPU backend) */
    int pipeline; /* kf_mv_params_t.pipeline */
    int want_pipelined;
    int drain_early; /* stop the batcher right after pushing */
} scenario_t;

static void run_scenario(const scenario_t *sc, const int *poison_run, const int *poison_late,
                         const int *late) {
    tjob_t *jobs = make_jobs(poison_run, poison_late, late);
    sink_t sink;
    memset(&sink, 0, sizeof(sink));
    pthread_mutex_init(&sink.mu, NULL);
    fake_dev_stats_t fst;
    memset(&fst, 0, sizeof(fst));
    kf_mv_params_t mp;
    memset(&mp, 0, sizeof(mp));
    mp.max_batch = MAXB;
    mp.max_queue_delay_ms = 2;
    mp.threads = 1;
    mp.device = "cpu";
    mp.pipeline = sc->pipeline;
    if (sc->fake) {
        mp.backend_new = fake_hook;
        mp.backend_user = &fst;
    }
    char path[4096], err[512];
    model_path(path, sizeof(path));
    kf_mv_t *mv = kf_mv_new("mnist", "1", path, &mp, on_done, &sink, err, sizeof(err));
    if (!mv)
        fail_msg("kf_mv_new: %s", err);
    assert_int_equal(mv->pipelined, sc->want_pipelined);
    assert_int_equal(mv->max_batch, MAXB);
    /* bursts of jobs with pauses longer than the queue delay between them:
     * batches close full (the next can be submitted while one is in
     * flight) and by delay (the one in flight is waited for at once) */
    struct timespec pause = {0, 4000000};
    for (int k = 0; k < NJOBS; k++) {
        if (!sc->drain_early && k % 37 == 36)
            nanosleep(&pause, NULL);
        if (kf_batcher_push(mv->batcher, &jobs[k].bj, err, sizeof(err)) != KF_OK)
            fail_msg("push %d: %s", k, err);
    }
    if (!sc->drain_early && !wait_done(&sink, NJOBS, 60000))
        fail_msg("only %d of %d jobs answered", sink.ndone, NJOBS);
    kf_mv_free(mv); /* drains what is queued and in flight */
    assert_int_equal(sink.ndone, NJOBS);

    /* every job once; outputs its own; failures exactly the poisoned
     * batches; jobs that ran answered in queue order */
    int last_seq = -1, failed_batches = 0;
    for (int n = 0; n < NJOBS; n++) {
        tjob_t *t = sink.order[n];
        assert_int_equal(t->done, 1);
        if (t->late) {
            if (t->st != KF_ERR_TIMEOUT)
                fail_msg("late job %d: status %d (%s)", t->seq, t->st, t->err);
            assert_int_equal(t->batch_rows, 0);
            continue;
        }
        if (t->seq <= last_seq)
            fail_msg("job %d answered after job %d", t->seq, last_seq);
        last_seq = t->seq;
        if (t->st == KF_OK) {
            if (t->poison)
                fail_msg("poisoned job %d ran", t->seq);
            if (!t->outputs_ok)
                fail_msg("job %d (%zu rows, %zu-row batch) got outputs that are not its own",
                         t->seq, t->bj.rows, t->batch_rows);
            continue;
        }
        /* a failed batch: its jobs come back together; one is poisoned */
        if (t->st != KF_ERR_INTERNAL || t->job_index != 0)
            fail_msg("job %d: status %d, index %zu in its batch (%s)", t->seq, t->st, t->job_index,
                     t->err);
        assert_non_null(strstr(t->err, "mnist@1: batch of"));
        int poisoned = 0;
        for (size_t i = 0; i < t->batch_jobs; i++) {
            tjob_t *u = sink.order[n + (int)i];
            if (u->st != KF_ERR_INTERNAL || u->job_index != i || u->batch_jobs != t->batch_jobs)
                fail_msg("job %d: not answered with its failed batch", u->seq);
            poisoned |= u->poison != POISON_NONE;
            if (i > 0) {
                assert_true(u->seq > last_seq);
                last_seq = u->seq;
            }
        }
        if (!poisoned)
            fail_msg("batch starting at job %d failed without a poisoned job (%s)", t->seq, t->err);
        failed_batches++;
        n += (int)t->batch_jobs - 1;
    }
    int n_poison = 0;
    for (int k = 0; k < NJOBS; k++)
        n_poison += jobs[k].poison != POISON_NONE && !jobs[k].late;
    assert_true(failed_batches >= (n_poison ? 1 : 0));
    assert_true(failed_batches <= n_poison);
    if (sc->fake) {
        assert_false(fst.overflow);
        assert_int_equal(fst.left_open, 0);
        if (sc->want_pipelined && !sc->drain_early)
            assert_true(fst.max_in_flight >= 2);
        if (!sc->want_pipelined)
            assert_int_equal(fst.max_in_flight, 1);
        if (poison_run)
            assert_true(fst.runs_failed >= 1);
        if (poison_late)
            assert_true(fst.waits_failed >= 1);
    }
    pthread_mutex_destroy(&sink.mu);
    free_jobs(jobs);
}

static const int k_poison_run[] = {50, 51, 131, -1};
static const int k_poison_late[] = {90, 200, -1};
static const int k_late[] = {7, 8, 100, 163, 230, -1};

static void test_fake_device_pipelined(void **state) {
    (void)state;
    scenario_t sc = {1, 0, 1, 0}; /* auto: the fake overlaps, so in flight */
    run_scenario(&sc, NULL, NULL, NULL);
    run_scenario(&sc, k_poison_run, k_poison_late, k_late);
}

static void test_fake_device_sync(void **state) {
    (void)state;
    scenario_t sc = {1, -1, 0, 0};
    run_scenario(&sc, k_poison_run, k_poison_late, k_late);
}

static void test_cpu_forced_async(void **state) {
    (void)state;
    scenario_t sc = {0, 1, 1, 0};
    run_scenario(&sc, NULL, NULL, k_late);
    scenario_t cpu_auto = {0, 0, 0, 0}; /* auto on the CPU: synchronous */
    run_scenario(&cpu_auto, NULL, NULL, NULL);
}

/* Stopped with most jobs still queued (shutdown, or a hot swap freeing the
 * old version): everything runs and is answered, nothing left pending. */
static void test_drain_on_stop(void **state) {
    (void)state;
    scenario_t sc = {1, 0, 1, 1};
    run_scenario(&sc, k_poison_run, k_poison_late, k_late);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fake_device_pipelined),
        cmocka_unit_test(test_fake_device_sync),
        cmocka_unit_test(test_cpu_forced_async),
        cmocka_unit_test(test_drain_on_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
