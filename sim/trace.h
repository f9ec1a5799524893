/* The run trace: one HDF5 file per run with root attributes, /series (sampled time series),
 * /records (per-item tables) and /histograms. This interface is all the rest of weft sees;
 * hdf5.h is included only by trace_hdf5*.c. The layout is documented in analysis/SCHEMA.md. */
#ifndef WF_TRACE_H
#define WF_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum { WF_COL_U32, WF_COL_U64, WF_COL_I64, WF_COL_F64, WF_COL_STR } wf_col_type;

/* One column of a table row laid out as a C struct: offset/size as from offsetof/sizeof.
 * WF_COL_STR is a fixed-size, NUL-padded char array of `size` bytes. */
typedef struct wf_column {
  const char *name;
  wf_col_type type;
  size_t offset;
  size_t size;
  const char *units; /* may be NULL */
} wf_column;

/* The column of field `f` of the row struct `row`: named as the field, its size the field's. */
/* The layout's version, kept in the root attribute trace_format: 2 since traces carry checksums
 * and fixed-length strings (analysis/SCHEMA.md); a trace without the attribute is version 1. */
#define WF_TRACE_FORMAT 2

#define WF_COLUMN(row, f, type, units) {#f, type, offsetof(row, f), sizeof(((row *)0)->f), units}

/* ---- writing ---- */
typedef struct wf_trace wf_trace;
typedef struct wf_trace_table wf_trace_table;

/* Creates (truncates) the file at path. */
wf_trace *wf_trace_create(const char *path, wf_error *err);
/* Root attributes. Setting the same name twice replaces the value. */
int wf_trace_attr_str(wf_trace *t, const char *name, const char *value, wf_error *err);
int wf_trace_attr_u64(wf_trace *t, const char *name, uint64_t value, wf_error *err);
int wf_trace_attr_i64(wf_trace *t, const char *name, int64_t value, wf_error *err);
int wf_trace_attr_f64(wf_trace *t, const char *name, double value, wf_error *err);
/* Attributes on an object below the root ("/series/events", "/histograms/latency"). */
int wf_trace_obj_attr_str(wf_trace *t, const char *obj, const char *name, const char *value,
                          wf_error *err);
int wf_trace_obj_attr_f64(wf_trace *t, const char *obj, const char *name, double value,
                          wf_error *err);

/* /series/<name>: an extendible, chunked 1-D float64 dataset with attributes `units` and
 * `description`. Returns a handle >= 0 for wf_trace_series_append, or -1. */
int wf_trace_series_add(wf_trace *t, const char *name, const char *units, const char *description,
                        wf_error *err);
int wf_trace_series_append(wf_trace *t, int series, const double *values, size_t n, wf_error *err);

/* <group>/<name> ("records" or "histograms"): an extendible, chunked, deflate-compressed
 * compound dataset whose rows are C structs of row_size bytes described by cols. */
wf_trace_table *wf_trace_table_add(wf_trace *t, const char *group, const char *name,
                                   const wf_column *cols, size_t ncols, size_t row_size,
                                   const char *description, wf_error *err);
int wf_trace_table_append(wf_trace_table *tab, const void *rows, size_t n, wf_error *err);

/* Parallel HDF5 (MPI-IO): every rank opens the same file and makes every call above with the
 * same arguments (they are collective); rows are then written with wf_trace_table_write_at,
 * each rank its own slab. Measured against rank 0 writing alone: weft bench output. */
wf_trace *wf_trace_create_parallel(const char *path, wf_error *err);
/* Collective: the table becomes `total` rows long, and this rank's n rows land at `offset`. */
int wf_trace_table_write_at(wf_trace_table *tab, const void *rows, size_t n, uint64_t offset,
                            uint64_t total, wf_error *err);
/* Collective, on several ranks: rank 0 lends its open trace t (others pass NULL) to every
 * rank. It closes its own handles, keeping t and what refers to it, and every rank opens the
 * file with MPI-IO; then tables are made on every rank (wf_trace_table_add, collective) and
 * written with wf_trace_table_write_at. Returns each rank's handle (t itself on rank 0), or NULL on
 * every rank with err set. */
wf_trace *wf_trace_share(wf_trace *t, wf_error *err);
/* Collective: ends the loan. Every rank closes the shared file, rank 0 reopens it alone and
 * its trace is as before, series and tables included; other ranks' handles are freed. */
int wf_trace_unshare(wf_trace *shared, wf_error *err);
/* Flushes and closes everything; frees t (also on error). */
int wf_trace_close(wf_trace *t, wf_error *err);

/* ---- reading (report, compare, tests) ---- */
typedef struct wf_trace_reader wf_trace_reader;

wf_trace_reader *wf_trace_open(const char *path, wf_error *err);
/* Called, when set, in the child process that reads a version-1 trace before the reader does
 * (analysis/SCHEMA.md, "Damage"): tests/fuzz turns off its crash reporting there, since a crash
 * of that child is the reader's expected outcome, not a finding. */
extern void (*wf_trace_child_start)(void);
/* The same for a trace image in memory (HDF5's core driver; the image is copied), named label
 * in messages: what tests/fuzz's trace target reads. */
wf_trace_reader *wf_trace_open_image(const void *image, size_t len, const char *label,
                                     wf_error *err);
void wf_trace_reader_close(wf_trace_reader *r);

/* Root attributes in file order; value rendered as text (strings verbatim, numbers with %.17g
 * or %llu). Returned strings are owned by the reader and live until it is closed. */
size_t wf_trace_attr_count(wf_trace_reader *r);
const char *wf_trace_attr_name(wf_trace_reader *r, size_t i);
const char *wf_trace_attr_text(wf_trace_reader *r, const char *name); /* NULL if absent */
/* An attribute of an object below the root ("/histograms/latency", "p99"), rendered the same
 * way; NULL if the object or attribute is absent. Owned by the reader like the above. */
const char *wf_trace_obj_attr_text(wf_trace_reader *r, const char *obj, const char *name);

/* Series in name order. */
size_t wf_trace_series_count(wf_trace_reader *r);
const char *wf_trace_series_name(wf_trace_reader *r, size_t i);
const char *wf_trace_series_units(wf_trace_reader *r, size_t i);
const char *wf_trace_series_description(wf_trace_reader *r, size_t i);
/* Reads a whole series; the caller frees the array. */
double *wf_trace_series_read(wf_trace_reader *r, size_t i, size_t *n, wf_error *err);

/* Tables of one group ("records" or "histograms") in name order. */
size_t wf_trace_table_count(wf_trace_reader *r, const char *group);
const char *wf_trace_table_name(wf_trace_reader *r, const char *group, size_t i);
/* Rows and columns of a table; column i's name and type. */
int wf_trace_table_shape(wf_trace_reader *r, const char *group, const char *name, size_t *nrows,
                         size_t *ncols, wf_error *err);
const char *wf_trace_table_column_name(wf_trace_reader *r, const char *group, const char *name,
                                       size_t col);
/* One numeric column converted to double; the caller frees it. */
double *wf_trace_table_column(wf_trace_reader *r, const char *group, const char *name,
                              const char *column, size_t *n, wf_error *err);

/* The raw bytes of any dataset ("/series/events", "/records/lp_events") in its file type's
 * native layout, for exact comparison of two traces; the caller frees it. */
void *wf_trace_read_raw(wf_trace_reader *r, const char *dataset, size_t *nbytes, wf_error *err);

#endif
