/* Internal to the CUDA backend (kk_backend.c, kk_backend_ops.c). */
#ifndef KK_BACKEND_IMPL_H
#define KK_BACKEND_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "kk_backend.h"
#include "kk_cuda.h"
#include "kk_gemm.h"

typedef struct kk_const_mirror {
    const void *host;
    size_t bytes;
    void *dev;
} kk_const_mirror_t;

typedef struct kk_bk {
    int device;
    kk_stream_t stream;
    kk_gemm_t *gemm;
    kk_const_mirror_t *consts; /* host weights mirrored on the device */
    int n_consts, cap_consts;
    void *dev_scratch; /* im2col columns; grows on warm-up */
    size_t dev_scratch_bytes;
    void *host_stage; /* pinned staging for CPU fallback nodes */
    size_t host_stage_bytes;
    void *host_scratch; /* CPU kernels' scratch for fallback nodes */
    size_t host_scratch_bytes;
    long native_runs, fallback_runs; /* counters for tests and logs */
} kk_bk_t;

/* 1 when p is device memory (cudaPointerGetAttributes). */
int kk_bk_is_device(const void *p);

/* Device pointer for an input tensor: device data as is, host float32
 * constants through the mirror cache. NULL (no error) when the tensor is
 * host data of another dtype: the caller then falls back to the CPU. */
const void *kk_bk_dev_input(kk_bk_t *c, const ke_tensor_t *t);

/* Device scratch of at least `bytes` (grows; contents undefined). */
void *kk_bk_scratch(kk_bk_t *c, size_t bytes);

/* Runs a node natively. KE_ERR_UNSUPPORTED (before any work) means "no
 * native kernel for this node as configured": the caller falls back. */
ke_status_t kk_bk_run_native(kk_bk_t *c, const ke_node_info_t *node,
                             const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                             int n_out, char *err, size_t errsz);

#endif
