#include "run.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "opts.h"
#include "path.h"
#include "scenario.h"
#include "sync.h"

enum {
  O_SET,
  O_SEED,
  O_OUT,
  O_FORCE,
  O_JSON,
  O_QUIET,
  O_REPORT,
  O_NO_TRACE,
  O_BUILDERS,
  O_CHECK,
  O_QUEUE,
  O_WINDOW,
  O_LUA_STEPS,
  O_LUA_MEMORY
};

/* The lookahead in seconds: infinite when no LP may send across the placement's boundaries
 * (groups that never talk to each other), which JSON prints as null. */
static double lookahead_s(const wf_run_stats *st) {
  return st->lookahead == WF_TIME_MAX ? INFINITY : wf_time_to_s(st->lookahead);
}

static const wf_opt run_opts[] = {
    {"set", 0, "KEY=VALUE",
     "override a parameter the scenario declares with weft.params{...};\n"
     "repeatable; numbers, booleans and durations (\"250ms\", \"6s\", \"10min\")"},
    {"seed", 0, "N", "run seed (overrides the scenario's weft.run{seed=...}; default 1)"},
    {"output", 'o', "FILE.h5", "trace file (default results/<scenario>-<YYYYmmdd-HHMMSS>.h5)"},
    {"force", 0, NULL, "overwrite an existing output file"},
    {"json", 0, NULL,
     "print one JSON object with the run's figures on stdout at the end:\n"
     "events, wall_s, events_per_s, sim_time_s, ranks, output, seed, status, ..."},
    {"quiet", 'q', NULL, "no progress line and no summary on stderr"},
    {"report", 0, NULL, "also write the report (as `weft report`) next to the trace"},
    {"no-trace", 0, NULL, "write no trace file (to measure the engine alone)"},
    {"list-builders", 0, NULL, "list weft.run and every builder's keys, types and defaults"},
    {"check", 0, NULL,
     "build the world and stop: checks the scenario and the --set values\n"
     "without running it or writing anything (exit 0: it would run)"},
    {"queue", 0, "KIND",
     "pending-event set: auto (default: a 4-ary heap while fewer than 4096\n"
     "events are pending, a ladder queue once more are), heap or ladder;\n"
     "results are identical, only speed differs"},
    {"window-fraction", 0, "F",
     "under mpirun: windows of F x the lookahead, 0 < F <= 1 (default 1, the\n"
     "longest safe window; smaller only adds exchanges: for measurement)"},
    {"lua-steps", 0, "N",
     "work the scenario script may do before it is stopped as stuck (default\n"
     "1000000000, about 6 s): Lua instructions, plus one per 16 bytes it\n"
     "allocates and one per pattern-matching step; finalizers included"},
    {"lua-memory", 0, "SIZE",
     "cap on the memory the scenario's Lua state holds at once, e.g. 512M or\n"
     "2G (default 1/16 of this machine's memory, at least 256M)"},
};
#define NOPTS (sizeof run_opts / sizeof *run_opts)

typedef struct run_args {
  const char *scenario, *output;
  const char **sets;
  size_t nsets;
  uint64_t seed;
  int seed_given, force, json, quiet, report, no_trace, help, builders, check;
  wf_queue_kind queue;
  double window_fraction;
  uint64_t lua_steps, lua_memory; /* 0: defaults */
} run_args;

