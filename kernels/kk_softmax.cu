// kk_softmax: softmax / log-softmax, one block per row.
#include <cuda_runtime.h>
#include <math.h>

#include "kk_blockreduce.cuh"
#include "kk_check.cuh"
#include "kk_rownorm.h"

namespace {

__global__ void softmax_rows(const float *__restrict__ x, float *y, int64_t cols, int log_sm) {
    __shared__ float smem[32];
    const float *xr = x + blockIdx.x * cols;
    float *yr = y + blockIdx.x * cols;
    float m = -INFINITY;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
        m = fmaxf(m, xr[c]);
    m = kk_block_max(m, smem);
    float s = 0.f;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
        s += expf(xr[c] - m);
    s = kk_block_sum(s, smem);
    if (log_sm) {
        float ls = logf(s);
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
            yr[c] = xr[c] - m - ls;
    } else {
        float inv = 1.f / s;
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
            yr[c] = expf(xr[c] - m) * inv;
    }
}

} // namespace

extern "C" kk_status_t kk_softmax_launch(const float *d_x, float *d_y, int64_t rows, int64_t cols,
                                         int log_softmax, kk_stream_t stream) {
    if (rows < 0 || cols <= 0 || rows > 0x7fffffff || !d_x || !d_y)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_softmax: bad arguments");
    if (rows == 0)
        return KK_OK;
    unsigned threads = cols >= 1024 ? 512 : (cols >= 256 ? 256 : 128);
    softmax_rows<<<(unsigned)rows, threads, 0, stream>>>(d_x, d_y, cols, log_softmax);
    KK_LAUNCH_CHECK("softmax");
    return KK_OK;
}
