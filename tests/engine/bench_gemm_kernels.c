/* bench_gemm_kernels: our packed GEMM (ke_gemm.h) at each micro-kernel
 * level this CPU runs, beside OpenBLAS sgemm with B transposed (what the
 * Gemm nodes of the models ask for), at the shapes the bundled models use.
 * JSON lines, one per shape x implementation x thread count; not a test
 * (no timed assertions).
 *
 *   bench_gemm_kernels [--threads T] [--seconds S] [M N K ...]
 *
 * Each figure is the best of several short windows (steadier on a busy
 * machine than one long mean). OpenBLAS threads = T; ours splits over a
 * ke_threadpool of T threads. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ke_gemm.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct shape {
    long m, n, k;
    const char *what;
} shape_t;

static const shape_t k_default[] = {
    {1, 128, 784, "mnist_mlp fc1 b1"},     {32, 128, 784, "mnist_mlp fc1 b32"},
    {256, 128, 784, "mnist_mlp fc1 b256"}, {64, 128, 128, "bert proj b1"},
    {2048, 128, 128, "bert proj b32"},     {2048, 512, 128, "bert ff1 b32"},
    {2048, 128, 512, "bert ff2 b32"},      {64, 64, 32, "bert scores (one head)"},
    {1024, 1024, 1024, "square"},
};

/* GFLOP/s of the best window */
static double best_rate(double flop, double seconds, void (*fn)(void *), void *arg) {
    fn(arg); /* warm-up */
    double best = 0, t_end = now_s() + seconds;
    while (now_s() < t_end) {
        long it = 0;
        double t0 = now_s(), t1;
        do {
            fn(arg);
            it++;
            t1 = now_s();
        } while (t1 - t0 < 0.02);
        double r = flop * (double)it / (t1 - t0) * 1e-9;
        if (r > best)
            best = r;
    }
    return best;
}

typedef struct run {
    long m, n, k;
    const float *A, *B;
    float *Y;
    const ke_gemm_b_t *pb;
    ke_threadpool_t *pool;
} run_t;

static void run_blas(void *p) {
    run_t *r = p;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)r->m, (blasint)r->n,
                (blasint)r->k, 1.0f, r->A, (blasint)r->k, r->B, (blasint)r->k, 0.0f, r->Y,
                (blasint)r->n);
}

static void run_ours(void *p) {
    run_t *r = p;
    const ke_gemm_job_t j = {
        .M = r->m, .A = r->A, .rs_a = r->k, .cs_a = 1, .alpha = 1.0f, .Y = r->Y, .ldy = r->n};
    ke_gemm_run(r->pb, &j, r->pool);
}

int main(int argc, char **argv) {
    int threads = 1;
    double seconds = 0.5;
    shape_t custom[64];
    int n_custom = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else if (i + 2 < argc && n_custom < 64) {
            custom[n_custom].m = atol(argv[i]);
            custom[n_custom].n = atol(argv[i + 1]);
            custom[n_custom].k = atol(argv[i + 2]);
            custom[n_custom].what = "custom";
            if (custom[n_custom].m < 1 || custom[n_custom].n < 1 || custom[n_custom].k < 1) {
                fprintf(stderr, "usage: %s [--threads T] [--seconds S] [M N K ...]\n", argv[0]);
                return 2;
            }
            n_custom++;
            i += 2;
        } else {
            fprintf(stderr, "usage: %s [--threads T] [--seconds S] [M N K ...]\n", argv[0]);
            return 2;
        }
    }
    if (threads < 1)
        threads = 1;
    const shape_t *shapes = n_custom ? custom : k_default;
    const int n_shapes = n_custom ? n_custom : (int)(sizeof k_default / sizeof *k_default);
    char err[128];
    ke_threadpool_t *pool = ke_threadpool_new(threads, err, sizeof err);
    if (!pool) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    openblas_set_num_threads(threads);
    for (int s = 0; s < n_shapes; s++) {
        const long m = shapes[s].m, n = shapes[s].n, k = shapes[s].k;
        float *A = malloc(sizeof(float) * (size_t)(m * k));
        float *B = malloc(sizeof(float) * (size_t)(n * k));
        float *Y = malloc(sizeof(float) * (size_t)(m * n));
        if (!A || !B || !Y)
            return 1;
        for (long i = 0; i < m * k; i++)
            A[i] = (float)(i % 13) / 13.0f - 0.5f;
        for (long i = 0; i < n * k; i++)
            B[i] = (float)(i % 7) / 7.0f - 0.5f;
        const double flop = 2.0 * (double)m * (double)n * (double)k;
        run_t r = {.m = m, .n = n, .k = k, .A = A, .B = B, .Y = Y, .pool = pool};
        printf("{\"bench\":\"gemm_kernels\",\"shape\":\"%s\",\"m\":%ld,\"n\":%ld,\"k\":%ld,"
               "\"threads\":%d,\"impl\":\"openblas\",\"gflops\":%.1f}\n",
               shapes[s].what, m, n, k, threads, best_rate(flop, seconds, run_blas, &r));
        fflush(stdout);
        for (int l = KE_GEMM_LEVEL_COUNT - 1; l >= 0; l--) {
            if (!ke_gemm_level_supported((ke_gemm_level_t)l))
                continue;
            /* B is [N,K] (transB), packed once as the plan does */
            ke_gemm_packed_t *p = ke_gemm_packed_new((ke_gemm_level_t)l, 1, k, n, B, NULL, 0, 1);
            if (!p)
                return 1;
            r.pb = ke_gemm_packed_view(p);
            printf("{\"bench\":\"gemm_kernels\",\"shape\":\"%s\",\"m\":%ld,\"n\":%ld,\"k\":%ld,"
                   "\"threads\":%d,\"impl\":\"kinfer_%s\",\"gflops\":%.1f}\n",
                   shapes[s].what, m, n, k, threads, ke_gemm_level_name((ke_gemm_level_t)l),
                   best_rate(flop, seconds, run_ours, &r));
            fflush(stdout);
            ke_gemm_packed_free(p);
        }
        free(A), free(B), free(Y);
    }
    ke_threadpool_free(pool);
    return 0;
}
