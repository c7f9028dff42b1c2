/* kf_offsets: per-partition in-flight offsets and the committable watermark.
 * See kf_offsets.h for the contract. Each partition keeps a ring of tracked
 * offsets in ascending order with an "acked" flag; an ack marks its entry
 * (binary search) and pops acked entries off the front, moving the
 * committable offset to one past the last popped entry. */
#include "kf_offsets.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct kf_part {
    char *topic;
    int32_t partition;
    int64_t *off;   /* ring of tracked offsets, ascending */
    uint8_t *acked; /* parallel to off */
    size_t cap, head, len;
    int64_t last_tracked; /* -1: none */
    int64_t committable;  /* -1: nothing done yet */
    int64_t handed;       /* last offset handed out by _collect, -1 none */
    int64_t committed;    /* last confirmed commit, -1 none */
} kf_part_t;

struct kf_offsets {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    kf_part_t *parts;
    size_t nparts, capparts;
    atomic_size_t inflight_total; /* changed under mu; read without it by
                                   * kf_offsets_inflight(NULL), once per
                                   * consumed message */
};

kf_offsets_t *kf_offsets_new(void) {
    kf_offsets_t *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    if (pthread_mutex_init(&t->mu, NULL) != 0) {
        free(t);
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        pthread_mutex_destroy(&t->mu);
        free(t);
        return NULL;
    }
    return t;
}

static void part_release(kf_part_t *p) {
    free(p->topic);
    free(p->off);
    free(p->acked);
}

void kf_offsets_free(kf_offsets_t *t) {
    if (!t)
        return;
    for (size_t i = 0; i < t->nparts; i++)
        part_release(&t->parts[i]);
    free(t->parts);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

static kf_part_t *part_find(kf_offsets_t *t, const char *topic, int32_t partition) {
    for (size_t i = 0; i < t->nparts; i++) {
        kf_part_t *p = &t->parts[i];
        if (p->partition == partition && strcmp(p->topic, topic) == 0)
            return p;
    }
    return NULL;
}

static kf_part_t *part_get(kf_offsets_t *t, const char *topic, int32_t partition) {
    kf_part_t *p = part_find(t, topic, partition);
    if (p)
        return p;
    if (t->nparts == t->capparts) {
        size_t nc = t->capparts ? t->capparts * 2 : 16;
        kf_part_t *np = realloc(t->parts, nc * sizeof(*np));
        if (!np)
            return NULL;
        t->parts = np;
        t->capparts = nc;
    }
    p = &t->parts[t->nparts];
    memset(p, 0, sizeof(*p));
    p->topic = strdup(topic);
    if (!p->topic)
        return NULL;
    p->partition = partition;
    p->last_tracked = p->committable = p->handed = p->committed = -1;
    t->nparts++;
    return p;
}

static int ring_grow(kf_part_t *p) {
    size_t nc = p->cap ? p->cap * 2 : 64;
    int64_t *no = malloc(nc * sizeof(*no));
    uint8_t *na = malloc(nc);
    if (!no || !na) {
        free(no);
        free(na);
        return -1;
    }
    for (size_t i = 0; i < p->len; i++) {
        size_t j = (p->head + i) % p->cap;
        no[i] = p->off[j];
        na[i] = p->acked[j];
    }
    free(p->off);
    free(p->acked);
    p->off = no;
    p->acked = na;
    p->cap = nc;
    p->head = 0;
    return 0;
}

static void part_restart(kf_offsets_t *t, kf_part_t *p) {
    t->inflight_total -= p->len;
    p->len = p->head = 0;
    p->last_tracked = p->committable = p->handed = -1;
}

kf_status_t kf_offsets_track(kf_offsets_t *t, const char *topic, int32_t partition,
                             int64_t offset) {
    if (!t || !topic || partition < 0 || offset < 0)
        return KF_ERR_INVALID_ARG;
    kf_status_t st = KF_OK;
    pthread_mutex_lock(&t->mu);
    kf_part_t *p = part_get(t, topic, partition);
    if (!p) {
        st = KF_ERR_NOMEM;
        goto out;
    }
    if (p->last_tracked >= 0 && offset <= p->last_tracked) {
        part_restart(t, p); /* seek back or re-assignment: start over */
        pthread_cond_broadcast(&t->cv);
    }
    if (p->len == p->cap && ring_grow(p) != 0) {
        st = KF_ERR_NOMEM;
        goto out;
    }
    size_t j = (p->head + p->len) % p->cap;
    p->off[j] = offset;
    p->acked[j] = 0;
    p->len++;
    p->last_tracked = offset;
    t->inflight_total++;
out:
    pthread_mutex_unlock(&t->mu);
    return st;
}

kf_status_t kf_offsets_ack(kf_offsets_t *t, const char *topic, int32_t partition, int64_t offset) {
    if (!t || !topic)
        return KF_ERR_INVALID_ARG;
    kf_status_t st = KF_ERR_NOT_FOUND;
    pthread_mutex_lock(&t->mu);
    kf_part_t *p = part_find(t, topic, partition);
    if (!p || p->len == 0)
        goto out;
    size_t lo = 0, hi = p->len; /* binary search in the ascending ring */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->off[(p->head + mid) % p->cap] < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == p->len)
        goto out;
    size_t j = (p->head + lo) % p->cap;
    if (p->off[j] != offset || p->acked[j])
        goto out;
    p->acked[j] = 1;
    st = KF_OK;
    int popped = 0;
    while (p->len > 0 && p->acked[p->head]) {
        p->committable = p->off[p->head] + 1;
        p->head = (p->head + 1) % p->cap;
        p->len--;
        t->inflight_total--;
        popped = 1;
    }
    if (popped)
        pthread_cond_broadcast(&t->cv);
out:
    pthread_mutex_unlock(&t->mu);
    return st;
}

