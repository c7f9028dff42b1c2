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

#include "engine.h"
#include "ke_op.h"
#include "ke_threadpool.h"

/* Queues of the asynchronous hooks. */
enum { KE_Q_COMPUTE = 0, KE_Q_COPY = 1 };
/* Events a backend with async hooks provides: ids 0..KE_BACKEND_EVENTS-1. */
#define KE_BACKEND_EVENTS 8

typedef struct ke_backend_iface {
    const char *name; /* "cpu", "cuda" */
    int (*supports_op)(void *ctx, const ke_node_info_t *node, const ke_op_def_t *def);
    void *(*alloc)(void *ctx, size_t bytes); /* 64-byte aligned; NULL on failure */
    void (*free)(void *ctx, void *ptr);      /* NULL is a no-op */
    ke_status_t (*upload)(void *ctx, void *dst, const void *src,
                          size_t bytes); /* host -> backend */
    ke_status_t (*download)(void *ctx, void *dst, const void *src,
                            size_t bytes); /* backend -> host */
    ke_status_t (*run)(void *ctx, const ke_node_info_t *node, const ke_op_def_t *def,
                       const void *state, const ke_tensor_t *const *in, int n_in,
                       ke_tensor_t *const *out, int n_out, ke_exec_ctx_t *x);
    void (*destroy)(void *ctx);
    /* 1: alloc returns memory the host cannot touch (a GPU): the plan then
     * uploads graph inputs into backend buffers instead of aliasing the
     * caller's host memory. 0 (CPU): inputs are read in place. */
    int device_memory;

    /* ---- optional (NULL: not provided; the CPU backend has none) ---- */
    /* Device information: free/total memory, its name. */
    ke_status_t (*mem_info)(void *ctx, size_t *free_bytes, size_t *total_bytes);
    ke_status_t (*device_name)(void *ctx, char *buf, size_t size);
    /* Asynchronous pipeline (all or none). run() enqueues on KE_Q_COMPUTE;
     * KE_Q_COPY carries host-to-device copies that may overlap it.
     * host_alloc: page-locked host memory (NULL on failure). copy_async:
     * enqueue a copy on `queue` (either direction; src must stay untouched
     * and dst unread until an event recorded after it completes).
     * event_record: mark the queue's current end; event_wait: later work
     * on `queue` waits for the event; event_sync: the host waits (and gets
     * the status of the work before it); sync: the host waits for both
     * queues. An event never recorded is complete. */
    void *(*host_alloc)(void *ctx, size_t bytes);
    void (*host_free)(void *ctx, void *ptr);
    ke_status_t (*copy_async)(void *ctx, int queue, void *dst, const void *src, size_t bytes);
    ke_status_t (*event_record)(void *ctx, int queue, int event);
    ke_status_t (*event_wait)(void *ctx, int queue, int event);
    ke_status_t (*event_sync)(void *ctx, int event);
    ke_status_t (*sync)(void *ctx);
    /* Text of the backend's last failure for error messages ("" if none). */
    const char *(*last_error)(void *ctx);
} ke_backend_iface_t;

typedef struct ke_backend {
    const ke_backend_iface_t *iface;
    void *ctx;
    int n_threads;         /* host threads the backend uses */
    ke_threadpool_t *pool; /* host pool for kernels (may be NULL) */
} ke_backend_t;

/* device: "cpu", "cuda", "cuda:N", "auto" (cuda when compiled in and a GPU
 * is present, else cpu). n_threads <= 0: all cores. precision: FP32 on any
 * backend; TF32/FP16/BF16 only on CUDA (the CPU backend is refused with a
 * message naming the precision). NULL + err on failure. Caller frees with
 * ke_backend_free(). Loading thread. */
ke_backend_t *ke_backend_new(const char *device, int n_threads, ke_precision_t precision, char *err,
                             size_t errsz);
void ke_backend_free(ke_backend_t *be); /* NULL is a no-op */

/* Number of usable CUDA devices (0 without the CUDA backend, a driver or a
 * GPU). Any thread. */
int ke_backend_cuda_devices(void);

/* The CPU backend (ke_cpu_backend.c). */
ke_backend_t *ke_cpu_backend_new(int n_threads, char *err, size_t errsz);

#endif
