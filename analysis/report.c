/* `weft report`: reads a trace through sim/trace.h, has report_plot.c write data files and the
 * gnuplot script, runs gnuplot once, and has report_html.c write the page. Also the
 * subcommand's command line. */
#include "report.h"

#include "path.h"
#include "report_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int wf_report_path(char *buf, size_t cap, const char *dir, const char *file) {
  size_t len = strlen(dir);
  int n = snprintf(buf, cap, "%s%s%s", dir, len && dir[len - 1] == '/' ? "" : "/", file);
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int file_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

/* A file stem from a trace name: characters outside [A-Za-z0-9._-] become '_', and a name that
 * needed changing gets its index appended, so two names never share files. */
void wf_report_stem(char *stem, size_t cap, const char *prefix, const char *name, size_t idx) {
  size_t n = (size_t)snprintf(stem, cap, "%s-", prefix);
  int changed = 0;
  for (const char *p = name; *p; p++) {
    if (n + 24 >= cap) { /* room left for "-<index>" */
      changed = 1;
      break;
    }
    changed |= !file_char_ok(*p);
    stem[n++] = file_char_ok(*p) ? *p : '_';
  }
  stem[n] = 0;
  if (changed) snprintf(stem + n, cap - n, "-%zu", idx);
}

/* ---- reading the trace into plots ---- */

static int load_time(wf_report *rp, wf_error *err) {
  for (size_t i = 0; i < wf_trace_series_count(rp->r); i++)
    if (!strcmp(wf_trace_series_name(rp->r, i), "time_s")) {
      rp->time = wf_trace_series_read(rp->r, i, &rp->ntime, err);
      return rp->time ? 0 : -1;
    }
  return 0;
}

static int plot_all_series(wf_report *rp, FILE *gp, wf_error *err) {
  size_t n = wf_trace_series_count(rp->r);
  if (!(rp->series = calloc(n ? n : 1, sizeof *rp->series)))
    return wf_error_set(err, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const char *name = wf_trace_series_name(rp->r, i);
    if (!strcmp(name, "time_s")) continue; /* it is the x axis */
    wf_report_item *it = &rp->series[rp->nseries++];
    it->name = name;
    it->units = wf_trace_series_units(rp->r, i);
    it->description = wf_trace_series_description(rp->r, i);
    wf_report_stem(it->stem, sizeof it->stem, "series", name, i);
    double *v = wf_trace_series_read(rp->r, i, &it->n, err);
    int rc = v ? wf_report_plot_series(rp, gp, it, v, err) : -1;
    free(v);
    if (rc != 0) return -1;
  }
  return 0;
}

static int plot_hist(wf_report *rp, FILE *gp, wf_report_item *it, wf_error *err) {
  static const char *const cols[3] = {"lo", "hi", "count"};
  double *v[3] = {NULL, NULL, NULL};
  size_t n[3] = {0, 0, 0};
  int rc = 0;
  for (int c = 0; c < 3 && rc == 0; c++) {
    v[c] = wf_trace_table_column(rp->r, "histograms", it->name, cols[c], &n[c], err);
    if (!v[c]) rc = -1;
  }
  it->n = n[0];
  if (rc == 0) rc = wf_report_plot_hist(rp, gp, it, v[0], v[1], v[2], err);
  for (int c = 0; c < 3; c++) free(v[c]);
  return rc;
}

static int plot_all_hists(wf_report *rp, FILE *gp, wf_error *err) {
  size_t n = wf_trace_table_count(rp->r, "histograms");
  if (!(rp->hists = calloc(n ? n : 1, sizeof *rp->hists)))
    return wf_error_set(err, "out of memory");
  for (size_t i = 0; i < n; i++) {
    wf_report_item *it = &rp->hists[rp->nhists++];
    char obj[300];
    it->name = wf_trace_table_name(rp->r, "histograms", i);
    snprintf(obj, sizeof obj, "/histograms/%s", it->name);
    it->description = wf_trace_obj_attr_text(rp->r, obj, "description");
    if (!it->description) it->description = "";
    it->units = wf_trace_obj_attr_text(rp->r, obj, "units");
    if (!it->units) it->units = "";
    wf_report_stem(it->stem, sizeof it->stem, "hist", it->name, i);
    if (plot_hist(rp, gp, it, err) != 0) return -1;
  }
  return 0;
}