size_t kf_offsets_inflight(kf_offsets_t *t, const char *topic, int32_t partition) {
    if (!t)
        return 0;
    if (!topic)
        return atomic_load_explicit(&t->inflight_total, memory_order_relaxed);
    pthread_mutex_lock(&t->mu);
    kf_part_t *p = part_find(t, topic, partition);
    size_t n = p ? p->len : 0;
    pthread_mutex_unlock(&t->mu);
    return n;
}

int64_t kf_offsets_committable(kf_offsets_t *t, const char *topic, int32_t partition) {
    if (!t || !topic)
        return -1;
    pthread_mutex_lock(&t->mu);
    kf_part_t *p = part_find(t, topic, partition);
    int64_t v = p ? p->committable : -1;
    pthread_mutex_unlock(&t->mu);
    return v;
}

int64_t kf_offsets_committed(kf_offsets_t *t, const char *topic, int32_t partition) {
    if (!t || !topic)
        return -1;
    pthread_mutex_lock(&t->mu);
    kf_part_t *p = part_find(t, topic, partition);
    int64_t v = p ? p->committed : -1;
    pthread_mutex_unlock(&t->mu);
    return v;
}

static size_t collect_one(kf_part_t *p, rd_kafka_topic_partition_list_t *out) {
    if (p->committable < 0 || p->committable <= p->handed)
        return 0;
    rd_kafka_topic_partition_t *e = rd_kafka_topic_partition_list_add(out, p->topic, p->partition);
    e->offset = p->committable;
    p->handed = p->committable;
    return 1;
}

size_t kf_offsets_collect(kf_offsets_t *t, const rd_kafka_topic_partition_list_t *only,
                          rd_kafka_topic_partition_list_t *out) {
    if (!t || !out)
        return 0;
    size_t n = 0;
    pthread_mutex_lock(&t->mu);
    if (!only) {
        for (size_t i = 0; i < t->nparts; i++)
            n += collect_one(&t->parts[i], out);
    } else {
        for (int i = 0; i < only->cnt; i++) {
            kf_part_t *p = part_find(t, only->elems[i].topic, only->elems[i].partition);
            if (p)
                n += collect_one(p, out);
        }
    }
    pthread_mutex_unlock(&t->mu);
    return n;
}

void kf_offsets_commit_result(kf_offsets_t *t, const rd_kafka_topic_partition_list_t *offsets,
                              rd_kafka_resp_err_t err) {
    if (!t || !offsets)
        return;
    pthread_mutex_lock(&t->mu);
    for (int i = 0; i < offsets->cnt; i++) {
        const rd_kafka_topic_partition_t *e = &offsets->elems[i];
        kf_part_t *p = part_find(t, e->topic, e->partition);
        if (!p || e->offset < 0)
            continue;
        if (err || e->err) {
            if (p->handed == e->offset) /* hand it out again */
                p->handed = p->committed;
        } else if (e->offset > p->committed) {
            p->committed = e->offset;
        }
    }
    pthread_mutex_unlock(&t->mu);
}

size_t kf_offsets_drop(kf_offsets_t *t, const char *topic, int32_t partition) {
    if (!t || !topic)
        return 0;
    pthread_mutex_lock(&t->mu);
    size_t n = 0;
    for (size_t i = 0; i < t->nparts; i++) {
        kf_part_t *p = &t->parts[i];
        if (p->partition != partition || strcmp(p->topic, topic) != 0)
            continue;
        n = p->len;
        t->inflight_total -= p->len;
        part_release(p);
        t->parts[i] = t->parts[t->nparts - 1];
        t->nparts--;
        break;
    }
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    return n;
}

static int parts_busy(kf_offsets_t *t, const rd_kafka_topic_partition_list_t *parts) {
    if (!parts)
        return t->inflight_total > 0;
    for (int i = 0; i < parts->cnt; i++) {
        kf_part_t *p = part_find(t, parts->elems[i].topic, parts->elems[i].partition);
        if (p && p->len > 0)
            return 1;
    }
    return 0;
}

static struct timespec deadline_after(int timeout_ms) {
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    return dl;
}

kf_status_t kf_offsets_wait_below(kf_offsets_t *t, size_t n, int timeout_ms) {
    if (!t)
        return KF_ERR_INVALID_ARG;
    struct timespec dl = deadline_after(timeout_ms);
    kf_status_t st = KF_OK;
    pthread_mutex_lock(&t->mu);
    while (t->inflight_total >= n) {
        if (pthread_cond_timedwait(&t->cv, &t->mu, &dl) == ETIMEDOUT) {
            st = t->inflight_total >= n ? KF_ERR_TIMEOUT : KF_OK;
            break;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return st;
}

kf_status_t kf_offsets_wait_idle(kf_offsets_t *t, const rd_kafka_topic_partition_list_t *parts,
                                 int timeout_ms) {
    if (!t)
        return KF_ERR_INVALID_ARG;
    struct timespec dl = deadline_after(timeout_ms);
    kf_status_t st = KF_OK;
    pthread_mutex_lock(&t->mu);
    while (parts_busy(t, parts)) {
        int rc = pthread_cond_timedwait(&t->cv, &t->mu, &dl);
        if (rc == ETIMEDOUT) {
            st = parts_busy(t, parts) ? KF_ERR_TIMEOUT : KF_OK;
            break;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return st;
}
