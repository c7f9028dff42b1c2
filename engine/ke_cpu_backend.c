/* ke_cpu_backend: host memory, the ops' CPU kernels, one thread pool.
 * OpenBLAS gets the same thread count (openblas_set_num_threads is
 * process-wide: the last plan created sets it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "ke_backend.h"

static int cpu_supports(void *ctx, const ke_node_info_t *node, const ke_op_def_t *def) {
    (void)ctx;
    (void)node;
    return def && def->run != NULL;
}

static void *cpu_alloc(void *ctx, size_t bytes) {
    (void)ctx;
    size_t n = (bytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, n ? n : 64);
    if (p)
        memset(p, 0, n ? n : 64);
    return p;
}

static void cpu_free(void *ctx, void *p) {
    (void)ctx;
    free(p);
}

static ke_status_t cpu_copy(void *ctx, void *dst, const void *src, size_t bytes) {
    (void)ctx;
    if (bytes && dst != src)
        memcpy(dst, src, bytes);
    return KE_OK;
}

static ke_status_t cpu_run(void *ctx, const ke_node_info_t *node, const ke_op_def_t *def,
                           const void *state, const ke_tensor_t *const *in, int n_in,
                           ke_tensor_t *const *out, int n_out, ke_exec_ctx_t *x) {
    (void)ctx;
    return def->run(node, state, in, n_in, out, n_out, x);
}

static void cpu_destroy(void *ctx) {
    (void)ctx;
}

/* No device hooks: host memory, synchronous (ke_backend.h). */
static const ke_backend_iface_t k_cpu = {
    .name = "cpu",
    .supports_op = cpu_supports,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_copy,
    .download = cpu_copy,
    .run = cpu_run,
    .destroy = cpu_destroy,
    .device_memory = 0,
};

ke_backend_t *ke_cpu_backend_new(int n_threads, char *err, size_t errsz) {
    ke_backend_t *be = calloc(1, sizeof *be);
    if (!be) {
        if (err)
            snprintf(err, errsz, "cpu backend: out of memory");
        return NULL;
    }
    be->iface = &k_cpu;
    be->pool = ke_threadpool_new(n_threads, err, errsz);
    if (!be->pool) {
        free(be);
        return NULL;
    }
    be->n_threads = ke_threadpool_size(be->pool);
    openblas_set_num_threads(be->n_threads);
    return be;
}
