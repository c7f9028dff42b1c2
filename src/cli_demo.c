/* Placeholder until the subcommand lands; replace this whole file. */
#include <stdio.h>

#include "cli.h"

int kf_cli_demo(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "kinfer demo: not available in this build yet\n");
    return 2;
}
