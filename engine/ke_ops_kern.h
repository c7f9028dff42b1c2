/* ke_ops_kern: the CPU operator kernels on raw, contiguous buffers.
 *
 * These are the math behind the ONNX operators (ke_ops_*.c wrap them into
 * the op contract of ke_op.h). They know nothing about graphs or tensors:
 * shapes are int64 arrays (rank <= KE_KERN_MAX_RANK), data are row-major
 * contiguous buffers owned by the caller. Every kernel is reentrant (no
 * state besides its arguments) and may be called from any thread; kernels
 * that use OpenBLAS inherit its threading.
 *
 * Each family has a readable reference path and, where it matters, a fast
 * path beside it; tests/unit/test_ops_*.c compare the two. */
#ifndef KE_OPS_KERN_H
#define KE_OPS_KERN_H

#include <stddef.h>
#include <stdint.h>

#define KE_KERN_MAX_RANK 8

/* ---- broadcasting (numpy rules) ----------------------------------------- */

/* Output shape of broadcasting shapes a and b. Returns 0, or -1 when the
 * shapes are incompatible or the rank would exceed KE_KERN_MAX_RANK. */
int ke_bcast_shape(int ra, const int64_t *a, int rb, const int64_t *b, int *rout, int64_t *out);

/* An iteration plan over an output of shape `out` for up to 3 inputs that
 * broadcast to it. Dimensions are coalesced so the innermost loop is as long
 * as possible; the output is visited as `rows` rows of `inner` elements. */
typedef struct ke_bcast {
    int nin;
    int rank;                            /* >= 1 after coalescing */
    int64_t shape[KE_KERN_MAX_RANK];     /* coalesced output shape */
    int64_t stride[3][KE_KERN_MAX_RANK]; /* element strides, 0 = broadcast */
    int64_t rows, inner, total;
} ke_bcast_t;

/* Builds the plan. Returns 0, or -1 if some input does not broadcast to
 * `out`. */
int ke_bcast_init(ke_bcast_t *bc, int rout, const int64_t *out, int nin, const int *rin,
                  const int64_t *const *in);

/* Element offsets of each input at the start of output row `row`. */
void ke_bcast_row(const ke_bcast_t *bc, int64_t row, int64_t off[3]);

/* ---- elementwise binary / ternary --------------------------------------- */

typedef enum ke_binop {
    KE_BIN_ADD = 0,
    KE_BIN_SUB,
    KE_BIN_MUL,
    KE_BIN_DIV,
    KE_BIN_POW,
    KE_BIN_MIN,
    KE_BIN_MAX,
    KE_BIN_MOD, /* fmod semantics for float, python semantics for int */
    KE_BIN_EQ,  /* comparisons produce bool (uint8) */
    KE_BIN_LT,
    KE_BIN_LE,
    KE_BIN_GT,
    KE_BIN_GE,
    KE_BIN_AND, /* bool only */
    KE_BIN_OR,
    KE_BIN_XOR,
    KE_BIN_COUNT
} ke_binop_t;

/* Element kinds the binary kernels handle. */
typedef enum ke_kind { KE_K_F32 = 0, KE_K_F64, KE_K_I64, KE_K_I32, KE_K_U8, KE_K_I8 } ke_kind_t;

/* y = a <op> b with broadcasting as planned in bc (nin == 2). Comparisons
 * write uint8 (0/1) to y; other ops write the input kind. Returns 0, or -1
 * when the op is not defined for the kind. */
int ke_binary(ke_binop_t op, ke_kind_t kind, const ke_bcast_t *bc, const void *a, const void *b,
              void *y);

/* Same, for output rows [r0, r1) of the plan only (for parallel splits). */
int ke_binary_rows(ke_binop_t op, ke_kind_t kind, const ke_bcast_t *bc, const void *a,
                   const void *b, void *y, int64_t r0, int64_t r1);

