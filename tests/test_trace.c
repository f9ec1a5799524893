/* The HDF5 trace (sim/trace.h) round-trips every attribute, series and column type exactly,
 * refuses bad input with a message instead of crashing, and `weft report` turns a trace into
 * a page with plots. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hdf5.h>

#include "report.h"
#include "trace.h"

/* ---- scratch directory ---- */

static char tmpdir[256];

static void rm_rf(const char *path) {
  DIR *d = opendir(path);
  if (!d) {
    remove(path);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
    rm_rf(sub);
  }
  closedir(d);
  rmdir(path);
}

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "%s/weft-test-trace-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  rm_rf(tmpdir);
  return 0;
}

static const char *tmp(const char *name) {
  static char paths[8][1024];
  static int next;
  char *p = paths[next++ % 8];
  snprintf(p, sizeof paths[0], "%s/%s", tmpdir, name);
  return p;
}

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && st.st_size > 0;
}

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)len + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
  buf[len] = 0;
  fclose(f);
  if (n) *n = (size_t)len;
  return buf;
}

static void spit(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

/* ---- a trace with every kind of content ---- */

/* Padding after `name` and before `delta` is deliberate: the file must not see it. */
typedef struct row {
  uint32_t id;
  char name[13];
  int64_t delta;
  uint64_t big;
  double x;
} row;

#define PACKED_ROW (4 + 13 + 8 + 8 + 8)
#define NROWS 10000
#define NSAMPLES 1000

static const wf_column row_cols[] = {
    {"id", WF_COL_U32, offsetof(row, id), sizeof(uint32_t), NULL},
    {"name", WF_COL_STR, offsetof(row, name), 13, NULL},
    {"delta", WF_COL_I64, offsetof(row, delta), sizeof(int64_t), "ns"},
    {"big", WF_COL_U64, offsetof(row, big), sizeof(uint64_t), "gas"},
    {"x", WF_COL_F64, offsetof(row, x), sizeof(double), "s"},
};

static row make_row(uint32_t i) {
  row r;
  memset(&r, 0xA5, sizeof r); /* garbage in padding and after the string's NUL */
  r.id = i;
  snprintf(r.name, sizeof r.name, "item-%u", i);
  r.delta = -(int64_t)i * 1000003 + (i % 2 ? INT64_MAX / 3 : INT64_MIN / 5);
  r.big = UINT64_MAX - i;
  r.x = i * 0.1 + 1e-300;
  return r;
}

static double sample(size_t i, int which) {
  return which ? (double)i * 1.5 - 7.25 : i * 0.01;
}

typedef struct hist_row {
  double lo, hi;
  uint64_t count;
} hist_row;

static const wf_column hist_cols[] = {
    {"lo", WF_COL_F64, offsetof(hist_row, lo), sizeof(double), NULL},
    {"hi", WF_COL_F64, offsetof(hist_row, hi), sizeof(double), NULL},
    {"count", WF_COL_U64, offsetof(hist_row, count), sizeof(uint64_t), "values"},
};

static char *big_text(void) {
  char *s = malloc(100001);
  assert_non_null(s);
  for (size_t i = 0; i < 100000; i++) s[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
  s[100000] = 0;
  return s;
}

static void write_series(wf_trace *t, const size_t *batches, size_t nbatches) {
  wf_error err = {0};
  int h[2] = {wf_trace_series_add(t, "time_s", "s", "sample times", &err),
              wf_trace_series_add(t, "events", "events/s", "events per simulated second", &err)};
  assert_true(h[0] >= 0 && h[1] >= 0);
  double v[2][NSAMPLES];
  for (size_t i = 0; i < NSAMPLES; i++) v[0][i] = sample(i, 0), v[1][i] = sample(i, 1);
  for (size_t b = 0, at = 0; b < nbatches; at += batches[b++])
    for (int s = 0; s < 2; s++)
      assert_int_equal(wf_trace_series_append(t, h[s], v[s] + at, batches[b], &err), 0);
  assert_false(err.set);
}

static void write_rows(wf_trace *t, const size_t *batches, size_t nbatches) {
  wf_error err = {0};
  wf_trace_table *tab =
      wf_trace_table_add(t, "records", "items", row_cols, 5, sizeof(row), "one row per item", &err);
  assert_non_null(tab);
  row *rows = malloc(NROWS * sizeof *rows);
  assert_non_null(rows);
  for (uint32_t i = 0; i < NROWS; i++) rows[i] = make_row(i);
  for (size_t b = 0, at = 0; b < nbatches; at += batches[b++])
    assert_int_equal(wf_trace_table_append(tab, rows + at, batches[b], &err), 0);
  free(rows);
  hist_row h[3] = {{0, 1, 5}, {1, 2, 7}, {1024, 1152, 3}};
  tab = wf_trace_table_add(t, "histograms", "latency", hist_cols, 3, sizeof(hist_row),
                           "time to commit", &err);
  assert_non_null(tab);
  assert_int_equal(wf_trace_table_append(tab, h, 3, &err), 0);
  assert_int_equal(wf_trace_obj_attr_str(t, "/histograms/latency", "units", "ns", &err), 0);
  assert_int_equal(wf_trace_obj_attr_f64(t, "/histograms/latency", "p99", 1100.5, &err), 0);
  assert_false(err.set);
}

static void write_trace(const char *path, const size_t *sb, size_t nsb, const size_t *rb,
                        size_t nrb) {
  wf_error err = {0};
  wf_trace *t = wf_trace_create(path, &err);
  assert_non_null(t);
  char *text = big_text();
  assert_int_equal(wf_trace_attr_str(t, "status", "running", &err), 0);
  assert_int_equal(wf_trace_attr_str(t, "scenario", "caf\xc3\xa9 <one> & \"two\"", &err), 0);
  assert_int_equal(wf_trace_attr_str(t, "scenario_text", text, &err), 0);
  assert_int_equal(wf_trace_attr_u64(t, "seed", UINT64_MAX, &err), 0);
  assert_int_equal(wf_trace_attr_i64(t, "offset", INT64_MIN, &err), 0);
  assert_int_equal(wf_trace_attr_f64(t, "ratio", 0.1, &err), 0);
  assert_int_equal(wf_trace_attr_str(t, "status", "ok", &err), 0); /* replaces, moves last */
  free(text);
  write_series(t, sb, nsb);
  write_rows(t, rb, nrb);
  assert_int_equal(wf_trace_obj_attr_str(t, "/series/events", "units", "ev/s", &err), 0);
  assert_int_equal(wf_trace_close(t, &err), 0);
  assert_false(err.set);
}

static const size_t series_batches[] = {1, 0, 99, 400, 500};
static const size_t row_batches[] = {1, 7, 4096, 3000, 0, 2896};

/* ---- round trip ---- */

static void check_attrs(wf_trace_reader *r) {
  static const char *const names[] = {"trace_format", "scenario", "scenario_text", "seed",
                                      "offset",       "ratio",    "status"};
  assert_int_equal(wf_trace_attr_count(r), 7);
  for (size_t i = 0; i < 7; i++) assert_string_equal(wf_trace_attr_name(r, i), names[i]);
  assert_null(wf_trace_attr_name(r, 7));
  assert_string_equal(wf_trace_attr_text(r, "trace_format"), "2");
  assert_string_equal(wf_trace_attr_text(r, "scenario"), "caf\xc3\xa9 <one> & \"two\"");
  char *text = big_text();
  assert_string_equal(wf_trace_attr_text(r, "scenario_text"), text);
  free(text);
  assert_string_equal(wf_trace_attr_text(r, "seed"), "18446744073709551615");
  assert_string_equal(wf_trace_attr_text(r, "offset"), "-9223372036854775808");
  assert_string_equal(wf_trace_attr_text(r, "ratio"), "0.10000000000000001");
  assert_string_equal(wf_trace_attr_text(r, "status"), "ok");
  assert_null(wf_trace_attr_text(r, "missing"));
}

static void check_series(wf_trace_reader *r) {
  wf_error err = {0};
  assert_int_equal(wf_trace_series_count(r), 2);
  assert_string_equal(wf_trace_series_name(r, 0), "events"); /* name order */
  assert_string_equal(wf_trace_series_name(r, 1), "time_s");
  assert_string_equal(wf_trace_series_units(r, 0), "ev/s");
  assert_string_equal(wf_trace_series_description(r, 0), "events per simulated second");
  assert_string_equal(wf_trace_series_units(r, 1), "s");
  for (size_t s = 0; s < 2; s++) {
    size_t n = 0;
    double *v = wf_trace_series_read(r, s, &n, &err);
    assert_non_null(v);
    assert_int_equal(n, NSAMPLES);
    for (size_t i = 0; i < n; i++) assert_true(v[i] == sample(i, s == 0));
    free(v);
  }
  assert_null(wf_trace_series_read(r, 2, NULL, &err));
  assert_true(err.set);
}

static void check_columns(wf_trace_reader *r) {
  wf_error err = {0};
  size_t nrows = 0, ncols = 0, n;
  assert_int_equal(wf_trace_table_count(r, "records"), 1);
  assert_string_equal(wf_trace_table_name(r, "records", 0), "items");
  assert_int_equal(wf_trace_table_shape(r, "records", "items", &nrows, &ncols, &err), 0);
  assert_int_equal(nrows, NROWS);
  assert_int_equal(ncols, 5);
  for (size_t c = 0; c < 5; c++)
    assert_string_equal(wf_trace_table_column_name(r, "records", "items", c), row_cols[c].name);
  assert_null(wf_trace_table_column_name(r, "records", "items", 5));
  double *id = wf_trace_table_column(r, "records", "items", "id", &n, &err);
  double *delta = wf_trace_table_column(r, "records", "items", "delta", &n, &err);
  double *x = wf_trace_table_column(r, "records", "items", "x", &n, &err);
  assert_true(id && delta && x && n == NROWS);
  for (uint32_t i = 0; i < NROWS; i++) {
    row want = make_row(i);
    assert_true(id[i] == (double)want.id && delta[i] == (double)want.delta && x[i] == want.x);
  }
  free(id);
  free(delta);
  free(x);
  assert_null(wf_trace_table_column(r, "records", "items", "name", &n, &err));
  assert_non_null(strstr(err.msg, "not numeric"));
}

static void check_raw_rows(wf_trace_reader *r) {
  wf_error err = {0};
  size_t nbytes = 0;
  unsigned char *raw = wf_trace_read_raw(r, "/records/items", &nbytes, &err);
  assert_non_null(raw);
  assert_int_equal(nbytes, (size_t)NROWS * PACKED_ROW);
  for (uint32_t i = 0; i < NROWS; i++) {
    row want = make_row(i), got;
    const unsigned char *p = raw + (size_t)i * PACKED_ROW;
    char name[13] = {0};
    snprintf(name, sizeof name, "item-%u", i); /* NUL-padded: the 0xA5 tail is gone */
    memcpy(&got.id, p, 4);
    memcpy(&got.delta, p + 17, 8);
    memcpy(&got.big, p + 25, 8);
    memcpy(&got.x, p + 33, 8);
    assert_memory_equal(p + 4, name, 13);
    assert_true(got.id == want.id && got.delta == want.delta && got.big == want.big);
    assert_memory_equal(&got.x, &want.x, sizeof(double));
  }
  free(raw);
}

static void check_hist(wf_trace_reader *r) {
  wf_error err = {0};
  size_t n;
  assert_int_equal(wf_trace_table_count(r, "histograms"), 1);
  double *count = wf_trace_table_column(r, "histograms", "latency", "count", &n, &err);
  assert_non_null(count);
  assert_int_equal(n, 3);
  assert_true(count[0] == 5 && count[1] == 7 && count[2] == 3);
  free(count);
  assert_string_equal(wf_trace_obj_attr_text(r, "/histograms/latency", "units"), "ns");
  assert_string_equal(wf_trace_obj_attr_text(r, "/histograms/latency", "p99"), "1100.5");
  assert_string_equal(wf_trace_obj_attr_text(r, "/histograms/latency", "column_units"),
                      "count=values");
  assert_string_equal(wf_trace_obj_attr_text(r, "/records/items", "column_units"),
                      "delta=ns;big=gas;x=s");
  assert_string_equal(wf_trace_obj_attr_text(r, "/records/items", "description"),
                      "one row per item");
  assert_null(wf_trace_obj_attr_text(r, "/histograms/latency", "nope"));
  assert_null(wf_trace_obj_attr_text(r, "/histograms/nope", "units"));
}

static void test_roundtrip(void **state) {
  (void)state;
  const char *path = tmp("roundtrip.h5");
  write_trace(path, series_batches, 5, row_batches, 6);
  wf_error err = {0};
  wf_trace_reader *r = wf_trace_open(path, &err);
  assert_non_null(r);
  check_attrs(r);
  check_series(r);
  check_columns(r);
  check_raw_rows(r);
  check_hist(r);
  wf_trace_reader_close(r);
}

/* ---- raw equality and determinism ---- */

static void assert_raw_equal(wf_trace_reader *a, wf_trace_reader *b, const char *dataset) {
  wf_error err = {0};
  size_t na = 0, nb = 0;
  void *ra = wf_trace_read_raw(a, dataset, &na, &err),
       *rb = wf_trace_read_raw(b, dataset, &nb, &err);
  assert_true(ra && rb);
  assert_int_equal(na, nb);
  assert_memory_equal(ra, rb, na);
  free(ra);
  free(rb);
}

static void test_raw_equal(void **state) {
  (void)state;
  static const size_t other_series[] = {NSAMPLES};
  static const size_t other_rows[] = {5000, 5000};
  const char *p1 = tmp("raw1.h5"), *p2 = tmp("raw2.h5"), *p3 = tmp("raw3.h5");
  write_trace(p1, series_batches, 5, row_batches, 6);
  write_trace(p2, other_series, 1, other_rows, 2);
  write_trace(p3, series_batches, 5, row_batches, 6);
  wf_error err = {0};
  wf_trace_reader *a = wf_trace_open(p1, &err), *b = wf_trace_open(p2, &err);
  assert_true(a && b);
  assert_raw_equal(a, b, "/series/time_s");
  assert_raw_equal(a, b, "series/events");
  assert_raw_equal(a, b, "/records/items");
  assert_raw_equal(a, b, "/histograms/latency");
  assert_null(wf_trace_read_raw(a, "/records/none", NULL, &err));
  assert_non_null(strstr(err.msg, "/records/none"));
  wf_trace_reader_close(a);
  wf_trace_reader_close(b);
  /* The same writes give the same bytes: no timestamps, no uninitialised padding. */
  size_t n1, n3;
  char *f1 = slurp(p1, &n1), *f3 = slurp(p3, &n3);
  assert_int_equal(n1, n3);
  assert_memory_equal(f1, f3, n1);
  free(f1);
  free(f3);
}

/* ---- bad input ---- */

static void expect_open_error(const char *path, const char *fragment) {
  wf_error err = {0};
  assert_null(wf_trace_open(path, &err));
  assert_true(err.set);
  assert_non_null(strstr(err.msg, path));
  if (fragment && !strstr(err.msg, fragment)) fail_msg("'%s' lacks '%s'", err.msg, fragment);
}

static void test_open_errors(void **state) {
  (void)state;
  expect_open_error(tmp("missing.h5"), "No such file");
  expect_open_error(tmpdir, "not a regular file");
  char garbage[4096];
  for (size_t i = 0; i < sizeof garbage; i++) garbage[i] = (char)(i * 7919 % 251);
  spit(tmp("garbage.h5"), garbage, sizeof garbage);
  expect_open_error(tmp("garbage.h5"), "not an HDF5 file");
  spit(tmp("empty.h5"), "", 0);
  expect_open_error(tmp("empty.h5"), "not an HDF5 file");
  /* A valid signature followed by noise: HDF5 itself must reject it, quietly. */
  memcpy(garbage, "\x89HDF\r\n\x1a\n", 8);
  spit(tmp("badsuper.h5"), garbage, sizeof garbage);
  expect_open_error(tmp("badsuper.h5"), NULL);
}

static void test_truncated(void **state) {
  (void)state;
  const char *full = tmp("full.h5"), *cut = tmp("cut.h5");
  write_trace(full, series_batches, 5, row_batches, 6);
  size_t n;
  char *bytes = slurp(full, &n);
  for (size_t len = 0; len < n; len += len < 4096 ? 61 : 997) {
    spit(cut, bytes, len);
    expect_open_error(cut, NULL);
  }
  spit(cut, bytes, n - 1);
  expect_open_error(cut, NULL);
  free(bytes);
}

/* A damaged copy of a fresh trace is reported as corrupted, never read as numbers: every
 * object header with one byte flipped (metadata has checksums), a byte of a series' values
 * flipped (Fletcher32 on every chunk), the superblock damaged, the file cut short. The failed
 * open leaves no file or object of it open in HDF5. */
static void expect_corrupted(const char *path, const char *what) {
  wf_error err = {0};
  wf_trace_reader *r = wf_trace_open(path, &err);
  if (r) fail_msg("%s: opened", what);
  ssize_t left = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (left != 0) fail_msg("%s: %zd HDF5 files or objects left open", what, left);
  char want[600];
  snprintf(want, sizeof want, "corrupted trace %s: ", path);
  if (strncmp(err.msg, want, strlen(want)) != 0) fail_msg("%s: '%s'", what, err.msg);
}

static size_t find_bytes(const char *hay, size_t n, const void *needle, size_t len, size_t from) {
  for (size_t i = from; i + len <= n; i++)
    if (memcmp(hay + i, needle, len) == 0) return i;
  return SIZE_MAX;
}

static void damaged(const char *bytes, size_t n, size_t at, const char *what) {
  char *copy = malloc(n);
  assert_non_null(copy);
  memcpy(copy, bytes, n);
  copy[at] ^= 0x10;
  spit(tmp("damaged.h5"), copy, n);
  free(copy);
  expect_corrupted(tmp("damaged.h5"), what);
}

static void test_damage(void **state) {
  (void)state;
  const char *full = tmp("fresh.h5");
  write_trace(full, series_batches, 5, row_batches, 6);
  size_t n;
  char *bytes = slurp(full, &n);
  int headers = 0;
  for (size_t at = 0; (at = find_bytes(bytes, n, "OHDR", 4, at)) != SIZE_MAX; at += 4, headers++)
    damaged(bytes, n, at + 6, "a flipped byte in an object header");
  assert_true(headers >= 6); /* the root, four groups, the series and tables */
  damaged(bytes, n, 20, "a flipped byte in the superblock");
  double v = sample(500, 1);
  size_t at = find_bytes(bytes, n, &v, sizeof v, 0);
  assert_true(at != SIZE_MAX);
  damaged(bytes, n, at + 3, "a flipped byte in a series' values");
  for (size_t len = n / 2; len < n; len += (n - len + 1) / 2) {
    spit(tmp("damaged.h5"), bytes, len);
    expect_corrupted(tmp("damaged.h5"), "the file cut short");
  }
  free(bytes);
}

static void test_writer_errors(void **state) {
  (void)state;
  wf_error err = {0};
  assert_null(wf_trace_create(tmp("no/such/dir/x.h5"), &err));
  assert_non_null(strstr(err.msg, "no/such/dir/x.h5"));
  wf_error_clear(&err);
  wf_trace *t = wf_trace_create(tmp("errors.h5"), &err);
  assert_non_null(t);
  assert_true(wf_trace_series_add(t, "a", "s", "", &err) >= 0);
  assert_int_equal(wf_trace_series_add(t, "a", "s", "", &err), -1);
  assert_non_null(strstr(err.msg, "twice"));
  wf_error_clear(&err);
  assert_int_equal(wf_trace_series_add(t, "a/b", "s", "", &err), -1);
  wf_error_clear(&err);
  assert_int_equal(wf_trace_series_append(t, 7, NULL, 1, &err), -1);
  wf_error_clear(&err);
  assert_null(wf_trace_table_add(t, "tables", "x", row_cols, 5, sizeof(row), "", &err));
  assert_non_null(strstr(err.msg, "'tables'"));
  wf_error_clear(&err);
  assert_null(wf_trace_table_add(t, "records", "x", row_cols, 5, 20, "", &err));
  assert_non_null(strstr(err.msg, "outside"));
  wf_error_clear(&err);
  wf_column bad = {"n", WF_COL_U64, 0, 4, NULL};
  assert_null(wf_trace_table_add(t, "records", "x", &bad, 1, 8, "", &err));
  assert_non_null(strstr(err.msg, "size 4"));
  wf_error_clear(&err);
  assert_int_equal(wf_trace_obj_attr_str(t, "/records/none", "units", "s", &err), -1);
  assert_non_null(strstr(err.msg, "/records/none"));
  wf_error_clear(&err);
  assert_int_equal(wf_trace_close(t, &err), 0);
  /* What was written before the errors is still a readable trace. */
  wf_trace_reader *r = wf_trace_open(tmp("errors.h5"), &err);
  assert_non_null(r);
  assert_int_equal(wf_trace_series_count(r), 1);
  wf_trace_reader_close(r);
}

/* ---- report ---- */

static int have_gnuplot(void) {
  const char *path = getenv("PATH");
  char cand[1024];
  for (const char *p = path ? path : ""; *p;) {
    size_t len = strcspn(p, ":");
    snprintf(cand, sizeof cand, "%.*s/gnuplot", (int)len, p);
    if (access(cand, X_OK) == 0) return 1;
    p += len + (p[len] == ':');
  }
  return 0;
}

static void test_report(void **state) {
  (void)state;
  const char *trace = tmp("rep.h5"), *dir = tmp("rep-out/nested");
  write_trace(trace, series_batches, 5, row_batches, 6);
  wf_error err = {0};
  int rc = wf_report_write(trace, dir, &err);
  char path[1024];
  snprintf(path, sizeof path, "%s/index.html", dir);
  assert_true(file_exists(path));
  char *html = slurp(path, NULL);
  assert_non_null(strstr(html, "caf\xc3\xa9 &lt;one&gt; &amp; &quot;two&quot;"));
  assert_null(strstr(html, "<one>"));
  assert_non_null(strstr(html, "<code>items</code>"));
  assert_non_null(strstr(html, "delta [ns]"));
  int linked =
      strstr(html, "src=\"series-events.png\"") && strstr(html, "src=\"hist-latency.png\"");
  free(html);
  snprintf(path, sizeof path, "%s/series-events.dat", dir);
  assert_true(file_exists(path));
  if (!have_gnuplot()) skip();
  assert_int_equal(rc, 0);
  assert_true(linked);
  snprintf(path, sizeof path, "%s/series-events.png", dir);
  assert_true(file_exists(path));
  snprintf(path, sizeof path, "%s/hist-latency.png", dir);
  assert_true(file_exists(path));
}

static void test_report_without_gnuplot(void **state) {
  (void)state;
  const char *trace = tmp("nognu.h5"), *dir = tmp("nognu");
  write_trace(trace, series_batches, 5, row_batches, 6);
  setenv("WEFT_GNUPLOT", "/nonexistent/gnuplot", 1);
  wf_error err = {0};
  int rc = wf_report_write(trace, dir, &err);
  unsetenv("WEFT_GNUPLOT");
  assert_int_equal(rc, -1);
  assert_non_null(strstr(err.msg, "gnuplot not found"));
  char path[1024];
  snprintf(path, sizeof path, "%s/index.html", dir);
  assert_true(file_exists(path));
  char *html = slurp(path, NULL);
  assert_non_null(strstr(html, "Plots were not drawn"));
  free(html);
}

static int run_main(int argc, const char **argv) {
  return wf_report_main(argc, (char **)argv);
}

static void test_report_main(void **state) {
  (void)state;
  const char *help[] = {"report", "--help"};
  assert_int_equal(run_main(2, help), 0);
  const char *none[] = {"report"};
  assert_int_equal(run_main(1, none), 2);
  const char *bad[] = {"report", "--bogus", "x.h5"};
  assert_int_equal(run_main(3, bad), 2);
  const char *noarg[] = {"report", "x.h5", "-o"};
  assert_int_equal(run_main(3, noarg), 2);
  const char *missing[] = {"report", tmp("absent.h5")};
  assert_int_equal(run_main(2, missing), 1);
  spit(tmp("notatrace.h5"), "plain text, not HDF5\n", 20);
  const char *garbage[] = {"report", tmp("notatrace.h5")};
  assert_int_equal(run_main(2, garbage), 1);
  /* The default output directory is the trace path without .h5. */
  const char *trace = tmp("main-20261121.h5");
  write_trace(trace, series_batches, 5, row_batches, 6);
  const char *dflt[] = {"report", trace};
  int rc = run_main(2, dflt);
  assert_true(file_exists(tmp("main-20261121/index.html")));
  if (have_gnuplot()) assert_int_equal(rc, 0);
  /* `weft run --report` passes no directory: the same default applies. */
  wf_error err = {0};
  write_trace(tmp("after-run.h5"), series_batches, 5, row_batches, 6);
  rc = wf_report_write(tmp("after-run.h5"), NULL, &err);
  assert_true(file_exists(tmp("after-run/index.html")));
  if (have_gnuplot()) assert_int_equal(rc, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),   cmocka_unit_test(test_raw_equal),
      cmocka_unit_test(test_open_errors), cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_damage),      cmocka_unit_test(test_writer_errors),
      cmocka_unit_test(test_report),      cmocka_unit_test(test_report_without_gnuplot),
      cmocka_unit_test(test_report_main),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
