/* ke_ops_bcast: numpy broadcasting plans and the elementwise binary,
 * ternary (Where) and Expand kernels built on them. */
#include <math.h>
#include <string.h>

#include "ke_ops_kern.h"

int ke_bcast_shape(int ra, const int64_t *a, int rb, const int64_t *b, int *rout, int64_t *out) {
    int r = ra > rb ? ra : rb;
    if (r > KE_KERN_MAX_RANK)
        return -1;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - ra), ib = i - (r - rb);
        int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        if (da == db || db == 1)
            out[i] = da;
        else if (da == 1)
            out[i] = db;
        else
            return -1;
    }
    *rout = r;
    return 0;
}

int ke_bcast_init(ke_bcast_t *bc, int rout, const int64_t *out, int nin, const int *rin,
                  const int64_t *const *in) {
    if (rout > KE_KERN_MAX_RANK || nin < 1 || nin > 3)
        return -1;
    memset(bc, 0, sizeof *bc);
    bc->nin = nin;
    int64_t shp[KE_KERN_MAX_RANK + 1];
    int64_t st[3][KE_KERN_MAX_RANK + 1];
    int64_t total = 1;
    for (int i = 0; i < rout; i++)
        total *= out[i];
    bc->total = total;
    /* per-input element strides aligned to the output's dims */
    for (int k = 0; k < nin; k++) {
        if (rin[k] > rout)
            return -1;
        int64_t s = 1;
        for (int i = rout - 1; i >= 0; i--) {
            int ii = i - (rout - rin[k]);
            int64_t d = ii >= 0 ? in[k][ii] : 1;
            if (d != out[i] && d != 1)
                return -1;
            st[k][i] = (d == 1) ? 0 : s;
            s *= d;
        }
    }
    /* drop size-1 dims, then merge neighbours that are contiguous for all */
    int r = 0;
    for (int i = 0; i < rout; i++) {
        if (out[i] == 1)
            continue;
        if (r > 0) {
            int merge = 1;
            for (int k = 0; k < nin; k++)
                if (st[k][r - 1] != st[k][i] * out[i])
                    merge = 0;
            if (merge) {
                shp[r - 1] *= out[i];
                for (int k = 0; k < nin; k++)
                    st[k][r - 1] = st[k][i];
                continue;
            }
        }
        shp[r] = out[i];
        for (int k = 0; k < nin; k++)
            st[k][r] = st[k][i];
        r++;
    }
    if (r == 0) {
        shp[0] = 1;
        for (int k = 0; k < nin; k++)
            st[k][0] = 0;
        r = 1;
    }
    bc->rank = r;
    for (int i = 0; i < r; i++) {
        bc->shape[i] = shp[i];
        for (int k = 0; k < nin; k++)
            bc->stride[k][i] = st[k][i];
    }
    bc->inner = shp[r - 1];
    bc->rows = bc->inner ? total / bc->inner : 0;
    return 0;
}

void ke_bcast_row(const ke_bcast_t *bc, int64_t row, int64_t off[3]) {
    off[0] = off[1] = off[2] = 0;
    for (int i = bc->rank - 2; i >= 0 && row; i--) {
        int64_t d = bc->shape[i];
        int64_t q = row / d, x = row - q * d;
        row = q;
        for (int k = 0; k < bc->nin; k++)
            off[k] += x * bc->stride[k][i];
    }
}

/* ---- scalar op bodies ---------------------------------------------------- */

static inline float f_pow(float a, float b) {
    return powf(a, b);
}
static inline double d_pow(double a, double b) {
    return pow(a, b);
}
static inline int64_t i_pow(int64_t a, int64_t b) {
    int64_t r = 1;
    if (b < 0)
        return a == 1 ? 1 : (a == -1 ? ((b & 1) ? -1 : 1) : 0);
    while (b) {
        if (b & 1)
            r *= a;
        a *= a;
        b >>= 1;
    }
    return r;
}
static inline int64_t i_div(int64_t a, int64_t b) {
    return b ? a / b : 0;
}
static inline int64_t i_mod(int64_t a, int64_t b) {
    if (!b)
        return 0;
    int64_t m = a % b;
    if (m != 0 && ((m < 0) != (b < 0)))
        m += b;
    return m;
}

/* One row of n outputs: a and b advance by sa/sb (0 or 1). The same-shape
 * and scalar cases get their own loops so the compiler vectorises them. */
