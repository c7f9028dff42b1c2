/* ke_ops_linalg: Gemm and MatMul (with the engine's fused bias and
 * activation), float32: our packed kernels (ke_gemm.h) where the CPU has
 * AVX2/AVX-512, OpenBLAS sgemm otherwise and for constant folding. */
#include <stdlib.h>
#include <string.h>

#include "ke_gemm.h"

#include "ke_ops_util.h"

ke_status_t ke_ops_gemm_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                              ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    if (n_in < 2 || !in[0] || !in[1] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "Gemm needs A and B");
    const ke_tensor_t *A = in[0], *B = in[1], *C = ke_ops_in(in, n_in, 2);
    if (A->dtype != KE_DT_F32 || B->dtype != KE_DT_F32 || (C && C->dtype != KE_DT_F32))
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "Gemm supports float32 only");
    if (A->rank != 2 || B->rank != 2)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "A and B must be 2-D");
    int ta = ke_attr_int(node->attrs, "transA", 0) != 0;
    int tb = ke_attr_int(node->attrs, "transB", 0) != 0;
    int64_t M = ta ? A->shape[1] : A->shape[0], K = ta ? A->shape[0] : A->shape[1];
    int64_t K2 = tb ? B->shape[1] : B->shape[0], N = tb ? B->shape[0] : B->shape[1];
    if (K != K2)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "inner dims differ (%lld vs %lld)",
                           (long long)K, (long long)K2);
    if (C) {
        int64_t cm = C->rank == 2 ? C->shape[0] : 1;
        int64_t cn = C->rank >= 1 ? C->shape[C->rank - 1] : 1;
        if (C->rank > 2 || (cm != 1 && cm != M) || (cn != 1 && cn != N))
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "C does not broadcast to [%lld,%lld]",
                               (long long)M, (long long)N);
    }
    ke_unop_t act;
    ke_unparams_t ap;
    if (ke_ops_fused_act(node->attrs, &act, &ap))
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "unknown ke_act");
    const int64_t shape[2] = {M, N};
    return ke_ops_set(out[0], KE_DT_F32, 2, shape, err, errsz);
}

/* Gemm/MatMul state: the fused epilogue and, when B is a constant, B
 * packed for our kernels (with Gemm's beta * C or MatMul's bias folded in
 * when those are constant vectors). */
typedef struct linalg_state {
    int ta, tb;
    float alpha, beta;
    ke_unop_t act;
    ke_unparams_t actp;
    ke_gemm_level_t level;
    int use_ours;             /* our kernels (else OpenBLAS sgemm) */
    const void *b_data;       /* the constant B that was packed */
    ke_gemm_packed_t *packed; /* NULL: B packed per run into scratch */
    int bias_packed;          /* the bias/C is inside packed */
    int64_t slots;            /* MatMul scratch slots for run-time Bs */
    int permuted;             /* MatMul with ke_perm_a/_b/_y (fused Transposes) */
} linalg_state_t;

void ke_ops_linalg_free(void *state) {
    linalg_state_t *s = state;
    ke_gemm_packed_free(s->packed);
    free(s);
}

/* OpenBLAS's own AVX2 kernels beat ours on big products (measured on an
 * AVX-512 CPU forced to both AVX2 paths: ~90 vs ~73 GFLOP/s at
 * 2048x512x128, while ours wins small M through not repacking B); at
 * AVX-512 ours matches or beats the Haswell kernels OpenBLAS picks. */
#define KE_LINALG_BLAS_MACS 4194304.0

static int blas_wins(const linalg_state_t *s, int64_t MN, int64_t K) {
    return s->level == KE_GEMM_AVX2 && (double)MN * (double)K >= KE_LINALG_BLAS_MACS;
}

static linalg_state_t *state_new(const ke_node_info_t *node) {
    linalg_state_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->ta = ke_attr_int(node->attrs, "transA", 0) != 0;
    s->tb = ke_attr_int(node->attrs, "transB", 0) != 0;
    s->alpha = ke_attr_float(node->attrs, "alpha", 1.0f);
    s->beta = ke_attr_float(node->attrs, "beta", 1.0f);
    ke_ops_fused_act(node->attrs, &s->act, &s->actp);
    s->level = ke_gemm_level_best();
    /* on CPUs without AVX2 OpenBLAS's own kernels beat the portable one */
    s->use_ours = s->level != KE_GEMM_REF;
    return s;
}

