/* HDF5 backend of the run trace (sim/trace.h), reading: what `weft report` and `weft compare`
 * read, checked as it is opened. Writing is in trace_hdf5.c. */
#include "trace.h"

#include "trace_hdf5.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
  int version; /* trace_format: 1 (no attribute) or 2 */
};

/* Whether a type holds variable-length data anywhere (a string, a sequence, inside a compound
 * or an array): such data lives in HDF5's global heap, which has no checksum. */
static int has_vlen(hid_t type) {
  H5T_class_t cls = H5Tget_class(type);
  if (cls == H5T_VLEN || (cls == H5T_STRING && H5Tis_variable_str(type) > 0)) return 1;
  int yes = 0;
  if (cls == H5T_COMPOUND) {
    int n = H5Tget_nmembers(type);
    for (int i = 0; !yes && i < n; i++) {
      hid_t m = H5Tget_member_type(type, (unsigned)i);
      yes = m < 0 || has_vlen(m);
      if (m >= 0) H5Tclose(m);
    }
  } else if (cls == H5T_ARRAY || cls == H5T_ENUM) {
    hid_t base = H5Tget_super(type);
    yes = base < 0 || has_vlen(base);
    if (base >= 0) H5Tclose(base);
  }
  return yes;
}

/* ---- attribute values as text ---- */

/* A version-1 trace's variable-length strings (read in-process only once a child process read
 * the whole file without crashing: prove_in_child). */
static int render_vlen(hid_t a, hid_t ftype, size_t n, FILE *f) {
  hid_t mt = H5Tcopy(H5T_C_S1);
  char **v = calloc(n ? n : 1, sizeof *v);
  int rc = mt >= 0 && v && H5Tset_size(mt, H5T_VARIABLE) >= 0 &&
                   H5Tset_cset(mt, H5Tget_cset(ftype)) >= 0 && H5Aread(a, mt, v) >= 0
               ? 0
               : -1;
  for (size_t i = 0; rc == 0 && i < n; i++) fprintf(f, "%s%s", i ? ", " : "", v[i] ? v[i] : "");
  if (rc == 0) {
    hid_t space = H5Aget_space(a);
    H5Dvlen_reclaim(mt, space, H5P_DEFAULT, v);
    H5Sclose(space);
  }
  if (mt >= 0) H5Tclose(mt);
  free(v);
  return rc;
}

static int render_strings(hid_t a, hid_t ftype, size_t n, FILE *f) {
  if (H5Tis_variable_str(ftype) > 0) return render_vlen(a, ftype, n, f);
  size_t size = H5Tget_size(ftype);
  hid_t mt = H5Tcopy(ftype);
  char *buf = size ? calloc(n ? n : 1, size) : NULL;
  int rc = mt >= 0 && buf && H5Aread(a, mt, buf) >= 0 ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const char *s = buf + i * size, *nul = memchr(s, 0, size);
    size_t len = nul ? (size_t)(nul - s) : size;
    if (H5Tget_strpad(ftype) == H5T_STR_SPACEPAD)
      while (len && s[len - 1] == ' ') len--;
    fprintf(f, "%s%.*s", i ? ", " : "", (int)len, s);
  }
  if (mt >= 0) H5Tclose(mt);
  free(buf);
  return rc;
}

static int render_numbers(hid_t a, hid_t ftype, H5T_class_t cls, size_t n, FILE *f) {
  union {
    long long i;
    unsigned long long u;
    double d;
  } *v = calloc(n ? n : 1, sizeof *v);
  int is_unsigned = cls == H5T_INTEGER && H5Tget_sign(ftype) == H5T_SGN_NONE;
  hid_t mt = cls == H5T_FLOAT ? H5T_NATIVE_DOUBLE
             : is_unsigned    ? H5T_NATIVE_ULLONG
                              : H5T_NATIVE_LLONG;
  int rc = v && H5Aread(a, mt, v) >= 0 ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    if (i) fputs(", ", f);
    if (cls == H5T_FLOAT)
      fprintf(f, "%.17g", v[i].d);
    else if (is_unsigned)
      fprintf(f, "%llu", v[i].u);
    else
      fprintf(f, "%lld", v[i].i);
  }
  free(v);
  return rc;
}

/* Strings verbatim, integers exactly, floats with %.17g; arrays joined with ", ". NULL when
 * the value cannot be read. */
