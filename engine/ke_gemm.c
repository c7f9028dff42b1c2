/* ke_gemm: level dispatch, B packing and the blocked driver around the
 * micro-kernels of ke_gemm_kern.h.
 *
 * Blocking: the output is cut into rectangles of whole row blocks (MR
 * rows) x whole panels (NR columns); a rectangle is one work item for the
 * pool. Inside one, K is walked in slices of at most KE_GEMM_KC: a B slice
 * (KC x NR) stays in L2 while the rectangle's row blocks pass over it, the
 * MR rows of A one kernel call reads stay in L1; A is read in place (no
 * packing). Measured: one slice up to K = 1024 beats 256-deep slices by
 * 5-12% at the models' shapes (bench_gemm_kernels).
 * The bias goes in with the first K slice, ReLU with the last, other
 * activations over the rectangle once it is complete (still in cache). */
#include "ke_gemm.h"

#include <stdlib.h>
#include <string.h>

#include "ke_gemm_kern.h"

#define KE_GEMM_KC 1024         /* max K slice (B slice in L2, the rows of A in L1) */
#define KE_GEMM_RG_BLOCKS 16    /* max row blocks per work item */
#define KE_GEMM_PAR_MACS 131072 /* below this many MACs (~2 us of work): one thread */

static int kernel_for(ke_gemm_level_t level, ke_gemm_kernel_t *k) {
    switch (level) {
    case KE_GEMM_AVX512: return ke_gemm_kernel_avx512(k);
    case KE_GEMM_AVX2: return ke_gemm_kernel_avx2(k);
    case KE_GEMM_REF: return ke_gemm_kernel_ref(k);
    default: return -1;
    }
}

int ke_gemm_level_supported(ke_gemm_level_t level) {
    ke_gemm_kernel_t k;
    return kernel_for(level, &k) == 0;
}

ke_gemm_level_t ke_gemm_level_best(void) {
    if (ke_gemm_level_supported(KE_GEMM_AVX512))
        return KE_GEMM_AVX512;
    if (ke_gemm_level_supported(KE_GEMM_AVX2))
        return KE_GEMM_AVX2;
    return KE_GEMM_REF;
}

const char *ke_gemm_level_name(ke_gemm_level_t level) {
    switch (level) {
    case KE_GEMM_AVX512: return "avx512";
    case KE_GEMM_AVX2: return "avx2";
    case KE_GEMM_REF: return "ref";
    default: return "?";
    }
}

/* Panel width of a level whether or not this CPU runs it (packing is
 * plain C). */
static int level_nr(ke_gemm_level_t level) {
    switch (level) {
    case KE_GEMM_AVX512: return 32;
    case KE_GEMM_AVX2: return 16;
    default: return 16;
    }
}

size_t ke_gemm_pack_floats(ke_gemm_level_t level, int64_t K, int64_t N) {
    const int64_t nr = level_nr(level);
    const int64_t np = (N + nr - 1) / nr;
    return (size_t)(np * (K > 0 ? K : 1) * nr);
}

void ke_gemm_pack_strided(ke_gemm_level_t level, int64_t K, int64_t N, const float *B, int64_t rs_b,
                          int64_t cs_b, float *dst, ke_gemm_b_t *view) {
    const int64_t nr = level_nr(level);
    const int64_t np = (N + nr - 1) / nr;
    for (int64_t p = 0; p < np; p++) {
        const int64_t j0 = p * nr;
        const int64_t w = N - j0 < nr ? N - j0 : nr;
        float *d = dst + p * K * nr;
        if (cs_b == 1) { /* rows of B are contiguous */
            for (int64_t k = 0; k < K; k++) {
                memcpy(d + k * nr, B + k * rs_b + j0, (size_t)w * sizeof *d);
                for (int64_t j = w; j < nr; j++)
                    d[k * nr + j] = 0.0f;
            }
        } else { /* gather each packed row from the panel's columns (loads
                  * spread, stores contiguous) */
            const float *col = B + j0 * cs_b;
            for (int64_t k = 0; k < K; k++) {
                const float *src = col + k * rs_b;
                float *dk = d + k * nr;
                for (int64_t j = 0; j < w; j++)
                    dk[j] = src[j * cs_b];
                for (int64_t j = w; j < nr; j++)
                    dk[j] = 0.0f;
            }
        }
    }
    view->level = level;
    view->K = K;
    view->N = N;
    view->nr = (int)nr;
    view->panels = dst;
    view->bias = NULL;
}

