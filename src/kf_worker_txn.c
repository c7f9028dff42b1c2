/* kf_worker_txn: see kf_worker_txn.h. */
#include "kf_worker_txn.h"

#include <stdio.h>
#include <time.h>

/* Consumer thread, after an abort: every assigned partition goes back to
 * its committed offset (the beginning when none; auto.offset.reset is
 * earliest by default) and restarts in the tracker. */
static void rewind_partitions(kf_worker_t *w, rd_kafka_t *crk) {
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(crk, &a) != RD_KAFKA_RESP_ERR_NO_ERROR || !a)
        return;
    rd_kafka_resp_err_t e = rd_kafka_committed(crk, a, 10000);
    if (e)
        KF_WARN(w->p.log, "rewind: committed offsets: %s", rd_kafka_err2str(e));
    for (int i = 0; i < a->cnt; i++) {
        kf_offsets_drop(w->offs, a->elems[i].topic, a->elems[i].partition);
        if (e || a->elems[i].err || a->elems[i].offset < 0)
            a->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_error_t *se = a->cnt ? rd_kafka_seek_partitions(crk, a, 10000) : NULL;
    if (se) {
        KF_ERROR(w->p.log, "rewind: seek: %s", rd_kafka_error_string(se));
        rd_kafka_error_destroy(se);
    }
    rd_kafka_topic_partition_list_destroy(a);
}

/* Consumer thread (kf_consumer_commit_fn). No job enters while it runs, so
 * once those in flight are answered the open transaction holds exactly the
 * records of the offsets it commits. */
kf_status_t kf_worker_txn_commit(void *opaque, rd_kafka_t *crk, int final) {
    kf_worker_t *w = opaque;
    char err[512] = "";
    int64_t end = kf_worker_mono_us() + (int64_t)w->p.drain_timeout_ms * 1000;
    while (kf_offsets_inflight(w->offs, NULL, 0) > 0 && !kf_result_producer_txn_broken(w->rp)) {
        if (kf_worker_mono_us() >= end) {
            if (!final)
                return KF_ERR_TIMEOUT; /* keep the transaction open */
            KF_WARN(w->p.log, "exactly-once: %zu job(s) still in flight; committing the rest",
                    kf_offsets_inflight(w->offs, NULL, 0));
            break;
        }
        kf_offsets_wait_below(w->offs, 1, 20);
    }
    kf_status_t st = KF_ERR_KAFKA;
    if (!kf_result_producer_txn_broken(w->rp)) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
        kf_offsets_collect(w->offs, NULL, l);
        rd_kafka_consumer_group_metadata_t *md = rd_kafka_consumer_group_metadata(crk);
        st = md ? kf_result_producer_txn_commit(w->rp, l, md, err, sizeof(err)) : KF_ERR_KAFKA;
        if (!md)
            snprintf(err, sizeof(err), "no consumer group metadata");
        rd_kafka_consumer_group_metadata_destroy(md);
        kf_offsets_commit_result(
            w->offs, l, st == KF_OK ? RD_KAFKA_RESP_ERR_NO_ERROR : RD_KAFKA_RESP_ERR__FAIL);
        rd_kafka_topic_partition_list_destroy(l);
        if (st == KF_OK)
            return KF_OK;
        if (st == KF_ERR_INTERNAL) {
            KF_ERROR(w->p.log, "exactly-once: fatal: %s; stopping", err);
            return KF_ERR_INTERNAL;
        }
    } else {
        snprintf(err, sizeof(err), "a record of the transaction failed");
    }
    KF_WARN(w->p.log, "exactly-once: %s; aborting the transaction and reading again", err);
    if (kf_result_producer_txn_abort(w->rp, 0, err, sizeof(err)) != KF_OK) {
        KF_ERROR(w->p.log, "exactly-once: fatal: %s; stopping", err);
        return KF_ERR_INTERNAL;
    }
    /* jobs still queued answer into no transaction (their records fail):
     * let them finish before the next one begins, so none lands twice */
    while (atomic_load(&w->live) > 0 && kf_worker_mono_us() < end + 10000000) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    rewind_partitions(w, crk);
    if (kf_result_producer_txn_begin(w->rp, err, sizeof(err)) != KF_OK) {
        KF_ERROR(w->p.log, "exactly-once: fatal: %s; stopping", err);
        return KF_ERR_INTERNAL;
    }
    return KF_ERR_KAFKA;
}
