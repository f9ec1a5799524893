/* The drawing half of `weft report`: writes each series and histogram as a whitespace-separated
 * .dat file, appends a section per plot to plots.gp, and runs gnuplot on it once. */
#include "report_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PLOT_SIZE "960,480"
#define LINE_COLOR "#1f77b4"
#define FEW_POINTS 60 /* fewer samples than this get point markers: lines alone hide them */

/* A gnuplot single-quoted string: only ' needs escaping (doubled); control characters would
 * end the command, so they become spaces. */
void wf_report_gp_quote(FILE *gp, const char *s) {
  fputc('\'', gp);
  for (; s && *s; s++) {
    if (*s == '\'')
      fputs("''", gp);
    else
      fputc((unsigned char)*s < 0x20 ? ' ' : *s, gp);
  }
  fputc('\'', gp);
}

static void gp_title(FILE *gp, const wf_report_item *it) {
  char title[600];
  if (it->description && *it->description)
    snprintf(title, sizeof title, "%s: %s", it->name, it->description);
  else
    snprintf(title, sizeof title, "%s", it->name);
  fputs("set title ", gp);
  wf_report_gp_quote(gp, title);
  fputs(" font ',11'\n", gp);
}

FILE *wf_report_script_open(const wf_report *rp, wf_error *err) {
  char path[4096];
  if (wf_report_path(path, sizeof path, rp->outdir, "plots.gp") != 0)
    return wf_error_set(err, "output path '%s' is too long", rp->outdir), NULL;
  FILE *gp = fopen(path, "w");
  if (!gp) return wf_error_set(err, "cannot write '%s': %s", path, strerror(errno)), NULL;
  fputs("# Written by `weft report` from ", gp);
  wf_report_gp_quote(gp, rp->h5path);
  fputs(". Redraw with `gnuplot plots.gp` in this directory.\n"
        "# pngcairo draws antialiased lines; plain png (libgd) is the fallback.\n"
        "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
        "  set terminal pngcairo noenhanced size " PLOT_SIZE " font 'sans,10'\n"
        "} else {\n"
        "  set terminal png noenhanced size " PLOT_SIZE "\n"
        "}\n"
        "set encoding utf8\n",
        gp);
  return gp;
}

/* Settings every plot shares; `reset` keeps the terminal but drops the previous plot's. */
static void gp_begin(FILE *gp, const wf_report_item *it) {
  fprintf(gp, "\nreset\nset output '%s.png'\n", it->stem);
  gp_title(gp, it);
  fputs("set key off\nset border 3\nset tics nomirror out\n"
        "set grid xtics ytics lc rgb '#dadada' lw 1 dt solid\n",
        gp);
}

static int open_dat(const wf_report *rp, const wf_report_item *it, FILE **f, char *path, size_t cap,
                    wf_error *err) {
  char file[160];
  snprintf(file, sizeof file, "%s.dat", it->stem);
  if (wf_report_path(path, cap, rp->outdir, file) != 0)
    return wf_error_set(err, "output path '%s' is too long", rp->outdir);
  *f = fopen(path, "w");
  return *f ? 0 : wf_error_set(err, "cannot write '%s': %s", path, strerror(errno));
}

static int close_dat(FILE *f, const char *path, wf_error *err) {
  int bad = ferror(f);
  if (fclose(f) != 0 || bad) return wf_error_set(err, "writing '%s' failed", path);
  return 0;
}

/* %.17g keeps every bit; gnuplot reads NaN as a gap in the line. */
void wf_report_put_num(FILE *f, double v) {
  if (isfinite(v))
    fprintf(f, "%.17g", v);
  else
    fputs("NaN", f);
}

