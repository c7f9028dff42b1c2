/* Internal to the CUDA backend (kk_backend.c, kk_backend_ops.c). */
#ifndef KK_BACKEND_IMPL_H
#define KK_BACKEND_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "kk_backend.h"
#include "kk_cuda.h"
#include "kk_gemm.h"

/* A host constant's device copy: kind KK_GEMM_T_F32 is the plain mirror,
 * F16/BF16 the converted GEMM operand. Keyed by (host, bytes, kind). */
typedef struct kk_const_mirror {
    const void *host;
    size_t bytes;
    kk_gemm_type_t kind;
    void *dev;
} kk_const_mirror_t;

/* Device scratch slots: one per concurrent use inside one node. */
enum { KK_SCRATCH_COL = 0, KK_SCRATCH_A16, KK_SCRATCH_B16, KK_SCRATCH_N };

typedef struct kk_bk {
    int device;
    ke_precision_t precision;
    kk_gemm_type_t gemm_type; /* operand type for GEMMs (F32 unless FP16/BF16) */
    kk_stream_t stream;       /* compute: every kernel, cuBLAS, output copies */
    kk_stream_t copy_stream;  /* host-to-device input copies (double buffering) */
    kk_event_t events[KE_BACKEND_EVENTS];
    kk_gemm_t *gemm;
    kk_const_mirror_t *consts; /* host weights mirrored on the device */
    int n_consts, cap_consts;
    void *scratch[KK_SCRATCH_N]; /* grow on warm-up; contents undefined */
    size_t scratch_bytes[KK_SCRATCH_N];
    int *d_flag;      /* device error flag (Gather index range) */
    int *h_flag;      /* its pinned host copy */
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

/* Device copy of host float32 constant `host` (bytes long) converted to
 * `kind` (F16/BF16), made once from its F32 mirror `dev_f32` and cached.
 * NULL on failure (the caller falls back). */
const void *kk_bk_const_converted(kk_bk_t *c, const void *host, size_t bytes, const float *dev_f32,
                                  kk_gemm_type_t kind);

/* Device scratch slot `slot` of at least `bytes` (grows after a stream
 * sync; earlier pointers to that slot become invalid). NULL on failure. */
void *kk_bk_scratch(kk_bk_t *c, int slot, size_t bytes);

/* Runs a node natively. KE_ERR_UNSUPPORTED (before any work) means "no
 * native kernel for this node as configured": the caller falls back. */
ke_status_t kk_bk_run_native(kk_bk_t *c, const ke_node_info_t *node, const ke_tensor_t *const *in,
                             int n_in, ke_tensor_t *const *out, int n_out, char *err, size_t errsz);

#endif
