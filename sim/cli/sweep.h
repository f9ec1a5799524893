/* Parameter sweeps: a Lua sweep file names a scenario and a grid of parameter values; it expands
 * into points, each one independent `weft run` with its own --set list, seed and trace. Loading
 * lives in sweep_lua.c (the only user of lua.h here), running the points in sweep.c. */
#ifndef WF_SWEEP_H
#define WF_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define WF_SWEEP_MAX_POINTS 100000

typedef struct wf_sweep_key {
  char *name;
  char **values; /* as --set text: "1024", "0.5", "true", "250ms" */
  size_t nvalues;
} wf_sweep_key;

typedef struct wf_sweep {
  char *path;         /* the sweep file as given */
  char *name;         /* its file name without folder and .lua */
  char *scenario;     /* the scenario's path, resolved against the sweep file's folder */
  wf_sweep_key *keys; /* sorted by name */
  size_t nkeys;
  uint64_t *seeds;
  size_t nseeds;
  int ranks; /* MPI ranks per point */
  size_t npoints;
} wf_sweep;

/* Runs the sweep file in a sandbox and expands weft.sweep{...}. On error the message names the
 * file, line and the offending key. */
int wf_sweep_load(const char *path, wf_sweep *out, wf_error *err);
void wf_sweep_free(wf_sweep *s);

/* Point k of the cartesian product, ordered like nested loops over the keys in sorted order
 * with the seeds innermost: the seeds of one grid cell are neighbours. */
uint64_t wf_sweep_seed(const wf_sweep *s, size_t k);
const char *wf_sweep_value(const wf_sweep *s, size_t k, size_t key);

/* `weft sweep SWEEP.lua [options]`; argv[0] is "sweep". */
int wf_sweep_main(int argc, char **argv);

#endif
