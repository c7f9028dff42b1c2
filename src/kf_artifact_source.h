/* kf_artifact_source (prefix kf_model_sources_): the worker's model
 * artifacts, from configuration to a loaded version and hot swaps.
 *
 * For every model whose `model.<name>.source` is a repository (see
 * kf_model_source_is_repo; plain .onnx files are left to the caller) it creates a
 * kf_repo over one shared kf_cache (cache.dir, cache.offline, s3.*,
 * fetch.*), fetches the version LATEST names, and hands it to on_version
 * (the worker loads, warms up and publishes it). kf_model_sources_start
 * then runs one poller per model (model.<name>.poll_interval_ms; 0 = no
 * polling) that hands each new verified version to on_version on the
 * poller thread, so load and warm-up stay off the hot path; a version that
 * fails to fetch, verify or load never replaces the serving one.
 *
 * Threads: new/start/free from one owner thread; kf_model_sources_stats
 * from any thread. on_version must be thread-safe (pollers of different
 * models call it concurrently). */
#ifndef KF_ARTIFACT_SOURCE_H
#define KF_ARTIFACT_SOURCE_H

#include <stddef.h>

#include "kf_artifact_repo.h"
#include "kf_config.h"
#include "kf_log.h"
#include "kf_status.h"

typedef struct kf_model_sources kf_model_sources_t;

/* 1 when a model SOURCE names a repository base (http://, https://, s3://,
 * or a file:// URL / path of a directory), 0 when it is a single local
 * model file (loaded directly, no polling). */
int kf_model_source_is_repo(const char *source);

/* Fills cache params from the config (cache.*, s3.*, fetch.*). The strings
 * point into cfg (kf_cache_new copies them). */
kf_status_t kf_model_sources_cache_params(const kf_config_t *cfg, kf_cache_params_t *out,
                                          char *errstr, size_t errstr_size);

typedef struct kf_model_sources_params {
    kf_repo_on_version_fn on_version; /* required: load + warm up + publish */
    kf_repo_on_error_fn on_error;     /* optional: count failures (metrics) */
    void *user;                       /* passed to both */
    const kf_logger_t *log;           /* not owned */
} kf_model_sources_params_t;

/* Creates the cache and one repo per model with a source, and loads each
 * model's LATEST version through on_version (synchronously, on the calling
 * thread). With the store down, a warm cache serves (logged as offline); an
 * empty cache is an error naming the model, the URL and the cache dir.
 * Returns NULL with errstr set on the first model that cannot be served.
 * cfg must outlive the result. */
kf_model_sources_t *kf_model_sources_new(const kf_config_t *cfg, const kf_model_sources_params_t *p,
                                         char *errstr, size_t errstr_size);
/* Stops all pollers (waiting for them) and frees. NULL is a no-op. */
void kf_model_sources_free(kf_model_sources_t *s);

/* Starts the pollers of models whose poll_interval_ms > 0. */
kf_status_t kf_model_sources_start(kf_model_sources_t *s);

size_t kf_model_sources_count(const kf_model_sources_t *s);
/* Name of model i (owned by the sources) and its poller counters. */
const char *kf_model_sources_name(const kf_model_sources_t *s, size_t i);
void kf_model_sources_stats(kf_model_sources_t *s, size_t i, kf_repo_stats_t *out);

#endif
