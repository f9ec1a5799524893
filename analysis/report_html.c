/* The page half of `weft report`: one index.html with inline CSS and relative image paths, so
 * the output directory can be copied or mailed as it is. Every trace string is escaped. */
#include "report_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const STYLE_CSS =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;"
    "max-width:1000px;margin:2em auto;padding:0 1em}"
    "h1{font-size:1.6em;margin-bottom:.1em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}"
    ".sub{color:#666;margin-top:0}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}"
    "th{background:#f4f6f8}td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "tr.derived td{color:#555;font-style:italic}"
    "pre{background:#f7f7f7;border:1px solid #e3e3e3;padding:.7em;overflow-x:auto;"
    "font-size:13px}"
    "figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #eee}"
    "figcaption{color:#444;font-size:.95em}"
    ".warn{background:#fff4e5;border:1px solid #f0b46a;padding:.6em .8em}"
    ".status-ok{color:#1a7f37;font-weight:600}.status-bad{color:#b42318;font-weight:600}"
    ".status-short{color:#b25e09;font-weight:600}"
    ".lead{font-size:1.1em;margin:.6em 0 1em;max-width:50em}";

const char *wf_report_css(void) {
  return STYLE_CSS;
}

void wf_report_esc(FILE *f, const char *s) {
  for (; s && *s; s++) switch (*s) {
    case '&':
      fputs("&amp;", f);
      break;
    case '<':
      fputs("&lt;", f);
      break;
    case '>':
      fputs("&gt;", f);
      break;
    case '"':
      fputs("&quot;", f);
      break;
    case '\'':
      fputs("&#39;", f);
      break;
    default:
      fputc(*s, f);
    }
}

const char *wf_report_pretty_num(const char *text, char *buf, size_t cap) {
  char *end;
  if (!text || !*text || !strpbrk(text, ".eEnN")) return text ? text : "";
  double v = strtod(text, &end);
  if (*end) return text;
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, cap, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) return buf;
  }
  return text;
}

/* A finite number to `digits` significant digits, a dash otherwise. */
void wf_report_put_sig(FILE *f, double v, int digits) {
  if (isfinite(v))
    fprintf(f, "%.*g", digits, v);
  else
    fputs("&ndash;", f);
}

/* Whole numbers in full (counts, nanoseconds), others to 6 significant digits. */
static void put_stat(FILE *f, double v) {
  if (isfinite(v) && v == floor(v) && fabs(v) < 1e15)
    fprintf(f, "%.0f", v);
  else
    wf_report_put_sig(f, v, 6);
}

static int is_number(const char *text, double *v) {
  char *end;
  if (!text || !*text) return 0;
  *v = strtod(text, &end);
  return *end == 0;
}

/* ---- run metadata ---- */

static void derived_row(FILE *f, const char *label, double v) {
  fprintf(f, "<tr class=\"derived\"><td>%s</td><td class=\"num\">", label);
  wf_report_put_sig(f, v, 4);
  fputs("</td><td>computed from the attributes above</td></tr>\n", f);
}

/* What each root attribute means (analysis/SCHEMA.md says more). */
static const char *const attr_meaning[][2] = {
    {"scenario", "the scenario as given on the command line"},
    {"seed", "the run seed: with the script and its parameters it fixes the run"},
    {"ranks", "MPI ranks the run used"},
    {"weft_version", "the weft that wrote this trace"},
    {"end_time_s", "simulated time the scenario asked for, s"},
    {"status", "completed (reached its end time), idle (ran out of events), interrupted, "
               "event-limit or failed"},
    {"events", "events handled"},
    {"sim_time_s", "simulated time reached, s"},
    {"wall_s", "wall-clock time of the run, s (the only figure that changes between runs)"},
    {"windows", "synchronisation windows between ranks (0 on one rank)"},
    {"cross_rank_fraction", "share of the events sent whose destination lived on another rank"},
    {"rank_events", "events handled by each rank, rank 0 first"},
    {"lookahead_s", "the longest window ranks could run without exchanging, s (inf: no LP "
                    "sends across the placement)"},
    {"lookahead_from", "the LP type whose delay bound set the lookahead"},
    {"lookahead_bound", "which of its bounds: within-group or cross-group"},
    {"error", "the error that stopped the run"},
};

