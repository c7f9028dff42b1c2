/* kk_backend: the CUDA backend behind the engine's backend interface
 * (engine/ke_backend.h). Compiled only when KINFER_CUDA; the engine's
 * backend registry is the one caller.
 *
 * Memory: the plan's arena and scratch are device memory; graph inputs are
 * uploaded by the plan (iface->device_memory), outputs downloaded. Constant
 * float32 tensors (weights) that live in host memory are mirrored on the
 * device once, on first use (the plan's warm-up run), and kept for the
 * backend's life. Ops run natively where a kernel exists (GEMMs on cuBLAS,
 * the rest in the kernels/ .cu files); any other node runs on the CPU kernels with
 * its inputs downloaded to and outputs uploaded from host staging buffers,
 * so every model the CPU backend runs also runs here.
 *
 * Threading: one plan (one thread) per backend; one CUDA stream each. */
#ifndef KK_BACKEND_H
#define KK_BACKEND_H

#include <stddef.h>

#include "ke_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kk_backend_params {
    int device;       /* CUDA device index (default 0) */
    int tf32;         /* 1: TF32 tensor-core GEMMs (opt-in; rtol ~5e-3) */
    int n_threads;    /* host threads for CPU fallback nodes; <= 0: all */
} kk_backend_params_t;

kk_backend_params_t kk_backend_default_params(void);

/* NULL + err when there is no device or CUDA/cuBLAS setup fails. Caller
 * frees with ke_backend_free(). Loading thread. */
ke_backend_t *kk_cuda_backend_new(const kk_backend_params_t *params, char *err, size_t errsz);

/* Free device memory (bytes) of the backend's device, for batch sizing;
 * 0 on error. Any thread. */
size_t kk_backend_free_memory(const ke_backend_t *be);

#ifdef __cplusplus
}
#endif

#endif
