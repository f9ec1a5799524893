/* weft report: turns one run trace into gnuplot PNGs and a self-contained index.html. It reads
 * the trace only through sim/trace.h and draws by running gnuplot as a child process, so it
 * needs neither hdf5.h nor a plotting library. */
#ifndef WF_REPORT_H
#define WF_REPORT_H

#include "error.h"

/* Writes outdir/index.html, per series and histogram a .dat file and a .png, and plots.gp
 * (the gnuplot script, re-runnable by hand). Creates outdir and its parents; NULL means the
 * trace path without its .h5 suffix (results/x.h5 -> results/x/). When gnuplot is missing or
 * fails, index.html and the data are still written and -1 says why. */
/* Where a trace's report goes by default: the trace's path without ".h5" (or with "-report"
 * added when it has no such suffix). The caller frees it; NULL without memory. */
char *wf_report_default_dir(const char *trace);

/* The page of a sweep's folder (weft sweep -o DIR) into outdir (NULL: DIR), each completed
 * point's own report beside its trace (sweep_report.c). */
int wf_report_sweep(const char *dir, const char *outdir, wf_error *err);

int wf_report_write(const char *h5path, const char *outdir, wf_error *err);

/* The `weft report` subcommand; argv[0] is "report". Returns the exit status: 0 done,
 * 1 the trace could not be read or the report written, 2 bad command line. */
int wf_report_main(int argc, char **argv);

#endif
