/* ke_ops_linalg: Gemm and MatMul (with the engine's fused bias and
 * activation), float32 on OpenBLAS. */
#include <string.h>

#include "ke_ops_util.h"

ke_status_t ke_ops_gemm_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                              ke_tensor_t *const *out, int n_out, char *err, size_t errsz)
{
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

ke_status_t ke_ops_gemm_run(const ke_node_info_t *node, const void *state,
                            const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                            int n_out, ke_exec_ctx_t *x)
{
    (void)state, (void)n_out, (void)x;
    const ke_tensor_t *A = in[0], *B = in[1], *C = ke_ops_in(in, n_in, 2);
    int ta = ke_attr_int(node->attrs, "transA", 0) != 0;
    int tb = ke_attr_int(node->attrs, "transB", 0) != 0;
    float alpha = ke_attr_float(node->attrs, "alpha", 1.0f);
    float beta = ke_attr_float(node->attrs, "beta", 1.0f);
    int64_t M = ta ? A->shape[1] : A->shape[0], K = ta ? A->shape[0] : A->shape[1];
    int64_t N = tb ? B->shape[0] : B->shape[1];
    int64_t cm = 1, cn = 1;
    if (C) {
        cm = C->rank == 2 ? C->shape[0] : 1;
        cn = C->rank >= 1 ? C->shape[C->rank - 1] : 1;
    }
    ke_unop_t act;
    ke_unparams_t ap;
    ke_ops_fused_act(node->attrs, &act, &ap);
    ke_gemm_f32(ta, tb, M, N, K, alpha, A->data, B->data, beta, C ? C->data : NULL, cm, cn,
                out[0]->data, act, ap);
    return KE_OK;
}

ke_status_t ke_ops_matmul_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                ke_tensor_t *const *out, int n_out, char *err, size_t errsz)
{
    if (n_in < 2 || !in[0] || !in[1] || n_out < 1)
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "MatMul needs A and B");
    const ke_tensor_t *A = in[0], *B = in[1], *bias = ke_ops_in(in, n_in, 2);
    if (A->dtype != KE_DT_F32 || B->dtype != KE_DT_F32 || (bias && bias->dtype != KE_DT_F32))
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "MatMul supports float32 only");
    int r;
    int64_t shape[KE_MAX_RANK];
    if (ke_matmul_shape(A->rank, A->shape, B->rank, B->shape, &r, shape))
        return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "shapes do not multiply");
    if (bias) {
        int64_t n = B->rank == 1 ? 1 : B->shape[B->rank - 1];
        if (bias->rank != 1 || bias->shape[0] != n)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "bias must be [%lld]", (long long)n);
    }
    ke_unop_t act;
    ke_unparams_t ap;
    if (ke_ops_fused_act(node->attrs, &act, &ap))
        return ke_ops_fail(err, errsz, KE_ERR_UNSUPPORTED, "unknown ke_act");
    return ke_ops_set(out[0], KE_DT_F32, r, shape, err, errsz);
}

ke_status_t ke_ops_matmul_run(const ke_node_info_t *node, const void *state,
                              const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                              int n_out, ke_exec_ctx_t *x)
{
    (void)state, (void)n_out, (void)x;
    const ke_tensor_t *A = in[0], *B = in[1], *bias = ke_ops_in(in, n_in, 2);
    ke_unop_t act;
    ke_unparams_t ap;
    ke_ops_fused_act(node->attrs, &act, &ap);
    if (ke_tensor_numel(out[0]) == 0)
        return KE_OK;
    ke_matmul_f32(A->rank, A->shape, A->data, B->rank, B->shape, B->data,
                  bias ? bias->data : NULL, out[0]->data, act, ap);
    return KE_OK;
}
