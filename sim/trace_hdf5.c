/* HDF5 backend of the run trace (sim/trace.h), the serial writer: the file, attributes,
 * series, record tables. The parallel path is trace_hdf5_mpi.c, reading trace_hdf5_read.c;
 * with trace_hdf5.h they are the only files in weft that include hdf5.h. The layout is
 * specified in analysis/SCHEMA.md; keep the two in step. */
#include "trace.h"

#include "trace_hdf5.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Series grow by SAMPLE_BLOCK-sized appends; 1024 doubles (8 KiB) keeps a default run's series
 * (100 samples) in one chunk and a long run's in few, and a short run's file small: chunks are
 * allocated whole (4096 made a 2-LP, 1 s trace 143 KB). */
#define SERIES_CHUNK 1024
/* Table chunks hold a power-of-two number of rows close to this many bytes, so the engine's
 * 4096-row flushes land on chunk boundaries and each chunk is compressed once. 32 KiB made
 * writing PHOLD's event table 11% slower (tests/bench/trace_overhead.sh). */
#define TABLE_CHUNK_BYTES (128u << 10)
#define TABLE_CHUNK_MIN_ROWS 16
/* Measured on 1e6 24-byte rows: shuffle + level 1 gives files 3% larger than level 6 at
 * 1.5x its speed; without shuffle files grow by 60% and writing is slower. */
#define DEFLATE_LEVEL 1

const char *const wf_h5_group_names[NGROUPS] = {"series", "records", "histograms", "summary"};

char *wf_h5_dup(const char *s) {
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

static int vfail(wf_error *err, int corrupted, const char *path, const char *fmt, va_list ap) {
  h5_reason r = {"unknown HDF5 error"};
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, take_innermost, &r);
  char what[512];
  vsnprintf(what, sizeof what, fmt, ap);
  if (corrupted) return wf_error_set(err, "corrupted trace %s: %s: %s", path, what, r.text);
  return wf_error_set(err, "trace '%s': %s: %s", path, what, r.text);
}

/* Formats "trace 'PATH': WHAT: REASON". Call it right after the failing HDF5 call: the next
 * HDF5 call clears the error stack it reads. */
int wf_h5_fail(wf_error *err, const char *path, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vfail(err, 0, path, fmt, ap);
  va_end(ap);
  return rc;
}

int wf_h5_corrupt(wf_error *err, const char *path, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vfail(err, 1, path, fmt, ap);
  va_end(ap);
  return rc;
}

/* Our callers get errors as values; HDF5 must not also print its stack to stderr. */
void wf_h5_silence(void) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* Every HDF5 call clears the error stack, so a failure's stack is set aside while the
 * property lists and types made for the failed call are closed, then put back for h5_fail. */
hid_t wf_h5_keep_errors(int failed) {
  return failed ? H5Eget_current_stack() : -1;
}

void wf_h5_restore_errors(hid_t saved) {
  if (saved >= 0) H5Eset_current_stack(saved);
}

/* ======================================================================= writing */

static int valid_name(const char *name) {
  return name && *name && !strchr(name, '/') && strcmp(name, ".") != 0;
}

static hid_t new_file(const char *path, int parallel) {
  hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS), f = -1;
  /* Creation order lets the reader list root attributes as the engine wrote them; no
   * timestamps in object headers keeps equal runs byte-identical. The 1.10 format puts a
   * checksum on every piece of metadata (superblock, object headers, link and attribute heaps,
   * chunk indexes), so damage is detected rather than parsed; readable by HDF5 1.10 and later
   * (analysis/SCHEMA.md, "Damage"). */
  int ok = fcpl >= 0 && fapl >= 0 &&
           H5Pset_attr_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) >= 0 &&
           H5Pset_obj_track_times(fcpl, 0) >= 0 &&
           H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110) >= 0 &&
           H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0;
  if (ok && parallel) ok = H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL) >= 0;
  if (ok) f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
  hid_t saved = wf_h5_keep_errors(f < 0);
  if (fcpl >= 0) H5Pclose(fcpl);
  if (fapl >= 0) H5Pclose(fapl);
  wf_h5_restore_errors(saved);
  return f;
}

