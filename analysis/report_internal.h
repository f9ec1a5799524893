/* What report.c reads out of a trace and hands to the plotting (report_plot.c) and page
 * (report_html.c) halves of `weft report`. Not for use outside analysis/report*.c. */
#ifndef WF_REPORT_INTERNAL_H
#define WF_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "trace.h"

/* One plotted series or histogram. Strings other than stem are owned by the reader. */
typedef struct wf_report_item {
  const char *name, *units, *description;
  char stem[128];              /* file name without extension: "series-events", "hist-latency" */
  size_t n;                    /* samples, or non-empty buckets */
  double min, max, mean, last; /* series only, over finite samples */
  int vs_index; /* series drawn against sample number: no time_s of the same length */
  int drawn;    /* stem.png exists after gnuplot ran */
} wf_report_item;

typedef struct wf_report {
  const char *h5path, *outdir;
  wf_trace_reader *r;
  double *time; /* /series/time_s, or NULL */
  size_t ntime;
  wf_report_item *series, *hists;
  size_t nseries, nhists;
  /* A chain's series drawn together (report_plot.c): its name prefix and the figure's stem. */
  struct wf_report_panel {
    char prefix[64], stem[160];
    int drawn;
  } *panels;
  size_t npanels;
  char plot_problem[1024]; /* why plots are missing; empty when gnuplot drew them */
} wf_report;

/* A quantity in ns read in a human unit: the largest of s, ms and us that `max` reaches (ns
 * below 1 us); other units as they are (div 1). Data files keep the trace's values. */
typedef struct wf_report_unit {
  double div;
  const char *name;
} wf_report_unit;
wf_report_unit wf_report_unit_for(const char *units, double max);

/* Shared with `weft compare` (compare.c) and the sweep's page (sweep_report.c). */
void wf_report_esc(FILE *f, const char *s);            /* HTML text */
const char *wf_report_css(void);                       /* the pages' style sheet */
/* The i-th line colour of plots that draw several lines ("#rrggbb"; the palette repeats). */
const char *wf_report_color(size_t i);
/* Writes outdir/index.html through index.html.part, renamed once body(f, ud) returned 0 and
 * the file was written, so a reader never sees half a page. */
int wf_report_page(const char *outdir, int (*body)(FILE *f, void *ud, wf_error *err), void *ud,
                   wf_error *err);
void wf_report_put_sig(FILE *f, double v, int digits); /* finite: %.*g; else a dash */
void wf_report_gp_quote(FILE *gp, const char *s);      /* a gnuplot single-quoted string */
void wf_report_put_num(FILE *f, double v);             /* %.17g, NaN for a gap */
/* A file stem "<prefix>-<name>" with [A-Za-z0-9._-] only; a changed name gets "-<idx>". */
void wf_report_stem(char *stem, size_t cap, const char *prefix, const char *name, size_t idx);
/* The run's headline figures from /summary/figures (none: *n = 0, returns 0; a layout this
 * reader does not know: -1). The caller frees *out. */
typedef struct wf_report_figure {
  char name[65], units[33], description[257];
  double value;
} wf_report_figure;
int wf_report_figures(wf_trace_reader *r, wf_report_figure **out, size_t *n);

/* dir + "/" + file into buf; -1 if it does not fit. */
int wf_report_path(char *buf, size_t cap, const char *dir, const char *file);

/* report_plot.c: data files, the gnuplot script and running it. */
FILE *wf_report_script_open(const wf_report *rp, wf_error *err);
int wf_report_plot_series(const wf_report *rp, FILE *gp, wf_report_item *it, const double *v,
                          wf_error *err);
int wf_report_plot_hist(const wf_report *rp, FILE *gp, wf_report_item *it, const double *lo,
                        const double *hi, const double *count, wf_error *err);
/* One figure of six panels per chain (a prefix p with p_blocks and p_block_interval_p50
 * series): TPS, block interval and commit latency quantiles, mempools, base price, refusals.
 * Uses the series' data files, so call it after they are written. */
int wf_report_plot_panels(wf_report *rp, FILE *gp, wf_error *err);
/* Runs plots.gp in outdir; on failure fills why and returns -1. */
int wf_report_run_gnuplot(const char *outdir, char *why, size_t cap);

/* report_html.c: index.html, written beside the plots. */
int wf_report_html(const wf_report *rp, wf_error *err);
/* A number as the shortest text that reads back to the same double; other text unchanged. */
const char *wf_report_pretty_num(const char *text, char *buf, size_t cap);

#endif
