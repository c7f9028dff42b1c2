#include "kf_metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kf_series {
    kf_series_t *next; /* family list, append-only, guarded by family lock */
    const kf_metric_t *fam;
    uint64_t hash;
    char **values;          /* fam->nlabels copies */
    atomic_int visible;     /* 0 after kf_metric_remove */
    _Atomic uint64_t u;     /* counter value, or gauge bits */
    _Atomic uint64_t sum;   /* histogram sum (double bits) */
    _Atomic uint64_t bkt[]; /* histogram: nbuckets + 1 (last = +Inf) */
};

struct kf_metric {
    kf_metric_t *next; /* registry list */
    kf_metric_kind_t kind;
    char *name;
    char *help;
    size_t nlabels;
    char *labels[KF_METRICS_MAX_LABELS];
    size_t nbuckets;
    double buckets[KF_METRICS_MAX_BUCKETS];
    pthread_mutex_t lock;
    kf_series_t *head, *tail;
};

struct kf_metrics {
    pthread_mutex_t lock;
    kf_metric_t *head, *tail;
    pthread_mutex_t collect_lock; /* guards collectors; held while they run */
    size_t ncollect;
    kf_metrics_collect_fn collect_fn[KF_METRICS_MAX_COLLECTORS];
    void *collect_ctx[KF_METRICS_MAX_COLLECTORS];
};

/* ---- small helpers --------------------------------------------------- */

static void set_err(char *errstr, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *errstr, size_t size, const char *fmt, ...) {
    if (!errstr || size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, size, fmt, ap);
    va_end(ap);
}

