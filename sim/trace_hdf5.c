/* HDF5 backend of the run trace (sim/trace.h): the only file in weft that includes hdf5.h.
 * The layout it writes is specified in analysis/SCHEMA.md; keep the two in step. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "trace.h"

#include "sync.h"

#include <hdf5.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Series grow by SAMPLE_BLOCK-sized appends; 4096 doubles (32 KiB) keeps a short run's series
 * in one chunk and a long run's in few. */
#define SERIES_CHUNK 4096
/* Table chunks hold a power-of-two number of rows close to this many bytes, so the engine's
 * 4096-row flushes land on chunk boundaries and each chunk is compressed once. */
#define TABLE_CHUNK_BYTES (128u << 10)
#define TABLE_CHUNK_MIN_ROWS 16
/* Measured on 1e6 24-byte rows: shuffle + level 1 gives files 3% larger than level 6 at
 * 1.5x its speed; without shuffle files grow by 60% and writing is slower. */
#define DEFLATE_LEVEL 1

enum { G_SERIES, G_RECORDS, G_HISTOGRAMS, G_SUMMARY, NGROUPS };
static const char *const group_names[NGROUPS] = {"series", "records", "histograms", "summary"};

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  return d ? memcpy(d, s, n) : NULL;
}

/* ---- errors: HDF5's own stack is silenced and its innermost reason quoted ---- */

#define REASON_LEN 400

typedef struct h5_reason {
  char text[REASON_LEN];
} h5_reason;

/* HDF5's file-driver messages carry a timestamp, a newline and a dozen fields; the OS error
 * in them ("error message = '...'") is the part a user needs. */
static void tidy_reason(char *text, size_t cap) {
  const char *em = strstr(text, "error message = '");
  if (em) {
    char tidy[REASON_LEN];
    const char *msg = em + strlen("error message = '");
    snprintf(tidy, sizeof tidy, "%.*s: %.*s", (int)strcspn(text, ":,"), text,
             (int)strcspn(msg, "'"), msg);
    snprintf(text, cap, "%s", tidy);
  }
  for (char *p = text; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
}

static herr_t take_innermost(unsigned n, const H5E_error2_t *e, void *data) {
  h5_reason *r = data;
  if (n != 0) return 0;
  if (e->desc && *e->desc)
    snprintf(r->text, sizeof r->text, "%s", e->desc);
  else
    H5Eget_msg(e->min_num, NULL, r->text, sizeof r->text);
  tidy_reason(r->text, sizeof r->text);
  return 0;
}

/* Formats "trace 'PATH': WHAT: REASON". Call it right after the failing HDF5 call: the next
 * HDF5 call clears the error stack it reads. */
__attribute__((format(printf, 3, 4))) static int h5_fail(wf_error *err, const char *path,
                                                         const char *fmt, ...) {
  h5_reason r = {"unknown HDF5 error"};
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, take_innermost, &r);
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return wf_error_set(err, "trace '%s': %s: %s", path, what, r.text);
}

/* Our callers get errors as values; HDF5 must not also print its stack to stderr. */
static void silence_hdf5(void) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* Every HDF5 call clears the error stack, so a failure's stack is set aside while the
 * property lists and types made for the failed call are closed, then put back for h5_fail. */
static hid_t keep_errors(int failed) {
  return failed ? H5Eget_current_stack() : -1;
}

static void restore_errors(hid_t saved) {
  if (saved >= 0) H5Eset_current_stack(saved);
}

/* ======================================================================= writing */

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

static int valid_name(const char *name) {
  return name && *name && !strchr(name, '/') && strcmp(name, ".") != 0;
}

static hid_t new_file(const char *path, int parallel) {
  hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS), f = -1;
  /* Creation order lets the reader list root attributes as the engine wrote them; no
   * timestamps in object headers keeps equal runs byte-identical; the 1.8 format keeps the
   * file readable by every HDF5 from 1.8 on. */
  int ok = fcpl >= 0 && fapl >= 0 &&
           H5Pset_attr_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) >= 0 &&
           H5Pset_obj_track_times(fcpl, 0) >= 0 &&
           H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) >= 0 &&
           H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0;
  if (ok && parallel) ok = H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL) >= 0;
  if (ok) f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
  hid_t saved = keep_errors(f < 0);
  if (fcpl >= 0) H5Pclose(fcpl);
  if (fapl >= 0) H5Pclose(fapl);
  restore_errors(saved);
  return f;
}

static hid_t new_group(hid_t file, const char *name) {
  hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE), g = -1;
  if (gcpl >= 0 && H5Pset_obj_track_times(gcpl, 0) >= 0)
    g = H5Gcreate2(file, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
  hid_t saved = keep_errors(g < 0);
  if (gcpl >= 0) H5Pclose(gcpl);
  restore_errors(saved);
  return g;
}

static wf_trace *create(const char *path, int parallel, wf_error *err) {
  silence_hdf5();
  wf_trace *t = calloc(1, sizeof *t);
  if (!t || !(t->path = dup_str(path))) {
    free(t);
    wf_error_set(err, "trace '%s': out of memory", path);
    return NULL;
  }
  for (int g = 0; g < NGROUPS; g++) t->groups[g] = -1;
  t->parallel = parallel;
  t->file = new_file(path, parallel);
  if (t->file < 0) {
    h5_fail(err, path, "cannot create the file");
    wf_trace_close(t, NULL);
    return NULL;
  }
  for (int g = 0; g < NGROUPS; g++) {
    t->groups[g] = new_group(t->file, group_names[g]);
    if (t->groups[g] < 0) {
      h5_fail(err, path, "creating group '/%s'", group_names[g]);
      wf_trace_close(t, NULL);
      return NULL;
    }
  }
  return t;
}

wf_trace *wf_trace_create(const char *path, wf_error *err) {
  return create(path, 0, err);
}

/* MPI-IO needs MPI, which a run without a launcher never starts. */
static int mpi_ready(const char *path, wf_error *err) {
  int up = 0;
  MPI_Initialized(&up);
  return up ? 0 : wf_error_set(err, "trace '%s': parallel HDF5 needs a run under mpirun", path);
}

wf_trace *wf_trace_create_parallel(const char *path, wf_error *err) {
  return mpi_ready(path, err) ? NULL : create(path, 1, err);
}

/* ---- attributes ---- */

static hid_t vlen_str_type(void) {
  hid_t s = H5Tcopy(H5T_C_S1);
  if (s >= 0 && (H5Tset_size(s, H5T_VARIABLE) < 0 || H5Tset_cset(s, H5T_CSET_UTF8) < 0)) {
    H5Tclose(s);
    return -1;
  }
  return s;
}

/* Writes a scalar attribute, replacing an existing one of that name (whatever its type). */
static int put_attr(wf_trace *t, hid_t obj, const char *obj_name, const char *name, hid_t ftype,
                    hid_t mtype, const void *value, wf_error *err) {
  if (!name || !*name)
    return wf_error_set(err, "trace '%s': empty attribute name on '%s'", t->path, obj_name);
  htri_t exists = H5Aexists(obj, name);
  if (exists < 0) return h5_fail(err, t->path, "checking attribute '%s' on '%s'", name, obj_name);
  if (exists > 0 && H5Adelete(obj, name) < 0)
    return h5_fail(err, t->path, "replacing attribute '%s' on '%s'", name, obj_name);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = space < 0 ? -1 : H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
  int rc = 0;
  if (a < 0 || H5Awrite(a, mtype, value) < 0)
    rc = h5_fail(err, t->path, "writing attribute '%s' on '%s'", name, obj_name);
  if (a >= 0) H5Aclose(a);
  if (space >= 0) H5Sclose(space);
  return rc;
}

