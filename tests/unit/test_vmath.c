/* Unit tests for engine/ke_vmath.h: each function against libm (double
 * precision) over a sweep of float32 bit patterns covering every exponent
 * of both signs, dense runs of consecutive floats around the branch points
 * and the overflow/underflow edges, and the special values (+-0, +-inf,
 * NaN, subnormals). Relative error is asserted below the bound stated in
 * ke_vmath.h; results libm puts in the subnormal range are compared with an
 * absolute tolerance of a few subnormal ulps instead. Prints the maximum
 * errors measured. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include "ke_vmath.h"

typedef struct fn {
    const char *name;
    float (*fast)(float);
    double (*ref)(double);
    double max_rel; /* bound asserted, as documented in ke_vmath.h */
} fn_t;

static float f_exp(float x) {
    return ke_vexpf(x);
}
static float f_erf(float x) {
    return ke_verff(x);
}
static float f_tanh(float x) {
    return ke_vtanhf(x);
}
static float f_sig(float x) {
    return ke_vsigmoidf(x);
}
static double r_sig(double x) {
    return 1.0 / (1.0 + exp(-x));
}

static const fn_t k_fns[] = {
    {"exp", f_exp, exp, 1.5e-7},
    {"erf", f_erf, erf, 2.5e-7},
    {"tanh", f_tanh, tanh, 2.0e-7},
    {"sigmoid", f_sig, r_sig, 2.5e-7},
};

