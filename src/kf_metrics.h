/* kf_metrics: a small Prometheus-style metrics registry.
 *
 * A registry (kf_metrics_t) holds metric families (kf_metric_t): counters,
 * gauges and histograms, each with a fixed list of label names. A family
 * hands out series (kf_series_t), one per distinct tuple of label values.
 * Updating a series is lock-free (C11 atomics) and allocation-free, so the
 * hot path looks a series up once, keeps the pointer, and then only calls
 * kf_counter_add / kf_gauge_set / kf_histogram_observe. Series pointers stay
 * valid until the registry is freed (kf_metric_remove only hides a series).
 *
 * kf_metrics_render() writes the Prometheus text exposition format 0.0.4:
 * "# HELP" / "# TYPE" lines per family, escaped label values, and for
 * histograms cumulative name_bucket{le="..."} lines plus name_sum and
 * name_count.
 *
 * Threads: every function may be called from any thread, concurrently with
 * rendering. Families are registered under the registry lock; series lookup
 * takes the family lock; updates take no lock. A series' histogram buckets
 * are read one by one during rendering, so a scrape that races an observe
 * may see the new observation in some buckets and not others; _count is
 * always rendered as the +Inf bucket, so each scrape is self-consistent.
 *
 * Ownership: the registry owns its families and series; callers never free
 * them. Strings passed in are copied. */
#ifndef KF_METRICS_H
#define KF_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "kf_status.h"

typedef struct kf_metrics kf_metrics_t;
typedef struct kf_metric kf_metric_t;
typedef struct kf_series kf_series_t;

typedef enum kf_metric_kind {
    KF_METRIC_COUNTER = 0,
    KF_METRIC_GAUGE,
    KF_METRIC_HISTOGRAM
} kf_metric_kind_t;

#define KF_METRICS_MAX_LABELS 8
#define KF_METRICS_MAX_BUCKETS 32

/* Returns a new empty registry (caller owns; kf_metrics_free) or NULL on
 * OOM. */
kf_metrics_t *kf_metrics_new(void);
/* Frees the registry, its families and series. NULL is a no-op. No other
 * thread may use the registry or any of its series during or after. */
void kf_metrics_free(kf_metrics_t *reg);

/* Registers a family. `name` must match [a-zA-Z_:][a-zA-Z0-9_:]*; `labels`
 * is a comma-separated list of label names ("model,status"), "" or NULL for
 * none; each must match [a-zA-Z_][a-zA-Z0-9_]*, not start with "__", and
 * histograms may not use "le". Histograms take `nbuckets` strictly
 * increasing finite upper bounds (the +Inf bucket is implicit); other kinds
 * pass NULL, 0. Returns the family (owned by the registry) or NULL with a
 * message naming the bad name/label/bucket in errstr. Registering a name
 * twice is an error. */
kf_metric_t *kf_metrics_register(kf_metrics_t *reg, kf_metric_kind_t kind, const char *name,
                                 const char *help, const char *labels, const double *buckets,
                                 size_t nbuckets, char *errstr, size_t errstr_size);

/* Shorthands for kf_metrics_register. */
kf_metric_t *kf_metrics_counter(kf_metrics_t *reg, const char *name, const char *help,
                                const char *labels, char *errstr, size_t errstr_size);
kf_metric_t *kf_metrics_gauge(kf_metrics_t *reg, const char *name, const char *help,
                              const char *labels, char *errstr, size_t errstr_size);
kf_metric_t *kf_metrics_histogram(kf_metrics_t *reg, const char *name, const char *help,
                                  const char *labels, const double *buckets, size_t nbuckets,
                                  char *errstr, size_t errstr_size);

/* Fills `out` with `n` bucket bounds start, start*factor, ... (factor > 1,
 * start > 0, n <= KF_METRICS_MAX_BUCKETS). Returns KF_ERR_INVALID_ARG on bad
 * arguments. */
kf_status_t kf_metrics_exp_buckets(double start, double factor, size_t n, double *out);

/* Number of label names of the family. */
size_t kf_metric_label_count(const kf_metric_t *m);

/* Returns the series for the given label values (exactly
 * kf_metric_label_count(m) strings, any bytes allowed; NULL entries are
 * read as ""), creating it at zero on first use. NULL values is fine for a
 * family without labels. Returns NULL only on OOM or a NULL family. The
 * pointer stays valid until kf_metrics_free. A removed series is revived
 * (at zero) by looking it up again. */
kf_series_t *kf_metric_series(kf_metric_t *m, const char *const *values);

/* Hides the series with these label values from rendering and resets it to
 * zero (e.g. the lag gauge of a partition that was revoked). Pointers to it
 * stay valid; updating it through one does not unhide it. Returns
 * KF_ERR_NOT_FOUND when no such series exists. */
kf_status_t kf_metric_remove(kf_metric_t *m, const char *const *values);

/* Hot-path updates: lock-free, allocation-free, NULL series is a no-op
 * (so a worker without metrics passes NULL everywhere). Calling an update of
 * the wrong kind (e.g. kf_gauge_set on a counter) is a programmer error and
 * is ignored. */
void kf_counter_add(kf_series_t *s, uint64_t n);
void kf_counter_inc(kf_series_t *s);
void kf_gauge_set(kf_series_t *s, double v);
void kf_gauge_add(kf_series_t *s, double delta);
void kf_histogram_observe(kf_series_t *s, double v);

/* Sets a counter to `total`, for mirroring a monotonic count kept elsewhere
 * (e.g. a module's stats struct) from a collect callback. */
void kf_counter_set(kf_series_t *s, uint64_t total);

/* Registers fn(ctx, reg) to run at the start of every kf_metrics_render
 * (on the rendering thread, before any family is read), so values kept
 * elsewhere can be copied in just in time. At most KF_METRICS_MAX_COLLECTORS;
 * KF_ERR_LIMIT beyond. fn must not call kf_metrics_render or register. */
typedef void (*kf_metrics_collect_fn)(void *ctx, kf_metrics_t *reg);
#define KF_METRICS_MAX_COLLECTORS 16
kf_status_t kf_metrics_on_collect(kf_metrics_t *reg, kf_metrics_collect_fn fn, void *ctx);

/* One-call forms for code that does not cache series: look up (or create)
 * then update. Cost: one family-lock lookup. */
void kf_metric_inc(kf_metric_t *m, const char *const *values, uint64_t n);
void kf_metric_set(kf_metric_t *m, const char *const *values, double v);
void kf_metric_observe(kf_metric_t *m, const char *const *values, double v);

/* Current values, for tests and for code that reads its own metrics. */
uint64_t kf_counter_value(const kf_series_t *s);
double kf_gauge_value(const kf_series_t *s);
uint64_t kf_histogram_count(const kf_series_t *s);
double kf_histogram_sum(const kf_series_t *s);

/* Renders every family (in registration order) and every visible series
 * (in creation order) in the Prometheus text format 0.0.4. On success *out
 * is a NUL-terminated malloc'd buffer the caller frees and *len its length
 * without the NUL. Returns KF_ERR_NOMEM on OOM (then *out is NULL). */
kf_status_t kf_metrics_render(kf_metrics_t *reg, char **out, size_t *len);

/* The Content-Type of kf_metrics_render's output. */
#define KF_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
