/* Placeholder until the engine benchmark lands; replace this whole file. */
#include <stdio.h>

#include "bench.h"

int kf_bench_engine(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "kinfer bench engine: not available in this build yet\n");
    return 2;
}
