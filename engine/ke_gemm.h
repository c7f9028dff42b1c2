/* ke_gemm: our own float32 GEMM for Gemm/MatMul: B packed into column
 * panels (once at plan time when B is a constant), register-blocked
 * micro-kernels per instruction-set level (AVX-512F, AVX2+FMA, portable
 * C) chosen at run time, work split over the plan's thread pool, and the
 * bias + activation epilogue applied while the output tile is hot.
 *
 *   Y[M,N] = act(alpha * op(A) * B + bias[N])   (+ Y when accumulating)
 *
 * op(A) is read in place through strides (row-major A [M,K], or its
 * transpose). B is given once to ke_gemm_pack (row-major [K,N], or [N,K]
 * when tb) and never read again.
 *
 * Levels: tests force one with the `level` arguments; production code
 * passes ke_gemm_level_best(). Everything here is reentrant; a packed B is
 * immutable after creation and may be shared by any number of threads. */
#ifndef KE_GEMM_H
#define KE_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "ke_ops_kern.h"
#include "ke_threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ke_gemm_level {
    KE_GEMM_REF = 0,    /* portable C micro-kernel (any CPU) */
    KE_GEMM_AVX2 = 1,   /* x86-64 AVX2 + FMA */
    KE_GEMM_AVX512 = 2, /* x86-64 AVX-512F */
    KE_GEMM_LEVEL_COUNT
} ke_gemm_level_t;

/* The fastest level this CPU runs (cpuid, checked once per call; cheap). */
ke_gemm_level_t ke_gemm_level_best(void);
/* 1 when this CPU (and build) can run `level`. */
int ke_gemm_level_supported(ke_gemm_level_t level);
/* "ref", "avx2", "avx512". */
const char *ke_gemm_level_name(ke_gemm_level_t level);

/* A packed B: K x N split into panels of NR columns (zero padded), each
 * panel K rows of NR floats, plus an optional bias padded the same way.
 * The view does not own its memory (see ke_gemm_packed_t for an owner). */
typedef struct ke_gemm_b {
    ke_gemm_level_t level;
    int64_t K, N;
    int nr;              /* panel width of the level's kernel */
    const float *panels; /* ceil(N/nr) * K * nr floats */
    const float *bias;   /* ceil(N/nr) * nr floats, or NULL */
} ke_gemm_b_t;

/* Floats needed to pack a K x N B for `level` (ceil(N/nr) * K * nr). */
size_t ke_gemm_pack_floats(ke_gemm_level_t level, int64_t K, int64_t N);

/* Packs B (row-major [K,N] with row stride ldb, or [N,K] when tb) into dst
 * (ke_gemm_pack_floats() floats, any alignment, written fully) and fills
 * *view (bias NULL). Any thread. */
void ke_gemm_pack_into(ke_gemm_level_t level, int tb, int64_t K, int64_t N, const float *B,
                       int64_t ldb, float *dst, ke_gemm_b_t *view);

/* An owned packed B (+ bias = bias_scale * bias[j], bias may be NULL; a
 * bias of length 1 broadcasts when bias_n == 1). Returns NULL when out of
 * memory. Free with ke_gemm_packed_free (NULL is a no-op). */
typedef struct ke_gemm_packed ke_gemm_packed_t;
ke_gemm_packed_t *ke_gemm_packed_new(ke_gemm_level_t level, int tb, int64_t K, int64_t N,
                                     const float *B, const float *bias, int64_t bias_n,
                                     float bias_scale);
void ke_gemm_packed_free(ke_gemm_packed_t *p);
/* The view of an owned packed B (borrowed; lives as long as p). */
const ke_gemm_b_t *ke_gemm_packed_view(const ke_gemm_packed_t *p);

/* The A side and the epilogue of one product. */
typedef struct ke_gemm_job {
    int64_t M;
    const float *A;
    int64_t rs_a, cs_a; /* element strides of op(A): rows, along K */
    float alpha;
    float *Y;
    int64_t ldy;
    int accumulate;    /* 1: add to what Y holds (before the bias) */
    const float *bias; /* overrides b->bias when non-NULL (padded, nr-multiple) */
    ke_unop_t act;
    ke_unparams_t actp;
} ke_gemm_job_t;

