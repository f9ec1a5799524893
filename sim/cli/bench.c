#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "sync.h"

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

double wf_bench_median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int wf_bench_count(const char *text, const char *opt, double max, uint64_t *out, wf_error *err) {
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (errno || end == text || *end || !(v >= 1) || v > max || v != floor(v))
    return wf_error_set(err, "--%s %s: expected a whole number from 1 to %.0f", opt, text, max);
  *out = (uint64_t)v;
  return 0;
}

int wf_bench_mpi_start(int argc, char **argv, const char *name, const char *about,
                       const wf_opt *opts, size_t nopts,
                       int (*on_opt)(void *ud, int index, const char *value, wf_error *err),
                       void *ud, const int *help) {
  wf_error err = {0};
  int rank = wf_sync_rank();
  if (wf_opts_parse(argc, argv, opts, nopts, on_opt, wf_opts_no_args, ud, &err)) {
    if (rank == 0) fprintf(stderr, "weft bench %s: %s\n", name, err.msg);
    return 2;
  }
  if (!*help && wf_sync_size() >= 2) return -1;
  if (rank == 0) {
    char usage[96];
    snprintf(usage, sizeof usage, "mpirun -np N weft bench %s [options]", name);
    wf_opts_help(*help ? stdout : stderr, usage, about, opts, nopts);
  }
  return *help ? 0 : 2;
}
