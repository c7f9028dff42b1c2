// kk_reduce: one thread per (outer, inner) output, looping over n. Adjacent
// threads read adjacent inner elements, so loads coalesce when inner > 1;
// for inner == 1 (reduce over the last axis) a block per row is used.
#include <cuda_runtime.h>
#include <math.h>

#include "kk_blockreduce.cuh"
#include "kk_check.cuh"
#include "kk_reduce.h"

namespace {

__global__ void reduce_cols(kk_reduce_op_t op, const float *__restrict__ x, float *y, int64_t outer,
                            int64_t n, int64_t inner) {
    int64_t total = outer * inner;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t o = i / inner, in = i % inner;
        const float *p = x + o * n * inner + in;
        float acc = op == KK_REDUCE_MAX ? -INFINITY : 0.f;
        for (int64_t k = 0; k < n; k++) {
            float v = p[k * inner];
            acc = op == KK_REDUCE_MAX ? fmaxf(acc, v) : acc + v;
        }
        y[i] = op == KK_REDUCE_MEAN ? acc / (float)n : acc;
    }
}

__global__ void reduce_rows(kk_reduce_op_t op, const float *__restrict__ x, float *y, int64_t n) {
    __shared__ float smem[32];
    const float *p = x + blockIdx.x * n;
    float acc = op == KK_REDUCE_MAX ? -INFINITY : 0.f;
    for (int64_t k = threadIdx.x; k < n; k += blockDim.x)
        acc = op == KK_REDUCE_MAX ? fmaxf(acc, p[k]) : acc + p[k];
    acc = op == KK_REDUCE_MAX ? kk_block_max(acc, smem) : kk_block_sum(acc, smem);
    if (threadIdx.x == 0)
        y[blockIdx.x] = op == KK_REDUCE_MEAN ? acc / (float)n : acc;
}

__global__ void argmax_cols(const float *__restrict__ x, int64_t *idx, int64_t outer, int64_t n,
                            int64_t inner) {
    int64_t total = outer * inner;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t o = i / inner, in = i % inner;
        const float *p = x + o * n * inner + in;
        float best = p[0];
        int64_t bi = 0;
        for (int64_t k = 1; k < n; k++) {
            float v = p[k * inner];
            if (v > best) {
                best = v;
                bi = k;
            }
        }
        idx[i] = bi;
    }
}

} // namespace

extern "C" kk_status_t kk_reduce_launch(kk_reduce_op_t op, const float *d_x, float *d_y,
                                        int64_t outer, int64_t n, int64_t inner,
                                        kk_stream_t stream) {
    if (outer < 0 || n <= 0 || inner <= 0 || !d_x || !d_y)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_reduce: bad arguments");
    if (outer == 0)
        return KK_OK;
    if (inner == 1 && n >= 64 && outer <= 0x7fffffff) {
        reduce_rows<<<(unsigned)outer, 256, 0, stream>>>(op, d_x, d_y, n);
    } else {
        const unsigned threads = 256;
        reduce_cols<<<kk_blocks_for(outer * inner, threads), threads, 0, stream>>>(op, d_x, d_y,
                                                                                   outer, n, inner);
    }
    KK_LAUNCH_CHECK("reduce");
    return KK_OK;
}

extern "C" kk_status_t kk_argmax_launch(const float *d_x, int64_t *d_idx, int64_t outer, int64_t n,
                                        int64_t inner, kk_stream_t stream) {
    if (outer < 0 || n <= 0 || inner <= 0 || !d_x || !d_idx)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_reduce: bad arguments");
    if (outer == 0)
        return KK_OK;
    const unsigned threads = 256;
    argmax_cols<<<kk_blocks_for(outer * inner, threads), threads, 0, stream>>>(d_x, d_idx, outer, n,
                                                                               inner);
    KK_LAUNCH_CHECK("argmax");
    return KK_OK;
}