static int write_data(wf_report *rp, wf_error *err) {
  FILE *gp = wf_report_script_open(rp, err);
  if (!gp) return -1;
  int rc = load_time(rp, err);
  if (rc == 0) rc = plot_all_series(rp, gp, err);
  if (rc == 0) rc = wf_report_plot_panels(rp, gp, err);
  if (rc == 0) rc = plot_all_hists(rp, gp, err);
  int bad = ferror(gp);
  if (fclose(gp) != 0 || bad) rc = wf_error_set(err, "writing '%s/plots.gp' failed", rp->outdir);
  return rc;
}

/* ---- drawing ---- */

static int png_path(const wf_report *rp, const wf_report_item *it, char *path, size_t cap) {
  char file[160];
  snprintf(file, sizeof file, "%s.png", it->stem);
  return wf_report_path(path, cap, rp->outdir, file);
}

static void check_drawn(wf_report *rp, wf_report_item *items, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char path[4096];
    struct stat st;
    items[i].drawn = items[i].n && png_path(rp, &items[i], path, sizeof path) == 0 &&
                     stat(path, &st) == 0 && st.st_size > 0;
    if (items[i].n && !items[i].drawn && !rp->plot_problem[0])
      snprintf(rp->plot_problem, sizeof rp->plot_problem,
               "gnuplot did not write %s.png; see %s/gnuplot.log", items[i].stem, rp->outdir);
  }
}

/* Old PNGs are removed first, so a page never shows a plot from an earlier report. */
static void draw(wf_report *rp) {
  size_t plots = 0;
  wf_report_item *lists[2] = {rp->series, rp->hists};
  size_t counts[2] = {rp->nseries, rp->nhists};
  for (int l = 0; l < 2; l++)
    for (size_t i = 0; i < counts[l]; i++) {
      char path[4096];
      if (png_path(rp, &lists[l][i], path, sizeof path) == 0) remove(path);
      plots += lists[l][i].n > 0;
    }
  if (!plots) return;
  if (wf_report_run_gnuplot(rp->outdir, rp->plot_problem, sizeof rp->plot_problem) != 0) return;
  for (int l = 0; l < 2; l++) check_drawn(rp, lists[l], counts[l]);
  for (size_t i = 0; i < rp->npanels; i++) {
    char file[200], path[4096];
    struct stat st;
    snprintf(file, sizeof file, "%s.png", rp->panels[i].stem);
    rp->panels[i].drawn = wf_report_path(path, sizeof path, rp->outdir, file) == 0 &&
                          stat(path, &st) == 0 && st.st_size > 0;
  }
}

/* results/x.h5 -> results/x; anything else gets "-report" appended. */
char *wf_report_default_dir(const char *trace) {
  size_t len = strlen(trace);
  int strip = len > 3 && !strcmp(trace + len - 3, ".h5") && trace[len - 4] != '/';
  char *dir = malloc(len + sizeof "-report");
  if (!dir) return NULL;
  if (strip)
    snprintf(dir, len + 1, "%.*s", (int)(len - 3), trace);
  else
    snprintf(dir, len + sizeof "-report", "%s-report", trace);
  return dir;
}

int wf_report_write(const char *h5path, const char *outdir, wf_error *err) {
  if (!h5path) return wf_error_set(err, "report: no trace given");
  char *dflt = outdir ? NULL : wf_report_default_dir(h5path);
  if (!outdir && !(outdir = dflt)) return wf_error_set(err, "out of memory");
  wf_report rp = {.h5path = h5path, .outdir = outdir};
  if (!(rp.r = wf_trace_open(h5path, err))) {
    free(dflt);
    return -1;
  }
  int rc = wf_mkdirs(outdir, err);
  if (rc == 0) rc = write_data(&rp, err);
  if (rc == 0) draw(&rp);
  if (rc == 0) rc = wf_report_html(&rp, err);
  if (rc == 0 && rp.plot_problem[0])
    rc = wf_error_set(err, "%s (index.html and the data files were written to %s)", rp.plot_problem,
                      outdir);
  free(rp.time);
  free(rp.series);
  free(rp.panels);
  free(rp.hists);
  free(dflt);
  wf_trace_reader_close(rp.r);
  return rc;
}

