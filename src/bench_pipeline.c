/* Placeholder until the pipeline benchmark lands; replace this whole file. */
#include <stdio.h>

#include "bench.h"

int kf_bench_pipeline(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "kinfer bench pipeline: not available in this build yet\n");
    return 2;
}