static int put_str_attr(wf_trace *t, hid_t obj, const char *obj_name, const char *name,
                        const char *value, wf_error *err) {
  hid_t s = vlen_str_type();
  if (s < 0) return h5_fail(err, t->path, "making a string type for attribute '%s'", name);
  const char *v = value ? value : "";
  int rc = put_attr(t, obj, obj_name, name, s, s, &v, err);
  H5Tclose(s);
  return rc;
}

static int no_trace(wf_error *err) {
  return wf_error_set(err, "trace: no trace is open");
}

int wf_trace_attr_str(wf_trace *t, const char *name, const char *value, wf_error *err) {
  return t ? put_str_attr(t, t->file, "/", name, value, err) : no_trace(err);
}

int wf_trace_attr_u64(wf_trace *t, const char *name, uint64_t value, wf_error *err) {
  return t ? put_attr(t, t->file, "/", name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value, err)
           : no_trace(err);
}

int wf_trace_attr_i64(wf_trace *t, const char *name, int64_t value, wf_error *err) {
  return t ? put_attr(t, t->file, "/", name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value, err)
           : no_trace(err);
}

int wf_trace_attr_f64(wf_trace *t, const char *name, double value, wf_error *err) {
  return t ? put_attr(t, t->file, "/", name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, err)
           : no_trace(err);
}

static hid_t open_obj(wf_trace *t, const char *obj, wf_error *err) {
  hid_t o = obj ? H5Oopen(t->file, obj, H5P_DEFAULT) : -1;
  if (o < 0) h5_fail(err, t->path, "no object '%s' to put an attribute on", obj ? obj : "(null)");
  return o;
}

int wf_trace_obj_attr_str(wf_trace *t, const char *obj, const char *name, const char *value,
                          wf_error *err) {
  if (!t) return no_trace(err);
  hid_t o = open_obj(t, obj, err);
  if (o < 0) return -1;
  int rc = put_str_attr(t, o, obj, name, value, err);
  H5Oclose(o);
  return rc;
}

int wf_trace_obj_attr_f64(wf_trace *t, const char *obj, const char *name, double value,
                          wf_error *err) {
  if (!t) return no_trace(err);
  hid_t o = open_obj(t, obj, err);
  if (o < 0) return -1;
  int rc = put_attr(t, o, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, err);
  H5Oclose(o);
  return rc;
}

/* ---- extendible 1-D datasets ---- */

static hid_t new_dataset(hid_t group, const char *name, hid_t ftype, hsize_t chunk_rows,
                         int deflate) {
  hsize_t dims = 0, maxdims = H5S_UNLIMITED;
  hid_t space = H5Screate_simple(1, &dims, &maxdims), dcpl = H5Pcreate(H5P_DATASET_CREATE);
  hid_t d = -1;
  int ok = space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, &chunk_rows) >= 0 &&
           H5Pset_obj_track_times(dcpl, 0) >= 0;
  /* Shuffle groups byte k of every row together, which is what makes counters and ids
   * compress: their high bytes are mostly zero. */
  if (ok && deflate) ok = H5Pset_shuffle(dcpl) >= 0 && H5Pset_deflate(dcpl, DEFLATE_LEVEL) >= 0;
  if (ok) d = H5Dcreate2(group, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  hid_t saved = keep_errors(d < 0);
  if (space >= 0) H5Sclose(space);
  if (dcpl >= 0) H5Pclose(dcpl);
  restore_errors(saved);
  return d;
}

static int append_rows(wf_trace *t, hid_t dset, hid_t mtype, hsize_t *nrows, const void *buf,
                       size_t n, const char *what, wf_error *err) {
  hsize_t start = *nrows, count = n, end = start + n;
  if (H5Dset_extent(dset, &end) < 0)
    return h5_fail(err, t->path, "extending '%s' to %llu rows", what, (unsigned long long)end);
  hid_t fs = H5Dget_space(dset), ms = H5Screate_simple(1, &count, NULL);
  herr_t st =
      fs < 0 || ms < 0 ? -1 : H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL);
  if (st >= 0) st = H5Dwrite(dset, mtype, ms, fs, H5P_DEFAULT, buf);
  int rc = st < 0 ? h5_fail(err, t->path, "appending %zu rows to '%s'", n, what) : 0;
  if (ms >= 0) H5Sclose(ms);
  if (fs >= 0) H5Sclose(fs);
  if (rc == 0) *nrows = end;
  return rc;
}

/* ---- series ---- */

static int add_series_slot(wf_trace *t, const char *name, wf_error *err) {
  if (t->nseries == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 16;
    series *s = realloc(t->series, cap * sizeof *s);
    if (!s) return wf_error_set(err, "trace '%s': out of memory adding series '%s'", t->path, name);
    t->series = s;
    t->cap = cap;
  }
  series *s = &t->series[t->nseries];
  size_t len = strlen("/series/") + strlen(name) + 1;
  if (!(s->path = malloc(len)))
    return wf_error_set(err, "trace '%s': out of memory adding series '%s'", t->path, name);
  snprintf(s->path, len, "/series/%s", name);
  s->dset = -1;
  s->nrows = 0;
  t->nseries++;
  return 0;
}

int wf_trace_series_add(wf_trace *t, const char *name, const char *units, const char *description,
                        wf_error *err) {
  if (!t) return no_trace(err);
  if (!valid_name(name))
    return wf_error_set(err, "trace '%s': bad series name '%s' (empty, '.' or containing '/')",
                        t->path, name ? name : "(null)");
  htri_t exists = H5Lexists(t->groups[G_SERIES], name, H5P_DEFAULT);
  if (exists != 0)
    return exists > 0 ? wf_error_set(err, "trace '%s': series '%s' is added twice", t->path, name)
                      : h5_fail(err, t->path, "looking up series '%s'", name);
  if (add_series_slot(t, name, err) != 0) return -1;
  series *s = &t->series[t->nseries - 1];
  s->dset = new_dataset(t->groups[G_SERIES], name, H5T_IEEE_F64LE, SERIES_CHUNK, 0);
  if (s->dset < 0) return h5_fail(err, t->path, "creating dataset '%s'", s->path);
  if (put_str_attr(t, s->dset, s->path, "units", units, err) != 0 ||
      put_str_attr(t, s->dset, s->path, "description", description, err) != 0)
    return -1;
  return (int)(t->nseries - 1);
}

int wf_trace_series_append(wf_trace *t, int handle, const double *values, size_t n, wf_error *err) {
  if (!t) return no_trace(err);
  if (handle < 0 || (size_t)handle >= t->nseries || t->series[handle].dset < 0)
    return wf_error_set(err, "trace '%s': no series with handle %d", t->path, handle);
  series *s = &t->series[handle];
  if (n == 0) return 0;
  if (!values) return wf_error_set(err, "trace '%s': NULL values for '%s'", t->path, s->path);
  return append_rows(t, s->dset, H5T_NATIVE_DOUBLE, &s->nrows, values, n, s->path, err);
}

/* ---- tables ---- */

static size_t fixed_size(wf_col_type ty) {
  return ty == WF_COL_U32 ? 4 : ty == WF_COL_STR ? 0 : 8;
}

