/* kf_worker_model: a loaded model version and its batcher; see
 * kf_worker_model.h. The batcher's compute step is the engine plan: prepare
 * hands out the staging input buffers (max_batch rows each), run calls
 * ke_plan_run into the staging output buffers; on a device backend with
 * copy queues submit/wait (ke_plan_submit / ke_plan_wait) replace run so
 * the batcher keeps one batch in flight. */
#include "kf_worker_model.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kf_batch_size.h"

static int dtype_from_engine(ke_dtype_t d, kf_dtype_t *out) {
    switch (d) {
    case KE_DT_F32: *out = KF_DTYPE_FLOAT32; return 1;
    case KE_DT_F16: *out = KF_DTYPE_FLOAT16; return 1;
    case KE_DT_F64: *out = KF_DTYPE_FLOAT64; return 1;
    case KE_DT_I8: *out = KF_DTYPE_INT8; return 1;
    case KE_DT_U8: *out = KF_DTYPE_UINT8; return 1;
    case KE_DT_I32: *out = KF_DTYPE_INT32; return 1;
    case KE_DT_I64: *out = KF_DTYPE_INT64; return 1;
    case KE_DT_BOOL: *out = KF_DTYPE_BOOL; return 1;
    default: return 0;
    }
}

static kf_status_t mv_prepare(void *ctx, size_t rows, void *in[KF_BATCH_MAX_IO], char *err,
                              size_t err_size) {
    kf_mv_t *mv = ctx;
    if (rows > mv->max_batch) {
        snprintf(err, err_size, "%s: batch of %zu rows over max_batch %zu", mv->label, rows,
                 mv->max_batch);
        return KF_ERR_INTERNAL;
    }
    for (int i = 0; i < mv->n_in; i++)
        in[i] = mv->inb[i];
    return KF_OK;
}

static kf_status_t mv_run(void *ctx, size_t rows, const void *out[KF_BATCH_MAX_IO], char *err,
                          size_t err_size) {
    kf_mv_t *mv = ctx;
    char e[256] = "";
    ke_status_t st = ke_plan_run(mv->plan, (int)rows, (const void *const *)mv->inb,
                                 (void *const *)mv->outb, e, sizeof(e));
    if (st != KE_OK) {
        snprintf(err, err_size, "%s: %s", mv->label, e[0] ? e : "plan run failed");
        return KF_ERR_INTERNAL;
    }
    for (int i = 0; i < mv->n_out; i++)
        out[i] = mv->outb[i];
    return KF_OK;
}

/* Asynchronous compute (device backends): ke_plan_submit copies the
 * staging inputs, so mv->inb is refilled for the next batch while this one
 * is in flight; ke_plan_wait copies the oldest batch's outputs into
 * mv->outb, which the batcher hands out before its next wait. */
static kf_status_t mv_submit(void *ctx, size_t rows, char *err, size_t err_size) {
    kf_mv_t *mv = ctx;
    char e[256] = "";
    if (ke_plan_submit(mv->plan, (int)rows, (const void *const *)mv->inb, e, sizeof(e)) != KE_OK) {
        snprintf(err, err_size, "%s: %s", mv->label, e[0] ? e : "plan submit failed");
        return KF_ERR_INTERNAL;
    }
    return KF_OK;
}

static kf_status_t mv_wait(void *ctx, size_t rows, const void *out[KF_BATCH_MAX_IO], char *err,
                           size_t err_size) {
    kf_mv_t *mv = ctx;
    char e[256] = "";
    int n = 0;
    if (ke_plan_wait(mv->plan, (void *const *)mv->outb, &n, e, sizeof(e)) != KE_OK) {
        snprintf(err, err_size, "%s: %s", mv->label, e[0] ? e : "plan wait failed");
        return KF_ERR_INTERNAL;
    }
    if ((size_t)n != rows) { /* batches came back out of order: a bug */
        snprintf(err, err_size, "%s: waited for a batch of %d rows, expected %zu", mv->label, n,
                 rows);
        return KF_ERR_INTERNAL;
    }
    for (int i = 0; i < mv->n_out; i++)
        out[i] = mv->outb[i];
    return KF_OK;
}

static int io_info(kf_mv_t *mv, int is_out, int i, char *err, size_t err_size) {
    ke_io_info_t info;
    ke_status_t st =
        is_out ? ke_model_output(mv->model, i, &info) : ke_model_input(mv->model, i, &info);
    kf_mv_io_t *io = is_out ? &mv->out[i] : &mv->in[i];
    if (st != KE_OK || !dtype_from_engine(info.dtype, &io->dtype)) {
        snprintf(err, err_size, "model %s: %s %d has a dtype the wire contract lacks", mv->label,
                 is_out ? "output" : "input", i);
        return -1;
    }
    io->name = info.name;
    io->rank = info.rank;
    memcpy(io->shape, info.shape, sizeof(io->shape));
    io->row_bytes = info.row_bytes;
    return 0;
}