static void series_stats(wf_report_item *it, const double *v) {
  double sum = 0;
  size_t finite = 0;
  it->min = INFINITY;
  it->max = -INFINITY;
  for (size_t i = 0; i < it->n; i++) {
    if (!isfinite(v[i])) continue;
    if (v[i] < it->min) it->min = v[i];
    if (v[i] > it->max) it->max = v[i];
    sum += v[i];
    finite++;
  }
  it->mean = finite ? sum / (double)finite : NAN;
  if (!finite) it->min = it->max = NAN;
  it->last = it->n ? v[it->n - 1] : NAN;
}

wf_report_unit wf_report_unit_for(const char *units, double max) {
  if (!units || strcmp(units, "ns") || !isfinite(max))
    return (wf_report_unit){1, units ? units : ""};
  max = fabs(max);
  return max >= 1e9   ? (wf_report_unit){1e9, "s"}
         : max >= 1e6 ? (wf_report_unit){1e6, "ms"}
         : max >= 1e3 ? (wf_report_unit){1e3, "us"}
                      : (wf_report_unit){1, "ns"};
}

int wf_report_plot_series(const wf_report *rp, FILE *gp, wf_report_item *it, const double *v,
                          wf_error *err) {
  series_stats(it, v);
  it->vs_index = it->n && (!rp->time || rp->ntime != it->n);
  char path[4096];
  FILE *f;
  if (open_dat(rp, it, &f, path, sizeof path, err) != 0) return -1;
  fprintf(f, "# %s %s (%s)\n", it->vs_index ? "sample" : "time_s", it->name, it->units);
  for (size_t i = 0; i < it->n; i++) {
    if (it->vs_index)
      fprintf(f, "%zu", i);
    else
      wf_report_put_num(f, rp->time[i]);
    fputc(' ', f);
    wf_report_put_num(f, v[i]);
    fputc('\n', f);
  }
  if (close_dat(f, path, err) != 0) return -1;
  if (it->n == 0) return 0; /* nothing to draw; the page says so */
  gp_begin(gp, it);
  fprintf(gp, "set xlabel '%s'\n", it->vs_index ? "sample number" : "simulated time (s)");
  /* A little room above and below, so extremes do not sit on the axis line. */
  fputs("set offsets 0, 0, graph 0.05, graph 0.05\n", gp);
  wf_report_unit u = wf_report_unit_for(it->units, fmax(fabs(it->min), fabs(it->max)));
  char ylabel[300];
  snprintf(ylabel, sizeof ylabel, "%s%s%s%s", it->name, *u.name ? " (" : "", u.name,
           *u.name ? ")" : "");
  fputs("set ylabel ", gp);
  wf_report_gp_quote(gp, ylabel);
  /* Few samples, or gaps (NaN: an interval with no value, as a quantile per sample has when
   * nothing happened): points, since a line alone hides isolated values between gaps. */
  size_t gaps = 0;
  for (size_t i = 0; i < it->n; i++) gaps += !isfinite(v[i]);
  int points = it->n < FEW_POINTS || gaps;
  fprintf(gp, "\nplot '%s.dat' using 1:($2/%.17g) with %s lc rgb '" LINE_COLOR "' lw 1.5%s\n",
          it->stem, u.div, points ? "linespoints" : "lines", points ? " pt 7 ps 0.6" : "");
  return 0;
}

/* A vertical dashed marker with its name at the top, for a histogram quantile. */
static void gp_marker(FILE *gp, const wf_report *rp, const wf_report_item *it, const char *attr,
                      int logx, double div) {
  char obj[300];
  snprintf(obj, sizeof obj, "/histograms/%s", it->name);
  const char *text = wf_trace_obj_attr_text(rp->r, obj, attr);
  char *end;
  double v = text ? strtod(text, &end) : NAN;
  if (!text || *end || !isfinite(v) || (logx && v <= 0)) return;
  v /= div;
  fprintf(gp,
          "set arrow from %.17g, graph 0 to %.17g, graph 1 nohead front dt 2 lw 1.2 lc rgb "
          "'#d62728'\n",
          v, v);
  fprintf(gp,
          "set label '%s' at %.17g, graph 1 offset 0.4,-0.9 front boxed textcolor rgb '#d62728'\n",
          attr, v);
}

