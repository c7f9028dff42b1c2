/* Unit tests for kf_metrics (registry + text rendering), kf_rdstats (lag
 * from librdkafka statistics JSON) and kf_worker_metrics. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include "kf_metrics.h"
#include "kf_rdstats.h"
#include "kf_worker_metrics.h"

static char *render(kf_metrics_t *reg) {
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(kf_metrics_render(reg, &out, &len), KF_OK);
    assert_non_null(out);
    assert_int_equal(strlen(out), len);
    return out;
}

static void test_render_exact(void **state) {
    (void)state;
    char err[256];
    kf_metrics_t *reg = kf_metrics_new();
    assert_non_null(reg);
    kf_metric_t *c = kf_metrics_counter(reg, "t_jobs_total", "Jobs.\nSecond \\ line",
                                        "model,status", err, sizeof(err));
    assert_non_null(c);
    kf_metric_t *g = kf_metrics_gauge(reg, "t_inflight", "In flight.", NULL, err, sizeof(err));
    assert_non_null(g);
    double b[3] = {0.1, 1, 2.5};
    kf_metric_t *h =
        kf_metrics_histogram(reg, "t_lat_seconds", "Latency.", "model", b, 3, err, sizeof(err));
    assert_non_null(h);

    kf_series_t *ok = kf_metric_series(c, (const char *[]){"mnist", "OK"});
    kf_counter_add(ok, 41);
    kf_counter_inc(ok);
    kf_metric_inc(c, (const char *[]){"we\"ird\\na\nme", "INTERNAL"}, 3);
    kf_metric_set(g, NULL, 7.5);
    kf_series_t *hs = kf_metric_series(h, (const char *[]){"mnist"});
    kf_histogram_observe(hs, 0.05);
    kf_histogram_observe(hs, 0.1); /* le is inclusive */
    kf_histogram_observe(hs, 2);
    kf_histogram_observe(hs, 100);
    kf_histogram_observe(hs, NAN); /* ignored */

    char *s = render(reg);
    const char *want = "# HELP t_jobs_total Jobs.\\nSecond \\\\ line\n"
                       "# TYPE t_jobs_total counter\n"
                       "t_jobs_total{model=\"mnist\",status=\"OK\"} 42\n"
                       "t_jobs_total{model=\"we\\\"ird\\\\na\\nme\",status=\"INTERNAL\"} 3\n"
                       "# HELP t_inflight In flight.\n"
                       "# TYPE t_inflight gauge\n"
                       "t_inflight 7.5\n"
                       "# HELP t_lat_seconds Latency.\n"
                       "# TYPE t_lat_seconds histogram\n"
                       "t_lat_seconds_bucket{model=\"mnist\",le=\"0.1\"} 2\n"
                       "t_lat_seconds_bucket{model=\"mnist\",le=\"1\"} 2\n"
                       "t_lat_seconds_bucket{model=\"mnist\",le=\"2.5\"} 3\n"
                       "t_lat_seconds_bucket{model=\"mnist\",le=\"+Inf\"} 4\n"
                       "t_lat_seconds_sum{model=\"mnist\"} 102.15\n"
                       "t_lat_seconds_count{model=\"mnist\"} 4\n";
    assert_string_equal(s, want);
    free(s);
    assert_int_equal(kf_counter_value(ok), 42);
    assert_int_equal(kf_histogram_count(hs), 4);
    assert_true(fabs(kf_histogram_sum(hs) - 102.15) < 1e-9);
    kf_metrics_free(reg);
}

