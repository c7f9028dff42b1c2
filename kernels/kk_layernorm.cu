// kk_layernorm: LayerNormalization over the innermost axis, one block per
// row, two passes (mean, then centred variance) for accuracy.
#include <cuda_runtime.h>
#include <math.h>

#include "kk_blockreduce.cuh"
#include "kk_check.cuh"
#include "kk_rownorm.h"

namespace {

__global__ void layernorm_rows(const float *__restrict__ x, const float *__restrict__ gamma,
                               const float *__restrict__ beta, float *y, int64_t cols, float eps) {
    __shared__ float smem[32];
    const float *xr = x + blockIdx.x * cols;
    float *yr = y + blockIdx.x * cols;
    float s = 0.f;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
        s += xr[c];
    float mean = kk_block_sum(s, smem) / (float)cols;
    float v = 0.f;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
        float d = xr[c] - mean;
        v += d * d;
    }
    float rstd = rsqrtf(kk_block_sum(v, smem) / (float)cols + eps);
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
        float o = (xr[c] - mean) * rstd * gamma[c];
        yr[c] = beta ? o + beta[c] : o;
    }
}

} // namespace

extern "C" kk_status_t kk_layernorm_launch(const float *d_x, const float *d_gamma,
                                           const float *d_beta, float *d_y, int64_t rows,
                                           int64_t cols, float eps, kk_stream_t stream) {
    if (rows < 0 || cols <= 0 || rows > 0x7fffffff || !d_x || !d_gamma || !d_y)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_layernorm: bad arguments");
    if (rows == 0)
        return KK_OK;
    unsigned threads = cols >= 1024 ? 512 : (cols >= 256 ? 256 : 128);
    layernorm_rows<<<(unsigned)rows, threads, 0, stream>>>(d_x, d_gamma, d_beta, d_y, cols, eps);
    KK_LAUNCH_CHECK("layernorm");
    return KK_OK;
}
