/* ke_ops_reduce: Reduce* over any set of axes, and ArgMax/ArgMin. */
#include <math.h>
#include <string.h>

#include "ke_ops_kern.h"

/* Output element strides for each input dim (0 on reduced dims). Returns
 * the number of output elements. */
static int64_t out_strides(int r, const int64_t *shape, const uint8_t *mask, int64_t *ost) {
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
        ost[i] = mask[i] ? 0 : s;
        if (!mask[i])
            s *= shape[i];
    }
    return s;
}

static inline float f_init(ke_redop_t op) {
    switch (op) {
    case KE_RED_MAX: return -INFINITY;
    case KE_RED_MIN: return INFINITY;
    case KE_RED_PROD: return 1.0f;
    default: return 0.0f;
    }
}

static inline float f_acc(ke_redop_t op, float acc, float x) {
    switch (op) {
    case KE_RED_MAX: return x > acc ? x : acc;
    case KE_RED_MIN: return x < acc ? x : acc;
    case KE_RED_PROD: return acc * x;
    case KE_RED_L1: return acc + fabsf(x);
    case KE_RED_L2:
    case KE_RED_SUM_SQUARE: return acc + x * x;
    case KE_RED_LOG_SUM_EXP: return acc + expf(x);
    default: return acc + x;
    }
}

static inline float f_fin(ke_redop_t op, float acc, int64_t cnt) {
    switch (op) {
    case KE_RED_MEAN: return acc / (float)cnt;
    case KE_RED_L2: return sqrtf(acc);
    case KE_RED_LOG_SUM:
    case KE_RED_LOG_SUM_EXP: return logf(acc);
    default: return acc;
    }
}

void ke_reduce_f32(ke_redop_t op, int r, const int64_t *shape, const uint8_t *mask, const float *X,
                   float *Y) {
    int64_t ost[KE_KERN_MAX_RANK], idx[KE_KERN_MAX_RANK] = {0};
    int64_t nout = out_strides(r, shape, mask, ost);
    int64_t total = 1;
    for (int i = 0; i < r; i++)
        total *= shape[i];
    int64_t cnt = nout ? total / nout : 0;
    /* fast path: the reduced dims are exactly the trailing ones */
    int split = r;
    while (split > 0 && mask[split - 1])
        split--;
    int trailing = 1;
    for (int i = 0; i < split; i++)
        if (mask[i])
            trailing = 0;
    if (trailing) {
        for (int64_t o = 0; o < nout; o++) {
            const float *restrict x = X + o * cnt;
            float acc = f_init(op);
            if (op == KE_RED_SUM || op == KE_RED_MEAN) {
                for (int64_t j = 0; j < cnt; j++)
                    acc += x[j];
            } else {
                for (int64_t j = 0; j < cnt; j++)
                    acc = f_acc(op, acc, x[j]);
            }
            Y[o] = f_fin(op, acc, cnt);
        }
        return;
    }
    for (int64_t o = 0; o < nout; o++)
        Y[o] = f_init(op);
    int64_t off = 0;
    for (int64_t e = 0; e < total; e++) {
        Y[off] = f_acc(op, Y[off], X[e]);
        for (int i = r - 1; i >= 0; i--) {
            off += ost[i];
            if (++idx[i] < shape[i])
                break;
            off -= ost[i] * shape[i];
            idx[i] = 0;
        }
    }
    for (int64_t o = 0; o < nout; o++)
        Y[o] = f_fin(op, Y[o], cnt);
}

void ke_reduce_i64(ke_redop_t op, int r, const int64_t *shape, const uint8_t *mask,
                   const int64_t *X, int64_t *Y) {
    int64_t ost[KE_KERN_MAX_RANK], idx[KE_KERN_MAX_RANK] = {0};
    int64_t nout = out_strides(r, shape, mask, ost);
    int64_t total = 1;
    for (int i = 0; i < r; i++)
        total *= shape[i];
    int64_t cnt = nout ? total / nout : 0;
    for (int64_t o = 0; o < nout; o++)
        Y[o] = op == KE_RED_MAX ? INT64_MIN : op == KE_RED_MIN ? INT64_MAX : op == KE_RED_PROD;
    int64_t off = 0;
    for (int64_t e = 0; e < total; e++) {
        int64_t x = X[e], *a = &Y[off];
        switch (op) {
        case KE_RED_MAX: *a = x > *a ? x : *a; break;
        case KE_RED_MIN: *a = x < *a ? x : *a; break;
        case KE_RED_PROD: *a *= x; break;
        default: *a += x; break;
        }
        for (int i = r - 1; i >= 0; i--) {
            off += ost[i];
            if (++idx[i] < shape[i])
                break;
            off -= ost[i] * shape[i];
            idx[i] = 0;
        }
    }
    if (op == KE_RED_MEAN && cnt)
        for (int64_t o = 0; o < nout; o++)
            Y[o] /= cnt;
}

void ke_argminmax_f32(int64_t outer, int64_t n, int64_t inner, const float *X, int64_t *Y,
                      int is_max, int select_last) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *x = X + o * n * inner + i;
            int64_t best = 0;
            float bv = x[0];
            for (int64_t j = 1; j < n; j++) {
                float v = x[j * inner];
                int better =
                    is_max ? (select_last ? v >= bv : v > bv) : (select_last ? v <= bv : v < bv);
                if (better) {
                    bv = v;
                    best = j;
                }
            }
            Y[o * inner + i] = best;
        }
}