static void test_special_values(void **state) {
    (void)state;
    char err[256];
    kf_metrics_t *reg = kf_metrics_new();
    kf_metric_t *g = kf_metrics_gauge(reg, "g", "", "k", err, sizeof(err));
    assert_non_null(g);
    kf_metric_set(g, (const char *[]){"inf"}, INFINITY);
    kf_metric_set(g, (const char *[]){"ninf"}, -INFINITY);
    kf_metric_set(g, (const char *[]){"nan"}, NAN);
    kf_metric_set(g, (const char *[]){"big"}, 1e300);
    kf_metric_set(g, (const char *[]){NULL}, -0.25);
    kf_series_t *a = kf_metric_series(g, (const char *[]){"add"});
    kf_gauge_add(a, 2);
    kf_gauge_add(a, -0.5);
    char *s = render(reg);
    assert_non_null(strstr(s, "# HELP g \n# TYPE g gauge\n"));
    assert_non_null(strstr(s, "g{k=\"inf\"} +Inf\n"));
    assert_non_null(strstr(s, "g{k=\"ninf\"} -Inf\n"));
    assert_non_null(strstr(s, "g{k=\"nan\"} NaN\n"));
    assert_non_null(strstr(s, "g{k=\"big\"} 1e+300\n"));
    assert_non_null(strstr(s, "g{k=\"\"} -0.25\n"));
    assert_non_null(strstr(s, "g{k=\"add\"} 1.5\n"));
    free(s);
    /* wrong-kind updates are ignored */
    kf_counter_add(a, 5);
    kf_histogram_observe(a, 5);
    assert_true(kf_gauge_value(a) == 1.5);
    /* NULL series / family are no-ops */
    kf_counter_add(NULL, 1);
    kf_gauge_set(NULL, 1);
    kf_histogram_observe(NULL, 1);
    kf_metric_inc(NULL, NULL, 1);
    kf_metrics_free(reg);
    kf_metrics_free(NULL);
}

static void test_register_errors(void **state) {
    (void)state;
    char err[256];
    kf_metrics_t *reg = kf_metrics_new();
    double b[2] = {1, 2}, bad[2] = {2, 1};
    assert_null(kf_metrics_counter(reg, "1abc", "", NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "'1abc'"));
    assert_null(kf_metrics_counter(reg, "a-b", "", NULL, err, sizeof(err)));
    assert_null(kf_metrics_counter(reg, "ok", "", "good,ba d", err, sizeof(err)));
    assert_non_null(strstr(err, "'ba d'"));
    assert_null(kf_metrics_counter(reg, "ok", "", "__x", err, sizeof(err)));
    assert_null(kf_metrics_counter(reg, "ok", "", "a,a", err, sizeof(err)));
    assert_non_null(strstr(err, "duplicate label 'a'"));
    assert_null(kf_metrics_counter(reg, "ok", "", "a,", err, sizeof(err)));
    assert_null(kf_metrics_histogram(reg, "h", "", "le", b, 2, err, sizeof(err)));
    assert_non_null(strstr(err, "'le'"));
    assert_null(kf_metrics_histogram(reg, "h", "", NULL, bad, 2, err, sizeof(err)));
    assert_non_null(strstr(err, "bucket 1"));
    assert_null(kf_metrics_histogram(reg, "h", "", NULL, NULL, 0, err, sizeof(err)));
    assert_null(kf_metrics_register(reg, KF_METRIC_GAUGE, "g", "", NULL, b, 2, err, sizeof(err)));
    /* a counter may use "le"; names with colons are fine */
    assert_non_null(kf_metrics_counter(reg, "ns:ok_total", "", " le , b ", err, sizeof(err)));
    assert_null(kf_metrics_counter(reg, "ns:ok_total", "", NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "already registered"));
    /* nothing half-registered shows up */
    char *s = render(reg);
    assert_string_equal(s, "# HELP ns:ok_total \n# TYPE ns:ok_total counter\n");
    free(s);
    double eb[4];
    assert_int_equal(kf_metrics_exp_buckets(1, 2, 4, eb), KF_OK);
    assert_true(eb[0] == 1 && eb[3] == 8);
    assert_int_equal(kf_metrics_exp_buckets(0, 2, 4, eb), KF_ERR_INVALID_ARG);
    assert_int_equal(kf_metrics_exp_buckets(1, 1, 4, eb), KF_ERR_INVALID_ARG);
    kf_metrics_free(reg);
}

