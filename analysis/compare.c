/* `weft compare A.h5 B.h5 ... [--labels a,b,...] [-o DIR]`: several runs on one page. The
 * parameters that differ, the headline figures side by side with their ratio to the first run,
 * every series the runs share overlaid on one plot, every histogram they share as overlaid
 * CDFs, and what they do not share said so. */
#include "compare.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report_internal.h"

#define MAX_RUNS 16

/* A parameter of a run: "params" is a flat JSON object of numbers, strings and booleans. */
typedef struct param {
  char *key, *value;
} param;

typedef struct run {
  const char *path;
  char label[64];
  wf_trace_reader *r;
  param *params;
  size_t nparams;
  wf_report_figure *fig;
  size_t nfig;
} run;

typedef struct cmp {
  run runs[MAX_RUNS];
  size_t n;
  const char *outdir;
  FILE *gp;
  int plots;
} cmp;

/* ---- the parameters: a flat JSON object as `weft run` writes it ---- */

static const char *json_string(const char *p, char **out) {
  if (*p != '"') return NULL;
  size_t cap = strlen(p), n = 0;
  char *s = malloc(cap + 1);
  if (!s) return NULL;
  for (p++; *p && *p != '"'; p++) {
    if (*p == '\\' && p[1]) p++;
    s[n++] = *p;
  }
  s[n] = 0;
  if (*p != '"') return free(s), NULL;
  *out = s;
  return p + 1;
}

static int parse_params(run *ru, const char *text) {
  const char *p = text ? text : "{}";
  while (*p == ' ') p++;
  if (*p++ != '{') return -1;
  for (;;) {
    while (*p == ' ' || *p == ',') p++;
    if (*p == '}' || !*p) return *p == '}' ? 0 : -1;
    char *key = NULL, *value = NULL;
    if (!(p = json_string(p, &key))) return -1;
    while (*p == ' ' || *p == ':') p++;
    if (*p == '"') {
      p = json_string(p, &value);
    } else {
      size_t k = strcspn(p, ",}");
      if ((value = malloc(k + 1))) memcpy(value, p, k), value[k] = 0;
      p += k;
    }
    param *x = value ? realloc(ru->params, (ru->nparams + 1) * sizeof *x) : NULL;
    if (!p || !x) return free(key), free(value), -1;
    ru->params = x;
    ru->params[ru->nparams++] = (param){key, value};
  }
}

static const char *param_of(const run *ru, const char *key) {
  for (size_t i = 0; i < ru->nparams; i++)
    if (!strcmp(ru->params[i].key, key)) return ru->params[i].value;
  return NULL;
}

static const wf_report_figure *figure_of(const run *ru, const char *name) {
  for (size_t i = 0; i < ru->nfig; i++)
    if (!strcmp(ru->fig[i].name, name)) return &ru->fig[i];
  return NULL;
}

/* ---- the page ---- */

static void runs_table(FILE *f, const cmp *c) {
  fputs("<h2 id=\"runs\">Runs</h2>\n<table>\n<tr><th>run</th><th>trace</th><th>scenario</th>"
        "<th>status</th><th>seed</th><th>simulated s</th><th>wall s</th></tr>\n",
        f);
  for (size_t k = 0; k < c->n; k++) {
    const run *ru = &c->runs[k];
    const char *cells[] = {ru->label,
                           ru->path,
                           wf_trace_attr_text(ru->r, "scenario"),
                           wf_trace_attr_text(ru->r, "status"),
                           wf_trace_attr_text(ru->r, "seed"),
                           wf_trace_attr_text(ru->r, "sim_time_s")};
    fputs("<tr>", f);
    for (size_t i = 0; i < sizeof cells / sizeof *cells; i++) {
      fputs("<td>", f);
      wf_report_esc(f, cells[i] ? cells[i] : "");
      fputs("</td>", f);
    }
    const char *wall = wf_trace_attr_text(ru->r, "wall_s");
    fputs("<td class=\"num\">", f);
    wf_report_put_sig(f, wall ? strtod(wall, NULL) : NAN, 4);
    fputs("</td></tr>\n", f);
  }
  fputs("</table>\n", f);
}

