#include "sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "opts.h"
#include "path.h"
#include "simtime.h"
#include "sweep_index.h"

/* ---- points ---- */

uint64_t wf_sweep_seed(const wf_sweep *s, size_t k) {
  return s->seeds[k % s->nseeds];
}

const char *wf_sweep_value(const wf_sweep *s, size_t k, size_t key) {
  k /= s->nseeds;
  for (size_t i = s->nkeys; --i > key;) k /= s->keys[i].nvalues;
  return s->keys[key].values[k % s->keys[key].nvalues];
}

/* ---- options ---- */

enum { O_OUT, O_JOBS, O_LIST, O_POINT, O_FORCE, O_QUIET };

static const wf_opt sweep_opts[] = {
    {"output", 'o', "DIR",
     "folder for the traces, logs and index.csv\n"
     "(default results/<sweep>-<YYYYmmdd-HHMMSS>/)"},
    {"jobs", 'j', "N", "points run at once (default: online CPUs / ranks per point)"},
    {"list", 0, NULL, "print the points, one a line (index seed=S key=value ...), and exit"},
    {"point", 0, "K",
     "run only point K, counted from 0 (a Slurm job array passes\n"
     "$SLURM_ARRAY_TASK_ID); needs -o DIR, which may hold other points"},
    {"force", 0, NULL, "use a non-empty DIR; the points run overwrite their traces"},
    {"quiet", 'q', NULL, "no progress line and no summary unless a point failed"},
};
#define NOPTS (sizeof sweep_opts / sizeof *sweep_opts)

typedef struct sweep_args {
  const char *path, *out;
  long jobs, point;
  int list, force, quiet, help;
} sweep_args;

static int parse_count(const char *opt, const char *v, long min, long *out, wf_error *err) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (errno || *end || !*v || n < min)
    return wf_error_set(err, "--%s %s: expected an integer >= %ld", opt, v, min);
  *out = n;
  return 0;
}

static int on_opt(void *ud, int idx, const char *v, wf_error *err) {
  sweep_args *a = ud;
  switch (idx) {
  case -1:
    a->help = 1;
    break;
  case O_OUT:
    a->out = v;
    break;
  case O_JOBS:
    return parse_count("jobs", v, 1, &a->jobs, err);
  case O_LIST:
    a->list = 1;
    break;
  case O_POINT:
    return parse_count("point", v, 0, &a->point, err);
  case O_FORCE:
    a->force = 1;
    break;
  case O_QUIET:
    a->quiet = 1;
    break;
  }
  return 0;
}

static int on_arg(void *ud, const char *text, wf_error *err) {
  sweep_args *a = ud;
  if (a->path)
    return wf_error_set(err, "more than one sweep file given ('%s', '%s')", a->path, text);
  a->path = text;
  return 0;
}

static void print_help(void) {
  wf_opts_help(
      stdout, "weft sweep SWEEP.lua [options]",
      "Runs a parameter sweep. SWEEP.lua returns weft.sweep{scenario = FILE, grid = {key =\n"
      "{values...}}, seeds = {...}, ranks = N}: every point of the grid's cartesian product\n"
      "(keys sorted, the last one varying fastest, seeds innermost) is one independent\n"
      "`weft run FILE --set key=value ... --seed S -o DIR/point-NNNN.h5`, run under\n"
      "`mpirun -np N` when ranks > 1. DIR/index.csv maps points to traces (point, seed, one\n"
      "column per key, trace, status, events, wall_s, exit_code) and is rewritten as points\n"
      "finish; each point's command and output are in DIR/point-NNNN.log. A failing point\n"
      "does not stop the others. Exit status: 0 every point completed, 1 a point failed\n"
      "or an error, 2 bad usage, 130 interrupted.",
      sweep_opts, NOPTS);
}

/* ---- the run's state ---- */

typedef struct sweep_ctx {
  sweep_args a;
  wf_sweep s;
  wf_sweep_index ix;
  char dir[2048], self[2048], mpirun[2048];
  char **env; /* the points' environment */
  int width;  /* digits of point numbers in file names, so that `ls` sorts them */
  pid_t *pids;
  double *started;
  size_t running, finished, failed;
  int tty, dirty;
  double t0, last_write;
} sweep_ctx;

static void point_file(const sweep_ctx *c, size_t k, const char *ext, char *out, size_t size) {
  snprintf(out, size, "%s/point-%0*zu%s", c->dir, c->width, k, ext);
}

