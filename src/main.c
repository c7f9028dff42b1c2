/* kinfer: Kafka-native batch inference worker. Dispatches to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct subcommand {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} subcommand_t;

static const subcommand_t subcommands[] = {
    {"worker", kf_cli_worker, "run the inference worker (consume, batch, infer, produce, commit)"},
    {"produce", kf_cli_produce, "send inference jobs from .npy files or random data"},
    {"consume", kf_cli_consume, "print results as JSON lines, optionally write outputs as .npy"},
    {"broker", kf_cli_broker, "run an embedded Kafka-compatible broker (librdkafka mock cluster)"},
    {"demo", kf_cli_demo, "end-to-end demo with no external services"},
    {"bench", kf_cli_bench, "benchmarks (engine, pipeline) printing JSON lines"},
    {"fetch", kf_cli_fetch, "fetch and verify a model artifact into the cache"},
    {"predict", kf_cli_predict, "run an ONNX model on .npy inputs, write .npy outputs"},
    {"version", kf_cli_version, "print version and build features"},
};

static void usage(FILE *out) {
    fprintf(out, "usage: kinfer <command> [options]\n"
                 "       kinfer <command> --help\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        fprintf(out, "  %-9s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out,
            "\noptions:\n  -h, --help     this help\n  -V, --version  same as `kinfer version`\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version"))
        return kf_cli_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
        if (!strcmp(cmd, subcommands[i].name))
            return subcommands[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "kinfer: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