static int on_opt(void *ud, int idx, const char *v, wf_error *err) {
  run_args *a = ud;
  char *end;
  switch (idx) {
  case -1:
    a->help = 1;
    break;
  case O_SET: /* the form is the command line's; whether the key and value fit, the scenario's */
    if (!strchr(v, '=') || v[0] == '=') return wf_error_set(err, "--set %s: expected key=value", v);
    a->sets[a->nsets++] = v;
    break;
  case O_SEED:
    errno = 0;
    a->seed = strtoull(v, &end, 10);
    if (errno || *end || !*v || v[0] == '-')
      return wf_error_set(err, "--seed %s: expected a non-negative integer", v);
    a->seed_given = 1;
    break;
  case O_OUT:
    a->output = v;
    break;
  case O_FORCE:
    a->force = 1;
    break;
  case O_JSON:
    a->json = 1;
    break;
  case O_QUIET:
    a->quiet = 1;
    break;
  case O_REPORT:
    a->report = 1;
    break;
  case O_NO_TRACE:
    a->no_trace = 1;
    break;
  case O_BUILDERS:
    a->builders = 1;
    break;
  case O_CHECK:
    a->check = 1;
    break;
  case O_QUEUE:
    if (!strcmp(v, "auto"))
      a->queue = WF_QUEUE_AUTO;
    else if (!strcmp(v, "heap"))
      a->queue = WF_QUEUE_HEAP;
    else if (!strcmp(v, "ladder"))
      a->queue = WF_QUEUE_LADDER;
    else
      return wf_error_set(err, "--queue %s: expected auto, heap or ladder", v);
    break;
  case O_WINDOW:
    a->window_fraction = strtod(v, &end);
    if (*end || !(a->window_fraction > 0 && a->window_fraction <= 1))
      return wf_error_set(err, "--window-fraction %s: expected a number in (0, 1]", v);
    break;
  case O_LUA_STEPS:
    return wf_opts_count("lua-steps", v, UINT64_MAX, &a->lua_steps, err);
  case O_LUA_MEMORY:
    return wf_opts_bytes("lua-memory", v, &a->lua_memory, err);
  default: /* an option in the table without a case here: a bug, never ignored silently */
    return wf_error_set(err, "internal error: option %d is not handled", idx);
  }
  return 0;
}

static int on_arg(void *ud, const char *text, wf_error *err) {
  run_args *a = ud;
  if (a->scenario)
    return wf_error_set(err, "more than one scenario given ('%s', '%s')", a->scenario, text);
  a->scenario = text;
  return 0;
}

/* ---- progress ---- */

static void progress(void *ud, wf_time now, wf_time end, uint64_t events, double wall) {
  (void)ud;
  double frac = end ? (double)now / (double)end : 0, rate = wall > 0 ? (double)events / wall : 0;
  char t[32], e[32], eta[32] = "?";
  wf_duration_format(now, t, sizeof t);
  wf_duration_format(end, e, sizeof e);
  if (frac > 0.001) {
    double left = wall * (1 - frac) / frac;
    snprintf(eta, sizeof eta, "%d:%02d", (int)(left / 60), (int)left % 60);
  }
  fprintf(stderr, "\r\033[K  t=%s/%s  %5.1f%%  %.2f M events/s  ETA %s", t, e, 100 * frac,
          rate / 1e6, eta);
  fflush(stderr);
}

static volatile sig_atomic_t stop_flag;
static void on_sigint(int sig) {
  (void)sig;
  stop_flag = 1;
  signal(SIGINT, SIG_DFL); /* a second Ctrl-C ends the process at once */
}

/* ---- output path ---- */

static int default_output(const char *name, char *out, size_t size, wf_error *err) {
  if (wf_mkdirs("results", err) != 0) return -1;
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  snprintf(out, size, "results/%s-%s.h5", name, stamp);
  return 0;
}

static int check_output(const char *path, int force, wf_error *err) {
  struct stat st;
  if (stat(path, &st) == 0) {
    if (S_ISDIR(st.st_mode)) return wf_error_set(err, "output '%s' is a directory", path);
    if (!force) return wf_error_set(err, "output '%s' exists (use --force to overwrite)", path);
  }
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = 0;
  else
    snprintf(dir, sizeof dir, ".");
  if (!*dir) snprintf(dir, sizeof dir, "/");
  if (access(dir, W_OK) != 0)
    return wf_error_set(err, "cannot write output '%s': directory '%s': %s", path, dir,
                        strerror(errno));
  return 0;
}

/* ---- the trace's metadata ---- */

static int write_meta(wf_trace *t, const run_args *a, const wf_scenario_out *sc, wf_error *err) {
  if (wf_trace_attr_str(t, "scenario", a->scenario, err) ||
      wf_trace_attr_str(t, "scenario_text", sc->text, err) ||
      wf_trace_attr_str(t, "params", sc->params_json, err) ||
      wf_trace_attr_u64(t, "seed", sc->seed, err) ||
      wf_trace_attr_u64(t, "ranks", (uint64_t)wf_sync_size(), err) ||
      wf_trace_attr_str(t, "weft_version", WEFT_VERSION, err) ||
      wf_trace_attr_f64(t, "end_time_s", wf_time_to_s(sc->end_time), err) ||
      (sc->description && *sc->description &&
       wf_trace_attr_str(t, "description", sc->description, err)) ||
      wf_trace_attr_str(t, "status", "running", err))
    return -1;
  return 0;
}