static void progress(const sweep_ctx *c) {
  if (!c->tty) return;
  size_t total = c->a.point >= 0 ? 1 : c->s.npoints;
  double t = wf_wall_s() - c->t0;
  char eta[32] = "";
  if (c->finished > 0 && c->finished < total) {
    double left = t * (double)(total - c->finished) / (double)c->finished;
    snprintf(eta, sizeof eta, ", ETA %d:%02d", (int)(left / 60), (int)left % 60);
  }
  fprintf(stderr, "\r\033[K  sweep %s: %zu/%zu done, %zu running, %zu failed, %.0f s%s", c->s.name,
          c->finished, total, c->running, c->failed, t, eta);
  fflush(stderr);
}

/* Prints a message on its own line even while the progress line shows. */
static void say(const sweep_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const sweep_ctx *c, const char *fmt, ...) {
  if (c->tty) fprintf(stderr, "\r\033[K");
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  progress(c);
}

/* Rewriting a large index after every point would cost more than the points; small ones
 * (the usual case) are rewritten at once, large ones at most twice a second. */
static void maybe_write_index(sweep_ctx *c, int force) {
  if (!c->dirty) return;
  double t = wf_wall_s();
  if (!force && c->s.npoints > 1000 && t - c->last_write < 0.5) return;
  wf_error err = {0};
  if (wf_sweep_index_write(&c->ix, c->a.point, &err) != 0) say(c, "weft sweep: %s", err.msg);
  c->dirty = 0;
  c->last_write = t;
}

/* ---- the output folder ---- */

static int dir_is_empty(const char *path) {
  DIR *d = opendir(path);
  if (!d) return 1;
  int empty = 1;
  for (struct dirent *e; empty && (e = readdir(d));)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
  closedir(d);
  return empty;
}

static int prepare_dir(sweep_ctx *c, wf_error *err) {
  if (c->a.out) {
    snprintf(c->dir, sizeof c->dir, "%s", c->a.out);
    size_t n = strlen(c->dir);
    while (n > 1 && c->dir[n - 1] == '/') c->dir[--n] = 0;
  } else {
    char stamp[32];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(c->dir, sizeof c->dir, "results/%s-%s", c->s.name, stamp);
  }
  /* Tasks of a job array share the folder, so --point accepts one that others filled. */
  if (c->a.point < 0 && !c->a.force && !dir_is_empty(c->dir))
    return wf_error_set(err, "output folder '%s' is not empty (use --force to reuse it)", c->dir);
  return wf_mkdirs(c->dir, err);
}

/* ---- running one point ---- */

/* The command as a shell would take it, for the point's log: a failed point can be rerun by
 * hand. */
static char *command_line(char **argv) {
  size_t n = 2;
  for (char **a = argv; *a; a++) n += 3 * strlen(*a) + 3;
  char *s = malloc(n), *p = s;
  if (!s) return NULL;
  *p++ = '#';
  for (char **a = argv; *a; a++) {
    int plain = **a != 0;
    for (const char *q = *a; *q; q++)
      if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=./,:@", *q))
        plain = 0;
    *p++ = ' ';
    if (plain) {
      p += sprintf(p, "%s", *a);
      continue;
    }
    *p++ = '\'';
    for (const char *q = *a; *q; q++) p += *q == '\'' ? sprintf(p, "'\\''") : sprintf(p, "%c", *q);
    *p++ = '\'';
  }
  *p++ = '\n';
  *p = 0;
  return s;
}

/* Only async-signal-safe calls between fork and exec: the parent may hold MPI threads. */
static void child(const char *prog, char **argv, char **envp, const char *log,
                  const char *cmdline) {
  setpgid(0, 0); /* Ctrl-C reaches the sweep only; it forwards one SIGINT to each point */
  int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  int in = open("/dev/null", O_RDONLY);
  if (fd < 0 || in < 0) _exit(127);
  if (write(fd, cmdline, strlen(cmdline)) < 0) _exit(127);
  dup2(in, 0);
  dup2(fd, 1);
  dup2(fd, 2);
  execve(prog, argv, envp);
  static const char msg[] = "weft sweep: cannot execute the command above\n";
  if (write(2, msg, sizeof msg - 1) < 0) _exit(127);
  _exit(127);
}

/* Appends `weft run SCENARIO --set key=value ...` for point k to argv at n (sets[] holds the
 * strings it makes, for the caller to free); returns the new n, or -1 without memory. */