static void test_remove_revive(void **state) {
    (void)state;
    char err[256];
    kf_metrics_t *reg = kf_metrics_new();
    kf_metric_t *g = kf_metrics_gauge(reg, "lag", "", "topic,partition", err, sizeof(err));
    kf_series_t *p0 = kf_metric_series(g, (const char *[]){"jobs", "0"});
    kf_series_t *p1 = kf_metric_series(g, (const char *[]){"jobs", "1"});
    /* ("ab","") and ("a","b") are different series */
    kf_series_t *x = kf_metric_series(g, (const char *[]){"ab", ""});
    kf_series_t *y = kf_metric_series(g, (const char *[]){"a", "b"});
    assert_ptr_not_equal(x, y);
    assert_ptr_equal(p0, kf_metric_series(g, (const char *[]){"jobs", "0"}));
    kf_gauge_set(p0, 5);
    kf_gauge_set(p1, 6);
    assert_int_equal(kf_metric_remove(g, (const char *[]){"jobs", "0"}), KF_OK);
    assert_int_equal(kf_metric_remove(g, (const char *[]){"jobs", "9"}), KF_ERR_NOT_FOUND);
    kf_gauge_set(p0, 8); /* stale pointer: safe, stays hidden */
    char *s = render(reg);
    assert_null(strstr(s, "partition=\"0\""));
    assert_non_null(strstr(s, "lag{topic=\"jobs\",partition=\"1\"} 6\n"));
    free(s);
    assert_ptr_equal(p0, kf_metric_series(g, (const char *[]){"jobs", "0"}));
    s = render(reg);
    assert_non_null(strstr(s, "lag{topic=\"jobs\",partition=\"0\"} 0\n"));
    free(s);
    kf_metrics_free(reg);
}

typedef struct hammer {
    kf_metric_t *c, *h;
    int id;
} hammer_t;

static void *hammer_main(void *arg) {
    hammer_t *hm = arg;
    char model[16];
    snprintf(model, sizeof(model), "m%d", hm->id % 2);
    kf_series_t *cached = kf_metric_series(hm->c, (const char *[]){"shared"});
    for (int i = 0; i < 20000; i++) {
        kf_counter_inc(cached);
        kf_metric_inc(hm->c, (const char *[]){model}, 1);
        kf_metric_observe(hm->h, NULL, (double)(i % 4));
    }
    return NULL;
}

static void *render_main(void *arg) {
    kf_metrics_t *reg = arg;
    for (int i = 0; i < 50; i++) {
        char *s = NULL;
        size_t n;
        if (kf_metrics_render(reg, &s, &n) == KF_OK)
            free(s);
    }
    return NULL;
}

