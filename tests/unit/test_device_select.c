/* ke_device_is_cpu: which device strings give CPU plans (and so CPU-only
 * load passes). "auto" follows the CUDA device count, which is 0 on a
 * machine without a GPU or driver and in builds without CUDA. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "engine.h"
#include "ke_backend.h"

static void test_explicit_devices(void **state) {
    (void)state;
    assert_int_equal(ke_device_is_cpu(NULL), 1);
    assert_int_equal(ke_device_is_cpu("cpu"), 1);
    assert_int_equal(ke_device_is_cpu("cuda"), 0);
    assert_int_equal(ke_device_is_cpu("cuda:1"), 0);
}

static void test_auto_follows_device_count(void **state) {
    (void)state;
    int gpus = ke_backend_cuda_devices();
    assert_int_equal(ke_device_is_cpu("auto"), gpus <= 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explicit_devices),
        cmocka_unit_test(test_auto_follows_device_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
