/* A sweep's index.csv: one row per point mapping it to its trace and result. The file is
 * replaced atomically under a lock, so a crash leaves a valid index and the tasks of a Slurm
 * job array can each add their own point to one shared file. */
#ifndef WF_SWEEP_INDEX_H
#define WF_SWEEP_INDEX_H

#include <stddef.h>

#include "error.h"
#include "sweep.h"

#define WF_SWEEP_INDEX "index.csv"

typedef struct wf_sweep_row {
  char status[24];  /* pending, running, completed, failed, interrupted, event-limit, idle */
  char trace[64];   /* file name inside the folder; empty when there is none */
  long long events; /* -1: unknown */
  double wall_s;    /* seconds the point's process ran; < 0: unknown */
  int exit_code;    /* -1: unknown */
} wf_sweep_row;

typedef struct wf_sweep_index {
  const wf_sweep *s;
  char *dir, *header;
  wf_sweep_row *rows;
} wf_sweep_index;

/* Every row starts "pending". */
int wf_sweep_index_init(wf_sweep_index *ix, const wf_sweep *s, const char *dir, wf_error *err);
void wf_sweep_index_free(wf_sweep_index *ix);
void wf_sweep_index_set(wf_sweep_index *ix, size_t k, const char *status, const char *trace,
                        long long events, double wall_s, int exit_code);
/* Refuses a folder whose index.csv has other columns: it belongs to another sweep. */
int wf_sweep_index_check(const wf_sweep_index *ix, wf_error *err);
/* Rewrites DIR/index.csv. With mine >= 0 (one task of a job array) every other row is taken
 * from the file as it stands, so that concurrent tasks do not undo each other's rows. */
int wf_sweep_index_write(wf_sweep_index *ix, long mine, wf_error *err);

/* An index.csv read back without its sweep file (for `weft report SWEEP_DIR`): the header's
 * column names and each row's fields, unquoted. */
typedef struct wf_csv {
  size_t ncols, nrows;
  char **head;
  char ***cell; /* cell[row][col] */
} wf_csv;
int wf_csv_load(const char *path, wf_csv *t, wf_error *err);
void wf_csv_free(wf_csv *t);

#endif
