/* kf_npy: NumPy .npy reader/writer (format versions 1.0, 2.0 and 3.0).
 *
 * Supported descr: '<f4' FLOAT32, '<f2' FLOAT16, '<f8' FLOAT64, '|i1' INT8,
 * '|u1' UINT8, '<i4' INT32, '<i8' INT64, '|b1' BOOL ('<' or '=' accepted for
 * the multi-byte types on this little-endian build, '|' '<' '=' for 1-byte
 * ones). BFLOAT16 has no numpy descr: saving it is KF_ERR_UNSUPPORTED.
 * C order only: fortran_order True is an error naming the file. Rank 0..8.
 *
 * Errors go to errbuf (may be NULL) and name the file (or "<memory>") and
 * the problem, e.g. "x.npy: fortran_order arrays are not supported".
 * Reentrant; a kf_npy_t is used by one thread at a time. */
#ifndef KF_NPY_H
#define KF_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "kf_avro_bin.h"
#include "kf_codec.h"
#include "kf_dtype.h"
#include "kf_status.h"

typedef struct kf_npy {
    kf_dtype_t dtype;
    uint32_t rank;
    int64_t shape[KF_MAX_RANK];
    uint64_t elements; /* product of shape (1 for rank 0) */
    void *data;        /* owned, C order, little-endian; nbytes long */
    size_t nbytes;
} kf_npy_t;

/* Reads a whole .npy file. On KF_OK *out is new (caller owns; kf_npy_free).
 * KF_ERR_IO (open/read), KF_ERR_DECODE (bad magic/header/descr/shape or
 * data length), KF_ERR_UNSUPPORTED (fortran order, other dtypes),
 * KF_ERR_LIMIT (more than max_bytes of data; 0 = no limit). */
kf_status_t kf_npy_load_file(const char *path, size_t max_bytes, kf_npy_t **out, char *errbuf,
                             size_t errlen);

/* Parses a .npy image held in memory; data is copied. `what` names it in
 * errors (NULL = "<memory>"). */
kf_status_t kf_npy_load_mem(const void *buf, size_t len, const char *what, kf_npy_t **out,
                            char *errbuf, size_t errlen);

void kf_npy_free(kf_npy_t *a); /* NULL is a no-op */

/* Appends a .npy image (v1.0, or v2.0 when the header needs it) of the
 * array to out (out is not cleared). nbytes must equal
 * product(shape) * kf_dtype_size(dtype) (KF_ERR_INVALID_ARG otherwise). */
kf_status_t kf_npy_write_mem(kf_buf_t *out, kf_dtype_t dtype, uint32_t rank, const int64_t *shape,
                             const void *data, size_t nbytes, char *errbuf, size_t errlen);

/* Writes the array to path (created/truncated). KF_ERR_IO on write errors. */
kf_status_t kf_npy_save_file(const char *path, kf_dtype_t dtype, uint32_t rank,
                             const int64_t *shape, const void *data, size_t nbytes, char *errbuf,
                             size_t errlen);

#endif
