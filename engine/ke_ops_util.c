/* ke_ops_util: helpers shared by the op wrappers. */
#include "ke_ops_util.h"

#include <string.h>

ke_status_t ke_ops_fail(char *err, size_t errsz, ke_status_t st, const char *fmt, ...) {
    if (err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return st;
}

int ke_ops_axis(int64_t axis, int rank) {
    if (axis < 0)
        axis += rank;
    if (axis < 0 || axis >= rank)
        return -1;
    return (int)axis;
}

int ke_ops_kind(ke_dtype_t dt) {
    switch (dt) {
    case KE_DT_F32: return KE_K_F32;
    case KE_DT_F64: return KE_K_F64;
    case KE_DT_I64: return KE_K_I64;
    case KE_DT_I32: return KE_K_I32;
    case KE_DT_U8:
    case KE_DT_BOOL: return KE_K_U8;
    case KE_DT_I8: return KE_K_I8;
    default: return -1;
    }
}

ke_status_t ke_ops_set(ke_tensor_t *t, ke_dtype_t dt, int rank, const int64_t *shape, char *err,
                       size_t errsz) {
    if (!t)
        return KE_OK;
    for (int i = 0; i < rank; i++)
        if (shape[i] < 0)
            return ke_ops_fail(err, errsz, KE_ERR_SHAPE, "negative output dim %lld at %d",
                               (long long)shape[i], i);
    ke_status_t st = ke_tensor_set_shape(t, dt, rank, shape);
    if (st != KE_OK)
        return ke_ops_fail(err, errsz, st, "output rank %d not supported", rank);
    return KE_OK;
}

void ke_ops_copy_view(const ke_tensor_t *in, ke_tensor_t *out) {
    size_t nb = ke_tensor_nbytes(in);
    if (out->data != in->data && nb)
        memcpy(out->data, in->data, nb);
}

int ke_ops_fused_act(const ke_attrs_t *attrs, ke_unop_t *op, ke_unparams_t *p) {
    p->alpha = ke_attr_float(attrs, "ke_act_alpha", 0.01f);
    p->beta = 0.0f;
    switch ((ke_act_t)ke_attr_int(attrs, "ke_act", KE_ACT_NONE)) {
    case KE_ACT_NONE: *op = KE_UN_NONE; return 0;
    case KE_ACT_RELU: *op = KE_UN_RELU; return 0;
    case KE_ACT_SIGMOID: *op = KE_UN_SIGMOID; return 0;
    case KE_ACT_TANH: *op = KE_UN_TANH; return 0;
    case KE_ACT_GELU: *op = KE_UN_GELU; return 0;
    case KE_ACT_LEAKY_RELU: *op = KE_UN_LEAKY_RELU; return 0;
    }
    return -1;
}
