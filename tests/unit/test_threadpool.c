/* Stress test for ke_threadpool: many back-to-back jobs of every size
 * (tiny ones make workers arrive late, after the job they woke for is
 * over) must run each index exactly once, hand out each tid to one
 * running chunk at a time, and return only when every chunk is done. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdatomic.h>
#include <string.h>

#include "ke_threadpool.h"

#define MAX_N 4096
#define MAX_T 8

typedef struct job {
    atomic_int hits[MAX_N];
    atomic_int busy[MAX_T]; /* 1 while a chunk runs with that tid */
    atomic_int bad_tid;
    atomic_llong sum;
} job_t;

static void body(void *arg, int64_t b, int64_t e, int tid) {
    job_t *j = arg;
    if (tid < 0 || tid >= MAX_T || atomic_exchange(&j->busy[tid], 1) != 0) {
        atomic_store(&j->bad_tid, 1);
        return;
    }
    for (int64_t i = b; i < e; i++) {
        atomic_fetch_add(&j->hits[i], 1);
        atomic_fetch_add(&j->sum, i);
    }
    atomic_store(&j->busy[tid], 0);
}

static job_t g_job; /* big: keep it off the stack */

static void run_many(int nt, int reps) {
    char err[128];
    ke_threadpool_t *tp = ke_threadpool_new(nt, err, sizeof err);
    assert_non_null(tp);
    uint32_t s = 12345;
    for (int r = 0; r < reps; r++) {
        s = s * 1664525u + 1013904223u;
        /* mostly tiny jobs, some large */
        int64_t n = (s >> 8) % 16 == 0 ? 1 + (int64_t)((s >> 12) % MAX_N) : 1 + (s >> 12) % 9;
        int64_t grain = 1 + (s >> 20) % 3;
        memset(&g_job, 0, sizeof g_job);
        ke_threadpool_parallel_for(tp, n, grain, body, &g_job);
        /* everything is done when parallel_for returns */
        assert_int_equal(atomic_load(&g_job.bad_tid), 0);
        assert_int_equal(atomic_load(&g_job.sum), (long long)n * (n - 1) / 2);
        for (int64_t i = 0; i < n; i++)
            assert_int_equal(atomic_load(&g_job.hits[i]), 1);
    }
    ke_threadpool_free(tp);
}

static void test_back_to_back_2(void **st) {
    (void)st;
    run_many(2, 100000);
}

static void test_back_to_back_4(void **st) {
    (void)st;
    run_many(4, 30000);
}

static void test_create_free_idle(void **st) {
    (void)st;
    char err[128];
    for (int i = 0; i < 50; i++) {
        ke_threadpool_t *tp = ke_threadpool_new(1 + i % MAX_T, err, sizeof err);
        assert_non_null(tp);
        if (i % 2) {
            memset(&g_job, 0, sizeof g_job);
            ke_threadpool_parallel_for(tp, 100, 1, body, &g_job);
            assert_int_equal(atomic_load(&g_job.sum), 4950);
        }
        ke_threadpool_free(tp);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_back_to_back_2),
        cmocka_unit_test(test_back_to_back_4),
        cmocka_unit_test(test_create_free_idle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
