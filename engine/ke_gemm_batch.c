/* ke_gemm_batch: numpy MatMul with a run-time B (attention scores and
 * context), over strided views so transposed operands and a transposed
 * output cost nothing: the batch of matrices is split over the pool, each
 * task packs its B into its own scratch slot and runs one single-threaded
 * product. When every A row meets the same B (no batch dims on B, A and Y
 * contiguous) B is packed once and the rows are split instead. */
#include "ke_gemm.h"

#include <string.h>

typedef struct batch_task {
    ke_gemm_level_t level;
    const ke_gemm_view_t *a, *b, *y;
    const float *A, *B, *bias;
    float alpha;
    float *Y;
    ke_unop_t act;
    ke_unparams_t actp;
    float *scratch;
    size_t slot_floats;
    int by_index; /* slot = matrix index (else thread id) */
} batch_task_t;

size_t ke_gemm_matmul_scratch_floats(ke_gemm_level_t level, int64_t K, int64_t N, int64_t slots) {
    if (slots < 1)
        slots = 1;
    return ke_gemm_pack_floats(level, K, N) * (size_t)slots;
}

void ke_gemm_view_permuted(ke_gemm_view_t *v, int rank, const int64_t *shape, const int64_t *perm) {
    int64_t st[KE_KERN_MAX_RANK];
    int64_t s = 1;
    for (int d = rank - 1; d >= 0; d--) {
        st[d] = s;
        s *= shape[d];
    }
    v->rank = rank;
    for (int i = 0; i < rank; i++) {
        const int d = perm ? (int)perm[i] : i;
        v->shape[i] = shape[d];
        v->stride[i] = st[d];
    }
}

static void batch_run(void *arg, int64_t begin, int64_t end, int tid) {
    const batch_task_t *t = arg;
    const ke_gemm_view_t *a = t->a, *b = t->b, *y = t->y;
    const int r = y->rank;
    const int64_t M = y->shape[r - 2], N = y->shape[r - 1], K = a->shape[r - 1];
    for (int64_t e = begin; e < end; e++) {
        int64_t oa = 0, ob = 0, oy = 0, rem = e;
        for (int d = r - 3; d >= 0; d--) {
            const int64_t x = rem % y->shape[d];
            rem /= y->shape[d];
            oa += (a->shape[d] == 1 ? 0 : x) * a->stride[d];
            ob += (b->shape[d] == 1 ? 0 : x) * b->stride[d];
            oy += x * y->stride[d];
        }
        float *slot = t->scratch + (size_t)(t->by_index ? e : tid) * t->slot_floats;
        ke_gemm_b_t pb;
        ke_gemm_pack_strided(t->level, K, N, t->B + ob, b->stride[r - 2], b->stride[r - 1], slot,
                             &pb);
        pb.bias = t->bias;
        const ke_gemm_job_t j = {.M = M,
                                 .A = t->A + oa,
                                 .rs_a = a->stride[r - 2],
                                 .cs_a = a->stride[r - 1],
                                 .alpha = t->alpha,
                                 .Y = t->Y + oy,
                                 .ldy = y->stride[r - 2],
                                 .act = t->act,
                                 .actp = t->actp};
        ke_gemm_run_serial(&pb, &j);
    }
}

/* 1 when the view is the plain row-major layout of its shape */
static int contiguous(const ke_gemm_view_t *v) {
    int64_t s = 1;
    for (int d = v->rank - 1; d >= 0; d--) {
        if (v->shape[d] != 1 && v->stride[d] != s)
            return 0;
        s *= v->shape[d];
    }
    return 1;
}

int ke_gemm_matmul_views(ke_gemm_level_t level, const ke_gemm_view_t *a, const float *A,
                         const ke_gemm_view_t *b, const float *B, float alpha, const float *bias,
                         const ke_gemm_view_t *y, float *Y, ke_unop_t act, ke_unparams_t actp,
                         float *scratch, int64_t slots, ke_threadpool_t *pool, int n_threads) {
    const int r = y->rank;
    if (!ke_gemm_level_supported(level) || !scratch || slots < 1 || r < 2 || a->rank != r ||
        b->rank != r || r > KE_KERN_MAX_RANK)
        return -1;
    const int64_t M = y->shape[r - 2], N = y->shape[r - 1], K = a->shape[r - 1];
    if (a->shape[r - 2] != M || b->shape[r - 2] != K || b->shape[r - 1] != N ||
        (N > 1 && y->stride[r - 1] != 1))
        return -1;
    int64_t total = 1, nb = 1;
    for (int d = 0; d < r - 2; d++) {
        if ((a->shape[d] != 1 && a->shape[d] != y->shape[d]) ||
            (b->shape[d] != 1 && b->shape[d] != y->shape[d]))
            return -1;
        total *= y->shape[d];
        nb *= b->shape[d];
    }
    if (total == 0 || M == 0 || N == 0)
        return 0;
    if (nb == 1 && contiguous(a) && contiguous(y)) {
        /* one B for every row of A: pack once, split the rows */
        int same = 1;
        for (int d = 0; d < r - 2; d++)
            same &= a->shape[d] == y->shape[d];
        if (same) {
            ke_gemm_b_t pb;
            ke_gemm_pack_strided(level, K, N, B, b->stride[r - 2], b->stride[r - 1], scratch, &pb);
            pb.bias = bias;
            const ke_gemm_job_t j = {.M = total * M,
                                     .A = A,
                                     .rs_a = K,
                                     .cs_a = 1,
                                     .alpha = alpha,
                                     .Y = Y,
                                     .ldy = N,
                                     .act = act,
                                     .actp = actp};
            ke_gemm_run(&pb, &j, pool);
            return 0;
        }
    }
    batch_task_t t = {.level = level,
                      .alpha = alpha,
                      .a = a,
                      .b = b,
                      .y = y,
                      .A = A,
                      .B = B,
                      .bias = bias,
                      .Y = Y,
                      .act = act,
                      .actp = actp,
                      .scratch = scratch};
    t.slot_floats = ke_gemm_pack_floats(level, K, N);
    t.by_index = total <= slots;
    if (!t.by_index && n_threads > slots)
        return -1;
    /* one matrix per item; tiny products are grouped so the pool's
     * hand-off is worth it */
    const double macs = (double)M * (double)N * (double)(K > 0 ? K : 1);
    const int64_t grain = macs >= 16384.0 ? 1 : (int64_t)(16384.0 / macs) + 1;
    if (n_threads <= 1 || !pool)
        batch_run(&t, 0, total, 0);
    else
        ke_threadpool_parallel_for(pool, total, grain, batch_run, &t);
    return 0;
}

