/* ke_backend_registry: the ONE place that knows which backends were
 * compiled in (the only #ifdef KINFER_CUDA of the engine).
 *
 * CUDA hook: the CUDA backend lands as kernels/kk_backend.h declaring
 *   ke_backend_t *kk_cuda_backend_new(int n_threads, char *err, size_t errsz);
 * Replace the "not available yet" branch below with a call to it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ke_backend.h"

#ifdef KINFER_CUDA
#include "kk_device.h"
#endif

static int cuda_present(void) {
#ifdef KINFER_CUDA
    return kk_device_count() > 0;
#else
    return 0;
#endif
}

ke_backend_t *ke_backend_new(const char *device, int n_threads, char *err, size_t errsz) {
    if (!device || !*device || strcmp(device, "cpu") == 0) return ke_cpu_backend_new(n_threads, err, errsz);
    if (strcmp(device, "auto") == 0) {
        /* the CUDA backend is not plugged in yet: auto means cpu */
        return ke_cpu_backend_new(n_threads, err, errsz);
    }
    if (strcmp(device, "cuda") == 0) {
        if (!cuda_present()) {
#ifdef KINFER_CUDA
            if (err) snprintf(err, errsz, "device cuda: no CUDA device found");
#else
            if (err) snprintf(err, errsz, "device cuda: this build has no CUDA backend");
#endif
            return NULL;
        }
        if (err) snprintf(err, errsz, "device cuda: the CUDA engine backend is not available yet");
        return NULL;
    }
    if (err) snprintf(err, errsz, "unknown device '%s' (cpu, cuda, auto)", device);
    return NULL;
}

void ke_backend_free(ke_backend_t *be) {
    if (!be) return;
    if (be->iface && be->iface->destroy) be->iface->destroy(be->ctx);
    ke_threadpool_free(be->pool);
    free(be);
}