static int check_column(wf_trace *t, const char *path, const wf_column *cols, size_t i,
                        size_t row_size, wf_error *err) {
  const wf_column *c = &cols[i];
  if (!c->name || !*c->name)
    return wf_error_set(err, "trace '%s': table '%s': column %zu has no name", t->path, path, i);
  if (strpbrk(c->name, ";="))
    return wf_error_set(err, "trace '%s': table '%s': column name '%s' contains ';' or '='",
                        t->path, path, c->name);
  for (size_t j = 0; j < i; j++)
    if (strcmp(cols[j].name, c->name) == 0)
      return wf_error_set(err, "trace '%s': table '%s': column '%s' appears twice", t->path, path,
                          c->name);
  if ((unsigned)c->type > WF_COL_STR)
    return wf_error_set(err, "trace '%s': table '%s': column '%s' has unknown type %d", t->path,
                        path, c->name, (int)c->type);
  size_t want = fixed_size(c->type);
  if (want ? c->size != want : c->size == 0)
    return wf_error_set(err, "trace '%s': table '%s': column '%s' has size %zu, expected %zu",
                        t->path, path, c->name, c->size, want ? want : (size_t)1);
  if (c->offset > row_size || c->size > row_size - c->offset)
    return wf_error_set(err, "trace '%s': table '%s': column '%s' lies outside the %zu-byte row",
                        t->path, path, c->name, row_size);
  if (c->units && strpbrk(c->units, ";="))
    return wf_error_set(err, "trace '%s': table '%s': units of column '%s' contain ';' or '='",
                        t->path, path, c->name);
  return 0;
}

static hid_t member_type(wf_col_type ty, size_t size, int native) {
  switch (ty) {
  case WF_COL_U32:
    return H5Tcopy(native ? H5T_NATIVE_UINT32 : H5T_STD_U32LE);
  case WF_COL_U64:
    return H5Tcopy(native ? H5T_NATIVE_UINT64 : H5T_STD_U64LE);
  case WF_COL_I64:
    return H5Tcopy(native ? H5T_NATIVE_INT64 : H5T_STD_I64LE);
  case WF_COL_F64:
    return H5Tcopy(native ? H5T_NATIVE_DOUBLE : H5T_IEEE_F64LE);
  case WF_COL_STR:
    break;
  }
  hid_t s = H5Tcopy(H5T_C_S1);
  if (s >= 0 && (H5Tset_size(s, size) < 0 || H5Tset_strpad(s, H5T_STR_NULLPAD) < 0)) {
    H5Tclose(s);
    return -1;
  }
  return s;
}

/* A packed compound of the columns in order: native (memory) or little-endian (file). */
static hid_t compound_type(const wf_column *cols, size_t ncols, size_t packed, int native) {
  hid_t c = H5Tcreate(H5T_COMPOUND, packed);
  size_t off = 0;
  for (size_t i = 0; c >= 0 && i < ncols; i++) {
    hid_t m = member_type(cols[i].type, cols[i].size, native);
    int failed = m < 0 || H5Tinsert(c, cols[i].name, off, m) < 0;
    hid_t saved = keep_errors(failed);
    if (failed) {
      H5Tclose(c);
      c = -1;
    }
    if (m >= 0) H5Tclose(m);
    restore_errors(saved);
    off += cols[i].size;
  }
  return c;
}

/* "name=units;name=units" for the columns that have units (documented in SCHEMA.md). */
static char *column_units_text(const wf_column *cols, size_t ncols) {
  size_t len = 1;
  for (size_t i = 0; i < ncols; i++)
    if (cols[i].units) len += strlen(cols[i].name) + strlen(cols[i].units) + 2;
  char *s = malloc(len), *p = s;
  if (!s) return NULL;
  *p = 0;
  for (size_t i = 0; i < ncols; i++)
    if (cols[i].units) p += sprintf(p, "%s%s=%s", p == s ? "" : ";", cols[i].name, cols[i].units);
  return s;
}

static size_t chunk_rows_for(size_t packed) {
  size_t rows = 1;
  while (rows * 2 * packed <= TABLE_CHUNK_BYTES) rows *= 2;
  return rows < TABLE_CHUNK_MIN_ROWS ? TABLE_CHUNK_MIN_ROWS : rows;
}

static void table_free(wf_trace_table *tab) {
  if (tab->dset >= 0) H5Dclose(tab->dset);
  if (tab->mtype >= 0) H5Tclose(tab->mtype);
  free(tab->path);
  free(tab->cols);
  free(tab->scratch);
  free(tab);
}

static wf_trace_table *table_new(wf_trace *t, const char *path, const wf_column *cols, size_t ncols,
                                 size_t row_size, wf_error *err) {
  wf_trace_table *tab = calloc(1, sizeof *tab);
  if (tab) {
    tab->dset = tab->mtype = -1;
    tab->path = dup_str(path);
    tab->cols = calloc(ncols, sizeof *tab->cols);
  }
  if (!tab || !tab->path || !tab->cols) {
    if (tab) table_free(tab);
    wf_error_set(err, "trace '%s': out of memory adding table '%s'", t->path, path);
    return NULL;
  }
  tab->t = t;
  tab->row_size = row_size;
  tab->ncols = ncols;
  tab->direct = 1;
  for (size_t i = 0; i < ncols; i++) {
    packed_col *pc = &tab->cols[i];
    *pc = (packed_col){cols[i].offset, tab->packed_size, cols[i].size, cols[i].type == WF_COL_STR};
    tab->direct &= !pc->is_str && pc->src == pc->dst;
    tab->packed_size += cols[i].size;
  }
  tab->direct &= tab->packed_size == row_size;
  tab->chunk_rows = chunk_rows_for(tab->packed_size);
  if (!tab->direct && !(tab->scratch = malloc(tab->chunk_rows * tab->packed_size))) {
    table_free(tab);
    wf_error_set(err, "trace '%s': out of memory adding table '%s'", t->path, path);
    return NULL;
  }
  return tab;
}

static int table_create_dataset(wf_trace *t, hid_t group, const char *name, wf_trace_table *tab,
                                const wf_column *cols, const char *description, wf_error *err) {
  hid_t ftype = compound_type(cols, tab->ncols, tab->packed_size, 0);
  tab->mtype = compound_type(cols, tab->ncols, tab->packed_size, 1);
  if (ftype < 0 || tab->mtype < 0) {
    if (ftype >= 0) H5Tclose(ftype);
    return h5_fail(err, t->path, "building the row type of '%s'", tab->path);
  }
  tab->dset = new_dataset(group, name, ftype, tab->chunk_rows, 1);
  H5Tclose(ftype);
  if (tab->dset < 0) return h5_fail(err, t->path, "creating dataset '%s'", tab->path);
  char *units = column_units_text(cols, tab->ncols);
  if (!units) return wf_error_set(err, "trace '%s': out of memory", t->path);
  int rc = put_str_attr(t, tab->dset, tab->path, "description", description, err);
  if (rc == 0) rc = put_str_attr(t, tab->dset, tab->path, "column_units", units, err);
  free(units);
  return rc;
}

