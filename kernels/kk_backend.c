/* kk_backend: the CUDA implementation of the engine's backend interface:
 * device memory, the constant mirror, native dispatch, the CPU fallback
 * with copies for nodes that have no CUDA kernel, and the asynchronous
 * hooks (two streams, events, pinned memory) the plan's double buffering
 * uses. Every entry point selects the backend's device first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime_api.h>

#include "kk_backend_impl.h"
#include "kk_convert.h"
#include "kk_device.h"

kk_backend_params_t kk_backend_default_params(void) {
    kk_backend_params_t p = {0, KE_PREC_FP32, 0};
    return p;
}

/* The calling thread's current device := the backend's (cheap when it
 * already is). */
static ke_status_t bk_enter(const kk_bk_t *c) {
    if (cudaSetDevice(c->device) != cudaSuccess) {
        (void)cudaGetLastError();
        return KE_ERR_INTERNAL;
    }
    return KE_OK;
}

int kk_bk_is_device(const void *p) {
    struct cudaPointerAttributes a;
    if (!p || cudaPointerGetAttributes(&a, p) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return a.type == cudaMemoryTypeDevice || a.type == cudaMemoryTypeManaged;
}

static kk_const_mirror_t *find_mirror(kk_bk_t *c, const void *host, size_t bytes,
                                      kk_gemm_type_t kind) {
    for (int i = 0; i < c->n_consts; i++)
        if (c->consts[i].host == host && c->consts[i].bytes == bytes && c->consts[i].kind == kind)
            return &c->consts[i];
    return NULL;
}

/* Appends an entry owning `dev`; frees dev and returns NULL on failure. */
static void *add_mirror(kk_bk_t *c, const void *host, size_t bytes, kk_gemm_type_t kind,
                        void *dev) {
    if (c->n_consts == c->cap_consts) {
        int cap = c->cap_consts ? 2 * c->cap_consts : 32;
        kk_const_mirror_t *n = realloc(c->consts, (size_t)cap * sizeof *n);
        if (!n) {
            kk_free(dev);
            return NULL;
        }
        c->consts = n;
        c->cap_consts = cap;
    }
    c->consts[c->n_consts++] = (kk_const_mirror_t){host, bytes, kind, dev};
    return dev;
}

const void *kk_bk_dev_input(kk_bk_t *c, const ke_tensor_t *t) {
    if (!t || !t->data)
        return NULL;
    if (kk_bk_is_device(t->data))
        return t->data;
    if (t->dtype != KE_DT_F32)
        return NULL; /* host integers are shape arithmetic: run those on the CPU */
    size_t bytes = ke_tensor_nbytes(t);
    kk_const_mirror_t *m = find_mirror(c, t->data, bytes, KK_GEMM_T_F32);
    if (m)
        return m->dev;
    void *dev = NULL;
    if (kk_malloc(&dev, bytes) != KK_OK)
        return NULL;
    /* pageable source: the call returns once the bytes are staged, so the
     * host buffer may change afterwards without affecting the copy */
    if (kk_memcpy_h2d(dev, t->data, bytes, c->stream) != KK_OK) {
        kk_free(dev);
        return NULL;
    }
    return add_mirror(c, t->data, bytes, KK_GEMM_T_F32, dev);
}

const void *kk_bk_const_converted(kk_bk_t *c, const void *host, size_t bytes, const float *dev_f32,
                                  kk_gemm_type_t kind) {
    if (!host || !dev_f32 || kind == KK_GEMM_T_F32)
        return NULL;
    kk_const_mirror_t *m = find_mirror(c, host, bytes, kind);
    if (m)
        return m->dev;
    size_t n = bytes / sizeof(float);
    void *dev = NULL;
    if (kk_malloc(&dev, n * 2) != KK_OK)
        return NULL;
    if (kk_convert_launch(kind, dev_f32, dev, (int64_t)n, c->stream) != KK_OK) {
        kk_free(dev);
        return NULL;
    }
    return add_mirror(c, host, bytes, kind, dev);
}

void *kk_bk_scratch(kk_bk_t *c, int slot, size_t bytes) {
    if (slot < 0 || slot >= KK_SCRATCH_N)
        return NULL;
    if (bytes <= c->scratch_bytes[slot])
        return c->scratch[slot];
    /* kernels queued earlier may still read the old buffer */
    if (kk_stream_sync(c->stream) != KK_OK)
        return NULL;
    kk_free(c->scratch[slot]);
    c->scratch[slot] = NULL;
    c->scratch_bytes[slot] = 0;
    if (kk_malloc(&c->scratch[slot], bytes) != KK_OK)
        return NULL;
    c->scratch_bytes[slot] = bytes;
    return c->scratch[slot];
}

static int grow_host(void **buf, size_t *have, size_t want, int pinned) {
    if (want <= *have)
        return 1;
    if (pinned)
        kk_host_free(*buf);
    else
        free(*buf);
    *buf = NULL;
    *have = 0;
    if (pinned) {
        if (kk_host_alloc(buf, want) != KK_OK)
            return 0;
    } else if (!(*buf = aligned_alloc(64, (want + 63) & ~(size_t)63))) {
        return 0;
    }
    *have = want;
    return 1;
}

/* ---- interface ---------------------------------------------------------- */

static int bk_supports(void *ctx, const ke_node_info_t *node, const ke_op_def_t *def) {
    (void)ctx;
    (void)node;
    return def && def->run != NULL; /* natively or through the CPU fallback */
}

static void *bk_alloc(void *ctx, size_t bytes) {
    kk_bk_t *c = ctx;
    void *p = NULL;
    if (bk_enter(c) != KE_OK || kk_malloc(&p, bytes) != KK_OK)
        return NULL;
    /* zeroed and complete before any other stream can touch it */
    if (kk_memset(p, 0, bytes ? bytes : 1, c->stream) != KK_OK ||
        kk_stream_sync(c->stream) != KK_OK) {
        kk_free(p);
        return NULL;
    }
    return p;
}

static void bk_free(void *ctx, void *p) {
    kk_bk_t *c = ctx;
    if (!p)
        return;
    (void)bk_enter(c);
    kk_free(p);
}

static ke_status_t bk_copy(kk_bk_t *c, void *dst, const void *src, size_t bytes) {
    if (!bytes || dst == src)
        return KE_OK;
    if (bk_enter(c) != KE_OK ||
        cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, c->stream) != cudaSuccess)
        return KE_ERR_INTERNAL;
    return kk_stream_sync(c->stream) == KK_OK ? KE_OK : KE_ERR_INTERNAL;
}