static const char *meaning_of(const char *attr) {
  for (size_t i = 0; i < sizeof attr_meaning / sizeof *attr_meaning; i++)
    if (!strcmp(attr_meaning[i][0], attr)) return attr_meaning[i][1];
  return "";
}

static void run_table(FILE *f, wf_trace_reader *r) {
  fputs("<table>\n<tr><th>attribute</th><th>value</th><th>meaning</th></tr>\n", f);
  for (size_t i = 0; i < wf_trace_attr_count(r); i++) {
    const char *name = wf_trace_attr_name(r, i), *text = wf_trace_attr_text(r, name);
    if (!strcmp(name, "scenario_text") || !strcmp(name, "params") || !strcmp(name, "description"))
      continue;
    char buf[64];
    double v;
    int num = is_number(text, &v);
    fputs("<tr><td>", f);
    wf_report_esc(f, name);
    fprintf(f, "</td><td%s>", num ? " class=\"num\"" : "");
    if (num && !strcmp(name, "wall_s")) /* a measurement: four significant digits */
      wf_report_put_sig(f, v, 4);
    else
      wf_report_esc(f, wf_report_pretty_num(text, buf, sizeof buf));
    fputs("</td><td>", f);
    wf_report_esc(f, meaning_of(name));
    fputs("</td></tr>\n", f);
  }
  double events, wall, sim;
  int have_wall = is_number(wf_trace_attr_text(r, "wall_s"), &wall) && wall > 0;
  if (have_wall && is_number(wf_trace_attr_text(r, "events"), &events))
    derived_row(f, "events per wall-clock second", events / wall);
  if (have_wall && is_number(wf_trace_attr_text(r, "sim_time_s"), &sim))
    derived_row(f, "simulated seconds per wall-clock second", sim / wall);
  fputs("</table>\n", f);
}

static void indent(FILE *f, int depth) {
  fputc('\n', f);
  for (int i = 0; i < depth; i++) fputs("  ", f);
}

static const char *skip_space(const char *s) {
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
  return s;
}

/* Re-indents JSON text two spaces per level; strings are copied untouched. Anything that is
 * not an object or array is shown as it is. */
static void json_pretty(FILE *f, const char *s) {
  s = skip_space(s);
  if (*s != '{' && *s != '[') {
    wf_report_esc(f, s);
    return;
  }
  int depth = 0, in_str = 0;
  for (; *s; s++) {
    char c[2] = {*s, 0};
    if (in_str) {
      wf_report_esc(f, c);
      if (*s == '\\' && s[1]) {
        c[0] = *++s; /* an escaped quote does not end the string */
        wf_report_esc(f, c);
      } else if (*s == '"') {
        in_str = 0;
      }
    } else if (*s == '"') {
      in_str = 1;
      wf_report_esc(f, c);
    } else if (*s == '{' || *s == '[') {
      const char *next = skip_space(s + 1);
      if (*next == (*s == '{' ? '}' : ']')) {
        fprintf(f, "%c%c", *s, *next);
        s = next;
      } else {
        fputc(*s, f);
        indent(f, ++depth);
      }
    } else if (*s == '}' || *s == ']') {
      indent(f, depth > 0 ? --depth : 0);
      fputc(*s, f);
    } else if (*s == ',') {
      fputc(',', f);
      indent(f, depth);
    } else if (*s == ':') {
      fputs(": ", f);
    } else if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') {
      wf_report_esc(f, c);
    }
  }
}