static int point_args(const sweep_ctx *c, size_t k, char **argv, int n, char **sets) {
  const wf_sweep *s = &c->s;
  argv[n++] = (char *)c->self;
  argv[n++] = "run";
  argv[n++] = s->scenario;
  for (size_t i = 0; i < s->nkeys; i++) {
    const char *v = wf_sweep_value(s, k, i);
    if (!(sets[i] = malloc(strlen(s->keys[i].name) + strlen(v) + 2))) return -1;
    sprintf(sets[i], "%s=%s", s->keys[i].name, v);
    argv[n++] = "--set";
    argv[n++] = sets[i];
  }
  return n;
}

/* Before any point runs: point 0's parameters must fit the scenario (a grid key it does not
 * declare would fail every point). `weft run --check` builds the world without running it. */
static int check_scenario(sweep_ctx *c, wf_error *err) {
  const wf_sweep *s = &c->s;
  char log[2200], **sets = calloc(s->nkeys + 1, sizeof *sets);
  char **argv = calloc(2 * s->nkeys + 8, sizeof *argv);
  int rc = -1, n = argv && sets ? point_args(c, 0, argv, 0, sets) : -1;
  const char *tmp = getenv("TMPDIR");
  snprintf(log, sizeof log, "%s/weft-sweep-check-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  int fd = n >= 0 ? mkstemp(log) : -1;
  if (fd >= 0) close(fd);
  char *cmdline = NULL;
  if (fd >= 0) {
    argv[n++] = "--check";
    argv[n++] = "--quiet";
    cmdline = command_line(argv);
  }
  if (cmdline) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) child(c->self, argv, c->env, log, cmdline);
    int ws = 0;
    if (pid < 0 || waitpid(pid, &ws, 0) != pid) {
      rc = wf_error_set(err, "cannot check the scenario: %s", strerror(errno));
    } else if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
      rc = 0;
    } else {
      char line[1024] = "", last[1024] = "";
      FILE *f = fopen(log, "r");
      while (f && fgets(line, sizeof line, f))
        if (line[0] && line[0] != '\n') snprintf(last, sizeof last, "%s", line);
      if (f) fclose(f);
      last[strcspn(last, "\n")] = 0;
      rc = wf_error_set(err, "%s does not fit %s, so no point ran: %s", c->a.path, s->scenario,
                        last[0] ? last : "weft run --check failed");
    }
  }
  if (fd >= 0) remove(log);
  if (rc != 0 && !err->msg[0]) wf_error_set(err, "cannot check the scenario: out of memory");
  free(cmdline);
  for (size_t i = 0; sets && i < s->nkeys; i++) free(sets[i]);
  free(sets);
  free(argv);
  return rc;
}

static int spawn(sweep_ctx *c, size_t k, long cpus) {
  const wf_sweep *s = &c->s;
  char np[32], seed[32], trace[2200], log[2200], **sets = calloc(s->nkeys + 1, sizeof *sets);
  char **argv = calloc(2 * s->nkeys + 20, sizeof *argv);
  int n = 0, mpi = s->ranks > 1, rc = -1;
  if (!sets || !argv) goto out;
  if (mpi) {
    snprintf(np, sizeof np, "%d", s->ranks);
    argv[n++] = "mpirun";
    argv[n++] = "-np";
    argv[n++] = np;
    if (s->ranks > cpus) argv[n++] = "--oversubscribe";
  }
  if ((n = point_args(c, k, argv, n, sets)) < 0) goto out;
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)wf_sweep_seed(s, k));
  point_file(c, k, ".h5", trace, sizeof trace);
  point_file(c, k, ".log", log, sizeof log);
  argv[n++] = "--seed";
  argv[n++] = seed;
  argv[n++] = "-o";
  argv[n++] = trace;
  argv[n++] = "--quiet";
  argv[n++] = "--json";
  char failed[2300];
  snprintf(failed, sizeof failed, "%s.failed", trace);
  remove(failed); /* left by an earlier attempt at this point; the index must not show it */
  if (c->a.force) {
    argv[n++] = "--force";
    remove(trace);
  }
  char *cmdline = command_line(argv);
  if (!cmdline) goto out;
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) child(mpi ? c->mpirun : c->self, argv, c->env, log, cmdline);
  free(cmdline);
  if (pid < 0) {
    say(c, "weft sweep: cannot start point %zu: %s", k, strerror(errno));
    goto out;
  }
  c->pids[k] = pid;
  c->started[k] = wf_wall_s();
  c->running++;
  wf_sweep_index_set(&c->ix, k, "running", NULL, -1, -1, -1);
  c->dirty = 1;
  rc = 0;