static ke_status_t bk_upload(void *ctx, void *dst, const void *src, size_t bytes) {
    return bk_copy(ctx, dst, src, bytes);
}

static ke_status_t bk_download(void *ctx, void *dst, const void *src, size_t bytes) {
    return bk_copy(ctx, dst, src, bytes);
}

/* CPU fallback: device inputs to host staging, the CPU kernel, outputs back. */
static ke_status_t run_on_cpu(kk_bk_t *c, const ke_node_info_t *node, const ke_op_def_t *def,
                              const void *state, const ke_tensor_t *const *in, int n_in,
                              ke_tensor_t *const *out, int n_out, ke_exec_ctx_t *x) {
    enum { MAXIO = 64 };
    if (n_in > MAXIO || n_out > MAXIO)
        return KE_ERR_UNSUPPORTED;
    ke_tensor_t hin[MAXIO], hout[MAXIO];
    const ke_tensor_t *pin[MAXIO];
    ke_tensor_t *pout[MAXIO];
    int in_dev[MAXIO];
    size_t need = 0;
    for (int i = 0; i < n_in; i++) {
        in_dev[i] = in[i] && kk_bk_is_device(in[i]->data);
        if (in_dev[i])
            need += (ke_tensor_nbytes(in[i]) + 63) & ~(size_t)63;
    }
    for (int i = 0; i < n_out; i++)
        if (out[i])
            need += (ke_tensor_nbytes(out[i]) + 63) & ~(size_t)63;
    /* the staging buffer may be freed below: nothing queued may still use it */
    if (need > c->host_stage_bytes && kk_stream_sync(c->stream) != KK_OK)
        return KE_ERR_INTERNAL;
    if (!grow_host(&c->host_stage, &c->host_stage_bytes, need ? need : 64, 1) ||
        !grow_host(&c->host_scratch, &c->host_scratch_bytes,
                   x->scratch_bytes ? x->scratch_bytes : 64, 0))
        return KE_ERR_NOMEM;
    unsigned char *stage = c->host_stage;
    for (int i = 0; i < n_in; i++) {
        pin[i] = in[i];
        if (!in_dev[i])
            continue;
        hin[i] = *in[i];
        hin[i].data = stage;
        size_t b = ke_tensor_nbytes(in[i]);
        if (kk_memcpy_d2h(stage, in[i]->data, b, c->stream) != KK_OK)
            return KE_ERR_INTERNAL;
        stage += (b + 63) & ~(size_t)63;
        pin[i] = &hin[i];
    }
    for (int i = 0; i < n_out; i++) {
        pout[i] = out[i];
        if (!out[i])
            continue;
        hout[i] = *out[i];
        hout[i].data = stage;
        stage += (ke_tensor_nbytes(out[i]) + 63) & ~(size_t)63;
        pout[i] = &hout[i];
    }
    /* inputs on the host, and every earlier kernel done */
    if (kk_stream_sync(c->stream) != KK_OK)
        return KE_ERR_INTERNAL;
    ke_exec_ctx_t hx = *x;
    hx.scratch = c->host_scratch;
    ke_status_t st = def->run(node, state, pin, n_in, pout, n_out, &hx);
    if (st != KE_OK)
        return st;
    for (int i = 0; i < n_out; i++) {
        if (!out[i])
            continue;
        size_t have = ke_tensor_nbytes(out[i]), got = ke_tensor_nbytes(&hout[i]);
        if (got > have) /* never write past the plan's buffer */
            return KE_ERR_SHAPE;
        /* a CPU kernel may reshape its output (it reads shapes at run time) */
        out[i]->rank = hout[i].rank;
        memcpy(out[i]->shape, hout[i].shape, sizeof out[i]->shape);
        if (got && cudaMemcpyAsync(out[i]->data, hout[i].data, got, cudaMemcpyDefault, c->stream) !=
                       cudaSuccess)
            return KE_ERR_INTERNAL;
    }
    c->fallback_runs++;
    /* the staging buffer is reused by the next fallback node */
    return kk_stream_sync(c->stream) == KK_OK ? KE_OK : KE_ERR_INTERNAL;
}