wf_trace_table *wf_trace_table_add(wf_trace *t, const char *group, const char *name,
                                   const wf_column *cols, size_t ncols, size_t row_size,
                                   const char *description, wf_error *err) {
  if (!t) return no_trace(err), NULL;
  int g = !group                             ? -1
          : strcmp(group, "records") == 0    ? G_RECORDS
          : strcmp(group, "histograms") == 0 ? G_HISTOGRAMS
          : strcmp(group, "summary") == 0    ? G_SUMMARY
                                             : -1;
  if (g < 0) {
    wf_error_set(err, "trace '%s': table group '%s' is not 'records', 'histograms' or 'summary'",
                 t->path, group ? group : "(null)");
    return NULL;
  }
  char path[512];
  snprintf(path, sizeof path, "/%s/%s", group, name ? name : "(null)");
  if (!valid_name(name)) {
    wf_error_set(err, "trace '%s': bad table name '%s' (empty, '.' or containing '/')", t->path,
                 path);
    return NULL;
  }
  if (!cols || ncols == 0) {
    wf_error_set(err, "trace '%s': table '%s' has no columns", t->path, path);
    return NULL;
  }
  for (size_t i = 0; i < ncols; i++)
    if (check_column(t, path, cols, i, row_size, err) != 0) return NULL;
  htri_t exists = H5Lexists(t->groups[g], name, H5P_DEFAULT);
  if (exists != 0) {
    if (exists > 0)
      wf_error_set(err, "trace '%s': table '%s' is added twice", t->path, path);
    else
      h5_fail(err, t->path, "looking up table '%s'", path);
    return NULL;
  }
  wf_trace_table *tab = table_new(t, path, cols, ncols, row_size, err);
  if (!tab) return NULL;
  /* Linked before the dataset exists so wf_trace_close frees it on every path. */
  tab->next = t->tables;
  t->tables = tab;
  return table_create_dataset(t, t->groups[g], name, tab, cols, description, err) == 0 ? tab : NULL;
}

/* Copies rows into the packed layout; string columns are cut at their first NUL and zero
 * filled, so bytes after the terminator never reach the file and equal runs give equal files. */
static void pack_rows(const wf_trace_table *tab, unsigned char *dst, const unsigned char *src,
                      size_t n) {
  for (size_t r = 0; r < n; r++, src += tab->row_size, dst += tab->packed_size)
    for (size_t c = 0; c < tab->ncols; c++) {
      const packed_col *pc = &tab->cols[c];
      size_t len = pc->size;
      if (pc->is_str) {
        const unsigned char *nul = memchr(src + pc->src, 0, pc->size);
        if (nul) len = (size_t)(nul - (src + pc->src));
        memset(dst + pc->dst + len, 0, pc->size - len);
      }
      memcpy(dst + pc->dst, src + pc->src, len);
    }
}

int wf_trace_table_append(wf_trace_table *tab, const void *rows, size_t n, wf_error *err) {
  if (!tab) return wf_error_set(err, "trace: append to a table that was never added");
  if (n == 0) return 0;
  if (!rows) return wf_error_set(err, "trace '%s': NULL rows for '%s'", tab->t->path, tab->path);
  if (tab->direct)
    return append_rows(tab->t, tab->dset, tab->mtype, &tab->nrows, rows, n, tab->path, err);
  const unsigned char *src = rows;
  for (size_t done = 0; done < n;) {
    size_t k = n - done < tab->chunk_rows ? n - done : tab->chunk_rows;
    pack_rows(tab, tab->scratch, src + done * tab->row_size, k);
    if (append_rows(tab->t, tab->dset, tab->mtype, &tab->nrows, tab->scratch, k, tab->path, err))
      return -1;
    done += k;
  }
  return 0;
}

int wf_trace_table_write_at(wf_trace_table *tab, const void *rows, size_t n, uint64_t offset,
                            uint64_t total, wf_error *err) {
  /* Everything that can fail on one rank alone is settled before the collective part. */
  const unsigned char *buf = rows;
  unsigned char *packed = NULL;
  if (!tab)
    wf_error_set(err, "trace: write to a table that was never added");
  else if (!tab->t->parallel)
    wf_error_set(err, "trace '%s': '%s' written at an offset, but the file is not parallel",
                 tab->t->path, tab->path);
  else if (offset + n > total || total < tab->nrows)
    wf_error_set(err, "trace '%s': rows %llu..%llu of '%s' fall outside its %llu rows",
                 tab->t->path, (unsigned long long)offset, (unsigned long long)(offset + n),
                 tab->path, (unsigned long long)total);
  else if (!tab->direct && n && !(packed = malloc(n * tab->packed_size)))
    wf_error_set(err, "trace '%s': out of memory writing '%s'", tab->t->path, tab->path);
  if (wf_sync_agree(err) != 0) {
    free(packed);
    return -1;
  }
  if (packed) { /* one packed copy of the whole slab: one collective write */
    pack_rows(tab, packed, rows, n);
    buf = packed;
  }
  hsize_t dims = total, start = offset, count = n;
  hid_t fspace = -1, mspace = -1, dxpl = H5Pcreate(H5P_DATASET_XFER);
  int ok = dxpl >= 0 && H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) >= 0 &&
           H5Dset_extent(tab->dset, &dims) >= 0 && (fspace = H5Dget_space(tab->dset)) >= 0 &&
           (mspace = H5Screate_simple(1, &count, NULL)) >= 0;
  if (ok && n)
    ok = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0;
  else if (ok)
    ok = H5Sselect_none(fspace) >= 0 && H5Sselect_none(mspace) >= 0;
  if (ok)
    ok = H5Dwrite(tab->dset, tab->mtype, mspace, fspace, dxpl,
                  n ? (const void *)buf : (const void *)tab) >= 0;
  hid_t saved = keep_errors(!ok);
  if (fspace >= 0) H5Sclose(fspace);
  if (mspace >= 0) H5Sclose(mspace);
  if (dxpl >= 0) H5Pclose(dxpl);
  restore_errors(saved);
  free(packed);
  if (!ok) return h5_fail(err, tab->t->path, "writing rows of '%s' in parallel", tab->path);
  tab->nrows = total;
  return 0;
}

/* ---- sharing the file between ranks ---- */

/* Closes every HDF5 handle of t, keeping t and everything that refers to it. */
static int close_handles(wf_trace *t, wf_error *err) {
  int rc = 0;
  for (wf_trace_table *tab = t->tables; tab; tab = tab->next) {
    if (tab->dset >= 0 && H5Dclose(tab->dset) < 0)
      rc = h5_fail(err, t->path, "closing '%s'", tab->path);
    tab->dset = -1;
  }
  for (size_t i = 0; i < t->nseries; i++) {
    if (t->series[i].dset >= 0 && H5Dclose(t->series[i].dset) < 0)
      rc = h5_fail(err, t->path, "closing '%s'", t->series[i].path);
    t->series[i].dset = -1;
  }
  for (int g = 0; g < NGROUPS; g++) {
    if (t->groups[g] >= 0) H5Gclose(t->groups[g]);
    t->groups[g] = -1;
  }
  if (t->file >= 0 && H5Fclose(t->file) < 0) rc = h5_fail(err, t->path, "closing the file");
  t->file = -1;
  return rc;
}

/* Opens t's file again, with its groups; alone, also every series and table it had open
 * (shared, every rank makes the tables it writes with wf_trace_table_add). */
