// Internal: warp and block reductions (sum, max) used by the row kernels.
#ifndef KK_BLOCKREDUCE_CUH
#define KK_BLOCKREDUCE_CUH

#include <cuda_runtime.h>

__device__ __forceinline__ float kk_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float kk_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Every thread of the block gets the result. `smem` holds >= 32 floats.
// blockDim.x must be a multiple of 32.
__device__ __forceinline__ float kk_block_sum(float v, float *smem) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = kk_warp_sum(v);
    __syncthreads(); // smem may still be read from a previous reduction
    if (lane == 0)
        smem[warp] = v;
    __syncthreads();
    v = lane < nwarps ? smem[lane] : 0.f;
    return kk_warp_sum(v);
}

__device__ __forceinline__ float kk_block_max(float v, float *smem) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = kk_warp_max(v);
    __syncthreads();
    if (lane == 0)
        smem[warp] = v;
    __syncthreads();
    v = lane < nwarps ? smem[lane] : -INFINITY;
    return kk_warp_max(v);
}

#endif
