/* kk_conv: 2-D convolution helpers for NCHW float32 tensors.
 *
 * Conv runs as im2col + GEMM (cuBLAS, see kk_gemm.h): for image n and group
 * g, kk_im2col_launch writes the column matrix [C/g * kh * kw, oh * ow] and
 * the GEMM multiplies the group's [M/g, C/g*kh*kw] weights by it. Pooling
 * kernels work directly on NCHW. Pads are (top, left, bottom, right) as in
 * ONNX's pads = [x1_begin, x2_begin, x1_end, x2_end]. */
#ifndef KK_CONV_H
#define KK_CONV_H

#include "kk_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kk_conv2d_geom {
    int64_t c, h, w; /* input channels (of this group), height, width */
    int64_t kh, kw;  /* kernel */
    int64_t stride_h, stride_w;
    int64_t dil_h, dil_w;
    int64_t pad_t, pad_l, pad_b, pad_r;
    int64_t oh, ow; /* output size: kk_conv2d_out_size() */
} kk_conv2d_geom_t;

/* Fills g->oh, g->ow from the other fields; KK_ERR_INVALID_ARG when the
 * output would be empty or a field is out of range. Host-only. */
kk_status_t kk_conv2d_out_size(kk_conv2d_geom_t *g);

/* d_col[(c*kh + i)*kw + j, y*ow + x] = d_img[c, y*sh - pt + i*dh, x*sw - pl + j*dw]
 * (0 outside the image). d_img points at the group's first channel of one
 * image ([c, h, w] contiguous). */
kk_status_t kk_im2col_launch(const float *d_img, const kk_conv2d_geom_t *g, float *d_col,
                             kk_stream_t stream);

/* The same for `images` images at once: image i starts at d_img + i *
 * img_stride and its column matrix at d_col + i * (c*kh*kw*oh*ow), ready for
 * one strided-batched GEMM. */
kk_status_t kk_im2col_batch_launch(const float *d_img, int64_t img_stride, int64_t images,
                                   const kk_conv2d_geom_t *g, float *d_col, kk_stream_t stream);

typedef enum kk_pool_kind { KK_POOL_MAX = 0, KK_POOL_AVG } kk_pool_kind_t;

/* Pooling over [n*c] planes of h x w (geometry's c is ignored; pass planes).
 * Average pooling divides by the window size clipped to the image unless
 * count_include_pad != 0 (ONNX semantics). */
kk_status_t kk_pool2d_launch(kk_pool_kind_t kind, const float *d_x, float *d_y, int64_t planes,
                             const kk_conv2d_geom_t *g, int count_include_pad, kk_stream_t stream);

#ifdef __cplusplus
}
#endif

#endif