void ke_gemm_pack_into(ke_gemm_level_t level, int tb, int64_t K, int64_t N, const float *B,
                       int64_t ldb, float *dst, ke_gemm_b_t *view) {
    ke_gemm_pack_strided(level, K, N, B, tb ? 1 : ldb, tb ? ldb : 1, dst, view);
}

struct ke_gemm_packed {
    ke_gemm_b_t view;
    float *data;
    float *bias;
};

ke_gemm_packed_t *ke_gemm_packed_new(ke_gemm_level_t level, int tb, int64_t K, int64_t N,
                                     const float *B, const float *bias, int64_t bias_n,
                                     float bias_scale) {
    ke_gemm_packed_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    const size_t nf = ke_gemm_pack_floats(level, K, N);
    p->data = aligned_alloc(64, (nf * sizeof(float) + 63) & ~(size_t)63);
    if (bias)
        p->bias = malloc((size_t)(N > 0 ? N : 1) * sizeof(float));
    if (!p->data || (bias && !p->bias)) {
        ke_gemm_packed_free(p);
        return NULL;
    }
    ke_gemm_pack_into(level, tb, K, N, B, tb ? K : N, p->data, &p->view);
    if (bias) {
        for (int64_t j = 0; j < N; j++)
            p->bias[j] = bias_scale * bias[bias_n == 1 ? 0 : j];
        p->view.bias = p->bias;
    }
    return p;
}

void ke_gemm_packed_free(ke_gemm_packed_t *p) {
    if (!p)
        return;
    free(p->data);
    free(p->bias);
    free(p);
}

const ke_gemm_b_t *ke_gemm_packed_view(const ke_gemm_packed_t *p) {
    return &p->view;
}

/* ---- the driver --------------------------------------------------------- */

/* Output rows [i0,i1) x panels [p0,p1) on the calling thread. */
static void run_rect(const ke_gemm_kernel_t *kr, const ke_gemm_b_t *b, const ke_gemm_job_t *j,
                     int64_t i0, int64_t i1, int64_t p0, int64_t p1) {
    const int64_t K = b->K, N = b->N, nr = kr->nr, mr = kr->mr;
    const float *bias = j->bias ? j->bias : b->bias;
    const int relu = j->act == KE_UN_RELU;
    const int64_t nkb = K > KE_GEMM_KC ? (K + KE_GEMM_KC - 1) / KE_GEMM_KC : 1;
    ke_gemm_ukr_t u;
    u.rs_a = j->rs_a;
    u.cs_a = j->cs_a;
    u.ldc = j->ldy;
    u.alpha = j->alpha;
    for (int64_t kb = 0; kb < nkb; kb++) {
        const int64_t k0 = K * kb / nkb, k1 = K * (kb + 1) / nkb;
        u.k = k1 - k0;
        u.flags = ((kb > 0 || j->accumulate) ? KE_UKR_ACCUM : 0u) |
                  ((kb == nkb - 1 && relu) ? KE_UKR_RELU : 0u);
        for (int64_t p = p0; p < p1; p++) {
            const int64_t c0 = p * nr;
            u.b = b->panels + p * K * nr + k0 * nr;
            u.nr = (int)(N - c0 < nr ? N - c0 : nr);
            u.bias = (kb == 0 && bias) ? bias + c0 : NULL;
            for (int64_t i = i0; i < i1; i += mr) {
                u.a = j->A + i * j->rs_a + k0 * j->cs_a;
                u.c = j->Y + i * j->ldy + c0;
                u.mr = (int)(i1 - i < mr ? i1 - i : mr);
                kr->fn(&u);
            }
        }
    }
    if (j->act != KE_UN_NONE && !relu) {
        const int64_t c0 = p0 * nr, c1 = p1 * nr < N ? p1 * nr : N;
        for (int64_t i = i0; i < i1; i++) {
            float *y = j->Y + i * j->ldy + c0;
            ke_unary_f32(j->act, j->actp, y, y, c1 - c0);
        }
    }
}

