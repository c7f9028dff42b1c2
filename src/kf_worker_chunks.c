/* kf_worker_chunks: see kf_worker_chunks.h. */
#include "kf_worker_chunks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A job with more rows than its model's max_batch runs as chunks of at most
 * max_batch rows (queued together, in order, so they fill consecutive
 * batches and may share the last one with other jobs). Every chunk's
 * output rows are copied into `out`; the job's one result is produced when
 * the last chunk is back, so its input offset is acked only by a result
 * that holds every chunk. All chunks come back on the version's engine
 * thread, one at a time: no locking. */
struct kf_wsplit {
    size_t n_chunks, left, chunk_rows;
    kf_batch_job_t *chunks;     /* n_chunks; chunk.user = the kf_wjob_t */
    void *out[KF_BATCH_MAX_IO]; /* rows * out row_bytes each */
    kf_status_t status;         /* first failure wins */
    char err[300];
    kf_batch_info_t info; /* batch_rows = largest batch, queue_us = first
                           * chunk's, compute_us = sum over chunks, the
                           * rest from the last chunk's batch */
};

void kf_wsplit_free(kf_wsplit_t *sp) {
    if (!sp)
        return;
    for (int i = 0; i < KF_BATCH_MAX_IO; i++)
        free(sp->out[i]);
    free(sp->chunks);
    free(sp);
}

void kf_wsplit_chunk_done(kf_worker_t *w, kf_wjob_t *j, kf_batch_job_t *chunk, kf_status_t status,
                          const void *const *out, const kf_batch_info_t *info, const char *err) {
    kf_mv_t *mv = kf_model_ref_payload(j->ref);
    kf_wsplit_t *sp = j->split;
    size_t idx = (size_t)(chunk - sp->chunks);
    if (status == KF_OK) {
        for (int i = 0; i < mv->n_out; i++) {
            size_t rb = mv->out[i].row_bytes;
            memcpy((char *)sp->out[i] + idx * sp->chunk_rows * rb, out[i], chunk->rows * rb);
        }
    } else if (sp->status == KF_OK) {
        sp->status = status;
        snprintf(sp->err, sizeof(sp->err), "rows %zu-%zu of %zu: %s", idx * sp->chunk_rows,
                 idx * sp->chunk_rows + chunk->rows - 1, j->bj.rows, err ? err : "failed");
    }
    if (idx == 0)
        sp->info.queue_us = info->queue_us;
    if (info->batch_rows > sp->info.batch_rows)
        sp->info.batch_rows = info->batch_rows;
    sp->info.compute_us += info->compute_us;
    sp->info.ended_us = info->ended_us; /* the last chunk's batch is the one handing back */
    sp->info.batch_jobs = info->batch_jobs;
    sp->info.job_index = info->job_index;
    if (--sp->left > 0)
        return;
    kf_worker_job_result(w, j, sp->status,
                         sp->status == KF_OK ? (const void *const *)sp->out : NULL, &sp->info,
                         sp->err);
}

kf_status_t kf_wsplit_push(kf_worker_t *w, kf_mv_t *mv, kf_wjob_t *j, char *err, size_t err_size) {
    size_t cr = kf_batcher_max_batch(mv->batcher);
    size_t rows = j->bj.rows, n = (rows + cr - 1) / cr;
    size_t out_bytes = 0;
    for (int i = 0; i < mv->n_out; i++)
        out_bytes += rows * mv->out[i].row_bytes;
    if (out_bytes > w->p.codec.max_message_bytes) {
        snprintf(err, err_size,
                 "model %s: a job of %zu rows has %zu bytes of outputs, over max_message_bytes "
                 "%zu",
                 mv->label, rows, out_bytes, w->p.codec.max_message_bytes);
        return KF_ERR_LIMIT;
    }
    kf_wsplit_t *sp = calloc(1, sizeof(*sp));
    kf_batch_job_t **chain = sp ? calloc(n, sizeof(*chain)) : NULL;
    if (sp)
        sp->chunks = calloc(n, sizeof(*sp->chunks));
    int ok = sp && chain && sp->chunks;
    for (int i = 0; ok && i < mv->n_out; i++) {
        size_t nb = rows * mv->out[i].row_bytes;
        ok = (sp->out[i] = malloc(nb > 0 ? nb : 1)) != NULL;
    }
    if (!ok) {
        free(chain);
        kf_wsplit_free(sp);
        snprintf(err, err_size, "model %s: out of memory splitting a job of %zu rows", mv->label,
                 rows);
        return KF_ERR_NOMEM;
    }
    sp->n_chunks = sp->left = n;
    sp->chunk_rows = cr;
    for (size_t k = 0; k < n; k++) {
        kf_batch_job_t *c = &sp->chunks[k];
        c->rows = k + 1 < n ? cr : rows - k * cr;
        for (int i = 0; i < mv->n_in; i++)
            c->in[i] = (const char *)j->bj.in[i] + k * cr * mv->in[i].row_bytes;
        c->deadline_unix_us = j->bj.deadline_unix_us;
        c->user = j;
        chain[k] = c;
    }
    j->split = sp;
    kf_status_t st = kf_batcher_push_all(mv->batcher, chain, n, err, err_size);
    free(chain);
    if (st != KF_OK) {
        j->split = NULL;
        kf_wsplit_free(sp);
    }
    return st;
}
