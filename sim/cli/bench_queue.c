#include "bench_queue.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "error.h"
#include "opts.h"
#include "queue.h"
#include "queue_ladder.h"
#include "simtime.h"

enum { O_SIZES, O_OPS, O_DIST, O_SEED, O_REPS, O_TIME };

static const wf_opt bench_opts[] = {
    {"sizes", 0, "LIST",
     "pending entries to measure at, comma-separated, 1e3 notation allowed\n"
     "(default 1e3,1e4,1e5,1e6)"},
    {"ops", 0, "N", "timed hold operations per measurement (default: as many as fit in --time)"},
    {"dist", 0, "NAME",
     "distribution of the increment added to the popped timestamp (mean 1 ms):\n"
     "exp      exponential, the usual model of delays (default)\n"
     "uniform  uniform on [0, 2 ms)\n"
     "bimodal  90% on [0, 0.1 ms), 10% on [9 ms, 10 ms): a cluster and far outliers\n"
     "ties     one of 0, 0.5, 1, 1.5, 2 ms: a few timestamps shared by many entries\n"
     "all      each of the above in turn; a comma-separated list also works"},
    {"seed", 0, "S", "seed of the increments; every structure sees the same ones (default 1)"},
    {"reps", 0, "R", "repetitions, interleaved across structures; the median is shown (default 3)"},
    {"time", 0, "SECONDS", "target duration of one timed measurement (default 0.25)"},
};
#define NOPTS (sizeof bench_opts / sizeof *bench_opts)

enum dist { D_EXP, D_UNIFORM, D_BIMODAL, D_TIES, NDIST };
static const char *const dist_names[NDIST] = {"exp", "uniform", "bimodal", "ties"};

enum { S_4ARY, S_BINARY, S_LADDER, NSTRUCT };
static const char *const struct_names[NSTRUCT] = {"4-ary heap", "binary heap", "ladder"};

#define MAX_SIZES 16
#define MAX_REPS 99
#define MEAN_NS 1000000.0
/* Increments are drawn before timing into a table read in sequence, so the timed loop pays
 * for no logarithm or random draw: the same cost for every structure would only blur ratios. */
#define INCR_BITS 20

typedef struct bench_args {
  size_t sizes[MAX_SIZES], nsizes;
  uint64_t ops, seed;
  int dist[NDIST], ndist, reps, help;
  double time;
} bench_args;

/* ---- randomness: splitmix64 (the engine's RNG streams are keyed per LP; this needs one) ---- */

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double unit(uint64_t *s) {
  return (double)(splitmix64(s) >> 11) * 0x1.0p-53;
}

static uint64_t draw_incr(enum dist d, uint64_t *s) {
  double u = unit(s);
  switch (d) {
  case D_EXP:
    return (uint64_t)llround(-MEAN_NS * log1p(-u));
  case D_UNIFORM:
    return (uint64_t)(u * 2 * MEAN_NS);
  case D_BIMODAL:
    return (uint64_t)(u < 0.9 ? u / 0.9 * 0.1 * MEAN_NS : (9 + (u - 0.9) / 0.1) * MEAN_NS);
  case D_TIES:
    return (uint64_t)(u * 5) * (uint64_t)(MEAN_NS / 2);
  default:
    return 0;
  }
}

typedef struct incr_table {
  uint64_t *v;
  size_t i;
} incr_table;

static inline uint64_t next_incr(incr_table *t) {
  return t->v[t->i++ & (((size_t)1 << INCR_BITS) - 1)];
}

/* ---- a plain binary heap, for comparison: same entries, same order, fused replace-top ---- */

typedef struct bheap {
  wf_qentry *h;
  size_t n, cap;
} bheap;

static void bheap_push(bheap *q, wf_qentry e) { /* prefill only: capacity is reserved */
  size_t i = q->n++;
  while (i) {
    size_t p = (i - 1) / 2;
    if (!wf_qentry_less(&e, &q->h[p])) break;
    q->h[i] = q->h[p];
    i = p;
  }
  q->h[i] = e;
}

