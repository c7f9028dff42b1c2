/* kf_models: the registry of loaded model versions.
 *
 * Maps a model name to its published versions (newest first). A version's
 * payload (for the worker: engine model + plan + batcher) is built, loaded
 * and warmed up by the caller BEFORE kf_models_publish makes it visible, so
 * a hot swap is atomic: lookups see either the old newest version or the
 * new one, never a half-loaded one. Each name keeps the `keep` newest
 * versions; an older one is unpublished and its payload destroyed only when
 * its last reference is released (i.e. after its last batch finished).
 *
 * Destruction is deferred: the release that drops the last reference (which
 * may run on a batcher's engine thread) only moves the version to a
 * graveyard; kf_models_reap (called by publish/acquire and by the owner)
 * runs the destroy callbacks. So a payload's destroy never runs on a thread
 * the payload owns.
 *
 * Threads: every function may be called from any thread (one mutex), except
 * kf_models_free (owner only, after all references are released). */
#ifndef KF_MODELS_H
#define KF_MODELS_H

#include <stddef.h>

#include "kf_status.h"

typedef struct kf_models kf_models_t;
typedef struct kf_model_ref kf_model_ref_t;

typedef void (*kf_model_destroy_fn)(void *payload);

/* keep: versions kept per model (>= 1; 0 means 2). NULL on OOM. */
kf_models_t *kf_models_new(size_t keep);
/* Destroys every payload; references must all be released. NULL no-op. */
void kf_models_free(kf_models_t *r);

/* Publishes `version` of `name` as its newest. The registry takes the
 * payload (destroy is called exactly once, also on failure). Publishing a
 * version that is already loaded replaces it. KF_ERR_INVALID_ARG on empty
 * name/version, KF_ERR_NOMEM. */
kf_status_t kf_models_publish(kf_models_t *r, const char *name, const char *version, void *payload,
                              kf_model_destroy_fn destroy);

/* Looks up name@version (version NULL or "" = newest) and returns a
 * reference (release with kf_models_release), or NULL when not loaded. */
kf_model_ref_t *kf_models_acquire(kf_models_t *r, const char *name, const char *version);
/* Takes one more reference on an acquired version. */
void kf_models_retain(kf_model_ref_t *ref);
void kf_models_release(kf_model_ref_t *ref); /* NULL is a no-op */
/* Drops n references at once (n <= those held; n = 0 or NULL: no-op). */
void kf_models_release_n(kf_model_ref_t *ref, size_t n);

void *kf_model_ref_payload(const kf_model_ref_t *ref);
const char *kf_model_ref_name(const kf_model_ref_t *ref);
const char *kf_model_ref_version(const kf_model_ref_t *ref);

/* Runs deferred destroys; returns how many payloads were destroyed. */
size_t kf_models_reap(kf_models_t *r);

/* Number of published versions in total (all names). */
size_t kf_models_count(kf_models_t *r);

#endif