static uint64_t dbits(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

static double bitsd(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static void atomic_add_double(_Atomic uint64_t *p, double delta) {
    uint64_t old = atomic_load_explicit(p, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(p, &old, dbits(bitsd(old) + delta),
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

static int valid_metric_name(const char *s) {
    if (!s || !*s)
        return 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                 (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

static int valid_label_name(const char *s) {
    if (!s || !*s || strncmp(s, "__", 2) == 0)
        return 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

static void metric_free(kf_metric_t *m) {
    if (!m)
        return;
    kf_series_t *s = m->head;
    while (s) {
        kf_series_t *n = s->next;
        for (size_t i = 0; i < m->nlabels; i++)
            free(s->values[i]);
        free(s->values);
        free(s);
        s = n;
    }
    for (size_t i = 0; i < m->nlabels; i++)
        free(m->labels[i]);
    free(m->name);
    free(m->help);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* ---- registry -------------------------------------------------------- */

kf_metrics_t *kf_metrics_new(void) {
    kf_metrics_t *reg = calloc(1, sizeof(*reg));
    if (!reg)
        return NULL;
    if (pthread_mutex_init(&reg->lock, NULL) != 0) {
        free(reg);
        return NULL;
    }
    if (pthread_mutex_init(&reg->collect_lock, NULL) != 0) {
        pthread_mutex_destroy(&reg->lock);
        free(reg);
        return NULL;
    }
    return reg;
}

void kf_metrics_free(kf_metrics_t *reg) {
    if (!reg)
        return;
    kf_metric_t *m = reg->head;
    while (m) {
        kf_metric_t *n = m->next;
        metric_free(m);
        m = n;
    }
    pthread_mutex_destroy(&reg->lock);
    pthread_mutex_destroy(&reg->collect_lock);
    free(reg);
}

kf_status_t kf_metrics_on_collect(kf_metrics_t *reg, kf_metrics_collect_fn fn, void *ctx) {
    if (!reg || !fn)
        return KF_ERR_INVALID_ARG;
    pthread_mutex_lock(&reg->collect_lock);
    kf_status_t st = KF_ERR_LIMIT;
    if (reg->ncollect < KF_METRICS_MAX_COLLECTORS) {
        reg->collect_fn[reg->ncollect] = fn;
        reg->collect_ctx[reg->ncollect] = ctx;
        reg->ncollect++;
        st = KF_OK;
    }
    pthread_mutex_unlock(&reg->collect_lock);
    return st;
}

/* Splits "a,b,c" into m->labels; spaces around names are ignored. */
static int parse_labels(kf_metric_t *m, const char *labels, char *errstr, size_t errstr_size) {
    if (!labels)
        return 0;
    const char *p = labels;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && t[-1] == ' ')
            t--;
        if (m->nlabels == KF_METRICS_MAX_LABELS) {
            set_err(errstr, errstr_size, "metric %s: more than %d labels", m->name,
                    KF_METRICS_MAX_LABELS);
            return -1;
        }
        char *name = strndup(p, (size_t)(t - p));
        if (!name) {
            set_err(errstr, errstr_size, "metric %s: out of memory", m->name);
            return -1;
        }
        m->labels[m->nlabels++] = name;
        if (!valid_label_name(name)) {
            set_err(errstr, errstr_size, "metric %s: invalid label name '%s'", m->name, name);
            return -1;
        }
        if (m->kind == KF_METRIC_HISTOGRAM && strcmp(name, "le") == 0) {
            set_err(errstr, errstr_size, "metric %s: label 'le' is reserved for histograms",
                    m->name);
            return -1;
        }
        for (size_t i = 0; i + 1 < m->nlabels; i++) {
            if (strcmp(m->labels[i], name) == 0) {
                set_err(errstr, errstr_size, "metric %s: duplicate label '%s'", m->name, name);
                return -1;
            }
        }
        p = *e ? e + 1 : e;
        if (*e == ',' && !*p) {
            set_err(errstr, errstr_size, "metric %s: empty label name in '%s'", m->name, labels);
            return -1;
        }
    }
    return 0;
}

kf_metric_t *kf_metrics_register(kf_metrics_t *reg, kf_metric_kind_t kind, const char *name,
                                 const char *help, const char *labels, const double *buckets,
                                 size_t nbuckets, char *errstr, size_t errstr_size) {
    if (!reg) {
        set_err(errstr, errstr_size, "metrics: NULL registry");
        return NULL;
    }
    if (!valid_metric_name(name)) {
        set_err(errstr, errstr_size, "metrics: invalid metric name '%s'", name ? name : "(null)");
        return NULL;
    }
    if (kind != KF_METRIC_COUNTER && kind != KF_METRIC_GAUGE && kind != KF_METRIC_HISTOGRAM) {
        set_err(errstr, errstr_size, "metric %s: unknown kind %d", name, (int)kind);
        return NULL;
    }
    if (kind == KF_METRIC_HISTOGRAM) {
        if (!buckets || nbuckets == 0 || nbuckets > KF_METRICS_MAX_BUCKETS) {
            set_err(errstr, errstr_size, "metric %s: histogram needs 1..%d buckets", name,
                    KF_METRICS_MAX_BUCKETS);
            return NULL;
        }
        for (size_t i = 0; i < nbuckets; i++) {
            if (!isfinite(buckets[i]) || (i > 0 && !(buckets[i] > buckets[i - 1]))) {
                set_err(errstr, errstr_size,
                        "metric %s: bucket %zu (%g) is not finite and strictly increasing", name, i,
                        buckets[i]);
                return NULL;
            }
        }
    } else if (nbuckets != 0) {
        set_err(errstr, errstr_size, "metric %s: only histograms take buckets", name);
        return NULL;
    }

    kf_metric_t *m = calloc(1, sizeof(*m));
    if (!m) {
        set_err(errstr, errstr_size, "metric %s: out of memory", name);
        return NULL;
    }
    m->kind = kind;
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m->name);
        free(m->help);
        free(m);
        set_err(errstr, errstr_size, "metric %s: mutex init failed", name);
        return NULL;
    }
    if (!m->name || !m->help) {
        set_err(errstr, errstr_size, "metric %s: out of memory", name);
        metric_free(m);
        return NULL;
    }
    if (parse_labels(m, labels, errstr, errstr_size) != 0) {
        metric_free(m);
        return NULL;
    }
    if (kind == KF_METRIC_HISTOGRAM) {
        memcpy(m->buckets, buckets, nbuckets * sizeof(*buckets));
        m->nbuckets = nbuckets;
    }

    pthread_mutex_lock(&reg->lock);
    for (kf_metric_t *o = reg->head; o; o = o->next) {
        if (strcmp(o->name, name) == 0) {
            pthread_mutex_unlock(&reg->lock);
            set_err(errstr, errstr_size, "metric %s: already registered", name);
            metric_free(m);
            return NULL;
        }
    }
    if (reg->tail)
        reg->tail->next = m;
    else
        reg->head = m;
    reg->tail = m;
    pthread_mutex_unlock(&reg->lock);
    return m;
}

kf_metric_t *kf_metrics_counter(kf_metrics_t *reg, const char *name, const char *help,
                                const char *labels, char *errstr, size_t errstr_size) {
    return kf_metrics_register(reg, KF_METRIC_COUNTER, name, help, labels, NULL, 0, errstr,
                               errstr_size);
}

kf_metric_t *kf_metrics_gauge(kf_metrics_t *reg, const char *name, const char *help,
                              const char *labels, char *errstr, size_t errstr_size) {
    return kf_metrics_register(reg, KF_METRIC_GAUGE, name, help, labels, NULL, 0, errstr,
                               errstr_size);
}

kf_metric_t *kf_metrics_histogram(kf_metrics_t *reg, const char *name, const char *help,
                                  const char *labels, const double *buckets, size_t nbuckets,
                                  char *errstr, size_t errstr_size) {
    return kf_metrics_register(reg, KF_METRIC_HISTOGRAM, name, help, labels, buckets, nbuckets,
                               errstr, errstr_size);
}

kf_status_t kf_metrics_exp_buckets(double start, double factor, size_t n, double *out) {
    if (!out || !(start > 0) || !(factor > 1) || n == 0 || n > KF_METRICS_MAX_BUCKETS ||
        !isfinite(start) || !isfinite(factor))
        return KF_ERR_INVALID_ARG;
    double v = start;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v))
            return KF_ERR_INVALID_ARG;
        out[i] = v;
        v *= factor;
    }
    return KF_OK;
}

size_t kf_metric_label_count(const kf_metric_t *m) {
    return m ? m->nlabels : 0;
}

/* ---- series ---------------------------------------------------------- */

static uint64_t values_hash(const kf_metric_t *m, const char *const *values) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < m->nlabels; i++) {
        const char *v = (values && values[i]) ? values[i] : "";
        for (; *v; v++) {
            h ^= (unsigned char)*v;
            h *= 1099511628211ULL;
        }
        h ^= 0xff; /* separator: ("ab","") != ("a","b") */
        h *= 1099511628211ULL;
    }
    return h;
}