static ke_status_t bk_run(void *ctx, const ke_node_info_t *node, const ke_op_def_t *def,
                          const void *state, const ke_tensor_t *const *in, int n_in,
                          ke_tensor_t *const *out, int n_out, ke_exec_ctx_t *x) {
    kk_bk_t *c = ctx;
    if (bk_enter(c) != KE_OK)
        return KE_ERR_INTERNAL;
    if ((def->flags & KE_OP_VIEW) && n_in >= 1 && n_out >= 1 && in[0] && out[0]) {
        if (out[0]->data == in[0]->data)
            return KE_OK;
        if (kk_bk_is_device(out[0]->data)) {
            size_t b = ke_tensor_nbytes(out[0]);
            if (b > ke_tensor_nbytes(in[0]))
                return KE_ERR_SHAPE;
            if (b && cudaMemcpyAsync(out[0]->data, in[0]->data, b, cudaMemcpyDefault, c->stream) !=
                         cudaSuccess)
                return KE_ERR_INTERNAL;
            c->native_runs++;
            return KE_OK;
        }
    }
    ke_status_t st = kk_bk_run_native(c, node, in, n_in, out, n_out, x->err, x->errsz);
    if (st == KE_OK) {
        c->native_runs++;
        return KE_OK;
    }
    if (st != KE_ERR_UNSUPPORTED)
        return st;
    return run_on_cpu(c, node, def, state, in, n_in, out, n_out, x);
}