ke_status_t ke_ops_gemm_prepare(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                const ke_tensor_t *const *out, int n_out, void **state,
                                size_t *scratch_bytes, char *err, size_t errsz) {
    (void)out, (void)n_out;
    *state = NULL;
    *scratch_bytes = 0;
    linalg_state_t *s = state_new(node);
    if (!s)
        return ke_ops_fail(err, errsz, KE_ERR_NOMEM, "out of memory");
    *state = s;
    if (!s->use_ours)
        return KE_OK;
    const ke_tensor_t *A = in[0], *B = in[1], *C = ke_ops_in(in, n_in, 2);
    const int64_t K = s->ta ? A->shape[0] : A->shape[1];
    const int64_t N = s->tb ? B->shape[0] : B->shape[1];
    if (!B->data) { /* run-time B: packed per run */
        *scratch_bytes = ke_gemm_pack_floats(s->level, K, N) * sizeof(float);
        return KE_OK;
    }
    /* a constant C that is one row (or a scalar) becomes the packed bias */
    const int64_t cm = C && C->rank == 2 ? C->shape[0] : 1;
    const int64_t cn = C && C->rank >= 1 ? C->shape[C->rank - 1] : 1;
    const int cvec = C && C->data && cm == 1 && s->beta != 0.0f;
    s->packed =
        ke_gemm_packed_new(s->level, s->tb, K, N, B->data, cvec ? C->data : NULL, cn, s->beta);
    if (!s->packed)
        return ke_ops_fail(err, errsz, KE_ERR_NOMEM, "out of memory packing B");
    s->b_data = B->data;
    s->bias_packed = cvec;
    return KE_OK;
}

/* Y = beta * C broadcast from [cm, cn]. */
static void fill_c(float *Y, int64_t M, int64_t N, float beta, const float *C, int64_t cm,
                   int64_t cn) {
    for (int64_t i = 0; i < M; i++) {
        const float *c = C + (cm == 1 ? 0 : i * cn);
        float *y = Y + i * N;
        for (int64_t j = 0; j < N; j++)
            y[j] = beta * c[cn == 1 ? 0 : j];
    }
}

ke_status_t ke_ops_gemm_run(const ke_node_info_t *node, const void *state,
                            const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                            int n_out, ke_exec_ctx_t *x) {
    (void)n_out;
    const linalg_state_t *s = state;
    const ke_tensor_t *A = in[0], *B = in[1], *C = ke_ops_in(in, n_in, 2);
    linalg_state_t tmp;
    if (!s) { /* constant folding runs nodes without prepare */
        memset(&tmp, 0, sizeof tmp);
        tmp.ta = ke_attr_int(node->attrs, "transA", 0) != 0;
        tmp.tb = ke_attr_int(node->attrs, "transB", 0) != 0;
        tmp.alpha = ke_attr_float(node->attrs, "alpha", 1.0f);
        tmp.beta = ke_attr_float(node->attrs, "beta", 1.0f);
        ke_ops_fused_act(node->attrs, &tmp.act, &tmp.actp);
        s = &tmp;
    }
    const int ta = s->ta, tb = s->tb;
    const float alpha = s->alpha, beta = s->beta;
    const ke_unop_t act = s->act;
    const ke_unparams_t ap = s->actp;
    int64_t M = ta ? A->shape[1] : A->shape[0], K = ta ? A->shape[0] : A->shape[1];
    int64_t N = tb ? B->shape[0] : B->shape[1];
    int64_t cm = 1, cn = 1;
    if (C) {
        cm = C->rank == 2 ? C->shape[0] : 1;
        cn = C->rank >= 1 ? C->shape[C->rank - 1] : 1;
    }
    float *Y = out[0]->data;
    ke_gemm_b_t bv;
    const ke_gemm_b_t *b = NULL;
    if (blas_wins(s, M * N, K)) {
        b = NULL;
    } else if (s->use_ours && s->packed && s->b_data == B->data) {
        b = ke_gemm_packed_view(s->packed);
    } else if (s->use_ours && !s->packed &&
               ke_gemm_pack_floats(s->level, K, N) * sizeof(float) <= x->scratch_bytes) {
        ke_gemm_pack_into(s->level, tb, K, N, B->data, tb ? K : N, x->scratch, &bv);
        b = &bv;
    }
    if (!b || M * N == 0) {
        ke_gemm_f32(ta, tb, M, N, K, alpha, A->data, B->data, beta, C ? C->data : NULL, cm, cn, Y,
                    act, ap);
        return KE_OK;
    }
    ke_gemm_job_t j = {.M = M,
                       .A = A->data,
                       .rs_a = ta ? 1 : K,
                       .cs_a = ta ? M : 1,
                       .alpha = alpha,
                       .Y = Y,
                       .ldy = N,
                       .act = act,
                       .actp = ap};
    if (C && beta != 0.0f && !(s->bias_packed && b->bias)) {
        if (cm == 1 && cn == N && beta == 1.0f) {
            j.bias = C->data;
        } else {
            fill_c(Y, M, N, beta, C->data, cm, cn);
            j.accumulate = 1;
        }
    }
    ke_gemm_run(b, &j, x->pool);
    return KE_OK;
}

