// kk_movement: general strided copy and gather.
#include <cuda_runtime.h>

#include "kk_check.cuh"
#include "kk_movement.h"

namespace {

struct Dims8 {
    int64_t d[KK_MAX_RANK];
};

template <typename T>
__global__ void strided_copy(const T *__restrict__ src, int64_t soff, Dims8 ss, T *__restrict__ dst,
                             int64_t doff, Dims8 ds, Dims8 shape, int rank, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t rem = i, si = soff, di = doff;
        for (int k = rank - 1; k >= 0; k--) {
            int64_t c = rem % shape.d[k];
            rem /= shape.d[k];
            si += c * ss.d[k];
            di += c * ds.d[k];
        }
        dst[di] = src[si];
    }
}

template <typename T>
__global__ void gather(const T *__restrict__ data, const int64_t *__restrict__ indices,
                       T *__restrict__ out, int64_t outer, int64_t axis_dim, int64_t m,
                       int64_t inner, int *err) {
    int64_t n = outer * m * inner;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t in = i % inner, j = (i / inner) % m, o = i / (inner * m);
        int64_t idx = indices[j];
        if (idx < 0)
            idx += axis_dim;
        if (idx < 0 || idx >= axis_dim) {
            out[i] = T();
            if (err)
                *err = 1;
            continue;
        }
        out[i] = data[(o * axis_dim + idx) * inner + in];
    }
}

template <typename T>
void launch_copy(const void *src, int64_t soff, const Dims8 &ss, void *dst, int64_t doff,
                 const Dims8 &ds, const Dims8 &shape, int rank, int64_t n, kk_stream_t stream) {
    const unsigned threads = 256;
    strided_copy<T><<<kk_blocks_for(n, threads), threads, 0, stream>>>(
        (const T *)src, soff, ss, (T *)dst, doff, ds, shape, rank, n);
}

template <typename T>
void launch_gather(const void *data, const int64_t *indices, void *out, int64_t outer,
                   int64_t axis_dim, int64_t m, int64_t inner, int *err, kk_stream_t stream) {
    const unsigned threads = 256;
    gather<T><<<kk_blocks_for(outer * m * inner, threads), threads, 0, stream>>>(
        (const T *)data, indices, (T *)out, outer, axis_dim, m, inner, err);
}

} // namespace

extern "C" kk_status_t kk_strided_copy(const void *d_src, int64_t src_offset,
                                       const int64_t *src_strides, void *d_dst, int64_t dst_offset,
                                       const int64_t *dst_strides, const int64_t *shape, int rank,
                                       size_t elem_size, kk_stream_t stream) {
    if (rank < 0 || rank > KK_MAX_RANK || !d_src || !d_dst)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_movement: bad arguments");
    Dims8 ss = {}, ds = {}, sh = {};
    int64_t n = 1;
    for (int k = 0; k < rank; k++) {
        if (shape[k] < 0)
            return kk_record_error(KK_ERR_INVALID_ARG, "kk_movement: bad arguments");
        ss.d[k] = src_strides[k];
        ds.d[k] = dst_strides[k];
        sh.d[k] = shape[k];
        n *= shape[k];
    }
    if (n == 0)
        return KK_OK;
    switch (elem_size) {
    case 1:
        launch_copy<uint8_t>(d_src, src_offset, ss, d_dst, dst_offset, ds, sh, rank, n, stream);
        break;
    case 2:
        launch_copy<uint16_t>(d_src, src_offset, ss, d_dst, dst_offset, ds, sh, rank, n, stream);
        break;
    case 4:
        launch_copy<uint32_t>(d_src, src_offset, ss, d_dst, dst_offset, ds, sh, rank, n, stream);
        break;
    case 8:
        launch_copy<uint64_t>(d_src, src_offset, ss, d_dst, dst_offset, ds, sh, rank, n, stream);
        break;
    default: return kk_record_error(KK_ERR_INVALID_ARG, "kk_movement: bad arguments");
    }
    KK_LAUNCH_CHECK("strided_copy");
    return KK_OK;
}

extern "C" kk_status_t kk_gather_launch(const void *d_data, const int64_t *d_indices, void *d_out,
                                        int64_t outer, int64_t axis_dim, int64_t m, int64_t inner,
                                        size_t elem_size, int *d_error, kk_stream_t stream) {
    if (outer < 0 || axis_dim <= 0 || m < 0 || inner <= 0 || !d_data || !d_indices || !d_out)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_movement: bad arguments");
    if (outer == 0 || m == 0)
        return KK_OK;
    switch (elem_size) {
    case 1:
        launch_gather<uint8_t>(d_data, d_indices, d_out, outer, axis_dim, m, inner, d_error,
                               stream);
        break;
    case 2:
        launch_gather<uint16_t>(d_data, d_indices, d_out, outer, axis_dim, m, inner, d_error,
                                stream);
        break;
    case 4:
        launch_gather<uint32_t>(d_data, d_indices, d_out, outer, axis_dim, m, inner, d_error,
                                stream);
        break;
    case 8:
        launch_gather<uint64_t>(d_data, d_indices, d_out, outer, axis_dim, m, inner, d_error,
                                stream);
        break;
    default: return kk_record_error(KK_ERR_INVALID_ARG, "kk_movement: bad arguments");
    }
    KK_LAUNCH_CHECK("gather");
    return KK_OK;
}