/* Keys in the order they first appear over the runs. */
static size_t union_keys(const cmp *c, const char **keys, size_t cap) {
  size_t n = 0;
  for (size_t k = 0; k < c->n; k++)
    for (size_t i = 0; i < c->runs[k].nparams; i++) {
      const char *key = c->runs[k].params[i].key;
      size_t j = 0;
      while (j < n && strcmp(keys[j], key)) j++;
      if (j == n && n < cap) keys[n++] = key;
    }
  return n;
}

static void params_table(FILE *f, const cmp *c) {
  fputs("<h2 id=\"params\">Parameters that differ</h2>\n", f);
  const char *keys[512];
  size_t nk = union_keys(c, keys, 512), shown = 0;
  for (size_t i = 0; i < nk; i++) {
    const char *first = param_of(&c->runs[0], keys[i]);
    int differ = 0;
    for (size_t k = 1; k < c->n; k++) {
      const char *v = param_of(&c->runs[k], keys[i]);
      differ |= !first || !v || strcmp(first, v);
    }
    if (!differ) continue;
    if (!shown++) {
      fputs("<table>\n<tr><th>parameter</th>", f);
      for (size_t k = 0; k < c->n; k++) {
        fputs("<th>", f);
        wf_report_esc(f, c->runs[k].label);
        fputs("</th>", f);
      }
      fputs("</tr>\n", f);
    }
    fputs("<tr><td>", f);
    wf_report_esc(f, keys[i]);
    fputs("</td>", f);
    for (size_t k = 0; k < c->n; k++) {
      const char *v = param_of(&c->runs[k], keys[i]);
      fputs("<td>", f);
      if (v)
        wf_report_esc(f, v);
      else
        fputs("&ndash;", f);
      fputs("</td>", f);
    }
    fputs("</tr>\n", f);
  }
  if (shown)
    fputs("</table>\n", f);
  else
    fprintf(f, "<p>None: the %zu runs have the same parameters%s.</p>\n", c->n,
            nk ? "" : " (none declared)");
}

static void figures_table(FILE *f, const cmp *c) {
  fputs("<h2 id=\"figures\">Headline figures</h2>\n", f);
  const char *names[1024];
  size_t n = 0, missing = 0;
  for (size_t k = 0; k < c->n; k++)
    for (size_t i = 0; i < c->runs[k].nfig; i++) {
      const char *name = c->runs[k].fig[i].name;
      size_t j = 0;
      while (j < n && strcmp(names[j], name)) j++;
      if (j == n && n < 1024) names[n++] = name;
    }
  if (!n) {
    fputs("<p>None of the runs has headline figures.</p>\n", f);
    return;
  }
  fputs("<table>\n<tr><th>figure</th><th>units</th>", f);
  for (size_t k = 0; k < c->n; k++) {
    fputs("<th>", f);
    wf_report_esc(f, c->runs[k].label);
    fputs("</th>", f);
  }
  for (size_t k = 1; k < c->n; k++) {
    fputs("<th>", f);
    wf_report_esc(f, c->runs[k].label);
    fputs(" / ", f);
    wf_report_esc(f, c->runs[0].label);
    fputs("</th>", f);
  }
  fputs("</tr>\n", f);
  for (size_t i = 0; i < n; i++) {
    const wf_report_figure *base = figure_of(&c->runs[0], names[i]), *any = NULL;
    for (size_t k = 0; k < c->n && !any; k++) any = figure_of(&c->runs[k], names[i]);
    int shared = 1;
    for (size_t k = 0; k < c->n; k++) shared &= figure_of(&c->runs[k], names[i]) != NULL;
    missing += !shared;
    fprintf(f, "<tr%s><td>", shared ? "" : " class=\"derived\"");
    wf_report_esc(f, names[i]);
    fputs("</td><td>", f);
    wf_report_esc(f, any->units);
    fputs("</td>", f);
    for (size_t k = 0; k < c->n; k++) {
      const wf_report_figure *x = figure_of(&c->runs[k], names[i]);
      fputs("<td class=\"num\">", f);
      wf_report_put_sig(f, x ? x->value : NAN, 6);
      fputs("</td>", f);
    }
    for (size_t k = 1; k < c->n; k++) {
      const wf_report_figure *x = figure_of(&c->runs[k], names[i]);
      double ratio = x && base && base->value != 0 ? x->value / base->value : NAN;
      fputs("<td class=\"num\">", f);
      wf_report_put_sig(f, ratio, 4);
      fputs("</td>", f);
    }
    fputs("</tr>\n", f);
  }
  fputs("</table>\n", f);
  if (missing)
    fprintf(f,
            "<p>%zu figure%s (in italics) %s not in every run: runs of different scenarios "
            "compare on the figures they share.</p>\n",
            missing, missing == 1 ? "" : "s", missing == 1 ? "is" : "are");
}

