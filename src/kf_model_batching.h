/* kf_model_batching: per-model batching settings from the configuration
 * (model.<name>.max_batch, model.<name>.max_queue_delay_ms,
 * model.<name>.preferred_batch), resolved against the worker-wide values
 * and validated before any model loads.
 *
 * Threads: plain functions over caller-owned data; any thread. */
#ifndef KF_MODEL_BATCHING_H
#define KF_MODEL_BATCHING_H

#include <stddef.h>

#include "kf_config.h"
#include "kf_status.h"

#define KF_MODEL_NAME_MAX 128

typedef struct kf_model_batching {
    char name[KF_MODEL_NAME_MAX];
    size_t max_batch;       /* rows cap for this model */
    int max_queue_delay_ms; /* batch fill deadline */
    size_t preferred_batch; /* 0 = none */
} kf_model_batching_t;

/* For every model named in a model.<name>.max_batch / .max_queue_delay_ms /
 * .preferred_batch key of `cfg`, fills one entry of out[] (at most max_out)
 * with that model's values, the unset ones taken from `defaults`. `known`
 * (n_known names) are the models the worker serves (-m NAME=... and
 * model.<name>.source): a batching key for any other name is an error
 * naming the key, as is a preferred_batch above the model's max_batch.
 * Returns KF_OK with *n_out set, or KF_ERR_CONFIG with err filled. */
kf_status_t kf_model_batching_resolve(const kf_config_t *cfg, const char *const *known,
                                      size_t n_known, const kf_model_batching_t *defaults,
                                      kf_model_batching_t *out, size_t max_out, size_t *n_out,
                                      char *err, size_t err_size);

#endif