/* Kept out of line, as wf_queue_replace_top (in another file) is for the 4-ary heap. */
static __attribute__((noinline)) void bheap_replace_top(bheap *q, wf_qentry e) {
  size_t i = 0, n = q->n;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && wf_qentry_less(&q->h[c + 1], &q->h[c])) c++;
    if (!wf_qentry_less(&q->h[c], &e)) break;
    q->h[i] = q->h[c];
    i = c;
  }
  q->h[i] = e;
}

/* ---- one measurement ---- */

typedef struct queues {
  wf_queue q4;
  bheap q2;
  wf_ladder ql;
} queues;

typedef struct result {
  double ns;      /* per hold */
  double bytes;   /* per pending entry */
  uint64_t check; /* hash of the warm-up pops: equal across structures or one of them is wrong */
} result;

static inline uint64_t check_step(uint64_t h, wf_qentry e, const wf_event *base) {
  return (h ^ (e.ts + 0x9E3779B97F4A7C15ull * (uint64_t)(e.ev - base))) * 0x100000001B3ull;
}

/* `n` holds on structure s: pop the minimum, push it back at ts + increment. Hashes the pops
 * when `check` is given (the warm-up), so the timed loop does nothing but queue work. */
static int holds(int s, queues *q, size_t n, incr_table *t, uint64_t *check, const wf_event *base) {
  uint64_t h = check ? *check : 0;
  switch (s) {
  case S_4ARY:
    for (size_t i = 0; i < n; i++) {
      wf_qentry e = q->q4.h[0];
      if (check) h = check_step(h, e, base);
      e.ts += next_incr(t);
      wf_queue_replace_top(&q->q4, e);
    }
    break;
  case S_BINARY:
    for (size_t i = 0; i < n; i++) {
      wf_qentry e = q->q2.h[0];
      if (check) h = check_step(h, e, base);
      e.ts += next_incr(t);
      bheap_replace_top(&q->q2, e);
    }
    break;
  default:
    for (size_t i = 0; i < n; i++) {
      wf_qentry e = wf_ladder_pop_min(&q->ql);
      if (check) h = check_step(h, e, base);
      e.ts += next_incr(t);
      if (wf_ladder_push(&q->ql, e) != 0) return -1;
    }
  }
  if (check) *check = h;
  return 0;
}

static int setup(int s, queues *q, size_t n, incr_table *t, wf_event *events) {
  switch (s) {
  case S_4ARY:
    if (wf_queue_init(&q->q4, n) != 0) return -1;
    break;
  case S_BINARY:
    q->q2.h = malloc(n * sizeof *q->q2.h);
    q->q2.n = 0;
    q->q2.cap = n;
    if (!q->q2.h) return -1;
    break;
  default:
    if (wf_ladder_init(&q->ql, n) != 0) return -1;
  }
  for (size_t i = 0; i < n; i++) {
    /* Each event keeps its index as send count (one source): a unique tie, like a source's
     * sends, and the timed loop never has to write to the event. */
    events[i].seq = i;
    wf_qentry e = {.ts = next_incr(t), .ev = &events[i]};
    if (s == S_4ARY && wf_queue_push(&q->q4, e) != 0) return -1;
    if (s == S_BINARY) bheap_push(&q->q2, e);
    if (s == S_LADDER && wf_ladder_push(&q->ql, e) != 0) return -1;
  }
  return 0;
}

static double bytes_of(int s, const queues *q) {
  switch (s) {
  case S_4ARY:
    return (double)(q->q4.cap * sizeof *q->q4.h);
  case S_BINARY:
    return (double)(q->q2.cap * sizeof *q->q2.h);
  default:
    return (double)wf_ladder_bytes(&q->ql);
  }
}

static void teardown(int s, queues *q) {
  if (s == S_4ARY) wf_queue_free(&q->q4);
  if (s == S_BINARY) free(q->q2.h);
  if (s == S_LADDER) wf_ladder_free(&q->ql);
}