static void hist_script(FILE *gp, const wf_report *rp, const wf_report_item *it, int logx,
                        double xmin, double xmax) {
  char obj[300], xlabel[300];
  snprintf(obj, sizeof obj, "/histograms/%s", it->name);
  wf_report_unit u = wf_report_unit_for(wf_trace_obj_attr_text(rp->r, obj, "units"), xmax);
  snprintf(xlabel, sizeof xlabel, "value%s%s%s", *u.name ? " (" : "", u.name, *u.name ? ")" : "");
  xmin /= u.div, xmax /= u.div;
  gp_begin(gp, it);
  fputs("set xlabel ", gp);
  wf_report_gp_quote(gp, xlabel);
  /* Headroom above the tallest bucket keeps it clear of the quantile labels. */
  /* Buckets are 8 linear steps per power of two, so their widths differ even on a log axis:
   * plotting raw counts would draw a sawtooth. The height is the count divided by the bucket's
   * width in the axis's own measure, so area is proportional to count. */
  fprintf(gp,
          "\nset ylabel '%s'\nset yrange [0:*]\nset offsets 0, 0, graph 0.1, 0\n"
          "set style textbox opaque noborder\n",
          logx ? "values per decade (bucket count / log10 width)"
               : "values per unit (count / width)");
  /* %s%c prints 2k, 10M: decades of nanoseconds or gas read at a glance. */
  if (logx) fputs("set logscale x 10\nset format x '%.0s%c'\n", gp);
  /* Autoscale would round out to whole decades and squeeze the buckets into the middle. */
  if (logx)
    fprintf(gp, "set xrange [%.17g:%.17g]\n", xmin / 1.25, xmax * 1.25);
  else
    fprintf(gp, "set xrange [%.17g:%.17g]\n", xmin, xmax);
  gp_marker(gp, rp, it, "p50", logx, u.div);
  gp_marker(gp, rp, it, "p99", logx, u.div);
  fputs("set style fill solid 0.75 border lc rgb '#1f4e79'\n", gp);
  /* boxxyerror columns x:y:xlow:xhigh:ylow:yhigh draw each bucket as exactly its interval. */
  /* In the unit shown: the bucket bounds divided (the heights per decade do not change). */
  char lo[64], hi[64], h[160], x[160];
  snprintf(lo, sizeof lo, "($1/%.17g)", u.div);
  snprintf(hi, sizeof hi, "($2/%.17g)", u.div);
  snprintf(h, sizeof h, logx ? "($3/log10(%s/%s))" : "($3/(%s-%s))", hi, lo);
  snprintf(x, sizeof x, logx ? "(sqrt(%s*%s))" : "((%s+%s)/2)", lo, hi);
  fprintf(gp, "plot '%s.dat' using %s:%s:%s:%s:(0):%s with boxxyerror lc rgb '" LINE_COLOR "'\n",
          it->stem, x, h, lo, hi, h);
}

int wf_report_plot_hist(const wf_report *rp, FILE *gp, wf_report_item *it, const double *lo,
                        const double *hi, const double *count, wf_error *err) {
  /* A log axis needs positive bounds; the engine's first bucket is [0,1), drawn from 0.5. */
  int logx = 1;
  double xmin = INFINITY, xmax = -INFINITY;
  for (size_t i = 0; i < it->n; i++) logx &= hi[i] > 0;
  for (size_t i = 0; i < it->n; i++) {
    double l = logx && lo[i] <= 0 ? hi[i] / 2 : lo[i];
    if (l < xmin) xmin = l;
    if (hi[i] > xmax) xmax = hi[i];
  }
  char path[4096];
  FILE *f;
  if (open_dat(rp, it, &f, path, sizeof path, err) != 0) return -1;
  fprintf(f, "# lo hi count%s\n", logx ? " (lo <= 0 drawn as hi/2 on the log axis)" : "");
  for (size_t i = 0; i < it->n; i++) {
    wf_report_put_num(f, logx && lo[i] <= 0 ? hi[i] / 2 : lo[i]);
    fputc(' ', f);
    wf_report_put_num(f, hi[i]);
    fputc(' ', f);
    wf_report_put_num(f, count[i]);
    fputc('\n', f);
  }
  if (close_dat(f, path, err) != 0) return -1;
  if (it->n) hist_script(gp, rp, it, logx, xmin, xmax);
  return 0;
}