static char *attr_render(hid_t a) {
  hid_t ftype = H5Aget_type(a), space = H5Aget_space(a);
  hssize_t np = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
  char *out = NULL;
  size_t len = 0;
  FILE *f = ftype >= 0 && np >= 0 ? open_memstream(&out, &len) : NULL;
  int rc = f ? 0 : -1;
  if (f) {
    H5T_class_t cls = H5Tget_class(ftype);
    if (cls == H5T_STRING)
      rc = render_strings(a, ftype, (size_t)np, f);
    else if (cls == H5T_INTEGER || cls == H5T_FLOAT)
      rc = render_numbers(a, ftype, cls, (size_t)np, f);
    else
      fputs("(value of an unsupported type)", f);
    if (fclose(f) != 0) rc = -1;
  }
  if (ftype >= 0) H5Tclose(ftype);
  if (space >= 0) H5Sclose(space);
  if (rc != 0) {
    free(out);
    out = NULL;
  }
  return out;
}

/* Attribute name of obj (at where, for messages) as text in *out: 0 with *out NULL when obj has
 * no such attribute; -1 with err set when it has one that cannot be read. */
static int attr_text(const wf_trace_reader *r, hid_t obj, const char *where, const char *name,
                     char **out, wf_error *err) {
  *out = NULL;
  htri_t exists = H5Aexists(obj, name);
  if (exists < 0) return wf_h5_corrupt(err, r->path, "attribute '%s' of '%s'", name, where);
  if (exists == 0) return 0;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return wf_h5_corrupt(err, r->path, "attribute '%s' of '%s'", name, where);
  hid_t type = r->version >= 2 ? H5Aget_type(a) : -1;
  int vlen = type >= 0 && has_vlen(type);
  if (type >= 0) H5Tclose(type);
  if (vlen) {
    H5Aclose(a);
    return wf_error_set(err,
                        "corrupted trace %s: attribute '%s' of '%s' is a variable-length string, "
                        "which a version-2 trace never holds",
                        r->path, name, where);
  }
  *out = attr_render(a);
  H5Aclose(a);
  if (!*out) return wf_h5_corrupt(err, r->path, "the value of attribute '%s' of '%s'", name, where);
  return 0;
}

/* ---- opening ---- */

typedef struct attr_walk {
  wf_trace_reader *r;
  const char *where;
  size_t cap;
  int keep;   /* the root's: kept as names and texts; others only checked */
  int failed; /* the callback set err */
  wf_error *err;
} attr_walk;

static herr_t on_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
  (void)info;
  attr_walk *w = data;
  wf_trace_reader *r = w->r;
  char *text;
  w->failed = 1; /* until it returns 0 */
  if (attr_text(r, loc, w->where, name, &text, w->err) != 0) return -1;
  if (!w->keep) {
    free(text);
    w->failed = 0;
    return 0;
  }
  if (r->nattrs == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 16;
    char **n = realloc(r->attr_names, cap * sizeof *n);
    if (n) r->attr_names = n;
    char **v = realloc(r->attr_texts, cap * sizeof *v);
    if (v) r->attr_texts = v;
    if (!n || !v) {
      free(text);
      return wf_error_set(w->err, "trace '%s': out of memory", r->path), -1;
    }
    w->cap = cap;
  }
  char *copy = wf_h5_dup(name);
  if (!text || !copy) {
    free(text);
    free(copy);
    return wf_error_set(w->err, "trace '%s': out of memory", r->path), -1;
  }
  r->attr_names[r->nattrs] = copy;
  r->attr_texts[r->nattrs++] = text;
  w->failed = 0;
  return 0;
}

/* Reads every attribute of obj (where names it), in creation order when it is tracked (weft's
 * files track it; others are listed by name); keeps them when keep (the root's). */
static int read_attrs(wf_trace_reader *r, hid_t obj, const char *where, int keep, wf_error *err) {
  hid_t plist =
      H5Iget_type(obj) == H5I_DATASET ? H5Dget_create_plist(obj) : H5Gget_create_plist(obj);
  unsigned order = 0;
  if (plist >= 0) {
    H5Pget_attr_creation_order(plist, &order);
    H5Pclose(plist);
  }
  H5_index_t idx = order & H5P_CRT_ORDER_TRACKED ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
  attr_walk w = {r, where, 0, keep, 0, err};
  hsize_t pos = 0;
  herr_t st = H5Aiterate2(obj, idx, H5_ITER_INC, &pos, on_attr, &w);
  if (st < 0 && !w.failed)
    return wf_h5_corrupt(err, r->path, "listing the attributes of '%s'", where);
  return st < 0 ? -1 : 0;
}