static void run_section(FILE *f, const wf_report *rp) {
  fputs("<h2 id=\"run\">Run</h2>\n", f);
  run_table(f, rp->r);
  const char *params = wf_trace_attr_text(rp->r, "params");
  if (params) {
    fputs("<h3>Parameters</h3>\n<pre>", f);
    json_pretty(f, params);
    fputs("</pre>\n", f);
  }
  const char *text = wf_trace_attr_text(rp->r, "scenario_text");
  if (text) {
    size_t lines = 1;
    for (const char *p = text; *p; p++) lines += *p == '\n';
    /* Short scripts are shown; long ones fold so the plots stay near the top. */
    fprintf(f, "<h3>Scenario</h3>\n<details%s><summary>scenario script (%zu lines)</summary><pre>",
            lines <= 40 ? " open" : "", lines);
    wf_report_esc(f, text);
    fputs("</pre></details>\n", f);
  }
}

/* ---- plots ---- */

static void figure_img(FILE *f, const wf_report_item *it, const char *kind) {
  if (it->drawn) {
    fprintf(f, "<img src=\"%s.png\" alt=\"%s plot of ", it->stem, kind);
    wf_report_esc(f, it->name);
    fputs("\" width=\"960\" height=\"480\">\n", f);
  } else if (it->n == 0) {
    fputs("<p class=\"warn\">No data: nothing to plot.</p>\n", f);
  } else {
    fputs("<p class=\"warn\">Plot not drawn (see the note at the top).</p>\n", f);
  }
}

static void series_figure(FILE *f, const wf_report_item *it) {
  fprintf(f, "<figure id=\"%s\">\n", it->stem);
  figure_img(f, it, "time series");
  fputs("<figcaption><b>", f);
  wf_report_esc(f, it->name);
  fputs("</b>", f);
  wf_report_unit u = wf_report_unit_for(it->units, fmax(fabs(it->min), fabs(it->max)));
  if (*u.name) fputs(" (", f), wf_report_esc(f, u.name), fputs(")", f);
  if (*it->description) fputs(": ", f), wf_report_esc(f, it->description);
  fprintf(f, "<br>%zu samples%s; min ", it->n, it->vs_index ? " (against sample number)" : "");
  wf_report_put_sig(f, it->min / u.div, 4);
  fputs(", mean ", f);
  wf_report_put_sig(f, it->mean / u.div, 4);
  fputs(", max ", f);
  wf_report_put_sig(f, it->max / u.div, 4);
  fputs(", last ", f);
  wf_report_put_sig(f, it->last / u.div, 4);
  fprintf(f, ". Data: <a href=\"%s.dat\">%s.dat</a></figcaption>\n</figure>\n", it->stem, it->stem);
}

static void chains_section(FILE *f, const wf_report *rp) {
  if (!rp->npanels) return;
  fputs("<h2 id=\"chains\">Chains</h2>\n<p>Each chain at a glance: its throughput, block "
        "interval and commit latency quantiles per sample interval, its mempools, its fee "
        "market's price and its refusals. Every series is also drawn alone below.</p>\n", f);
  for (size_t i = 0; i < rp->npanels; i++) {
    const struct wf_report_panel *p = &rp->panels[i];
    fprintf(f, "<figure id=\"%s\">\n", p->stem);
    if (p->drawn)
      fprintf(f, "<img src=\"%s.png\" alt=\"panels of chain \">", p->stem);
    else
      fputs("<p class=\"warn\">Not drawn (see the warning at the top).</p>", f);
    fputs("<figcaption><b>", f);
    wf_report_esc(f, p->prefix);
    fputs("</b></figcaption>\n</figure>\n", f);
  }
}

static void series_section(FILE *f, const wf_report *rp) {
  fputs("<h2 id=\"series\">Time series</h2>\n", f);
  if (rp->time && rp->ntime)
    fprintf(f,
            "<p>x axis: simulated time from <code>/series/time_s</code>, %zu samples "
            "from %.6g s to %.6g s.</p>\n",
            rp->ntime, rp->time[0], rp->time[rp->ntime - 1]);
  else
    fputs("<p>No <code>/series/time_s</code>: series are drawn against sample number.</p>\n", f);
  if (!rp->nseries) fputs("<p>This trace has no series.</p>\n", f);
  for (size_t i = 0; i < rp->nseries; i++) series_figure(f, &rp->series[i]);
}

