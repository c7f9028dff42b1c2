/* ke_backend_registry: the ONE place that knows which backends were
 * compiled in (the only #ifdef KINFER_CUDA of the engine).
 *
 * device strings: "cpu"; "cuda" or "cuda:N" (fails without that device);
 * "auto" (CUDA device 0 when compiled in and present, else CPU). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ke_backend.h"

#ifdef KINFER_CUDA
#include "kk_backend.h"
#include "kk_device.h"
#endif

static int cuda_count(void) {
#ifdef KINFER_CUDA
    return kk_device_count();
#else
    return 0;
#endif
}

static ke_backend_t *cuda_new(int index, int n_threads, char *err, size_t errsz) {
#ifdef KINFER_CUDA
    kk_backend_params_t p = kk_backend_default_params();
    p.device = index;
    p.n_threads = n_threads;
    return kk_cuda_backend_new(&p, err, errsz);
#else
    (void)index;
    (void)n_threads;
    if (err) snprintf(err, errsz, "device cuda: this build has no CUDA backend");
    return NULL;
#endif
}

int ke_backend_cuda_devices(void) { return cuda_count(); }

ke_backend_t *ke_backend_new(const char *device, int n_threads, char *err, size_t errsz) {
    if (!device || !*device || strcmp(device, "cpu") == 0) return ke_cpu_backend_new(n_threads, err, errsz);
    if (strcmp(device, "auto") == 0)
        return cuda_count() > 0 ? cuda_new(0, n_threads, err, errsz)
                                : ke_cpu_backend_new(n_threads, err, errsz);
    if (strncmp(device, "cuda", 4) == 0 && (device[4] == 0 || device[4] == ':')) {
        int index = 0;
        if (device[4] == ':') {
            char *end = NULL;
            long v = strtol(device + 5, &end, 10);
            if (!device[5] || *end || v < 0 || v > 1024) {
                if (err) snprintf(err, errsz, "device '%s': expected cuda or cuda:N", device);
                return NULL;
            }
            index = (int)v;
        }
        int n = cuda_count();
        if (index >= n) {
#ifdef KINFER_CUDA
            if (err) snprintf(err, errsz, "device %s: no such CUDA device (%d found)", device, n);
#else
            if (err) snprintf(err, errsz, "device %s: this build has no CUDA backend", device);
#endif
            return NULL;
        }
        return cuda_new(index, n_threads, err, errsz);
    }
    if (err) snprintf(err, errsz, "unknown device '%s' (cpu, cuda, cuda:N, auto)", device);
    return NULL;
}

void ke_backend_free(ke_backend_t *be) {
    if (!be) return;
    if (be->iface && be->iface->destroy) be->iface->destroy(be->ctx);
    ke_threadpool_free(be->pool);
    free(be);
}