static int measure(int s, size_t n, const bench_args *a, uint64_t *incr, wf_event *events,
                   result *r) {
  queues q;
  memset(&q, 0, sizeof q);
  incr_table t = {incr, 0};
  int rc = setup(s, &q, n, &t, events);
  /* Warm up to the steady state: every prefilled entry popped about twice. */
  size_t warm = 2 * n > 100000 ? 2 * n : 100000;
  r->check = 0;
  if (rc == 0) rc = holds(s, &q, warm, &t, &r->check, events);
  uint64_t done = 0;
  double t0 = wf_wall_s(), el = 0;
  while (rc == 0) {
    size_t chunk = a->ops ? (size_t)(a->ops - done < 4096 ? a->ops - done : 4096) : 4096;
    if (chunk == 0) break;
    rc = holds(s, &q, chunk, &t, NULL, events);
    done += chunk;
    el = wf_wall_s() - t0;
    if (!a->ops && el >= a->time) break;
  }
  r->ns = done ? el * 1e9 / (double)done : 0;
  r->bytes = bytes_of(s, &q) / (double)n;
  teardown(s, &q);
  return rc;
}

/* ---- options ---- */

static int parse_sizes(bench_args *a, const char *v, wf_error *err) {
  char buf[256];
  if (strlen(v) >= sizeof buf) return wf_error_set(err, "--sizes: list too long");
  strcpy(buf, v);
  a->nsizes = 0;
  for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
    uint64_t n = 0;
    if (a->nsizes == MAX_SIZES) return wf_error_set(err, "--sizes: at most %d sizes", MAX_SIZES);
    /* The ladder indexes its nodes with 32 bits; 1e8 entries already need gigabytes. */
    if (wf_bench_count(tok, "sizes", 1e8, &n, err) != 0) return -1;
    a->sizes[a->nsizes++] = (size_t)n;
  }
  if (!a->nsizes) return wf_error_set(err, "--sizes: empty list");
  return 0;
}

static int parse_dist(bench_args *a, const char *v, wf_error *err) {
  char buf[256];
  if (strlen(v) >= sizeof buf) return wf_error_set(err, "--dist: list too long");
  strcpy(buf, v);
  a->ndist = 0;
  for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
    if (!strcmp(tok, "all")) {
      for (int d = 0; d < NDIST; d++) a->dist[d] = d;
      a->ndist = NDIST;
      return 0;
    }
    int d = 0;
    while (d < NDIST && strcmp(tok, dist_names[d])) d++;
    if (d == NDIST)
      return wf_error_set(err, "--dist %s: unknown (exp, uniform, bimodal, ties or all)", tok);
    if (a->ndist == NDIST) return wf_error_set(err, "--dist: too many names");
    a->dist[a->ndist++] = d;
  }
  if (!a->ndist) return wf_error_set(err, "--dist: empty list");
  return 0;
}

static int on_opt(void *ud, int idx, const char *v, wf_error *err) {
  bench_args *a = ud;
  uint64_t n = 0;
  char *end;
  switch (idx) {
  case -1:
    a->help = 1;
    break;
  case O_SIZES:
    return parse_sizes(a, v, err);
  case O_OPS:
    return wf_bench_count(v, "ops", 1e15, &a->ops, err);
  case O_DIST:
    return parse_dist(a, v, err);
  case O_SEED:
    errno = 0;
    a->seed = strtoull(v, &end, 10);
    if (errno || *end || !*v || v[0] == '-')
      return wf_error_set(err, "--seed %s: expected a non-negative integer", v);
    break;
  case O_REPS:
    if (wf_bench_count(v, "reps", MAX_REPS, &n, err) != 0) return -1;
    a->reps = (int)n;
    break;
  case O_TIME:
    a->time = strtod(v, &end);
    if (*end || end == v || !(a->time > 0) || a->time > 3600)
      return wf_error_set(err, "--time %s: expected seconds, more than 0 and at most 3600", v);
    break;
  }
  return 0;
}

/* ---- the table ---- */

