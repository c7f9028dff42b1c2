/* Hot-path cost of the metrics registry, printed as JSON lines beside a
 * peer: a plain pthread-mutex-protected counter (what a naive registry
 * does on every event). Not a test; run: build/tests/metrics/metrics_bench
 * [iterations per thread]. Each line: op, threads, ns_per_op (wall time /
 * total ops). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kf_metrics.h"
#include "kf_worker_metrics.h"

typedef struct peer {
    pthread_mutex_t mu;
    uint64_t n;
} peer_t;

typedef struct arg {
    int op;
    long iters;
    kf_series_t *s, *h;
    kf_metric_t *m;
    kf_wmetrics_t *wm;
    peer_t *peer;
} arg_t;

static const char *const OPS[] = {"kf_counter_inc(cached series)", "kf_histogram_observe(cached)",
                                  "kf_metric_inc(lookup by labels)", "kf_wmetrics_job(4 series)",
                                  "peer: mutex counter"};
enum { NOPS = 5 };

static void *run(void *p) {
    arg_t *a = p;
    const char *lv[2] = {"mnist", "OK"};
    for (long i = 0; i < a->iters; i++) {
        switch (a->op) {
        case 0: kf_counter_inc(a->s); break;
        case 1: kf_histogram_observe(a->h, (double)(i & 1023) * 1e-5); break;
        case 2: kf_metric_inc(a->m, lv, 1); break;
        case 3: kf_wmetrics_job(a->wm, "mnist", "OK", 10, 20, 30); break;
        case 4:
            pthread_mutex_lock(&a->peer->mu);
            a->peer->n++;
            pthread_mutex_unlock(&a->peer->mu);
            break;
        }
    }
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    long iters = argc > 1 ? atol(argv[1]) : 2000000;
    char err[256];
    kf_metrics_t *reg = kf_metrics_new();
    kf_wmetrics_t *wm = reg ? kf_wmetrics_new(reg, err, sizeof(err)) : NULL;
    double b[8];
    kf_metric_t *c =
        reg ? kf_metrics_counter(reg, "b_total", "", "model,status", err, sizeof(err)) : NULL;
    kf_metric_t *h = NULL;
    if (reg && kf_metrics_exp_buckets(1e-5, 4, 8, b) == KF_OK)
        h = kf_metrics_histogram(reg, "b_seconds", "", NULL, b, 8, err, sizeof(err));
    if (!wm || !c || !h) {
        fprintf(stderr, "metrics_bench: setup failed: %s\n", err);
        return 1;
    }
    peer_t peer = {PTHREAD_MUTEX_INITIALIZER, 0};
    kf_series_t *s = kf_metric_series(c, (const char *[]){"mnist", "OK"});
    kf_series_t *hs = kf_metric_series(h, NULL);
    for (int threads = 1; threads <= 2; threads++) {
        for (int op = 0; op < NOPS; op++) {
            pthread_t th[2];
            arg_t a = {op, iters, s, hs, c, wm, &peer};
            double t0 = now();
            for (int t = 0; t < threads; t++)
                pthread_create(&th[t], NULL, run, &a);
            for (int t = 0; t < threads; t++)
                pthread_join(th[t], NULL);
            double dt = now() - t0;
            printf("{\"bench\":\"metrics\",\"op\":\"%s\",\"threads\":%d,\"ops\":%ld,"
                   "\"ns_per_op\":%.2f}\n",
                   OPS[op], threads, iters * threads, dt * 1e9 / (double)(iters * threads));
        }
    }
    kf_wmetrics_free(wm);
    kf_metrics_free(reg);
    return 0;
}
