/* The C broker fixture (tests/common/kf_test_broker.h): `kinfer broker` as a
 * subprocess serves a real librdkafka client, creates the asked partitions,
 * and exits 0 on SIGTERM. */
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "kf_test_broker.h"

int main(void) {
    kf_test_broker_t b;
    const char *args[] = {"--brokers", "2", "--topic", "fx:5", NULL};
    if (kf_test_broker_start(&b, args) != 0)
        return 1;
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "bootstrap.servers", b.bootstrap, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int rc = 1;
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 1, NULL, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < md->topic_cnt; i++)
            if (!strcmp(md->topics[i].topic, "fx") && md->topics[i].partition_cnt == 5)
                rc = 0;
        if (md->broker_cnt != 2)
            rc = 1;
        fprintf(stderr, "%d brokers, %d topics\n", md->broker_cnt, md->topic_cnt);
        rd_kafka_metadata_destroy(md);
    }
    if (rc == 0 && rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("fx"), RD_KAFKA_V_VALUE("v", 1),
                                     RD_KAFKA_V_END) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rc = 1;
    if (rc == 0 && rd_kafka_flush(rk, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rc = 1;
    rd_kafka_destroy(rk);
    int st = kf_test_broker_stop(&b);
    if (st != 0) {
        fprintf(stderr, "broker exited %d after SIGTERM\n", st);
        return 1;
    }
    printf(rc == 0 ? "broker fixture (C): ok\n" : "broker fixture (C): FAILED\n");
    return rc;
}