static int values_equal(const kf_metric_t *m, const kf_series_t *s, const char *const *values) {
    for (size_t i = 0; i < m->nlabels; i++) {
        const char *v = (values && values[i]) ? values[i] : "";
        if (strcmp(s->values[i], v) != 0)
            return 0;
    }
    return 1;
}

/* Caller holds m->lock. */
static kf_series_t *find_locked(kf_metric_t *m, const char *const *values, uint64_t h) {
    for (kf_series_t *s = m->head; s; s = s->next)
        if (s->hash == h && values_equal(m, s, values))
            return s;
    return NULL;
}

static void series_reset(kf_series_t *s) {
    atomic_store(&s->u, 0);
    atomic_store(&s->sum, dbits(0.0));
    if (s->fam->kind == KF_METRIC_HISTOGRAM)
        for (size_t i = 0; i <= s->fam->nbuckets; i++)
            atomic_store(&s->bkt[i], 0);
}

kf_series_t *kf_metric_series(kf_metric_t *m, const char *const *values) {
    if (!m)
        return NULL;
    uint64_t h = values_hash(m, values);
    pthread_mutex_lock(&m->lock);
    kf_series_t *s = find_locked(m, values, h);
    if (s) {
        if (!atomic_load(&s->visible)) {
            series_reset(s);
            atomic_store(&s->visible, 1);
        }
        pthread_mutex_unlock(&m->lock);
        return s;
    }
    size_t nb = m->kind == KF_METRIC_HISTOGRAM ? m->nbuckets + 1 : 0;
    s = calloc(1, sizeof(*s) + nb * sizeof(s->bkt[0]));
    if (!s)
        goto oom;
    s->fam = m;
    s->hash = h;
    s->values = calloc(m->nlabels ? m->nlabels : 1, sizeof(char *));
    if (!s->values)
        goto oom;
    for (size_t i = 0; i < m->nlabels; i++) {
        s->values[i] = strdup((values && values[i]) ? values[i] : "");
        if (!s->values[i])
            goto oom;
    }
    series_reset(s);
    atomic_store(&s->visible, 1);
    if (m->tail)
        m->tail->next = s;
    else
        m->head = s;
    m->tail = s;
    pthread_mutex_unlock(&m->lock);
    return s;
oom:
    if (s && s->values) {
        for (size_t i = 0; i < m->nlabels; i++)
            free(s->values[i]);
        free(s->values);
    }
    free(s);
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

kf_status_t kf_metric_remove(kf_metric_t *m, const char *const *values) {
    if (!m)
        return KF_ERR_INVALID_ARG;
    uint64_t h = values_hash(m, values);
    pthread_mutex_lock(&m->lock);
    kf_series_t *s = find_locked(m, values, h);
    if (s) {
        atomic_store(&s->visible, 0);
        series_reset(s);
    }
    pthread_mutex_unlock(&m->lock);
    return s ? KF_OK : KF_ERR_NOT_FOUND;
}

void kf_counter_add(kf_series_t *s, uint64_t n) {
    if (s && s->fam->kind == KF_METRIC_COUNTER)
        atomic_fetch_add_explicit(&s->u, n, memory_order_relaxed);
}

void kf_counter_inc(kf_series_t *s) {
    kf_counter_add(s, 1);
}

void kf_counter_set(kf_series_t *s, uint64_t total) {
    if (s && s->fam->kind == KF_METRIC_COUNTER)
        atomic_store_explicit(&s->u, total, memory_order_relaxed);
}

void kf_gauge_set(kf_series_t *s, double v) {
    if (s && s->fam->kind == KF_METRIC_GAUGE)
        atomic_store_explicit(&s->u, dbits(v), memory_order_relaxed);
}

void kf_gauge_add(kf_series_t *s, double delta) {
    if (s && s->fam->kind == KF_METRIC_GAUGE)
        atomic_add_double(&s->u, delta);
}

void kf_histogram_observe(kf_series_t *s, double v) {
    if (!s || s->fam->kind != KF_METRIC_HISTOGRAM || isnan(v))
        return;
    const kf_metric_t *m = s->fam;
    size_t i = 0;
    while (i < m->nbuckets && v > m->buckets[i])
        i++;
    atomic_add_double(&s->sum, v);
    atomic_fetch_add_explicit(&s->bkt[i], 1, memory_order_relaxed);
}

void kf_metric_inc(kf_metric_t *m, const char *const *values, uint64_t n) {
    kf_counter_add(kf_metric_series(m, values), n);
}

void kf_metric_set(kf_metric_t *m, const char *const *values, double v) {
    kf_gauge_set(kf_metric_series(m, values), v);
}

void kf_metric_observe(kf_metric_t *m, const char *const *values, double v) {
    kf_histogram_observe(kf_metric_series(m, values), v);
}

uint64_t kf_counter_value(const kf_series_t *s) {
    return (s && s->fam->kind == KF_METRIC_COUNTER) ? atomic_load(&s->u) : 0;
}

double kf_gauge_value(const kf_series_t *s) {
    return (s && s->fam->kind == KF_METRIC_GAUGE) ? bitsd(atomic_load(&s->u)) : 0.0;
}

uint64_t kf_histogram_count(const kf_series_t *s) {
    if (!s || s->fam->kind != KF_METRIC_HISTOGRAM)
        return 0;
    uint64_t n = 0;
    for (size_t i = 0; i <= s->fam->nbuckets; i++)
        n += atomic_load(&s->bkt[i]);
    return n;
}

double kf_histogram_sum(const kf_series_t *s) {
    return (s && s->fam->kind == KF_METRIC_HISTOGRAM) ? bitsd(atomic_load(&s->sum)) : 0.0;
}

/* ---- rendering ------------------------------------------------------- */

typedef struct buf {
    char *p;
    size_t len, cap;
    int oom;
} buf_t;

static void buf_put(buf_t *b, const char *s, size_t n) {
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(buf_t *b, const char *s) {
    buf_put(b, s, strlen(s));
}

/* Escapes \ and newline (HELP), plus " when `quote` (label values). */
static void buf_escaped(buf_t *b, const char *s, int quote) {
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        if (*s == '\\')
            rep = "\\\\";
        else if (*s == '\n')
            rep = "\\n";
        else if (quote && *s == '"')
            rep = "\\\"";
        if (rep) {
            buf_put(b, run, (size_t)(s - run));
            buf_str(b, rep);
            run = s + 1;
        }
    }
    buf_put(b, run, (size_t)(s - run));
}

/* Shortest "%.*g" that reads back as the same double; +Inf/-Inf/NaN as
 * Prometheus spells them. */
static void fmt_double(double v, char *out, size_t size) {
    if (isnan(v)) {
        snprintf(out, size, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

static void buf_double(buf_t *b, double v) {
    char tmp[40];
    fmt_double(v, tmp, sizeof(tmp));
    buf_str(b, tmp);
}

static void buf_u64(buf_t *b, uint64_t v) {
    char tmp[24];
    snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
    buf_str(b, tmp);
}

/* name{l1="v1",...[,le="x"]} */
static void buf_sample_name(buf_t *b, const kf_metric_t *m, const kf_series_t *s,
                            const char *suffix, const char *le) {
    buf_str(b, m->name);
    buf_str(b, suffix);
    if (m->nlabels == 0 && !le)
        return;
    buf_str(b, "{");
    for (size_t i = 0; i < m->nlabels; i++) {
        if (i)
            buf_str(b, ",");
        buf_str(b, m->labels[i]);
        buf_str(b, "=\"");
        buf_escaped(b, s->values[i], 1);
        buf_str(b, "\"");
    }
    if (le) {
        if (m->nlabels)
            buf_str(b, ",");
        buf_str(b, "le=\"");
        buf_str(b, le);
        buf_str(b, "\"");
    }
    buf_str(b, "}");
}

static void render_series(buf_t *b, const kf_metric_t *m, const kf_series_t *s) {
    switch (m->kind) {
    case KF_METRIC_COUNTER:
        buf_sample_name(b, m, s, "", NULL);
        buf_str(b, " ");
        buf_u64(b, atomic_load(&s->u));
        buf_str(b, "\n");
        break;
    case KF_METRIC_GAUGE:
        buf_sample_name(b, m, s, "", NULL);
        buf_str(b, " ");
        buf_double(b, bitsd(atomic_load(&s->u)));
        buf_str(b, "\n");
        break;
    case KF_METRIC_HISTOGRAM: {
        uint64_t cum = 0;
        char le[40];
        for (size_t i = 0; i <= m->nbuckets; i++) {
            cum += atomic_load(&s->bkt[i]);
            if (i < m->nbuckets)
                fmt_double(m->buckets[i], le, sizeof(le));
            else
                snprintf(le, sizeof(le), "+Inf");
            buf_sample_name(b, m, s, "_bucket", le);
            buf_str(b, " ");
            buf_u64(b, cum);
            buf_str(b, "\n");
        }
        buf_sample_name(b, m, s, "_sum", NULL);
        buf_str(b, " ");
        buf_double(b, bitsd(atomic_load(&s->sum)));
        buf_str(b, "\n");
        buf_sample_name(b, m, s, "_count", NULL);
        buf_str(b, " ");
        buf_u64(b, cum);
        buf_str(b, "\n");
        break;
    }
    }
}

static const char *kind_name(kf_metric_kind_t k) {
    switch (k) {
    case KF_METRIC_COUNTER: return "counter";
    case KF_METRIC_GAUGE: return "gauge";
    case KF_METRIC_HISTOGRAM: return "histogram";
    }
    return "untyped";
}

kf_status_t kf_metrics_render(kf_metrics_t *reg, char **out, size_t *len) {
    if (!out)
        return KF_ERR_INVALID_ARG;
    *out = NULL;
    if (len)
        *len = 0;
    if (!reg)
        return KF_ERR_INVALID_ARG;
    /* Collectors first (one render at a time runs them). */
    pthread_mutex_lock(&reg->collect_lock);
    for (size_t i = 0; i < reg->ncollect; i++)
        reg->collect_fn[i](reg->collect_ctx[i], reg);
    pthread_mutex_unlock(&reg->collect_lock);

    buf_t b = {0};
    buf_put(&b, "", 0); /* an empty registry renders as "" */
    pthread_mutex_lock(&reg->lock);
    for (kf_metric_t *m = reg->head; m; m = m->next) {
        buf_str(&b, "# HELP ");
        buf_str(&b, m->name);
        buf_str(&b, " ");
        buf_escaped(&b, m->help, 0);
        buf_str(&b, "\n# TYPE ");
        buf_str(&b, m->name);
        buf_str(&b, " ");
        buf_str(&b, kind_name(m->kind));
        buf_str(&b, "\n");
        pthread_mutex_lock(&m->lock);
        for (kf_series_t *s = m->head; s; s = s->next)
            if (atomic_load(&s->visible))
                render_series(&b, m, s);
        pthread_mutex_unlock(&m->lock);
    }
    pthread_mutex_unlock(&reg->lock);
    if (b.oom) {
        free(b.p);
        return KF_ERR_NOMEM;
    }
    *out = b.p;
    if (len)
        *len = b.len;
    return KF_OK;
}
