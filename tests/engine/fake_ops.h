/* Minimal fake operator rows for engine graph-side tests (below our API:
 * the real kernels are tested by the ops suites). f32 unless noted. */
#ifndef KE_TEST_FAKE_OPS_H
#define KE_TEST_FAKE_OPS_H

#include <stdio.h>
#include <string.h>

#include "ke_op.h"

static ke_status_t fk_same_infer(const ke_node_info_t *n, const ke_tensor_t *const *in, int n_in,
                                 ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    (void)n;
    (void)n_out;
    const ke_tensor_t *a = in[0];
    if (n_in > 1 && in[1]) {
        const ke_tensor_t *b = in[1];
        int ok = ke_tensor_same_shape(a, b) || ke_tensor_numel(b) == 1 ||
                 (b->rank == 1 && a->rank >= 1 && b->shape[0] == a->shape[a->rank - 1]);
        if (!ok || a->dtype != b->dtype) {
            snprintf(err, errsz, "shapes do not broadcast");
            return KE_ERR_SHAPE;
        }
    }
    *out[0] = *a;
    return KE_OK;
}

static ke_status_t fk_binary_run(const ke_node_info_t *n, const void *st,
                                 const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                                 int n_out, ke_exec_ctx_t *x) {
    (void)st;
    (void)n_in;
    (void)n_out;
    (void)x;
    int mul = strcmp(n->op_type, "Mul") == 0;
    int64_t na = ke_tensor_numel(in[0]), nb = ke_tensor_numel(in[1]);
    for (int64_t i = 0; i < na; i++) {
        if (in[0]->dtype == KE_DT_I64) {
            int64_t a = ((const int64_t *)in[0]->data)[i],
                    b = ((const int64_t *)in[1]->data)[i % nb];
            ((int64_t *)out[0]->data)[i] = mul ? a * b : a + b;
        } else {
            float a = ((const float *)in[0]->data)[i], b = ((const float *)in[1]->data)[i % nb];
            ((float *)out[0]->data)[i] = mul ? a * b : a + b;
        }
    }
    return KE_OK;
}

static ke_status_t fk_relu_run(const ke_node_info_t *n, const void *st,
                               const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                               int n_out, ke_exec_ctx_t *x) {
    (void)n;
    (void)st;
    (void)n_in;
    (void)n_out;
    (void)x;
    int64_t na = ke_tensor_numel(in[0]);
    for (int64_t i = 0; i < na; i++) {
        float a = ((const float *)in[0]->data)[i];
        ((float *)out[0]->data)[i] = a > 0 ? a : 0;
    }
    return KE_OK;
}

static ke_status_t fk_matmul_infer(const ke_node_info_t *n, const ke_tensor_t *const *in, int n_in,
                                   ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    (void)n;
    (void)n_in;
    (void)n_out;
    if (in[0]->rank != 2 || in[1]->rank != 2 || in[0]->shape[1] != in[1]->shape[0]) {
        snprintf(err, errsz, "inner dims differ");
        return KE_ERR_SHAPE;
    }
    int64_t s[2] = {in[0]->shape[0], in[1]->shape[1]};
    return ke_tensor_set_shape(out[0], KE_DT_F32, 2, s);
}

static ke_status_t fk_matmul_run(const ke_node_info_t *n, const void *st,
                                 const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                                 int n_out, ke_exec_ctx_t *x) {
    (void)n;
    (void)st;
    (void)n_in;
    (void)n_out;
    (void)x;
    int64_t M = in[0]->shape[0], K = in[0]->shape[1], N = in[1]->shape[1];
    const float *A = in[0]->data, *B = in[1]->data;
    float *C = out[0]->data;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            float s = 0;
            for (int64_t k = 0; k < K; k++)
                s += A[i * K + k] * B[k * N + j];
            C[i * N + j] = s;
        }
    return KE_OK;
}

static ke_status_t fk_reshape_infer(const ke_node_info_t *n, const ke_tensor_t *const *in, int n_in,
                                    ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    (void)n;
    (void)n_in;
    (void)n_out;
    const ke_tensor_t *s = in[1];
    int64_t r = ke_tensor_numel(s), total = ke_tensor_numel(in[0]), known = 1, neg = -1;
    int64_t dims[KE_MAX_RANK];
    if (r > KE_MAX_RANK)
        return KE_ERR_SHAPE;
    for (int64_t i = 0; i < r; i++) {
        dims[i] = ((const int64_t *)s->data)[i];
        if (dims[i] == 0)
            dims[i] = in[0]->shape[i];
        if (dims[i] < 0)
            neg = i;
        else
            known *= dims[i];
    }
    if (neg >= 0)
        dims[neg] = known ? total / known : 0;
    int64_t prod = 1;
    for (int64_t i = 0; i < r; i++)
        prod *= dims[i];
    if (prod != total) {
        snprintf(err, errsz, "cannot reshape %lld elements", (long long)total);
        return KE_ERR_SHAPE;
    }
    return ke_tensor_set_shape(out[0], in[0]->dtype, (int)r, dims);
}

static ke_status_t fk_copy_run(const ke_node_info_t *n, const void *st,
                               const ke_tensor_t *const *in, int n_in, ke_tensor_t *const *out,
                               int n_out, ke_exec_ctx_t *x) {
    (void)n;
    (void)st;
    (void)n_in;
    (void)n_out;
    (void)x;
    if (out[0]->data != in[0]->data)
        memcpy(out[0]->data, in[0]->data, ke_tensor_nbytes(in[0]));
    return KE_OK;
}

static ke_status_t fk_shape_infer(const ke_node_info_t *n, const ke_tensor_t *const *in, int n_in,
                                  ke_tensor_t *const *out, int n_out, char *err, size_t errsz) {
    (void)n;
    (void)n_in;
    (void)n_out;
    (void)err;
    (void)errsz;
    int64_t r = in[0]->rank;
    return ke_tensor_set_shape(out[0], KE_DT_I64, 1, &r);
}

static const ke_op_def_t k_fake_ops[] = {
    {"Add", "", 7, 0, 0, fk_same_infer, NULL, NULL, fk_binary_run},
    {"Mul", "", 7, 0, 0, fk_same_infer, NULL, NULL, fk_binary_run},
    {"Relu", "", 6, 0, 0, fk_same_infer, NULL, NULL, fk_relu_run},
    {"MatMul", "", 1, 0, 0, fk_matmul_infer, NULL, NULL, fk_matmul_run},
    {"Reshape", "", 5, 1u << 1, KE_OP_VIEW, fk_reshape_infer, NULL, NULL, fk_copy_run},
    {"Shape", "", 1, 0, 0, fk_shape_infer, NULL, NULL, fk_copy_run},
};

#define FAKE_OPS k_fake_ops, sizeof k_fake_ops / sizeof k_fake_ops[0]

#endif
