/* kk_cuda: status codes, streams and device memory for the CUDA kernels.
 *
 * Compiled only when KINFER_CUDA (the CUDA toolkit was found at build time).
 * Nothing here needs a driver to link: only cudart. Every function returns a
 * kk_status_t; on KK_ERR_CUDA the CUDA error string is available from
 * kk_last_error_str() for the calling thread's most recent failure.
 * All functions may be called from any thread; a stream must be used by
 * one thread at a time. Pointers named d_* are device memory. */
#ifndef KK_CUDA_H
#define KK_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kk_status {
    KK_OK = 0,
    KK_ERR_INVALID_ARG, /* bad shape, rank > KK_MAX_RANK, NULL pointer */
    KK_ERR_NO_DEVICE,   /* no driver or no GPU */
    KK_ERR_CUDA,        /* a CUDA runtime call or kernel launch failed */
    KK_ERR_CUBLAS,      /* a cuBLAS call failed */
    KK_ERR_NOMEM        /* cudaMalloc / cudaMallocHost failed */
} kk_status_t;

#define KK_MAX_RANK 8

/* Same types as cudaStream_t / cudaEvent_t, without including
 * cuda_runtime.h in C code. */
typedef struct CUstream_st *kk_stream_t;
typedef struct CUevent_st *kk_event_t;

const char *kk_status_str(kk_status_t st);
/* Text of the last CUDA/cuBLAS error seen by this thread ("" if none). */
const char *kk_last_error_str(void);

/* Makes device `index` current for the calling thread. */
kk_status_t kk_device_select(int index);
/* Free and total bytes of the current device (cudaMemGetInfo). */
kk_status_t kk_device_mem_info(size_t *free_bytes, size_t *total_bytes);
/* Device name into buf (for logs and bench output). */
kk_status_t kk_device_name(int index, char *buf, size_t size);

kk_status_t kk_stream_new(kk_stream_t *out);
void kk_stream_free(kk_stream_t s); /* NULL: no-op */
kk_status_t kk_stream_sync(kk_stream_t s);

/* Events (timing disabled: ordering only). kk_event_wait makes later work
 * on `s` wait for the event's last record; kk_event_sync blocks the host
 * until it completed and reports execution errors of the work before it.
 * An event never recorded counts as complete. */
kk_status_t kk_event_new(kk_event_t *out);
void kk_event_free(kk_event_t e); /* NULL: no-op */
kk_status_t kk_event_record(kk_event_t e, kk_stream_t s);
kk_status_t kk_event_wait(kk_stream_t s, kk_event_t e);
kk_status_t kk_event_sync(kk_event_t e);

/* Device memory: caller owns *out and frees it with kk_free. */
kk_status_t kk_malloc(void **out, size_t bytes);
void kk_free(void *d_ptr); /* NULL: no-op */
/* Pinned (page-locked) host memory for async copies; kk_host_free. */
kk_status_t kk_host_alloc(void **out, size_t bytes);
void kk_host_free(void *h_ptr);

kk_status_t kk_memcpy_h2d(void *d_dst, const void *h_src, size_t bytes, kk_stream_t s);
kk_status_t kk_memcpy_d2h(void *h_dst, const void *d_src, size_t bytes, kk_stream_t s);
kk_status_t kk_memcpy_d2d(void *d_dst, const void *d_src, size_t bytes, kk_stream_t s);
kk_status_t kk_memset(void *d_dst, int value, size_t bytes, kk_stream_t s);

#ifdef __cplusplus
}
#endif

#endif
