#include "kf_broker.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kf_broker {
    rd_kafka_t *rk; /* the handle the mock cluster lives in */
    rd_kafka_mock_cluster_t *mc;
    char *bootstrap;
    const kf_logger_t *logger;
};

kf_broker_params_t kf_broker_default_params(void) {
    kf_broker_params_t p = {.brokers = 1, .logger = NULL};
    return p;
}

kf_broker_t *kf_broker_new(const kf_broker_params_t *params, char *err, size_t errsz) {
    kf_broker_params_t p = params ? *params : kf_broker_default_params();
    if (p.brokers < 1 || p.brokers > 64) {
        snprintf(err, errsz, "broker count %d out of range [1, 64]", p.brokers);
        return NULL;
    }
    kf_broker_t *b = calloc(1, sizeof(*b));
    if (!b) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    b->logger = p.logger;
    char rderr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* The mock cluster needs a client handle to live in; it never connects
     * anywhere, so point it at an address nothing listens on and keep it
     * quiet. */
    if (rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:1", rderr, sizeof(rderr)) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "log_level", "0", rderr, sizeof(rderr)) != RD_KAFKA_CONF_OK) {
        snprintf(err, errsz, "mock broker conf: %s", rderr);
        rd_kafka_conf_destroy(conf);
        free(b);
        return NULL;
    }
    b->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rderr, sizeof(rderr));
    if (!b->rk) {
        snprintf(err, errsz, "mock broker handle: %s", rderr);
        rd_kafka_conf_destroy(conf);
        free(b);
        return NULL;
    }
    b->mc = rd_kafka_mock_cluster_new(b->rk, p.brokers);
    if (!b->mc) {
        snprintf(err, errsz, "rd_kafka_mock_cluster_new(%d brokers) failed", p.brokers);
        kf_broker_free(b);
        return NULL;
    }
    const char *bs = rd_kafka_mock_cluster_bootstraps(b->mc);
    b->bootstrap = bs ? strdup(bs) : NULL;
    if (!b->bootstrap) {
        snprintf(err, errsz, "mock cluster has no bootstrap address");
        kf_broker_free(b);
        return NULL;
    }
    KF_DEBUG(b->logger, "mock cluster with %d broker(s) at %s", p.brokers, b->bootstrap);
    return b;
}

void kf_broker_free(kf_broker_t *b) {
    if (!b)
        return;
    if (b->mc)
        rd_kafka_mock_cluster_destroy(b->mc);
    if (b->rk)
        rd_kafka_destroy(b->rk);
    free(b->bootstrap);
    free(b);
}

const char *kf_broker_bootstrap(const kf_broker_t *b) {
    return b ? b->bootstrap : NULL;
}

rd_kafka_mock_cluster_t *kf_broker_mock(kf_broker_t *b) {
    return b ? b->mc : NULL;
}

kf_status_t kf_broker_topic_create(kf_broker_t *b, const char *topic, int partitions, char *err,
                                   size_t errsz) {
    if (!b || !topic || !*topic || strlen(topic) > 249) {
        snprintf(err, errsz, "topic name '%s': must be 1..249 characters", topic ? topic : "");
        return KF_ERR_INVALID_ARG;
    }
    for (const char *p = topic; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-')) {
            snprintf(err, errsz, "topic name '%s': only [a-zA-Z0-9._-] allowed", topic);
            return KF_ERR_INVALID_ARG;
        }
    }
    if (partitions < 1 || partitions > 10000) {
        snprintf(err, errsz, "topic '%s': partitions %d out of range [1, 10000]", topic,
                 partitions);
        return KF_ERR_INVALID_ARG;
    }
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(b->mc, topic, partitions, 1);
    if (e) {
        snprintf(err, errsz, "topic '%s': %s", topic, rd_kafka_err2str(e));
        return KF_ERR_KAFKA;
    }
    KF_DEBUG(b->logger, "created topic %s with %d partition(s)", topic, partitions);
    return KF_OK;
}

kf_status_t kf_broker_topic_create_spec(kf_broker_t *b, const char *spec, char *err, size_t errsz) {
    if (!spec) {
        snprintf(err, errsz, "topic spec: NULL");
        return KF_ERR_INVALID_ARG;
    }
    char name[256];
    int partitions = 1;
    const char *colon = strrchr(spec, ':');
    size_t nl = colon ? (size_t)(colon - spec) : strlen(spec);
    if (nl >= sizeof(name)) {
        snprintf(err, errsz, "topic spec '%s': name too long", spec);
        return KF_ERR_INVALID_ARG;
    }
    memcpy(name, spec, nl);
    name[nl] = '\0';
    if (colon) {
        char *end = NULL;
        errno = 0;
        long v = strtol(colon + 1, &end, 10);
        if (errno || end == colon + 1 || *end || v < 1 || v > INT_MAX) {
            snprintf(err, errsz, "topic spec '%s': partitions must be a positive integer", spec);
            return KF_ERR_INVALID_ARG;
        }
        partitions = (int)v;
    }
    return kf_broker_topic_create(b, name, partitions, err, errsz);
}
