#include "kf_artifact_worker.h"

#include <stdio.h>

static kf_status_t load_version(void *user, const char *model, const kf_repo_version_t *v,
                                char *errstr, size_t errstr_size) {
    kf_worker_t *w = user;
    return kf_worker_load_model(w, model, v->version, v->path, errstr, errstr_size);
}

kf_model_sources_t *kf_worker_sources_new(kf_worker_t *w, const kf_config_t *cfg,
                                          const kf_logger_t *log, char *errstr,
                                          size_t errstr_size) {
    if (!w || !cfg) {
        snprintf(errstr, errstr_size, "worker sources: no worker or config");
        return NULL;
    }
    kf_model_sources_params_t p = {load_version, NULL, w, log};
    return kf_model_sources_new(cfg, &p, errstr, errstr_size);
}
