/* `kinfer broker`: run an embedded Kafka-compatible broker (librdkafka mock
 * cluster) until SIGINT/SIGTERM. The bootstrap address is the first line of
 * stdout, so scripts can start it in the background and read that line.
 *
 * SIGINT/SIGTERM only set a flag (kf_cli_signals_install); this thread
 * checks it every 100 ms. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "kf_broker.h"
#include "kf_cli_util.h"
#include "kf_log.h"

#define MAX_TOPICS 256

static void usage(FILE *out) {
    fprintf(out,
            "usage: kinfer broker [--brokers N] [--topic NAME[:PARTITIONS]]... [--log-level L]\n"
            "\n"
            "Starts an embedded Kafka-compatible broker (librdkafka mock cluster), prints\n"
            "its bootstrap address as the first line of stdout and runs until SIGINT or\n"
            "SIGTERM. Topics not created here are auto-created with 1 partition. The mock\n"
            "keeps only ~5 MiB per partition: use several partitions for volume.\n"
            "\n"
            "options:\n"
            "  --brokers N                 number of brokers in the cluster (default 1)\n"
            "  --topic NAME[:PARTITIONS]   create a topic (repeatable; default 1 partition)\n"
            "  --log-level L               debug|info|warn|error|off (stderr; default info)\n"
            "  -h, --help                  this help\n");
}

static int parse_count(const char *s, int lo, int hi, int *out) {
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

int kf_cli_broker(int argc, char **argv) {
    static const struct option opts[] = {{"brokers", required_argument, NULL, 'n'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"log-level", required_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    kf_broker_params_t bp = kf_broker_default_params();
    const char *topics[MAX_TOPICS];
    int n_topics = 0;
    kf_log_params_t lp = kf_log_default_params();
    lp.component = "broker";
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_count(optarg, 1, 64, &bp.brokers)) {
                fprintf(stderr, "kinfer broker: --brokers '%s': expected 1..64\n", optarg);
                return 2;
            }
            break;
        case 't':
            if (n_topics == MAX_TOPICS) {
                fprintf(stderr, "kinfer broker: at most %d --topic options\n", MAX_TOPICS);
                return 2;
            }
            topics[n_topics++] = optarg;
            break;
        case 'l':
            if (kf_log_level_parse(optarg, &lp.level) != KF_OK) {
                fprintf(stderr,
                        "kinfer broker: --log-level '%s': expected debug|info|warn|error|off\n",
                        optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kinfer broker: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }

    if (kf_cli_signals_install() != 0) {
        fprintf(stderr, "kinfer broker: cannot install signal handlers\n");
        return 1;
    }

    kf_logger_t *lg = kf_logger_new(&lp);
    if (!lg) {
        fprintf(stderr, "kinfer broker: out of memory\n");
        return 1;
    }
    bp.logger = lg;
    char err[512];
    kf_broker_t *b = kf_broker_new(&bp, err, sizeof(err));
    if (!b) {
        KF_ERROR(lg, "cannot start: %s", err);
        kf_logger_free(lg);
        return 1;
    }
    for (int i = 0; i < n_topics; i++) {
        if (kf_broker_topic_create_spec(b, topics[i], err, sizeof(err)) != KF_OK) {
            KF_ERROR(lg, "--topic: %s", err);
            kf_broker_free(b);
            kf_logger_free(lg);
            return 2;
        }
    }
    if (printf("%s\n", kf_broker_bootstrap(b)) < 0 || fflush(stdout) != 0)
        KF_WARN(lg, "cannot write the bootstrap address to stdout");
    KF_INFO(lg, "%d broker(s) listening at %s, %d topic(s) created; SIGINT/SIGTERM stops",
            bp.brokers, kf_broker_bootstrap(b), n_topics);

    int sig = 0;
    while ((sig = kf_cli_signal_take()) == 0) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL); /* EINTR on a signal: checked at once */
    }
    KF_INFO(lg, "signal %d: stopping", sig);
    kf_broker_free(b);
    kf_logger_free(lg);
    return 0;
}
