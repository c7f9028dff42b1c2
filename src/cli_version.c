#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int kf_cli_version(int argc, char **argv) {
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: kinfer version\n\nPrints the kinfer version, the librdkafka version and the "
               "libraries it "
               "was built with.\n\noptions:\n  -h, --help  this help\n");
        return 0;
    }
    printf("kinfer %s\nlibrdkafka %s\n", KINFER_VERSION, rd_kafka_version_str());
    return 0;
}
