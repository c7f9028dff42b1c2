// Internal to kernels/: error checking shared by the .cu files.
#ifndef KK_CHECK_CUH
#define KK_CHECK_CUH

#include <cuda_runtime.h>

#include "kk_cuda.h"

// Records the error text for kk_last_error_str() and returns the status.
kk_status_t kk_record_cuda_error(cudaError_t err, const char *what);
kk_status_t kk_record_error(kk_status_t st, const char *what);

#define KK_CUDA_CHECK(call)                                                  \
    do {                                                                     \
        cudaError_t kk_err_ = (call);                                        \
        if (kk_err_ != cudaSuccess)                                          \
            return kk_record_cuda_error(kk_err_, #call);                     \
    } while (0)

// After a kernel launch: launch-configuration errors are reported here;
// execution errors surface at the next synchronising call.
#define KK_LAUNCH_CHECK(name) KK_CUDA_CHECK(cudaGetLastError())

static inline unsigned kk_blocks_for(int64_t n, unsigned threads) {
    int64_t b = (n + threads - 1) / threads;
    if (b < 1)
        b = 1;
    if (b > 65535 * 8)
        b = 65535 * 8; // grid-stride loops cover the rest
    return (unsigned)b;
}

#endif
