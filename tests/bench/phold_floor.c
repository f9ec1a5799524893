/* The floor weft's engine is measured against: PHOLD as a bare sequential loop, a binary heap
 * of (time, LP) and nothing else. No LPs, no payloads, no metrics, no windows: what one core
 * does when the pending set is all there is. tests/bench/phold_ratio.sh compiles and runs it
 * beside `weft run scenarios/bench/phold.lua` with the same parameters.
 *
 *   phold_floor LPS EVENTS_PER_LP REMOTE EVENTS
 *
 * Each event touches its LP's state (a cache line), then schedules one event at now +
 * lookahead (0.1) + an exponential of mean 0.9, to a uniformly random LP with probability
 * REMOTE and to itself otherwise. Prints the events per second as "rate=<Mev/s> Mev/s". */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
  double t;
  uint32_t lp;
} item;

static uint64_t rng_state = 0x853C49E6748FEA9Bull;

/* splitmix64: a full-period 64-bit generator, enough for a benchmark's draws. */
static uint64_t draw(void) {
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double uniform01(void) {
  return (double)(draw() >> 11) / 9007199254740992.0; /* [0, 1) with 53 bits */
}

static item *heap;
static size_t size;

static void push(item x) {
  size_t i = size++;
  while (i > 0 && heap[(i - 1) / 2].t > x.t) {
    heap[i] = heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  heap[i] = x;
}

/* The minimum leaves and x takes its place, sifted down: one pass for a pop and a push. */
static void hold(item x) {
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size && heap[c + 1].t < heap[c].t) c++;
    if (x.t <= heap[c].t) break;
    heap[i] = heap[c];
    i = c;
  }
  heap[i] = x;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s LPS EVENTS_PER_LP REMOTE EVENTS\n", argv[0]);
    return 2;
  }
  uint32_t lps = (uint32_t)strtoul(argv[1], NULL, 10), per = (uint32_t)strtoul(argv[2], NULL, 10);
  double remote = strtod(argv[3], NULL);
  uint64_t events = strtoull(argv[4], NULL, 10);
  const double lookahead = 0.1, mean = 0.9;
  if (!lps || !per || remote < 0 || remote > 1 || !events) {
    fprintf(stderr, "phold_floor: LPS and EVENTS_PER_LP > 0, REMOTE in [0, 1], EVENTS > 0\n");
    return 2;
  }
  uint64_t(*state)[8] = calloc(lps, sizeof *state); /* 64 bytes of state per LP */
  heap = malloc((size_t)lps * per * sizeof *heap);
  if (!state || !heap) {
    fprintf(stderr, "phold_floor: out of memory\n");
    return 1;
  }
  for (uint32_t lp = 0; lp < lps; lp++)
    for (uint32_t k = 0; k < per; k++) push((item){lookahead - mean * log(1 - uniform01()), lp});
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  double now = 0;
  for (uint64_t i = 0; i < events; i++) {
    item e = heap[0];
    now = e.t;
    state[e.lp][0]++;
    uint32_t to = uniform01() < remote ? (uint32_t)(draw() % lps) : e.lp;
    hold((item){now + lookahead - mean * log(1 - uniform01()), to});
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double s = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
  printf("lps=%u per_lp=%u pending=%zu remote=%.2f events=%llu wall=%.3fs rate=%.2f Mev/s "
         "sim=%.1f\n",
         lps, per, size, remote, (unsigned long long)events, s, (double)events / s / 1e6, now);
  free(state), free(heap);
  return 0;
}
