/* kf_worker_txn: the exactly-once commit of the worker
 * (processing.guarantee=exactly_once), internal to the worker. */
#ifndef KF_WORKER_TXN_H
#define KF_WORKER_TXN_H

#include "kf_worker_internal.h"

/* Consumer thread (a kf_consumer_commit_fn; opaque is the kf_worker_t).
 * No job enters while it runs: once those in flight are answered (or the
 * drain timeout passes: KF_ERR_TIMEOUT when not final, the transaction
 * stays open), the open transaction's records and the input offsets are
 * committed together. A failed record or an abortable error aborts, waits
 * for queued jobs, rewinds the assigned partitions to their committed
 * offsets and begins a new transaction (KF_ERR_KAFKA); a fatal error
 * returns KF_ERR_INTERNAL (the worker stops). */
kf_status_t kf_worker_txn_commit(void *opaque, rd_kafka_t *crk, int final);

#endif
