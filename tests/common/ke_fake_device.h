/* ke_fake_device: a fake "device" engine backend for host-side tests of
 * the asynchronous plan path (ke_plan_submit / ke_plan_wait) and of code
 * above it. Header-only, test code only.
 *
 * Memory is host memory but flagged device_memory, and the two queues
 * really defer their copies: a queued copy runs only when something waits
 * for it (an event wait on the other queue, an event sync, a sync) or, on
 * the compute queue, before the next node runs. A caller that reads
 * outputs before their wait, or reuses staging too early, sees stale bytes.
 *
 * Fault injection, by the input data (so a test picks the batch by what a
 * job carries): a node whose first input holds FAKE_DEV_POISON_RUN fails at
 * once (the plan's submit fails); one holding FAKE_DEV_POISON_LATE
 * succeeds, but the next event recorded on the compute queue reports an
 * error when synced (an asynchronous device fault: the wait fails). Only
 * float32 inputs are scanned.
 *
 * Counters go to a fake_dev_stats_t the test owns (it outlives the
 * backends; one engine thread at a time writes it): async copies (in all
 * and per queue), node runs, and the most batches seen in flight at once
 * (compute-queue records not yet synced) and how many were never synced
 * when the backend was destroyed. */
#ifndef KE_FAKE_DEVICE_H
#define KE_FAKE_DEVICE_H

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "ke_backend.h"

#define FAKE_DEV_POISON_RUN (-12345.5f)
#define FAKE_DEV_POISON_LATE (-23456.5f)
#define FAKE_DEV_QMAX 256

typedef struct fake_dev_stats {
    long async_copies, runs, runs_failed, waits_failed;
    long async_copies_q[2]; /* async copies per queue (KE_Q_COMPUTE, KE_Q_COPY) */
    int max_in_flight;
    int left_open; /* batches never waited for when their plan was freed */
    int overflow;  /* a queue overflowed: the test's fault */
} fake_dev_stats_t;

typedef struct {
    void *dst;
    const void *src;
    size_t bytes;
} fake_dev_copy_t;

typedef struct {
    fake_dev_copy_t q[2][FAKE_DEV_QMAX];
    int n[2];
    int ev_queue[KE_BACKEND_EVENTS]; /* queue of the event's last record, -1 none */
    int ev_failed[KE_BACKEND_EVENTS];
    int ev_open[KE_BACKEND_EVENTS]; /* recorded on compute, not synced yet */
    int late_fault;                 /* the next compute record carries a fault */
    fake_dev_stats_t *st;
    ke_backend_iface_t iface; /* k_fake_dev_async, less the hooks left out */
} fake_dev_t;

static void fake_dev_flush(fake_dev_t *f, int q) {
    for (int i = 0; i < f->n[q]; i++)
        memcpy(f->q[q][i].dst, f->q[q][i].src, f->q[q][i].bytes);
    f->n[q] = 0;
}

static int fake_dev_supports(void *ctx, const ke_node_info_t *n, const ke_op_def_t *d) {
    (void)ctx, (void)n;
    return d && d->run;
}

static void *fake_dev_alloc(void *ctx, size_t bytes) {
    (void)ctx;
    size_t n = (bytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, n ? n : 64);
    if (p)
        memset(p, 0, n ? n : 64);
    return p;
}

static void fake_dev_free(void *ctx, void *p) {
    (void)ctx;
    free(p);
}

static ke_status_t fake_dev_copy(void *ctx, void *dst, const void *src, size_t bytes) {
    fake_dev_t *f = ctx;
    fake_dev_flush(f, KE_Q_COPY);
    fake_dev_flush(f, KE_Q_COMPUTE);
    if (bytes && dst != src)
        memcpy(dst, src, bytes);
    return KE_OK;
}

static int fake_dev_holds(const ke_tensor_t *t, float v) {
    if (!t || t->dtype != KE_DT_F32 || !t->data)
        return 0;
    size_t n = ke_tensor_nbytes(t) / sizeof(float);
    const float *d = t->data;
    for (size_t i = 0; i < n; i++)
        if (d[i] == v)
            return 1;
    return 0;
}

static ke_status_t fake_dev_run(void *ctx, const ke_node_info_t *node, const ke_op_def_t *def,
                                const void *state, const ke_tensor_t *const *in, int n_in,
                                ke_tensor_t *const *out, int n_out, ke_exec_ctx_t *x) {
    fake_dev_t *f = ctx;
    fake_dev_flush(f, KE_Q_COMPUTE); /* the compute queue is in order */
    f->st->runs++;
    if (n_in > 0 && fake_dev_holds(in[0], FAKE_DEV_POISON_RUN)) {
        f->st->runs_failed++;
        return KE_ERR_INTERNAL;
    }
    if (n_in > 0 && fake_dev_holds(in[0], FAKE_DEV_POISON_LATE))
        f->late_fault = 1;
    return def->run(node, state, in, n_in, out, n_out, x);
}

static void fake_dev_destroy(void *ctx) {
    fake_dev_t *f = ctx;
    for (int i = 0; i < KE_BACKEND_EVENTS; i++)
        f->st->left_open += f->ev_open[i];
    free(ctx);
}