static float from_bits(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

typedef struct stats {
    double max_rel;
    float worst_x;
    long n;
} stats_t;

/* Checks one input; returns 0 on failure (after printing it). */
static int check_one(const fn_t *f, float x, stats_t *st) {
    double want = f->ref((double)x);
    float got = f->fast(x);
    st->n++;
    if (isnan(want))
        return isnan(got) ? 1 : (print_error("%s(%a): %a, want NaN\n", f->name, x, got), 0);
    if (isinf(want) || fabs(want) > FLT_MAX) {
        float w = (float)want; /* overflow: libm in float gives +-inf */
        if (got == w || (isinf(w) && got == w))
            return 1;
        print_error("%s(%a): %a, want %a\n", f->name, x, got, w);
        return 0;
    }
    double err = fabs((double)got - want);
    if (fabs(want) < FLT_MIN) { /* subnormal or zero result */
        if (err <= 3.0 * 0x1p-149)
            return 1;
        print_error("%s(%a): %a, want %a (subnormal range)\n", f->name, x, got, want);
        return 0;
    }
    double rel = err / fabs(want);
    if (rel > st->max_rel) {
        st->max_rel = rel;
        st->worst_x = x;
    }
    if (rel <= f->max_rel)
        return 1;
    print_error("%s(%a = %.9g): %.9g, want %.9g, rel %.3g\n", f->name, x, x, got, want, rel);
    return 0;
}

static void sweep(const fn_t *f) {
    stats_t st = {0, 0, 0};
    int ok = 1;
    /* every exponent, both signs: a prime stride over all bit patterns */
    for (uint64_t u = 0; u < (1ull << 32) && ok; u += 509)
        ok &= check_one(f, from_bits((uint32_t)u), &st);
    /* dense runs of consecutive floats around interesting points */
    static const float pts[] = {0.0f,  1e-30f, 1e-7f,   0.5f,    0.625f,  1.0f,     2.0f,
                                3.9f,  4.0f,   9.0f,    10.0f,   20.0f,   0.3465f,  -0.3465f,
                                88.7f, 89.0f,  -87.33f, -88.72f, -103.9f, -104.0f,  -0.625f,
                                -1.0f, -4.0f,  -10.0f,  -88.73f, -100.0f, 0.69314f, 1.1754944e-38f};
    for (size_t i = 0; i < sizeof pts / sizeof pts[0] && ok; i++) {
        uint32_t b;
        memcpy(&b, &pts[i], sizeof b);
        for (int64_t d = -20000; d <= 20000 && ok; d++)
            ok &= check_one(f, from_bits((uint32_t)((int64_t)b + d)), &st);
    }
    /* special values */
    const float sp[] = {0.0f,
                        -0.0f,
                        INFINITY,
                        -INFINITY,
                        NAN,
                        -NAN,
                        FLT_MIN,
                        -FLT_MIN,
                        FLT_MAX,
                        -FLT_MAX,
                        from_bits(1),
                        from_bits(0x80000001u),
                        from_bits(0x007fffffu),
                        from_bits(0x807fffffu)};
    for (size_t i = 0; i < sizeof sp / sizeof sp[0] && ok; i++)
        ok &= check_one(f, sp[i], &st);
    printf("vmath %-8s max rel error %.3g at %.9g (%ld points)\n", f->name, st.max_rel, st.worst_x,
           st.n);
    assert_true(ok);
}

static void test_exp(void **s) {
    (void)s;
    sweep(&k_fns[0]);
    assert_true(ke_vexpf(0.0f) == 1.0f);
    assert_true(ke_vexpf(-INFINITY) == 0.0f && ke_vexpf(INFINITY) == INFINITY);
    assert_true(ke_vexpf(from_bits(1)) == 1.0f); /* subnormal input */
}

/* ke_vexpf_ftz: ke_vexpf's value wherever that is >= 1.7e-38 (x >= -87),
 * +0 below; NaN stays NaN. */
static void test_exp_ftz(void **s) {
    (void)s;
    long n = 0;
    for (uint64_t u = 0; u < (1ull << 32); u += 509) {
        const float x = from_bits((uint32_t)u);
        const float got = ke_vexpf_ftz(x);
        if (isnan(x)) {
            assert_true(isnan(got));
        } else if (x < -87.0f) {
            assert_true(got == 0.0f && !signbit(got));
        } else {
            assert_true(got == ke_vexpf(x));
            assert_true(got == 0.0f || got >= FLT_MIN || x > 0.0f);
        }
        n++;
    }
    assert_true(ke_vexpf_ftz(-87.0f) >= FLT_MIN);
    assert_true(ke_vexpf_ftz(nextafterf(-87.0f, -INFINITY)) == 0.0f);
    assert_true(ke_vexpf_ftz(-INFINITY) == 0.0f && ke_vexpf_ftz(0.0f) == 1.0f);
    printf("vmath exp_ftz    %ld points\n", n);
}

static void test_erf(void **s) {
    (void)s;
    sweep(&k_fns[1]);
    assert_true(ke_verff(0.0f) == 0.0f && signbit(ke_verff(-0.0f)));
    assert_true(ke_verff(INFINITY) == 1.0f && ke_verff(-INFINITY) == -1.0f);
    for (float x = -6.0f; x <= 6.0f; x += 0.001f) {
        assert_true(ke_verff(-x) == -ke_verff(x));
        assert_true(fabsf(ke_verff(x)) <= 1.0f);
    }
}

static void test_tanh(void **s) {
    (void)s;
    sweep(&k_fns[2]);
    assert_true(ke_vtanhf(0.0f) == 0.0f && signbit(ke_vtanhf(-0.0f)));
    assert_true(ke_vtanhf(INFINITY) == 1.0f && ke_vtanhf(-INFINITY) == -1.0f);
    for (float x = -12.0f; x <= 12.0f; x += 0.001f) {
        assert_true(ke_vtanhf(-x) == -ke_vtanhf(x));
        assert_true(fabsf(ke_vtanhf(x)) <= 1.0f);
    }
}

static void test_sigmoid(void **s) {
    (void)s;
    sweep(&k_fns[3]);
    assert_true(ke_vsigmoidf(0.0f) == 0.5f);
    assert_true(ke_vsigmoidf(INFINITY) == 1.0f && ke_vsigmoidf(-INFINITY) == 0.0f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exp),  cmocka_unit_test(test_exp_ftz), cmocka_unit_test(test_erf),
        cmocka_unit_test(test_tanh), cmocka_unit_test(test_sigmoid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