#define KE_ROW(NAME, TA, TY, EXPR)                                                                 \
    static void NAME(int64_t n, const TA *a, int64_t sa, const TA *b, int64_t sb, TY *y) {         \
        if (sa == 1 && sb == 1) {                                                                  \
            for (int64_t i = 0; i < n; i++) {                                                      \
                TA x = a[i], z = b[i];                                                             \
                y[i] = (TY)(EXPR);                                                                 \
            }                                                                                      \
        } else if (sa == 1) {                                                                      \
            const TA z = b[0];                                                                     \
            for (int64_t i = 0; i < n; i++) {                                                      \
                TA x = a[i];                                                                       \
                y[i] = (TY)(EXPR);                                                                 \
            }                                                                                      \
        } else if (sb == 1) {                                                                      \
            const TA x = a[0];                                                                     \
            for (int64_t i = 0; i < n; i++) {                                                      \
                TA z = b[i];                                                                       \
                y[i] = (TY)(EXPR);                                                                 \
            }                                                                                      \
        } else {                                                                                   \
            const TA x = a[0], z = b[0];                                                           \
            const TY v = (TY)(EXPR);                                                               \
            for (int64_t i = 0; i < n; i++)                                                        \
                y[i] = v;                                                                          \
        }                                                                                          \
    }