/* All repetitions of every structure at one size; prints its rows. */
static int bench_size(size_t n, enum dist d, const bench_args *a, uint64_t *incr,
                      wf_event *events) {
  double ns[NSTRUCT][MAX_REPS], bytes[NSTRUCT] = {0};
  for (int rep = 0; rep < a->reps; rep++) {
    uint64_t check[NSTRUCT];
    for (int s = 0; s < NSTRUCT; s++) {
      result r;
      if (measure(s, n, a, incr, events, &r) != 0) {
        fprintf(stderr, "weft bench queue: %s: out of memory at %zu entries\n", struct_names[s], n);
        return -1;
      }
      ns[s][rep] = r.ns;
      bytes[s] = r.bytes;
      check[s] = r.check;
    }
    for (int s = 1; s < NSTRUCT; s++)
      if (check[s] != check[0]) {
        fprintf(stderr, "weft bench queue: %s popped a different sequence than %s (N=%zu, %s)\n",
                struct_names[s], struct_names[0], n, dist_names[d]);
        return -1;
      }
  }
  double base = wf_bench_median(ns[S_4ARY], (size_t)a->reps);
  for (int s = 0; s < NSTRUCT; s++) {
    double m = s == S_4ARY ? base : wf_bench_median(ns[s], (size_t)a->reps);
    printf("%9zu  %-12s %9.1f %10.2f %9.2f %9.1f\n", n, struct_names[s], m, 1e3 / m, m / base,
           bytes[s]);
  }
  fflush(stdout);
  return 0;
}

static int bench_dist(enum dist d, const bench_args *a) {
  size_t ntab = (size_t)1 << INCR_BITS, maxn = 0;
  for (size_t i = 0; i < a->nsizes; i++)
    if (a->sizes[i] > maxn) maxn = a->sizes[i];
  uint64_t *incr = malloc(ntab * sizeof *incr), s = a->seed;
  wf_event *events = calloc(maxn, sizeof *events);
  int rc = 0;
  if (!incr || !events) {
    fprintf(stderr, "weft bench queue: out of memory for %zu events\n", maxn);
    rc = -1;
  } else {
    for (size_t i = 0; i < ntab; i++) incr[i] = draw_incr(d, &s);
    printf("\nincrements: %s, seed %llu; median of %d; time vs 4-ary < 1 means faster\n",
           dist_names[d], (unsigned long long)a->seed, a->reps);
    printf("%9s  %-12s %9s %10s %9s %9s\n", "N", "structure", "ns/hold", "Mholds/s", "vs 4-ary",
           "B/entry");
    for (size_t i = 0; i < a->nsizes && rc == 0; i++)
      rc = bench_size(a->sizes[i], d, a, incr, events);
  }
  free(incr);
  free(events);
  return rc;
}

int wf_bench_queue_main(int argc, char **argv) {
  bench_args a = {.sizes = {1000, 10000, 100000, 1000000},
                  .nsizes = 4,
                  .seed = 1,
                  .dist = {D_EXP},
                  .ndist = 1,
                  .reps = 3,
                  .time = 0.25};
  wf_error err = {0};
  if (wf_opts_parse(argc, argv, bench_opts, NOPTS, on_opt, wf_opts_no_args, &a, &err) != 0) {
    fprintf(stderr, "weft bench queue: %s\n", err.msg);
    return 2;
  }
  if (a.help) {
    wf_opts_help(stdout, "weft bench queue [options]",
                 "Measures the pending-event sets under the hold model: N entries are queued,\n"
                 "then each operation pops the minimum and pushes it back at its timestamp\n"
                 "plus a random increment (the heaps fuse the two into one sift). For each N\n"
                 "and structure it prints ns per hold, million holds per second, the time\n"
                 "relative to the engine's 4-ary heap measured in the same run, and the\n"
                 "queue's memory per pending entry (events themselves not counted).",
                 bench_opts, NOPTS);
    return 0;
  }
  printf("weft bench queue: hold model, sizes");
  for (size_t i = 0; i < a.nsizes; i++) printf(" %zu", a.sizes[i]);
  if (a.ops)
    printf(", %llu timed holds each\n", (unsigned long long)a.ops);
  else
    printf(", about %.2f s per measurement\n", a.time);
  for (int i = 0; i < a.ndist; i++)
    if (bench_dist((enum dist)a.dist[i], &a) != 0) return 1;
  return 0;
}