static int load_root_attrs(wf_trace_reader *r, wf_error *err) {
  hid_t root = H5Gopen2(r->file, "/", H5P_DEFAULT);
  if (root < 0) return wf_h5_corrupt(err, r->path, "opening the root group");
  int rc = read_attrs(r, root, "/", 1, err);
  H5Gclose(root);
  return rc;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1 if group/name is a dataset, 0 if it is another kind of object (not ours: skipped), -1 with
 * err set if it does not open: a damaged or dangling link is an error, never skipped. */
static int is_dataset(wf_trace_reader *r, hid_t group, const char *gname, const char *name,
                      wf_error *err) {
  H5L_info_t li;
  if (H5Lget_info(group, name, &li, H5P_DEFAULT) < 0)
    return wf_h5_corrupt(err, r->path, "the link '%s/%s'", gname, name);
  if (li.type != H5L_TYPE_HARD) /* a soft or external link could lead anywhere, files included */
    return wf_error_set(err, "corrupted trace %s: '%s/%s' is a %s link, which weft never writes",
                        r->path, gname, name, li.type == H5L_TYPE_SOFT ? "soft" : "external");
  hid_t o = H5Oopen(group, name, H5P_DEFAULT);
  if (o < 0) return wf_h5_corrupt(err, r->path, "'%s/%s' does not open", gname, name);
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
  if (exists <= 0) return exists < 0 ? wf_h5_corrupt(err, r->path, "looking up '%s'", group) : 0;
  hid_t g = H5Gopen2(r->file, group, H5P_DEFAULT);
  H5G_info_t info;
  if (g < 0 || H5Gget_info(g, &info) < 0) {
    int rc = wf_h5_corrupt(err, r->path, "'%s' is not a readable group", group);
    if (g >= 0) H5Gclose(g);
    return rc;
  }
  int rc = 0;
  *names = calloc(info.nlinks ? info.nlinks : 1, sizeof **names);
  for (hsize_t i = 0; *names && rc == 0 && i < info.nlinks; i++) {
    char *name = link_name(g, i);
    int yes = name ? is_dataset(r, g, group, name, err)
                   : wf_h5_corrupt(err, r->path, "listing '%s'", group);
    if (yes > 0)
      (*names)[(*n)++] = name;
    else
      free(name);
    if (yes < 0) rc = -1;
  }
  H5Gclose(g);
  if (!*names) return wf_error_set(err, "trace '%s': out of memory listing '%s'", r->path, group);
  qsort(*names, *n, sizeof **names, cmp_str);
  return rc;
}

/* Reads n elements of d into buf as mtype (over the selections ms, fs). The transfer's
 * conversion buffers are sized to the read: HDF5 would otherwise calloc 1 MiB for each (type
 * conversion and background) on every read that converts, whatever its size. */
static herr_t read_sized(hid_t d, hid_t mtype, hid_t ms, hid_t fs, hsize_t n, void *buf) {
  hid_t ftype = H5Dget_type(d), dxpl = H5Pcreate(H5P_DATASET_XFER);
  size_t esize = H5Tget_size(mtype), fsize = ftype < 0 ? 0 : H5Tget_size(ftype);
  size_t per = esize > fsize ? esize : fsize, cap = (size_t)1 << 20;
  size_t want = n && per && n < cap / per ? (size_t)n * per : cap;
  herr_t st = -1;
  if (ftype >= 0 && dxpl >= 0 && H5Pset_buffer(dxpl, want < 1024 ? 1024 : want, NULL, NULL) >= 0)
    st = H5Dread(d, mtype, ms, fs, dxpl, buf);
  hid_t saved = wf_h5_keep_errors(st < 0);
  if (dxpl >= 0) H5Pclose(dxpl);
  if (ftype >= 0) H5Tclose(ftype);
  wf_h5_restore_errors(saved);
  return st;
}

/* Whether d declares more rows than its storage holds: weft writes every row it declares, so
 * a dataset whose extent runs past its chunks (2^50 rows of fill values in a 40 KB file) is
 * damage, and reading it would take hours. */
static int declared_beyond_stored(hid_t d, hsize_t rows) {
  hid_t dcpl = H5Dget_create_plist(d), space = H5Dget_space(d);
  hsize_t chunk = 0, nchunks = 0;
  int beyond = 0;
  if (dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED) {
    beyond = H5Pget_chunk(dcpl, 1, &chunk) != 1 || chunk == 0 || space < 0 ||
             H5Dget_num_chunks(d, space, &nchunks) < 0 || rows > nchunks * chunk;
  } else if (dcpl >= 0) {
    hid_t type = H5Dget_type(d);
    size_t size = type < 0 ? 0 : H5Tget_size(type);
    beyond = size == 0 || rows > H5Dget_storage_size(d) / size;
    if (type >= 0) H5Tclose(type);
  }
  if (space >= 0) H5Sclose(space);
  if (dcpl >= 0) H5Pclose(dcpl);
  return beyond;
}

/* Reads all of dataset d (at path) once, a slab at a time, and every attribute it has: what a
 * report or comparison will read later is known to be whole. A version-2 trace's chunks carry
 * Fletcher32 checksums, so a damaged byte of data fails here; any trace's damaged metadata
 * fails here too. */
static int check_dataset(wf_trace_reader *r, hid_t d, const char *path, wf_error *err) {
  if (read_attrs(r, d, path, 0, err) != 0) return -1;
  hid_t space = H5Dget_space(d), ftype = H5Dget_type(d);
  hid_t mt = ftype < 0 ? -1 : H5Tget_native_type(ftype, H5T_DIR_ASCEND);
  hssize_t np = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
  int rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
  size_t size = mt < 0 ? 0 : H5Tget_size(mt);
  int rc = 0;
  if (np < 0 || size == 0 || rank != 1) {
    rc = np >= 0 && size > 0
             ? wf_error_set(err, "corrupted trace %s: '%s' is not a one-dimensional table", r->path,
                            path)
             : wf_h5_corrupt(err, r->path, "reading the shape of '%s'", path);
  } else if (declared_beyond_stored(d, (hsize_t)np)) {
    rc = wf_error_set(err,
                      "corrupted trace %s: '%s' declares %lld rows, more than its chunks hold",
                      r->path, path, (long long)np);
  } else if (has_vlen(ftype)) {
    rc = wf_error_set(err,
                      "corrupted trace %s: '%s' holds variable-length data, which weft "
                      "never writes",
                      r->path, path);
  } else {
    hsize_t total = (hsize_t)np, slab = (1u << 20) / size + 1;
    if (slab > total) slab = total ? total : 1;
    void *buf = malloc((size_t)slab * size);
    hid_t ms = H5Screate_simple(1, &slab, NULL);
    if (!buf || ms < 0) rc = wf_error_set(err, "trace '%s': out of memory", r->path);
    for (hsize_t at = 0; rc == 0 && at < total; at += slab) {
      hsize_t count = total - at < slab ? total - at : slab, zero = 0;
      if (H5Sselect_hyperslab(space, H5S_SELECT_SET, &at, NULL, &count, NULL) < 0 ||
          H5Sselect_hyperslab(ms, H5S_SELECT_SET, &zero, NULL, &count, NULL) < 0 ||
          read_sized(d, mt, ms, space, count, buf) < 0)
        rc = wf_h5_corrupt(err, r->path, "reading rows %llu to %llu of '%s'",
                           (unsigned long long)at, (unsigned long long)(at + count - 1), path);
    }
    if (ms >= 0) H5Sclose(ms);
    free(buf);
  }
  if (mt >= 0) H5Tclose(mt);
  if (ftype >= 0) H5Tclose(ftype);
  if (space >= 0) H5Sclose(space);
  return rc;
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
      rc = wf_h5_corrupt(err, r->path, "opening '%s'", path);
      continue;
    }
    rc = check_dataset(r, d, path, err);
    if (rc == 0) rc = attr_text(r, d, path, "units", &s->units, err);
    if (rc == 0) rc = attr_text(r, d, path, "description", &s->description, err);
    H5Dclose(d);
    if (rc == 0 && !s->units) s->units = wf_h5_dup("");
    if (rc == 0 && !s->description) s->description = wf_h5_dup("");
    if (rc == 0 && (!s->units || !s->description))
      rc = wf_error_set(err, "trace '%s': out of memory", r->path);
  }
  free(names);
  return rc;
}