/* Reference: same result, one element at a time through the multi-index. */
int ke_binary_ref(ke_binop_t op, ke_kind_t kind, const ke_bcast_t *bc, const void *a, const void *b,
                  void *y);

/* y = cond ? x : z (nin == 3: cond uint8, x and z of `esize` bytes). */
void ke_where(const ke_bcast_t *bc, const uint8_t *cond, const void *x, const void *z, void *y,
              size_t esize);

/* Copies a broadcast input to the output shape (Expand); nin == 1. */
void ke_expand(const ke_bcast_t *bc, const void *x, void *y, size_t esize);

/* ---- elementwise unary (float32) ---------------------------------------- */

typedef enum ke_unop {
    KE_UN_NONE = 0, /* identity (no epilogue) */
    KE_UN_RELU,
    KE_UN_LEAKY_RELU, /* alpha */
    KE_UN_SIGMOID,
    KE_UN_TANH,
    KE_UN_GELU,      /* exact: 0.5 x (1 + erf(x / sqrt 2)) */
    KE_UN_GELU_TANH, /* tanh approximation */
    KE_UN_ERF,
    KE_UN_SQRT,
    KE_UN_NEG,
    KE_UN_EXP,
    KE_UN_LOG,
    KE_UN_ABS,
    KE_UN_RECIPROCAL,
    KE_UN_FLOOR,
    KE_UN_CEIL,
    KE_UN_ROUND, /* half to even */
    KE_UN_SIN,
    KE_UN_COS,
    KE_UN_TAN,
    KE_UN_ASIN,
    KE_UN_ACOS,
    KE_UN_ATAN,
    KE_UN_SINH,
    KE_UN_COSH,
    KE_UN_ASINH,
    KE_UN_ACOSH,
    KE_UN_ATANH,
    KE_UN_SIGN,
    KE_UN_SOFTPLUS,
    KE_UN_SOFTSIGN,
    KE_UN_ELU,          /* alpha */
    KE_UN_SELU,         /* alpha, beta (gamma) */
    KE_UN_CELU,         /* alpha */
    KE_UN_HARD_SIGMOID, /* alpha, beta */
    KE_UN_HARD_SWISH,
    KE_UN_THRESHOLDED_RELU, /* alpha */
    KE_UN_CLIP,             /* alpha = min, beta = max */
    KE_UN_COUNT
} ke_unop_t;

typedef struct ke_unparams {
    float alpha, beta;
} ke_unparams_t;

/* y[i] = f(x[i]) for n elements; x may equal y (in place). */
void ke_unary_f32(ke_unop_t op, ke_unparams_t p, const float *x, float *y, int64_t n);

/* Reference: the textbook scalar formula (double precision). */
float ke_unary_ref(ke_unop_t op, ke_unparams_t p, float x);

/* ---- GEMM / MatMul ------------------------------------------------------ */

/* Y[M,N] = act(alpha * op(A) op(B) + beta * C) where op() transposes when
 * ta/tb is set, C (optional) broadcasts to [M,N] from shape [cm, cn]
 * (cm in {1, M}, cn in {1, N}; a scalar is cm = cn = 1). A is [M,K] (or
 * [K,M] when ta), B is [K,N] (or [N,K] when tb). */
void ke_gemm_f32(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                 const float *B, float beta, const float *C, int64_t cm, int64_t cn, float *Y,
                 ke_unop_t act, ke_unparams_t actp);

/* Reference triple loop for the same contract. */
void ke_gemm_ref(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                 const float *B, float beta, const float *C, int64_t cm, int64_t cn, float *Y,
                 ke_unop_t act, ke_unparams_t actp);

/* numpy matmul output shape (1-D operands promoted and the added dim
 * removed; batch dims broadcast). Returns 0 or -1. */
int ke_matmul_shape(int ra, const int64_t *a, int rb, const int64_t *b, int *ry, int64_t *y);