/* ---- MatMul --------------------------------------------------------------
 *
 * The fusion pass may fold Transposes around an attention MatMul into it:
 * INTS "ke_perm_a" / "ke_perm_b" mean the logical operand is
 * Transpose(input, perm); "ke_perm_y" means the stored output is
 * Transpose(logical result, perm). Such nodes run on strided views
 * (ke_gemm_matmul_views); both inputs then have the same rank >= 3.
 * FLOAT "ke_alpha" scales the product (a Div/Mul by a constant folded in). */

typedef struct mm_perms {
    int any;     /* run on views (perms, or alpha at rank >= 3) */
    float alpha; /* "ke_alpha" (a fused Div/Mul by a constant) */
    int has[3];  /* a, b, y */
    int64_t p[3][KE_MAX_RANK];
} mm_perms_t;

/* Reads the perms for operand ranks ra/rb (the output's rank is theirs);
 * -1 when one is malformed. */
static int mm_perms(const ke_attrs_t *attrs, int ra, int rb, mm_perms_t *mp) {
    static const char *const names[3] = {"ke_perm_a", "ke_perm_b", "ke_perm_y"};
    memset(mp, 0, sizeof *mp);
    mp->alpha = ke_attr_float(attrs, "ke_alpha", 1.0f);
    if (mp->alpha != 1.0f && ra == rb && ra >= 3 && ra <= KE_MAX_RANK)
        mp->any = 1;
    for (int w = 0; w < 3; w++) {
        const int64_t *v;
        const int64_t n = ke_attr_ints(attrs, names[w], &v);
        if (n < 0)
            continue;
        if (ra != rb || ra < 3 || n != ra)
            return -1;
        int seen = 0;
        for (int i = 0; i < n; i++) {
            if (v[i] < 0 || v[i] >= n || (seen & (1 << v[i])))
                return -1;
            seen |= 1 << v[i];
            mp->p[w][i] = v[i];
        }
        mp->has[w] = 1;
        mp->any = 1;
    }
    return 0;
}

/* Logical operand shape: shape read through perm (when has). */
static void mm_apply(int r, const int64_t *shape, int has, const int64_t *perm, int64_t *out) {
    for (int i = 0; i < r; i++)
        out[i] = has ? shape[perm[i]] : shape[i];
}

ke_status_t ke_ops_matmul_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    if (n_in < 2 || !in[0] || !in[1] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "MatMul needs A and B");
    const ke_tensor_t *A = in[0], *B = in[1], *bias = ke_ops_in(in, n_in, 2);
    if (A->dtype != KE_DT_F32 || B->dtype != KE_DT_F32 || (bias && bias->dtype != KE_DT_F32))
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "MatMul supports float32 only");
    mm_perms_t mp;
    if (mm_perms(node->attrs, A->rank, B->rank, &mp))
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "bad ke_perm_a/b/y");
    int64_t as[KE_MAX_RANK], bs[KE_MAX_RANK];
    mm_apply(A->rank, A->shape, mp.has[0], mp.p[0], as);
    mm_apply(B->rank, B->shape, mp.has[1], mp.p[1], bs);
    int r;
    int64_t shape[KE_MAX_RANK], ys[KE_MAX_RANK];
    if (ke_matmul_shape(A->rank, as, B->rank, bs, &r, shape))
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "shapes do not multiply");
    if (bias) {
        int64_t n = B->rank == 1 ? 1 : bs[B->rank - 1];
        if (bias->rank != 1 || bias->shape[0] != n)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "bias must be [%lld]", (long long)n);
    }
    ke_unop_t act;
    ke_unparams_t ap;
    if (ke_ops_fused_act(node->attrs, &act, &ap))
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "unknown ke_act");
    mm_apply(r, shape, mp.has[2], mp.p[2], ys);
    return ke_ops_set(out[0], KE_DT_F32, r, ys, err, errsz);
}