static void test_concurrent_exact(void **state) {
    (void)state;
    char err[256];
    kf_metrics_t *reg = kf_metrics_new();
    kf_metric_t *c = kf_metrics_counter(reg, "c_total", "", "model", err, sizeof(err));
    double b[3] = {0.5, 1.5, 2.5};
    kf_metric_t *h = kf_metrics_histogram(reg, "h", "", NULL, b, 3, err, sizeof(err));
    enum { N = 4 };
    pthread_t th[N + 1];
    hammer_t hm[N];
    for (int i = 0; i < N; i++) {
        hm[i] = (hammer_t){c, h, i};
        assert_int_equal(pthread_create(&th[i], NULL, hammer_main, &hm[i]), 0);
    }
    assert_int_equal(pthread_create(&th[N], NULL, render_main, reg), 0);
    for (int i = 0; i <= N; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(kf_counter_value(kf_metric_series(c, (const char *[]){"shared"})), N * 20000);
    assert_int_equal(kf_counter_value(kf_metric_series(c, (const char *[]){"m0"})), 2 * 20000);
    assert_int_equal(kf_counter_value(kf_metric_series(c, (const char *[]){"m1"})), 2 * 20000);
    kf_series_t *hs = kf_metric_series(h, NULL);
    assert_int_equal(kf_histogram_count(hs), N * 20000);
    assert_true(kf_histogram_sum(hs) == (double)N * 5000 * (0 + 1 + 2 + 3));
    char *s = render(reg);
    assert_non_null(strstr(s, "h_bucket{le=\"0.5\"} 20000\n"));
    assert_non_null(strstr(s, "h_bucket{le=\"1.5\"} 40000\n"));
    assert_non_null(strstr(s, "h_bucket{le=\"+Inf\"} 80000\n"));
    assert_non_null(strstr(s, "h_count 80000\n"));
    free(s);
    kf_metrics_free(reg);
}

/* ---- rdstats --------------------------------------------------------- */

typedef struct lagrec {
    char topic[64];
    int32_t partition;
    int64_t lag;
} lagrec_t;

typedef struct lags {
    lagrec_t r[16];
    int n;
} lags_t;

static void collect(void *ctx, const char *topic, int32_t partition, int64_t lag) {
    lags_t *l = ctx;
    if (l->n < 16) {
        snprintf(l->r[l->n].topic, sizeof(l->r[0].topic), "%s", topic);
        l->r[l->n].partition = partition;
        l->r[l->n].lag = lag;
        l->n++;
    }
}

/* Shaped like librdkafka 2.0's statistics (trimmed). */
static const char *STATS =
    "{\"name\":\"rdkafka#consumer-1\",\"type\":\"consumer\",\"ts\":123,"
    "\"brokers\":{\"b:9092/1\":{\"name\":\"b\",\"toppars\":{\"jobs-0\":{\"topic\":\"jobs\","
    "\"partition\":0}},\"int_latency\":{\"min\":0,\"p99\":1.5e3}}},"
    "\"topics\":{\"jobs\":{\"topic\":\"jobs\",\"age\":10,\"batchsize\":{\"avg\":0},"
    "\"partitions\":{\"0\":{\"partition\":0,\"consumer_lag\":42,\"consumer_lag_stored\":40},"
    "\"1\":{\"partition\":1,\"consumer_lag\":-1},"
    "\"-1\":{\"partition\":-1,\"consumer_lag\":-1}}},"
    "\"we\\\"ird\":{\"partitions\":{\"7\":{\"consumer_lag\":0,\"x\":[1,{\"consumer_lag\":9}]}}}},"
    "\"cgrp\":{\"state\":\"up\",\"assignment_size\":1},\"empty\":[],\"t\":true,\"n\":null}";

static void test_rdstats_lag(void **state) {
    (void)state;
    lags_t l = {0};
    assert_int_equal(kf_rdstats_parse_lag(STATS, strlen(STATS) + 1, collect, &l), KF_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.r[0].topic, "jobs");
    assert_int_equal(l.r[0].partition, 0);
    assert_int_equal(l.r[0].lag, 42);
    assert_int_equal(l.r[1].partition, 1);
    assert_int_equal(l.r[1].lag, -1);
    assert_string_equal(l.r[2].topic, "we\"ird");
    assert_int_equal(l.r[2].partition, 7);
    assert_int_equal(l.r[2].lag, 0);
}

static void test_rdstats_malformed(void **state) {
    (void)state;
    const char *bad[] = {"",
                         "[]",
                         "{",
                         "{\"topics\":{\"a\":{\"partitions\":{\"0\":{\"consumer_lag\":}}}}}",
                         "{\"a\":01}",
                         "{\"a\":1.}",
                         "{\"a\":\"\\x\"}",
                         "{\"a\":tru}",
                         "{\"a\":1} x",
                         "{\"a\":[1,]}",
                         "{\"a\":\"unterminated}",
                         "{\"a\" 1}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        lags_t l = {0};
        assert_int_equal(kf_rdstats_parse_lag(bad[i], strlen(bad[i]), collect, &l), KF_ERR_DECODE);
    }
    /* deep nesting is refused, not recursed into */
    size_t n = 100000;
    char *deep = malloc(2 * n + 1);
    assert_non_null(deep);
    deep[0] = '{';
    memcpy(deep + 1, "\"a\":", 4);
    for (size_t i = 5; i < n; i++)
        deep[i] = '[';
    assert_int_equal(kf_rdstats_parse_lag(deep, n, collect, NULL), KF_ERR_DECODE);
    free(deep);
    /* a length that cuts a valid document is an error, never an overread */
    lags_t l = {0};
    assert_int_equal(kf_rdstats_parse_lag(STATS, 100, collect, &l), KF_ERR_DECODE);
    assert_int_equal(kf_rdstats_parse_lag(NULL, 0, collect, &l), KF_ERR_INVALID_ARG);
}

/* ---- worker metric set ----------------------------------------------- */

static void test_worker_metrics(void **state) {
    (void)state;
    char err[256];
    kf_metrics_t *reg = kf_metrics_new();
    kf_wmetrics_t *wm = kf_wmetrics_new(reg, err, sizeof(err));
    assert_non_null(wm);
    assert_ptr_equal(kf_wmetrics_registry(wm), reg);
    /* a second set in the same registry collides and says which name */
    assert_null(kf_wmetrics_new(reg, err, sizeof(err)));
    assert_non_null(strstr(err, "kinfer_jobs_total"));

    kf_wmetrics_job(wm, "mnist", "OK", 100, 2000, 5000);
    kf_wmetrics_job(wm, "mnist", "OK", -1, -1, -1);
    kf_wmetrics_job(wm, NULL, "INVALID_INPUT", -1, -1, 10);
    kf_wmetrics_dlq(wm, "decode");
    kf_wmetrics_batch(wm, "mnist", 3);
    kf_wmetrics_inflight(wm, 17);
    kf_wmetrics_paused(wm, 1);
    kf_wmetrics_model_loaded(wm, "mnist", "1", 1);
    kf_wmetrics_model_loaded(wm, "mnist", "2", 1);
    kf_wmetrics_model_loaded(wm, "mnist", "1", 0);
    kf_wmetrics_fetch_error(wm, "mnist", "checksum");
    assert_int_equal(kf_wmetrics_rdkafka_stats(wm, STATS, strlen(STATS)), KF_OK);

    char *s = render(reg);
    assert_non_null(strstr(s, "kinfer_jobs_total{model=\"mnist\",status=\"OK\"} 2\n"));
    assert_non_null(strstr(s, "kinfer_jobs_total{model=\"\",status=\"INVALID_INPUT\"} 1\n"));
    assert_non_null(strstr(s, "kinfer_dlq_records_total{reason=\"decode\"} 1\n"));
    assert_non_null(strstr(s, "kinfer_batch_size_bucket{model=\"mnist\",le=\"2\"} 0\n"));
    assert_non_null(strstr(s, "kinfer_batch_size_bucket{model=\"mnist\",le=\"4\"} 1\n"));
    assert_non_null(strstr(s, "kinfer_queue_latency_seconds_count{model=\"mnist\"} 1\n"));
    assert_non_null(strstr(s, "kinfer_end_to_end_latency_seconds_count{model=\"\"} 1\n"));
    assert_non_null(strstr(s, "kinfer_compute_latency_seconds_sum{model=\"mnist\"} 0.002\n"));
    assert_non_null(strstr(s, "kinfer_inflight_jobs 17\n"));
    assert_non_null(strstr(s, "kinfer_consumer_paused 1\n"));
    assert_null(strstr(s, "kinfer_model_loaded{model=\"mnist\",version=\"1\"}"));
    assert_non_null(strstr(s, "kinfer_model_loaded{model=\"mnist\",version=\"2\"} 1\n"));
    assert_non_null(
        strstr(s, "kinfer_artifact_fetch_errors_total{model=\"mnist\",reason=\"checksum\"} 1\n"));
    assert_non_null(strstr(s, "kinfer_consumer_lag{topic=\"jobs\",partition=\"0\"} 42\n"));
    assert_non_null(strstr(s, "kinfer_consumer_lag{topic=\"we\\\"ird\",partition=\"7\"} 0\n"));
    assert_null(strstr(s, "partition=\"1\""));
    assert_null(strstr(s, "partition=\"-1\""));
    assert_non_null(strstr(s, "kinfer_build_info{version=\""));
    free(s);

    /* partition 0 revoked: the next document lacks it, its gauge goes */
    const char *after = "{\"topics\":{\"jobs\":{\"partitions\":{\"2\":{\"consumer_lag\":5}}}}}";
    assert_int_equal(kf_wmetrics_rdkafka_stats(wm, after, strlen(after)), KF_OK);
    s = render(reg);
    assert_null(strstr(s, "partition=\"0\""));
    assert_null(strstr(s, "partition=\"7\""));
    assert_non_null(strstr(s, "kinfer_consumer_lag{topic=\"jobs\",partition=\"2\"} 5\n"));
    free(s);
    /* malformed stats change nothing */
    assert_int_equal(kf_wmetrics_rdkafka_stats(wm, "{", 1), KF_ERR_DECODE);
    s = render(reg);
    assert_non_null(strstr(s, "partition=\"2\"} 5\n"));
    free(s);

    /* NULL handle: every call is a no-op */
    kf_wmetrics_job(NULL, "m", "OK", 1, 1, 1);
    kf_wmetrics_dlq(NULL, "x");
    kf_wmetrics_batch(NULL, "m", 1);
    kf_wmetrics_inflight(NULL, 1);
    kf_wmetrics_paused(NULL, 1);
    kf_wmetrics_model_loaded(NULL, "m", "1", 1);
    kf_wmetrics_fetch_error(NULL, "m", "x");
    assert_int_equal(kf_wmetrics_rdkafka_stats(NULL, "x", 1), KF_OK);
    kf_wmetrics_free(NULL);

    kf_wmetrics_free(wm);
    kf_metrics_free(reg);
}

static void *wm_hammer(void *arg) {
    kf_wmetrics_t *wm = arg;
    char model[8];
    for (int i = 0; i < 30000; i++) {
        snprintf(model, sizeof(model), "m%d", i % 7); /* models appear concurrently */
        kf_wmetrics_job(wm, model, (i % 3) ? "OK" : "weird-status", i, i, i);
        kf_wmetrics_batch(wm, model, (uint64_t)(i % 64) + 1);
    }
    return NULL;
}

static void test_worker_metrics_concurrent(void **state) {
    (void)state;
    char err[256];
    kf_metrics_t *reg = kf_metrics_new();
    kf_wmetrics_t *wm = kf_wmetrics_new(reg, err, sizeof(err));
    assert_non_null(wm);
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, wm_hammer, wm), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    char *s = render(reg);
    for (int m = 0; m < 7; m++) {
        /* i in [0,30000) with i % 7 == m: ok when i % 3 != 0 */
        unsigned ok = 0, weird = 0, all = 0;
        for (int i = m; i < 30000; i += 7) {
            all++;
            if (i % 3)
                ok++;
            else
                weird++;
        }
        char line[160];
        snprintf(line, sizeof(line), "kinfer_jobs_total{model=\"m%d\",status=\"OK\"} %u\n", m,
                 3 * ok);
        assert_non_null(strstr(s, line));
        snprintf(line, sizeof(line),
                 "kinfer_jobs_total{model=\"m%d\",status=\"weird-status\"} %u\n", m, 3 * weird);
        assert_non_null(strstr(s, line));
        snprintf(line, sizeof(line), "kinfer_jobs_total{model=\"m%d\",status=\"INTERNAL\"} 0\n", m);
        assert_non_null(strstr(s, line));
        snprintf(line, sizeof(line), "kinfer_batch_size_count{model=\"m%d\"} %u\n", m, 3 * all);
        assert_non_null(strstr(s, line));
        snprintf(line, sizeof(line), "kinfer_end_to_end_latency_seconds_count{model=\"m%d\"} %u\n",
                 m, 3 * all);
        assert_non_null(strstr(s, line));
    }
    free(s);
    kf_wmetrics_free(wm);
    kf_metrics_free(reg);
}