/* ---- the plots ---- */

static int has_series(wf_trace_reader *r, const char *name, size_t *idx) {
  for (size_t i = 0; i < wf_trace_series_count(r); i++)
    if (!strcmp(wf_trace_series_name(r, i), name)) return *idx = i, 1;
  return 0;
}

static double *time_of(wf_trace_reader *r, size_t *n) {
  size_t i;
  wf_error e = {0};
  return has_series(r, "time_s", &i) ? wf_trace_series_read(r, i, n, &e) : NULL;
}

/* One overlaid plot of series `name` over the runs that have it (two or more). */
static int plot_series(cmp *c, FILE *f, const char *name, size_t idx, wf_error *err) {
  char stem[160], path[4096];
  wf_report_stem(stem, sizeof stem, "series", name, idx);
  const char *units = "", *desc = "";
  double top = 0;
  size_t with = 0;
  for (size_t k = 0; k < c->n; k++) {
    size_t i, n = 0, nt = 0;
    if (!has_series(c->runs[k].r, name, &i)) continue;
    wf_error e = {0};
    double *v = wf_trace_series_read(c->runs[k].r, i, &n, &e), *t = time_of(c->runs[k].r, &nt);
    units = wf_trace_series_units(c->runs[k].r, i),
    desc = wf_trace_series_description(c->runs[k].r, i);
    char file[200];
    snprintf(file, sizeof file, "%s-%zu.dat", stem, k);
    FILE *d = wf_report_path(path, sizeof path, c->outdir, file) == 0 ? fopen(path, "w") : NULL;
    if (!d || !v) {
      free(v), free(t);
      if (d) fclose(d);
      return wf_error_set(err, "cannot write the data of series '%s' in '%s'", name, c->outdir);
    }
    for (size_t j = 0; j < n; j++) {
      wf_report_put_num(d, t && nt == n ? t[j] : (double)j);
      fputc(' ', d);
      wf_report_put_num(d, v[j]);
      fputc('\n', d);
      if (isfinite(v[j]) && fabs(v[j]) > top) top = fabs(v[j]);
    }
    fclose(d);
    free(v), free(t);
    with++;
  }
  wf_report_unit u = wf_report_unit_for(units, top);
  fprintf(c->gp, "\nreset\nset output '%s.png'\nset title ", stem);
  wf_report_gp_quote(c->gp, name);
  fputs(" font ',11'\nset border 3\nset tics nomirror out\nset grid lc rgb '#dadada'\n"
        "set key top left\nset xlabel 'simulated time (s)'\nset ylabel ",
        c->gp);
  wf_report_gp_quote(c->gp, u.name);
  fputs("\nplot ", c->gp);
  for (size_t k = 0, m = 0; k < c->n; k++) {
    size_t i;
    if (!has_series(c->runs[k].r, name, &i)) continue;
    fprintf(c->gp, "%s'%s-%zu.dat' using 1:($2/%.17g) with lines lw 1.5 lc rgb '%s' title ",
            m++ ? ", " : "", stem, k, u.div, wf_report_color(k));
    wf_report_gp_quote(c->gp, c->runs[k].label);
  }
  fputc('\n', c->gp);
  fprintf(f,
          "<figure><img src=\"%s.png\" alt=\"%s over %zu runs\" width=\"960\" height=\"480\">"
          "<figcaption><b>",
          stem, stem, with);
  wf_report_esc(f, name);
  fputs("</b>", f);
  if (*u.name) fputs(" (", f), wf_report_esc(f, u.name), fputs(")", f);
  if (desc && *desc) fputs(": ", f), wf_report_esc(f, desc);
  fputs("</figcaption></figure>\n", f);
  c->plots++;
  return 0;
}