/* The strided run of a MatMul with fused Transposes. */
static ke_status_t matmul_permuted(const linalg_state_t *s, const mm_perms_t *mp,
                                   const ke_tensor_t *A, const ke_tensor_t *B, const float *bias,
                                   ke_tensor_t *Yt, ke_unop_t act, ke_unparams_t ap,
                                   ke_exec_ctx_t *x) {
    const int r = A->rank;
    ke_gemm_view_t a, b, y;
    ke_gemm_view_permuted(&a, r, A->shape, mp->has[0] ? mp->p[0] : NULL);
    ke_gemm_view_permuted(&b, r, B->shape, mp->has[1] ? mp->p[1] : NULL);
    /* stored Z = Transpose(Y, q): Y dim j is Z dim qinv[j] */
    int64_t qinv[KE_MAX_RANK];
    for (int i = 0; i < r; i++)
        qinv[mp->has[2] ? mp->p[2][i] : i] = i;
    ke_gemm_view_permuted(&y, r, Yt->shape, qinv);
    const ke_gemm_level_t lvl = s ? s->level : ke_gemm_level_best();
    const int64_t slots = s ? s->slots : 0;
    const size_t need =
        ke_gemm_matmul_scratch_floats(lvl, a.shape[r - 1], b.shape[r - 1], slots) * sizeof(float);
    if (slots > 0 && need <= x->scratch_bytes &&
        ke_gemm_matmul_views(lvl, &a, A->data, &b, B->data, mp->alpha, bias, &y, Yt->data, act, ap,
                             x->scratch, slots, x->pool, x->n_threads) == 0)
        return KE_OK;
    ke_gemm_matmul_views_ref(&a, A->data, &b, B->data, mp->alpha, bias, &y, Yt->data, act, ap);
    return KE_OK;
}

/* Matrices in the batch of a MatMul (broadcast batch dims of A and B). */
static int64_t matmul_batch(const ke_tensor_t *A, const ke_tensor_t *B, int64_t *nb2) {
    int64_t shp[KE_KERN_MAX_RANK];
    int r = 0;
    const int r1 = A->rank > 2 ? A->rank - 2 : 0, r2 = B->rank > 2 ? B->rank - 2 : 0;
    *nb2 = 1;
    for (int i = 0; i < r2; i++)
        *nb2 *= B->shape[i];
    if (ke_bcast_shape(r1, A->shape, r2, B->shape, &r, shp) != 0)
        return 1;
    int64_t n = 1;
    for (int i = 0; i < r; i++)
        n *= shp[i];
    return n;
}

ke_status_t ke_ops_matmul_prepare(const ke_node_info_t *node, const ke_tensor_t *const *in,
                                  int n_in, const ke_tensor_t *const *out, int n_out, void **state,
                                  size_t *scratch_bytes, char *err, size_t errsz) {
    (void)out, (void)n_out;
    *state = NULL;
    *scratch_bytes = 0;
    linalg_state_t *s = state_new(node);
    if (!s)
        return ke_ops_fail(err, errsz, KE_ERR_NOMEM, "out of memory");
    *state = s;
    const ke_tensor_t *A = in[0], *B = in[1], *bias = ke_ops_in(in, n_in, 2);
    mm_perms_t mp;
    if (mm_perms(node->attrs, A->rank, B->rank, &mp))
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "bad ke_perm_a/b/y");
    if (mp.any) { /* strided views: packed per matrix, on every CPU */
        int64_t as[KE_MAX_RANK], bs[KE_MAX_RANK], nb = 1;
        mm_apply(A->rank, A->shape, mp.has[0], mp.p[0], as);
        mm_apply(B->rank, B->shape, mp.has[1], mp.p[1], bs);
        for (int i = 0; i < A->rank - 2; i++)
            nb *= as[i] > bs[i] ? as[i] : bs[i];
        s->permuted = 1;
        s->slots = nb < 1 ? 1 : nb < KE_GEMM_MAX_SLOTS ? nb : KE_GEMM_MAX_SLOTS;
        *scratch_bytes =
            ke_gemm_matmul_scratch_floats(s->level, as[A->rank - 1], bs[B->rank - 1], s->slots) *
            sizeof(float);
        return KE_OK;
    }
    if (!s->use_ours)
        return KE_OK;
    const int64_t K = A->shape[A->rank - 1];
    const int64_t N = B->rank == 1 ? 1 : B->shape[B->rank - 1];
    int64_t nb2;
    const int64_t nb = matmul_batch(A, B, &nb2);
    if (B->data && nb2 == 1) {
        const int cbias = bias && bias->data;
        s->packed =
            ke_gemm_packed_new(s->level, 0, K, N, B->data, cbias ? bias->data : NULL, N, 1.0f);
        if (!s->packed)
            return ke_ops_fail(err, errsz, KE_ERR_NOMEM, "out of memory packing B");
        s->b_data = B->data;
        s->bias_packed = cbias;
        return KE_OK;
    }
    s->slots = nb2 == 1 ? 1 : (nb < KE_GEMM_MAX_SLOTS ? nb : KE_GEMM_MAX_SLOTS);
    *scratch_bytes = ke_gemm_matmul_scratch_floats(s->level, K, N, s->slots) * sizeof(float);
    return KE_OK;
}

