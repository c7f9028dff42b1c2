/* kf_worker_chunks: a job with more rows than its model's max_batch, run
 * as max_batch-row chunks whose outputs are assembled into one result
 * (internal to the worker). */
#ifndef KF_WORKER_CHUNKS_H
#define KF_WORKER_CHUNKS_H

#include <stddef.h>

#include "kf_worker_internal.h"

/* Consumer thread: splits job j (rows > max_batch) into max_batch-row
 * chunks with their output assembly buffers and queues them all; j->split
 * then owns them. KF_OK, or an error with `err` set (nothing queued,
 * j->split NULL). */
kf_status_t kf_wsplit_push(kf_worker_t *w, kf_mv_t *mv, kf_wjob_t *j, char *err, size_t err_size);

/* Engine thread: one chunk of split job j is back; the job's result is
 * produced (and j freed) when it was the last. out and err are borrowed. */
void kf_wsplit_chunk_done(kf_worker_t *w, kf_wjob_t *j, kf_batch_job_t *chunk, kf_status_t status,
                          const void *const *out, const kf_batch_info_t *info, const char *err);

/* Frees sp and its buffers; NULL is a no-op. */
void kf_wsplit_free(kf_wsplit_t *sp);

#endif
