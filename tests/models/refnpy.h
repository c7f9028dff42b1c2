/* refnpy: a small .npy reader for the model conformance test's reference
 * files (models/ref/, written by numpy and bench/npy.js). C order, format
 * 1.0/2.0, descr '<f4', '<i8', '|u1'. Single-threaded test helper. */
#ifndef REFNPY_H
#define REFNPY_H

#include <stddef.h>
#include <stdint.h>

#include "ke_tensor.h"

#define REFNPY_MAX_RANK 8

typedef struct refnpy {
    ke_dtype_t dtype;
    int rank;
    int64_t shape[REFNPY_MAX_RANK];
    size_t numel;
    void *data; /* owned: refnpy_free() */
} refnpy_t;

/* Reads path into *out (zeroed first). Returns 0, or -1 with a reason
 * naming the file in err. */
int refnpy_read(const char *path, refnpy_t *out, char *err, size_t errsz);
void refnpy_free(refnpy_t *a); /* frees data; NULL or empty is a no-op */

#endif