static int load_table_shape(wf_trace_reader *r, const char *path, r_table *tab, wf_error *err) {
  hid_t d = H5Dopen2(r->file, path, H5P_DEFAULT);
  hid_t space = d < 0 ? -1 : H5Dget_space(d), type = d < 0 ? -1 : H5Dget_type(d);
  hssize_t np = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
  int rc = np < 0 || type < 0 ? 0 : check_dataset(r, d, path, err);
  if (rc != 0) {
  } else if (np < 0 || type < 0) {
    rc = wf_h5_corrupt(err, r->path, "reading the shape of '%s'", path);
  } else {
    tab->nrows = (size_t)np;
    int nm = H5Tget_class(type) == H5T_COMPOUND ? H5Tget_nmembers(type) : 0;
    tab->cols = calloc(nm > 0 ? (size_t)nm : 1, sizeof *tab->cols);
    for (int i = 0; tab->cols && i < nm; i++) {
      char *m = H5Tget_member_name(type, (unsigned)i);
      tab->cols[tab->ncols++] = m ? wf_h5_dup(m) : wf_h5_dup("?");
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

/* A trace of a later layout than this weft knows is refused, not misread. */
static int check_format(wf_trace_reader *r, wf_error *err) {
  const char *v = wf_trace_attr_text(r, "trace_format");
  char *end;
  unsigned long long version = v ? strtoull(v, &end, 10) : 1;
  if (v && (*end || !*v))
    return wf_error_set(err, "corrupted trace %s: trace_format is '%s', not a number", r->path, v);
  if (version > WF_TRACE_FORMAT)
    return wf_error_set(err,
                        "trace '%s' has layout version %llu; this weft reads versions 1 to %d "
                        "(a newer weft wrote it)",
                        r->path, version, WF_TRACE_FORMAT);
  return 0;
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
  if (is_h5 < 0) return wf_h5_corrupt(err, path, "not readable as HDF5");
  return 0;
}

/* Reads and checks everything at open: the root attributes, the layout version, every series
 * and table with their attributes and rows. */
static int load_all(wf_trace_reader *r, wf_error *err) {
  return load_root_attrs(r, err) || check_format(r, err) || load_series(r, err) ||
                 load_tables(r, 0, err) || load_tables(r, 1, err) || load_tables(r, 2, err)
             ? -1
             : 0;
}

void (*wf_trace_child_start)(void);

/* A version-1 trace keeps its string attributes in HDF5's global heap, which has no checksum;
 * HDF5 follows a damaged heap entry into a crash (or worse). So a child process reads the
 * whole file first: if it crashes or hangs, that is this error, and only a file the child read
 * whole is read here, where the same bytes and library give the same result. One fork per
 * version-1 trace opened. */
static int prove_in_child(wf_trace_reader *r, wf_error *err) {
  /* HDF5 can also loop on a damaged file. A whole read of a sound one takes far less than 10 s
   * and a second per 16 MiB; past that, the child is stopped and the file taken as damaged. */
  hsize_t size = 0;
  H5Fget_filesize(r->file, &size);
  unsigned limit = 10 + (unsigned)(size >> 24);
  int fds[2];
  if (pipe(fds) != 0)
    return wf_error_set(err, "trace '%s': cannot start the reader: %s", r->path, strerror(errno));
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return wf_error_set(err, "trace '%s': cannot start the reader: %s", r->path, strerror(errno));
  }
  if (pid == 0) {
    close(fds[0]);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 2); /* a sanitizer's report of a crash is not ours to print */
    /* A crash in HDF5 kills the child outright: no handler of the parent's (a sanitizer's, a
     * fuzzer's) is to report it as the parent's own. */
    static const int deadly[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM};
    for (size_t i = 0; i < sizeof deadly / sizeof *deadly; i++) signal(deadly[i], SIG_DFL);
    if (wf_trace_child_start) wf_trace_child_start();
    alarm(limit);
    wf_error e = {0};
    if (load_all(r, &e) == 0) _exit(0);
    for (size_t done = 0, len = strlen(e.msg); done < len;) {
      ssize_t w = write(fds[1], e.msg + done, len - done);
      if (w <= 0) break;
      done += (size_t)w;
    }
    _exit(3);
  }
  close(fds[1]);
  char msg[sizeof err->msg] = "";
  size_t k = 0;
  for (ssize_t got; k < sizeof msg - 1 && (got = read(fds[0], msg + k, sizeof msg - 1 - k));) {
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) break;
    k += (size_t)got;
  }
  msg[k] = 0;
  close(fds[0]);
  int status = 0;
  pid_t got;
  while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  if (got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  if (got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 3 && k)
    return wf_error_set(err, "%s", msg);
  if (got != pid) return wf_error_set(err, "trace '%s': the reader's child was lost", r->path);
  return wf_error_set(err,
                      "corrupted trace %s: HDF5 crashed reading it, or ran over %u s (a "
                      "version-1 trace, whose strings sit in HDF5's global heap, which has no "
                      "checksum)",
                      r->path, limit);
}

/* Opens path (a file, or the label of the image in fapl) and checks all of it. */
static wf_trace_reader *open_checked(const char *path, hid_t fapl, wf_error *err) {
  wf_trace_reader *r = calloc(1, sizeof *r);
  if (!r || !(r->path = wf_h5_dup(path))) {
    free(r);
    wf_error_set(err, "trace '%s': out of memory", path);
    return NULL;
  }
  r->file = fapl < 0 ? -1 : H5Fopen(path, H5F_ACC_RDONLY, fapl);
  htri_t v2 = r->file < 0 ? -1 : H5Aexists(r->file, "trace_format");
  if (r->file < 0)
    wf_h5_corrupt(err, path, "the file does not open");
  else if (v2 < 0)
    wf_h5_corrupt(err, path, "reading the root attributes");
  r->version = v2 > 0 ? 2 : 1;
  if (v2 < 0 || (v2 == 0 && prove_in_child(r, err) != 0) || load_all(r, err) != 0) {
    wf_trace_reader_close(r);
    return NULL;
  }
  return r;
}

wf_trace_reader *wf_trace_open(const char *path, wf_error *err) {
  wf_h5_silence();
  if (!path) return wf_error_set(err, "trace: no path given"), NULL;
  if (check_readable(path, err) != 0) return NULL;
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0 && H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
    H5Pclose(fapl);
    fapl = -1;
  }
  wf_trace_reader *r = open_checked(path, fapl, err);
  if (fapl >= 0) H5Pclose(fapl);
  return r;
}