/* Runs the product on the calling thread only. */
void ke_gemm_run_serial(const ke_gemm_b_t *b, const ke_gemm_job_t *job);

/* Runs the product split over pool (NULL: serial). Small products stay on
 * the calling thread. Call from the pool's owner thread only. */
void ke_gemm_run(const ke_gemm_b_t *b, const ke_gemm_job_t *job, ke_threadpool_t *pool);

/* Packs B given by element strides (B(k,n) = B[k*rs_b + n*cs_b]); same
 * result as ke_gemm_pack_into. Any thread. */
void ke_gemm_pack_strided(ke_gemm_level_t level, int64_t K, int64_t N, const float *B, int64_t rs_b,
                          int64_t cs_b, float *dst, ke_gemm_b_t *view);

/* ---- batched MatMul with a run-time B (attention) ----------------------- */

/* Scratch floats ke_gemm_matmul needs for `slots` concurrently packed Bs. */
size_t ke_gemm_matmul_scratch_floats(ke_gemm_level_t level, int64_t K, int64_t N, int64_t slots);
/* Slots to ask for: min(batch count, KE_GEMM_MAX_SLOTS). */
#define KE_GEMM_MAX_SLOTS 64

/* numpy MatMul (shapes as in ke_matmul_f32, batch dims broadcast) with an
 * optional bias[N] and activation. Each B matrix is packed into scratch
 * (`slots` slots, see above) and the batch is split over the pool, one
 * single-threaded product per matrix. Returns 0, or -1 when the scratch or
 * thread count does not fit (nothing written; the caller falls back). */
int ke_gemm_matmul(ke_gemm_level_t level, int ra, const int64_t *ashape, const float *A, int rb,
                   const int64_t *bshape, const float *B, const float *bias, float *Y,
                   ke_unop_t act, ke_unparams_t actp, float *scratch, int64_t slots,
                   ke_threadpool_t *pool, int n_threads);

/* A strided view of a tensor: element (i0,..,i{r-1}) at sum(i_d * stride[d]).
 * A transposed tensor is a view of the untransposed one with permuted
 * shape and strides. */
typedef struct ke_gemm_view {
    int rank;
    int64_t shape[KE_KERN_MAX_RANK];
    int64_t stride[KE_KERN_MAX_RANK];
} ke_gemm_view_t;

/* The view of a contiguous tensor of shape `shape` read through `perm`
 * (perm NULL: identity): view dim i = tensor dim perm[i]. */
void ke_gemm_view_permuted(ke_gemm_view_t *v, int rank, const int64_t *shape, const int64_t *perm);

/* MatMul over views: logical y [..,M,N] = act(alpha * a [..,M,K] @ b [..,K,N]
 * + bias). All three have the same rank r >= 2; a's and b's batch dims are
 * y's or 1 (broadcast). y's last dim must have stride 1. Same scratch and
 * slots contract as ke_gemm_matmul. Returns 0, or -1 when a view or the
 * scratch/thread count does not fit (nothing written). */
int ke_gemm_matmul_views(ke_gemm_level_t level, const ke_gemm_view_t *a, const float *A,
                         const ke_gemm_view_t *b, const float *B, float alpha, const float *bias,
                         const ke_gemm_view_t *y, float *Y, ke_unop_t act, ke_unparams_t actp,
                         float *scratch, int64_t slots, ke_threadpool_t *pool, int n_threads);

/* Reference for the same contract (plain loops, double sums, any strides,
 * no scratch): the fallback and the tests' yardstick. Serial. */
void ke_gemm_matmul_views_ref(const ke_gemm_view_t *a, const float *A, const ke_gemm_view_t *b,
                              const float *B, float alpha, const float *bias,
                              const ke_gemm_view_t *y, float *Y, ke_unop_t act, ke_unparams_t actp);

#ifdef __cplusplus
}
#endif

#endif
