/* Unit tests for kf_models: newest/pinned lookup, keep-K, hot swap with
 * deferred destroy after the last reference is released. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include "kf_models.h"

typedef struct {
    int destroyed;
} payload_t;

static void destroy(void *p) {
    ((payload_t *)p)->destroyed++;
}

static void test_lookup_and_swap(void **state) {
    (void)state;
    payload_t v1 = {0}, v2 = {0}, v3 = {0}, other = {0};
    kf_models_t *r = kf_models_new(2);
    assert_non_null(r);
    assert_null(kf_models_acquire(r, "mnist", NULL));
    assert_int_equal(kf_models_publish(r, "mnist", "1", &v1, destroy), KF_OK);
    assert_int_equal(kf_models_publish(r, "other", "7", &other, destroy), KF_OK);
    kf_model_ref_t *a = kf_models_acquire(r, "mnist", NULL);
    assert_non_null(a);
    assert_ptr_equal(kf_model_ref_payload(a), &v1);
    assert_string_equal(kf_model_ref_version(a), "1");
    assert_string_equal(kf_model_ref_name(a), "mnist");
    /* a job holding v1 while v2 is published: newest is v2, v1 pinned works */
    assert_int_equal(kf_models_publish(r, "mnist", "2", &v2, destroy), KF_OK);
    kf_model_ref_t *b = kf_models_acquire(r, "mnist", "");
    assert_ptr_equal(kf_model_ref_payload(b), &v2);
    kf_model_ref_t *p1 = kf_models_acquire(r, "mnist", "1");
    assert_ptr_equal(kf_model_ref_payload(p1), &v1);
    kf_models_release(p1);
    assert_null(kf_models_acquire(r, "mnist", "9"));
    assert_int_equal(kf_models_count(r), 3);
    /* v3 pushes v1 out (keep 2), but `a` still holds it: not destroyed */
    assert_int_equal(kf_models_publish(r, "mnist", "3", &v3, destroy), KF_OK);
    assert_null(kf_models_acquire(r, "mnist", "1"));
    assert_int_equal(v1.destroyed, 0);
    assert_int_equal(kf_models_count(r), 3);
    kf_models_retain(a);
    kf_models_release(a);
    assert_int_equal(v1.destroyed, 0);
    kf_models_release(a);              /* last batch done */
    assert_int_equal(v1.destroyed, 0); /* deferred ... */
    assert_int_equal(kf_models_reap(r), 1);
    assert_int_equal(v1.destroyed, 1); /* ... until reaped */
    kf_models_release(b);
    kf_models_free(r);
    assert_int_equal(v1.destroyed, 1);
    assert_int_equal(v2.destroyed, 1);
    assert_int_equal(v3.destroyed, 1);
    assert_int_equal(other.destroyed, 1);
    kf_models_free(NULL);
    kf_models_release(NULL);
}

/* A batch's jobs drop their references at once: the version lives until the
 * last one goes, then is reaped. */
static void test_release_n(void **state) {
    (void)state;
    payload_t v1 = {0}, v2 = {0};
    kf_models_t *r = kf_models_new(1);
    assert_int_equal(kf_models_publish(r, "m", "1", &v1, destroy), KF_OK);
    kf_model_ref_t *a = kf_models_acquire(r, "m", NULL);
    for (int i = 0; i < 4; i++)
        assert_ptr_equal(kf_models_acquire(r, "m", NULL), a);
    assert_int_equal(kf_models_publish(r, "m", "2", &v2, destroy), KF_OK); /* v1 retired */
    kf_models_release_n(a, 0);
    kf_models_release_n(NULL, 3);
    kf_models_release_n(a, 3);
    assert_int_equal(kf_models_reap(r), 0); /* 2 references left */
    kf_models_release_n(a, 2);
    assert_int_equal(kf_models_reap(r), 1);
    assert_int_equal(v1.destroyed, 1);
    kf_models_free(r);
    assert_int_equal(v2.destroyed, 1);
}

static void test_replace_and_errors(void **state) {
    (void)state;
    payload_t a = {0}, b = {0}, c = {0};
    kf_models_t *r = kf_models_new(0);
    assert_int_equal(kf_models_publish(r, "m", "1", &a, destroy), KF_OK);
    assert_int_equal(kf_models_publish(r, "m", "1", &b, destroy), KF_OK); /* reload */
    assert_int_equal(a.destroyed, 1);
    kf_model_ref_t *x = kf_models_acquire(r, "m", "1");
    assert_ptr_equal(kf_model_ref_payload(x), &b);
    kf_models_release(x);
    assert_int_equal(kf_models_publish(r, "", "1", &c, destroy), KF_ERR_INVALID_ARG);
    assert_int_equal(c.destroyed, 1); /* the registry took it */
    kf_models_free(r);
    assert_int_equal(b.destroyed, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_and_swap),
        cmocka_unit_test(test_replace_and_errors),
        cmocka_unit_test(test_release_n),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
