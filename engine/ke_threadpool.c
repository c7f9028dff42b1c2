/* ke_threadpool: fixed workers, one job at a time, chunks claimed from one
 * atomic ticket (job generation << 32 | next chunk); the caller works too.
 *
 * The caller waits only for chunks that were claimed, never for workers
 * that had nothing to do: a worker that wakes late finds the ticket's
 * generation changed (or no chunk left) and goes back to waiting. A chunk
 * is claimed with a compare-and-swap on the whole ticket, so a late worker
 * can never claim a chunk of a newer job by mistake, and the job's
 * parameters are read only after a successful claim (the job cannot end,
 * and so cannot be replaced, before that chunk is done). Workers spin
 * briefly on the ticket before sleeping on a condition variable, so
 * back-to-back parallel_for calls in one plan run do not pay a futex wake
 * each. */
#include "ke_threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* How long an idle worker spins on the ticket before sleeping, and how
 * long the caller spins on the other threads' chunks before sleeping. A
 * plan run is a chain of parallel_for calls a few microseconds apart, and
 * back-to-back runs (a busy worker) are tens of microseconds apart: a futex
 * sleep + wake per call cost ~8% of an MLP batch-256 run on 2 cores
 * (perf: try_to_wake_up, futex_do_wait). Bounded, so an idle pool sleeps,
 * and a caller whose helper was descheduled mid-chunk (a busy host) stops
 * burning its core after 0.3 ms (2 ms measured the same on the models). */
#define KE_TP_SPIN_NS 200000L      /* idle worker */
#define KE_TP_WAIT_SPIN_NS 300000L /* caller, for chunks already claimed */

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

struct ke_threadpool {
    int n; /* threads incl. caller */
    pthread_t *threads;
    int n_started;
    pthread_mutex_t mu;
    pthread_cond_t cv_work;
    pthread_cond_t cv_done;
    atomic_int stop;
    atomic_int sleepers_done; /* the caller sleeps on cv_done */
    /* current job: written by the caller before the ticket is published */
    ke_task_fn fn;
    void *arg;
    int64_t n_items, chunk;
    atomic_uint n_chunks;    /* atomic: read by late workers before a claim */
    _Atomic uint64_t ticket; /* generation << 32 | next chunk index */
    atomic_uint done;        /* chunks finished in this generation */
};

typedef struct {
    ke_threadpool_t *tp;
    int tid;
} worker_arg_t;

static uint32_t ticket_gen(uint64_t t) {
    return (uint32_t)(t >> 32);
}

#define KE_TP_CLOSED 0xFFFFFFFFu /* chunk field of a ticket whose job is over */

/* Claims and runs chunks of generation `gen` until none is left or the
 * generation moved on. */
static void run_chunks(ke_threadpool_t *tp, uint32_t gen, int tid) {
    uint64_t t = atomic_load(&tp->ticket);
    for (;;) {
        if (ticket_gen(t) != gen)
            break;
        const uint32_t c = (uint32_t)t;
        /* n_chunks may already be the next job's here (read before the
         * claim); the caller closes the ticket before rewriting it, so the
         * compare-and-swap below fails in that case */
        if (c >= atomic_load_explicit(&tp->n_chunks, memory_order_relaxed))
            break;
        if (!atomic_compare_exchange_weak(&tp->ticket, &t, t + 1))
            continue; /* t reloaded */
        /* chunk c of job gen is ours: the job stays current until it is done */
        const uint32_t total = atomic_load_explicit(&tp->n_chunks, memory_order_relaxed);
        int64_t b = (int64_t)c * tp->chunk;
        int64_t e = b + tp->chunk;
        if (e > tp->n_items)
            e = tp->n_items;
        tp->fn(tp->arg, b, e, tid);
        if (atomic_fetch_add(&tp->done, 1) + 1 == total && atomic_load(&tp->sleepers_done)) {
            pthread_mutex_lock(&tp->mu);
            pthread_cond_signal(&tp->cv_done);
            pthread_mutex_unlock(&tp->mu);
        }
        t = atomic_load(&tp->ticket);
    }
}

static void *worker_main(void *p) {
    worker_arg_t wa = *(worker_arg_t *)p;
    free(p);
    ke_threadpool_t *tp = wa.tp;
    pthread_setname_np(pthread_self(), "ke-pool");
    uint32_t seen = 0; /* generation 0 is "no job yet" */
    for (;;) {
        const int64_t until = now_ns() + KE_TP_SPIN_NS;
        for (int spins = 0; ticket_gen(atomic_load(&tp->ticket)) == seen && !atomic_load(&tp->stop);
             spins++) {
            cpu_relax();
            if ((spins & 63) == 63 && now_ns() > until)
                break;
        }
        if (ticket_gen(atomic_load(&tp->ticket)) == seen && !atomic_load(&tp->stop)) {
            pthread_mutex_lock(&tp->mu);
            while (ticket_gen(atomic_load(&tp->ticket)) == seen && !atomic_load(&tp->stop))
                pthread_cond_wait(&tp->cv_work, &tp->mu);
            pthread_mutex_unlock(&tp->mu);
        }
        if (atomic_load(&tp->stop))
            break;
        seen = ticket_gen(atomic_load(&tp->ticket));
        run_chunks(tp, seen, wa.tid);
    }
    return NULL;
}

