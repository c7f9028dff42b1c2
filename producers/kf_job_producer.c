#include "kf_job_producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kf_avro_bin.h"

struct kf_job_producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    int32_t partition;
    kf_codec_params_t codec;
    const kf_logger_t *logger;
    kf_buf_t buf;
    kf_job_producer_stats_t stats;
    char first_error[256];
};

kf_job_producer_params_t kf_job_producer_default_params(void) {
    kf_job_producer_params_t p = {.topic = NULL,
                                  .partition = RD_KAFKA_PARTITION_UA,
                                  .codec = kf_codec_default_params(),
                                  .logger = NULL};
    return p;
}

/* Delivery reports run on the thread that polls, i.e. the owner thread. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    kf_job_producer_t *p = opaque;
    if (m->err) {
        p->stats.failed++;
        if (!p->first_error[0])
            snprintf(p->first_error, sizeof(p->first_error), "%s [%d]: %s",
                     rd_kafka_topic_name(m->rkt), (int)m->partition, rd_kafka_err2str(m->err));
    } else {
        p->stats.delivered++;
    }
}

kf_job_producer_t *kf_job_producer_new(const kf_job_producer_params_t *params,
                                       rd_kafka_conf_t *conf, char *err, size_t errsz) {
    if (!params || !params->topic || !*params->topic || !conf) {
        snprintf(err, errsz, "job producer: topic and conf are required");
        if (conf)
            rd_kafka_conf_destroy(conf);
        return NULL;
    }
    kf_job_producer_t *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errsz, "out of memory");
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    p->partition = params->partition;
    p->codec = params->codec;
    p->logger = params->logger;
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char rderr[512];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rderr, sizeof(rderr));
    if (!p->rk) {
        snprintf(err, errsz, "producer: %s", rderr);
        rd_kafka_conf_destroy(conf);
        free(p);
        return NULL;
    }
    p->rkt = rd_kafka_topic_new(p->rk, params->topic, NULL);
    if (!p->rkt) {
        snprintf(err, errsz, "topic '%s': %s", params->topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_destroy(p->rk);
        free(p);
        return NULL;
    }
    return p;
}

void kf_job_producer_free(kf_job_producer_t *p) {
    if (!p)
        return;
    if (rd_kafka_flush(p->rk, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        KF_WARN(p->logger, "job producer: %d message(s) undelivered at close",
                rd_kafka_outq_len(p->rk));
    rd_kafka_topic_destroy(p->rkt);
    rd_kafka_destroy(p->rk);
    kf_buf_free(&p->buf);
    free(p);
}

kf_status_t kf_job_producer_send(kf_job_producer_t *p, const kf_request_t *req, const void *key,
                                 size_t keylen, char *err, size_t errsz) {
    if (!p || !req) {
        snprintf(err, errsz, "job producer: NULL argument");
        return KF_ERR_INVALID_ARG;
    }
    kf_codec_error_t cerr;
    memset(&cerr, 0, sizeof(cerr));
    kf_status_t st = kf_codec_encode_request(&p->codec, req, &p->buf, &cerr);
    if (st != KF_OK) {
        snprintf(err, errsz, "job '%s': %s", req->id ? req->id : "", cerr.msg);
        return st;
    }
    for (;;) {
        if (rd_kafka_produce(p->rkt, p->partition, RD_KAFKA_MSG_F_COPY, p->buf.data, p->buf.len,
                             key, keylen, NULL) == 0)
            break;
        rd_kafka_resp_err_t e = rd_kafka_last_error();
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            snprintf(err, errsz, "job '%s': produce to %s: %s", req->id ? req->id : "",
                     rd_kafka_topic_name(p->rkt), rd_kafka_err2str(e));
            return KF_ERR_KAFKA;
        }
        rd_kafka_poll(p->rk, 50); /* queue full: serve reports, retry */
    }
    p->stats.sent++;
    p->stats.bytes += p->buf.len;
    rd_kafka_poll(p->rk, 0);
    return KF_OK;
}

void kf_job_producer_poll(kf_job_producer_t *p, int timeout_ms) {
    if (p)
        rd_kafka_poll(p->rk, timeout_ms);
}

kf_status_t kf_job_producer_flush(kf_job_producer_t *p, int timeout_ms, char *err, size_t errsz) {
    if (!p) {
        snprintf(err, errsz, "job producer: NULL");
        return KF_ERR_INVALID_ARG;
    }
    rd_kafka_resp_err_t e = rd_kafka_flush(p->rk, timeout_ms);
    uint64_t reported = p->stats.delivered + p->stats.failed;
    if (p->stats.failed) {
        snprintf(err, errsz, "%llu of %llu message(s) failed; first: %s",
                 (unsigned long long)p->stats.failed, (unsigned long long)p->stats.sent,
                 p->first_error);
        return KF_ERR_KAFKA;
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR || reported < p->stats.sent) {
        snprintf(err, errsz, "%llu of %llu message(s) without a delivery report after %d ms",
                 (unsigned long long)(p->stats.sent - reported), (unsigned long long)p->stats.sent,
                 timeout_ms);
        return KF_ERR_TIMEOUT;
    }
    return KF_OK;
}

kf_job_producer_stats_t kf_job_producer_stats(const kf_job_producer_t *p) {
    kf_job_producer_stats_t z = {0, 0, 0, 0};
    return p ? p->stats : z;
}

rd_kafka_t *kf_job_producer_handle(kf_job_producer_t *p) {
    return p ? p->rk : NULL;
}