static void hist_stats(FILE *f, const wf_report *rp, const wf_report_item *it) {
  static const char *const keys[] = {"count", "mean", "min", "p50", "p90", "p99", "max"};
  char obj[300];
  snprintf(obj, sizeof obj, "/histograms/%s", it->name);
  double top;
  const char *units = wf_trace_obj_attr_text(rp->r, obj, "units");
  wf_report_unit u = wf_report_unit_for(
      units, is_number(wf_trace_obj_attr_text(rp->r, obj, "max"), &top) ? top : NAN);
  fputs("<table><tr>", f);
  for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) fprintf(f, "<th>%s</th>", keys[k]);
  fputs("<th>units</th></tr>\n<tr>", f);
  for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
    const char *v = wf_trace_obj_attr_text(rp->r, obj, keys[k]);
    double x;
    fputs("<td class=\"num\">", f);
    if (is_number(v, &x) && k > 0 && u.div != 1)
      wf_report_put_sig(f, x / u.div, 4);
    else if (is_number(v, &x))
      put_stat(f, x);
    else
      wf_report_esc(f, v);
    fputs("</td>", f);
  }
  fputs("<td>", f);
  wf_report_esc(f, u.name);
  fputs("</td></tr></table>\n", f);
}

static void hist_section(FILE *f, const wf_report *rp) {
  fputs("<h2 id=\"histograms\">Histograms</h2>\n", f);
  if (!rp->nhists) fputs("<p>This trace has no histograms.</p>\n", f);
  for (size_t i = 0; i < rp->nhists; i++) {
    const wf_report_item *it = &rp->hists[i];
    fprintf(f, "<figure id=\"%s\">\n", it->stem);
    figure_img(f, it, "histogram");
    fputs("<figcaption><b>", f);
    wf_report_esc(f, it->name);
    fputs("</b>", f);
    if (*it->description) fputs(": ", f), wf_report_esc(f, it->description);
    if (it->n)
      fprintf(f, " (%zu non-empty buckets; dashed lines: p50 and p99)", it->n);
    else
      fputs(" (empty)", f);
    fprintf(f, ". Data: <a href=\"%s.dat\">%s.dat</a></figcaption>\n", it->stem, it->stem);
    hist_stats(f, rp, it);
    fputs("</figure>\n", f);
  }
}

/* ---- record tables ---- */

/* The units of one column from the "name=units;..." column_units attribute, or NULL. */
static int column_units(const char *list, const char *col, const char **u, size_t *len) {
  size_t clen = strlen(col);
  for (const char *p = list; p && *p;) {
    size_t item = strcspn(p, ";");
    if (item > clen && !strncmp(p, col, clen) && p[clen] == '=') {
      *u = p + clen + 1;
      *len = item - clen - 1;
      return 1;
    }
    p += item + (p[item] == ';');
  }
  return 0;
}

static void record_row(FILE *f, wf_trace_reader *r, const char *name) {
  char obj[300];
  size_t nrows = 0, ncols = 0;
  snprintf(obj, sizeof obj, "/records/%s", name);
  wf_trace_table_shape(r, "records", name, &nrows, &ncols, NULL);
  const char *units = wf_trace_obj_attr_text(r, obj, "column_units");
  fputs("<tr><td><code>", f);
  wf_report_esc(f, name);
  fputs("</code></td><td>", f);
  wf_report_esc(f, wf_trace_obj_attr_text(r, obj, "description"));
  fprintf(f, "</td><td class=\"num\">%zu</td><td>", nrows);
  for (size_t c = 0; c < ncols; c++) {
    const char *col = wf_trace_table_column_name(r, "records", name, c), *u;
    size_t ulen;
    fputs(c ? ", " : "", f);
    wf_report_esc(f, col);
    if (col && column_units(units, col, &u, &ulen)) {
      char buf[128];
      snprintf(buf, sizeof buf, "%.*s", (int)ulen, u);
      fputs(" [", f), wf_report_esc(f, buf), fputs("]", f);
    }
  }
  fputs("</td></tr>\n", f);
}

