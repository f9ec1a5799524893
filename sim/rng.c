#include "rng.h"

#include <math.h>

wf_rng wf_rng_stream(uint64_t seed, uint64_t stream) {
  wf_rng r = {wf_mix64(wf_mix64(seed ^ 0x6A09E667F3BCC909ull) + stream), 0};
  return r;
}

uint64_t wf_rng_below(wf_rng *r, uint64_t n) {
  if (n <= 1) return 0;
  __extension__ typedef unsigned __int128 u128; /* GCC and Clang on 64-bit targets */
  for (;;) {
    u128 m = (u128)wf_rng_u64(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo >= n || lo >= (0 - n) % n) return (uint64_t)(m >> 64);
  }
}

/* log(1 - u) with u in [0, 1): the argument is in (0, 1], so the result is finite; log is
 * about twice as fast as log1p here and loses nothing at this resolution. */
double wf_rng_exponential(wf_rng *r, double mean) {
  return -mean * log(1.0 - wf_rng_uniform(r));
}

double wf_rng_normal(wf_rng *r, double mu, double sigma) {
  /* Box-Muller without caching the second value: one normal per call keeps a stream's draw
   * count a simple function of the calls made. */
  double u1 = 1.0 - wf_rng_uniform(r); /* (0, 1] so log is finite */
  double u2 = wf_rng_uniform(r);
  return mu + sigma * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double wf_rng_lognormal(wf_rng *r, double mu, double sigma) {
  return exp(wf_rng_normal(r, mu, sigma));
}

double wf_rng_pareto(wf_rng *r, double xm, double alpha) {
  return xm / pow(1.0 - wf_rng_uniform(r), 1.0 / alpha);
}

/* Helpers of the rejection-inversion method, accurate near zero. */
static double expm1_over_x(double x) {
  return fabs(x) > 1e-8 ? expm1(x) / x : 1.0 + x * 0.5;
}
static double log1p_over_x(double x) {
  return fabs(x) > 1e-8 ? log1p(x) / x : 1.0 - x * 0.5;
}

/* H(x) = integral of x^-s, and its inverse. */
static double zipf_H(double s, double x) {
  double lx = log(x);
  return expm1_over_x((1.0 - s) * lx) * lx;
}
static double zipf_H_inv(double s, double y) {
  double t = y * (1.0 - s);
  if (t < -1.0) t = -1.0; /* guards rounding at the boundary */
  return exp(log1p_over_x(t) * y);
}
static double zipf_h(double s, double x) {
  return exp(-s * log(x));
}

int wf_zipf_init(wf_zipf *z, uint64_t n, double s) {
  if (n < 1 || !(s > 0)) return -1;
  z->n = n;
  z->s = s;
  z->h_x1 = zipf_H(s, 1.5) - 1.0;
  z->h_n = zipf_H(s, (double)n + 0.5);
  z->sc = 2.0 - zipf_H_inv(s, zipf_H(s, 2.5) - zipf_h(s, 2.0));
  return 0;
}

uint64_t wf_rng_zipf(wf_rng *r, const wf_zipf *z) {
  for (;;) {
    double u = z->h_n + wf_rng_uniform(r) * (z->h_x1 - z->h_n);
    double x = zipf_H_inv(z->s, u);
    double kd = floor(x + 0.5);
    if (kd < 1) kd = 1;
    if (kd > (double)z->n) kd = (double)z->n;
    if (kd - x <= z->sc || u >= zipf_H(z->s, kd + 0.5) - zipf_h(z->s, kd)) return (uint64_t)kd;
  }
}