static int open_handles(wf_trace *t, int parallel, wf_error *err) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  int ok = fapl >= 0 && H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0 &&
           (!parallel || H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL) >= 0);
  if (ok) t->file = H5Fopen(t->path, H5F_ACC_RDWR, fapl);
  hid_t saved = keep_errors(t->file < 0);
  if (fapl >= 0) H5Pclose(fapl);
  restore_errors(saved);
  if (t->file < 0)
    return h5_fail(err, t->path, "reopening the file%s", parallel ? " on every rank" : "");
  t->parallel = parallel;
  for (int g = 0; g < NGROUPS; g++)
    if ((t->groups[g] = H5Gopen2(t->file, group_names[g], H5P_DEFAULT)) < 0)
      return h5_fail(err, t->path, "reopening group '/%s'", group_names[g]);
  if (parallel) return 0;
  for (size_t i = 0; i < t->nseries; i++)
    if ((t->series[i].dset = H5Dopen2(t->file, t->series[i].path, H5P_DEFAULT)) < 0)
      return h5_fail(err, t->path, "reopening '%s'", t->series[i].path);
  for (wf_trace_table *tab = t->tables; tab; tab = tab->next)
    if ((tab->dset = H5Dopen2(t->file, tab->path, H5P_DEFAULT)) < 0)
      return h5_fail(err, t->path, "reopening '%s'", tab->path);
  return 0;
}

/* Whether every rank sees, at rank 0's absolute path, the very file rank 0 closed: same
 * device, inode and size. Not so when ranks on other machines have no shared file system, or
 * each its own working directory; MPI-IO would then hang or fail in the collective open. */
static int visible_everywhere(const char *path, wf_error *err) {
  struct stat st;
  uint64_t id[3] = {0}, mine[3] = {0};
  if (wf_sync_rank() == 0 && stat(path, &st) == 0)
    id[0] = (uint64_t)st.st_dev, id[1] = (uint64_t)st.st_ino, id[2] = (uint64_t)st.st_size;
  wf_sync_bcast(id, sizeof id);
  if (stat(path, &st) == 0)
    mine[0] = (uint64_t)st.st_dev, mine[1] = (uint64_t)st.st_ino, mine[2] = (uint64_t)st.st_size;
  /* st_dev may differ between machines for one network file; inode and size may not. */
  uint64_t first_bad =
      mine[1] == id[1] && mine[2] == id[2] && id[1] ? UINT64_MAX : (uint64_t)wf_sync_rank();
  wf_sync_min_u64(&first_bad, 1);
  if (first_bad == UINT64_MAX) return 0;
  return wf_error_set(err, "trace '%s' is not the same file on rank %llu as on rank 0", path,
                      (unsigned long long)first_bad);
}

wf_trace *wf_trace_share(wf_trace *t, wf_error *err) {
  char path[4096] = {0};
  if (wf_sync_size() == 1) {
    wf_error_set(err, "trace '%s': shared by one rank alone (a run under mpirun needs 2+)",
                 t ? t->path : "?");
    return NULL;
  }
  silence_hdf5(); /* every rank: failures are reported as one message, by rank 0 */
  if (wf_sync_rank() == 0) {
    char *abs = realpath(t->path, NULL);
    if (!abs || strlen(abs) >= sizeof path)
      wf_error_set(err, "trace '%s': cannot resolve its path to share it", t->path);
    else
      snprintf(path, sizeof path, "%s", abs), close_handles(t, err);
    free(abs);
  }
  if (wf_sync_agree(err) != 0) goto take_back;
  wf_sync_bcast(path, sizeof path);
  if (visible_everywhere(path, err) != 0) goto take_back;
  wf_trace *s = wf_sync_rank() == 0 ? t : calloc(1, sizeof *s);
  if (s && s != t) {
    s->file = -1;
    for (int g = 0; g < NGROUPS; g++) s->groups[g] = -1;
    if (!(s->path = dup_str(path))) free(s), s = NULL;
  }
  if (!s) wf_error_set(err, "trace '%s': out of memory sharing it", path);
  if (wf_sync_agree(err) != 0) { /* before the collective open, or the others would wait */
    if (s && s != t) wf_trace_close(s, NULL);
    goto take_back;
  }
  open_handles(s, 1, err);
  if (wf_sync_agree(err) == 0) return s;
  close_handles(s, NULL);
  if (s != t) wf_trace_close(s, NULL);
take_back: /* rank 0 gets its trace back as it was, so the run can still write through it */
  if (wf_sync_rank() == 0 && t->file < 0) {
    wf_error e2 = {0};
    if (open_handles(t, 0, &e2) != 0) wf_error_set(err, "%s; and then: %s", err->msg, e2.msg);
  }
  return NULL;
}

int wf_trace_unshare(wf_trace *s, wf_error *err) {
  int rc = close_handles(s, err);
  if (wf_sync_rank() != 0) {
    wf_trace_close(s, NULL);
  } else if (rc == 0) {
    rc = open_handles(s, 0, err);
  }
  return wf_sync_agree(err) != 0 || rc ? -1 : 0;
}

/* Closing datasets flushes their chunk caches, so a full disk shows up here: report it. */
int wf_trace_close(wf_trace *t, wf_error *err) {
  if (!t) return 0;
  int rc = 0;
  while (t->tables) {
    wf_trace_table *tab = t->tables;
    t->tables = tab->next;
    if (tab->dset >= 0 && H5Dclose(tab->dset) < 0)
      rc = h5_fail(err, t->path, "closing '%s'", tab->path);
    tab->dset = -1;
    table_free(tab);
  }
  for (size_t i = 0; i < t->nseries; i++) {
    if (t->series[i].dset >= 0 && H5Dclose(t->series[i].dset) < 0)
      rc = h5_fail(err, t->path, "closing '%s'", t->series[i].path);
    free(t->series[i].path);
  }
  for (int g = 0; g < NGROUPS; g++)
    if (t->groups[g] >= 0) H5Gclose(t->groups[g]);
  if (t->file >= 0 && H5Fclose(t->file) < 0) rc = h5_fail(err, t->path, "closing the file");
  free(t->series);
  free(t->path);
  free(t);
  return rc;
}

/* ======================================================================= reading */

typedef struct r_series {
  char *name, *units, *description;
} r_series;

typedef struct r_table {
  char *name;
  size_t nrows, ncols;
  char **cols;
} r_table;

/* Strings handed out by wf_trace_obj_attr_text, kept until the reader closes. */
typedef struct r_text {
  struct r_text *next;
  char *text;
} r_text;

struct wf_trace_reader {
  char *path;
  hid_t file;
  size_t nattrs;
  char **attr_names, **attr_texts;
  size_t nseries;
  r_series *series;
  size_t ntables[3]; /* [0] records, [1] histograms, [2] summary (absent before it existed) */
  r_table *tables[3];
  r_text *texts;
};

/* ---- attribute values as text ---- */

static void render_strings(hid_t a, hid_t ftype, size_t n, FILE *f) {
  if (H5Tis_variable_str(ftype) > 0) {
    hid_t mt = vlen_str_type();
    char **v = calloc(n ? n : 1, sizeof *v);
    if (mt >= 0 && v && H5Tset_cset(mt, H5Tget_cset(ftype)) >= 0 && H5Aread(a, mt, v) >= 0)
      for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s%s", i ? ", " : "", v[i] ? v[i] : "");
        if (v[i]) H5free_memory(v[i]);
      }
    else
      fputs("(unreadable string)", f);
    if (mt >= 0) H5Tclose(mt);
    free(v);
    return;
  }
  size_t size = H5Tget_size(ftype);
  hid_t mt = H5Tcopy(ftype);
  char *buf = size ? calloc(n ? n : 1, size) : NULL;
  if (mt >= 0 && buf && H5Aread(a, mt, buf) >= 0)
    for (size_t i = 0; i < n; i++) {
      const char *s = buf + i * size, *nul = memchr(s, 0, size);
      size_t len = nul ? (size_t)(nul - s) : size;
      if (H5Tget_strpad(ftype) == H5T_STR_SPACEPAD)
        while (len && s[len - 1] == ' ') len--;
      fprintf(f, "%s%.*s", i ? ", " : "", (int)len, s);
    }
  else
    fputs("(unreadable string)", f);
  if (mt >= 0) H5Tclose(mt);
  free(buf);
}