static double cross_fraction(const wf_run_stats *st) {
  return st->sent ? (double)st->cross_rank / (double)st->sent : 0;
}

/* The events each rank handled, as a JSON array: a view of the load balance. */
static char *rank_events_json(const uint64_t *per_rank) {
  wf_json j;
  wf_json_init(&j);
  wf_json_begin_array(&j);
  for (int r = 0; per_rank && r < wf_sync_size(); r++) wf_json_uint(&j, per_rank[r]);
  wf_json_end_array(&j);
  return wf_json_take(&j);
}

static int write_result(wf_trace *t, const wf_run_stats *st, const uint64_t *per_rank,
                        const char *error, wf_error *err) {
  char *ranks = rank_events_json(per_rank);
  int rc =
      wf_trace_attr_u64(t, "events", st->events, err) ||
      wf_trace_attr_f64(t, "sim_time_s", wf_time_to_s(st->sim_time), err) ||
      wf_trace_attr_f64(t, "wall_s", st->wall_s, err) ||
      wf_trace_attr_u64(t, "windows", st->windows, err) ||
      wf_trace_attr_f64(t, "cross_rank_fraction", cross_fraction(st), err) ||
      wf_trace_attr_str(t, "rank_events", ranks ? ranks : "[]", err) ||
      (st->lookahead_from && (wf_trace_attr_f64(t, "lookahead_s", lookahead_s(st), err) ||
                              wf_trace_attr_str(t, "lookahead_from", st->lookahead_from, err) ||
                              wf_trace_attr_str(t, "lookahead_bound", st->lookahead_bound, err))) ||
      wf_trace_attr_str(t, "status", error ? "failed" : st->status, err) ||
      (error && wf_trace_attr_str(t, "error", error, err));
  free(ranks);
  return rc ? -1 : 0;
}

/* This process's peak resident set so far, in kB (ru_maxrss is in kB on Linux). */
static uint64_t peak_rss_kb(void) {
  struct rusage ru;
  return getrusage(RUSAGE_SELF, &ru) == 0 && ru.ru_maxrss > 0 ? (uint64_t)ru.ru_maxrss : 0;
}

/* What each rank holds, gathered on rank 0: its LPs and its peak RSS in kB. */
typedef struct rank_mem {
  uint64_t lps, rss_kb;
} rank_mem;

static void json_rank_array(wf_json *j, const char *key, const rank_mem *m, int mb) {
  wf_json_key(j, key);
  wf_json_begin_array(j);
  for (int r = 0; m && r < wf_sync_size(); r++)
    if (mb)
      wf_json_measured(j, (double)m[r].rss_kb / 1024);
    else
      wf_json_uint(j, m[r].lps);
  wf_json_end_array(j);
}