ke_status_t ke_ops_matmul_run(const ke_node_info_t *node, const void *state,
                              const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                              int n_out, ke_exec_ctx_t *x) {
    (void)n_out;
    const linalg_state_t *s = state;
    const ke_tensor_t *A = in[0], *B = in[1], *bias = ke_ops_in(in, n_in, 2);
    ke_unop_t act;
    ke_unparams_t ap;
    ke_ops_fused_act(node->attrs, &act, &ap);
    if (ke_tensor_numel(out[0]) == 0)
        return KE_OK;
    mm_perms_t mp;
    if (mm_perms(node->attrs, A->rank, B->rank, &mp))
        return ke_ops_fail(x->err, x->errsz, KE_ERR_SHAPE, "bad ke_perm_a/b/y");
    if (mp.any)
        return matmul_permuted(s, &mp, A, B, bias ? bias->data : NULL, out[0], act, ap, x);
    if (mp.alpha != 1.0f) { /* any other shapes: the plain product, then the epilogue */
        ke_matmul_f32(A->rank, A->shape, A->data, B->rank, B->shape, B->data, NULL, out[0]->data,
                      KE_UN_NONE, ap);
        float *y = out[0]->data;
        const int64_t n = ke_tensor_numel(out[0]), N = B->rank == 1 ? 1 : B->shape[B->rank - 1];
        for (int64_t i = 0; i < n; i++)
            y[i] = y[i] * mp.alpha + (bias ? ((const float *)bias->data)[i % N] : 0.0f);
        if (act != KE_UN_NONE)
            ke_unary_f32(act, ap, y, y, n);
        return KE_OK;
    }
    if (s && s->use_ours && s->packed && s->b_data == B->data &&
        !blas_wins(s, ke_tensor_numel(out[0]), A->shape[A->rank - 1])) {
        const ke_gemm_b_t *b = ke_gemm_packed_view(s->packed);
        const int64_t K = A->shape[A->rank - 1];
        const ke_gemm_job_t j = {.M = ke_tensor_numel(A) / (K > 0 ? K : 1),
                                 .A = A->data,
                                 .rs_a = K,
                                 .cs_a = 1,
                                 .alpha = 1.0f,
                                 .Y = out[0]->data,
                                 .ldy = b->N,
                                 .bias = s->bias_packed ? NULL : (bias ? bias->data : NULL),
                                 .act = act,
                                 .actp = ap};
        if (K > 0) {
            ke_gemm_run(b, &j, x->pool);
            return KE_OK;
        }
    }
    if (s && s->use_ours && !s->packed) {
        const int64_t K = A->shape[A->rank - 1];
        const int64_t N = B->rank == 1 ? 1 : B->shape[B->rank - 1];
        const size_t need = ke_gemm_matmul_scratch_floats(s->level, K, N, s->slots) * sizeof(float);
        if (need <= x->scratch_bytes &&
            ke_gemm_matmul(s->level, A->rank, A->shape, A->data, B->rank, B->shape, B->data,
                           bias ? bias->data : NULL, out[0]->data, act, ap, x->scratch, s->slots,
                           x->pool, x->n_threads) == 0)
            return KE_OK;
    }
    ke_matmul_f32(A->rank, A->shape, A->data, B->rank, B->shape, B->data, bias ? bias->data : NULL,
                  out[0]->data, act, ap);
    return KE_OK;
}
