/* Per-LP random streams. A stream is a key (from the run seed and the LP id) and a counter;
 * draw n is a keyed hash of n, so a stream needs no shared state and its values depend only on
 * (seed, LP id, draw number), never on rank placement or on other LPs' draws. */
#ifndef WF_RNG_H
#define WF_RNG_H

#include <stdint.h>

typedef struct wf_rng {
  uint64_t key;
  uint64_t ctr;
} wf_rng;

/* A 64-bit finaliser with full avalanche (Pelle Evensen's rrmxmx). */
static inline uint64_t wf_mix64(uint64_t x) {
  x ^= ((x >> 49) | (x << 15)) ^ ((x >> 24) | (x << 40));
  x *= 0x9FB21C651E98DF25ull;
  x ^= x >> 28;
  x *= 0x9FB21C651E98DF25ull;
  return x ^ (x >> 28);
}

/* The stream of `stream` (an LP id, or any other stable name) under `seed`. */
wf_rng wf_rng_stream(uint64_t seed, uint64_t stream);

/* Draw n = mix(n * golden XOR key). The key enters by XOR, not by addition as in SplitMix, so
 * two streams are never shifted copies of one sequence: with additive keys, a million streams
 * of a billion draws each would overlap somewhere with high probability. */
static inline uint64_t wf_rng_u64(wf_rng *r) {
  return wf_mix64((r->ctr++ * 0x9E3779B97F4A7C15ull) ^ r->key);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double wf_rng_uniform(wf_rng *r) {
  return (double)(wf_rng_u64(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n) without modulo bias (Lemire's multiply-shift with rejection). */
uint64_t wf_rng_below(wf_rng *r, uint64_t n);

double wf_rng_exponential(wf_rng *r, double mean);
double wf_rng_normal(wf_rng *r, double mu, double sigma);
double wf_rng_lognormal(wf_rng *r, double mu, double sigma); /* mu, sigma of the log */
double wf_rng_pareto(wf_rng *r, double xm, double alpha);    /* support [xm, inf) */

/* Zipf on {1..n} with P(k) proportional to k^-s (s > 0), by Hoermann and Derflinger's
 * rejection-inversion: O(1) per draw for any n, after precomputing a few constants. */
typedef struct wf_zipf {
  uint64_t n;
  double s, h_x1, h_n, sc;
} wf_zipf;
int wf_zipf_init(wf_zipf *z, uint64_t n, double s);
uint64_t wf_rng_zipf(wf_rng *r, const wf_zipf *z);

#endif