/* The histogram as a CDF: (bucket top, share of values at or below it). */
static int plot_cdf(cmp *c, FILE *f, const char *name, size_t idx, wf_error *err) {
  char stem[160], path[4096], obj[300];
  wf_report_stem(stem, sizeof stem, "cdf", name, idx);
  snprintf(obj, sizeof obj, "/histograms/%s", name);
  const char *units = "";
  double top = 0, bottom = INFINITY;
  for (size_t k = 0; k < c->n; k++) {
    wf_error e = {0};
    size_t n = 0;
    if (!wf_trace_table_column_name(c->runs[k].r, "histograms", name, 0)) continue;
    double *hi = wf_trace_table_column(c->runs[k].r, "histograms", name, "hi", &n, &e);
    double *cnt =
        hi ? wf_trace_table_column(c->runs[k].r, "histograms", name, "count", &n, &e) : NULL;
    const char *u = wf_trace_obj_attr_text(c->runs[k].r, obj, "units");
    if (u) units = u;
    char file[200];
    snprintf(file, sizeof file, "%s-%zu.dat", stem, k);
    FILE *d =
        cnt && wf_report_path(path, sizeof path, c->outdir, file) == 0 ? fopen(path, "w") : NULL;
    if (!d) {
      free(hi), free(cnt);
      return wf_error_set(err, "cannot write the data of histogram '%s' in '%s'", name, c->outdir);
    }
    double total = 0, sum = 0;
    for (size_t j = 0; j < n; j++) total += cnt[j];
    for (size_t j = 0; j < n; j++) {
      sum += cnt[j];
      wf_report_put_num(d, hi[j]);
      fputc(' ', d);
      wf_report_put_num(d, total > 0 ? sum / total : NAN);
      fputc('\n', d);
      if (hi[j] > top) top = hi[j];
      if (hi[j] > 0 && hi[j] < bottom) bottom = hi[j];
    }
    fclose(d);
    free(hi), free(cnt);
  }
  wf_report_unit u = wf_report_unit_for(units, top);
  fprintf(c->gp, "\nreset\nset output '%s.png'\nset title ", stem);
  wf_report_gp_quote(c->gp, name);
  fputs(" font ',11'\nset border 3\nset tics nomirror out\nset grid lc rgb '#dadada'\n"
        "set key bottom right\nset logscale x 10\nset yrange [0:1]\n"
        "set format x '%.0s%c'\n"
        "set ylabel 'share of values at or below'\nset xlabel ",
        c->gp);
  wf_report_gp_quote(c->gp, *u.name ? u.name : "value");
  /* The data's own range: autoscale would round out to whole decades. */
  if (isfinite(bottom) && top > bottom)
    fprintf(c->gp, "\nset xrange [%.17g:%.17g]", bottom / u.div / 1.25, top / u.div * 1.25);
  fputs("\nplot ", c->gp);
  for (size_t k = 0, m = 0; k < c->n; k++) {
    if (!wf_trace_table_column_name(c->runs[k].r, "histograms", name, 0)) continue;
    fprintf(c->gp, "%s'%s-%zu.dat' using ($1/%.17g):2 with steps lw 1.5 lc rgb '%s' title ",
            m++ ? ", " : "", stem, k, u.div, wf_report_color(k));
    wf_report_gp_quote(c->gp, c->runs[k].label);
  }
  fputc('\n', c->gp);
  fprintf(f,
          "<figure><img src=\"%s.png\" alt=\"CDF of %s\" width=\"960\" height=\"480\">"
          "<figcaption><b>",
          stem, stem);
  wf_report_esc(f, name);
  fputs("</b>: the share of values at or below each bucket's top", f);
  if (*u.name) fputs(" (", f), wf_report_esc(f, u.name), fputs(")", f);
  fputs("</figcaption></figure>\n", f);
  c->plots++;
  return 0;
}

