/* Plain-C references for the CUDA kernels: the slowest, most obvious loops,
 * accumulating in double where it helps them serve as ground truth. */
#include "kk_ref.h"

#include <math.h>

float kk_ref_unary(kk_unop_t op, float x, float alpha, float beta) {
    switch (op) {
    case KK_UN_IDENTITY: return x;
    case KK_UN_RELU: return x > 0 ? x : 0;
    case KK_UN_LEAKY_RELU: return x >= 0 ? x : alpha * x;
    case KK_UN_SIGMOID: return (float)(1.0 / (1.0 + exp(-(double)x)));
    case KK_UN_TANH: return (float)tanh(x);
    case KK_UN_ERF: return (float)erf(x);
    case KK_UN_GELU: return (float)(0.5 * x * (1.0 + erf(x / sqrt(2.0))));
    case KK_UN_SQRT: return (float)sqrt(x);
    case KK_UN_NEG: return -x;
    case KK_UN_CLIP: return x < alpha ? alpha : (x > beta ? beta : x);
    }
    return x;
}

float kk_ref_binary(kk_binop_t op, float a, float b) {
    switch (op) {
    case KK_BIN_ADD: return a + b;
    case KK_BIN_SUB: return a - b;
    case KK_BIN_MUL: return a * b;
    case KK_BIN_DIV: return a / b;
    case KK_BIN_POW: return (float)pow(a, b);
    case KK_BIN_MIN: return a < b ? a : b;
    case KK_BIN_MAX: return a > b ? a : b;
    }
    return a;
}

void kk_ref_binary_nd(kk_binop_t op, const float *a, const int64_t *as, const float *b,
                      const int64_t *bs, float *out, const int64_t *shape, int rank) {
    int64_t n = 1;
    for (int k = 0; k < rank; k++)
        n *= shape[k];
    for (int64_t i = 0; i < n; i++) {
        int64_t rem = i, ia = 0, ib = 0;
        for (int k = rank - 1; k >= 0; k--) {
            int64_t c = rem % shape[k];
            rem /= shape[k];
            ia += c * as[k];
            ib += c * bs[k];
        }
        out[i] = kk_ref_binary(op, a[ia], b[ib]);
    }
}

void kk_ref_softmax(const float *x, float *y, int64_t rows, int64_t cols, int log_sm) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        double m = xr[0], s = 0;
        for (int64_t c = 1; c < cols; c++)
            m = xr[c] > m ? xr[c] : m;
        for (int64_t c = 0; c < cols; c++)
            s += exp(xr[c] - m);
        for (int64_t c = 0; c < cols; c++)
            y[r * cols + c] = (float)(log_sm ? xr[c] - m - log(s) : exp(xr[c] - m) / s);
    }
}

void kk_ref_layernorm(const float *x, const float *gamma, const float *beta, float *y, int64_t rows,
                      int64_t cols, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        double mean = 0, var = 0;
        for (int64_t c = 0; c < cols; c++)
            mean += xr[c];
        mean /= (double)cols;
        for (int64_t c = 0; c < cols; c++)
            var += (xr[c] - mean) * (xr[c] - mean);
        var /= (double)cols;
        double rstd = 1.0 / sqrt(var + eps);
        for (int64_t c = 0; c < cols; c++)
            y[r * cols + c] = (float)((xr[c] - mean) * rstd * gamma[c] + (beta ? beta[c] : 0));
    }
}

void kk_ref_reduce(kk_reduce_op_t op, const float *x, float *y, int64_t outer, int64_t n,
                   int64_t inner) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            double acc = op == KK_REDUCE_MAX ? -INFINITY : 0;
            for (int64_t k = 0; k < n; k++) {
                double v = x[(o * n + k) * inner + in];
                acc = op == KK_REDUCE_MAX ? (v > acc ? v : acc) : acc + v;
            }
            y[o * inner + in] = (float)(op == KK_REDUCE_MEAN ? acc / (double)n : acc);
        }
}

