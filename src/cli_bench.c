/* Placeholder until the subcommand lands; replace this whole file. */
#include <stdio.h>

#include "cli.h"

int kf_cli_bench(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "kinfer bench: not available in this build yet\n");
    return 2;
}