static void render_numbers(hid_t a, hid_t ftype, H5T_class_t cls, size_t n, FILE *f) {
  union {
    long long i;
    unsigned long long u;
    double d;
  } *v = calloc(n ? n : 1, sizeof *v);
  int is_unsigned = cls == H5T_INTEGER && H5Tget_sign(ftype) == H5T_SGN_NONE;
  hid_t mt = cls == H5T_FLOAT ? H5T_NATIVE_DOUBLE
             : is_unsigned    ? H5T_NATIVE_ULLONG
                              : H5T_NATIVE_LLONG;
  if (!v || H5Aread(a, mt, v) < 0) {
    fputs("(unreadable number)", f);
  } else {
    for (size_t i = 0; i < n; i++) {
      if (i) fputs(", ", f);
      if (cls == H5T_FLOAT)
        fprintf(f, "%.17g", v[i].d);
      else if (is_unsigned)
        fprintf(f, "%llu", v[i].u);
      else
        fprintf(f, "%lld", v[i].i);
    }
  }
  free(v);
}

/* Strings verbatim, integers exactly, floats with %.17g; arrays joined with ", ". */
static char *attr_render(hid_t a) {
  hid_t ftype = H5Aget_type(a), space = H5Aget_space(a);
  hssize_t np = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
  char *out = NULL;
  size_t len = 0;
  FILE *f = ftype >= 0 && np >= 0 ? open_memstream(&out, &len) : NULL;
  if (f) {
    H5T_class_t cls = H5Tget_class(ftype);
    if (cls == H5T_STRING)
      render_strings(a, ftype, (size_t)np, f);
    else if (cls == H5T_INTEGER || cls == H5T_FLOAT)
      render_numbers(a, ftype, cls, (size_t)np, f);
    else
      fputs("(value of an unsupported type)", f);
    if (fclose(f) != 0) {
      free(out);
      out = NULL;
    }
  }
  if (ftype >= 0) H5Tclose(ftype);
  if (space >= 0) H5Sclose(space);
  return out;
}

/* An attribute of obj as text; NULL if obj or the attribute does not exist. */
static char *obj_attr_render(hid_t obj, const char *name) {
  if (H5Aexists(obj, name) <= 0) return NULL;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return NULL;
  char *s = attr_render(a);
  H5Aclose(a);
  return s;
}

/* ---- opening ---- */

typedef struct attr_walk {
  wf_trace_reader *r;
  size_t cap;
} attr_walk;

static herr_t on_root_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
  (void)info;
  attr_walk *w = data;
  wf_trace_reader *r = w->r;
  if (r->nattrs == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 16;
    char **n = realloc(r->attr_names, cap * sizeof *n);
    if (n) r->attr_names = n;
    char **v = realloc(r->attr_texts, cap * sizeof *v);
    if (v) r->attr_texts = v;
    if (!n || !v) return -1;
    w->cap = cap;
  }
  char *text = obj_attr_render(loc, name), *copy = dup_str(name);
  if (!text || !copy) {
    free(text);
    free(copy);
    return -1;
  }
  r->attr_names[r->nattrs] = copy;
  r->attr_texts[r->nattrs++] = text;
  return 0;
}

static int load_root_attrs(wf_trace_reader *r, wf_error *err) {
  hid_t root = H5Gopen2(r->file, "/", H5P_DEFAULT);
  if (root < 0) return h5_fail(err, r->path, "opening the root group");
  hid_t gcpl = H5Gget_create_plist(root);
  unsigned order = 0;
  if (gcpl >= 0) {
    H5Pget_attr_creation_order(gcpl, &order);
    H5Pclose(gcpl);
  }
  /* Files written by weft track creation order; others are listed by name. */
  H5_index_t idx = order & H5P_CRT_ORDER_TRACKED ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
  attr_walk w = {r, 0};
  hsize_t pos = 0;
  herr_t st = H5Aiterate2(root, idx, H5_ITER_INC, &pos, on_root_attr, &w);
  int rc = st < 0 ? h5_fail(err, r->path, "reading the root attributes") : 0;
  H5Gclose(root);
  return rc;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_dataset(hid_t group, const char *name) {
  hid_t o = H5Oopen(group, name, H5P_DEFAULT);
  if (o < 0) return 0; /* a dangling link: not ours, skip it */
  int yes = H5Iget_type(o) == H5I_DATASET;
  H5Oclose(o);
  return yes;
}

static char *link_name(hid_t g, hsize_t i) {
  ssize_t len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, NULL, 0, H5P_DEFAULT);
  char *s = len < 0 ? NULL : malloc((size_t)len + 1);
  if (s && H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, s, (size_t)len + 1,
                              H5P_DEFAULT) < 0) {
    free(s);
    s = NULL;
  }
  return s;
}

/* Names of the datasets in a top-level group, sorted; a missing group has none. */
static int list_datasets(wf_trace_reader *r, const char *group, char ***names, size_t *n,
                         wf_error *err) {
  *names = NULL;
  *n = 0;
  htri_t exists = H5Lexists(r->file, group, H5P_DEFAULT);
  if (exists <= 0) return exists < 0 ? h5_fail(err, r->path, "looking up '%s'", group) : 0;
  hid_t g = H5Gopen2(r->file, group, H5P_DEFAULT);
  H5G_info_t info;
  if (g < 0 || H5Gget_info(g, &info) < 0) {
    int rc = h5_fail(err, r->path, "'%s' is not a readable group", group);
    if (g >= 0) H5Gclose(g);
    return rc;
  }
  int rc = 0;
  *names = calloc(info.nlinks ? info.nlinks : 1, sizeof **names);
  for (hsize_t i = 0; *names && rc == 0 && i < info.nlinks; i++) {
    char *name = link_name(g, i);
    if (!name)
      rc = h5_fail(err, r->path, "listing '%s'", group);
    else if (is_dataset(g, name))
      (*names)[(*n)++] = name;
    else
      free(name);
  }
  H5Gclose(g);
  if (!*names) return wf_error_set(err, "trace '%s': out of memory listing '%s'", r->path, group);
  qsort(*names, *n, sizeof **names, cmp_str);
  return rc;
}

static char *attr_or_empty(hid_t obj, const char *name) {
  char *s = obj_attr_render(obj, name);
  return s ? s : dup_str("");
}

static int load_series(wf_trace_reader *r, wf_error *err) {
  char **names;
  size_t n;
  if (list_datasets(r, "/series", &names, &n, err) != 0) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return -1;
  }
  r->series = calloc(n ? n : 1, sizeof *r->series);
  int rc = r->series ? 0 : wf_error_set(err, "trace '%s': out of memory", r->path);
  for (size_t i = 0; i < n; i++) {
    if (rc != 0) {
      free(names[i]);
      continue;
    }
    r_series *s = &r->series[r->nseries++];
    s->name = names[i];
    char path[1024];
    snprintf(path, sizeof path, "/series/%s", s->name);
    hid_t d = H5Dopen2(r->file, path, H5P_DEFAULT);
    if (d < 0) {
      rc = h5_fail(err, r->path, "opening '%s'", path);
      continue;
    }
    s->units = attr_or_empty(d, "units");
    s->description = attr_or_empty(d, "description");
    H5Dclose(d);
    if (!s->units || !s->description) rc = wf_error_set(err, "trace '%s': out of memory", r->path);
  }
  free(names);
  return rc;
}

