/* What the benchmarks (weft bench queue|sync|output|net) share. */
#ifndef WF_BENCH_H
#define WF_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "opts.h"

/* The median of v[0..n) (n > 0; v is sorted in place). */
double wf_bench_median(double *v, size_t n);

/* The value of option --opt: a whole number from 1 to max, 1e6 notation allowed. */
int wf_bench_count(const char *text, const char *opt, double max, uint64_t *out, wf_error *err);

/* The start of a benchmark run under mpirun: parses argv into ud through on_opt, prints
 * usage errors and --help from rank 0 only, and refuses fewer than 2 ranks. Returns -1 to go
 * on, else the exit status. */
int wf_bench_mpi_start(int argc, char **argv, const char *name, const char *about,
                       const wf_opt *opts, size_t nopts,
                       int (*on_opt)(void *ud, int index, const char *value, wf_error *err),
                       void *ud, const int *help);

#endif