static hid_t new_group(hid_t file, const char *name) {
  hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE), g = -1;
  if (gcpl >= 0 && H5Pset_obj_track_times(gcpl, 0) >= 0)
    g = H5Gcreate2(file, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
  hid_t saved = wf_h5_keep_errors(g < 0);
  if (gcpl >= 0) H5Pclose(gcpl);
  wf_h5_restore_errors(saved);
  return g;
}

wf_trace *wf_h5_create(const char *path, int parallel, wf_error *err) {
  wf_h5_silence();
  wf_trace *t = calloc(1, sizeof *t);
  if (!t || !(t->path = wf_h5_dup(path))) {
    free(t);
    wf_error_set(err, "trace '%s': out of memory", path);
    return NULL;
  }
  for (int g = 0; g < NGROUPS; g++) t->groups[g] = -1;
  t->parallel = parallel;
  t->file = new_file(path, parallel);
  if (t->file < 0) {
    wf_h5_fail(err, path, "cannot create the file");
    wf_trace_close(t, NULL);
    return NULL;
  }
  if (wf_trace_attr_u64(t, "trace_format", WF_TRACE_FORMAT, err) != 0) {
    wf_trace_close(t, NULL);
    return NULL;
  }
  for (int g = 0; g < NGROUPS; g++) {
    t->groups[g] = new_group(t->file, wf_h5_group_names[g]);
    if (t->groups[g] < 0) {
      wf_h5_fail(err, path, "creating group '/%s'", wf_h5_group_names[g]);
      wf_trace_close(t, NULL);
      return NULL;
    }
  }
  return t;
}

wf_trace *wf_trace_create(const char *path, wf_error *err) {
  return wf_h5_create(path, 0, err);
}

/* MPI-IO needs MPI, which a run without a launcher never starts. */
/* ---- attributes ---- */

hid_t wf_h5_str_type(size_t size, H5T_str_t pad) {
  hid_t s = H5Tcopy(H5T_C_S1);
  if (s >= 0 && (H5Tset_size(s, size) < 0 || H5Tset_strpad(s, pad) < 0 ||
                 H5Tset_cset(s, H5T_CSET_UTF8) < 0)) {
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
  if (exists < 0)
    return wf_h5_fail(err, t->path, "checking attribute '%s' on '%s'", name, obj_name);
  if (exists > 0 && H5Adelete(obj, name) < 0)
    return wf_h5_fail(err, t->path, "replacing attribute '%s' on '%s'", name, obj_name);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = space < 0 ? -1 : H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
  int rc = 0;
  if (a < 0 || H5Awrite(a, mtype, value) < 0)
    rc = wf_h5_fail(err, t->path, "writing attribute '%s' on '%s'", name, obj_name);
  if (a >= 0) H5Aclose(a);
  if (space >= 0) H5Sclose(space);
  return rc;
}

/* Fixed-length, NUL-terminated: a variable-length string lives in the global heap, which has
 * no checksum, and HDF5 crashes on a damaged one. */
static int put_str_attr(wf_trace *t, hid_t obj, const char *obj_name, const char *name,
                        const char *value, wf_error *err) {
  const char *v = value ? value : "";
  hid_t s = wf_h5_str_type(strlen(v) + 1, H5T_STR_NULLTERM);
  if (s < 0) return wf_h5_fail(err, t->path, "making a string type for attribute '%s'", name);
  int rc = put_attr(t, obj, obj_name, name, s, s, v, err);
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
  if (o < 0)
    wf_h5_fail(err, t->path, "no object '%s' to put an attribute on", obj ? obj : "(null)");
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
  /* Fletcher32 on every chunk: a damaged byte of data is an error on reading, not a number. */
  int ok = space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, &chunk_rows) >= 0 &&
           H5Pset_obj_track_times(dcpl, 0) >= 0 && H5Pset_fletcher32(dcpl) >= 0;
  /* Shuffle groups byte k of every row together, which is what makes counters and ids
   * compress: their high bytes are mostly zero. */
  if (ok && deflate) ok = H5Pset_shuffle(dcpl) >= 0 && H5Pset_deflate(dcpl, DEFLATE_LEVEL) >= 0;
  if (ok) d = H5Dcreate2(group, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  hid_t saved = wf_h5_keep_errors(d < 0);
  if (space >= 0) H5Sclose(space);
  if (dcpl >= 0) H5Pclose(dcpl);
  wf_h5_restore_errors(saved);
  return d;
}

static int append_rows(wf_trace *t, hid_t dset, hid_t mtype, hsize_t *nrows, const void *buf,
                       size_t n, const char *what, wf_error *err) {
  hsize_t start = *nrows, count = n, end = start + n;
  if (H5Dset_extent(dset, &end) < 0)
    return wf_h5_fail(err, t->path, "extending '%s' to %llu rows", what, (unsigned long long)end);
  hid_t fs = H5Dget_space(dset), ms = H5Screate_simple(1, &count, NULL);
  herr_t st =
      fs < 0 || ms < 0 ? -1 : H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL);
  if (st >= 0) st = H5Dwrite(dset, mtype, ms, fs, H5P_DEFAULT, buf);
  int rc = st < 0 ? wf_h5_fail(err, t->path, "appending %zu rows to '%s'", n, what) : 0;
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
                      : wf_h5_fail(err, t->path, "looking up series '%s'", name);
  if (add_series_slot(t, name, err) != 0) return -1;
  series *s = &t->series[t->nseries - 1];
  s->dset = new_dataset(t->groups[G_SERIES], name, H5T_IEEE_F64LE, SERIES_CHUNK, 0);
  if (s->dset < 0) return wf_h5_fail(err, t->path, "creating dataset '%s'", s->path);
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
  return wf_h5_str_type(size, H5T_STR_NULLPAD);
}