/* ---- command line ---- */

static const char USAGE[] =
    "usage: weft report FILE.h5 [-o DIR]\n"
    "       weft report SWEEP_DIR [-o DIR]\n"
    "\n"
    "Turns one weft trace into plots and a single self-contained HTML page.\n"
    "\n"
    "  FILE.h5              the trace of a run (HDF5, layout in analysis/SCHEMA.md)\n"
    "  -o, --output DIR     directory to write, created if missing; default: FILE.h5 without\n"
    "                       its .h5 suffix (results/x-20261121.h5 -> results/x-20261121/),\n"
    "                       or FILE-report when FILE does not end in .h5\n"
    "  SWEEP_DIR            the folder of a sweep (weft sweep -o SWEEP_DIR): its page goes\n"
    "                       to SWEEP_DIR/index.html (or DIR): each headline figure per grid\n"
    "                       point and against each grid parameter, seeds as mean and 95%\n"
    "                       interval, failed points marked, and each point's own report\n"
    "  -h, --help           print this help and exit\n"
    "\n"
    "Writes DIR/index.html (run metadata, parameters, scenario script, plots and a summary\n"
    "of the record tables), per series DIR/series-NAME.dat and .png (against simulated time\n"
    "from /series/time_s), per histogram DIR/hist-NAME.dat and .png (log-scale x), and\n"
    "DIR/plots.gp, the gnuplot script; `gnuplot plots.gp` in DIR redraws the plots.\n"
    "\n"
    "Needs gnuplot in PATH (Debian: gnuplot-nox); the environment variable WEFT_GNUPLOT\n"
    "names another gnuplot executable. Without gnuplot the page and data are still written\n"
    "and the command fails saying so.\n"
    "\n"
    "Exit status: 0 done; 1 the trace could not be read, the report could not be written or\n"
    "gnuplot failed; 2 bad command line.\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("weft report: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs(" (see 'weft report --help')\n", stderr);
  return 2;
}

int wf_report_main(int argc, char **argv) {
  const char *trace = NULL, *out = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(USAGE, stdout);
      return 0;
    } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
      if (i + 1 >= argc) return usage_error("option '%s' needs a directory", a);
      out = argv[++i];
    } else if (!strncmp(a, "--output=", 9)) {
      out = a + 9;
    } else if (a[0] == '-' && a[1]) {
      return usage_error("unknown option '%s'", a);
    } else if (!trace) {
      trace = a;
    } else {
      return usage_error("unexpected argument '%s': one trace file at a time", a);
    }
  }
  if (!trace) return usage_error("no trace file given");
  if (out && !*out) return usage_error("empty output directory");
  struct stat st;
  if (stat(trace, &st) == 0 && S_ISDIR(st.st_mode)) { /* a sweep's folder */
    wf_error err = {0};
    if (wf_report_sweep(trace, out, &err) != 0)
      return fprintf(stderr, "weft report: %s\n", err.msg), 1;
    printf("weft report: wrote %s/index.html\n", out ? out : trace);
    return 0;
  }
  char *dflt = out ? NULL : wf_report_default_dir(trace);
  if (!out && !dflt) return fputs("weft report: out of memory\n", stderr), 1;
  wf_error err = {0};
  int rc = wf_report_write(trace, out ? out : dflt, &err);
  if (rc != 0)
    fprintf(stderr, "weft report: %s\n", err.msg);
  else
    printf("weft report: wrote %s/index.html\n", out ? out : dflt);
  free(dflt);
  return rc != 0;
}
