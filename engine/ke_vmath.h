/* ke_vmath: float32 exp, erf, tanh and sigmoid written so that a loop over
 * an array auto-vectorises at -O3 on any target (no branches, no libm
 * calls, no float->int conversions: selects, integer bit operations on the
 * float's representation and polynomials). Static inline so each call
 * inlines into the caller's loop. Pure; any thread.
 *
 * Accuracy (max relative error against libm in double precision, measured
 * by tests/unit/test_vmath.c over ~9.5M float32 inputs covering every
 * exponent of both signs and dense runs around the branch points; the test
 * asserts the bounds given here, the measured maxima are in brackets):
 *   ke_vexpf      1.5e-7 [1.19e-7, ~1 ulp] for normal results; results in
 *                 the subnormal range within 3 subnormal ulps (rounded
 *                 once, gradually); +inf and 0 where expf overflows and
 *                 underflows.
 *   ke_verff      2.5e-7 [1.78e-7] (odd, |erf| <= 1).
 *   ke_vtanhf     2.0e-7 [1.44e-7] (odd, |tanh| <= 1).
 *   ke_vsigmoidf  2.5e-7 [2.04e-7], also for the tiny results of x < -87.
 * NaN in -> NaN out; +-inf give the limits (exp: +inf / 0; erf, tanh: +-1;
 * sigmoid: 1 / 0). Subnormal inputs behave like 0 (exp 1, erf and tanh
 * return x itself up to rounding).
 *
 * The polynomial coefficients were fitted for this file (weighted least
 * squares iterated towards minimax error on each reduced interval). */
#ifndef KE_VMATH_H
#define KE_VMATH_H

#include <stdint.h>
#include <string.h>