/* ---- asynchronous hooks -------------------------------------------------- */

static kk_stream_t queue_stream(kk_bk_t *c, int queue) {
    return queue == KE_Q_COPY ? c->copy_stream : c->stream;
}

static void *bk_host_alloc(void *ctx, size_t bytes) {
    void *p = NULL;
    if (bk_enter(ctx) != KE_OK || kk_host_alloc(&p, bytes) != KK_OK)
        return NULL;
    return p;
}

static void bk_host_free(void *ctx, void *p) {
    if (!p)
        return;
    (void)bk_enter(ctx);
    kk_host_free(p);
}

static ke_status_t bk_copy_async(void *ctx, int queue, void *dst, const void *src, size_t bytes) {
    kk_bk_t *c = ctx;
    if (queue != KE_Q_COMPUTE && queue != KE_Q_COPY)
        return KE_ERR_INVALID_ARG;
    if (!bytes)
        return KE_OK;
    if (bk_enter(c) != KE_OK ||
        cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, queue_stream(c, queue)) != cudaSuccess)
        return KE_ERR_INTERNAL;
    return KE_OK;
}

static ke_status_t bk_event_record(void *ctx, int queue, int ev) {
    kk_bk_t *c = ctx;
    if ((queue != KE_Q_COMPUTE && queue != KE_Q_COPY) || ev < 0 || ev >= KE_BACKEND_EVENTS)
        return KE_ERR_INVALID_ARG;
    if (bk_enter(c) != KE_OK || kk_event_record(c->events[ev], queue_stream(c, queue)) != KK_OK)
        return KE_ERR_INTERNAL;
    return KE_OK;
}

static ke_status_t bk_event_wait(void *ctx, int queue, int ev) {
    kk_bk_t *c = ctx;
    if ((queue != KE_Q_COMPUTE && queue != KE_Q_COPY) || ev < 0 || ev >= KE_BACKEND_EVENTS)
        return KE_ERR_INVALID_ARG;
    if (bk_enter(c) != KE_OK || kk_event_wait(queue_stream(c, queue), c->events[ev]) != KK_OK)
        return KE_ERR_INTERNAL;
    return KE_OK;
}

static ke_status_t bk_event_sync(void *ctx, int ev) {
    kk_bk_t *c = ctx;
    if (ev < 0 || ev >= KE_BACKEND_EVENTS)
        return KE_ERR_INVALID_ARG;
    if (bk_enter(c) != KE_OK || kk_event_sync(c->events[ev]) != KK_OK)
        return KE_ERR_INTERNAL;
    return KE_OK;
}

static ke_status_t bk_sync(void *ctx) {
    kk_bk_t *c = ctx;
    if (bk_enter(c) != KE_OK)
        return KE_ERR_INTERNAL;
    kk_status_t a = kk_stream_sync(c->copy_stream), b = kk_stream_sync(c->stream);
    return a == KK_OK && b == KK_OK ? KE_OK : KE_ERR_INTERNAL;
}

static ke_status_t bk_mem_info(void *ctx, size_t *free_bytes, size_t *total_bytes) {
    if (bk_enter(ctx) != KE_OK || kk_device_mem_info(free_bytes, total_bytes) != KK_OK)
        return KE_ERR_INTERNAL;
    return KE_OK;
}

static ke_status_t bk_device_name(void *ctx, char *buf, size_t size) {
    kk_bk_t *c = ctx;
    return kk_device_name(c->device, buf, size) == KK_OK ? KE_OK : KE_ERR_INTERNAL;
}

static const char *bk_last_error(void *ctx) {
    (void)ctx;
    return kk_last_error_str();
}

