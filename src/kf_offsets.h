/* kf_offsets: the at-least-once offset tracker.
 *
 * For every assigned partition the tracker remembers the offsets of the jobs
 * that were consumed but whose result (or DLQ record) has not yet been
 * acknowledged by the brokers. The committable offset of a partition is the
 * lowest offset still in flight, or one past the highest tracked offset when
 * nothing is in flight: everything below it is done. Only that offset is ever
 * handed out for commit, so a crash re-delivers and never loses a job.
 *
 * Threads: every function may be called from any thread; one mutex guards
 * the state. Typically the consumer thread calls _track/_collect/_drop and
 * librdkafka's delivery-report path calls _ack. _wait_idle blocks on a
 * condition variable signalled by _ack and _drop.
 *
 * Offsets of one partition must be tracked in ascending order (the order the
 * consumer delivers them). A smaller offset than the last tracked one (a seek
 * back, or a partition re-assigned after a drop) restarts the partition. */
#ifndef KF_OFFSETS_H
#define KF_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "kf_status.h"

typedef struct kf_offsets kf_offsets_t;

/* Returns a new tracker (caller owns; kf_offsets_free) or NULL on OOM. */
kf_offsets_t *kf_offsets_new(void);
/* Frees the tracker; NULL is a no-op. */
void kf_offsets_free(kf_offsets_t *t);

/* Records that `offset` of topic/partition is now in flight.
 * KF_ERR_INVALID_ARG on a NULL topic or negative partition/offset,
 * KF_ERR_NOMEM on allocation failure. */
kf_status_t kf_offsets_track(kf_offsets_t *t, const char *topic, int32_t partition, int64_t offset);

/* Records that the job at `offset` is done (its output was acknowledged).
 * KF_ERR_NOT_FOUND when the offset is not in flight (already acked, or its
 * partition was dropped on revoke): the caller must then not treat it as an
 * error of the job; the result was delivered, only the commit is lost. */
kf_status_t kf_offsets_ack(kf_offsets_t *t, const char *topic, int32_t partition, int64_t offset);

/* Jobs in flight for one partition, or for all partitions (topic == NULL). */
size_t kf_offsets_inflight(kf_offsets_t *t, const char *topic, int32_t partition);

/* The committable offset of a partition (next offset to consume), or -1 when
 * nothing of it was tracked since it was (re)started. */
int64_t kf_offsets_committable(kf_offsets_t *t, const char *topic, int32_t partition);

/* Appends to `out` every partition whose committable offset moved past the
 * offset last handed out (when `only` is NULL), or only the partitions listed
 * in `only`. The caller commits `out` (caller owns `out`). Returns the number
 * of partitions appended. */
size_t kf_offsets_collect(kf_offsets_t *t, const rd_kafka_topic_partition_list_t *only,
                          rd_kafka_topic_partition_list_t *out);

/* Reports the result of committing `offsets` (as returned by _collect). A
 * failed partition (list-level `err`, or the element's own err) is handed
 * out again by the next _collect. */
void kf_offsets_commit_result(kf_offsets_t *t, const rd_kafka_topic_partition_list_t *offsets,
                              rd_kafka_resp_err_t err);

/* Last offset confirmed committed for a partition, -1 when none. */
int64_t kf_offsets_committed(kf_offsets_t *t, const char *topic, int32_t partition);

/* Forgets a partition (revoked or lost). Later acks for it return
 * KF_ERR_NOT_FOUND. Returns how many jobs were still in flight. */
size_t kf_offsets_drop(kf_offsets_t *t, const char *topic, int32_t partition);

/* Blocks until none of the partitions in `parts` (all partitions when NULL)
 * has a job in flight, or until timeout_ms passes. KF_OK or KF_ERR_TIMEOUT. */
kf_status_t kf_offsets_wait_idle(kf_offsets_t *t, const rd_kafka_topic_partition_list_t *parts,
                                 int timeout_ms);

/* Blocks until fewer than `n` jobs are in flight over all partitions, or
 * until timeout_ms passes. KF_OK or KF_ERR_TIMEOUT. */
kf_status_t kf_offsets_wait_below(kf_offsets_t *t, size_t n, int timeout_ms);

#endif
