/* ke_tensor: descriptor helpers and status names. */
#include "ke_tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ke_status_str(ke_status_t st) {
    switch (st) {
    case KE_OK: return "ok";
    case KE_ERR_INVALID_ARG: return "invalid argument";
    case KE_ERR_NOMEM: return "out of memory";
    case KE_ERR_PARSE: return "corrupt or truncated model";
    case KE_ERR_UNSUPPORTED: return "unsupported";
    case KE_ERR_SHAPE: return "inconsistent shape";
    case KE_ERR_IO: return "I/O error";
    case KE_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

size_t ke_dtype_size(ke_dtype_t dt) {
    switch (dt) {
    case KE_DT_F32:
    case KE_DT_I32:
    case KE_DT_U32: return 4;
    case KE_DT_U8:
    case KE_DT_I8:
    case KE_DT_BOOL: return 1;
    case KE_DT_U16:
    case KE_DT_I16:
    case KE_DT_F16: return 2;
    case KE_DT_I64:
    case KE_DT_F64:
    case KE_DT_U64: return 8;
    case KE_DT_UNDEF:
    case KE_DT_STRING: break;
    }
    return 0;
}

static const struct {
    ke_dtype_t dt;
    const char *name;
} k_names[] = {
    {KE_DT_F32, "float32"}, {KE_DT_U8, "uint8"},      {KE_DT_I8, "int8"},
    {KE_DT_U16, "uint16"},  {KE_DT_I16, "int16"},     {KE_DT_I32, "int32"},
    {KE_DT_I64, "int64"},   {KE_DT_STRING, "string"}, {KE_DT_BOOL, "bool"},
    {KE_DT_F16, "float16"}, {KE_DT_F64, "float64"},   {KE_DT_U32, "uint32"},
    {KE_DT_U64, "uint64"},
};

const char *ke_dtype_name(ke_dtype_t dt) {
    for (size_t i = 0; i < sizeof k_names / sizeof k_names[0]; i++)
        if (k_names[i].dt == dt)
            return k_names[i].name;
    return "?";
}

ke_dtype_t ke_dtype_from_name(const char *name) {
    if (!name)
        return KE_DT_UNDEF;
    for (size_t i = 0; i < sizeof k_names / sizeof k_names[0]; i++)
        if (strcmp(k_names[i].name, name) == 0)
            return k_names[i].dt;
    if (strcmp(name, "float") == 0)
        return KE_DT_F32;
    if (strcmp(name, "double") == 0)
        return KE_DT_F64;
    if (strcmp(name, "long") == 0)
        return KE_DT_I64;
    if (strcmp(name, "int") == 0)
        return KE_DT_I32;
    return KE_DT_UNDEF;
}

int64_t ke_tensor_numel(const ke_tensor_t *t) {
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++)
        n *= t->shape[i];
    return n;
}

size_t ke_tensor_nbytes(const ke_tensor_t *t) {
    return (size_t)ke_tensor_numel(t) * ke_dtype_size(t->dtype);
}

int ke_tensor_same_shape(const ke_tensor_t *a, const ke_tensor_t *b) {
    if (a->rank != b->rank)
        return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return 1;
}

ke_status_t ke_tensor_set_shape(ke_tensor_t *t, ke_dtype_t dt, int rank, const int64_t *shape) {
    if (!t || rank < 0 || rank > KE_MAX_RANK || (rank > 0 && !shape))
        return KE_ERR_INVALID_ARG;
    memset(t, 0, sizeof *t);
    t->dtype = dt;
    t->rank = rank;
    for (int i = 0; i < rank; i++) {
        if (shape[i] < 0)
            return KE_ERR_INVALID_ARG;
        t->shape[i] = shape[i];
    }
    return KE_OK;
}

ke_status_t ke_tensor_alloc(ke_tensor_t *t, ke_dtype_t dt, int rank, const int64_t *shape) {
    ke_status_t st = ke_tensor_set_shape(t, dt, rank, shape);
    if (st != KE_OK)
        return st;
    if (ke_dtype_size(dt) == 0)
        return KE_ERR_UNSUPPORTED;
    /* guard against overflow of numel * size */
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (shape[i] != 0 && n > INT64_MAX / 16 / shape[i])
            return KE_ERR_NOMEM;
        n *= shape[i];
    }
    size_t bytes = (size_t)n * ke_dtype_size(dt);
    t->data = calloc(1, bytes ? bytes : 1);
    if (!t->data)
        return KE_ERR_NOMEM;
    t->owned = 1;
    return KE_OK;
}

ke_status_t ke_tensor_clone(ke_tensor_t *dst, const ke_tensor_t *src) {
    ke_status_t st = ke_tensor_alloc(dst, src->dtype, src->rank, src->shape);
    if (st != KE_OK)
        return st;
    size_t nb = ke_tensor_nbytes(src);
    if (nb && src->data)
        memcpy(dst->data, src->data, nb);
    return KE_OK;
}

void ke_tensor_release(ke_tensor_t *t) {
    if (!t)
        return;
    if (t->owned)
        free(t->data);
    memset(t, 0, sizeof *t);
}

const char *ke_tensor_describe(const ke_tensor_t *t, char *buf, size_t bufsz) {
    if (!buf || bufsz == 0)
        return "";
    size_t off = 0;
    int w = snprintf(buf, bufsz, "%s[", ke_dtype_name(t->dtype));
    if (w > 0)
        off = (size_t)w;
    for (int i = 0; i < t->rank && off < bufsz; i++) {
        w = snprintf(buf + off, bufsz - off, "%s%lld", i ? "," : "", (long long)t->shape[i]);
        if (w > 0)
            off += (size_t)w;
    }
    if (off < bufsz)
        snprintf(buf + off, bufsz - off, "]");
    return buf;
}

/* saturating: NaN -> 0, out of range -> INT64_MIN/MAX (no UB) */
static int64_t f64_to_i64(double v) {
    if (v != v)
        return 0;
    if (v >= 9.2233720368547758e18)
        return INT64_MAX;
    if (v <= -9.2233720368547758e18)
        return INT64_MIN;
    return (int64_t)v;
}

int64_t ke_tensor_get_i64(const ke_tensor_t *t, int64_t i) {
    const void *p = t->data;
    switch (t->dtype) {
    case KE_DT_I64: return ((const int64_t *)p)[i];
    case KE_DT_I32: return ((const int32_t *)p)[i];
    case KE_DT_U32: return ((const uint32_t *)p)[i];
    case KE_DT_U64: return (int64_t)((const uint64_t *)p)[i];
    case KE_DT_I16: return ((const int16_t *)p)[i];
    case KE_DT_U16: return ((const uint16_t *)p)[i];
    case KE_DT_I8: return ((const int8_t *)p)[i];
    case KE_DT_U8:
    case KE_DT_BOOL: return ((const uint8_t *)p)[i];
    case KE_DT_F32: return f64_to_i64(((const float *)p)[i]);
    case KE_DT_F64: return f64_to_i64(((const double *)p)[i]);
    default: return 0;
    }
}

double ke_tensor_get_f64(const ke_tensor_t *t, int64_t i) {
    switch (t->dtype) {
    case KE_DT_F32: return ((const float *)t->data)[i];
    case KE_DT_F64: return ((const double *)t->data)[i];
    default: return (double)ke_tensor_get_i64(t, i);
    }
}