static void records_section(FILE *f, wf_trace_reader *r) {
  size_t n = wf_trace_table_count(r, "records");
  fputs("<h2 id=\"records\">Record tables</h2>\n", f);
  if (!n) {
    fputs("<p>This trace has no record tables.</p>\n", f);
    return;
  }
  fputs("<table>\n<tr><th>table</th><th>description</th><th>rows</th>"
        "<th>columns [units]</th></tr>\n",
        f);
  for (size_t i = 0; i < n; i++) record_row(f, r, wf_trace_table_name(r, "records", i));
  fputs("</table>\n", f);
}

/* ---- the page ---- */

/* completed and idle runs reached their end time; interrupted and event-limit ones stopped
 * short; failed ones carry an `error` attribute. */
/* ---- the headline figures, first ---- */

/* /summary/figures as weft writes it (sim/metrics.c): name[64], value f64, units[32],
 * description[256], packed. */
enum { SUM_NAME = 0, SUM_VALUE = 64, SUM_UNITS = 72, SUM_DESC = 104, SUM_ROW = 360 };

static void fixed_copy(char *dst, const unsigned char *p, size_t n) {
  memcpy(dst, p, n);
  dst[n] = 0;
}

int wf_report_figures(wf_trace_reader *r, wf_report_figure **out, size_t *n) {
  wf_error e = {0};
  size_t rows = 0, cols = 0, nbytes = 0;
  *out = NULL, *n = 0;
  if (wf_trace_table_shape(r, "summary", "figures", &rows, &cols, &e) != 0 || !rows) return 0;
  unsigned char *raw = cols == 4 ? wf_trace_read_raw(r, "/summary/figures", &nbytes, &e) : NULL;
  wf_report_figure *f = raw && nbytes == rows * SUM_ROW ? calloc(rows, sizeof *f) : NULL;
  if (!f) {
    free(raw);
    return -1;
  }
  for (size_t i = 0; i < rows; i++) {
    const unsigned char *row = raw + i * SUM_ROW;
    fixed_copy(f[i].name, row + SUM_NAME, SUM_VALUE - SUM_NAME);
    memcpy(&f[i].value, row + SUM_VALUE, sizeof f[i].value);
    fixed_copy(f[i].units, row + SUM_UNITS, SUM_DESC - SUM_UNITS);
    fixed_copy(f[i].description, row + SUM_DESC, SUM_ROW - SUM_DESC);
  }
  free(raw);
  *out = f, *n = rows;
  return 0;
}

static void summary_section(FILE *f, const wf_report *rp) {
  wf_report_figure *fig;
  size_t n;
  if (wf_report_figures(rp->r, &fig, &n) != 0) {
    fputs("<p class=\"warn\">The headline figures (/summary/figures) are not in the layout this "
          "report reads.</p>\n",
          f);
    return;
  }
  if (!n) return; /* a trace from before headline figures, or a model that declares none */
  fputs("<h2 id=\"summary\">Headline figures</h2>\n<table>\n<tr><th>figure</th><th>value</th>"
        "<th>units</th><th>what it is</th></tr>\n",
        f);
  for (size_t i = 0; i < n; i++) {
    fputs("<tr><td>", f);
    wf_report_esc(f, fig[i].name);
    fputs("</td><td class=\"num\">", f);
    wf_report_put_sig(f, fig[i].value, 6);
    fputs("</td><td>", f);
    wf_report_esc(f, fig[i].units);
    fputs("</td><td>", f);
    wf_report_esc(f, fig[i].description);
    fputs("</td></tr>\n", f);
  }
  fputs("</table>\n", f);
  free(fig);
}

