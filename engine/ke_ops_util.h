/* ke_ops_util: small helpers shared by the op wrappers (ke_ops_*.c) that
 * adapt the kernels of ke_ops_kern.h to the op contract of ke_op.h, and the
 * per-family row lists the registry concatenates. Pure functions; any
 * thread. */
#ifndef KE_OPS_UTIL_H
#define KE_OPS_UTIL_H

#include <stdarg.h>
#include <stdio.h>

#include "ke_op.h"
#include "ke_ops_kern.h"

/* Writes a reason into err and returns st (printf-style). */
ke_status_t ke_ops_fail(char *err, size_t errsz, ke_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Normalises axis into [0, rank) (negative counts from the end); -1 when
 * out of range. */
int ke_ops_axis(int64_t axis, int rank);

/* Kernel element kind of a dtype; -1 when the binary kernels lack it. */
int ke_ops_kind(ke_dtype_t dt);

/* Input i or NULL when omitted. */
static inline const ke_tensor_t *ke_ops_in(const ke_tensor_t *const *in, int n_in, int i) {
    return i < n_in ? in[i] : NULL;
}

/* Output i or NULL when omitted. */
static inline ke_tensor_t *ke_ops_out(ke_tensor_t *const *out, int n_out, int i) {
    return i < n_out ? out[i] : NULL;
}

/* Sets an output's dtype and shape (data untouched). */
ke_status_t ke_ops_set(ke_tensor_t *t, ke_dtype_t dt, int rank, const int64_t *shape, char *err,
                       size_t errsz);

/* Copies in's bytes to out unless they already share the buffer (for
 * KE_OP_VIEW rows). */
void ke_ops_copy_view(const ke_tensor_t *in, ke_tensor_t *out);

/* The fused-activation attributes ("ke_act", "ke_act_alpha") as a unary op.
 * Returns 0, or -1 for an unknown code. */
int ke_ops_fused_act(const ke_attrs_t *attrs, ke_unop_t *op, ke_unparams_t *p);

/* Wrapper entry points (infer/prepare/run of ke_op.h), one set per op or
 * op family; the registry (ke_ops_registry.c) lists them. */
#define KE_OPS_DECL(name)                                                                          \
    ke_status_t ke_ops_##name##_infer(const ke_node_info_t *node, const ke_tensor_t *const *in,    \
                                      int n_in, ke_tensor_t *const *out, int n_out, char *err,     \
                                      size_t errsz);                                               \
    ke_status_t ke_ops_##name##_run(const ke_node_info_t *node, const void *state,                 \
                                    const ke_tensor_t *const *in, int n_in,                        \
                                    ke_tensor_t *const *out, int n_out, ke_exec_ctx_t *x);

#define KE_OPS_DECL_PREPARE(name)                                                                  \
    ke_status_t ke_ops_##name##_prepare(const ke_node_info_t *node, const ke_tensor_t *const *in,  \
                                        int n_in, const ke_tensor_t *const *out, int n_out,        \
                                        void **state, size_t *scratch_bytes, char *err,            \
                                        size_t errsz);

/* ke_ops_elementwise.c */
KE_OPS_DECL(binary)
KE_OPS_DECL(where)
KE_OPS_DECL(expand)
/* ke_ops_activation.c */
KE_OPS_DECL(unary)
KE_OPS_DECL(predicate)
/* ke_ops_linalg.c */
KE_OPS_DECL(gemm)
KE_OPS_DECL_PREPARE(gemm)
KE_OPS_DECL(matmul)
KE_OPS_DECL_PREPARE(matmul)
void ke_ops_linalg_free(void *state);
/* ke_ops_convpool.c */
KE_OPS_DECL(conv)
KE_OPS_DECL_PREPARE(conv)
KE_OPS_DECL(pool)
KE_OPS_DECL(global_pool)
/* ke_ops_normalize.c */
KE_OPS_DECL(batchnorm)
KE_OPS_DECL(layernorm)
KE_OPS_DECL(instnorm)
KE_OPS_DECL(softmax)
/* ke_ops_reduction.c */
KE_OPS_DECL(reduce)
KE_OPS_DECL(arg)
/* ke_ops_shape.c: the view ops share ke_ops_view_run */
KE_OPS_DECL(identity)
KE_OPS_DECL(view)
ke_status_t ke_ops_reshape_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                 ke_tensor_t *const *out, int n_out, char *err, size_t errsz);
ke_status_t ke_ops_flatten_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                 ke_tensor_t *const *out, int n_out, char *err, size_t errsz);
ke_status_t ke_ops_squeeze_infer(const ke_node_info_t *node, const ke_tensor_t *const *in, int n_in,
                                 ke_tensor_t *const *out, int n_out, char *err, size_t errsz);
ke_status_t ke_ops_unsqueeze_infer(const ke_node_info_t *node, const ke_tensor_t *const *in,
                                   int n_in, ke_tensor_t *const *out, int n_out, char *err,
                                   size_t errsz);
KE_OPS_DECL(shapeof)
KE_OPS_DECL(constant)
KE_OPS_DECL(constofshape)
KE_OPS_DECL(range)
/* ke_ops_movement.c */
KE_OPS_DECL(transpose)
KE_OPS_DECL(concat)
KE_OPS_DECL(split)
KE_OPS_DECL(slice)
KE_OPS_DECL(gather)
KE_OPS_DECL(tile)
KE_OPS_DECL(cast)

#endif