static void bk_destroy(void *ctx) {
    kk_bk_t *c = ctx;
    if (!c)
        return;
    (void)bk_enter(c);
    if (c->copy_stream)
        (void)kk_stream_sync(c->copy_stream);
    if (c->stream)
        (void)kk_stream_sync(c->stream);
    for (int i = 0; i < c->n_consts; i++)
        kk_free(c->consts[i].dev);
    free(c->consts);
    for (int i = 0; i < KK_SCRATCH_N; i++)
        kk_free(c->scratch[i]);
    kk_free(c->d_flag);
    kk_host_free(c->h_flag);
    kk_host_free(c->host_stage);
    free(c->host_scratch);
    kk_gemm_free(c->gemm);
    for (int i = 0; i < KE_BACKEND_EVENTS; i++)
        kk_event_free(c->events[i]);
    kk_stream_free(c->copy_stream);
    kk_stream_free(c->stream);
    free(c);
}

static const ke_backend_iface_t k_cuda = {
    .name = "cuda",
    .supports_op = bk_supports,
    .alloc = bk_alloc,
    .free = bk_free,
    .upload = bk_upload,
    .download = bk_download,
    .run = bk_run,
    .destroy = bk_destroy,
    .device_memory = 1,
    .mem_info = bk_mem_info,
    .device_name = bk_device_name,
    .host_alloc = bk_host_alloc,
    .host_free = bk_host_free,
    .copy_async = bk_copy_async,
    .event_record = bk_event_record,
    .event_wait = bk_event_wait,
    .event_sync = bk_event_sync,
    .sync = bk_sync,
    .last_error = bk_last_error,
};

static int setup(kk_bk_t *c) {
    if (kk_device_select(c->device) != KK_OK || kk_stream_new(&c->stream) != KK_OK ||
        kk_stream_new(&c->copy_stream) != KK_OK)
        return 0;
    for (int i = 0; i < KE_BACKEND_EVENTS; i++)
        if (kk_event_new(&c->events[i]) != KK_OK)
            return 0;
    if (kk_malloc((void **)&c->d_flag, sizeof(int)) != KK_OK ||
        kk_host_alloc((void **)&c->h_flag, sizeof(int)) != KK_OK)
        return 0;
    c->gemm = kk_gemm_new(c->stream, c->precision == KE_PREC_TF32 ? KK_GEMM_TF32 : KK_GEMM_FP32);
    return c->gemm != NULL;
}

ke_backend_t *kk_cuda_backend_new(const kk_backend_params_t *params, char *err, size_t errsz) {
    kk_backend_params_t p = params ? *params : kk_backend_default_params();
    if ((unsigned)p.precision > KE_PREC_BF16) {
        if (err)
            snprintf(err, errsz, "cuda backend: unknown precision %d", (int)p.precision);
        return NULL;
    }
    if (p.device < 0 || kk_device_count() <= p.device) {
        if (err)
            snprintf(err, errsz, "device cuda:%d: no such CUDA device (%d found)", p.device,
                     kk_device_count());
        return NULL;
    }
    kk_bk_t *c = calloc(1, sizeof *c);
    ke_backend_t *be = calloc(1, sizeof *be);
    if (!c || !be) {
        free(c);
        free(be);
        if (err)
            snprintf(err, errsz, "cuda backend: out of memory");
        return NULL;
    }
    c->device = p.device;
    c->precision = p.precision;
    c->gemm_type = p.precision == KE_PREC_FP16   ? KK_GEMM_T_F16
                   : p.precision == KE_PREC_BF16 ? KK_GEMM_T_BF16
                                                 : KK_GEMM_T_F32;
    if (!setup(c)) {
        if (err)
            snprintf(err, errsz, "cuda backend: device %d setup failed: %s", p.device,
                     kk_last_error_str());
        bk_destroy(c);
        free(be);
        return NULL;
    }
    be->iface = &k_cuda;
    be->ctx = c;
    /* host threads for CPU fallback nodes */
    be->pool = ke_threadpool_new(p.n_threads, err, errsz);
    if (!be->pool) {
        bk_destroy(c);
        free(be);
        return NULL;
    }
    be->n_threads = ke_threadpool_size(be->pool);
    return be;
}

size_t kk_backend_free_memory(const ke_backend_t *be) {
    size_t f = 0, t = 0;
    if (!be || !be->iface || strcmp(be->iface->name, "cuda") != 0)
        return 0;
    return bk_mem_info(be->ctx, &f, &t) == KE_OK ? f : 0;
}