out:
  for (size_t i = 0; sets && i < s->nkeys; i++) free(sets[i]);
  free(sets);
  free(argv);
  return rc;
}

/* ---- a point's result ---- */

static int has_letter(const char *s) {
  for (; *s; s++)
    if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')) return 1;
  return 0;
}

/* The figures come from the JSON line `weft run --json` prints last. The reason a point failed
 * is the first error line (weft's own, or a sanitizer's); failing that (mpirun's banner), the
 * last line with words in it. */
static void read_log(const char *log, char *status, size_t ssize, long long *events, char *why,
                     size_t wsize) {
  FILE *f = fopen(log, "r");
  *events = -1;
  *status = *why = 0;
  if (!f) return;
  char *line = NULL;
  size_t cap = 0;
  int found = 0;
  for (ssize_t len; (len = getline(&line, &cap, f)) > 0;) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
    const char *st = strstr(line, "\"status\":\""), *ev = strstr(line, "\"events\":");
    if (line[0] == '{' && st && ev) {
      st += strlen("\"status\":\"");
      snprintf(status, ssize, "%.*s", (int)strcspn(st, "\""), st);
      *events = strtoll(ev + strlen("\"events\":"), NULL, 10);
    } else if (!found && line[0] != '#' && has_letter(line)) {
      found = strncmp(line, "weft", 4) == 0 || strstr(line, "ERROR") || strstr(line, "error:");
      snprintf(why, wsize, "%s", line);
    }
  }
  free(line);
  fclose(f);
}

static void reap(sweep_ctx *c, pid_t pid, int wstatus) {
  size_t k = 0;
  while (k < c->s.npoints && c->pids[k] != pid) k++;
  if (k == c->s.npoints) return;
  c->pids[k] = 0;
  c->running--;
  c->finished++;
  int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  char log[2200], trace[2200], status[32], why[512];
  long long events;
  point_file(c, k, ".log", log, sizeof log);
  read_log(log, status, sizeof status, &events, why, sizeof why);
  if (code == 130)
    snprintf(status, sizeof status, "interrupted");
  else if (code != 0)
    snprintf(status, sizeof status, "failed");
  else if (!*status)
    snprintf(status, sizeof status, "completed");
  /* The index names the file that exists: the trace, or the partial one a failed run kept. */
  const char *name = NULL;
  point_file(c, k, ".h5", trace, sizeof trace);
  if (access(trace, F_OK) == 0) name = trace;
  if (!name && (strcat(trace, ".failed"), access(trace, F_OK) == 0)) name = trace;
  if (name) name = strrchr(name, '/') + 1;
  wf_sweep_index_set(&c->ix, k, status, name, events, wf_wall_s() - c->started[k], code);
  c->dirty = 1;
  if (code != 0) {
    c->failed++;
    say(c, "weft sweep: point %zu %s (exit %d)%s%s [log: %s]", k, status, code, *why ? ": " : "",
        why, log);
  }
}

/* ---- scheduling ---- */

static volatile sig_atomic_t stop_count;
static void on_stop(int sig) {
  (void)sig;
  stop_count++;
}

/* Wakes waitpid once a second so that the progress line's clock moves. */
static void on_tick(int sig) {
  (void)sig;
}

static void run_points(sweep_ctx *c, size_t first, size_t last, long jobs, long cpus) {
  struct sigaction sa = {0}, old_int, old_term;
  sa.sa_handler = on_stop; /* no SA_RESTART: waitpid returns so the stop is seen at once */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  struct itimerval tick = {{1, 0}, {1, 0}}, no_tick = {{0, 0}, {0, 0}};
  if (c->tty) {
    sa.sa_handler = on_tick;
    sigaction(SIGALRM, &sa, NULL);
    setitimer(ITIMER_REAL, &tick, NULL);
  }
  int forwarded = 0;
  size_t next = first;
  for (;;) {
    while (!stop_count && c->running < (size_t)jobs && next < last) {
      if (spawn(c, next, cpus) != 0) {
        wf_sweep_index_set(&c->ix, next, "failed", NULL, -1, -1, -1);
        c->failed++;
        c->finished++;
        c->dirty = 1;
      }
      next++;
    }
    maybe_write_index(c, 0);
    progress(c);
    if (c->running == 0) break;
    int wstatus;
    pid_t pid = waitpid(-1, &wstatus, 0);
    if (pid > 0) {
      reap(c, pid, wstatus);
      maybe_write_index(c, 0);
    } else if (errno != EINTR) {
      break;
    }
    /* Each Ctrl-C is passed on once: the first lets points keep their traces, a second
     * ends them at once, as with `weft run`. */
    for (; forwarded < stop_count; forwarded++)
      for (size_t k = first; k < last; k++)
        if (c->pids[k] > 0) kill(c->pids[k], SIGINT);
  }
  if (c->tty) setitimer(ITIMER_REAL, &no_tick, NULL);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  c->dirty = 1;
  maybe_write_index(c, 1);
}