static void free_buffers(kf_mv_t *mv) {
    for (int i = 0; i < KF_BATCH_MAX_IO; i++) {
        free(mv->inb[i]);
        free(mv->outb[i]);
        mv->inb[i] = mv->outb[i] = NULL;
    }
}

static int alloc_buffers(kf_mv_t *mv) {
    for (int i = 0; i < mv->n_in; i++)
        if (!(mv->inb[i] = calloc(mv->max_batch, mv->in[i].row_bytes ? mv->in[i].row_bytes : 1)))
            return -1;
    for (int i = 0; i < mv->n_out; i++)
        if (!(mv->outb[i] = calloc(mv->max_batch, mv->out[i].row_bytes ? mv->out[i].row_bytes : 1)))
            return -1;
    return 0;
}

static ke_plan_t *make_plan(kf_mv_t *mv, const kf_mv_params_t *p, size_t max_batch, char *err,
                            size_t err_size) {
    ke_plan_params_t pp = ke_plan_default_params();
    pp.max_batch = (int)max_batch;
    pp.n_threads = p->threads;
    pp.device = p->device ? p->device : "cpu";
    if (p->backend_new) { /* test hook: the plan owns what it returns */
        pp.backend = p->backend_new(p->backend_user);
        if (!pp.backend) {
            snprintf(err, err_size, "model %s: backend hook failed", mv->label);
            return NULL;
        }
    }
    if (p->precision && ke_precision_parse(p->precision, &pp.precision) != KE_OK) {
        snprintf(err, err_size, "model %s: unknown precision '%s'", mv->label, p->precision);
        return NULL;
    }
    char e[256] = "";
    ke_plan_t *plan = ke_plan_new(mv->model, &pp, e, sizeof(e));
    if (!plan)
        snprintf(err, err_size, "model %s: plan: %s", mv->label, e);
    return plan;
}

/* Max batch for a device plan: the device's free memory (asked of the
 * engine) times device_percent, less what the plan needs whatever the
 * batch, over what it needs per row (activations + the two input slots of
 * double buffering); the current plan's device memory counts as free since
 * it is replaced. See kf_batch_size.h. */
static size_t device_rows(const kf_mv_t *mv, const kf_mv_params_t *p, size_t free_bytes,
                          size_t cap) {
    size_t in_row = 0;
    for (int i = 0; i < mv->n_in; i++)
        in_row += mv->in[i].row_bytes;
    size_t pb = (size_t)ke_plan_max_batch(mv->plan), bpr = ke_plan_bytes_per_row(mv->plan);
    size_t arena = ke_plan_arena_bytes(mv->plan), w = ke_plan_weight_bytes(mv->plan);
    size_t base = arena > pb * bpr ? arena - pb * bpr : 0;
    /* weights are mirrored on first run; fp16/bf16 add a 2-byte copy */
    ke_precision_t pr = ke_plan_precision(mv->plan);
    size_t fixed = base + w + (pr == KE_PREC_FP16 || pr == KE_PREC_BF16 ? w / 2 : 0);
    return kf_batch_rows_for_device(free_bytes, arena + 2 * in_row * pb, fixed, bpr + 2 * in_row,
                                    p->device_percent ? p->device_percent : 80, cap);
}

