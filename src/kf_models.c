/* kf_models: see kf_models.h. Versions live in one list (newest published
 * first per name); a version carries a reference count that includes one
 * reference for being published. */
#include "kf_models.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct kf_model_ref {
    kf_models_t *reg;
    char *name, *version;
    void *payload;
    kf_model_destroy_fn destroy;
    size_t refs;
    int published;
    struct kf_model_ref *next; /* in published list or graveyard */
};

struct kf_models {
    pthread_mutex_t mu;
    size_t keep;
    kf_model_ref_t *live;      /* published, newest first */
    kf_model_ref_t *retired;   /* unpublished, still referenced */
    kf_model_ref_t *graveyard; /* unreferenced, awaiting destroy */
};

kf_models_t *kf_models_new(size_t keep) {
    kf_models_t *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    pthread_mutex_init(&r->mu, NULL);
    r->keep = keep ? keep : 2;
    return r;
}

static void ref_destroy(kf_model_ref_t *v) {
    if (v->destroy && v->payload)
        v->destroy(v->payload);
    free(v->name);
    free(v->version);
    free(v);
}

static void destroy_list(kf_model_ref_t *v) {
    while (v) {
        kf_model_ref_t *n = v->next;
        ref_destroy(v);
        v = n;
    }
}

void kf_models_free(kf_models_t *r) {
    if (!r)
        return;
    destroy_list(r->live);
    destroy_list(r->retired);
    destroy_list(r->graveyard);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* Drops the published reference of v (already unlinked from live). */
static void unpublish_locked(kf_models_t *r, kf_model_ref_t *v) {
    v->published = 0;
    if (--v->refs == 0) {
        v->next = r->graveyard;
        r->graveyard = v;
    } else {
        v->next = r->retired;
        r->retired = v;
    }
}

size_t kf_models_reap(kf_models_t *r) {
    if (!r)
        return 0;
    pthread_mutex_lock(&r->mu);
    kf_model_ref_t *g = r->graveyard;
    r->graveyard = NULL;
    pthread_mutex_unlock(&r->mu);
    size_t n = 0;
    for (kf_model_ref_t *v = g; v; v = v->next)
        n++;
    destroy_list(g);
    return n;
}

kf_status_t kf_models_publish(kf_models_t *r, const char *name, const char *version, void *payload,
                              kf_model_destroy_fn destroy) {
    if (!r || !name || !*name || !version || !*version) {
        if (destroy && payload)
            destroy(payload);
        return KF_ERR_INVALID_ARG;
    }
    kf_model_ref_t *v = calloc(1, sizeof(*v));
    if (v) {
        v->name = strdup(name);
        v->version = strdup(version);
    }
    if (!v || !v->name || !v->version) {
        if (v) {
            free(v->name);
            free(v->version);
            free(v);
        }
        if (destroy && payload)
            destroy(payload);
        return KF_ERR_NOMEM;
    }
    v->reg = r;
    v->payload = payload;
    v->destroy = destroy;
    v->refs = 1;
    v->published = 1;
    pthread_mutex_lock(&r->mu);
    /* unlink a loaded version with the same name (replaced) */
    for (kf_model_ref_t **pp = &r->live; *pp;) {
        kf_model_ref_t *o = *pp;
        if (!strcmp(o->name, name) && !strcmp(o->version, version)) {
            *pp = o->next;
            unpublish_locked(r, o);
        } else {
            pp = &o->next;
        }
    }
    v->next = r->live;
    r->live = v;
    /* keep the `keep` newest of this name */
    size_t seen = 0;
    for (kf_model_ref_t **pp = &r->live; *pp;) {
        kf_model_ref_t *o = *pp;
        if (!strcmp(o->name, name) && ++seen > r->keep) {
            *pp = o->next;
            unpublish_locked(r, o);
        } else {
            pp = &o->next;
        }
    }
    pthread_mutex_unlock(&r->mu);
    kf_models_reap(r);
    return KF_OK;
}

kf_model_ref_t *kf_models_acquire(kf_models_t *r, const char *name, const char *version) {
    if (!r || !name)
        return NULL;
    kf_model_ref_t *found = NULL;
    pthread_mutex_lock(&r->mu);
    kf_model_ref_t *dead = r->graveyard; /* reap on the caller's thread */
    r->graveyard = NULL;
    for (kf_model_ref_t *v = r->live; v; v = v->next) {
        if (strcmp(v->name, name) != 0)
            continue;
        if (!version || !*version || !strcmp(v->version, version)) {
            found = v; /* live is newest first */
            found->refs++;
            break;
        }
    }
    pthread_mutex_unlock(&r->mu);
    destroy_list(dead);
    return found;
}

void kf_models_retain(kf_model_ref_t *ref) {
    if (!ref)
        return;
    pthread_mutex_lock(&ref->reg->mu);
    ref->refs++;
    pthread_mutex_unlock(&ref->reg->mu);
}

void kf_models_release(kf_model_ref_t *ref) {
    kf_models_release_n(ref, 1);
}

void kf_models_release_n(kf_model_ref_t *ref, size_t n) {
    if (!ref || n == 0)
        return;
    kf_models_t *r = ref->reg;
    pthread_mutex_lock(&r->mu);
    ref->refs -= n;
    if (ref->refs == 0 && !ref->published) {
        for (kf_model_ref_t **pp = &r->retired; *pp; pp = &(*pp)->next) {
            if (*pp == ref) {
                *pp = ref->next;
                break;
            }
        }
        ref->next = r->graveyard;
        r->graveyard = ref;
    }
    pthread_mutex_unlock(&r->mu);
}

void *kf_model_ref_payload(const kf_model_ref_t *ref) {
    return ref ? ref->payload : NULL;
}
const char *kf_model_ref_name(const kf_model_ref_t *ref) {
    return ref ? ref->name : NULL;
}
const char *kf_model_ref_version(const kf_model_ref_t *ref) {
    return ref ? ref->version : NULL;
}

size_t kf_models_count(kf_models_t *r) {
    if (!r)
        return 0;
    pthread_mutex_lock(&r->mu);
    size_t n = 0;
    for (kf_model_ref_t *v = r->live; v; v = v->next)
        n++;
    pthread_mutex_unlock(&r->mu);
    return n;
}