static void print_json(const run_args *a, const wf_scenario_out *sc, const wf_run_stats *st,
                       const uint64_t *per_rank, double sync_max_s, rank_mem *mem,
                       const char *output, const char *report, const wf_engine *eng) {
  wf_json j;
  wf_json_init(&j);
  wf_json_begin_object(&j);
  wf_json_key(&j, "scenario");
  wf_json_str(&j, a->scenario);
  wf_json_key(&j, "status");
  wf_json_str(&j, st->status);
  wf_json_key(&j, "events");
  wf_json_uint(&j, st->events);
  wf_json_key(&j, "wall_s");
  wf_json_measured(&j, st->wall_s);
  wf_json_key(&j, "events_per_s");
  wf_json_measured(&j, st->wall_s > 0 ? (double)st->events / st->wall_s : 0);
  wf_json_key(&j, "sim_time_s");
  wf_json_num(&j, wf_time_to_s(st->sim_time));
  wf_json_key(&j, "ranks");
  wf_json_int(&j, wf_sync_size());
  wf_json_key(&j, "windows");
  wf_json_uint(&j, st->windows);
  wf_json_key(&j, "events_per_window");
  wf_json_num(&j, st->windows ? (double)st->events / (double)st->windows : 0);
  wf_json_key(&j, "cross_rank_fraction");
  wf_json_num(&j, cross_fraction(st));
  wf_json_key(&j, "sync_s");
  wf_json_measured(&j, st->sync_s);
  wf_json_key(&j, "sync_max_s");
  wf_json_measured(&j, sync_max_s);
  wf_json_key(&j, "rank_events");
  wf_json_begin_array(&j);
  for (int r = 0; per_rank && r < wf_sync_size(); r++) wf_json_uint(&j, per_rank[r]);
  wf_json_end_array(&j);
  /* The lookahead derived from the placement, the LP type that set it and which bound. */
  wf_json_key(&j, "lookahead_s");
  wf_json_num(&j, st->lookahead_from ? lookahead_s(st) : 0);
  wf_json_key(&j, "lookahead_from");
  wf_json_str(&j, st->lookahead_from ? st->lookahead_from : "");
  wf_json_key(&j, "lookahead_bound");
  wf_json_str(&j, st->lookahead_bound ? st->lookahead_bound : "");
  /* Memory: rank 0's peak (measured now, after writing the trace) and the largest of any
   * rank's (the others measured theirs when the run ended). */
  uint64_t max_kb = 0;
  if (mem) {
    uint64_t now = peak_rss_kb();
    if (now > mem[0].rss_kb) mem[0].rss_kb = now;
    for (int r = 0; r < wf_sync_size(); r++)
      if (mem[r].rss_kb > max_kb) max_kb = mem[r].rss_kb;
  }
  wf_json_key(&j, "peak_rss_mb");
  wf_json_measured(&j, mem ? (double)mem[0].rss_kb / 1024 : (double)peak_rss_kb() / 1024);
  wf_json_key(&j, "peak_rss_max_mb");
  wf_json_measured(&j, mem ? (double)max_kb / 1024 : (double)peak_rss_kb() / 1024);
  json_rank_array(&j, "rank_peak_rss_mb", mem, 1);
  json_rank_array(&j, "rank_lps", mem, 0);
  wf_json_key(&j, "seed");
  wf_json_uint(&j, sc->seed);
  wf_json_key(&j, "pending");
  wf_json_uint(&j, st->pending);
  wf_json_key(&j, "output");
  if (output)
    wf_json_str(&j, output);
  else
    wf_json_str(&j, "");
  if (report) {
    wf_json_key(&j, "report");
    wf_json_str(&j, report);
  }
  /* The models' headline figures, by name (units: /summary/figures in the trace). */
  wf_json_key(&j, "summary");
  wf_json_begin_object(&j);
  for (size_t i = 0; i < wf_summary_count(eng); i++) {
    double v;
    const char *name = wf_summary_get(eng, i, &v, NULL);
    wf_json_key(&j, name);
    wf_json_sig(&j, v, 6);
  }
  wf_json_end_object(&j);
  wf_json_end_object(&j);
  char *s = wf_json_take(&j);
  if (s) printf("%s\n", s);
  free(s);
}

/* ---- the command ---- */

typedef struct run_ctx {
  run_args a;
  wf_scenario_out sc;
  wf_engine *eng;
  char output[1024], part[1100];
  wf_trace *trace;
} run_ctx;

static void cleanup(run_ctx *c) {
  if (c->trace) wf_trace_close(c->trace, NULL);
  if (*c->part) remove(c->part);
  wf_engine_free(c->eng);
  wf_scenario_out_free(&c->sc);
  free(c->a.sets);
}

/* On several ranks every rank knows the error (see wf_sync_agree); rank 0 says it once. */
static int fail(run_ctx *c, wf_error *err) {
  if (wf_sync_rank() == 0) fprintf(stderr, "weft run: %s\n", err->msg);
  cleanup(c);
  return 1;
}

/* After the engine stopped with an error: keep what was written, marked failed, beside the
 * output so the cause can be inspected, never under the output's own name. */