/* Y = A @ B (numpy semantics) + optional bias[N] + activation epilogue. */
void ke_matmul_f32(int ra, const int64_t *ashape, const float *A, int rb, const int64_t *bshape,
                   const float *B, const float *bias, float *Y, ke_unop_t act, ke_unparams_t actp);

/* ---- convolution and pooling --------------------------------------------- */

/* 1-D and 2-D (and 3-D) geometry: spatial rank nd (1..3). */
typedef struct ke_conv_geom {
    int nd;
    int64_t n, c, m, group;      /* batch, in channels, out channels, groups */
    int64_t in[3], out[3], k[3]; /* spatial input, output, kernel */
    int64_t stride[3], dil[3];
    int64_t pad_begin[3], pad_end[3];
} ke_conv_geom_t;

/* Output size of one spatial dim; ceil_mode for pooling. */
int64_t ke_conv_out_dim(int64_t in, int64_t k, int64_t stride, int64_t dil, int64_t pb, int64_t pe,
                        int ceil_mode);

/* Resolves auto_pad ("SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET" or NULL)
 * into pad_begin/pad_end (explicit pads kept for NOTSET). Returns 0 or -1
 * for an unknown value. */
int ke_conv_auto_pad(const char *auto_pad, int64_t in, int64_t k, int64_t stride, int64_t dil,
                     int64_t *pb, int64_t *pe);

/* Bytes of scratch ke_conv_f32 needs (im2col buffer). */
size_t ke_conv_scratch_bytes(const ke_conv_geom_t *g);

/* Y[n,m,out...] = act(conv(X, W) + bias). W is [m, c/group, k...]. scratch
 * holds ke_conv_scratch_bytes(g) bytes (may be NULL when that is 0). */
void ke_conv_f32(const ke_conv_geom_t *g, const float *X, const float *W, const float *bias,
                 float *Y, float *scratch, ke_unop_t act, ke_unparams_t actp);

/* Threaded form: the n * group (image, group) units are split into `lanes`
 * contiguous runs spread over tp (NULL: serial); scratch holds lanes
 * im2col buffers of ke_conv_scratch_bytes(g) each. Any thread (tp's rules:
 * the caller must be the pool's only user). */
struct ke_threadpool;
void ke_conv_f32_mt(const ke_conv_geom_t *g, const float *X, const float *W, const float *bias,
                    float *Y, float *scratch, int64_t lanes, struct ke_threadpool *tp,
                    ke_unop_t act, ke_unparams_t actp);

/* Multiply-adds per unit from which OpenBLAS (when it runs threaded) gets
 * the cores instead of our pool (its own threading threshold, 4 * 65536). */
#define KE_CONV_BLAS_MT_MNK 262144.0

/* Lanes ke_conv_f32_mt should use: min(units, n_threads, what
 * scratch_bytes holds), 1 when OpenBLAS would thread each unit itself. */
int64_t ke_conv_lanes(const ke_conv_geom_t *g, int n_threads, size_t scratch_bytes);

/* Direct path (ke_ops_conv_direct.c), taken by ke_conv_f32* for 1-D/2-D
 * layers (any stride) whose reduction (c/group * taps) is at most
 * KE_CONV_DIRECT_MAX_K and that are not plain 1x1: no im2col.
 * ke_conv_scratch_bytes() covers it. */
#define KE_CONV_DIRECT_MAX_K 576
int ke_conv_direct_ok(const ke_conv_geom_t *g);
size_t ke_conv_direct_scratch_bytes(const ke_conv_geom_t *g);
/* (the unit and the level-forcing entry point: ke_conv_direct.h) */

/* Direct 7-loop reference. */
void ke_conv_ref(const ke_conv_geom_t *g, const float *X, const float *W, const float *bias,
                 float *Y);

typedef enum ke_pool { KE_POOL_MAX = 0, KE_POOL_AVG, KE_POOL_LP } ke_pool_t;