/* ---- running gnuplot ---- */

static int on_path(const char *prog) {
  if (strchr(prog, '/')) return access(prog, X_OK) == 0;
  const char *path = getenv("PATH");
  char cand[4096];
  for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
    size_t len = strcspn(p, ":");
    int n = snprintf(cand, sizeof cand, "%.*s/%s", (int)len, len ? p : ".", prog);
    if (n > 0 && (size_t)n < sizeof cand && access(cand, X_OK) == 0) return 1;
    p += len + (p[len] == ':');
  }
  return 0;
}

/* The first line of gnuplot.log that names an error, else its last non-empty line. */
static void log_reason(const char *outdir, char *buf, size_t cap) {
  char path[4096], line[512];
  buf[0] = 0;
  if (wf_report_path(path, sizeof path, outdir, "gnuplot.log") != 0) return;
  FILE *f = fopen(path, "r");
  while (f && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    if (!*line || strspn(line, " ^") == strlen(line)) continue;
    snprintf(buf, cap, "%s", line);
    if (strstr(line, "line ") || strstr(line, "rror")) break;
  }
  if (f) fclose(f);
}

static void exec_gnuplot(const char *prog, const char *outdir) {
  int log = -1, null = open("/dev/null", O_RDONLY);
  if (chdir(outdir) == 0) log = open("gnuplot.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (log < 0 || null < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0) _exit(126);
  execlp(prog, prog, "plots.gp", (char *)NULL);
  _exit(127);
}

int wf_report_run_gnuplot(const char *outdir, char *why, size_t cap) {
  const char *prog = getenv("WEFT_GNUPLOT");
  if (!prog || !*prog) prog = "gnuplot";
  if (!on_path(prog)) {
    snprintf(why, cap,
             "gnuplot not found ('%s' is not an executable in PATH): install it (Debian: "
             "apt-get install gnuplot-nox) or set WEFT_GNUPLOT to its path",
             prog);
    return -1;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return snprintf(why, cap, "cannot start gnuplot: %s", strerror(errno)), -1;
  if (pid == 0) exec_gnuplot(prog, outdir);
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return snprintf(why, cap, "waiting for gnuplot: %s", strerror(errno)), -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  char reason[512];
  log_reason(outdir, reason, sizeof reason);
  if (WIFEXITED(status))
    snprintf(why, cap, "gnuplot failed (exit %d)%s%s; see %s/gnuplot.log", WEXITSTATUS(status),
             *reason ? ": " : "", reason, outdir);
  else
    snprintf(why, cap, "gnuplot was killed by signal %d", WTERMSIG(status));
  return -1;
}

/* ---- a chain's panel set ---- */

static const wf_report_item *item_named(const wf_report *rp, const char *prefix, const char *what) {
  char name[200];
  snprintf(name, sizeof name, "%s_%s", prefix, what);
  for (size_t i = 0; i < rp->nseries; i++)
    if (!strcmp(rp->series[i].name, name) && rp->series[i].n) return &rp->series[i];
  return NULL;
}

/* One panel: the series `whats` of the chain that exist, overlaid, in one human unit. */
static int panel(FILE *gp, const wf_report *rp, const char *prefix, const char *title,
                 const char *const *whats, size_t n) {
  static const char *const quantile[3] = {"p50", "p95", "p99"}; /* the lines when n = 3 */
  const wf_report_item *its[3];
  const char *labels[3];
  double top = 0;
  size_t m = 0;
  for (size_t k = 0; k < n; k++)
    if ((its[m] = item_named(rp, prefix, whats[k]))) {
      top = fmax(top, fmax(fabs(its[m]->min), fabs(its[m]->max)));
      labels[m++] = quantile[k];
    }
  if (!m) return 0;
  wf_report_unit u = wf_report_unit_for(its[0]->units, top);
  fputs("set title ", gp);
  wf_report_gp_quote(gp, title);
  fputs("\nset ylabel ", gp);
  wf_report_gp_quote(gp, u.name);
  fputs("\nplot ", gp);
  for (size_t k = 0; k < m; k++) {
    /* Quantiles per interval have gaps (NaN: no value in it): points keep them visible. */
    fprintf(gp, "%s'%s.dat' using 1:($2/%.17g) with %s lc rgb '%s' title ", k ? ", " : "",
            its[k]->stem, u.div, n > 1 ? "linespoints lw 1 pt 7 ps 0.45" : "lines lw 1.3",
            wf_report_color(k));
    wf_report_gp_quote(gp, m > 1 ? labels[k] : "");
  }
  fputc('\n', gp);
  return 1;
}

int wf_report_plot_panels(wf_report *rp, FILE *gp, wf_error *err) {
  for (size_t i = 0; i < rp->nseries; i++) {
    const char *name = rp->series[i].name;
    size_t len = strlen(name);
    if (len <= 7 || strcmp(name + len - 7, "_blocks") || len - 7 >= 64) continue;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%.*s", (int)(len - 7), name);
    if (!item_named(rp, prefix, "block_interval_p50")) continue;
    struct wf_report_panel *x = realloc(rp->panels, (rp->npanels + 1) * sizeof *x);
    if (!x) return wf_error_set(err, "out of memory");
    rp->panels = x;
    struct wf_report_panel *p = &x[rp->npanels++];
    snprintf(p->prefix, sizeof p->prefix, "%s", prefix);
    wf_report_stem(p->stem, sizeof p->stem, "chain", prefix, rp->npanels);
    p->drawn = 0;
    fprintf(gp, "\nreset\nif (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
                "  set terminal pngcairo noenhanced size 1200,720 font 'sans,9'\n"
                "} else {\n  set terminal png noenhanced size 1200,720\n}\n"
                "set output '%s.png'\nset multiplot layout 2,3 title ",
            p->stem);
    wf_report_gp_quote(gp, prefix);
    fputs(" font ',12'\nset border 3\nset tics nomirror out\nset grid lc rgb '#dadada'\n"
          "set key bmargin center horizontal\nset xlabel 'simulated time (s)'\nset yrange [0:*]\n",
          gp);
    const char *tps[] = {"txs"}, *pool[] = {"mempool"}, *price[] = {"base_price"},
               *rej[] = {"rejected"};
    const char *interval[] = {"block_interval_p50", "block_interval_p95", "block_interval_p99"};
    const char *latency[] = {"tx_latency_p50", "tx_latency_p95", "tx_latency_p99"};
    panel(gp, rp, prefix, "committed transactions per second", tps, 1);
    panel(gp, rp, prefix, "block interval", interval, 3);
    if (!panel(gp, rp, prefix, "commit latency (its clients)", latency, 3))
      fputs("set multiplot next\n", gp);
    panel(gp, rp, prefix, "transactions in mempools (summed over nodes)", pool, 1);
    panel(gp, rp, prefix, "base price per gas (nano-units)", price, 1);
    panel(gp, rp, prefix, "refused at CheckTx or evicted, per second", rej, 1);
    fputs("unset multiplot\n", gp);
    /* Back to the size every other plot has. */
    fputs("if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
          "  set terminal pngcairo noenhanced size " PLOT_SIZE " font 'sans,10'\n"
          "} else {\n  set terminal png noenhanced size " PLOT_SIZE "\n}\n",
          gp);
  }
  return 0;
}
