/* ke_backend: the backend interface (a struct of function pointers plus
 * void *ctx, as in ggml-backend) and the registry that knows which backends
 * were compiled in (ke_backend_registry.c, the one place that tests
 * KINFER_CUDA).
 *
 * A plan owns one backend. The plan allocates its arena and scratch with
 * alloc/free, moves caller data with upload/download, and runs each node
 * through run() with the op row and the state its prepare made. Nodes a
 * backend does not support (supports_op == 0) run on the CPU backend's
 * kernels (today the only backend; the CUDA one plugs in through
 * ke_backend_new("cuda")). A backend is used by one thread at a time. */
#ifndef KE_BACKEND_H
#define KE_BACKEND_H

#include <stddef.h>

#include "ke_op.h"
#include "ke_threadpool.h"

typedef struct ke_backend_iface {
    const char *name; /* "cpu", "cuda" */
    int (*supports_op)(void *ctx, const ke_node_info_t *node, const ke_op_def_t *def);
    void *(*alloc)(void *ctx, size_t bytes);      /* 64-byte aligned; NULL on failure */
    void (*free)(void *ctx, void *ptr);           /* NULL is a no-op */
    ke_status_t (*upload)(void *ctx, void *dst, const void *src, size_t bytes);   /* host -> backend */
    ke_status_t (*download)(void *ctx, void *dst, const void *src, size_t bytes); /* backend -> host */
    ke_status_t (*run)(void *ctx, const ke_node_info_t *node, const ke_op_def_t *def,
                       const void *state, const ke_tensor_t *const *in, int n_in,
                       ke_tensor_t *const *out, int n_out, ke_exec_ctx_t *x);
    void (*destroy)(void *ctx);
    /* 1: alloc returns memory the host cannot touch (a GPU): the plan then
     * uploads graph inputs into backend buffers instead of aliasing the
     * caller's host memory. 0 (CPU): inputs are read in place. */
    int device_memory;
} ke_backend_iface_t;

typedef struct ke_backend {
    const ke_backend_iface_t *iface;
    void *ctx;
    int n_threads;          /* host threads the backend uses */
    ke_threadpool_t *pool;  /* host pool for kernels (may be NULL) */
} ke_backend_t;

/* device: "cpu", "cuda", "auto" (cuda when compiled in and a GPU is
 * present, else cpu). n_threads <= 0: all cores. NULL + err on failure.
 * Caller frees with ke_backend_free(). Loading thread. */
ke_backend_t *ke_backend_new(const char *device, int n_threads, char *err, size_t errsz);
void ke_backend_free(ke_backend_t *be); /* NULL is a no-op */

/* Number of usable CUDA devices (0 without the CUDA backend, a driver or a
 * GPU). Any thread. */
int ke_backend_cuda_devices(void);

/* The CPU backend (ke_cpu_backend.c). */
ke_backend_t *ke_cpu_backend_new(int n_threads, char *err, size_t errsz);

#endif
