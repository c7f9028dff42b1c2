/* ke_threadpool: a small fixed-size thread pool with parallel_for.
 *
 * One pool per plan. The calling thread takes part in the work, so a pool
 * of n threads starts n-1 workers. ke_threadpool_parallel_for() must be
 * called from one thread at a time (the plan's run thread); it is not
 * reentrant (a task must not call it again: nested calls run serially). */
#ifndef KE_THREADPOOL_H
#define KE_THREADPOOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ke_threadpool ke_threadpool_t;

/* Task body: process the index range [begin, end). `tid` is in
 * [0, nthreads) and unique among the concurrent calls of one parallel_for,
 * so it can index per-thread scratch. */
typedef void (*ke_task_fn)(void *arg, int64_t begin, int64_t end, int tid);

/* n_threads <= 0 means all online cores. Returns NULL on failure (errbuf
 * says why). Owned by the caller; free with ke_threadpool_free(). */
ke_threadpool_t *ke_threadpool_new(int n_threads, char *errbuf, size_t errsz);
/* Joins the workers. NULL is a no-op. */
void ke_threadpool_free(ke_threadpool_t *tp);
/* Total threads taking part (workers + caller); 1 for a NULL pool. */
int ke_threadpool_size(const ke_threadpool_t *tp);

/* Run fn over [0, n) split into contiguous chunks of at least `grain`
 * indices. Runs inline (tid 0, one call) when tp is NULL, the pool has one
 * thread, or n <= grain: small work never wakes workers. Returns when all
 * chunks are done. */
void ke_threadpool_parallel_for(ke_threadpool_t *tp, int64_t n, int64_t grain, ke_task_fn fn,
                                void *arg);

#ifdef __cplusplus
}
#endif

#endif
