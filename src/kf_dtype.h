/* kf_dtype: tensor element types of the wire contract.
 *
 * The enum values are the Avro DType symbol indexes of
 * schemas/inference_request.avsc, in the same order, so a decoded enum index
 * converts directly (after a range check with kf_dtype_valid()).
 * All functions are pure; any thread may call them. */
#ifndef KF_DTYPE_H
#define KF_DTYPE_H

#include <stddef.h>

#include "kf_status.h"

typedef enum kf_dtype {
    KF_DTYPE_FLOAT32 = 0,
    KF_DTYPE_FLOAT16 = 1,
    KF_DTYPE_BFLOAT16 = 2,
    KF_DTYPE_FLOAT64 = 3,
    KF_DTYPE_INT8 = 4,
    KF_DTYPE_UINT8 = 5,
    KF_DTYPE_INT32 = 6,
    KF_DTYPE_INT64 = 7,
    KF_DTYPE_BOOL = 8,
    KF_DTYPE_COUNT /* number of dtypes; not a dtype */
} kf_dtype_t;

/* 1 when 0 <= v < KF_DTYPE_COUNT (e.g. an Avro enum index), else 0. */
int kf_dtype_valid(int v);

/* Bytes per element (4, 2, 2, 8, 1, 1, 4, 8, 1); 0 for an invalid value. */
size_t kf_dtype_size(kf_dtype_t dt);

/* Static Avro symbol name ("FLOAT32"); "INVALID" for an invalid value. */
const char *kf_dtype_name(kf_dtype_t dt);

/* Parses a dtype name, case-insensitive: the Avro symbols ("FLOAT32",
 * "float32") and the short forms f32 f16 bf16 f64 i8 u8 i32 i64 bool
 * (also "half", "double", "float", "int", "long"). Returns KF_OK, or
 * KF_ERR_INVALID_ARG for NULL / an unknown name (out left unchanged). */
kf_status_t kf_dtype_parse(const char *s, kf_dtype_t *out);

#endif
