/* ke_backend_registry: the ONE place that knows which backends were
 * compiled in (the only #ifdef KINFER_CUDA of the engine).
 *
 * device strings: "cpu"; "cuda" or "cuda:N" (fails without that device);
 * "auto" (CUDA device 0 when compiled in and present, else CPU). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "ke_backend.h"

#ifdef KINFER_CUDA
#include "kk_backend.h"
#include "kk_device.h"
#endif

static const char *const k_prec_names[] = {"fp32", "tf32", "fp16", "bf16"};

ke_status_t ke_precision_parse(const char *s, ke_precision_t *out) {
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, k_prec_names[i]) == 0) {
            if (out)
                *out = (ke_precision_t)i;
            return KE_OK;
        }
    return KE_ERR_INVALID_ARG;
}

const char *ke_precision_name(ke_precision_t p) {
    return (unsigned)p < 4 ? k_prec_names[p] : "?";
}

static int cuda_count(void) {
#ifdef KINFER_CUDA
    return kk_device_count();
#else
    return 0;
#endif
}

static ke_backend_t *cuda_new(int index, int n_threads, ke_precision_t precision, char *err,
                              size_t errsz) {
#ifdef KINFER_CUDA
    kk_backend_params_t p = kk_backend_default_params();
    p.device = index;
    p.n_threads = n_threads;
    p.precision = precision;
    return kk_cuda_backend_new(&p, err, errsz);
#else
    (void)index;
    (void)n_threads;
    (void)precision;
    if (err)
        snprintf(err, errsz, "device cuda: this build has no CUDA backend");
    return NULL;
#endif
}

static ke_backend_t *cpu_new(int n_threads, ke_precision_t precision, char *err, size_t errsz) {
    if (precision != KE_PREC_FP32) {
        if (err)
            snprintf(err, errsz,
                     "precision %s: the cpu backend computes in fp32 only (use "
                     "precision fp32, or a cuda device)",
                     ke_precision_name(precision));
        return NULL;
    }
    return ke_cpu_backend_new(n_threads, err, errsz);
}

int ke_backend_cuda_devices(void) {
    return cuda_count();
}

int ke_device_is_cpu(const char *device) {
    if (!device || strcmp(device, "cpu") == 0)
        return 1;
    if (strcmp(device, "auto") == 0)
        return cuda_count() <= 0;
    return 0;
}

/* "cuda" / "cuda:N" -> index; -1 (err set) when malformed. */
static int cuda_index(const char *device, char *err, size_t errsz) {
    if (device[4] == 0)
        return 0;
    char *end = NULL;
    long v = strtol(device + 5, &end, 10);
    if (!device[5] || *end || v < 0 || v > 1024) {
        if (err)
            snprintf(err, errsz, "device '%s': expected cuda or cuda:N", device);
        return -1;
    }
    return (int)v;
}

ke_backend_t *ke_backend_new(const char *device, int n_threads, ke_precision_t precision, char *err,
                             size_t errsz) {
    if ((unsigned)precision > KE_PREC_BF16) {
        if (err)
            snprintf(err, errsz, "unknown precision %d", (int)precision);
        return NULL;
    }
    if (!device || !*device || strcmp(device, "cpu") == 0)
        return cpu_new(n_threads, precision, err, errsz);
    if (strcmp(device, "auto") == 0)
        return cuda_count() > 0 ? cuda_new(0, n_threads, precision, err, errsz)
                                : cpu_new(n_threads, precision, err, errsz);
    if (strncmp(device, "cuda", 4) == 0 && (device[4] == 0 || device[4] == ':')) {
        int index = cuda_index(device, err, errsz);
        if (index < 0)
            return NULL;
        int n = cuda_count();
        if (index >= n) {
#ifdef KINFER_CUDA
            if (err)
                snprintf(err, errsz, "device %s: no such CUDA device (%d found)", device, n);
#else
            if (err)
                snprintf(err, errsz, "device %s: this build has no CUDA backend", device);
#endif
            return NULL;
        }
        return cuda_new(index, n_threads, precision, err, errsz);
    }
    if (err)
        snprintf(err, errsz, "unknown device '%s' (cpu, cuda, cuda:N, auto)", device);
    return NULL;
}

void ke_backend_free(ke_backend_t *be) {
    if (!be)
        return;
    if (be->iface && be->iface->destroy)
        be->iface->destroy(be->ctx);
    ke_threadpool_free(be->pool);
    free(be);
}

/* ---- plain GEMM for benchmarks ---------------------------------------- */

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static ke_status_t bench_gemm_cpu(ke_precision_t precision, int m, int n, int k, int iters,
                                  double *sec, char *err, size_t errsz) {
    if (precision != KE_PREC_FP32) {
        if (err)
            snprintf(err, errsz, "precision %s: the cpu backend computes in fp32 only",
                     ke_precision_name(precision));
        return KE_ERR_UNSUPPORTED;
    }
    size_t na = (size_t)m * (size_t)k, nb = (size_t)k * (size_t)n, nc = (size_t)m * (size_t)n;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c);
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        if (err)
            snprintf(err, errsz, "bench gemm: out of memory");
        return KE_ERR_NOMEM;
    }
    for (size_t i = 0; i < na; i++)
        a[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
    for (size_t i = 0; i < nb; i++)
        b[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
    double t0 = mono_s();
    for (int i = 0; i < iters; i++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c,
                    n);
    *sec = (mono_s() - t0) / iters;
    free(a), free(b), free(c);
    return KE_OK;
}

ke_status_t ke_bench_gemm(const char *device, ke_precision_t precision, int m, int n, int k,
                          int iters, double *sec, char *name, size_t name_size, char *err,
                          size_t errsz) {
    if (m < 1 || n < 1 || k < 1 || iters < 1 || !sec) {
        if (err)
            snprintf(err, errsz, "bench gemm: m, n, k and iters must be >= 1");
        return KE_ERR_INVALID_ARG;
    }
    if (name && name_size)
        snprintf(name, name_size, "cpu");
    int want_cuda = device && (strncmp(device, "cuda", 4) == 0 ||
                               (strcmp(device, "auto") == 0 && cuda_count() > 0));
    if (!want_cuda) {
        if (device && *device && strcmp(device, "cpu") != 0 && strcmp(device, "auto") != 0) {
            if (err)
                snprintf(err, errsz, "unknown device '%s' (cpu, cuda, cuda:N, auto)", device);
            return KE_ERR_INVALID_ARG;
        }
        return bench_gemm_cpu(precision, m, n, k, iters, sec, err, errsz);
    }
#ifdef KINFER_CUDA
    int index = strcmp(device, "auto") == 0 ? 0 : cuda_index(device, err, errsz);
    if (index < 0)
        return KE_ERR_INVALID_ARG;
    if (index >= cuda_count()) {
        if (err)
            snprintf(err, errsz, "device %s: no such CUDA device (%d found)", device, cuda_count());
        return KE_ERR_INVALID_ARG;
    }
    return kk_bench_gemm(index, precision, m, n, k, iters, sec, name, name_size, err, errsz);
#else
    if (err)
        snprintf(err, errsz, "device %s: this build has no CUDA backend", device);
    return KE_ERR_UNSUPPORTED;
#endif
}
