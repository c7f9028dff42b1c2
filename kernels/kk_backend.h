/* kk_backend: the CUDA backend behind the engine's backend interface
 * (engine/ke_backend.h). Compiled only when KINFER_CUDA; the engine's
 * backend registry is the one caller.
 *
 * Memory: the plan's arena and scratch are device memory; graph inputs are
 * copied in by the plan (iface->device_memory; with the async hooks from
 * pinned staging on a copy stream, double buffered), outputs copied out
 * through pinned staging. Constant float32 tensors (weights) that live in
 * host memory are mirrored on the device once, on first use (the plan's
 * warm-up run), and kept for the backend's life; with FP16/BF16 precision
 * the GEMM weight operands are also converted once, on the device, and
 * cached beside the mirror. Host tensors of other dtypes are never mirrored
 * (the plan recomputes shape-arithmetic integers per batch in place, so a
 * cached copy would go stale): nodes reading them run on the CPU. Ops run
 * natively where a kernel exists (GEMMs on cuBLAS, the rest in the kernels/
 * .cu files); any other node runs on the CPU kernels with its inputs
 * downloaded to and outputs uploaded from pinned staging, so every model
 * the CPU backend runs also runs here.
 *
 * Threading: one plan (one thread) per backend; every entry point makes the
 * backend's device current for the calling thread first (the batcher's
 * engine thread is not the loading thread). Two CUDA streams: compute and
 * copy (host-to-device input copies). */
#ifndef KK_BACKEND_H
#define KK_BACKEND_H

#include <stddef.h>

#include "ke_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kk_backend_params {
    int device;               /* CUDA device index (default 0) */
    ke_precision_t precision; /* Gemm/MatMul/Conv compute precision (default FP32) */
    int n_threads;            /* host threads for CPU fallback nodes; <= 0: all */
} kk_backend_params_t;

kk_backend_params_t kk_backend_default_params(void);

/* NULL + err when there is no device or CUDA/cuBLAS setup fails. Caller
 * frees with ke_backend_free(). Loading thread. */
ke_backend_t *kk_cuda_backend_new(const kk_backend_params_t *params, char *err, size_t errsz);

/* Free device memory (bytes) of the backend's device, for batch sizing;
 * 0 on error. Any thread. */
size_t kk_backend_free_memory(const ke_backend_t *be);

/* Times `iters` plain cuBLAS GEMMs C[m,n] = A[m,k] B[k,n] (row-major,
 * sgemm for FP32/TF32, GemmEx with FP16/BF16 operands) on device `index`
 * with CUDA events after a warm-up; *sec = mean seconds per GEMM; name gets
 * the device name. For `kinfer bench gemm`. Loading thread. */
ke_status_t kk_bench_gemm(int index, ke_precision_t precision, int m, int n, int k, int iters,
                          double *sec, char *name, size_t name_size, char *err, size_t errsz);

#ifdef __cplusplus
}
#endif

#endif
