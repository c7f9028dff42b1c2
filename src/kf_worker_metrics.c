#include "kf_worker_metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kf_rdstats.h"

/* One partition currently shown in kinfer_consumer_lag. */
typedef struct lag_entry {
    char *topic;
    int32_t partition;
    int seen; /* in the document being applied */
} lag_entry_t;

/* Result statuses of the wire contract, cached per model. */
static const char *const STATUSES[] = {"OK", "INVALID_INPUT", "MODEL_NOT_FOUND",
                                       "DEADLINE_EXCEEDED", "INTERNAL"};
enum { NSTATUS = sizeof(STATUSES) / sizeof(STATUSES[0]) };

/* Per-model series, so a job costs a few atomic adds instead of four
 * labelled lookups. Entries are append-only: readers walk the list without
 * a lock (acquire loads of `next`), writers append under model_lock. */
typedef struct model_entry {
    _Atomic(struct model_entry *) next;
    char *model;
    kf_series_t *jobs[NSTATUS];
    kf_series_t *queue, *compute, *e2e, *batch;
} model_entry_t;

struct kf_wmetrics {
    kf_metrics_t *reg;
    kf_metric_t *jobs, *dlq, *batch, *queue_lat, *compute_lat, *e2e_lat;
    kf_metric_t *fetch_errors, *model_loaded, *lag;
    kf_series_t *inflight, *paused;
    pthread_mutex_t lag_lock; /* guards lags (stats callbacks may overlap) */
    lag_entry_t *lags;
    size_t nlags, caplags;
    pthread_mutex_t model_lock; /* serialises appends to models */
    _Atomic(model_entry_t *) models;
};

kf_wmetrics_t *kf_wmetrics_new(kf_metrics_t *reg, char *errstr, size_t errstr_size) {
    if (!reg) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "worker metrics: NULL registry");
        return NULL;
    }
    kf_wmetrics_t *wm = calloc(1, sizeof(*wm));
    if (!wm) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "worker metrics: out of memory");
        return NULL;
    }
    if (pthread_mutex_init(&wm->lag_lock, NULL) != 0) {
        free(wm);
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "worker metrics: mutex init failed");
        return NULL;
    }
    if (pthread_mutex_init(&wm->model_lock, NULL) != 0) {
        pthread_mutex_destroy(&wm->lag_lock);
        free(wm);
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "worker metrics: mutex init failed");
        return NULL;
    }
    wm->reg = reg;
    /* batch sizes 1..1024 in powers of two; latencies 50 us .. ~52 s */
    double rows[11], secs[21];
    if (kf_metrics_exp_buckets(1, 2, 11, rows) != KF_OK ||
        kf_metrics_exp_buckets(50e-6, 2, 21, secs) != KF_OK)
        goto fail;
    char *e = errstr;
    size_t es = errstr_size;
    if (!(wm->jobs = kf_metrics_counter(reg, "kinfer_jobs_total",
                                        "Jobs answered, by model and result status.",
                                        "model,status", e, es)) ||
        !(wm->dlq = kf_metrics_counter(reg, "kinfer_dlq_records_total",
                                       "Records written to the dead-letter topic, by reason.",
                                       "reason", e, es)) ||
        !(wm->batch =
              kf_metrics_histogram(reg, "kinfer_batch_size", "Rows per batch run by the engine.",
                                   "model", rows, 11, e, es)) ||
        !(wm->queue_lat = kf_metrics_histogram(
              reg, "kinfer_queue_latency_seconds",
              "Time from a job's arrival to the start of its batch.", "model", secs, 21, e, es)) ||
        !(wm->compute_lat = kf_metrics_histogram(reg, "kinfer_compute_latency_seconds",
                                                 "Engine time of the batch a job ran in.", "model",
                                                 secs, 21, e, es)) ||
        !(wm->e2e_lat = kf_metrics_histogram(
              reg, "kinfer_end_to_end_latency_seconds",
              "Time from a job being consumed to its result being handed to the producer.", "model",
              secs, 21, e, es)))
        goto fail;
    kf_metric_t *inflight, *paused, *build;
    if (!(inflight = kf_metrics_gauge(reg, "kinfer_inflight_jobs",
                                      "Jobs consumed and not yet answered.", NULL, e, es)) ||
        !(paused =
              kf_metrics_gauge(reg, "kinfer_consumer_paused",
                               "1 while the consumer is paused for backpressure.", NULL, e, es)) ||
        !(wm->lag = kf_metrics_gauge(reg, "kinfer_consumer_lag",
                                     "Messages behind the partition's high watermark "
                                     "(librdkafka consumer_lag).",
                                     "topic,partition", e, es)) ||
        !(wm->model_loaded = kf_metrics_gauge(reg, "kinfer_model_loaded",
                                              "1 for each model version currently loaded.",
                                              "model,version", e, es)) ||
        !(wm->fetch_errors = kf_metrics_counter(reg, "kinfer_artifact_fetch_errors_total",
                                                "Failed model artifact fetches or loads.",
                                                "model,reason", e, es)) ||
        !(build = kf_metrics_gauge(reg, "kinfer_build_info", "kinfer version (always 1).",
                                   "version", e, es)))
        goto fail;
    wm->inflight = kf_metric_series(inflight, NULL);
    wm->paused = kf_metric_series(paused, NULL);