ke_threadpool_t *ke_threadpool_new(int n_threads, char *errbuf, size_t errsz) {
    if (n_threads <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = c > 0 ? (int)c : 1;
    }
    if (n_threads > 256)
        n_threads = 256;
    ke_threadpool_t *tp = calloc(1, sizeof *tp);
    if (!tp) {
        if (errbuf)
            snprintf(errbuf, errsz, "thread pool: out of memory");
        return NULL;
    }
    tp->n = n_threads;
    pthread_mutex_init(&tp->mu, NULL);
    pthread_cond_init(&tp->cv_work, NULL);
    pthread_cond_init(&tp->cv_done, NULL);
    atomic_init(&tp->stop, 0);
    atomic_init(&tp->sleepers_done, 0);
    atomic_init(&tp->ticket, 0);
    atomic_init(&tp->done, 0);
    atomic_init(&tp->n_chunks, 0);
    if (n_threads > 1) {
        tp->threads = calloc((size_t)n_threads - 1, sizeof(pthread_t));
        if (!tp->threads)
            goto fail;
        for (int i = 1; i < n_threads; i++) {
            worker_arg_t *wa = malloc(sizeof *wa);
            if (!wa)
                goto fail;
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
    if (errbuf)
        snprintf(errbuf, errsz, "thread pool: cannot start %d threads", n_threads);
    ke_threadpool_free(tp);
    return NULL;
}

void ke_threadpool_free(ke_threadpool_t *tp) {
    if (!tp)
        return;
    pthread_mutex_lock(&tp->mu);
    atomic_store(&tp->stop, 1);
    pthread_cond_broadcast(&tp->cv_work);
    pthread_mutex_unlock(&tp->mu);
    for (int i = 0; i < tp->n_started; i++)
        pthread_join(tp->threads[i], NULL);
    free(tp->threads);
    pthread_mutex_destroy(&tp->mu);
    pthread_cond_destroy(&tp->cv_work);
    pthread_cond_destroy(&tp->cv_done);
    free(tp);
}

int ke_threadpool_size(const ke_threadpool_t *tp) {
    return tp ? tp->n : 1;
}

void ke_threadpool_parallel_for(ke_threadpool_t *tp, int64_t n, int64_t grain, ke_task_fn fn,
                                void *arg) {
    if (n <= 0)
        return;
    if (grain < 1)
        grain = 1;
    if (!tp || tp->n <= 1 || n <= grain || tp->n_started == 0) {
        fn(arg, 0, n, 0);
        return;
    }
    int64_t nt = tp->n_started + 1;
    int64_t chunk = (n + nt * 4 - 1) / (nt * 4); /* ~4 chunks per thread */
    if (chunk < grain)
        chunk = grain;
    /* close the last job's ticket (see run_chunks), write the parameters,
     * then publish the new ticket */
    uint32_t gen = ticket_gen(atomic_load(&tp->ticket));
    atomic_store(&tp->ticket, ((uint64_t)gen << 32) | KE_TP_CLOSED);
    tp->fn = fn;
    tp->arg = arg;
    tp->n_items = n;
    tp->chunk = chunk;
    atomic_store_explicit(&tp->n_chunks, (uint32_t)((n + chunk - 1) / chunk), memory_order_relaxed);
    atomic_store(&tp->done, 0);
    if (++gen == 0)
        gen = 1; /* 0 means "no job yet" to a fresh worker */
    pthread_mutex_lock(&tp->mu);
    atomic_store(&tp->ticket, (uint64_t)gen << 32);
    pthread_cond_broadcast(&tp->cv_work);
    pthread_mutex_unlock(&tp->mu);
    run_chunks(tp, gen, 0);
    /* wait for the chunks other threads claimed */
    const uint32_t total = atomic_load_explicit(&tp->n_chunks, memory_order_relaxed);
    const int64_t until = now_ns() + KE_TP_WAIT_SPIN_NS;
    for (int spins = 0; atomic_load(&tp->done) < total; spins++) {
        cpu_relax();
        if ((spins & 63) == 63 && now_ns() > until)
            break;
    }
    if (atomic_load(&tp->done) < total) {
        pthread_mutex_lock(&tp->mu);
        atomic_store(&tp->sleepers_done, 1);
        while (atomic_load(&tp->done) < total)
            pthread_cond_wait(&tp->cv_done, &tp->mu);
        atomic_store(&tp->sleepers_done, 0);
        pthread_mutex_unlock(&tp->mu);
    }
}
