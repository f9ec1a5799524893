/* What the HDF5 trace's parts share (trace_hdf5.c writes, trace_hdf5_mpi.c lends the open file
 * to every rank, trace_hdf5_read.c reads): the groups of a trace, HDF5's errors turned into
 * ours, and the writer's state. Only these files include hdf5.h. */
#ifndef WF_TRACE_HDF5_H
#define WF_TRACE_HDF5_H

#include <hdf5.h>

#include "error.h"

enum { G_SERIES, G_RECORDS, G_HISTOGRAMS, G_SUMMARY, NGROUPS };
extern const char *const wf_h5_group_names[NGROUPS];

char *wf_h5_dup(const char *s);
/* Formats "trace 'PATH': WHAT: REASON" from HDF5's innermost error. Call it right after the
 * failing HDF5 call: the next HDF5 call clears the error stack it reads. */
__attribute__((format(printf, 3, 4))) int wf_h5_fail(wf_error *err, const char *path,
                                                     const char *fmt, ...);
/* The reader's form of the same: "corrupted trace PATH: WHAT: REASON", for a file HDF5 opened
 * as HDF5 but could not read as a trace (a checksum failed, a part is missing or truncated). */
__attribute__((format(printf, 3, 4))) int wf_h5_corrupt(wf_error *err, const char *path,
                                                        const char *fmt, ...);
/* Our callers get errors as values; HDF5 must not also print its stack to stderr. */
void wf_h5_silence(void);
/* A failure's stack set aside while what was made for the failed call is closed, then put
 * back for wf_h5_fail. */
hid_t wf_h5_keep_errors(int failed);
void wf_h5_restore_errors(hid_t saved);
/* A fixed-length UTF-8 string type of size bytes (attributes NUL-terminated, table columns
 * NUL-padded); the caller closes it. */
hid_t wf_h5_str_type(size_t size, H5T_str_t pad);

/* ---- the writer's state, shared with the parallel path (trace_hdf5_mpi.c) ---- */

#include "trace.h"

typedef struct series {
  hid_t dset;
  hsize_t nrows;
  char *path; /* "/series/<name>", for messages */
} series;

/* One column's place in the caller's row and in the packed row HDF5 sees. */
typedef struct packed_col {
  size_t src, dst, size;
  int is_str;
} packed_col;

struct wf_trace_table {
  wf_trace *t;
  wf_trace_table *next;
  char *path;
  hid_t dset, mtype; /* mtype: packed native compound, the layout of scratch */
  hsize_t nrows;
  size_t row_size, packed_size, ncols, chunk_rows;
  int direct; /* caller's rows already are the packed layout: write them as they are */
  packed_col *cols;
  unsigned char *scratch; /* chunk_rows packed rows */
};

struct wf_trace {
  char *path;
  hid_t file;
  int parallel; /* opened by every rank with MPI-IO: every call is collective */
  hid_t groups[NGROUPS];
  series *series;
  size_t nseries, cap;
  wf_trace_table *tables;
};

wf_trace *wf_h5_create(const char *path, int parallel, wf_error *err);
void wf_h5_pack_rows(const wf_trace_table *tab, unsigned char *dst, const unsigned char *src,
                     size_t n);
void wf_h5_table_free(wf_trace_table *tab);

#endif
