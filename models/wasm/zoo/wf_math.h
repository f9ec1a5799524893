/* Freestanding f64 math for zoo modules: exp, tanh, sigmoid, sqrt in plain IEEE arithmetic, so
 * the wasm build needs no libm and the native build gives bit-identical results (build both
 * with -ffp-contract=off: a fused multiply-add would round differently). */
#ifndef WF_MATH_H
#define WF_MATH_H

#include <stdint.h>

static inline double wf_ldexp_int(double x, int k) {
  /* Scale by 2^k through the exponent bits; callers keep k inside the normal range. */
  union {
    double d;
    uint64_t u;
  } s = {.u = (uint64_t)(k + 1023) << 52};
  return x * s.d;
}

/* exp(x) = 2^k * e^r with r in [-ln2/2, ln2/2]; a degree-13 Taylor polynomial keeps the error
 * near one ulp, which is all an inference model needs (and it is the same on every engine). */
static inline double wf_exp(double x) {
  if (x > 709.0) return 1.0e308 * 10.0;
  if (x < -708.0) return 0.0;
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  double kd = x * 1.44269504088896338700 + (x < 0 ? -0.5 : 0.5);
  int k = (int)kd;
  double r = (x - k * ln2_hi) - k * ln2_lo;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  return wf_ldexp_int(p, k);
}

static inline double wf_tanh(double x) {
  if (x > 20.0) return 1.0;
  if (x < -20.0) return -1.0;
  double e = wf_exp(2.0 * x);
  return (e - 1.0) / (e + 1.0);
}

static inline double wf_sigmoid(double x) {
  return 1.0 / (1.0 + wf_exp(-x));
}

/* f64.sqrt is correctly rounded in wasm and on x86 alike. */
static inline double wf_sqrt(double x) {
  return __builtin_sqrt(x);
}

static inline double wf_relu(double x) {
  return x > 0.0 ? x : 0.0;
}

#endif