static int load_table_shape(wf_trace_reader *r, const char *path, r_table *tab, wf_error *err) {
  hid_t d = H5Dopen2(r->file, path, H5P_DEFAULT);
  hid_t space = d < 0 ? -1 : H5Dget_space(d), type = d < 0 ? -1 : H5Dget_type(d);
  hssize_t np = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
  int rc = 0;
  if (np < 0 || type < 0) {
    rc = h5_fail(err, r->path, "reading the shape of '%s'", path);
  } else {
    tab->nrows = (size_t)np;
    int nm = H5Tget_class(type) == H5T_COMPOUND ? H5Tget_nmembers(type) : 0;
    tab->cols = calloc(nm > 0 ? (size_t)nm : 1, sizeof *tab->cols);
    for (int i = 0; tab->cols && i < nm; i++) {
      char *m = H5Tget_member_name(type, (unsigned)i);
      tab->cols[tab->ncols++] = m ? dup_str(m) : dup_str("?");
      if (m) H5free_memory(m);
    }
    if (!tab->cols) rc = wf_error_set(err, "trace '%s': out of memory", r->path);
  }
  if (type >= 0) H5Tclose(type);
  if (space >= 0) H5Sclose(space);
  if (d >= 0) H5Dclose(d);
  return rc;
}

static int load_tables(wf_trace_reader *r, int g, wf_error *err) {
  const char *group = g == 0 ? "records" : g == 1 ? "histograms" : "summary";
  char gpath[32], **names;
  size_t n;
  snprintf(gpath, sizeof gpath, "/%s", group);
  if (g == 2 && H5Lexists(r->file, group, H5P_DEFAULT) <= 0) return 0; /* an older trace */
  if (list_datasets(r, gpath, &names, &n, err) != 0) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return -1;
  }
  r->tables[g] = calloc(n ? n : 1, sizeof *r->tables[g]);
  int rc = r->tables[g] ? 0 : wf_error_set(err, "trace '%s': out of memory", r->path);
  for (size_t i = 0; i < n; i++) {
    if (rc != 0) {
      free(names[i]);
      continue;
    }
    r_table *tab = &r->tables[g][r->ntables[g]++];
    tab->name = names[i];
    char path[1024];
    snprintf(path, sizeof path, "/%s/%s", group, tab->name);
    rc = load_table_shape(r, path, tab, err);
  }
  free(names);
  return rc;
}

/* Checks existence and format ourselves first: HDF5's own messages for these are obscure. */
static int check_readable(const char *path, wf_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return wf_error_set(err, "cannot open trace '%s': %s", path, strerror(errno));
  fclose(f);
  struct stat st;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
    return wf_error_set(err, "trace '%s' is not a regular file", path);
#if H5_VERSION_GE(1, 12, 0)
  htri_t is_h5 = H5Fis_accessible(path, H5P_DEFAULT);
#else
  htri_t is_h5 = H5Fis_hdf5(path);
#endif
  if (is_h5 == 0) return wf_error_set(err, "trace '%s' is not an HDF5 file", path);
  if (is_h5 < 0) return h5_fail(err, path, "cannot be read as HDF5 (damaged?)");
  return 0;
}

wf_trace_reader *wf_trace_open(const char *path, wf_error *err) {
  silence_hdf5();
  if (!path) return wf_error_set(err, "trace: no path given"), NULL;
  if (check_readable(path, err) != 0) return NULL;
  wf_trace_reader *r = calloc(1, sizeof *r);
  if (!r || !(r->path = dup_str(path))) {
    free(r);
    wf_error_set(err, "trace '%s': out of memory", path);
    return NULL;
  }
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0) H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
  r->file = H5Fopen(path, H5F_ACC_RDONLY, fapl >= 0 ? fapl : H5P_DEFAULT);
  if (r->file < 0) h5_fail(err, path, "cannot be opened (truncated or damaged?)");
  if (fapl >= 0) H5Pclose(fapl);
  if (r->file < 0 || load_root_attrs(r, err) != 0 || load_series(r, err) != 0 ||
      load_tables(r, 0, err) != 0 || load_tables(r, 1, err) != 0 || load_tables(r, 2, err) != 0) {
    wf_trace_reader_close(r);
    return NULL;
  }
  return r;
}

void wf_trace_reader_close(wf_trace_reader *r) {
  if (!r) return;
  for (size_t i = 0; i < r->nattrs; i++) {
    free(r->attr_names[i]);
    free(r->attr_texts[i]);
  }
  free(r->attr_names);
  free(r->attr_texts);
  for (size_t i = 0; i < r->nseries; i++) {
    free(r->series[i].name);
    free(r->series[i].units);
    free(r->series[i].description);
  }
  free(r->series);
  for (int g = 0; g < 3; g++) {
    for (size_t i = 0; i < r->ntables[g]; i++) {
      for (size_t c = 0; c < r->tables[g][i].ncols; c++) free(r->tables[g][i].cols[c]);
      free(r->tables[g][i].cols);
      free(r->tables[g][i].name);
    }
    free(r->tables[g]);
  }
  while (r->texts) {
    r_text *x = r->texts;
    r->texts = x->next;
    free(x->text);
    free(x);
  }
  if (r->file >= 0) H5Fclose(r->file);
  free(r->path);
  free(r);
}

/* ---- metadata ---- */

size_t wf_trace_attr_count(wf_trace_reader *r) {
  return r ? r->nattrs : 0;
}

const char *wf_trace_attr_name(wf_trace_reader *r, size_t i) {
  return r && i < r->nattrs ? r->attr_names[i] : NULL;
}

const char *wf_trace_attr_text(wf_trace_reader *r, const char *name) {
  for (size_t i = 0; r && name && i < r->nattrs; i++)
    if (strcmp(r->attr_names[i], name) == 0) return r->attr_texts[i];
  return NULL;
}

const char *wf_trace_obj_attr_text(wf_trace_reader *r, const char *obj, const char *name) {
  if (!r || !obj || !name) return NULL;
  hid_t o = H5Oopen(r->file, obj, H5P_DEFAULT);
  if (o < 0) return NULL;
  char *text = obj_attr_render(o, name);
  H5Oclose(o);
  r_text *x = text ? malloc(sizeof *x) : NULL;
  if (!x) {
    free(text);
    return NULL;
  }
  *x = (r_text){r->texts, text};
  r->texts = x;
  return text;
}

size_t wf_trace_series_count(wf_trace_reader *r) {
  return r ? r->nseries : 0;
}

const char *wf_trace_series_name(wf_trace_reader *r, size_t i) {
  return r && i < r->nseries ? r->series[i].name : NULL;
}

const char *wf_trace_series_units(wf_trace_reader *r, size_t i) {
  return r && i < r->nseries ? r->series[i].units : NULL;
}

const char *wf_trace_series_description(wf_trace_reader *r, size_t i) {
  return r && i < r->nseries ? r->series[i].description : NULL;
}

static int group_index(const char *group) {
  if (group && *group == '/') group++;
  return !group                             ? -1
         : strcmp(group, "records") == 0    ? 0
         : strcmp(group, "histograms") == 0 ? 1
         : strcmp(group, "summary") == 0    ? 2
                                            : -1;
}