/* A packed compound of the columns in order: native (memory) or little-endian (file). */
static hid_t compound_type(const wf_column *cols, size_t ncols, size_t packed, int native) {
  hid_t c = H5Tcreate(H5T_COMPOUND, packed);
  size_t off = 0;
  for (size_t i = 0; c >= 0 && i < ncols; i++) {
    hid_t m = member_type(cols[i].type, cols[i].size, native);
    int failed = m < 0 || H5Tinsert(c, cols[i].name, off, m) < 0;
    hid_t saved = wf_h5_keep_errors(failed);
    if (failed) {
      H5Tclose(c);
      c = -1;
    }
    if (m >= 0) H5Tclose(m);
    wf_h5_restore_errors(saved);
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

void wf_h5_table_free(wf_trace_table *tab) {
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
    tab->path = wf_h5_dup(path);
    tab->cols = calloc(ncols, sizeof *tab->cols);
  }
  if (!tab || !tab->path || !tab->cols) {
    if (tab) wf_h5_table_free(tab);
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
    wf_h5_table_free(tab);
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
    return wf_h5_fail(err, t->path, "building the row type of '%s'", tab->path);
  }
  tab->dset = new_dataset(group, name, ftype, tab->chunk_rows, 1);
  H5Tclose(ftype);
  if (tab->dset < 0) return wf_h5_fail(err, t->path, "creating dataset '%s'", tab->path);
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
      wf_h5_fail(err, t->path, "looking up table '%s'", path);
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
void wf_h5_pack_rows(const wf_trace_table *tab, unsigned char *dst, const unsigned char *src,
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
    wf_h5_pack_rows(tab, tab->scratch, src + done * tab->row_size, k);
    if (append_rows(tab->t, tab->dset, tab->mtype, &tab->nrows, tab->scratch, k, tab->path, err))
      return -1;
    done += k;
  }
  return 0;
}

int wf_trace_close(wf_trace *t, wf_error *err) {
  if (!t) return 0;
  int rc = 0;
  while (t->tables) {
    wf_trace_table *tab = t->tables;
    t->tables = tab->next;
    if (tab->dset >= 0 && H5Dclose(tab->dset) < 0)
      rc = wf_h5_fail(err, t->path, "closing '%s'", tab->path);
    tab->dset = -1;
    wf_h5_table_free(tab);
  }
  for (size_t i = 0; i < t->nseries; i++) {
    if (t->series[i].dset >= 0 && H5Dclose(t->series[i].dset) < 0)
      rc = wf_h5_fail(err, t->path, "closing '%s'", t->series[i].path);
    free(t->series[i].path);
  }
  for (int g = 0; g < NGROUPS; g++)
    if (t->groups[g] >= 0) H5Gclose(t->groups[g]);
  if (t->file >= 0 && H5Fclose(t->file) < 0) rc = wf_h5_fail(err, t->path, "closing the file");
  free(t->series);
  free(t->path);
  free(t);
  return rc;
}
