/* kk_convert: float32 to the reduced-precision GEMM operand types, round to
 * nearest even (FP16 overflows to +-inf beyond 65504; BF16 keeps the FP32
 * range; NaN stays NaN). Asynchronous on `stream`. d_dst holds n 2-byte
 * elements. kk_half_bits_to_float / kk_float_to_bf16_bits are the host
 * references the tests compare against (no CUDA call). */
#ifndef KK_CONVERT_H
#define KK_CONVERT_H

#include "kk_cuda.h"
#include "kk_gemm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* type: KK_GEMM_T_F16 or KK_GEMM_T_BF16. */
kk_status_t kk_convert_launch(kk_gemm_type_t type, const float *d_src, void *d_dst, int64_t n,
                              kk_stream_t stream);

/* Host references. */
float kk_half_bits_to_float(uint16_t h);
uint16_t kk_float_to_bf16_bits(float f);
float kk_bf16_bits_to_float(uint16_t b);

#ifdef __cplusplus
}
#endif

#endif
