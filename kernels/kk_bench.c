/* kk_bench: a plain cuBLAS GEMM timed for `kinfer bench gemm` (the
 * reference the engine's GEMM nodes are compared against). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kk_backend.h"
#include "kk_convert.h"
#include "kk_cuda.h"
#include "kk_gemm.h"

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

ke_status_t kk_bench_gemm(int index, ke_precision_t precision, int m, int n, int k, int iters,
                          double *sec, char *name, size_t name_size, char *err, size_t errsz) {
    kk_stream_t s = NULL;
    kk_gemm_t *g = NULL;
    void *a = NULL, *b = NULL, *c = NULL, *a16 = NULL, *b16 = NULL;
    float *h = NULL;
    ke_status_t rc = KE_ERR_INTERNAL;
    size_t na = (size_t)m * (size_t)k, nb = (size_t)k * (size_t)n, nc = (size_t)m * (size_t)n;
    size_t nmax = na > nb ? na : nb;
    kk_gemm_type_t type = precision == KE_PREC_FP16   ? KK_GEMM_T_F16
                          : precision == KE_PREC_BF16 ? KK_GEMM_T_BF16
                                                      : KK_GEMM_T_F32;
    if (name && name_size && kk_device_name(index, name, name_size) != KK_OK)
        snprintf(name, name_size, "cuda:%d", index);
    if (kk_device_select(index) != KK_OK || kk_stream_new(&s) != KK_OK ||
        !(g = kk_gemm_new(s, precision == KE_PREC_TF32 ? KK_GEMM_TF32 : KK_GEMM_FP32)) ||
        kk_malloc(&a, na * 4) != KK_OK || kk_malloc(&b, nb * 4) != KK_OK ||
        kk_malloc(&c, nc * 4) != KK_OK)
        goto out;
    if (!(h = malloc(nmax * sizeof *h))) {
        rc = KE_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < nmax; i++)
        h[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
    if (kk_memcpy_h2d(a, h, na * 4, s) != KK_OK || kk_memcpy_h2d(b, h, nb * 4, s) != KK_OK)
        goto out;
    const void *ga = a, *gb = b;
    if (type != KK_GEMM_T_F32) { /* operands converted once, like the plan's weights */
        if (kk_malloc(&a16, na * 2) != KK_OK || kk_malloc(&b16, nb * 2) != KK_OK ||
            kk_convert_launch(type, a, a16, (int64_t)na, s) != KK_OK ||
            kk_convert_launch(type, b, b16, (int64_t)nb, s) != KK_OK)
            goto out;
        ga = a16;
        gb = b16;
    }
    for (int i = 0; i < 3; i++) /* warm-up: cuBLAS picks and loads its kernel */
        if (kk_gemm_ex_batched(g, type, 0, 0, m, n, k, 1.f, ga, k, 0, gb, n, 0, 0.f, c, n, 0, 1) !=
            KK_OK)
            goto out;
    if (kk_stream_sync(s) != KK_OK)
        goto out;
    double t0 = mono_s();
    for (int i = 0; i < iters; i++)
        if (kk_gemm_ex_batched(g, type, 0, 0, m, n, k, 1.f, ga, k, 0, gb, n, 0, 0.f, c, n, 0, 1) !=
            KK_OK)
            goto out;
    if (kk_stream_sync(s) != KK_OK)
        goto out;
    *sec = (mono_s() - t0) / iters;
    rc = KE_OK;
out:
    if (rc != KE_OK && err)
        snprintf(err, errsz, "bench gemm on cuda:%d: %s", index, kk_last_error_str());
    free(h);
    kk_free(a);
    kk_free(b);
    kk_free(c);
    kk_free(a16);
    kk_free(b16);
    kk_gemm_free(g);
    kk_stream_free(s);
    return rc;
}