static int fail_after_run(run_ctx *c, const wf_run_stats *st, wf_error *err) {
  if (wf_sync_rank() == 0) fprintf(stderr, "weft run: %s\n", err->msg);
  if (c->trace) {
    wf_error e2 = {0};
    write_result(c->trace, st, NULL, err->msg, &e2);
    int closed = wf_trace_close(c->trace, &e2);
    c->trace = NULL;
    char failed[1200];
    snprintf(failed, sizeof failed, "%s.failed", c->output);
    if (closed == 0 && rename(c->part, failed) == 0) {
      fprintf(stderr, "weft run: the partial trace is kept as %s (status \"failed\")\n", failed);
      c->part[0] = 0;
    }
  }
  cleanup(c);
  return 1;
}

/* Resolves the output path, refuses to clobber, and creates the trace as <output>.part. */
static int open_output(run_ctx *c, wf_error *err) {
  if (c->a.output)
    snprintf(c->output, sizeof c->output, "%s", c->a.output);
  else if (default_output(c->sc.name, c->output, sizeof c->output, err) != 0)
    return -1;
  if (check_output(c->output, c->a.force, err) != 0) return -1;
  snprintf(c->part, sizeof c->part, "%s.part", c->output);
  c->trace = wf_trace_create(c->part, err);
  if (!c->trace) c->part[0] = 0;
  return c->trace ? 0 : -1;
}

