// kk_convert: float32 -> FP16 / BF16 operand conversion (grid-stride).
#include <cstring>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kk_check.cuh"
#include "kk_convert.h"

namespace {

__global__ void to_f16(const float *__restrict__ x, __half *__restrict__ y, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        y[i] = __float2half_rn(x[i]);
}

__global__ void to_bf16(const float *__restrict__ x, __nv_bfloat16 *__restrict__ y, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        y[i] = __float2bfloat16_rn(x[i]);
}

} // namespace

extern "C" kk_status_t kk_convert_launch(kk_gemm_type_t type, const float *d_src, void *d_dst,
                                         int64_t n, kk_stream_t stream) {
    if (n < 0 || !d_src || !d_dst || (type != KK_GEMM_T_F16 && type != KK_GEMM_T_BF16))
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_convert: bad arguments");
    if (n == 0)
        return KK_OK;
    const unsigned threads = 256;
    if (type == KK_GEMM_T_F16)
        to_f16<<<kk_blocks_for(n, threads), threads, 0, stream>>>(d_src, (__half *)d_dst, n);
    else
        to_bf16<<<kk_blocks_for(n, threads), threads, 0, stream>>>(d_src, (__nv_bfloat16 *)d_dst,
                                                                   n);
    KK_LAUNCH_CHECK("convert");
    return KK_OK;
}

extern "C" float kk_half_bits_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) { // inf / NaN
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) { // normal
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) { // zero
        bits = sign;
    } else { // subnormal: normalise
        int e = -1;
        do {
            man <<= 1;
            e++;
        } while (!(man & 0x400));
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

extern "C" uint16_t kk_float_to_bf16_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) // NaN: keep it quiet and NaN
        return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1); // round to nearest even
    return (uint16_t)(u >> 16);
}

extern "C" float kk_bf16_bits_to_float(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