/* Names of series (or histograms) in two or more runs, plotted; those in one run listed. */
static int shared_section(cmp *c, FILE *f, int hists, wf_error *err) {
  fprintf(f, "<h2 id=\"%s\">%s</h2>\n", hists ? "histograms" : "series",
          hists ? "Histograms, as CDFs" : "Series, overlaid");
  size_t alone = 0, idx = 0, drawn = 0;
  for (size_t k = 0; k < c->n; k++) {
    wf_trace_reader *r = c->runs[k].r;
    size_t count = hists ? wf_trace_table_count(r, "histograms") : wf_trace_series_count(r);
    for (size_t i = 0; i < count; i++) {
      const char *name =
          hists ? wf_trace_table_name(r, "histograms", i) : wf_trace_series_name(r, i);
      if (!hists && !strcmp(name, "time_s")) continue;
      int earlier = 0, in = 1; /* plotted with an earlier run, or in how many runs */
      for (size_t j = 0; j < c->n; j++) {
        if (j == k) continue;
        size_t x;
        int has = hists ? wf_trace_table_column_name(c->runs[j].r, "histograms", name, 0) != NULL
                        : has_series(c->runs[j].r, name, &x);
        in += has;
        earlier |= has && j < k;
      }
      if (earlier) continue;
      if (in < 2) {
        if (!alone++)
          fputs("<p>In one run only: ", f);
        else
          fputs(", ", f);
        fputs("<code>", f);
        wf_report_esc(f, name);
        fprintf(f, "</code> (%s)", c->runs[k].label);
        continue;
      }
      if ((hists ? plot_cdf(c, f, name, idx++, err) : plot_series(c, f, name, idx++, err)) != 0)
        return -1;
      drawn++;
    }
  }
  if (alone) fputs(".</p>\n", f);
  if (!drawn) fprintf(f, "<p>The runs share no %s.</p>\n", hists ? "histograms" : "series");
  return 0;
}

static int page(FILE *f, void *ud, wf_error *err) {
  cmp *c = ud;
  fprintf(f,
          "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<title>weft compare: %zu runs</title>\n<style>%s</style>\n</head>\n<body>\n"
          "<h1>weft compare: %zu runs</h1>\n<p class=\"sub\"><a href=\"#runs\">runs</a> &middot; "
          "<a href=\"#params\">parameters</a> &middot; <a href=\"#figures\">figures</a> &middot; "
          "<a href=\"#series\">series</a> &middot; <a href=\"#histograms\">histograms</a></p>\n",
          c->n, wf_report_css(), c->n);
  runs_table(f, c);
  params_table(f, c);
  figures_table(f, c);
  int rc = shared_section(c, f, 0, err) || shared_section(c, f, 1, err) ? -1 : 0;
  fputs("<p class=\"sub\" style=\"margin-top:2em\">Data files (<code>*.dat</code>) and "
        "<code>plots.gp</code> are beside this page: <code>gnuplot plots.gp</code> there redraws "
        "the plots.</p>\n</body>\n</html>\n",
        f);
  return rc;
}

/* ---- the command ---- */

static void cmp_free(cmp *c) {
  for (size_t k = 0; k < c->n; k++) {
    wf_trace_reader_close(c->runs[k].r);
    for (size_t i = 0; i < c->runs[k].nparams; i++)
      free(c->runs[k].params[i].key), free(c->runs[k].params[i].value);
    free(c->runs[k].params);
    free(c->runs[k].fig);
  }
  if (c->gp) fclose(c->gp);
}

static int usage(const char *fmt, const char *what) {
  fprintf(stderr, "weft compare: ");
  fprintf(stderr, fmt, what);
  fprintf(stderr, " (usage: weft compare A.h5 B.h5 ... [--labels a,b,...] [-o DIR])\n");
  return 2;
}