int wf_cmd_run(int argc, char **argv, const wf_model *const *models, size_t nmodels,
               wf_after_run report) {
  run_ctx c = {0};
  wf_error err = {0};
  c.a.sets = calloc((size_t)argc + 1, sizeof *c.a.sets);
  if (!c.a.sets) return 1;
  if (wf_opts_parse(argc, argv, run_opts, NOPTS, on_opt, on_arg, &c.a, &err) != 0) {
    fprintf(stderr, "weft run: %s\n", err.msg);
    free(c.a.sets);
    return 2;
  }
  if (c.a.help || c.a.builders) {
    if (c.a.help)
      wf_opts_help(stdout, "weft run SCENARIO.lua [options]",
                   "Runs a scenario: the Lua script builds the world (weft.params, weft.run and\n"
                   "the model builders), the engine runs it to its end time, and the trace goes\n"
                   "to one HDF5 file (schema: analysis/SCHEMA.md). A progress line shows on\n"
                   "stderr when it is a terminal; Ctrl-C stops early and keeps the trace.\n"
                   "Exit status: 0 done; 2 bad usage (a malformed command line: unknown option,\n"
                   "missing or ill-formed value); 1 an error (in the scenario, in what the\n"
                   "options ask of it, or in the run); 130 interrupted.",
                   run_opts, NOPTS);
    else
      wf_scenario_print_builders(models, nmodels, stdout);
    free(c.a.sets);
    return 0;
  }
  if (!c.a.scenario) {
    fprintf(stderr, "weft run: no scenario given (usage: weft run SCENARIO.lua [options])\n");
    free(c.a.sets);
    return 2;
  }
  if (c.a.no_trace && (c.a.output || c.a.report)) {
    fprintf(stderr, "weft run: --no-trace cannot go with --output or --report\n");
    free(c.a.sets);
    return 2;
  }

  c.eng = wf_engine_new(&err);
  if (!c.eng) return fail(&c, &err);
  wf_scenario_in in = {.path = c.a.scenario,
                       .sets = c.a.sets,
                       .nsets = c.a.nsets,
                       .models = models,
                       .nmodels = nmodels,
                       .seed = c.a.seed,
                       .seed_given = c.a.seed_given,
                       .instr_limit = c.a.lua_steps,
                       .memory_limit = c.a.lua_memory,
                       .quiet = wf_sync_rank() != 0};
  wf_scenario_load(&in, c.eng, &c.sc, &err);
  if (wf_sync_agree(&err) != 0) return fail(&c, &err);
  if (c.a.check) {
    if (!c.a.quiet && wf_sync_rank() == 0)
      fprintf(stderr, "weft run: %s builds: %u LPs, to %.6g s simulated\n", c.a.scenario,
              wf_engine_lp_count(c.eng), wf_time_to_s(c.sc.end_time));
    cleanup(&c);
    return 0;
  }

  /* Only rank 0 writes; the others learn whether it could. */
  if (!c.a.no_trace && wf_sync_rank() == 0 && open_output(&c, &err) == 0)
    write_meta(c.trace, &c.a, &c.sc, &err);
  if (wf_sync_agree(&err) != 0) return fail(&c, &err);

  int tty = isatty(fileno(stderr)) && !c.a.quiet && wf_sync_rank() == 0;
  wf_run_opts ro = {.end_time = c.sc.end_time,
                    .max_events = c.sc.max_events,
                    .sample = c.sc.sample,
                    .seed = c.sc.seed,
                    .trace = c.trace,
                    .queue = c.a.queue,
                    .window_fraction = c.a.window_fraction,
                    .progress = tty ? progress : NULL,
                    .progress_every_s = 0.25,
                    .stop = &stop_flag};
  /* SIGUSR1 too: mpirun forwards it to every rank, while its Ctrl-C kills the job. */
  signal(SIGINT, on_sigint);
  signal(SIGUSR1, on_sigint);
  wf_run_stats st;
  int rc = wf_engine_run(c.eng, &ro, &st, &err);
  signal(SIGINT, SIG_DFL);
  signal(SIGUSR1, SIG_DFL);
  if (tty) fprintf(stderr, "\r\033[K");
  if (rc != 0) return fail_after_run(&c, &st, &err);
  size_t got;
  uint64_t *per_rank = wf_sync_gather_bytes(&st.local_events, sizeof st.local_events, &got, &err);
  rank_mem mine = {st.local_lps, peak_rss_kb()};
  rank_mem *mem = wf_sync_gather_bytes(&mine, sizeof mine, &got, &err);
  uint64_t sync_ns[2] = {(uint64_t)(st.sync_s * 1e9), (uint64_t)(st.sync_s * 1e9)};
  wf_sync_sum_u64(&sync_ns[0], 1);
  wf_sync_max_u64(&sync_ns[1], 1);
  st.sync_s = (double)sync_ns[0] / 1e9 / wf_sync_size(); /* mean over ranks */
  double sync_max_s = (double)sync_ns[1] / 1e9;
  if (wf_sync_rank() != 0) {
    cleanup(&c);
    return 0;
  }
  if (mem && got != sizeof *mem * (size_t)wf_sync_size()) free(mem), mem = NULL;

  if (c.trace) {
    int wrote = write_result(c.trace, &st, per_rank, NULL, &err);
    if (wrote != 0) free(per_rank), free(mem);
    if (wrote != 0) return fail(&c, &err);
    int closed = wf_trace_close(c.trace, &err);
    c.trace = NULL;
    if (closed != 0) {
      free(per_rank), free(mem);
      return fail(&c, &err);
    }
    if (rename(c.part, c.output) != 0) {
      wf_error_set(&err, "cannot rename %s to %s: %s", c.part, c.output, strerror(errno));
      free(per_rank), free(mem);
      return fail(&c, &err);
    }
    c.part[0] = 0;
  }
  if (!c.a.quiet)
    fprintf(stderr, "weft: %llu events in %.3f s (%.2f M events/s), %.6g s simulated, %s; %s%s\n",
            (unsigned long long)st.events, st.wall_s,
            st.wall_s > 0 ? (double)st.events / st.wall_s / 1e6 : 0, wf_time_to_s(st.sim_time),
            st.status, c.a.no_trace ? "no trace" : "trace ", c.a.no_trace ? "" : c.output);
  int status = strcmp(st.status, "interrupted") == 0 ? 130 : 0;
  char where[4200] = "";
  if (c.a.report && report) {
    if (report(c.output, where, sizeof where, &err) != 0) {
      fprintf(stderr, "weft run: report: %s\n", err.msg);
      status = 1;
    } else if (!c.a.quiet) {
      fprintf(stderr, "weft: report %s\n", where);
    }
  }
  if (c.a.json)
    print_json(&c.a, &c.sc, &st, per_rank, sync_max_s, mem, c.a.no_trace ? NULL : c.output,
               *where && status != 1 ? where : NULL, c.eng);
  free(per_rank);
  free(mem);
  cleanup(&c);
  return status;
}