typedef struct repo_counts {
    uint64_t fetch, load, poll;
    kf_wmetrics_t *wm;
    int calls;
} repo_counts_t;

static void collect_repo(void *ctx, kf_metrics_t *reg) {
    repo_counts_t *rc = ctx;
    (void)reg;
    rc->calls++;
    kf_wmetrics_artifact_totals(rc->wm, "mnist", rc->fetch, rc->load, rc->poll);
}

static void test_collect_callbacks(void **state) {
    (void)state;
    char err[256];
    kf_metrics_t *reg = kf_metrics_new();
    kf_wmetrics_t *wm = kf_wmetrics_new(reg, err, sizeof(err));
    repo_counts_t rc = {2, 1, 0, wm, 0};
    assert_int_equal(kf_metrics_on_collect(reg, collect_repo, &rc), KF_OK);
    assert_int_equal(kf_metrics_on_collect(reg, NULL, NULL), KF_ERR_INVALID_ARG);
    char *s = render(reg);
    assert_int_equal(rc.calls, 1);
    assert_non_null(
        strstr(s, "kinfer_artifact_fetch_errors_total{model=\"mnist\",reason=\"fetch\"} 2\n"));
    assert_non_null(
        strstr(s, "kinfer_artifact_fetch_errors_total{model=\"mnist\",reason=\"load\"} 1\n"));
    free(s);
    rc.fetch = 5; /* the module counted more: the next scrape sees it */
    s = render(reg);
    assert_non_null(
        strstr(s, "kinfer_artifact_fetch_errors_total{model=\"mnist\",reason=\"fetch\"} 5\n"));
    free(s);
    for (int i = 1; i < KF_METRICS_MAX_COLLECTORS; i++)
        assert_int_equal(kf_metrics_on_collect(reg, collect_repo, &rc), KF_OK);
    assert_int_equal(kf_metrics_on_collect(reg, collect_repo, &rc), KF_ERR_LIMIT);
    kf_wmetrics_free(wm);
    kf_metrics_free(reg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_exact),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_register_errors),
        cmocka_unit_test(test_remove_revive),
        cmocka_unit_test(test_concurrent_exact),
        cmocka_unit_test(test_rdstats_lag),
        cmocka_unit_test(test_rdstats_malformed),
        cmocka_unit_test(test_worker_metrics),
        cmocka_unit_test(test_worker_metrics_concurrent),
        cmocka_unit_test(test_collect_callbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
