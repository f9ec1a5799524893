/* weft bench output: how a record table written by several ranks should reach its one HDF5
 * file. "gather" is what runs do: every rank's rows go to rank 0, which merges them into the
 * order one rank would have written (wf_records_merge_write) and writes them alone.
 * "parallel" is parallel HDF5: the ranks split the key range, exchange rows so that each holds
 * one stretch of that order, merge, and each writes its slab of the same table in one
 * collective MPI-IO write (wf_records_write_parallel). Both write the trace's own table layout
 * (chunked, shuffle + deflate), and the two files must hold the same table, row for row. */
#include "bench_output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "engine_internal.h"
#include "opts.h"
#include "path.h"
#include "simtime.h"
#include "trace.h"

static const wf_opt opts[] = {
    {"rows", 0, "N", "rows per rank (default 300000, 24-byte rows like PHOLD's event records)"},
    {"repeat", 0, "K", "measurements of each method; the median is printed (default 3)"},
    {"dir", 0, "DIR", "where the two files are written and removed (default results/bench)"},
};

typedef struct args {
  long rows, repeat;
  const char *dir;
  int help;
} args;

static int on_opt(void *ud, int i, const char *v, wf_error *err) {
  args *a = ud;
  char *end;
  if (i == -1) {
    a->help = 1;
  } else if (i == 0) {
    a->rows = strtol(v, &end, 10);
    if (*end || a->rows < 1 || a->rows > 100000000)
      return wf_error_set(err, "--rows %s: expected a count from 1 to 100000000", v);
  } else if (i == 1) {
    a->repeat = strtol(v, &end, 10);
    if (*end || a->repeat < 1 || a->repeat > 100)
      return wf_error_set(err, "--repeat %s: expected a count from 1 to 100", v);
  } else if (i == 2) {
    a->dir = v;
  }
  return 0;
}

typedef struct row {
  double t;
  uint32_t lp, from, phase, pad;
} row;

static const wf_column cols[] = {
    WF_COLUMN(row, t, WF_COL_F64, "s"),
    WF_COLUMN(row, lp, WF_COL_U32, NULL),
    WF_COLUMN(row, from, WF_COL_U32, NULL),
    WF_COLUMN(row, phase, WF_COL_U32, NULL),
};
#define NCOLS (sizeof cols / sizeof *cols)

/* This rank's rows as a run would hold them: in key order, each with its key. */
static unsigned char *make_entries(long n, int rank) {
  size_t stride = sizeof(wf_row_key) + sizeof(row);
  unsigned char *e = malloc((size_t)n * stride);
  if (!e) return NULL;
  uint64_t x = 0x9E3779B97F4A7C15ull * (uint64_t)(rank + 1), ts = 0;
  for (long i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    ts += 1 + x % 2000000; /* about 1 ms apart on every rank: the ranks' rows interleave */
    row r = {(double)ts * 1e-9, (uint32_t)(x >> 40) % 4096, (uint32_t)(x >> 20) % 4096, 1, 0};
    wf_row_key k = {.phase = 1, .lp = r.lp, .ts = ts, .sent = (uint64_t)i};
    memcpy(e + (size_t)i * stride, &k, sizeof k);
    memcpy(e + (size_t)i * stride + sizeof k, &r, sizeof r);
  }
  return e;
}

static int write_table(const char *path, int parallel, const unsigned char *entries, long n,
                       wf_error *err) {
  wf_trace *t = NULL;
  wf_trace_table *tab = NULL;
  int rc = 0;
  if (parallel || wf_sync_rank() == 0) {
    t = parallel ? wf_trace_create_parallel(path, err) : wf_trace_create(path, err);
    tab = t ? wf_trace_table_add(t, "records", "events", cols, NCOLS, sizeof(row), "bench", err)
            : NULL;
    rc = tab ? 0 : -1;
  }
  if (wf_sync_agree(err) != 0) {
    wf_trace_close(t, NULL);
    return -1;
  }
  rc = parallel ? wf_records_write_parallel(entries, (size_t)n, sizeof(row), tab, err)
                : wf_records_merge_write(entries, (size_t)n, sizeof(row), tab, err);
  if (wf_trace_close(t, rc ? NULL : err) != 0) rc = -1;
  return wf_sync_agree(err) != 0 || rc ? -1 : 0;
}