#ifdef KINFER_VERSION
    kf_metric_set(build, (const char *[]){KINFER_VERSION}, 1);
#else
    kf_metric_set(build, (const char *[]){"unknown"}, 1);
#endif
    if (!wm->inflight || !wm->paused) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "worker metrics: out of memory");
        goto fail;
    }
    return wm;
fail:
    /* Families stay in the registry (it owns them); only our handle goes. */
    pthread_mutex_destroy(&wm->lag_lock);
    pthread_mutex_destroy(&wm->model_lock);
    free(wm);
    return NULL;
}

void kf_wmetrics_free(kf_wmetrics_t *wm) {
    if (!wm)
        return;
    for (size_t i = 0; i < wm->nlags; i++)
        free(wm->lags[i].topic);
    free(wm->lags);
    model_entry_t *e = atomic_load(&wm->models);
    while (e) {
        model_entry_t *n = atomic_load(&e->next);
        free(e->model);
        free(e);
        e = n;
    }
    pthread_mutex_destroy(&wm->lag_lock);
    pthread_mutex_destroy(&wm->model_lock);
    free(wm);
}

kf_metrics_t *kf_wmetrics_registry(const kf_wmetrics_t *wm) {
    return wm ? wm->reg : NULL;
}

static const char *nz(const char *s) {
    return s ? s : "";
}

static model_entry_t *find_model(model_entry_t *e, const char *model) {
    for (; e; e = atomic_load_explicit(&e->next, memory_order_acquire))
        if (strcmp(e->model, model) == 0)
            return e;
    return NULL;
}

/* The cached series of `model`, created on first use; NULL on OOM (callers
 * then fall back to labelled lookups). */
static model_entry_t *model_entry(kf_wmetrics_t *wm, const char *model) {
    model_entry_t *e = find_model(atomic_load_explicit(&wm->models, memory_order_acquire), model);
    if (e)
        return e;
    pthread_mutex_lock(&wm->model_lock);
    model_entry_t *head = atomic_load_explicit(&wm->models, memory_order_acquire);
    e = find_model(head, model);
    if (!e && (e = calloc(1, sizeof(*e))) != NULL) {
        const char *m[1] = {model};
        int ok = (e->model = strdup(model)) != NULL;
        for (size_t i = 0; ok && i < NSTATUS; i++)
            ok = (e->jobs[i] = kf_metric_series(wm->jobs, (const char *[]){model, STATUSES[i]})) !=
                 NULL;
        ok = ok && (e->queue = kf_metric_series(wm->queue_lat, m)) &&
             (e->compute = kf_metric_series(wm->compute_lat, m)) &&
             (e->e2e = kf_metric_series(wm->e2e_lat, m)) &&
             (e->batch = kf_metric_series(wm->batch, m));
        if (ok) {
            atomic_store_explicit(&e->next, head, memory_order_relaxed);
            atomic_store_explicit(&wm->models, e, memory_order_release);
        } else {
            free(e->model);
            free(e);
            e = NULL;
        }
    }
    pthread_mutex_unlock(&wm->model_lock);
    return e;
}

void kf_wmetrics_job(kf_wmetrics_t *wm, const char *model, const char *status, int64_t queue_us,
                     int64_t compute_us, int64_t e2e_us) {
    if (!wm)
        return;
    model = nz(model);
    status = nz(status);
    model_entry_t *e = model_entry(wm, model);
    kf_series_t *js = NULL;
    for (size_t i = 0; e && i < NSTATUS && !js; i++)
        if (strcmp(status, STATUSES[i]) == 0)
            js = e->jobs[i];
    if (js)
        kf_counter_inc(js);
    else
        kf_metric_inc(wm->jobs, (const char *[]){model, status}, 1);
    const char *m[1] = {model};
    if (queue_us >= 0) {
        if (e)
            kf_histogram_observe(e->queue, (double)queue_us * 1e-6);
        else
            kf_metric_observe(wm->queue_lat, m, (double)queue_us * 1e-6);
    }
    if (compute_us >= 0) {
        if (e)
            kf_histogram_observe(e->compute, (double)compute_us * 1e-6);
        else
            kf_metric_observe(wm->compute_lat, m, (double)compute_us * 1e-6);
    }
    if (e2e_us >= 0) {
        if (e)
            kf_histogram_observe(e->e2e, (double)e2e_us * 1e-6);
        else
            kf_metric_observe(wm->e2e_lat, m, (double)e2e_us * 1e-6);
    }
}

