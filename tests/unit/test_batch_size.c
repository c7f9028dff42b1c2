/* kf_batch_rows_for_device: max batch from a device's free memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "kf_batch_size.h"

#define MiB ((size_t)1 << 20)
#define GiB ((size_t)1 << 30)

static void test_fraction_of_free_plus_held(void **st) {
    (void)st;
    /* 10 GiB free + 0 held, 80%: 8 GiB; 1 GiB fixed; 1 MiB per row: 7168 rows */
    assert_int_equal(kf_batch_rows_for_device(10 * GiB, 0, GiB, MiB, 80, 0), 7168);
    /* the probe plan's 2 GiB come back: (8 + 2) * 0.8 - 1 = 7 GiB */
    assert_int_equal(kf_batch_rows_for_device(8 * GiB, 2 * GiB, GiB, MiB, 80, 0), 7168);
    /* the percentage scales what is usable */
    assert_int_equal(kf_batch_rows_for_device(10 * GiB, 0, 0, MiB, 50, 0), 5120);
    assert_int_equal(kf_batch_rows_for_device(10 * GiB, 0, 0, MiB, 100, 0), 10240);
    /* rounding down: 10 MiB at 80% = 8 MiB = 2.67 rows of 3 MiB -> 2 */
    assert_int_equal(kf_batch_rows_for_device(10 * MiB, 0, 0, 3 * MiB, 80, 0), 2);
}

static void test_caps_and_floors(void **st) {
    (void)st;
    /* capped by the configured max batch */
    assert_int_equal(kf_batch_rows_for_device(80 * GiB, 0, 0, 4096, 80, 4096), 4096);
    /* nothing fits: still one row (the allocation will report the failure) */
    assert_int_equal(kf_batch_rows_for_device(MiB, 0, 2 * MiB, MiB, 80, 64), 1);
    assert_int_equal(kf_batch_rows_for_device(0, 0, 0, MiB, 80, 64), 1);
    /* no per-row growth: the cap (or 1 without one) */
    assert_int_equal(kf_batch_rows_for_device(GiB, 0, 0, 0, 80, 512), 512);
    assert_int_equal(kf_batch_rows_for_device(GiB, 0, 0, 0, 80, 0), 1);
    /* out-of-range percentages are clamped to 1..100 */
    assert_int_equal(kf_batch_rows_for_device(100 * MiB, 0, 0, MiB, 0, 0), 1);
    assert_int_equal(kf_batch_rows_for_device(100 * MiB, 0, 0, MiB, 250, 0), 100);
    /* no wrap-around near SIZE_MAX, and a sane upper bound without a cap */
    size_t r = kf_batch_rows_for_device(SIZE_MAX, SIZE_MAX, 0, 1, 100, 0);
    assert_true(r >= 1 && r <= ((size_t)1 << 30));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fraction_of_free_plus_held),
        cmocka_unit_test(test_caps_and_floors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