/* The work split: n_rg row groups x n_cg panel groups. Row group g holds
 * row blocks [mb g / n_rg, mb (g+1) / n_rg): sizes differ by at most one
 * block, and the group count is a multiple of the thread count where there
 * are enough blocks, so every thread gets the same share (the old split,
 * ceil-sized groups, gave one thread 24 blocks and the other 19 of the MLP's
 * 43 at batch 256 on 2 threads). */
typedef struct gemm_split {
    const ke_gemm_kernel_t *kr;
    const ke_gemm_b_t *b;
    const ke_gemm_job_t *j;
    int64_t mb, n_rg, cg, n_cg;
} gemm_split_t;

static void split_plan(gemm_split_t *s, int64_t M, int64_t np, int mr, int n_threads) {
    const int64_t mb = (M + mr - 1) / mr;
    const int64_t target = n_threads > 1 ? 4 * (int64_t)n_threads : 1;
    int64_t n_rg = (mb + KE_GEMM_RG_BLOCKS - 1) / KE_GEMM_RG_BLOCKS;
    if (n_rg < target)
        n_rg = target;
    if (n_threads > 1)
        n_rg = (n_rg + n_threads - 1) / n_threads * n_threads;
    if (n_rg > mb)
        n_rg = mb;
    if (n_rg < 1)
        n_rg = 1;
    int64_t n_cg = 1;
    if (n_rg < target) {
        n_cg = (target + n_rg - 1) / n_rg;
        if (n_cg > np)
            n_cg = np;
    }
    s->cg = (np + n_cg - 1) / n_cg;
    s->n_cg = (np + s->cg - 1) / s->cg;
    s->mb = mb;
    s->n_rg = n_rg;
}

static void split_task(void *arg, int64_t begin, int64_t end, int tid) {
    (void)tid;
    const gemm_split_t *s = arg;
    const int64_t M = s->j->M, np = (s->b->N + s->kr->nr - 1) / s->kr->nr, mr = s->kr->mr;
    for (int64_t it = begin; it < end; it++) {
        const int64_t rg = it / s->n_cg, cg = it % s->n_cg;
        const int64_t i0 = s->mb * rg / s->n_rg * mr, p0 = cg * s->cg;
        const int64_t e = s->mb * (rg + 1) / s->n_rg * mr;
        const int64_t i1 = e < M ? e : M;
        const int64_t p1 = p0 + s->cg < np ? p0 + s->cg : np;
        if (i1 > i0)
            run_rect(s->kr, s->b, s->j, i0, i1, p0, p1);
    }
}

static void run_split(const ke_gemm_kernel_t *kr, const ke_gemm_b_t *b, const ke_gemm_job_t *j,
                      ke_threadpool_t *pool, int n_threads) {
    const int64_t np = (b->N + kr->nr - 1) / kr->nr;
    gemm_split_t s = {.kr = kr, .b = b, .j = j};
    split_plan(&s, j->M, np, kr->mr, n_threads);
    const int64_t items = s.n_rg * s.n_cg;
    if (n_threads > 1)
        ke_threadpool_parallel_for(pool, items, 1, split_task, &s);
    else
        split_task(&s, 0, items, 0);
}

void ke_gemm_run_serial(const ke_gemm_b_t *b, const ke_gemm_job_t *job) {
    ke_gemm_kernel_t kr;
    if (job->M <= 0 || b->N <= 0 || kernel_for(b->level, &kr) != 0)
        return;
    run_split(&kr, b, job, NULL, 1);
}

void ke_gemm_run(const ke_gemm_b_t *b, const ke_gemm_job_t *job, ke_threadpool_t *pool) {
    ke_gemm_kernel_t kr;
    if (job->M <= 0 || b->N <= 0 || kernel_for(b->level, &kr) != 0)
        return;
    int nt = ke_threadpool_size(pool);
    if ((double)job->M * (double)b->N * (double)(b->K > 0 ? b->K : 1) < KE_GEMM_PAR_MACS)
        nt = 1;
    run_split(&kr, b, job, pool, nt);
}