kf_mv_t *kf_mv_new(const char *name, const char *version, const char *path, const kf_mv_params_t *p,
                   kf_batch_done_fn on_done, void *opaque, char *err, size_t err_size) {
    kf_mv_t *mv = calloc(1, sizeof(*mv));
    if (!mv) {
        snprintf(err, err_size, "model %s: out of memory", name);
        return NULL;
    }
    snprintf(mv->name, sizeof(mv->name), "%s", name);
    snprintf(mv->version, sizeof(mv->version), "%s", version);
    snprintf(mv->label, sizeof(mv->label), "%s@%s", name, version);
    char e[256] = "";
    ke_load_params_t lp = ke_load_default_params();
    lp.cpu_fusions = ke_device_is_cpu(p->device); /* CPU plans only (auto without a GPU too) */
    mv->model = ke_model_load_file(path, &lp, e, sizeof(e));
    if (!mv->model) {
        snprintf(err, err_size, "model %s: %s", mv->label, e);
        goto fail;
    }
    mv->n_in = ke_model_num_inputs(mv->model);
    mv->n_out = ke_model_num_outputs(mv->model);
    if (mv->n_in < 1 || mv->n_in > KF_BATCH_MAX_IO || mv->n_out < 1 ||
        mv->n_out > KF_BATCH_MAX_IO) {
        snprintf(err, err_size, "model %s: %s: %d inputs / %d outputs (1..%d supported)", mv->label,
                 path, mv->n_in, mv->n_out, KF_BATCH_MAX_IO);
        goto fail;
    }
    for (int i = 0; i < mv->n_in; i++)
        if (io_info(mv, 0, i, err, err_size))
            goto fail;
    for (int i = 0; i < mv->n_out; i++)
        if (io_info(mv, 1, i, err, err_size))
            goto fail;
    mv->has_batch = ke_model_has_batch(mv->model);
    size_t cap = mv->has_batch ? (p->max_batch ? p->max_batch : 64) : 1;
    mv->plan = make_plan(mv, p, cap, err, err_size);
    if (!mv->plan && mv->has_batch && cap > 1 &&
        (p->backend_new || (p->device && strcmp(p->device, "cpu") != 0)))
        mv->plan = make_plan(mv, p, 1, err, err_size); /* too big for the device? probe */
    if (!mv->plan)
        goto fail;
    size_t dev_free = 0, dev_total = 0;
    if (mv->has_batch && p->memory_budget == 0 &&
        ke_plan_device_memory(mv->plan, &dev_free, &dev_total) == KE_OK) {
        size_t mb = device_rows(mv, p, dev_free, cap);
        if (mb != (size_t)ke_plan_max_batch(mv->plan)) { /* re-plan for the device */
            ke_plan_free(mv->plan);
            cap = mb;
            mv->plan = make_plan(mv, p, cap, err, err_size);
            if (!mv->plan)
                goto fail;
        }
    } else if (mv->has_batch && p->memory_budget > 0) {
        size_t mb =
            kf_batcher_max_batch_for(p->memory_budget, ke_plan_bytes_per_row(mv->plan), cap);
        if (mb < cap) { /* re-plan for the budget */
            ke_plan_free(mv->plan);
            cap = mb;
            mv->plan = make_plan(mv, p, cap, err, err_size);
            if (!mv->plan)
                goto fail;
        }
    }
    if (mv->has_batch) /* what the plan takes (a 1-row probe may have stayed) */
        cap = (size_t)ke_plan_max_batch(mv->plan);
    mv->max_batch = cap;
    if (alloc_buffers(mv)) {
        snprintf(err, err_size, "model %s: out of memory for %zu-row buffers", mv->label, cap);
        goto fail;
    }
    /* warm up: one row of zeros, so the first real batch pays no first-touch */
    if (ke_plan_run(mv->plan, 1, (const void *const *)mv->inb, (void *const *)mv->outb, e,
                    sizeof(e)) != KE_OK) {
        snprintf(err, err_size, "model %s: warm-up run failed: %s", mv->label, e);
        goto fail;
    }
    kf_batch_compute_t c;
    memset(&c, 0, sizeof(c));
    c.ctx = mv;
    c.n_inputs = (size_t)mv->n_in;
    c.n_outputs = (size_t)mv->n_out;
    for (int i = 0; i < mv->n_in; i++)
        c.in_row_bytes[i] = mv->in[i].row_bytes;
    for (int i = 0; i < mv->n_out; i++)
        c.out_row_bytes[i] = mv->out[i].row_bytes;
    c.prepare = mv_prepare;
    c.run = mv_run;
    if (p->pipeline > 0 || (p->pipeline == 0 && ke_plan_async(mv->plan))) {
        c.submit = mv_submit;
        c.wait = mv_wait;
    }
    mv->pipelined = c.submit != NULL;
    kf_batcher_params_t bp = kf_batcher_default_params();
    bp.max_batch = cap;
    bp.max_queue_delay_ms = p->max_queue_delay_ms;
    if (p->preferred_batch && p->preferred_batch <= cap)
        bp.preferred[0] = p->preferred_batch;
    mv->max_queue_delay_ms = p->max_queue_delay_ms;
    mv->preferred_batch = bp.preferred[0];
    if (p->max_queued_jobs)
        bp.max_queued_jobs = p->max_queued_jobs;
    bp.name = mv->label;
    mv->batcher = kf_batcher_new(&bp, &c, on_done, opaque, err, err_size);
    if (!mv->batcher)
        goto fail;
    return mv;
fail:
    kf_mv_free(mv);
    return NULL;
}

void kf_mv_stop(kf_mv_t *mv) {
    if (mv && mv->batcher) {
        kf_batcher_free(mv->batcher);
        mv->batcher = NULL;
    }
}

void kf_mv_free(kf_mv_t *mv) {
    if (!mv)
        return;
    kf_mv_stop(mv);
    assert(ke_plan_pending(mv->plan) == 0); /* the engine thread waited for it */
    ke_plan_free(mv->plan);
    ke_model_free(mv->model);
    free_buffers(mv);
    kf_buf_free(&mv->enc);
    free(mv);
}
