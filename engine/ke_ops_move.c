/* ke_ops_move: data movement for any element size: Transpose, strided Slice,
 * Gather. */
#include <string.h>

#include "ke_ops_kern.h"

/* Copies n elements from a strided source (element stride s) to dst. */
static void copy_strided(char *restrict dst, const char *restrict src, int64_t n, int64_t s,
                         size_t esize) {
    if (s == 1) {
        memcpy(dst, src, (size_t)n * esize);
        return;
    }
    switch (esize) {
    case 4: {
        const float *f = (const float *)(const void *)src;
        float *d = (float *)(void *)dst;
        for (int64_t i = 0; i < n; i++)
            d[i] = f[i * s];
        return;
    }
    case 8: {
        const int64_t *f = (const int64_t *)(const void *)src;
        int64_t *d = (int64_t *)(void *)dst;
        for (int64_t i = 0; i < n; i++)
            d[i] = f[i * s];
        return;
    }
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy(dst + (size_t)i * esize, src + (i * s) * (int64_t)esize, esize);
        return;
    }
}

/* Walks an output of shape `out` (rank r) row by row, reading a source
 * through element strides `st` (may be negative) from `base`. */
static void strided_gather(int r, const int64_t *out, const int64_t *st, const char *base,
                           char *dst, size_t esize) {
    int64_t total = 1;
    for (int i = 0; i < r; i++)
        total *= out[i];
    if (total == 0)
        return;
    if (r == 0) {
        memcpy(dst, base, esize);
        return;
    }
    int64_t inner = out[r - 1], idx[KE_KERN_MAX_RANK] = {0};
    int64_t off = 0;
    for (int64_t row = 0; row < total / inner; row++) {
        copy_strided(dst + (size_t)(row * inner) * esize, base + off * (int64_t)esize, inner,
                     st[r - 1], esize);
        for (int i = r - 2; i >= 0; i--) {
            off += st[i];
            if (++idx[i] < out[i])
                break;
            off -= st[i] * out[i];
            idx[i] = 0;
        }
    }
}

void ke_transpose(int r, const int64_t *shape, const int64_t *perm, const void *X, void *Y,
                  size_t esize) {
    int64_t xst[KE_KERN_MAX_RANK], out[KE_KERN_MAX_RANK], st[KE_KERN_MAX_RANK];
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
        xst[i] = s;
        s *= shape[i];
    }
    for (int i = 0; i < r; i++) {
        out[i] = shape[perm[i]];
        st[i] = xst[perm[i]];
    }
    strided_gather(r, out, st, X, Y, esize);
}

void ke_slice(int r, const int64_t *shape, const int64_t *starts, const int64_t *steps,
              const int64_t *out, const void *X, void *Y, size_t esize) {
    int64_t xst[KE_KERN_MAX_RANK], st[KE_KERN_MAX_RANK];
    int64_t s = 1, off = 0;
    for (int i = r - 1; i >= 0; i--) {
        xst[i] = s;
        s *= shape[i];
    }
    for (int i = 0; i < r; i++) {
        st[i] = xst[i] * steps[i];
        off += starts[i] * xst[i];
    }
    strided_gather(r, out, st, (const char *)X + off * (int64_t)esize, Y, esize);
}

void ke_gather(int64_t outer, int64_t n, int64_t inner, const int64_t *idx, int64_t ni,
               const void *X, void *Y, size_t esize) {
    const char *x = X;
    char *y = Y;
    size_t row = (size_t)inner * esize;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < ni; j++)
            memcpy(y + (size_t)(o * ni + j) * row, x + (size_t)(o * n + idx[j]) * row, row);
}