/* Pooling over the spatial dims of X [n, c, in...] (g->m == g->c, group
 * unused). count_include_pad for AVG. p for LP. */
void ke_pool_f32(const ke_conv_geom_t *g, ke_pool_t kind, int count_include_pad, int p,
                 const float *X, float *Y);

/* Same for planes (n * c index) [p0, p1) only, for parallel splits. 1-D
 * and 2-D MAX/AVG take the fast path (unchecked interior rows). */
void ke_pool_planes_f32(const ke_conv_geom_t *g, ke_pool_t kind, int count_include_pad, int p,
                        const float *X, float *Y, int64_t p0, int64_t p1);

/* Reference: every output pixel with every window position checked. */
void ke_pool_ref(const ke_conv_geom_t *g, ke_pool_t kind, int count_include_pad, int p,
                 const float *X, float *Y);

/* ---- normalisation, softmax --------------------------------------------- */

/* Y = scale * (X - mean) / sqrt(var + eps) + B per channel; X [n, c, inner]. */
void ke_batchnorm_f32(int64_t n, int64_t c, int64_t inner, const float *X, const float *scale,
                      const float *B, const float *mean, const float *var, float eps, float *Y,
                      ke_unop_t act, ke_unparams_t actp);

/* Layer norm over the last `cols` elements of each of `rows` rows; scale and
 * B (optional) are [cols]. mean_out/invstd_out optional [rows]. */
void ke_layernorm_f32(int64_t rows, int64_t cols, const float *X, const float *scale,
                      const float *B, float eps, float *Y, float *mean_out, float *invstd_out);

/* Softmax (log when `log` is set) over the middle dim of [outer, n, inner]. */
void ke_softmax_f32(int64_t outer, int64_t n, int64_t inner, const float *X, float *Y, int log);

/* ---- reductions ----------------------------------------------------------- */

typedef enum ke_redop {
    KE_RED_SUM = 0,
    KE_RED_MEAN,
    KE_RED_MAX,
    KE_RED_MIN,
    KE_RED_PROD,
    KE_RED_L1,
    KE_RED_L2,
    KE_RED_LOG_SUM,
    KE_RED_LOG_SUM_EXP,
    KE_RED_SUM_SQUARE
} ke_redop_t;

/* Reduces X of shape `shape` (rank r) over the axes with mask[i] != 0;
 * the output holds the kept dims in order. float32. */
void ke_reduce_f32(ke_redop_t op, int r, const int64_t *shape, const uint8_t *mask, const float *X,
                   float *Y);
/* int64 variant: SUM, MEAN (integer division), MAX, MIN, PROD only. */
void ke_reduce_i64(ke_redop_t op, int r, const int64_t *shape, const uint8_t *mask,
                   const int64_t *X, int64_t *Y);

/* Arg max/min over the middle dim of [outer, n, inner] -> int64 [outer, inner]. */
void ke_argminmax_f32(int64_t outer, int64_t n, int64_t inner, const float *X, int64_t *Y,
                      int is_max, int select_last);

/* ---- data movement (any element size) ----------------------------------- */

/* Y = transpose(X, perm); shape is X's. */
void ke_transpose(int r, const int64_t *shape, const int64_t *perm, const void *X, void *Y,
                  size_t esize);

/* Copies the strided view X[starts + i*steps] of `out` shape into Y.
 * Steps may be negative. */
void ke_slice(int r, const int64_t *shape, const int64_t *starts, const int64_t *steps,
              const int64_t *out, const void *X, void *Y, size_t esize);

/* Gather along axis: X [outer, n, inner], idx (already normalised to
 * [0, n)) of count ni -> Y [outer, ni, inner]. */
void ke_gather(int64_t outer, int64_t n, int64_t inner, const int64_t *idx, int64_t ni,
               const void *X, void *Y, size_t esize);

#endif