static const char *status_class(const char *status) {
  if (!strcmp(status, "failed")) return "status-bad";
  if (!strcmp(status, "completed") || !strcmp(status, "idle") || !strcmp(status, "ok"))
    return "status-ok";
  return "status-short";
}

static void page_head(FILE *f, const wf_report *rp) {
  const char *scenario = wf_trace_attr_text(rp->r, "scenario");
  const char *status = wf_trace_attr_text(rp->r, "status");
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
        f);
  wf_report_esc(f, scenario ? scenario : rp->h5path);
  fprintf(f, " &middot; weft report</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", STYLE_CSS);
  wf_report_esc(f, scenario ? scenario : rp->h5path);
  fputs("</h1>\n<p class=\"sub\">weft report of <code>", f);
  wf_report_esc(f, rp->h5path);
  fputs("</code>", f);
  if (status) {
    fprintf(f, " &middot; status <span class=\"%s\">", status_class(status));
    wf_report_esc(f, status);
    fputs("</span>", f);
  }
  fputs(" &middot; <a href=\"#summary\">summary</a> &middot; <a href=\"#run\">run</a> &middot; "
        "<a href=\"#series\">series</a> &middot; "
        "<a href=\"#histograms\">histograms</a> &middot; <a href=\"#records\">records</a></p>\n",
        f);
  const char *description = wf_trace_attr_text(rp->r, "description");
  if (description && *description) {
    fputs("<p class=\"lead\">", f);
    wf_report_esc(f, description);
    fputs("</p>\n", f);
  }
  const char *error = wf_trace_attr_text(rp->r, "error");
  if (error) {
    fputs("<p class=\"warn\">The run stopped with an error: ", f);
    wf_report_esc(f, error);
    fputs("</p>\n", f);
  }
  if (rp->plot_problem[0]) {
    fputs("<p class=\"warn\">Plots were not drawn: ", f);
    wf_report_esc(f, rp->plot_problem);
    fputs("</p>\n", f);
  }
}

static void page_body(FILE *f, const wf_report *rp) {
  page_head(f, rp);
  summary_section(f, rp);
  run_section(f, rp);
  chains_section(f, rp);
  series_section(f, rp);
  hist_section(f, rp);
  records_section(f, rp->r);
  fputs("<p class=\"sub\" style=\"margin-top:2em\">Data files (<code>*.dat</code>) and the gnuplot "
        "script <code>plots.gp</code> are beside this page: run <code>gnuplot plots.gp</code> "
        "there to redraw.</p>\n</body>\n</html>\n",
        f);
}

const char *wf_report_color(size_t i) {
  static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                        "#8c564b", "#e377c2", "#17becf"};
  return palette[i % (sizeof palette / sizeof *palette)];
}

int wf_report_page(const char *outdir, int (*body)(FILE *f, void *ud, wf_error *err), void *ud,
                   wf_error *err) {
  char path[4096], part[4096];
  if (wf_report_path(path, sizeof path, outdir, "index.html") != 0 ||
      wf_report_path(part, sizeof part, outdir, "index.html.part") != 0)
    return wf_error_set(err, "output path '%s' is too long", outdir);
  FILE *f = fopen(part, "w");
  if (!f) return wf_error_set(err, "cannot write '%s': %s", part, strerror(errno));
  int rc = body(f, ud, err);
  int bad = ferror(f);
  if (fclose(f) != 0 || bad || rc != 0) {
    remove(part);
    return rc != 0 ? -1 : wf_error_set(err, "writing '%s' failed", part);
  }
  if (rename(part, path) != 0)
    return wf_error_set(err, "cannot rename '%s' to '%s': %s", part, path, strerror(errno));
  return 0;
}

static int run_page(FILE *f, void *ud, wf_error *err) {
  (void)err;
  page_body(f, ud);
  return 0;
}

int wf_report_html(const wf_report *rp, wf_error *err) {
  return wf_report_page(rp->outdir, run_page, (void *)rp, err);
}
