/* `weft report SWEEP_DIR`: a sweep on one page. Each headline figure against each grid
 * parameter that varies (the other parameters' combinations as separate lines), the seeds of
 * a point aggregated as their mean with a 95% confidence interval (Student's t), failed points
 * marked and left out, a table of the figures per grid point, and the index linking each
 * point's own report (written beside its trace). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report.h"
#include "report_internal.h"
#include "cli/sweep_index.h"

#define MAX_FIGURES 256

typedef struct point {
  char **values; /* the grid keys' values (the row's cells) */
  const char *status, *trace, *seed;
  int ok;      /* completed, with a readable trace */
  double *fig; /* per figure name, NaN where absent */
} point;

typedef struct sweep_page {
  const char *dir, *outdir;
  wf_csv csv;
  size_t key0, nkeys; /* grid key columns: [key0, key0 + nkeys) */
  point *pts;
  char names[MAX_FIGURES][65], units[MAX_FIGURES][33];
  size_t nfig;
  int varies[64];
  FILE *gp;
} sweep_page;

/* Student's t for a two-sided 95% interval with df degrees of freedom. */
static double t95(size_t df) {
  static const double t[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                             2.306, 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                             2.120, 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                             2.064, 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  return df < sizeof t / sizeof *t ? t[df] : 1.96;
}

static size_t figure_index(sweep_page *s, const char *name, const char *units) {
  for (size_t i = 0; i < s->nfig; i++)
    if (!strcmp(s->names[i], name)) return i;
  if (s->nfig == MAX_FIGURES) return MAX_FIGURES;
  snprintf(s->names[s->nfig], sizeof s->names[0], "%s", name);
  snprintf(s->units[s->nfig], sizeof s->units[0], "%s", units);
  return s->nfig++;
}

/* Reads every completed point's figures and writes its own report beside its trace. */
static int load_points(sweep_page *s, wf_error *err) {
  const wf_csv *t = &s->csv;
  size_t c_trace = t->ncols - 5, c_status = t->ncols - 4;
  s->pts = calloc(t->nrows ? t->nrows : 1, sizeof *s->pts);
  if (!s->pts) return wf_error_set(err, "out of memory");
  for (size_t r = 0; r < t->nrows; r++) {
    point *p = &s->pts[r];
    p->values = t->cell[r] + s->key0;
    p->seed = t->cell[r][1];
    p->status = t->cell[r][c_status];
    p->trace = t->cell[r][c_trace];
    if (!(p->fig = malloc(MAX_FIGURES * sizeof *p->fig))) return wf_error_set(err, "out of memory");
    for (size_t i = 0; i < MAX_FIGURES; i++) p->fig[i] = NAN;
    if (strcmp(p->status, "completed") || !*p->trace) continue;
    char path[4096];
    if (wf_report_path(path, sizeof path, s->dir, p->trace) != 0) continue;
    wf_error e = {0};
    wf_trace_reader *rd = wf_trace_open(path, &e);
    wf_report_figure *fig = NULL;
    size_t n = 0;
    if (rd && wf_report_figures(rd, &fig, &n) == 0) {
      p->ok = 1;
      for (size_t i = 0; i < n; i++) {
        size_t k = figure_index(s, fig[i].name, fig[i].units);
        if (k < MAX_FIGURES) p->fig[k] = fig[i].value;
      }
    }
    free(fig);
    wf_trace_reader_close(rd);
    if (p->ok && wf_report_write(path, NULL, &e) != 0)
      fprintf(stderr, "weft report: point %s: %s\n", t->cell[r][0], e.msg);
  }
  return 0;
}

/* Do points a and b hold the same values for every grid key but `skip` (SIZE_MAX: none)? */
static int same_but(const sweep_page *s, const point *a, const point *b, size_t skip) {
  for (size_t k = 0; k < s->nkeys; k++)
    if (k != skip && strcmp(a->values[k], b->values[k])) return 0;
  return 1;
}

/* The mean and 95% half-width of figure f over the completed points like p in every key. */
static void aggregate(const sweep_page *s, const point *p, size_t f, double *mean, double *half,
                      size_t *n) {
  double sum = 0, sq = 0;
  *n = 0;
  for (size_t r = 0; r < s->csv.nrows; r++) {
    const point *q = &s->pts[r];
    if (!q->ok || !isfinite(q->fig[f]) || !same_but(s, p, q, (size_t)-1)) continue;
    sum += q->fig[f], sq += q->fig[f] * q->fig[f], (*n)++;
  }
  *mean = *n ? sum / (double)*n : NAN;
  double var = *n > 1 ? (sq - sum * sum / (double)*n) / (double)(*n - 1) : NAN;
  *half = *n > 1 && var > 0 ? t95(*n - 1) * sqrt(var / (double)*n) : (*n > 1 ? 0 : NAN);
}

/* First row (in index order) of each distinct grid point. */
static int first_of_point(const sweep_page *s, size_t r) {
  for (size_t q = 0; q < r; q++)
    if (same_but(s, &s->pts[q], &s->pts[r], (size_t)-1)) return 0;
  return 1;
}

static void figures_table(FILE *f, sweep_page *s) {
  fputs("<h2 id=\"figures\">Figures per grid point</h2>\n<p>Mean over the point's completed "
        "seeds &plusmn; the half-width of its 95% confidence interval (Student's t; none with "
        "one seed).</p>\n<table>\n<tr>",
        f);
  for (size_t k = 0; k < s->nkeys; k++) {
    fputs("<th>", f);
    wf_report_esc(f, s->csv.head[s->key0 + k]);
    fputs("</th>", f);
  }
  fputs("<th>seeds</th>", f);
  for (size_t i = 0; i < s->nfig; i++) {
    fputs("<th>", f);
    wf_report_esc(f, s->names[i]);
    if (*s->units[i]) fputs(" (", f), wf_report_esc(f, s->units[i]), fputs(")", f);
    fputs("</th>", f);
  }
  fputs("</tr>\n", f);
  for (size_t r = 0; r < s->csv.nrows; r++) {
    if (!first_of_point(s, r)) continue;
    fputs("<tr>", f);
    for (size_t k = 0; k < s->nkeys; k++) {
      fputs("<td>", f);
      wf_report_esc(f, s->pts[r].values[k]);
      fputs("</td>", f);
    }
    size_t n = 0;
    double m, h;
    aggregate(s, &s->pts[r], 0, &m, &h, &n);
    fprintf(f, "<td class=\"num\">%zu</td>", n);
    for (size_t i = 0; i < s->nfig; i++) {
      aggregate(s, &s->pts[r], i, &m, &h, &n);
      fputs("<td class=\"num\">", f);
      wf_report_put_sig(f, m, 5);
      if (isfinite(h)) fputs(" &plusmn; ", f), wf_report_put_sig(f, h, 2);
      fputs("</td>", f);
    }
    fputs("</tr>\n", f);
  }
  fputs("</table>\n", f);
}

/* Figure i against grid key `key`: one line per combination of the other keys. */
static void plot_figure(FILE *f, sweep_page *s, size_t i, size_t key, size_t idx) {
  char stem[200], name[160], path[4096];
  snprintf(name, sizeof name, "%s-vs-%s", s->names[i], s->csv.head[s->key0 + key]);
  wf_report_stem(stem, sizeof stem, "sweep", name, idx);
  fprintf(s->gp, "\nreset\nset output '%s.png'\nset title ", stem);
  wf_report_gp_quote(s->gp, name);
  fputs(" font ',11'\nset border 3\nset tics nomirror out\nset grid lc rgb '#dadada'\n"
        "set key outside right top\nset offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n"
        "set xlabel ",
        s->gp);
  wf_report_gp_quote(s->gp, s->csv.head[s->key0 + key]);
  fputs("\nset ylabel ", s->gp);
  wf_report_gp_quote(s->gp, *s->units[i] ? s->units[i] : s->names[i]);
  fputs("\nplot ", s->gp);
  size_t lines = 0;
  for (size_t r = 0; r < s->csv.nrows; r++) {
    /* A line per combination of the other keys, first met at row r. */
    int seen = 0;
    for (size_t q = 0; q < r && !seen; q++) seen = same_but(s, &s->pts[q], &s->pts[r], key);
    if (seen) continue;
    char file[260];
    snprintf(file, sizeof file, "%s-%zu.dat", stem, lines);
    FILE *d = wf_report_path(path, sizeof path, s->outdir, file) == 0 ? fopen(path, "w") : NULL;
    if (!d) continue;
    char title[300] = "";
    size_t tl = 0;
    for (size_t k = 0; k < s->nkeys; k++)
      if (k != key && s->varies[k])
        tl += (size_t)snprintf(title + tl, tl < sizeof title ? sizeof title - tl : 0, "%s%s=%s",
                               tl ? " " : "", s->csv.head[s->key0 + k], s->pts[r].values[k]);
    int numeric = 1, col = 0;
    for (size_t q = r; q < s->csv.nrows; q++) {
      if (!same_but(s, &s->pts[q], &s->pts[r], key) || !first_of_point(s, q)) continue;
      double m, h;
      size_t n;
      aggregate(s, &s->pts[q], i, &m, &h, &n);
      char *end;
      double x = strtod(s->pts[q].values[key], &end);
      if (*end || end == s->pts[q].values[key]) numeric = 0, x = col;
      col++;
      fprintf(d, "%.17g ", x);
      wf_report_put_num(d, m);
      fputc(' ', d);
      wf_report_put_num(d, isfinite(h) ? h : 0);
      fprintf(d, " \"%s\"\n", s->pts[q].values[key]);
    }
    fclose(d);
    fprintf(s->gp, "%s'%s' using 1:2:3%s with yerrorlines lw 1.5 pt 7 ps 0.8 lc rgb '%s' title ",
            lines ? ", " : "", file, numeric ? "" : ":xticlabels(4)",
            wf_report_color(lines));
    wf_report_gp_quote(s->gp, *title ? title : "all");
    lines++;
  }
  fputc('\n', s->gp);
  fprintf(f,
          "<figure><img src=\"%s.png\" alt=\"%s\" width=\"960\" height=\"480\"><figcaption>"
          "<b>",
          stem, stem);
  wf_report_esc(f, s->names[i]);
  fputs("</b> against <b>", f);
  wf_report_esc(f, s->csv.head[s->key0 + key]);
  fputs("</b>: mean over seeds, bars the 95% confidence interval</figcaption></figure>\n", f);
}

static void index_table(FILE *f, sweep_page *s) {
  fputs("<h2 id=\"points\">Points</h2>\n<table>\n<tr><th>point</th><th>seed</th>", f);
  for (size_t k = 0; k < s->nkeys; k++) {
    fputs("<th>", f);
    wf_report_esc(f, s->csv.head[s->key0 + k]);
    fputs("</th>", f);
  }
  fputs("<th>status</th><th>report</th></tr>\n", f);
  size_t failed = 0;
  for (size_t r = 0; r < s->csv.nrows; r++) {
    const point *p = &s->pts[r];
    int good = !strcmp(p->status, "completed");
    failed += !good;
    fputs("<tr><td>", f);
    wf_report_esc(f, s->csv.cell[r][0]);
    fputs("</td><td>", f);
    wf_report_esc(f, p->seed);
    fputs("</td>", f);
    for (size_t k = 0; k < s->nkeys; k++) {
      fputs("<td>", f);
      wf_report_esc(f, p->values[k]);
      fputs("</td>", f);
    }
    fprintf(f, "<td class=\"%s\">", good ? "status-ok" : "status-bad");
    wf_report_esc(f, p->status);
    fputs("</td><td>", f);
    if (p->ok) {
      char *dir = wf_report_default_dir(p->trace);
      fputs("<a href=\"", f);
      wf_report_esc(f, dir ? dir : "");
      fputs("/index.html\">report</a>", f);
      free(dir);
    } else {
      fputs("&ndash;", f);
    }
    fputs("</td></tr>\n", f);
  }
  fputs("</table>\n", f);
  if (failed)
    fprintf(f,
            "<p class=\"warn\">%zu point%s did not complete: %s left out of the figures and "
            "the plots (their logs are beside their traces).</p>\n",
            failed, failed == 1 ? "" : "s", failed == 1 ? "it is" : "they are");
}

static int page(FILE *f, void *ud, wf_error *err) {
  (void)err;
  sweep_page *s = ud;
  fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
  wf_report_esc(f, s->dir);
  fprintf(f, " &middot; weft sweep report</title>\n<style>%s</style>\n</head>\n<body>\n<h1>",
          wf_report_css());
  wf_report_esc(f, s->dir);
  fprintf(f,
          "</h1>\n<p class=\"sub\">weft report of a sweep: %zu points &middot; "
          "<a href=\"#figures\">figures</a> &middot; <a href=\"#plots\">plots</a> &middot; "
          "<a href=\"#points\">points</a></p>\n",
          s->csv.nrows);
  figures_table(f, s);
  fputs("<h2 id=\"plots\">Figures against the grid</h2>\n", f);
  size_t idx = 0, nvary = 0;
  for (size_t k = 0; k < s->nkeys; k++) nvary += s->varies[k];
  if (!nvary) fputs("<p>No grid parameter takes more than one value: nothing to plot.</p>\n", f);
  for (size_t i = 0; i < s->nfig; i++)
    for (size_t k = 0; k < s->nkeys; k++)
      if (s->varies[k]) plot_figure(f, s, i, k, idx++);
  index_table(f, s);
  fputs("</body>\n</html>\n", f);
  return 0;
}

int wf_report_sweep(const char *dir, const char *outdir, wf_error *err) {
  sweep_page s = {.dir = dir, .outdir = outdir ? outdir : dir};
  char path[4096];
  if (wf_report_path(path, sizeof path, dir, WF_SWEEP_INDEX) != 0)
    return wf_error_set(err, "sweep folder '%s': path too long", dir);
  if (wf_csv_load(path, &s.csv, err) != 0) return -1;
  /* point, seed, the grid keys, then trace, status, events, wall_s, exit_code. */
  int rc = 0;
  if (s.csv.ncols < 7 || strcmp(s.csv.head[0], "point") || strcmp(s.csv.head[1], "seed") ||
      strcmp(s.csv.head[s.csv.ncols - 5], "trace"))
    rc = wf_error_set(err,
                      "'%s' is not a weft sweep index (point, seed, keys..., trace, status, "
                      "events, wall_s, exit_code)",
                      path);
  s.key0 = 2, s.nkeys = s.csv.ncols - 7;
  if (rc == 0 && s.nkeys > 64) rc = wf_error_set(err, "'%s': more than 64 grid keys", path);
  for (size_t k = 0; rc == 0 && k < s.nkeys; k++)
    for (size_t r = 1; r < s.csv.nrows && !s.varies[k]; r++)
      s.varies[k] = strcmp(s.csv.cell[r][s.key0 + k], s.csv.cell[0][s.key0 + k]) != 0;
  if (rc == 0) rc = load_points(&s, err);
  if (rc == 0 && mkdir(s.outdir, 0777) != 0 && errno != EEXIST)
    rc = wf_error_set(err, "cannot create '%s': %s", s.outdir, strerror(errno));
  wf_report rp = {.h5path = dir, .outdir = s.outdir};
  if (rc == 0 && !(s.gp = wf_report_script_open(&rp, err))) rc = -1;
  if (rc == 0) rc = wf_report_page(s.outdir, page, &s, err);
  if (s.gp) fclose(s.gp);
  char why[1024];
  if (rc == 0 && s.nfig && wf_report_run_gnuplot(s.outdir, why, sizeof why) != 0)
    fprintf(stderr, "weft report: plots not drawn: %s\n", why);
  for (size_t r = 0; s.pts && r < s.csv.nrows; r++) free(s.pts[r].fig);
  free(s.pts);
  wf_csv_free(&s.csv);
  return rc;
}
