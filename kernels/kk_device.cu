// kk_device: device discovery, streams and memory. Machines without a driver
// or a GPU report zero devices; any CUDA error in discovery means "no GPU".
#include <cstdio>
#include <cstring>

#include <cuda_runtime.h>

#include "kk_check.cuh"
#include "kk_cuda.h"
#include "kk_device.h"

static thread_local char kk_errbuf[256];

extern "C" const char *kk_status_str(kk_status_t st) {
    switch (st) {
    case KK_OK: return "ok";
    case KK_ERR_INVALID_ARG: return "invalid argument";
    case KK_ERR_NO_DEVICE: return "no CUDA device";
    case KK_ERR_CUDA: return "CUDA error";
    case KK_ERR_CUBLAS: return "cuBLAS error";
    case KK_ERR_NOMEM: return "out of device memory";
    }
    return "unknown";
}

extern "C" const char *kk_last_error_str(void) {
    return kk_errbuf;
}

kk_status_t kk_record_cuda_error(cudaError_t err, const char *what) {
    snprintf(kk_errbuf, sizeof(kk_errbuf), "%s: %s", what, cudaGetErrorString(err));
    if (err == cudaErrorMemoryAllocation)
        return KK_ERR_NOMEM;
    if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver)
        return KK_ERR_NO_DEVICE;
    return KK_ERR_CUDA;
}

kk_status_t kk_record_error(kk_status_t st, const char *what) {
    snprintf(kk_errbuf, sizeof(kk_errbuf), "%s", what);
    return st;
}

extern "C" int kk_device_count(void) {
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        (void)cudaGetLastError(); // clear the error: no driver means no GPU
        return 0;
    }
    return n;
}

extern "C" kk_status_t kk_device_select(int index) {
    if (index < 0 || index >= kk_device_count())
        return kk_record_error(KK_ERR_NO_DEVICE, "kk_device_select: no such device");
    KK_CUDA_CHECK(cudaSetDevice(index));
    return KK_OK;
}

extern "C" kk_status_t kk_device_mem_info(size_t *free_bytes, size_t *total_bytes) {
    if (!free_bytes || !total_bytes)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_device_mem_info: NULL output");
    KK_CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
    return KK_OK;
}

extern "C" kk_status_t kk_device_name(int index, char *buf, size_t size) {
    cudaDeviceProp prop;
    if (!buf || size == 0)
        return kk_record_error(KK_ERR_INVALID_ARG, "kk_device_name: no buffer");
    KK_CUDA_CHECK(cudaGetDeviceProperties(&prop, index));
    snprintf(buf, size, "%s", prop.name);
    return KK_OK;
}

extern "C" kk_status_t kk_stream_new(kk_stream_t *out) {
    cudaStream_t s;
    *out = NULL;
    KK_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    *out = s;
    return KK_OK;
}

extern "C" void kk_stream_free(kk_stream_t s) {
    if (s)
        (void)cudaStreamDestroy(s);
}

extern "C" kk_status_t kk_stream_sync(kk_stream_t s) {
    KK_CUDA_CHECK(cudaStreamSynchronize(s));
    return KK_OK;
}

extern "C" kk_status_t kk_event_new(kk_event_t *out) {
    cudaEvent_t e;
    *out = NULL;
    KK_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    *out = e;
    return KK_OK;
}

extern "C" void kk_event_free(kk_event_t e) {
    if (e)
        (void)cudaEventDestroy(e);
}

extern "C" kk_status_t kk_event_record(kk_event_t e, kk_stream_t s) {
    KK_CUDA_CHECK(cudaEventRecord(e, s));
    return KK_OK;
}

extern "C" kk_status_t kk_event_wait(kk_stream_t s, kk_event_t e) {
    KK_CUDA_CHECK(cudaStreamWaitEvent(s, e, 0));
    return KK_OK;
}

extern "C" kk_status_t kk_event_sync(kk_event_t e) {
    KK_CUDA_CHECK(cudaEventSynchronize(e));
    return KK_OK;
}

extern "C" kk_status_t kk_malloc(void **out, size_t bytes) {
    *out = NULL;
    KK_CUDA_CHECK(cudaMalloc(out, bytes ? bytes : 1));
    return KK_OK;
}

extern "C" void kk_free(void *d_ptr) {
    if (d_ptr)
        (void)cudaFree(d_ptr);
}

extern "C" kk_status_t kk_host_alloc(void **out, size_t bytes) {
    *out = NULL;
    KK_CUDA_CHECK(cudaMallocHost(out, bytes ? bytes : 1));
    return KK_OK;
}

extern "C" void kk_host_free(void *h_ptr) {
    if (h_ptr)
        (void)cudaFreeHost(h_ptr);
}

extern "C" kk_status_t kk_memcpy_h2d(void *d_dst, const void *h_src, size_t bytes, kk_stream_t s) {
    KK_CUDA_CHECK(cudaMemcpyAsync(d_dst, h_src, bytes, cudaMemcpyHostToDevice, s));
    return KK_OK;
}

extern "C" kk_status_t kk_memcpy_d2h(void *h_dst, const void *d_src, size_t bytes, kk_stream_t s) {
    KK_CUDA_CHECK(cudaMemcpyAsync(h_dst, d_src, bytes, cudaMemcpyDeviceToHost, s));
    return KK_OK;
}

extern "C" kk_status_t kk_memcpy_d2d(void *d_dst, const void *d_src, size_t bytes, kk_stream_t s) {
    KK_CUDA_CHECK(cudaMemcpyAsync(d_dst, d_src, bytes, cudaMemcpyDeviceToDevice, s));
    return KK_OK;
}

extern "C" kk_status_t kk_memset(void *d_dst, int value, size_t bytes, kk_stream_t s) {
    KK_CUDA_CHECK(cudaMemsetAsync(d_dst, value, bytes, s));
    return KK_OK;
}
