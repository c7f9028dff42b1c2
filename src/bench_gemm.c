/* kinfer bench gemm: a plain BLAS GEMM at one shape, the reference the
 * engine's GEMM nodes are compared against (on cuda: cuBLAS sgemm, or
 * GemmEx with fp16/bf16 operands; on cpu: OpenBLAS sgemm).
 *
 *   kinfer bench gemm --m M --n N --k K [--device cpu|cuda|cuda:N|auto]
 *                     [--precision fp32|tf32|fp16|bf16] [--iters I]
 *
 * C[M,N] = A[M,K] B[K,N], row-major (the MLP layer y = x W at batch M is
 * M = batch, K = inputs, N = outputs). Prints one JSON line:
 * {"bench":"gemm","device","device_name","precision","m","n","k","iters",
 *  "ms","gflops"}. Exit 0, 1 on error, 2 on usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "engine.h"

static void usage(FILE *out) {
    fprintf(out, "usage: kinfer bench gemm --m M --n N --k K [options]\n\n"
                 "  --m, --n, --k   C[M,N] = A[M,K] B[K,N] (1..1048576 each)\n"
                 "  --device D      cpu (default), cuda, cuda:N, auto\n"
                 "  --precision P   fp32 (default); tf32, fp16, bf16 (cuda only)\n"
                 "  --iters I       timed GEMMs after the warm-up (default: about 0.5 s)\n"
                 "  --help          this text\n");
}

static int parse_dim(const char *v, long *out) {
    char *end = NULL;
    long x = strtol(v, &end, 10);
    if (!*v || *end || x < 1 || x > (1L << 20))
        return -1;
    *out = x;
    return 0;
}

int kf_bench_gemm(int argc, char **argv) {
    const char *device = "cpu";
    long m = 0, n = 0, k = 0, iters = 0;
    ke_precision_t precision = KE_PREC_FP32;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "kinfer bench gemm: %s needs a value (or is unknown)\n", a);
            return 2;
        }
        const char *v = argv[++i];
        int bad = 0;
        if (!strcmp(a, "--m"))
            bad = parse_dim(v, &m);
        else if (!strcmp(a, "--n"))
            bad = parse_dim(v, &n);
        else if (!strcmp(a, "--k"))
            bad = parse_dim(v, &k);
        else if (!strcmp(a, "--iters"))
            bad = parse_dim(v, &iters);
        else if (!strcmp(a, "--device"))
            device = v;
        else if (!strcmp(a, "--precision"))
            bad = ke_precision_parse(v, &precision) != KE_OK;
        else {
            fprintf(stderr, "kinfer bench gemm: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "kinfer bench gemm: bad value '%s' for %s\n", v, a);
            return 2;
        }
    }
    if (!m || !n || !k) {
        fprintf(stderr, "kinfer bench gemm: --m, --n and --k are required\n");
        usage(stderr);
        return 2;
    }
    double flop = 2.0 * (double)m * (double)n * (double)k, sec = 0;
    char err[512] = "", name[256] = "";
    if (!iters) { /* size the run from one probe GEMM: about half a second */
        if (ke_bench_gemm(device, precision, (int)m, (int)n, (int)k, 1, &sec, name, sizeof name,
                          err, sizeof err) != KE_OK) {
            fprintf(stderr, "kinfer bench gemm: %s\n", err);
            return 1;
        }
        double want = sec > 0 ? 0.5 / sec : 1000;
        iters = want < 3 ? 3 : want > 100000 ? 100000 : (long)want;
    }
    if (ke_bench_gemm(device, precision, (int)m, (int)n, (int)k, (int)iters, &sec, name,
                      sizeof name, err, sizeof err) != KE_OK) {
        fprintf(stderr, "kinfer bench gemm: %s\n", err);
        return 1;
    }
    for (char *c = name; *c; c++)
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
            *c = '_';
    const char *dev = strncmp(name, "cpu", 3) == 0 ? "cpu" : "cuda";
    printf("{\"bench\":\"gemm\",\"device\":\"%s\",\"device_name\":\"%s\",\"precision\":\"%s\","
           "\"m\":%ld,\"n\":%ld,\"k\":%ld,\"iters\":%ld,\"ms\":%.5f,\"gflops\":%.2f}\n",
           dev, name, ke_precision_name(precision), m, n, k, iters, sec * 1e3,
           sec > 0 ? flop / sec * 1e-9 : 0.0);
    return 0;
}
