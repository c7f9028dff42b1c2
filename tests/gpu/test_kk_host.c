/* Host-side helpers of the CUDA kernels (no GPU needed): broadcast strides
 * and convolution geometry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kk_conv.h"
#include "kk_elementwise.h"

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
    kk_conv2d_geom_t g = {.c = 1, .h = 28, .w = 28, .kh = 3, .kw = 3, .stride_h = 1,
                          .stride_w = 1, .dil_h = 1, .dil_w = 1, .pad_t = 1, .pad_l = 1,
                          .pad_b = 1, .pad_r = 1};
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broadcast_strides),
        cmocka_unit_test(test_conv_geometry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
