/* ke_threadpool: fixed workers, one job at a time, chunks handed out with an
 * atomic counter; the caller works too. Workers spin briefly on the job
 * generation before sleeping on a condition variable, so back-to-back
 * parallel_for calls in one plan run do not pay a futex wake each. */
#include "ke_threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define KE_TP_SPIN 4000

struct ke_threadpool {
    int n;                 /* threads incl. caller */
    pthread_t *threads;
    int n_started;
    pthread_mutex_t mu;
    pthread_cond_t cv_work;
    pthread_cond_t cv_done;
    atomic_uint gen;       /* bumped per job */
    atomic_int stop;
    /* current job */
    ke_task_fn fn;
    void *arg;
    int64_t n_items, chunk, n_chunks;
    atomic_llong next;     /* next chunk index */
    atomic_int active;     /* workers still inside the job */
};

typedef struct {
    ke_threadpool_t *tp;
    int tid;
} worker_arg_t;

static void run_chunks(ke_threadpool_t *tp, int tid) {
    for (;;) {
        long long c = atomic_fetch_add(&tp->next, 1);
        if (c >= tp->n_chunks) break;
        int64_t b = c * tp->chunk;
        int64_t e = b + tp->chunk;
        if (e > tp->n_items) e = tp->n_items;
        tp->fn(tp->arg, b, e, tid);
    }
}

static void *worker_main(void *p) {
    worker_arg_t wa = *(worker_arg_t *)p;
    free(p);
    ke_threadpool_t *tp = wa.tp;
    unsigned seen = 0; /* gen at creation; a late-starting worker must still join job 1 */
    for (;;) {
        int spins = 0;
        while (atomic_load(&tp->gen) == seen && !atomic_load(&tp->stop) && spins < KE_TP_SPIN) spins++;
        if (atomic_load(&tp->gen) == seen && !atomic_load(&tp->stop)) {
            pthread_mutex_lock(&tp->mu);
            while (atomic_load(&tp->gen) == seen && !atomic_load(&tp->stop))
                pthread_cond_wait(&tp->cv_work, &tp->mu);
            pthread_mutex_unlock(&tp->mu);
        }
        if (atomic_load(&tp->stop)) break;
        seen = atomic_load(&tp->gen);
        run_chunks(tp, wa.tid);
        if (atomic_fetch_sub(&tp->active, 1) == 1) {
            pthread_mutex_lock(&tp->mu);
            pthread_cond_signal(&tp->cv_done);
            pthread_mutex_unlock(&tp->mu);
        }
    }
    return NULL;
}

ke_threadpool_t *ke_threadpool_new(int n_threads, char *errbuf, size_t errsz) {
    if (n_threads <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = c > 0 ? (int)c : 1;
    }
    if (n_threads > 256) n_threads = 256;
    ke_threadpool_t *tp = calloc(1, sizeof *tp);
    if (!tp) {
        if (errbuf) snprintf(errbuf, errsz, "thread pool: out of memory");
        return NULL;
    }
    tp->n = n_threads;
    pthread_mutex_init(&tp->mu, NULL);
    pthread_cond_init(&tp->cv_work, NULL);
    pthread_cond_init(&tp->cv_done, NULL);
    atomic_init(&tp->gen, 0);
    atomic_init(&tp->stop, 0);
    atomic_init(&tp->next, 0);
    atomic_init(&tp->active, 0);
    if (n_threads > 1) {
        tp->threads = calloc((size_t)n_threads - 1, sizeof(pthread_t));
        if (!tp->threads) goto fail;
        for (int i = 1; i < n_threads; i++) {
            worker_arg_t *wa = malloc(sizeof *wa);
            if (!wa) goto fail;
            wa->tp = tp;
            wa->tid = i;
            if (pthread_create(&tp->threads[i - 1], NULL, worker_main, wa) != 0) {
                free(wa);
                goto fail;
            }
            tp->n_started++;
        }
    }
    return tp;
fail:
    if (errbuf) snprintf(errbuf, errsz, "thread pool: cannot start %d threads", n_threads);
    ke_threadpool_free(tp);
    return NULL;
}

void ke_threadpool_free(ke_threadpool_t *tp) {
    if (!tp) return;
    pthread_mutex_lock(&tp->mu);
    atomic_store(&tp->stop, 1);
    pthread_cond_broadcast(&tp->cv_work);
    pthread_mutex_unlock(&tp->mu);
    for (int i = 0; i < tp->n_started; i++) pthread_join(tp->threads[i], NULL);
    free(tp->threads);
    pthread_mutex_destroy(&tp->mu);
    pthread_cond_destroy(&tp->cv_work);
    pthread_cond_destroy(&tp->cv_done);
    free(tp);
}

int ke_threadpool_size(const ke_threadpool_t *tp) { return tp ? tp->n : 1; }

void ke_threadpool_parallel_for(ke_threadpool_t *tp, int64_t n, int64_t grain,
                                ke_task_fn fn, void *arg) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    if (!tp || tp->n <= 1 || n <= grain || tp->n_started == 0) {
        fn(arg, 0, n, 0);
        return;
    }
    int64_t nt = tp->n_started + 1;
    int64_t chunk = (n + nt * 4 - 1) / (nt * 4); /* ~4 chunks per thread */
    if (chunk < grain) chunk = grain;
    tp->fn = fn;
    tp->arg = arg;
    tp->n_items = n;
    tp->chunk = chunk;
    tp->n_chunks = (n + chunk - 1) / chunk;
    atomic_store(&tp->next, 0);
    atomic_store(&tp->active, tp->n_started);
    pthread_mutex_lock(&tp->mu);
    atomic_fetch_add(&tp->gen, 1);
    pthread_cond_broadcast(&tp->cv_work);
    pthread_mutex_unlock(&tp->mu);
    run_chunks(tp, 0);
    int spins = 0;
    while (atomic_load(&tp->active) > 0 && spins < KE_TP_SPIN * 4) spins++;
    if (atomic_load(&tp->active) > 0) {
        pthread_mutex_lock(&tp->mu);
        while (atomic_load(&tp->active) > 0) pthread_cond_wait(&tp->cv_done, &tp->mu);
        pthread_mutex_unlock(&tp->mu);
    }
}
