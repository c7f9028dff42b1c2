/* kf_model_batching: see kf_model_batching.h. */
#include "kf_model_batching.h"

#include <stdio.h>
#include <string.h>

static const char *const fields[] = {"max_batch", "max_queue_delay_ms", "preferred_batch"};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static int is_known(const char *name, const char *const *known, size_t n_known) {
    for (size_t i = 0; i < n_known; i++)
        if (known[i] && !strcmp(known[i], name))
            return 1;
    return 0;
}

kf_status_t kf_model_batching_resolve(const kf_config_t *cfg, const char *const *known,
                                      size_t n_known, const kf_model_batching_t *defaults,
                                      kf_model_batching_t *out, size_t max_out, size_t *n_out,
                                      char *err, size_t err_size) {
    *n_out = 0;
    for (size_t m = 0; m < kf_config_model_count(cfg); m++) {
        const char *name = kf_config_model_name(cfg, m);
        char key[KF_MODEL_NAME_MAX + 64];
        int set[N_FIELDS] = {0}, any = 0;
        for (size_t f = 0; f < N_FIELDS; f++) {
            snprintf(key, sizeof(key), "model.%s.%s", name, fields[f]);
            set[f] = kf_config_get(cfg, key) != NULL;
            any |= set[f];
        }
        if (!any)
            continue;
        const char *origin = NULL;
        for (size_t f = 0; f < N_FIELDS && !origin; f++) {
            snprintf(key, sizeof(key), "model.%s.%s", name, fields[f]);
            if (set[f])
                kf_config_source(cfg, key, &origin);
        }
        if (!is_known(name, known, n_known)) {
            for (size_t f = 0; f < N_FIELDS; f++)
                if (set[f]) {
                    snprintf(key, sizeof(key), "model.%s.%s", name, fields[f]);
                    break;
                }
            snprintf(err, err_size,
                     "%s%s%s: no model named '%s' is served (-m %s=SOURCE or "
                     "model.%s.source)",
                     key, origin ? " from " : "", origin ? origin : "", name, name, name);
            return KF_ERR_CONFIG;
        }
        if (strlen(name) >= KF_MODEL_NAME_MAX) {
            snprintf(err, err_size, "model name '%.40s...' is too long", name);
            return KF_ERR_CONFIG;
        }
        if (*n_out == max_out) {
            snprintf(err, err_size, "more than %zu models with batching keys", max_out);
            return KF_ERR_CONFIG;
        }
        kf_model_batching_t *b = &out[(*n_out)++];
        *b = *defaults;
        snprintf(b->name, sizeof(b->name), "%s", name);
        snprintf(key, sizeof(key), "model.%s.max_batch", name);
        if (set[0])
            b->max_batch = (size_t)kf_config_get_int(cfg, key, (int64_t)b->max_batch);
        snprintf(key, sizeof(key), "model.%s.max_queue_delay_ms", name);
        if (set[1])
            b->max_queue_delay_ms =
                (int)kf_config_get_int(cfg, key, (int64_t)b->max_queue_delay_ms);
        snprintf(key, sizeof(key), "model.%s.preferred_batch", name);
        if (set[2])
            b->preferred_batch = (size_t)kf_config_get_int(cfg, key, 0);
        if (b->preferred_batch > b->max_batch) {
            snprintf(err, err_size,
                     "model.%s.preferred_batch %zu is above the model's max_batch %zu", name,
                     b->preferred_batch, b->max_batch);
            return KF_ERR_CONFIG;
        }
    }
    return KF_OK;
}