void kk_ref_argmax(const float *x, int64_t *idx, int64_t outer, int64_t n, int64_t inner) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            int64_t best = 0;
            for (int64_t k = 1; k < n; k++)
                if (x[(o * n + k) * inner + in] > x[(o * n + best) * inner + in])
                    best = k;
            idx[o * inner + in] = best;
        }
}

void kk_ref_strided_copy(const float *src, int64_t soff, const int64_t *ss, float *dst,
                         int64_t doff, const int64_t *ds, const int64_t *shape, int rank) {
    int64_t n = 1;
    for (int k = 0; k < rank; k++)
        n *= shape[k];
    for (int64_t i = 0; i < n; i++) {
        int64_t rem = i, si = soff, di = doff;
        for (int k = rank - 1; k >= 0; k--) {
            int64_t c = rem % shape[k];
            rem /= shape[k];
            si += c * ss[k];
            di += c * ds[k];
        }
        dst[di] = src[si];
    }
}

void kk_ref_gather(const float *data, const int64_t *indices, float *out, int64_t outer,
                   int64_t axis_dim, int64_t m, int64_t inner) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < m; j++) {
            int64_t idx = indices[j] < 0 ? indices[j] + axis_dim : indices[j];
            for (int64_t in = 0; in < inner; in++)
                out[(o * m + j) * inner + in] = data[(o * axis_dim + idx) * inner + in];
        }
}

void kk_ref_im2col(const float *img, const kk_conv2d_geom_t *g, float *col) {
    int64_t cols = g->oh * g->ow;
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t i = 0; i < g->kh; i++)
            for (int64_t j = 0; j < g->kw; j++)
                for (int64_t oy = 0; oy < g->oh; oy++)
                    for (int64_t ox = 0; ox < g->ow; ox++) {
                        int64_t y = oy * g->stride_h - g->pad_t + i * g->dil_h;
                        int64_t x = ox * g->stride_w - g->pad_l + j * g->dil_w;
                        float v = 0;
                        if (y >= 0 && y < g->h && x >= 0 && x < g->w)
                            v = img[(c * g->h + y) * g->w + x];
                        col[((c * g->kh + i) * g->kw + j) * cols + oy * g->ow + ox] = v;
                    }
}

void kk_ref_pool2d(kk_pool_kind_t kind, const float *x, float *y, int64_t planes,
                   const kk_conv2d_geom_t *g, int count_include_pad) {
    for (int64_t p = 0; p < planes; p++)
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++) {
                double acc = kind == KK_POOL_MAX ? -INFINITY : 0;
                int64_t count = 0, padded = 0;
                for (int64_t i = 0; i < g->kh; i++)
                    for (int64_t j = 0; j < g->kw; j++) {
                        int64_t yy = oy * g->stride_h - g->pad_t + i * g->dil_h;
                        int64_t xx = ox * g->stride_w - g->pad_l + j * g->dil_w;
                        if (yy >= -g->pad_t && yy < g->h + g->pad_b && xx >= -g->pad_l &&
                            xx < g->w + g->pad_r)
                            padded++;
                        if (yy < 0 || yy >= g->h || xx < 0 || xx >= g->w)
                            continue;
                        double v = x[(p * g->h + yy) * g->w + xx];
                        acc = kind == KK_POOL_MAX ? (v > acc ? v : acc) : acc + v;
                        count++;
                    }
                if (kind == KK_POOL_AVG) {
                    int64_t div = count_include_pad ? padded : count;
                    acc = div ? acc / (double)div : 0;
                }
                y[(p * g->oh + oy) * g->ow + ox] = (float)acc;
            }
}

void kk_ref_sgemm(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                  int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double acc = 0;
            for (int64_t k = 0; k < K; k++) {
                double a = ta ? A[k * lda + i] : A[i * lda + k];
                double b = tb ? B[j * ldb + k] : B[k * ldb + j];
                acc += a * b;
            }
            C[i * ldc + j] = (float)(alpha * acc + beta * C[i * ldc + j]);
        }
}