/* ---- the command ---- */

static void list_points(const wf_sweep *s) {
  for (size_t k = 0; k < s->npoints; k++) {
    printf("%zu seed=%llu", k, (unsigned long long)wf_sweep_seed(s, k));
    for (size_t i = 0; i < s->nkeys; i++)
      printf(" %s=%s", s->keys[i].name, wf_sweep_value(s, k, i));
    putchar('\n');
  }
}

static int self_path(char *out, size_t size, wf_error *err) {
  ssize_t n = readlink("/proc/self/exe", out, size - 1);
  if (n <= 0 || (size_t)n >= size - 1)
    return wf_error_set(err, "cannot find the weft executable (/proc/self/exe): %s",
                        n < 0 ? strerror(errno) : "path too long");
  out[n] = 0;
  return 0;
}

extern char **environ;

static int under_launcher(void) {
  static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"};
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
    if (getenv(vars[i])) return 1;
  return 0;
}

static int launcher_var(const char *e) {
  return !strncmp(e, "PMIX_", 5) || !strncmp(e, "PMI_", 4) ||
         (!strncmp(e, "OMPI_", 5) && strncmp(e, "OMPI_ALLOW_RUN_AS_ROOT", 22));
}

/* Built before any fork, since the child may not allocate. A sweep started by a launcher
 * (mpirun, srun) must not hand its job's identity to the points, or each would join the
 * sweep's MPI job instead of starting its own. */
static int make_env(sweep_ctx *c, wf_error *err) {
  size_t n = 0;
  while (environ[n]) n++;
  if (!(c->env = calloc(n + 3, sizeof *c->env))) return wf_error_set(err, "out of memory");
  int scrub = under_launcher(), root = c->s.ranks > 1 && geteuid() == 0;
  size_t m = 0;
  for (char **e = environ; *e; e++)
    if (!(scrub && launcher_var(*e)) && !(root && !strncmp(*e, "OMPI_ALLOW_RUN_AS_ROOT", 22)))
      c->env[m++] = *e;
  if (root) { /* Open MPI refuses to start as root without both */
    c->env[m++] = "OMPI_ALLOW_RUN_AS_ROOT=1";
    c->env[m++] = "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1";
  }
  return 0;
}

static int find_in_path(const char *name, char *out, size_t size) {
  const char *path = getenv("PATH");
  for (const char *p = path ? path : "/usr/bin:/bin";;) {
    const char *colon = strchr(p, ':');
    int len = colon ? (int)(colon - p) : (int)strlen(p);
    snprintf(out, size, "%.*s/%s", len ? len : 1, len ? p : ".", name);
    if (access(out, X_OK) == 0) return 0;
    if (!colon) return -1;
    p = colon + 1;
  }
}

static int setup(sweep_ctx *c, wf_error *err) {
  if (c->a.point >= (long)c->s.npoints)
    return wf_error_set(err, "--point %ld: %s has %zu points (0..%zu)", c->a.point, c->s.path,
                        c->s.npoints, c->s.npoints - 1);
  if (c->s.ranks > 1 && find_in_path("mpirun", c->mpirun, sizeof c->mpirun) != 0)
    return wf_error_set(err, "%s asks for ranks = %d per point, but mpirun is not on PATH",
                        c->s.path, c->s.ranks);
  if (self_path(c->self, sizeof c->self, err) || make_env(c, err) || prepare_dir(c, err) ||
      check_scenario(c, err))
    return -1;
  c->width = 4;
  for (size_t n = c->s.npoints - 1; n >= 10000; n /= 10) c->width++;
  c->pids = calloc(c->s.npoints, sizeof *c->pids);
  c->started = calloc(c->s.npoints, sizeof *c->started);
  if (!c->pids || !c->started) return wf_error_set(err, "out of memory");
  if (wf_sweep_index_init(&c->ix, &c->s, c->dir, err) != 0) return -1;
  /* A job array's tasks must agree on what the folder holds before adding to it. */
  if (c->a.point >= 0 && wf_sweep_index_check(&c->ix, err) != 0) return -1;
  return 0;
}