void kf_wmetrics_dlq(kf_wmetrics_t *wm, const char *reason) {
    if (wm)
        kf_metric_inc(wm->dlq, (const char *[]){nz(reason)}, 1);
}

void kf_wmetrics_batch(kf_wmetrics_t *wm, const char *model, uint64_t rows) {
    if (!wm)
        return;
    model_entry_t *e = model_entry(wm, nz(model));
    if (e)
        kf_histogram_observe(e->batch, (double)rows);
    else
        kf_metric_observe(wm->batch, (const char *[]){nz(model)}, (double)rows);
}

void kf_wmetrics_inflight(kf_wmetrics_t *wm, int64_t jobs) {
    if (wm)
        kf_gauge_set(wm->inflight, (double)jobs);
}

void kf_wmetrics_paused(kf_wmetrics_t *wm, int paused) {
    if (wm)
        kf_gauge_set(wm->paused, paused ? 1.0 : 0.0);
}

void kf_wmetrics_model_loaded(kf_wmetrics_t *wm, const char *model, const char *version,
                              int loaded) {
    if (!wm)
        return;
    const char *v[2] = {nz(model), nz(version)};
    if (loaded)
        kf_metric_set(wm->model_loaded, v, 1);
    else
        (void)kf_metric_remove(wm->model_loaded, v);
}

void kf_wmetrics_fetch_error(kf_wmetrics_t *wm, const char *model, const char *reason) {
    if (wm)
        kf_metric_inc(wm->fetch_errors, (const char *[]){nz(model), nz(reason)}, 1);
}

void kf_wmetrics_artifact_totals(kf_wmetrics_t *wm, const char *model, uint64_t fetch_failures,
                                 uint64_t load_failures, uint64_t poll_errors) {
    if (!wm)
        return;
    kf_counter_set(kf_metric_series(wm->fetch_errors, (const char *[]){nz(model), "fetch"}),
                   fetch_failures);
    kf_counter_set(kf_metric_series(wm->fetch_errors, (const char *[]){nz(model), "load"}),
                   load_failures);
    kf_counter_set(kf_metric_series(wm->fetch_errors, (const char *[]){nz(model), "poll"}),
                   poll_errors);
}

/* ---- consumer lag from librdkafka statistics ------------------------- */

static void on_lag(void *ctx, const char *topic, int32_t partition, int64_t lag) {
    kf_wmetrics_t *wm = ctx;
    if (lag < 0)
        return; /* unknown yet: keep whatever we showed */
    char pbuf[16];
    snprintf(pbuf, sizeof(pbuf), "%d", (int)partition);
    kf_metric_set(wm->lag, (const char *[]){topic, pbuf}, (double)lag);
    for (size_t i = 0; i < wm->nlags; i++) {
        if (wm->lags[i].partition == partition && strcmp(wm->lags[i].topic, topic) == 0) {
            wm->lags[i].seen = 1;
            return;
        }
    }
    if (wm->nlags == wm->caplags) {
        size_t cap = wm->caplags ? wm->caplags * 2 : 16;
        lag_entry_t *n = realloc(wm->lags, cap * sizeof(*n));
        if (!n)
            return; /* the gauge is set; we only lose the ability to hide it */
        wm->lags = n;
        wm->caplags = cap;
    }
    char *t = strdup(topic);
    if (!t)
        return;
    wm->lags[wm->nlags++] = (lag_entry_t){t, partition, 1};
}

kf_status_t kf_wmetrics_rdkafka_stats(kf_wmetrics_t *wm, const char *json, size_t len) {
    if (!wm)
        return KF_OK;
    pthread_mutex_lock(&wm->lag_lock);
    for (size_t i = 0; i < wm->nlags; i++)
        wm->lags[i].seen = 0;
    kf_status_t st = kf_rdstats_parse_lag(json, len, on_lag, wm);
    if (st == KF_OK) {
        /* Partitions gone from the document were revoked: stop showing them. */
        size_t k = 0;
        for (size_t i = 0; i < wm->nlags; i++) {
            if (wm->lags[i].seen) {
                wm->lags[k++] = wm->lags[i];
                continue;
            }
            char pbuf[16];
            snprintf(pbuf, sizeof(pbuf), "%d", (int)wm->lags[i].partition);
            (void)kf_metric_remove(wm->lag, (const char *[]){wm->lags[i].topic, pbuf});
            free(wm->lags[i].topic);
        }
        wm->nlags = k;
    }
    pthread_mutex_unlock(&wm->lag_lock);
    return st;
}