static void help(void) {
  printf("usage: weft compare A.h5 B.h5 ... [--labels a,b,...] [-o DIR]\n\n"
         "Puts two to %d runs on one page, DIR/index.html: the parameters that differ, the\n"
         "headline figures side by side with each run's ratio to the first, every series the\n"
         "runs share overlaid on one plot, every histogram they share as overlaid CDFs, and\n"
         "what they do not share. Runs of different scenarios compare on what they share.\n\n"
         "options:\n"
         "      --labels a,b,...       names of the runs, in order (default: run1, run2, ...)\n"
         "  -o, --output DIR           the page's folder (default: compare/ beside the first\n"
         "                             trace)\n"
         "  -h, --help                 show this help and exit\n"
         "Exit status: 0 done, 1 an unreadable trace or an unwritable folder, 2 bad usage.\n",
         MAX_RUNS);
}

int wf_compare_main(int argc, char **argv) {
  cmp c = {0};
  const char *labels = NULL, *paths[MAX_RUNS];
  size_t np = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) return help(), 0;
    if (!strcmp(a, "--labels") || !strcmp(a, "-o") || !strcmp(a, "--output")) {
      if (i + 1 >= argc) return usage("%s needs a value", a);
      if (a[1] == 'o' || a[2] == 'o')
        c.outdir = argv[++i];
      else
        labels = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      return usage("unknown option '%s'", a);
    } else if (np == MAX_RUNS) {
      return usage("more than %s traces", "16");
    } else {
      paths[np++] = a;
    }
  }
  if (np < 2) return usage("%s", "two traces or more to compare");
  char dflt[4096];
  if (!c.outdir) {
    const char *slash = strrchr(paths[0], '/');
    snprintf(dflt, sizeof dflt, "%.*scompare", slash ? (int)(slash - paths[0] + 1) : 0, paths[0]);
    c.outdir = dflt;
  }
  const char *lp = labels;
  for (size_t k = 0; k < np; k++) {
    run *ru = &c.runs[k];
    ru->path = paths[k];
    size_t len = lp ? strcspn(lp, ",") : 0;
    if (lp && len)
      snprintf(ru->label, sizeof ru->label, "%.*s", (int)(len < 63 ? len : 63), lp);
    else
      snprintf(ru->label, sizeof ru->label, "run%zu", k + 1);
    if (lp) lp = lp[len] ? lp + len + 1 : NULL;
  }
  if (lp) return usage("--labels names more runs than the %s traces given", "");
  wf_error err = {0};
  int rc = 0;
  for (size_t k = 0; k < np && rc == 0; k++) {
    run *ru = &c.runs[c.n];
    if (!(ru->r = wf_trace_open(ru->path, &err))) rc = -1;
    c.n += ru->r != NULL;
    if (rc == 0 && parse_params(ru, wf_trace_attr_text(ru->r, "params")) != 0)
      rc = wf_error_set(&err, "trace '%s': its params attribute is not a flat JSON object",
                        ru->path);
    if (rc == 0 && wf_report_figures(ru->r, &ru->fig, &ru->nfig) != 0)
      rc = wf_error_set(&err, "trace '%s': /summary/figures is not in the layout weft writes",
                        ru->path);
  }
  if (rc == 0 && mkdir(c.outdir, 0777) != 0 && errno != EEXIST)
    rc = wf_error_set(&err, "cannot create '%s': %s", c.outdir, strerror(errno));
  wf_report rp = {.h5path = paths[0], .outdir = c.outdir};
  if (rc == 0 && !(c.gp = wf_report_script_open(&rp, &err))) rc = -1;
  if (rc == 0) rc = wf_report_page(c.outdir, page, &c, &err);
  if (c.gp) fclose(c.gp), c.gp = NULL;
  char why[1024] = "";
  if (rc == 0 && c.plots && wf_report_run_gnuplot(c.outdir, why, sizeof why) != 0)
    fprintf(stderr, "weft compare: plots not drawn: %s\n", why);
  cmp_free(&c);
  if (rc != 0) return fprintf(stderr, "weft compare: %s\n", err.msg), 1;
  printf("weft compare: wrote %s/index.html\n", c.outdir);
  return 0;
}