static inline uint32_t ke_vm_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float ke_vm_float(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Branch-free tests and selects, all on the bits: an ordered float compare
 * may raise FE_INVALID, and under gcc's default -ftrapping-math that alone
 * stops the if-conversion a vectorised loop needs (measured: gcc 12 -O3,
 * x86-64 baseline). Masks are all ones or zero. */
static inline uint32_t ke_vm_mask(int cond) {
    return 0u - (uint32_t)(cond != 0);
}

static inline uint32_t ke_vm_isnan(float x) {
    return ke_vm_mask((ke_vm_bits(x) & 0x7fffffffu) > 0x7f800000u);
}

/* x > c for a finite c >= 0, x not NaN (signed order of the bits). */
static inline uint32_t ke_vm_above(float x, float c) {
    return ke_vm_mask((int32_t)ke_vm_bits(x) > (int32_t)ke_vm_bits(c));
}

/* x < c for a finite c < 0, x not NaN (negative floats order by their
 * bits as unsigned, positive ones all below). */
static inline uint32_t ke_vm_below_neg(float x, float c) {
    return ke_vm_mask(ke_vm_bits(x) > ke_vm_bits(c));
}

static inline float ke_vm_select(uint32_t mask, float a, float b) {
    return ke_vm_float((ke_vm_bits(a) & mask) | (ke_vm_bits(b) & ~mask));
}

/* |x|, and a non-negative magnitude given the sign of another float. */
static inline float ke_vm_abs(float x) {
    return ke_vm_float(ke_vm_bits(x) & 0x7fffffffu);
}

static inline float ke_vm_signed(float mag, float sign_of) {
    return ke_vm_float(ke_vm_bits(mag) | (ke_vm_bits(sign_of) & 0x80000000u));
}

/* |x| < c for c > 0 (false for NaN). */
static inline uint32_t ke_vm_abs_below(float x, float c) {
    return ke_vm_mask((ke_vm_bits(x) & 0x7fffffffu) < ke_vm_bits(c));
}

/* a clamped to [lo, hi] for a >= +0 or NaN (NaN gives hi), 0 <= lo <= hi:
 * non-negative floats order like their bits. */
static inline float ke_vm_clamp_pos(float a, float lo, float hi) {
    uint32_t b = ke_vm_bits(a), l = ke_vm_bits(lo), h = ke_vm_bits(hi);
    b = b < l ? l : b;
    return ke_vm_float(b > h ? h : b);
}

/* 2^n for n in [-150, 128], as two factors each a normal float (so results
 * that land in the subnormal range round once, gradually). */
static inline float ke_vm_ldexp(float p, int32_t n) {
    int32_t n1 = n / 2, n2 = n - n1;
    float s1 = ke_vm_float((uint32_t)(n1 + 127) << 23);
    float s2 = ke_vm_float((uint32_t)(n2 + 127) << 23);
    return p * s1 * s2;
}

/* e^x: x = n ln2 + r, |r| <= ln2 / 2 (Cody-Waite two-part ln2), e^r by
 * 1 + r + r^2 P(r), then scaled by 2^n. */
static inline float ke_vexpf(float x) {
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    uint32_t nan = ke_vm_isnan(x);
    float xc = ke_vm_select(nan, 0.0f, x);
    xc = ke_vm_select(ke_vm_above(xc, 89.0f), 89.0f, xc);
    xc = ke_vm_select(ke_vm_below_neg(xc, -104.0f), -104.0f, xc);
    float t = xc * 1.44269504088896341f + magic;
    float nf = t - magic;
    int32_t n = (int32_t)(ke_vm_bits(t) - ke_vm_bits(magic));
    float r = xc - nf * 0.693359375f;      /* ln2 high part: 8 bits, exact product */
    r = r - nf * -2.12194440054690583e-4f; /* ln2 low part */
    float p = 1.39012837664350480e-3f;
    p = p * r + 8.36314657965658300e-3f;
    p = p * r + 4.16668534703167750e-2f;
    p = p * r + 1.66665772828091640e-1f;
    p = p * r + 4.99999995525106100e-1f;
    p = 1.0f + r + r * r * p;
    return ke_vm_select(nan, x, ke_vm_ldexp(p, n));
}

/* e^x with results below 1.7e-38 (x < -87) flushed to +0: no subnormal
 * arithmetic at all, which on x86 costs a microcode assist per vector
 * (~100+ cycles; masked attention scores made Softmax 3x slower). For
 * sums of exponentials (softmax), where such terms are below rounding. */
static inline float ke_vexpf_ftz(float x) {
    uint32_t tiny = ke_vm_below_neg(x, -87.0f) & ~ke_vm_isnan(x);
    float e = ke_vexpf(ke_vm_select(tiny, 0.0f, x));
    return ke_vm_select(tiny, 0.0f, e);
}

/* erf: |x| < 1: x P(x^2); 1 <= |x|: 1 - e^(-x^2) R(1/|x|) / |x| with |x|
 * clamped at 4 (erff rounds to 1 from 3.92 on). Both are computed and one
 * selected, so the loop stays branch-free. */
static inline float ke_verff(float x) {
    float a = ke_vm_abs(x);
    float x2 = x * x;
    float ps = 7.85402001279689000e-5f;
    ps = ps * x2 - 8.01024591831054000e-4f;
    ps = ps * x2 + 5.18833432398554200e-3f;
    ps = ps * x2 - 2.68538159873453700e-2f;
    ps = ps * x2 + 1.12835852691174310e-1f;
    ps = ps * x2 - 3.76126258396306100e-1f;
    ps = ps * x2 + 1.12837916573233850e+0f;
    float small = x * ps;
    float al = ke_vm_clamp_pos(a, 1.0f, 4.0f);
    float u = 1.0f / al;
    float q = 5.45114172428127760e-2f;
    q = q * u - 3.12275210337172150e-1f;
    q = q * u + 7.58866678833162200e-1f;
    q = q * u - 9.78186841763985100e-1f;
    q = q * u + 6.18478718320096400e-1f;
    q = q * u + 1.80888952421545120e-2f;
    q = q * u - 2.99105070020002200e-1f;
    q = q * u + 3.23133136389427980e-3f;
    q = q * u + 5.63973681016882800e-1f;
    float large = ke_vm_signed(1.0f - ke_vexpf(-al * al) * q * u, x);
    float y = ke_vm_select(ke_vm_abs_below(x, 1.0f), small, large);
    return ke_vm_select(ke_vm_isnan(x), x, y);
}

/* tanh: |x| < 0.625: x + x^3 P(x^2); else sign(x) (1 - 2 / (e^(2|x|) + 1))
 * with |x| clamped at 10 (tanhf is 1 from 9.01 on). */
static inline float ke_vtanhf(float x) {
    float a = ke_vm_abs(x);
    float x2 = x * x;
    float ps = -6.10827660001792400e-3f;
    ps = ps * x2 + 2.10073436914497900e-2f;
    ps = ps * x2 - 5.38538871672779500e-2f;
    ps = ps * x2 + 1.33328020053978370e-1f;
    ps = ps * x2 - 3.33333298839362200e-1f;
    float small = a + a * x2 * ps;
    float al = ke_vm_clamp_pos(a, 0.0f, 10.0f);
    float large = 1.0f - 2.0f / (ke_vexpf(2.0f * al) + 1.0f);
    float y = ke_vm_signed(ke_vm_select(ke_vm_abs_below(x, 0.625f), small, large), x);
    return ke_vm_select(ke_vm_isnan(x), x, y);
}

/* 1 / (1 + e^-x), as e / (1 + e) with e = e^-|x| for x < 0 so that the
 * tiny results of large negative x keep their relative accuracy. */
static inline float ke_vsigmoidf(float x) {
    float e = ke_vexpf(-ke_vm_abs(x));
    float s = 1.0f / (1.0f + e);
    return ke_vm_select(ke_vm_mask(ke_vm_bits(x) >> 31), e * s, s);
}

#endif
