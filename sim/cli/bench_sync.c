#include "bench_sync.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "opts.h"
#include "simtime.h"
#include "sync.h"

static const wf_opt opts[] = {
    {"windows", 0, "N", "exchanges per measurement (default 200000)"},
    {"events", 0, "LIST",
     "events per peer per window, comma-separated, at most 16 (default 0,8,64)"},
};

typedef struct args {
  long windows;
  char events[128];
  int help;
} args;

static int on_opt(void *ud, int i, const char *v, wf_error *err) {
  args *a = ud;
  if (i == -1)
    a->help = 1;
  else if (i == 0 && (a->windows = atol(v)) <= 0)
    return wf_error_set(err, "--windows %s: expected a positive count", v);
  else if (i == 1)
    snprintf(a->events, sizeof a->events, "%s", v);
  return 0;
}
static void drop(void *ud, const wf_event *ev) {
  (void)ev;
  ++*(uint64_t *)ud;
}

int wf_bench_sync_main(int argc, char **argv) {
  args a = {.windows = 200000, .events = "0,8,64"};
  wf_error err = {0};
  int st = wf_bench_mpi_start(
      argc, argv, "sync",
      "Times the window exchange of distributed runs: every rank sends one message\n"
      "to every other per window (header + events) and receives one from each.\n"
      "Prints microseconds per window for each outbox size, over MPI messages and\n"
      "over the shared-memory rings that ranks on one machine use. Needs 2+ ranks.",
      opts, sizeof opts / sizeof *opts, on_opt, &a, &a.help);
  if (st >= 0) return st;
  int rank = wf_sync_rank(), size = wf_sync_size();
  wf_outbox *out = calloc((size_t)size, sizeof *out);
  if (rank == 0)
    printf("ranks=%d  windows=%ld  (events without payload: %zu bytes each on the wire)\n"
           "channel: shm = shared-memory rings between ranks on one machine (what runs use),\n"
           "         mpi = MPI point-to-point messages (what ranks on other machines use)\n"
           "%8s %16s %14s %14s\n",
           size, a.windows, offsetof(wf_event, data), "channel", "events/peer", "us/window",
           "MB/s/rank");
  size_t sizes[16], nsizes = 0;
  for (char *tok = strtok(a.events, ","); tok; tok = strtok(NULL, ",")) {
    char *end;
    long v = strtol(tok, &end, 10);
    if (*end || v < 0 || v > 1000000 || nsizes == 16) {
      if (rank == 0)
        fprintf(stderr,
                "weft bench sync: --events: '%s' is not a count from 0 to 1000000, "
                "or more than 16 were given\n",
                tok);
      free(out);
      return 2;
    }
    sizes[nsizes++] = (size_t)v;
  }
  for (int k = 0; k < (int)(2 * nsizes); k++) {
    int shm = k >= (int)nsizes;
    size_t n = sizes[k % (int)nsizes];
    wf_sync_use_shared_memory(shm);
    for (int r = 0; r < size; r++) {
      out[r].ev = realloc(out[r].ev, (n ? n : 1) * sizeof(wf_event));
      memset(out[r].ev, 0, (n ? n : 1) * sizeof(wf_event));
      out[r].cap = n;
    }
    uint64_t got = 0;
    wf_window_msg mine = {1, 0, 0, 0}, all;
    double t0 = 0;
    for (long w = -a.windows / 10; w < a.windows; w++) { /* a tenth as warm-up */
      if (w == 0) t0 = wf_wall_s();
      for (int r = 0; r < size; r++) out[r].n = r == rank ? 0 : n;
      if (wf_sync_exchange(&mine, out, drop, &got, &all, &err) != 0) {
        fprintf(stderr, "weft bench sync: %s\n", err.msg);
        return 1;
      }
    }
    double dt = wf_wall_s() - t0, us = dt / (double)a.windows * 1e6;
    uint64_t worst = (uint64_t)(us * 1000);
    wf_sync_max_u64(&worst, 1); /* the slowest rank sets the pace */
    if (rank == 0)
      printf("%8s %16zu %14.3f %14.1f\n", shm ? "shm" : "mpi", n, (double)worst / 1000,
             (double)(n * (size_t)(size - 1) * offsetof(wf_event, data)) / ((double)worst / 1000));
  }
  for (int r = 0; r < size; r++) free(out[r].ev);
  free(out);
  return 0;
}