/* The two files must hold the same table, byte for byte. */
static int same_table(const char *a, const char *b, wf_error *err) {
  wf_trace_reader *ra = wf_trace_open(a, err), *rb = ra ? wf_trace_open(b, err) : NULL;
  size_t na = 0, nb = 0;
  void *va = rb ? wf_trace_read_raw(ra, "/records/events", &na, err) : NULL;
  void *vb = va ? wf_trace_read_raw(rb, "/records/events", &nb, err) : NULL;
  int rc = !vb ? -1
           : na != nb || memcmp(va, vb, na)
               ? wf_error_set(err, "%s and %s hold different tables", a, b)
               : 0;
  free(va), free(vb);
  wf_trace_reader_close(ra);
  wf_trace_reader_close(rb);
  return rc;
}

int wf_bench_output_main(int argc, char **argv) {
  args a = {.rows = 300000, .repeat = 3, .dir = "results/bench"};
  wf_error err = {0};
  int rank = wf_sync_rank(), size = wf_sync_size();
  int st =
      wf_bench_mpi_start(argc, argv, "output",
                         "Times the two ways a record table written by N ranks can reach one HDF5\n"
                         "file: gather (rank 0 gathers every row, merges them into the one-rank\n"
                         "order and writes alone) and parallel (the ranks split the key range,\n"
                         "exchange rows, merge, and each writes its slab with parallel HDF5).\n"
                         "Prints the median seconds of each and checks the two tables are equal.\n"
                         "Needs 2+ ranks.",
                         opts, sizeof opts / sizeof *opts, on_opt, &a, &a.help);
  if (st >= 0) return st;
  char ga[4096], pa[4096];
  snprintf(ga, sizeof ga, "%s/bench-output-gather.h5", a.dir);
  snprintf(pa, sizeof pa, "%s/bench-output-parallel.h5", a.dir);
  int rc = rank == 0 ? wf_mkdirs(a.dir, &err) : 0;
  unsigned char *entries = rc ? NULL : make_entries(a.rows, rank);
  if (!rc && !entries) rc = wf_error_set(&err, "out of memory for %ld rows", a.rows);
  if (wf_sync_agree(&err) != 0) {
    if (rank == 0) fprintf(stderr, "weft bench output: %s\n", err.msg);
    free(entries);
    return 1;
  }
  double *times = calloc(2 * (size_t)a.repeat, sizeof *times);
  for (long k = 0; k < a.repeat && rc == 0 && times; k++)
    for (int m = 0; m < 2 && rc == 0; m++) {
      uint64_t t0 = 0;
      wf_sync_max_u64(&t0, 1); /* a barrier */
      double w = wf_wall_s();
      rc = write_table(m ? pa : ga, m, entries, a.rows, &err);
      uint64_t ns = (uint64_t)((wf_wall_s() - w) * 1e9);
      wf_sync_max_u64(&ns, 1); /* done when the slowest rank is */
      times[m * a.repeat + k] = (double)ns * 1e-9;
    }
  if (!times) rc = wf_error_set(&err, "out of memory");
  if (rc == 0 && rank == 0) rc = same_table(ga, pa, &err);
  if (wf_sync_agree(&err) != 0) {
    if (rank == 0) fprintf(stderr, "weft bench output: %s\n", err.msg);
  } else if (rank == 0) {
    double g = wf_bench_median(times, (size_t)a.repeat);
    double p = wf_bench_median(times + a.repeat, (size_t)a.repeat);
    double mb = (double)a.rows * size * 20 / 1e6; /* 20 bytes per row in the file's layout */
    printf("ranks=%d  rows=%ld per rank, %ld in all (%.1f MB before compression), median of %ld\n"
           "%-10s %10s %12s\n%-10s %10.3f %12.1f\n%-10s %10.3f %12.1f\n"
           "parallel / gather: %.2f (above 1: the gather is faster)\n"
           "check: both files hold the same table, byte for byte\n",
           size, a.rows, a.rows * size, mb, a.repeat, "method", "seconds", "Mrows/s", "gather", g,
           (double)a.rows * size / g / 1e6, "parallel", p, (double)a.rows * size / p / 1e6, p / g);
  }
  if (rank == 0) unlink(ga), unlink(pa);
  free(times), free(entries);
  return err.set ? 1 : 0;
}
