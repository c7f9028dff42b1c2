/* kinfer bench engine|gemm|pipeline: dispatches to the benchmark parts. */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cli.h"

static void usage(FILE *out) {
    fprintf(out, "usage: kinfer bench engine|gemm|pipeline [options]\n\n"
                 "  engine    tensor engine throughput/latency for one model (JSON line)\n"
                 "  gemm      a plain BLAS GEMM (OpenBLAS or cuBLAS) at one shape (JSON line)\n"
                 "  pipeline  Kafka consume->infer->produce throughput beside a passthrough\n\n"
                 "`kinfer bench PART --help` lists each part's options.\n");
}

int kf_cli_bench(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "engine"))
        return kf_bench_engine(argc - 1, argv + 1);
    if (!strcmp(argv[1], "gemm"))
        return kf_bench_gemm(argc - 1, argv + 1);
    if (!strcmp(argv[1], "pipeline"))
        return kf_bench_pipeline(argc - 1, argv + 1);
    fprintf(stderr, "kinfer bench: unknown part '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