static r_table *find_table(wf_trace_reader *r, const char *group, const char *name) {
  int g = group_index(group);
  for (size_t i = 0; r && name && g >= 0 && i < r->ntables[g]; i++)
    if (strcmp(r->tables[g][i].name, name) == 0) return &r->tables[g][i];
  return NULL;
}

size_t wf_trace_table_count(wf_trace_reader *r, const char *group) {
  int g = group_index(group);
  return r && g >= 0 ? r->ntables[g] : 0;
}

const char *wf_trace_table_name(wf_trace_reader *r, const char *group, size_t i) {
  int g = group_index(group);
  return r && g >= 0 && i < r->ntables[g] ? r->tables[g][i].name : NULL;
}

static int no_table(wf_trace_reader *r, const char *group, const char *name, wf_error *err) {
  return wf_error_set(err, "trace '%s': no table '%s/%s'", r ? r->path : "?",
                      group ? group : "(null)", name ? name : "(null)");
}

int wf_trace_table_shape(wf_trace_reader *r, const char *group, const char *name, size_t *nrows,
                         size_t *ncols, wf_error *err) {
  r_table *tab = find_table(r, group, name);
  if (!tab) return no_table(r, group, name, err);
  if (nrows) *nrows = tab->nrows;
  if (ncols) *ncols = tab->ncols;
  return 0;
}

const char *wf_trace_table_column_name(wf_trace_reader *r, const char *group, const char *name,
                                       size_t col) {
  r_table *tab = find_table(r, group, name);
  return tab && col < tab->ncols ? tab->cols[col] : NULL;
}

/* ---- data ---- */

/* Reads a whole dataset converted to mtype; the buffer has room for at least one element. */
static void *read_all(wf_trace_reader *r, const char *path, hid_t mtype, size_t *n, wf_error *err) {
  hid_t d = H5Dopen2(r->file, path, H5P_DEFAULT);
  hid_t space = d < 0 ? -1 : H5Dget_space(d);
  hssize_t np = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
  size_t size = H5Tget_size(mtype);
  void *buf = NULL;
  if (np < 0) {
    h5_fail(err, r->path, "opening '%s'", path);
  } else if (size == 0 || (size_t)np > SIZE_MAX / size) {
    wf_error_set(err, "trace '%s': '%s' is too large to read", r->path, path);
  } else if (!(buf = calloc(np ? (size_t)np : 1, size))) {
    wf_error_set(err, "trace '%s': out of memory reading '%s'", r->path, path);
  } else if (np > 0 && H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
    h5_fail(err, r->path, "reading '%s'", path);
    free(buf);
    buf = NULL;
  }
  if (space >= 0) H5Sclose(space);
  if (d >= 0) H5Dclose(d);
  if (n) *n = buf ? (size_t)np : 0;
  return buf;
}

/* The file type's class, or of one member of a compound; H5T_NO_CLASS if absent. */
static H5T_class_t class_of(wf_trace_reader *r, const char *path, const char *member) {
  hid_t d = H5Dopen2(r->file, path, H5P_DEFAULT);
  hid_t type = d < 0 ? -1 : H5Dget_type(d);
  H5T_class_t cls = type < 0 ? H5T_NO_CLASS : H5Tget_class(type);
  if (member && cls == H5T_COMPOUND) {
    int idx = H5Tget_member_index(type, member);
    cls = idx < 0 ? H5T_NO_CLASS : H5Tget_member_class(type, (unsigned)idx);
  } else if (member) {
    cls = H5T_NO_CLASS;
  }
  if (type >= 0) H5Tclose(type);
  if (d >= 0) H5Dclose(d);
  return cls;
}

double *wf_trace_series_read(wf_trace_reader *r, size_t i, size_t *n, wf_error *err) {
  if (n) *n = 0;
  if (!r || i >= r->nseries)
    return wf_error_set(err, "trace '%s': no series number %zu", r ? r->path : "?", i), NULL;
  char path[1024];
  snprintf(path, sizeof path, "/series/%s", r->series[i].name);
  H5T_class_t cls = class_of(r, path, NULL);
  if (cls != H5T_FLOAT && cls != H5T_INTEGER)
    return wf_error_set(err, "trace '%s': '%s' is not a numeric series", r->path, path), NULL;
  return read_all(r, path, H5T_NATIVE_DOUBLE, n, err);
}

double *wf_trace_table_column(wf_trace_reader *r, const char *group, const char *name,
                              const char *column, size_t *n, wf_error *err) {
  if (n) *n = 0;
  if (!find_table(r, group, name)) return no_table(r, group, name, err), NULL;
  char path[1024];
  snprintf(path, sizeof path, "/%s/%s", group[0] == '/' ? group + 1 : group, name);
  H5T_class_t cls = column ? class_of(r, path, column) : H5T_NO_CLASS;
  if (cls == H5T_NO_CLASS)
    return wf_error_set(err, "trace '%s': '%s' has no column '%s'", r->path, path,
                        column ? column : "(null)"),
           NULL;
  if (cls != H5T_FLOAT && cls != H5T_INTEGER)
    return wf_error_set(err, "trace '%s': column '%s' of '%s' is not numeric", r->path, column,
                        path),
           NULL;
  /* A one-member compound makes HDF5 pick out and convert just that field. */
  hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(double));
  if (mt < 0 || H5Tinsert(mt, column, 0, H5T_NATIVE_DOUBLE) < 0) {
    h5_fail(err, r->path, "building a reader for column '%s' of '%s'", column, path);
    if (mt >= 0) H5Tclose(mt);
    return NULL;
  }
  double *v = read_all(r, path, mt, n, err);
  H5Tclose(mt);
  return v;
}

/* Native member types with no padding between them: padding bytes would be whatever the
 * conversion left there, and raw reads must compare equal exactly when the data does. */
static hid_t raw_type(wf_trace_reader *r, const char *path, wf_error *err) {
  hid_t d = H5Dopen2(r->file, path, H5P_DEFAULT);
  hid_t ftype = d < 0 ? -1 : H5Dget_type(d), mt = -1;
  if (ftype < 0)
    h5_fail(err, r->path, "opening '%s'", path);
  else if (H5Tdetect_class(ftype, H5T_VLEN) > 0 || H5Tis_variable_str(ftype) > 0)
    wf_error_set(err, "trace '%s': '%s' holds variable-length data, which has no raw form", r->path,
                 path);
  else if ((mt = H5Tget_native_type(ftype, H5T_DIR_ASCEND)) < 0 ||
           (H5Tget_class(mt) == H5T_COMPOUND && H5Tpack(mt) < 0))
    h5_fail(err, r->path, "finding the native type of '%s'", path);
  if (ftype >= 0) H5Tclose(ftype);
  if (d >= 0) H5Dclose(d);
  return mt;
}

void *wf_trace_read_raw(wf_trace_reader *r, const char *dataset, size_t *nbytes, wf_error *err) {
  if (nbytes) *nbytes = 0;
  if (!r || !dataset) return wf_error_set(err, "trace: no dataset named"), NULL;
  hid_t mt = raw_type(r, dataset, err);
  if (mt < 0) return NULL;
  size_t n = 0;
  void *buf = read_all(r, dataset, mt, &n, err);
  if (buf && nbytes) *nbytes = n * H5Tget_size(mt);
  H5Tclose(mt);
  return buf;
}
