/* kf_artifact_worker (prefix kf_worker_sources_): serves repository model
 * sources (kf_artifact_source) through a kf_worker.
 *
 * Each verified version (LATEST at start, then every new one the pollers
 * find) is handed to kf_worker_load_model(w, name, version, local path),
 * which loads, compiles, warms up and publishes it in the model registry;
 * jobs pinned to an older version keep getting it while the registry keeps
 * it (keep_versions). Failures are logged, counted by the pollers
 * (kf_model_sources_stats) and never replace the serving version.
 *
 * Usage (cli_worker):
 *   srcs = kf_worker_sources_new(w, cfg, log, err, sizeof(err)); // loads LATEST
 *   kf_worker_start(w, ...);
 *   kf_model_sources_start(srcs);                                  // hot swaps
 *   ... kf_model_sources_free(srcs) before kf_worker_free(w).
 *
 * Threads: as kf_model_sources; the worker must outlive the sources. */
#ifndef KF_ARTIFACT_WORKER_H
#define KF_ARTIFACT_WORKER_H

#include <stddef.h>

#include "kf_artifact_source.h"
#include "kf_config.h"
#include "kf_log.h"
#include "kf_worker.h"

/* NULL with errstr set when a repository model cannot be served (no
 * version reachable and none cached, or its load failed). */
kf_model_sources_t *kf_worker_sources_new(kf_worker_t *w, const kf_config_t *cfg,
                                          const kf_logger_t *log, char *errstr, size_t errstr_size);

#endif
