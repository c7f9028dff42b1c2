/* kk_backend: the CUDA implementation of the engine's backend interface:
 * device memory, the constant mirror, native dispatch and the CPU fallback
 * with copies for nodes that have no CUDA kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime_api.h>

#include "kk_backend_impl.h"
#include "kk_device.h"

kk_backend_params_t kk_backend_default_params(void) {
    kk_backend_params_t p = {0, 0, 0};
    return p;
}

int kk_bk_is_device(const void *p) {
    struct cudaPointerAttributes a;
    if (!p || cudaPointerGetAttributes(&a, p) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return a.type == cudaMemoryTypeDevice || a.type == cudaMemoryTypeManaged;
}

const void *kk_bk_dev_input(kk_bk_t *c, const ke_tensor_t *t) {
    if (!t || !t->data)
        return NULL;
    if (kk_bk_is_device(t->data))
        return t->data;
    if (t->dtype != KE_DT_F32)
        return NULL; /* host integers are shape arithmetic: run those on the CPU */
    size_t bytes = ke_tensor_nbytes(t);
    for (int i = 0; i < c->n_consts; i++)
        if (c->consts[i].host == t->data && c->consts[i].bytes == bytes)
            return c->consts[i].dev;
    if (c->n_consts == c->cap_consts) {
        int cap = c->cap_consts ? 2 * c->cap_consts : 32;
        kk_const_mirror_t *n = realloc(c->consts, (size_t)cap * sizeof *n);
        if (!n)
            return NULL;
        c->consts = n;
        c->cap_consts = cap;
    }
    void *dev = NULL;
    if (kk_malloc(&dev, bytes) != KK_OK)
        return NULL;
    if (kk_memcpy_h2d(dev, t->data, bytes, c->stream) != KK_OK) {
        kk_free(dev);
        return NULL;
    }
    c->consts[c->n_consts++] = (kk_const_mirror_t){t->data, bytes, dev};
    return dev;
}

void *kk_bk_scratch(kk_bk_t *c, size_t bytes) {
    if (bytes <= c->dev_scratch_bytes)
        return c->dev_scratch;
    if (kk_stream_sync(c->stream) != KK_OK)
        return NULL;
    kk_free(c->dev_scratch);
    c->dev_scratch = NULL;
    c->dev_scratch_bytes = 0;
    if (kk_malloc(&c->dev_scratch, bytes) != KK_OK)
        return NULL;
    c->dev_scratch_bytes = bytes;
    return c->dev_scratch;
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
    if (kk_malloc(&p, bytes) != KK_OK)
        return NULL;
    if (kk_memset(p, 0, bytes, c->stream) != KK_OK) {
        kk_free(p);
        return NULL;
    }
    return p;
}

static void bk_free(void *ctx, void *p) {
    (void)ctx;
    kk_free(p);
}

static ke_status_t bk_copy(kk_bk_t *c, void *dst, const void *src, size_t bytes) {
    if (!bytes || dst == src)
        return KE_OK;
    if (cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, c->stream) != cudaSuccess)
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
    size_t need = 0;
    for (int i = 0; i < n_in; i++)
        if (in[i] && kk_bk_is_device(in[i]->data))
            need += (ke_tensor_nbytes(in[i]) + 63) & ~(size_t)63;
    for (int i = 0; i < n_out; i++)
        if (out[i])
            need += (ke_tensor_nbytes(out[i]) + 63) & ~(size_t)63;
    if (!grow_host(&c->host_stage, &c->host_stage_bytes, need ? need : 64, 1) ||
        !grow_host(&c->host_scratch, &c->host_scratch_bytes, x->scratch_bytes ? x->scratch_bytes : 64, 0))
        return KE_ERR_NOMEM;
    unsigned char *stage = c->host_stage;
    for (int i = 0; i < n_in; i++) {
        pin[i] = in[i];
        if (!in[i] || !kk_bk_is_device(in[i]->data))
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
        /* a CPU kernel may reshape its output (it reads shapes at run time) */
        out[i]->rank = hout[i].rank;
        memcpy(out[i]->shape, hout[i].shape, sizeof out[i]->shape);
        if (cudaMemcpyAsync(out[i]->data, hout[i].data, ke_tensor_nbytes(&hout[i]),
                            cudaMemcpyDefault, c->stream) != cudaSuccess)
            return KE_ERR_INTERNAL;
    }
    c->fallback_runs++;
    return kk_stream_sync(c->stream) == KK_OK ? KE_OK : KE_ERR_INTERNAL;
}

static ke_status_t bk_run(void *ctx, const ke_node_info_t *node, const ke_op_def_t *def,
                          const void *state, const ke_tensor_t *const *in, int n_in,
                          ke_tensor_t *const *out, int n_out, ke_exec_ctx_t *x) {
    kk_bk_t *c = ctx;
    if ((def->flags & KE_OP_VIEW) && n_in >= 1 && n_out >= 1 && in[0] && out[0]) {
        if (out[0]->data == in[0]->data)
            return KE_OK;
        if (kk_bk_is_device(out[0]->data)) {
            size_t b = ke_tensor_nbytes(out[0]);
            if (cudaMemcpyAsync(out[0]->data, in[0]->data, b, cudaMemcpyDefault, c->stream) !=
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

static void bk_destroy(void *ctx) {
    kk_bk_t *c = ctx;
    if (!c)
        return;
    if (c->stream)
        kk_stream_sync(c->stream);
    for (int i = 0; i < c->n_consts; i++)
        kk_free(c->consts[i].dev);
    free(c->consts);
    kk_free(c->dev_scratch);
    kk_host_free(c->host_stage);
    free(c->host_scratch);
    kk_gemm_free(c->gemm);
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
};

ke_backend_t *kk_cuda_backend_new(const kk_backend_params_t *params, char *err, size_t errsz) {
    kk_backend_params_t p = params ? *params : kk_backend_default_params();
    if (kk_device_count() <= p.device) {
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
    if (kk_device_select(p.device) != KK_OK || kk_stream_new(&c->stream) != KK_OK ||
        !(c->gemm = kk_gemm_new(c->stream, p.tf32 ? KK_GEMM_TF32 : KK_GEMM_FP32))) {
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
    if (!be || strcmp(be->iface->name, "cuda") != 0)
        return 0;
    kk_bk_t *c = be->ctx;
    if (kk_device_select(c->device) != KK_OK || kk_device_mem_info(&f, &t) != KK_OK)
        return 0;
    return f;
}
