/* Tensor helpers, attribute accessors, thread pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include "ke_op.h"
#include "ke_tensor.h"
#include "ke_threadpool.h"

static void test_tensor(void **st) {
    (void)st;
    ke_tensor_t t;
    int64_t shape[3] = {2, 3, 4};
    assert_int_equal(ke_tensor_alloc(&t, KE_DT_F32, 3, shape), KE_OK);
    assert_int_equal(ke_tensor_numel(&t), 24);
    assert_int_equal(ke_tensor_nbytes(&t), 96);
    ((float *)t.data)[5] = 7.5f;
    ke_tensor_t c;
    assert_int_equal(ke_tensor_clone(&c, &t), KE_OK);
    assert_true(ke_tensor_same_shape(&c, &t));
    assert_true(ke_tensor_get_f64(&c, 5) == 7.5);
    char buf[64];
    assert_string_equal(ke_tensor_describe(&t, buf, sizeof buf), "float32[2,3,4]");
    ke_tensor_release(&t);
    ke_tensor_release(&c);
    ke_tensor_release(NULL);
    int64_t bad[1] = {-1};
    assert_int_equal(ke_tensor_set_shape(&t, KE_DT_F32, 1, bad), KE_ERR_INVALID_ARG);
    assert_int_equal(ke_tensor_set_shape(&t, KE_DT_F32, 9, shape), KE_ERR_INVALID_ARG);
    assert_int_equal(ke_dtype_from_name("int64"), KE_DT_I64);
    assert_int_equal(ke_dtype_size(KE_DT_BOOL), 1);
    assert_string_equal(ke_dtype_name(KE_DT_F64), "float64");
}

static void test_attrs(void **st) {
    (void)st;
    static const int64_t perm[3] = {0, 2, 1};
    ke_attr_t items[3] = {
        {.name = "alpha", .type = KE_ATTR_FLOAT, .f = 0.5f},
        {.name = "axis", .type = KE_ATTR_INT, .i = -1},
        {.name = "perm", .type = KE_ATTR_INTS, .ints = perm, .n = 3},
    };
    ke_attrs_t a = {items, 3};
    assert_true(ke_attr_float(&a, "alpha", 1.0f) == 0.5f);
    assert_int_equal(ke_attr_int(&a, "axis", 1), -1);
    assert_int_equal(ke_attr_int(&a, "alpha", 9), 9); /* wrong type -> default */
    assert_int_equal(ke_attr_int(&a, "missing", 3), 3);
    const int64_t *p = NULL;
    assert_int_equal(ke_attr_ints(&a, "perm", &p), 3);
    assert_int_equal(p[1], 2);
    assert_int_equal(ke_attr_ints(&a, "nope", &p), -1);
    assert_null(p);
    assert_string_equal(ke_attr_string(NULL, "mode", "constant"), "constant");
    assert_int_equal(ke_attr_type_of(&a, "perm"), KE_ATTR_INTS);
    assert_null(ke_attr_tensor(&a, "value"));
}

typedef struct {
    atomic_llong sum;
    int *hits;
} job_t;

static void body(void *arg, int64_t b, int64_t e, int tid) {
    job_t *j = arg;
    (void)tid;
    long long s = 0;
    for (int64_t i = b; i < e; i++) {
        s += i;
        j->hits[i]++;
    }
    atomic_fetch_add(&j->sum, s);
}

static void test_pool(void **st) {
    (void)st;
    char err[128];
    for (int nt = 1; nt <= 4; nt++) {
        ke_threadpool_t *tp = ke_threadpool_new(nt, err, sizeof err);
        assert_non_null(tp);
        assert_int_equal(ke_threadpool_size(tp), nt);
        static int hits[10007];
        for (int rep = 0; rep < 200; rep++) {
            memset(hits, 0, sizeof hits);
            job_t j = {.hits = hits};
            atomic_init(&j.sum, 0);
            int64_t n = 1 + (rep * 131) % 10007;
            ke_threadpool_parallel_for(tp, n, 16, body, &j);
            assert_int_equal(atomic_load(&j.sum), (long long)n * (n - 1) / 2);
            for (int64_t i = 0; i < n; i++)
                assert_int_equal(hits[i], 1);
        }
        ke_threadpool_free(tp);
    }
    ke_threadpool_free(NULL);
    ke_threadpool_t *def = ke_threadpool_new(0, err, sizeof err);
    assert_non_null(def);
    assert_true(ke_threadpool_size(def) >= 1);
    ke_threadpool_free(def);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tensor),
        cmocka_unit_test(test_attrs),
        cmocka_unit_test(test_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