#define KE_ARITH(SFX, T, POW, DIV, MOD)                                                            \
    KE_ROW(row_add_##SFX, T, T, x + z)                                                             \
    KE_ROW(row_sub_##SFX, T, T, x - z)                                                             \
    KE_ROW(row_mul_##SFX, T, T, x *z)                                                              \
    KE_ROW(row_div_##SFX, T, T, DIV(x, z))                                                         \
    KE_ROW(row_pow_##SFX, T, T, POW(x, z))                                                         \
    KE_ROW(row_min_##SFX, T, T, (z < x ? z : x))                                                   \
    KE_ROW(row_max_##SFX, T, T, (z > x ? z : x))                                                   \
    KE_ROW(row_mod_##SFX, T, T, MOD(x, z))                                                         \
    KE_ROW(row_eq_##SFX, T, uint8_t, x == z)                                                       \
    KE_ROW(row_lt_##SFX, T, uint8_t, x < z)                                                        \
    KE_ROW(row_le_##SFX, T, uint8_t, x <= z)                                                       \
    KE_ROW(row_gt_##SFX, T, uint8_t, x > z)                                                        \
    KE_ROW(row_ge_##SFX, T, uint8_t, x >= z)

#define F_DIV(x, z) ((x) / (z))
#define F_MOD(x, z) fmodf((x), (z))
#define D_MOD(x, z) fmod((x), (z))
KE_ARITH(f32, float, f_pow, F_DIV, F_MOD)
KE_ARITH(f64, double, d_pow, F_DIV, D_MOD)
KE_ARITH(i64, int64_t, i_pow, i_div, i_mod)
KE_ARITH(i32, int32_t, i_pow, i_div, i_mod)
KE_ARITH(i8, int8_t, i_pow, i_div, i_mod)
KE_ARITH(u8, uint8_t, i_pow, i_div, i_mod)
KE_ROW(row_and_u8, uint8_t, uint8_t, (x && z))
KE_ROW(row_or_u8, uint8_t, uint8_t, (x || z))
KE_ROW(row_xor_u8, uint8_t, uint8_t, ((!x) != (!z)))

typedef void (*row_fn)(int64_t, const void *, int64_t, const void *, int64_t, void *);

#define KE_TABLE(SFX)                                                                              \
    {                                                                                              \
        (row_fn) row_add_##SFX, (row_fn)row_sub_##SFX, (row_fn)row_mul_##SFX,                      \
            (row_fn)row_div_##SFX, (row_fn)row_pow_##SFX, (row_fn)row_min_##SFX,                   \
            (row_fn)row_max_##SFX, (row_fn)row_mod_##SFX, (row_fn)row_eq_##SFX,                    \
            (row_fn)row_lt_##SFX, (row_fn)row_le_##SFX, (row_fn)row_gt_##SFX,                      \
            (row_fn)row_ge_##SFX, NULL, NULL, NULL                                                 \
    }

static row_fn lookup(ke_binop_t op, ke_kind_t kind, size_t *in_size, size_t *out_size) {
    static const row_fn tab[6][KE_BIN_COUNT] = {
        KE_TABLE(f32), KE_TABLE(f64), KE_TABLE(i64), KE_TABLE(i32), KE_TABLE(u8), KE_TABLE(i8),
    };
    static const size_t sizes[6] = {4, 8, 8, 4, 1, 1};
    if ((int)op < 0 || op >= KE_BIN_COUNT || (int)kind < 0 || kind > KE_K_I8)
        return NULL;
    *in_size = sizes[kind];
    *out_size = op >= KE_BIN_EQ ? 1 : sizes[kind];
    if (op == KE_BIN_AND || op == KE_BIN_OR || op == KE_BIN_XOR) {
        if (kind != KE_K_U8)
            return NULL;
        return op == KE_BIN_AND  ? (row_fn)row_and_u8
               : op == KE_BIN_OR ? (row_fn)row_or_u8
                                 : (row_fn)row_xor_u8;
    }
    return tab[kind][op];
}

int ke_binary(ke_binop_t op, ke_kind_t kind, const ke_bcast_t *bc, const void *a, const void *b,
              void *y) {
    return ke_binary_rows(op, kind, bc, a, b, y, 0, bc->rows);
}

int ke_binary_rows(ke_binop_t op, ke_kind_t kind, const ke_bcast_t *bc, const void *a,
                   const void *b, void *y, int64_t r0, int64_t r1) {
    size_t isz, osz;
    row_fn fn = lookup(op, kind, &isz, &osz);
    if (!fn || bc->nin != 2)
        return -1;
    const char *pa = a, *pb = b;
    char *py = y;
    int64_t sa = bc->stride[0][bc->rank - 1], sb = bc->stride[1][bc->rank - 1];
    for (int64_t r = r0; r < r1; r++) {
        int64_t off[3];
        ke_bcast_row(bc, r, off);
        fn(bc->inner, pa + off[0] * isz, sa, pb + off[1] * isz, sb, py + r * bc->inner * osz);
    }
    return 0;
}

int ke_binary_ref(ke_binop_t op, ke_kind_t kind, const ke_bcast_t *bc, const void *a, const void *b,
                  void *y) {
    size_t isz, osz;
    row_fn fn = lookup(op, kind, &isz, &osz);
    if (!fn || bc->nin != 2)
        return -1;
    const char *pa = a, *pb = b;
    char *py = y;
    for (int64_t e = 0; e < bc->total; e++) {
        int64_t oa = 0, ob = 0, rem = e;
        for (int i = bc->rank - 1; i >= 0; i--) {
            int64_t x = rem % bc->shape[i];
            rem /= bc->shape[i];
            oa += x * bc->stride[0][i];
            ob += x * bc->stride[1][i];
        }
        /* one element through the scalar-scalar path of the row kernel */
        fn(1, pa + oa * isz, 0, pb + ob * isz, 0, py + e * osz);
    }
    return 0;
}

void ke_where(const ke_bcast_t *bc, const uint8_t *cond, const void *x, const void *z, void *y,
              size_t esize) {
    const char *px = x, *pz = z;
    char *py = y;
    int rk = bc->rank - 1;
    int64_t sc = bc->stride[0][rk], sx = bc->stride[1][rk], sz = bc->stride[2][rk];
    for (int64_t r = 0; r < bc->rows; r++) {
        int64_t off[3];
        ke_bcast_row(bc, r, off);
        char *dst = py + r * bc->inner * esize;
        if (esize == 4) {
            const float *fx = (const float *)(px + off[1] * 4),
                        *fz = (const float *)(pz + off[2] * 4);
            const uint8_t *c = cond + off[0];
            float *fy = (float *)dst;
            for (int64_t i = 0; i < bc->inner; i++)
                fy[i] = c[i * sc] ? fx[i * sx] : fz[i * sz];
        } else {
            for (int64_t i = 0; i < bc->inner; i++) {
                const char *src = cond[off[0] + i * sc] ? px + (off[1] + i * sx) * esize
                                                        : pz + (off[2] + i * sz) * esize;
                memcpy(dst + i * esize, src, esize);
            }
        }
    }
}

void ke_expand(const ke_bcast_t *bc, const void *x, void *y, size_t esize) {
    const char *px = x;
    char *py = y;
    int64_t sx = bc->stride[0][bc->rank - 1];
    for (int64_t r = 0; r < bc->rows; r++) {
        int64_t off[3];
        ke_bcast_row(bc, r, off);
        char *dst = py + r * bc->inner * esize;
        if (sx == 1) {
            memcpy(dst, px + off[0] * esize, (size_t)bc->inner * esize);
        } else {
            for (int64_t i = 0; i < bc->inner; i++)
                memcpy(dst + i * esize, px + off[0] * esize, esize);
        }
    }
}