static ke_status_t fake_dev_copy_async(void *ctx, int q, void *dst, const void *src, size_t bytes) {
    fake_dev_t *f = ctx;
    if (q != KE_Q_COMPUTE && q != KE_Q_COPY)
        return KE_ERR_INVALID_ARG;
    if (f->n[q] == FAKE_DEV_QMAX) {
        f->st->overflow = 1;
        return KE_ERR_INTERNAL;
    }
    f->q[q][f->n[q]++] = (fake_dev_copy_t){dst, src, bytes};
    f->st->async_copies++;
    f->st->async_copies_q[q]++;
    return KE_OK;
}

static ke_status_t fake_dev_record(void *ctx, int q, int e) {
    fake_dev_t *f = ctx;
    if (e < 0 || e >= KE_BACKEND_EVENTS || (q != KE_Q_COMPUTE && q != KE_Q_COPY))
        return KE_ERR_INVALID_ARG;
    f->ev_queue[e] = q;
    if (q == KE_Q_COMPUTE) {
        f->ev_failed[e] = f->late_fault;
        f->late_fault = 0;
        f->ev_open[e] = 1;
        int open = 0;
        for (int i = 0; i < KE_BACKEND_EVENTS; i++)
            open += f->ev_open[i];
        if (open > f->st->max_in_flight)
            f->st->max_in_flight = open;
    }
    return KE_OK;
}

static ke_status_t fake_dev_wait(void *ctx, int q, int e) {
    fake_dev_t *f = ctx;
    if (e < 0 || e >= KE_BACKEND_EVENTS)
        return KE_ERR_INVALID_ARG;
    /* completing the other queue's work now is one legal schedule */
    if (f->ev_queue[e] >= 0 && f->ev_queue[e] != q)
        fake_dev_flush(f, f->ev_queue[e]);
    return KE_OK;
}

static ke_status_t fake_dev_event_sync(void *ctx, int e) {
    fake_dev_t *f = ctx;
    if (e < 0 || e >= KE_BACKEND_EVENTS)
        return KE_ERR_INVALID_ARG;
    if (f->ev_queue[e] >= 0)
        fake_dev_flush(f, f->ev_queue[e]);
    f->ev_open[e] = 0;
    if (f->ev_failed[e]) {
        f->ev_failed[e] = 0;
        f->st->waits_failed++;
        return KE_ERR_INTERNAL;
    }
    return KE_OK;
}

static ke_status_t fake_dev_sync(void *ctx) {
    fake_dev_t *f = ctx;
    fake_dev_flush(f, KE_Q_COPY);
    fake_dev_flush(f, KE_Q_COMPUTE);
    return KE_OK;
}

static ke_status_t fake_dev_mem_info(void *ctx, size_t *fr, size_t *tot) {
    (void)ctx;
    *fr = (size_t)3 << 30;
    *tot = (size_t)4 << 30;
    return KE_OK;
}

static const char *fake_dev_last_error(void *ctx) {
    (void)ctx;
    return "fake device fault";
}

static const ke_backend_iface_t k_fake_dev_async = {
    .name = "fake",
    .supports_op = fake_dev_supports,
    .alloc = fake_dev_alloc,
    .free = fake_dev_free,
    .upload = fake_dev_copy,
    .download = fake_dev_copy,
    .run = fake_dev_run,
    .destroy = fake_dev_destroy,
    .device_memory = 1,
    .mem_info = fake_dev_mem_info,
    .host_alloc = fake_dev_alloc,
    .host_free = fake_dev_free,
    .copy_async = fake_dev_copy_async,
    .event_record = fake_dev_record,
    .event_wait = fake_dev_wait,
    .event_sync = fake_dev_event_sync,
    .sync = fake_dev_sync,
    .last_error = fake_dev_last_error,
};

/* A new fake device backend (one host thread) reporting into *st; NULL on
 * out of memory. The plan that takes it frees it. async_hooks 0: the same
 * fake without the optional hooks (no mem_info, no asynchronous pipeline,
 * no last_error), so plans take the synchronous upload/download path. */
static ke_backend_t *fake_dev_new_hooks(fake_dev_stats_t *st, int async_hooks) {
    ke_backend_t *be = calloc(1, sizeof *be);
    fake_dev_t *f = calloc(1, sizeof *f);
    char err[256];
    if (be)
        be->pool = ke_threadpool_new(1, err, sizeof err);
    if (!be || !f || !be->pool) {
        if (be)
            ke_threadpool_free(be->pool);
        free(be);
        free(f);
        return NULL;
    }
    for (int i = 0; i < KE_BACKEND_EVENTS; i++)
        f->ev_queue[i] = -1;
    f->st = st;
    be->n_threads = 1;
    f->iface = k_fake_dev_async;
    if (!async_hooks) {
        ke_backend_iface_t *i = &f->iface;
        i->mem_info = NULL;
        i->host_alloc = NULL;
        i->host_free = NULL;
        i->copy_async = NULL;
        i->event_record = NULL;
        i->event_wait = NULL;
        i->event_sync = NULL;
        i->sync = NULL;
        i->last_error = NULL;
    }
    be->iface = &f->iface;
    be->ctx = f;
    return be;
}

/* The fake with the asynchronous pipeline. */
static ke_backend_t *fake_dev_new(fake_dev_stats_t *st) {
    return fake_dev_new_hooks(st, 1);
}

/* The fake without the optional hooks (inline: not every test uses it). */
static inline ke_backend_t *fake_dev_new_sync(fake_dev_stats_t *st) {
    return fake_dev_new_hooks(st, 0);
}

#endif
