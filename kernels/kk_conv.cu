// kk_conv: im2col and 2-D pooling (NCHW, float32).
#include <cuda_runtime.h>
#include <math.h>

#include "kk_check.cuh"
#include "kk_conv.h"

namespace {

__global__ void im2col_kernel(const float *__restrict__ img0, int64_t img_stride, int64_t images,
                              kk_conv2d_geom_t g, float *__restrict__ col) {
    int64_t cols = g.oh * g.ow;
    int64_t per = g.c * g.kh * g.kw * cols, n = per * images;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        const float *img = img0 + (i / per) * img_stride;
        int64_t pix = i % cols, row = (i % per) / cols;
        int64_t ox = pix % g.ow, oy = pix / g.ow;
        int64_t j = row % g.kw, ki = (row / g.kw) % g.kh, c = row / (g.kw * g.kh);
        int64_t y = oy * g.stride_h - g.pad_t + ki * g.dil_h;
        int64_t x = ox * g.stride_w - g.pad_l + j * g.dil_w;
        col[i] = (y >= 0 && y < g.h && x >= 0 && x < g.w) ? img[(c * g.h + y) * g.w + x] : 0.f;
    }
}

__global__ void pool_kernel(kk_pool_kind_t kind, const float *__restrict__ x, float *__restrict__ y,
                            int64_t planes, kk_conv2d_geom_t g, int count_include_pad) {
    int64_t per = g.oh * g.ow, n = planes * per;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t p = i / per, pix = i % per;
        int64_t ox = pix % g.ow, oy = pix / g.ow;
        const float *plane = x + p * g.h * g.w;
        float acc = kind == KK_POOL_MAX ? -INFINITY : 0.f;
        int64_t count = 0, padded = 0;
        for (int64_t ki = 0; ki < g.kh; ki++) {
            int64_t yy = oy * g.stride_h - g.pad_t + ki * g.dil_h;
            for (int64_t j = 0; j < g.kw; j++) {
                int64_t xx = ox * g.stride_w - g.pad_l + j * g.dil_w;
                // the window as clipped to the padded input, for count_include_pad
                if (yy >= -g.pad_t && yy < g.h + g.pad_b && xx >= -g.pad_l && xx < g.w + g.pad_r)
                    padded++;
                if (yy < 0 || yy >= g.h || xx < 0 || xx >= g.w)
                    continue;
                float v = plane[yy * g.w + xx];
                acc = kind == KK_POOL_MAX ? fmaxf(acc, v) : acc + v;
                count++;
            }
        }
        if (kind == KK_POOL_AVG) {
            int64_t div = count_include_pad ? padded : count;
            acc = div > 0 ? acc / (float)div : 0.f;
        }
        y[i] = acc;
    }
}

} // namespace

extern "C" kk_status_t kk_conv2d_out_size(kk_conv2d_geom_t *g) {
    if (g->h <= 0 || g->w <= 0 || g->kh <= 0 || g->kw <= 0 || g->stride_h <= 0 ||
        g->stride_w <= 0 || g->dil_h <= 0 || g->dil_w <= 0 || g->pad_t < 0 || g->pad_l < 0 ||
        g->pad_b < 0 || g->pad_r < 0)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_conv: bad arguments");
    int64_t ekh = (g->kh - 1) * g->dil_h + 1, ekw = (g->kw - 1) * g->dil_w + 1;
    int64_t hh = g->h + g->pad_t + g->pad_b - ekh, ww = g->w + g->pad_l + g->pad_r - ekw;
    if (hh < 0 || ww < 0)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_conv: bad arguments");
    g->oh = hh / g->stride_h + 1;
    g->ow = ww / g->stride_w + 1;
    return KK_OK;
}

extern "C" kk_status_t kk_im2col_launch(const float *d_img, const kk_conv2d_geom_t *g, float *d_col,
                                        kk_stream_t stream) {
    return kk_im2col_batch_launch(d_img, 0, 1, g, d_col, stream);
}

extern "C" kk_status_t kk_im2col_batch_launch(const float *d_img, int64_t img_stride,
                                              int64_t images, const kk_conv2d_geom_t *g,
                                              float *d_col, kk_stream_t stream) {
    if (!d_img || !d_col || !g || g->oh <= 0 || g->ow <= 0 || g->c <= 0 || images < 0)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_conv: bad arguments");
    if (images == 0)
        return KK_OK;
    int64_t n = g->c * g->kh * g->kw * g->oh * g->ow * images;
    const unsigned threads = 256;
    im2col_kernel<<<kk_blocks_for(n, threads), threads, 0, stream>>>(d_img, img_stride, images, *g,
                                                                     d_col);
    KK_LAUNCH_CHECK("im2col");
    return KK_OK;
}

extern "C" kk_status_t kk_pool2d_launch(kk_pool_kind_t kind, const float *d_x, float *d_y,
                                        int64_t planes, const kk_conv2d_geom_t *g,
                                        int count_include_pad, kk_stream_t stream) {
    if (!d_x || !d_y || !g || planes < 0 || g->oh <= 0 || g->ow <= 0)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_conv: bad arguments");
    if (planes == 0)
        return KK_OK;
    int64_t n = planes * g->oh * g->ow;
    const unsigned threads = 256;
    pool_kernel<<<kk_blocks_for(n, threads), threads, 0, stream>>>(kind, d_x, d_y, planes, *g,
                                                                   count_include_pad);
    KK_LAUNCH_CHECK("pool2d");
    return KK_OK;
}