void ke_gemm_matmul_views_ref(const ke_gemm_view_t *a, const float *A, const ke_gemm_view_t *b,
                              const float *B, float alpha, const float *bias,
                              const ke_gemm_view_t *y, float *Y, ke_unop_t act,
                              ke_unparams_t actp) {
    const int r = y->rank;
    const int64_t M = y->shape[r - 2], N = y->shape[r - 1], K = a->shape[r - 1];
    int64_t total = 1;
    for (int d = 0; d < r - 2; d++)
        total *= y->shape[d];
    for (int64_t e = 0; e < total; e++) {
        int64_t oa = 0, ob = 0, oy = 0, rem = e;
        for (int d = r - 3; d >= 0; d--) {
            const int64_t x = rem % y->shape[d];
            rem /= y->shape[d];
            oa += (a->shape[d] == 1 ? 0 : x) * a->stride[d];
            ob += (b->shape[d] == 1 ? 0 : x) * b->stride[d];
            oy += x * y->stride[d];
        }
        for (int64_t i = 0; i < M; i++)
            for (int64_t n = 0; n < N; n++) {
                double acc = 0.0;
                for (int64_t k = 0; k < K; k++)
                    acc += (double)A[oa + i * a->stride[r - 2] + k * a->stride[r - 1]] *
                           B[ob + k * b->stride[r - 2] + n * b->stride[r - 1]];
                acc = acc * alpha + (bias ? bias[n] : 0.0);
                Y[oy + i * y->stride[r - 2] + n * y->stride[r - 1]] =
                    ke_unary_ref(act, actp, (float)acc);
            }
    }
}

/* numpy operand shapes -> rank-r views (1-D operands promoted, leading
 * dims padded with 1) */
static void numpy_view(ke_gemm_view_t *v, int r, int rx, const int64_t *s, int is_b) {
    int64_t shp[KE_KERN_MAX_RANK];
    int n = 0;
    if (rx == 1) {
        for (int i = 0; i < r - 2; i++)
            shp[n++] = 1;
        if (is_b) {
            shp[n++] = s[0];
            shp[n++] = 1;
        } else {
            shp[n++] = 1;
            shp[n++] = s[0];
        }
    } else {
        for (int i = 0; i < r - rx; i++)
            shp[n++] = 1;
        for (int i = 0; i < rx; i++)
            shp[n++] = s[i];
    }
    ke_gemm_view_permuted(v, r, shp, NULL);
}

int ke_gemm_matmul(ke_gemm_level_t level, int ra, const int64_t *ashape, const float *A, int rb,
                   const int64_t *bshape, const float *B, const float *bias, float *Y,
                   ke_unop_t act, ke_unparams_t actp, float *scratch, int64_t slots,
                   ke_threadpool_t *pool, int n_threads) {
    int ry;
    int64_t ys[KE_KERN_MAX_RANK];
    if (ke_matmul_shape(ra, ashape, rb, bshape, &ry, ys) != 0)
        return -1;
    /* work at rank r >= 2 with the numpy-promoted dims kept */
    int r = ra > rb ? ra : rb;
    if (r < 2)
        r = 2;
    if (r > KE_KERN_MAX_RANK)
        return -1;
    ke_gemm_view_t a, b, y;
    numpy_view(&a, r, ra, ashape, 0);
    numpy_view(&b, r, rb, bshape, 1);
    int64_t yshape[KE_KERN_MAX_RANK];
    for (int d = 0; d < r - 2; d++)
        yshape[d] = a.shape[d] > b.shape[d] ? a.shape[d] : b.shape[d];
    yshape[r - 2] = a.shape[r - 2];
    yshape[r - 1] = b.shape[r - 1];
    ke_gemm_view_permuted(&y, r, yshape, NULL);
    return ke_gemm_matmul_views(level, &a, A, &b, B, 1.0f, bias, &y, Y, act, actp, scratch, slots,
                                pool, n_threads);
}