wf_trace_reader *wf_trace_open_image(const void *image, size_t len, const char *label,
                                     wf_error *err) {
  wf_h5_silence();
  if (len < 8 || memcmp(image, "\211HDF\r\n\032\n", 8) != 0)
    return wf_error_set(err, "trace '%s' is not an HDF5 file", label), NULL;
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0 &&
      (H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 || H5Pset_fapl_core(fapl, 1 << 16, 0) < 0 ||
       H5Pset_file_image(fapl, (void *)image, len) < 0)) {
    H5Pclose(fapl);
    fapl = -1;
  }
  wf_trace_reader *r = open_checked(label, fapl, err);
  if (fapl >= 0) H5Pclose(fapl);
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
  char *text;
  wf_error ignored = {0}; /* every attribute was read once at open: only memory can fail */
  attr_text(r, o, obj, name, &text, &ignored);
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
    wf_h5_corrupt(err, r->path, "opening '%s'", path);
  } else if (size == 0 || (size_t)np > SIZE_MAX / size) {
    wf_error_set(err, "trace '%s': '%s' is too large to read", r->path, path);
  } else if (!(buf = calloc(np ? (size_t)np : 1, size))) {
    wf_error_set(err, "trace '%s': out of memory reading '%s'", r->path, path);
  } else if (np > 0 && read_sized(d, mtype, H5S_ALL, H5S_ALL, (hsize_t)np, buf) < 0) {
    wf_h5_corrupt(err, r->path, "reading '%s'", path);
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
    wf_h5_fail(err, r->path, "building a reader for column '%s' of '%s'", column, path);
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
    wf_h5_corrupt(err, r->path, "opening '%s'", path);
  else if (has_vlen(ftype))
    wf_error_set(err, "trace '%s': '%s' holds variable-length data, which has no raw form", r->path,
                 path);
  else if ((mt = H5Tget_native_type(ftype, H5T_DIR_ASCEND)) < 0 ||
           (H5Tget_class(mt) == H5T_COMPOUND && H5Tpack(mt) < 0))
    wf_h5_fail(err, r->path, "finding the native type of '%s'", path);
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
