#include "kf_obs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct kf_obs {
    kf_metrics_t *reg;
    kf_wmetrics_t *wm;
    kf_http_t *http;
    int stats_interval_ms;
    pthread_mutex_t lock; /* guards sources against a concurrent scrape */
    kf_model_sources_t *sources;
};

/* Collect callback: copy the pollers' counters in before each render. */
static void collect_sources(void *ctx, kf_metrics_t *reg) {
    kf_obs_t *o = ctx;
    (void)reg;
    pthread_mutex_lock(&o->lock);
    size_t n = kf_model_sources_count(o->sources);
    for (size_t i = 0; o->sources && i < n; i++) {
        kf_repo_stats_t st;
        kf_model_sources_stats(o->sources, i, &st);
        kf_wmetrics_artifact_totals(o->wm, kf_model_sources_name(o->sources, i), st.fetch_failures,
                                    st.load_failures, st.poll_errors);
    }
    pthread_mutex_unlock(&o->lock);
}

void kf_obs_watch_model_sources(kf_obs_t *o, kf_model_sources_t *sources) {
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    o->sources = sources;
    pthread_mutex_unlock(&o->lock);
}

kf_obs_params_t kf_obs_default_params(void) {
    kf_obs_params_t p = {0, "0.0.0.0", 5000, NULL, NULL, NULL};
    return p;
}

kf_status_t kf_obs_params_from_config(kf_obs_params_t *p, const kf_config_t *cfg, char *err,
                                      size_t errsz) {
    if (!p || !cfg)
        return KF_ERR_INVALID_ARG;
    int64_t port = kf_config_get_int(cfg, "metrics.port", -2);
    int64_t iv = kf_config_get_int(cfg, "metrics.stats_interval_ms", -2);
    if (port < 0 || port > 65535) {
        snprintf(err, errsz, "metrics.port: must be 0..65535");
        return KF_ERR_CONFIG;
    }
    if (iv < 0 || iv > 3600000) {
        snprintf(err, errsz, "metrics.stats_interval_ms: must be 0..3600000");
        return KF_ERR_CONFIG;
    }
    const char *bind = kf_config_get(cfg, "metrics.bind");
    p->port = (int)port;
    p->bind_address = bind ? bind : "0.0.0.0";
    p->stats_interval_ms = (int)iv;
    return KF_OK;
}

kf_obs_t *kf_obs_new(const kf_obs_params_t *p, char *err, size_t errsz) {
    kf_obs_params_t d = kf_obs_default_params();
    if (!p)
        p = &d;
    kf_obs_t *o = calloc(1, sizeof(*o));
    if (!o || pthread_mutex_init(&o->lock, NULL) != 0) {
        snprintf(err, errsz, "metrics: out of memory");
        free(o);
        return NULL;
    }
    if (!(o->reg = kf_metrics_new()) ||
        kf_metrics_on_collect(o->reg, collect_sources, o) != KF_OK) {
        snprintf(err, errsz, "metrics: out of memory");
        kf_obs_free(o);
        return NULL;
    }
    o->stats_interval_ms = p->stats_interval_ms;
    o->wm = kf_wmetrics_new(o->reg, err, errsz);
    if (!o->wm) {
        kf_obs_free(o);
        return NULL;
    }
    kf_http_params_t hp = kf_http_default_params();
    hp.port = p->port;
    hp.bind_address = p->bind_address;
    hp.metrics = o->reg;
    hp.ready = p->ready;
    hp.ready_ctx = p->ready_ctx;
    hp.log = p->log;
    char herr[256];
    o->http = kf_http_new(&hp, herr, sizeof(herr));
    if (!o->http) {
        snprintf(err, errsz, "metrics.port=%d metrics.bind=%s: %s", p->port,
                 p->bind_address ? p->bind_address : "0.0.0.0", herr);
        kf_obs_free(o);
        return NULL;
    }
    return o;
}

void kf_obs_stop_http(kf_obs_t *o) {
    if (!o)
        return;
    kf_http_free(o->http);
    o->http = NULL;
}

void kf_obs_free(kf_obs_t *o) {
    if (!o)
        return;
    kf_http_free(o->http); /* first: the HTTP thread reads the registry */
    kf_wmetrics_free(o->wm);
    kf_metrics_free(o->reg);
    pthread_mutex_destroy(&o->lock);
    free(o);
}

kf_wmetrics_t *kf_obs_metrics(const kf_obs_t *o) {
    return o ? o->wm : NULL;
}
kf_metrics_t *kf_obs_registry(const kf_obs_t *o) {
    return o ? o->reg : NULL;
}
int kf_obs_port(const kf_obs_t *o) {
    return o ? kf_http_port(o->http) : 0;
}
int kf_obs_stats_interval_ms(const kf_obs_t *o) {
    return o ? o->stats_interval_ms : 0;
}
