/* Host-side helpers of the CUDA kernels (no GPU needed): broadcast strides
 * and convolution geometry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <math.h>

#include "kk_conv.h"
#include "kk_convert.h"
#include "kk_elementwise.h"
#include "kk_gemm.h"

static void test_broadcast_strides(void **state) {
    (void)state;
    int64_t out[3] = {4, 3, 5}, s[3];
    int64_t full[3] = {4, 3, 5};
    assert_int_equal(kk_broadcast_strides(full, 3, out, 3, s), KK_OK);
    assert_int_equal(s[0], 15);
    assert_int_equal(s[1], 5);
    assert_int_equal(s[2], 1);
    int64_t row[1] = {5};
    assert_int_equal(kk_broadcast_strides(row, 1, out, 3, s), KK_OK);
    assert_int_equal(s[0], 0);
    assert_int_equal(s[1], 0);
    assert_int_equal(s[2], 1);
    int64_t col[2] = {3, 1};
    assert_int_equal(kk_broadcast_strides(col, 2, out, 3, s), KK_OK);
    assert_int_equal(s[0], 0);
    assert_int_equal(s[1], 1);
    assert_int_equal(s[2], 0);
    int64_t bad[1] = {4};
    assert_int_equal(kk_broadcast_strides(bad, 1, out, 3, s), KK_ERR_INVALID_ARG);
}

static void test_conv_geometry(void **state) {
    (void)state;
    kk_conv2d_geom_t g = {.c = 1,
                          .h = 28,
                          .w = 28,
                          .kh = 3,
                          .kw = 3,
                          .stride_h = 1,
                          .stride_w = 1,
                          .dil_h = 1,
                          .dil_w = 1,
                          .pad_t = 1,
                          .pad_l = 1,
                          .pad_b = 1,
                          .pad_r = 1};
    assert_int_equal(kk_conv2d_out_size(&g), KK_OK);
    assert_int_equal(g.oh, 28);
    assert_int_equal(g.ow, 28);
    g.stride_h = g.stride_w = 2;
    g.pad_t = g.pad_l = g.pad_b = g.pad_r = 0;
    g.dil_h = 2;
    assert_int_equal(kk_conv2d_out_size(&g), KK_OK);
    assert_int_equal(g.oh, 12); /* (28 - 5) / 2 + 1 */
    assert_int_equal(g.ow, 13); /* (28 - 3) / 2 + 1 */
    g.kh = 40;
    assert_int_equal(kk_conv2d_out_size(&g), KK_ERR_INVALID_ARG);
    g.kh = 3;
    g.stride_w = 0;
    assert_int_equal(kk_conv2d_out_size(&g), KK_ERR_INVALID_ARG);
}

/* The GEMM argument check the backend relies on before calling cuBLAS. */
static void test_gemm_args(void **state) {
    (void)state;
    assert_true(kk_gemm_args_ok(0, 0, 4, 5, 6, 6, 5, 5, 1));
    assert_true(kk_gemm_args_ok(1, 1, 4, 5, 6, 4, 6, 5, 3));  /* A [K,M], B [N,K] */
    assert_false(kk_gemm_args_ok(0, 0, 0, 5, 6, 6, 5, 5, 1)); /* empty: CPU fallback */
    assert_false(kk_gemm_args_ok(0, 0, 4, 5, 0, 1, 5, 5, 1));
    assert_false(kk_gemm_args_ok(0, 0, 4, 5, 6, 5, 5, 5, 1));                /* lda < K */
    assert_false(kk_gemm_args_ok(1, 0, 4, 5, 6, 3, 5, 5, 1));                /* lda < M */
    assert_false(kk_gemm_args_ok(0, 1, 4, 5, 6, 6, 5, 5, 1));                /* ldb < K */
    assert_false(kk_gemm_args_ok(0, 0, 4, 5, 6, 6, 5, 4, 1));                /* ldc < N */
    assert_false(kk_gemm_args_ok(0, 0, (int64_t)1 << 31, 5, 6, 6, 5, 5, 1)); /* int overflow */
    assert_false(kk_gemm_args_ok(0, 0, 4, 5, 6, 6, 5, 5, 0));
}

/* Host references of the FP16/BF16 conversions the GPU tests compare to. */
static void test_half_refs(void **state) {
    (void)state;
    assert_true(kk_half_bits_to_float(0x3c00) == 1.0f);
    assert_true(kk_half_bits_to_float(0xc000) == -2.0f);
    assert_true(kk_half_bits_to_float(0x7bff) == 65504.0f);
    assert_true(kk_half_bits_to_float(0x0001) == 0x1p-24f); /* smallest subnormal */
    assert_true(kk_half_bits_to_float(0x0200) == 0x1p-15f);
    assert_true(kk_half_bits_to_float(0x0400) == 0x1p-14f); /* smallest normal */
    assert_true(isinf(kk_half_bits_to_float(0xfc00)) && kk_half_bits_to_float(0xfc00) < 0);
    assert_true(isnan(kk_half_bits_to_float(0x7e00)));
    assert_int_equal(kk_float_to_bf16_bits(1.0f), 0x3f80);
    assert_int_equal(kk_float_to_bf16_bits(-2.0f), 0xc000);
    /* round to nearest even: 1 + 2^-8 is a tie between 0x3f80 and 0x3f81 */
    assert_int_equal(kk_float_to_bf16_bits(1.0f + 0x1p-8f), 0x3f80);
    assert_int_equal(kk_float_to_bf16_bits(1.0f + 0x1p-7f + 0x1p-8f), 0x3f82);
    assert_int_equal(kk_float_to_bf16_bits(1.0f + 0x1p-8f + 0x1p-12f), 0x3f81);
    assert_true(isnan(kk_bf16_bits_to_float(kk_float_to_bf16_bits(NAN))));
    assert_true(isinf(kk_bf16_bits_to_float(kk_float_to_bf16_bits(INFINITY))));
    for (float f = -3.0f; f < 3.0f; f += 0.173f) {
        float r = kk_bf16_bits_to_float(kk_float_to_bf16_bits(f));
        assert_true(fabsf(r - f) <= fabsf(f) * 0x1p-8f);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broadcast_strides),
        cmocka_unit_test(test_conv_geometry),
        cmocka_unit_test(test_gemm_args),
        cmocka_unit_test(test_half_refs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
