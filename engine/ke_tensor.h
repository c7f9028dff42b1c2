/* ke_tensor: the engine's tensor descriptor, dtypes and status codes.
 *
 * A ke_tensor_t is a plain value struct (no hidden state): dtype, rank
 * (0..KE_MAX_RANK), shape, and a pointer to contiguous row-major data.
 * `owned` says whether ke_tensor_release() frees `data`: tensors the memory
 * planner hands to kernels point into the plan's arena and are borrowed
 * (owned = 0); tensors made with ke_tensor_alloc() own their data.
 *
 * Dtype codes equal ONNX TensorProto.DataType values, so importers can cast.
 * All functions here are pure or touch only the tensor passed in: any
 * thread, as long as one tensor is not used from two threads at once. */
#ifndef KE_TENSOR_H
#define KE_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KE_MAX_RANK 8

/* Engine status codes. ke_status_str() gives a static name. */
typedef enum ke_status {
    KE_OK = 0,
    KE_ERR_INVALID_ARG, /* caller passed a bad argument */
    KE_ERR_NOMEM,       /* allocation failed */
    KE_ERR_PARSE,       /* model bytes are truncated or corrupt */
    KE_ERR_UNSUPPORTED, /* op, dtype, attribute value or feature not supported */
    KE_ERR_SHAPE,       /* inconsistent or invalid shapes */
    KE_ERR_IO,          /* file could not be read */
    KE_ERR_INTERNAL     /* a bug: should not happen */
} ke_status_t;

const char *ke_status_str(ke_status_t st);

/* Element types (values = ONNX TensorProto.DataType). */
typedef enum ke_dtype {
    KE_DT_UNDEF = 0,
    KE_DT_F32 = 1,
    KE_DT_U8 = 2,
    KE_DT_I8 = 3,
    KE_DT_U16 = 4,
    KE_DT_I16 = 5,
    KE_DT_I32 = 6,
    KE_DT_I64 = 7,
    KE_DT_STRING = 8, /* never materialised: load refuses string tensors */
    KE_DT_BOOL = 9,   /* one byte per element, 0 or 1 */
    KE_DT_F16 = 10,
    KE_DT_F64 = 11,
    KE_DT_U32 = 12,
    KE_DT_U64 = 13
} ke_dtype_t;

/* Bytes per element; 0 for UNDEF/STRING/unknown codes. */
size_t ke_dtype_size(ke_dtype_t dt);
/* Static lower-case name ("float32", "int64", ...); "?" when unknown. */
const char *ke_dtype_name(ke_dtype_t dt);
/* Parse a name as printed by ke_dtype_name() (also accepts numpy-ish
 * aliases "float", "long", "bool"); KE_DT_UNDEF when unknown. */
ke_dtype_t ke_dtype_from_name(const char *name);

typedef struct ke_tensor {
    ke_dtype_t dtype;
    int rank;                   /* 0 (scalar) .. KE_MAX_RANK */
    int64_t shape[KE_MAX_RANK]; /* shape[i] >= 0; unused entries 0 */
    void *data;                 /* contiguous, row-major; may be NULL if numel 0 */
    int owned;                  /* 1: ke_tensor_release() frees data */
} ke_tensor_t;

/* Number of elements (product of dims; 1 for rank 0). */
int64_t ke_tensor_numel(const ke_tensor_t *t);
/* numel * dtype size. */
size_t ke_tensor_nbytes(const ke_tensor_t *t);
/* 1 if a and b have the same rank and dims (dtype ignored). */
int ke_tensor_same_shape(const ke_tensor_t *a, const ke_tensor_t *b);
/* Fill dtype/rank/shape, data = NULL, owned = 0. rank must be <= KE_MAX_RANK
 * and dims >= 0, else KE_ERR_INVALID_ARG. */
ke_status_t ke_tensor_set_shape(ke_tensor_t *t, ke_dtype_t dt, int rank, const int64_t *shape);
/* ke_tensor_set_shape() + zero-filled owned data (at least 1 byte is
 * allocated so data is never NULL). Caller releases with ke_tensor_release(). */
ke_status_t ke_tensor_alloc(ke_tensor_t *t, ke_dtype_t dt, int rank, const int64_t *shape);
/* Deep copy of src into dst (dst owns the copy). */
ke_status_t ke_tensor_clone(ke_tensor_t *dst, const ke_tensor_t *src);
/* Frees data if owned, then zeroes the struct. NULL is a no-op. */
void ke_tensor_release(ke_tensor_t *t);
/* Format "float32[1,3,224,224]" into buf (always NUL-terminated). */
const char *ke_tensor_describe(const ke_tensor_t *t, char *buf, size_t bufsz);
/* Read element i of an integer or float tensor as int64 / double (for shape
 * arithmetic at plan time; slow path, never use in kernels). */
int64_t ke_tensor_get_i64(const ke_tensor_t *t, int64_t i);
double ke_tensor_get_f64(const ke_tensor_t *t, int64_t i);

#ifdef __cplusplus
}
#endif

#endif
