// kk_device: CUDA device discovery. Machines without a driver or a GPU
// report zero devices; any CUDA error here means "no GPU", never a failure.
#include <cuda_runtime.h>

#include "kk_device.h"

extern "C" int kk_device_count(void) {
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        (void)cudaGetLastError(); // clear the sticky error
        return 0;
    }
    return n;
}
