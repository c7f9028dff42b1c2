/* ke_gemm_batch: numpy MatMul with a run-time B (attention scores and
 * context): the batch of matrices is split over the pool, each task packs
 * its B into its own scratch slot and runs one single-threaded product.
 * When every A row meets the same B (no batch dims on B) B is packed once
 * and the rows are split instead. */
#include "ke_gemm.h"

typedef struct batch_task {
    ke_gemm_level_t level;
    ke_bcast_t bc;
    int64_t M, N, K;
    const float *A, *B, *bias;
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

static void batch_run(void *arg, int64_t begin, int64_t end, int tid) {
    const batch_task_t *t = arg;
    for (int64_t e = begin; e < end; e++) {
        int64_t oa = 0, ob = 0, rem = e;
        for (int i = t->bc.rank - 1; i >= 0; i--) {
            const int64_t x = rem % t->bc.shape[i];
            rem /= t->bc.shape[i];
            oa += x * t->bc.stride[0][i];
            ob += x * t->bc.stride[1][i];
        }
        float *slot = t->scratch + (size_t)(t->by_index ? e : tid) * t->slot_floats;
        ke_gemm_b_t b;
        ke_gemm_pack_into(t->level, 0, t->K, t->N, t->B + ob * t->K * t->N, t->N, slot, &b);
        b.bias = t->bias;
        const ke_gemm_job_t j = {.M = t->M,
                                 .A = t->A + oa * t->M * t->K,
                                 .rs_a = t->K,
                                 .cs_a = 1,
                                 .alpha = 1.0f,
                                 .Y = t->Y + e * t->M * t->N,
                                 .ldy = t->N,
                                 .act = t->act,
                                 .actp = t->actp};
        ke_gemm_run_serial(&b, &j);
    }
}

int ke_gemm_matmul(ke_gemm_level_t level, int ra, const int64_t *ashape, const float *A, int rb,
                   const int64_t *bshape, const float *B, const float *bias, float *Y,
                   ke_unop_t act, ke_unparams_t actp, float *scratch, int64_t slots,
                   ke_threadpool_t *pool, int n_threads) {
    if (!ke_gemm_level_supported(level) || !scratch || slots < 1)
        return -1;
    const int64_t M = ra == 1 ? 1 : ashape[ra - 2], K = ashape[ra - 1];
    const int64_t N = rb == 1 ? 1 : bshape[rb - 1];
    const int r1 = ra > 2 ? ra - 2 : 0, r2 = rb > 2 ? rb - 2 : 0;
    int64_t nb1 = 1, nb2 = 1;
    for (int i = 0; i < r1; i++)
        nb1 *= ashape[i];
    for (int i = 0; i < r2; i++)
        nb2 *= bshape[i];
    if (M * N == 0 || nb1 == 0)
        return 0;
    if (nb2 == 1) { /* one B for every row of A: pack once, split the rows */
        ke_gemm_b_t b;
        ke_gemm_pack_into(level, 0, K, N, B, N, scratch, &b);
        b.bias = bias;
        const ke_gemm_job_t j = {.M = nb1 * M,
                                 .A = A,
                                 .rs_a = K,
                                 .cs_a = 1,
                                 .alpha = 1.0f,
                                 .Y = Y,
                                 .ldy = N,
                                 .act = act,
                                 .actp = actp};
        ke_gemm_run(&b, &j, pool);
        return 0;
    }
    batch_task_t t = {.level = level,
                      .M = M,
                      .N = N,
                      .K = K,
                      .A = A,
                      .B = B,
                      .bias = bias,
                      .Y = Y,
                      .act = act,
                      .actp = actp,
                      .scratch = scratch};
    int64_t bshp[KE_KERN_MAX_RANK];
    int rbatch;
    if (ke_bcast_shape(r1, ashape, r2, bshape, &rbatch, bshp) != 0 || rbatch == 0)
        return -1;
    const int rin[2] = {r1, r2};
    const int64_t *in[2] = {ashape, bshape};
    if (ke_bcast_init(&t.bc, rbatch, bshp, 2, rin, in) != 0)
        return -1;
    t.slot_floats = ke_gemm_pack_floats(level, K, N);
    t.by_index = t.bc.total <= slots;
    if (!t.by_index && n_threads > slots)
        return -1;
    /* one matrix per item; tiny products are batched up to keep the pool
     * wake-up worth it */
    const double macs = (double)M * (double)N * (double)(K > 0 ? K : 1);
    int64_t grain = macs >= 16384.0 ? 1 : (int64_t)(16384.0 / macs) + 1;
    if (n_threads <= 1)
        batch_run(&t, 0, t.bc.total, 0);
    else
        ke_threadpool_parallel_for(pool, t.bc.total, grain, batch_run, &t);
    return 0;
}