/* A job array resubmitted after some tasks failed reruns only those: a point whose trace
 * exists is done, and its row stays as it is. */
static int point_done(const sweep_ctx *c, size_t k) {
  char trace[2200];
  point_file(c, k, ".h5", trace, sizeof trace);
  if (access(trace, F_OK) != 0) return 0;
  if (!c->a.quiet)
    fprintf(stderr, "weft sweep: point %zu is done already (%s exists; --force reruns it)\n", k,
            trace);
  return 1;
}

static int finish(sweep_ctx *c, int status) {
  wf_sweep_index_free(&c->ix);
  wf_sweep_free(&c->s);
  free(c->pids);
  free(c->started);
  free(c->env);
  return status;
}

static int summary(sweep_ctx *c, size_t total) {
  if (c->tty) fprintf(stderr, "\r\033[K");
  char not_run[64] = "";
  if (c->finished < total) snprintf(not_run, sizeof not_run, ", %zu not run", total - c->finished);
  if (c->a.point >= 0 && (!c->a.quiet || c->failed || stop_count))
    fprintf(stderr, "weft sweep: point %ld %s in %.1f s; index %s/%s\n", c->a.point,
            c->ix.rows[c->a.point].status, wf_wall_s() - c->t0, c->dir, WF_SWEEP_INDEX);
  else if (!c->a.quiet || c->failed || stop_count)
    fprintf(stderr,
            "weft sweep: %zu of %zu point%s completed, %zu failed%s%s in %.1f s; index %s/%s\n",
            c->finished - c->failed, total, total == 1 ? "" : "s", c->failed, not_run,
            stop_count ? " (interrupted)" : "", wf_wall_s() - c->t0, c->dir, WF_SWEEP_INDEX);
  return stop_count ? 130 : c->failed || c->finished < total ? 1 : 0;
}

int wf_sweep_main(int argc, char **argv) {
  sweep_ctx c = {.a = {.point = -1}};
  wf_error err = {0};
  if (wf_opts_parse(argc, argv, sweep_opts, NOPTS, on_opt, on_arg, &c.a, &err) != 0) {
    fprintf(stderr, "weft sweep: %s\n", err.msg);
    return 2;
  }
  if (c.a.help) {
    print_help();
    return 0;
  }
  if (!c.a.path) {
    fprintf(stderr, "weft sweep: no sweep file given (usage: weft sweep SWEEP.lua [options])\n");
    return 2;
  }
  if (c.a.point >= 0 && !c.a.out && !c.a.list) {
    fprintf(stderr, "weft sweep: --point needs -o DIR (every task of a job array writes to the "
                    "same folder)\n");
    return 2;
  }
  if (wf_sweep_load(c.a.path, &c.s, &err) != 0) {
    fprintf(stderr, "weft sweep: %s\n", err.msg);
    return 1;
  }
  if (c.a.list) {
    list_points(&c.s);
    return finish(&c, 0);
  }
  if (setup(&c, &err) != 0) {
    fprintf(stderr, "weft sweep: %s\n", err.msg);
    return finish(&c, c.a.point >= (long)c.s.npoints ? 2 : 1);
  }
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1) cpus = 1;
  long jobs = c.a.jobs ? c.a.jobs : cpus / c.s.ranks > 1 ? cpus / c.s.ranks : 1;
  c.tty = isatty(fileno(stderr)) && !c.a.quiet;
  c.t0 = c.last_write = wf_wall_s();
  c.dirty = 1;
  stop_count = 0;
  if (c.a.point >= 0 && !c.a.force && point_done(&c, (size_t)c.a.point)) return finish(&c, 0);
  size_t first = c.a.point >= 0 ? (size_t)c.a.point : 0;
  size_t last = c.a.point >= 0 ? first + 1 : c.s.npoints;
  run_points(&c, first, last, jobs, cpus);
  return finish(&c, summary(&c, last - first));
}
