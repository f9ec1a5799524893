#include "aot_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aot_glue.h"

#ifndef WF_WASM2C
#define WF_WASM2C "wasm2c"
#endif
#ifndef WF_WASM_RT_DIR
#define WF_WASM_RT_DIR "/usr/share/wabt/wasm2c" /* Debian's wabt: wasm-rt-impl.{c,h} */
#endif

static uint64_t fnv1a(const uint8_t *p, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static void cache_name(const uint8_t *wasm, size_t len, int opt, char *out, size_t cap) {
  uint64_t a = fnv1a(wasm, len, 0xcbf29ce484222325ull);
  uint64_t b = fnv1a(wasm, len, 0x84222325cbf29ce4ull ^ len);
  snprintf(out, cap, "weft-aot-%016llx%016llx-g%u-O%d.so", (unsigned long long)a,
           (unsigned long long)b, WF_AOT_GLUE_VERSION, opt);
}

void wf_aot_cache_dir(const wf_wasm_options *o, char *out, size_t cap) {
  const char *env;
  if (o && o->cache_dir)
    snprintf(out, cap, "%s", o->cache_dir);
  else if ((env = getenv("WEFT_CACHE_DIR")) && *env)
    snprintf(out, cap, "%s", env);
  else if ((env = getenv("XDG_CACHE_HOME")) && *env)
    snprintf(out, cap, "%s/weft", env);
  else if ((env = getenv("HOME")) && *env)
    snprintf(out, cap, "%s/.cache/weft", env);
  else
    snprintf(out, cap, "/tmp/weft-cache");
}

static int mkdirs(const char *dir) {
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      if (mkdir(tmp, 0755) && errno != EEXIST) return -1;
      *p = '/';
    }
  return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

static int exists(const char *path) {
  return access(path, R_OK) == 0;
}

/* Finds `prog` the way execvp would, so a missing tool is refused before we fork. */
static int on_path(const char *prog) {
  if (strchr(prog, '/')) return access(prog, X_OK) == 0;
  const char *path = getenv("PATH");
  char buf[1024];
  for (const char *p = path ? path : "/usr/bin:/bin"; p && *p;) {
    const char *colon = strchr(p, ':');
    size_t n = colon ? (size_t)(colon - p) : strlen(p);
    snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, prog);
    if (access(buf, X_OK) == 0) return 1;
    p = colon ? colon + 1 : NULL;
  }
  return 0;
}

/* Runs argv with stdout and stderr appended to `log`; returns the exit status (-1 if it could
 * not run). */
static int run(char *const argv[], const char *log) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
    execvp(argv[0], argv);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The first line of the tool's output, for the one-line error. */
static void first_line(const char *log, char *out, size_t cap) {
  FILE *f = fopen(log, "r");
  out[0] = 0;
  if (!f) return;
  if (fgets(out, (int)cap, f)) out[strcspn(out, "\n")] = 0;
  fclose(f);
}

static int write_file(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(p, 1, n, f);
  return (fclose(f) || w != n) ? -1 : 0;
}

static int tool_error(wf_error *err, const char *what, const char *log) {
  char line[300];
  first_line(log, line, sizeof line);
  return wf_error_set(err, "aot: %s failed%s%s", what, line[0] ? ": " : "", line);
}

const char *wf_aot_compiler(const wf_wasm_options *o) {
  const char *env = getenv("CC");
  return o->cc ? o->cc : env && *env ? env : "cc";
}

static int opt_level(const wf_wasm_options *o) {
  return o->opt_level > 0 ? o->opt_level : WF_AOT_DEFAULT_OPT;
}

/* wasm2c 1.0.32 passes every loaded value through an empty asm statement, so that a build
 * checking bounds with guard pages cannot delete a dead load and the trap with it. Our objects
 * check bounds explicitly (WASM_RT_MEMCHECK_SIGNAL_HANDLER=0): a dropped load keeps its check,
 * so the barrier protects nothing and only costs: it forces every loaded value into a general
 * register (the CNN and the transformer run 22% faster without it). This turns that one line of
 * the prelude into a no-op; output without the exact line (another wasm2c) is compiled as it
 * is: slower, never wrong. */
static const char barrier_line[] = "\n#define wasm_asm __asm__\n";
static const char barrier_off[] = "\n#define wasm_asm(X)\n";

static int drop_load_barrier(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  char *text = NULL;
  size_t n = 0, cap = 0, got = 0;
  int bad = 0;
  do {
    if (n + 1 >= cap) {
      char *p = realloc(text, cap = cap ? cap * 2 : 1 << 20);
      if (!p) {
        bad = 1;
        break;
      }
      text = p;
    }
    got = fread(text + n, 1, cap - n - 1, f);
    n += got;
  } while (got > 0);
  bad |= ferror(f);
  fclose(f);
  char *at = bad ? NULL : (text[n] = 0, strstr(text, barrier_line));
  if (at) {
    size_t head = (size_t)(at - text), skip = sizeof barrier_line - 1;
    f = fopen(path, "wb");
    bad = !f || fwrite(text, 1, head, f) != head ||
          fwrite(barrier_off, 1, sizeof barrier_off - 1, f) != sizeof barrier_off - 1 ||
          fwrite(at + skip, 1, n - head - skip, f) != n - head - skip;
    if (f && fclose(f)) bad = 1;
  }
  free(text);
  return bad ? -1 : 0;
}

/* The flags every aot object is compiled with (after -O<level>), shown by `weft wasm bench`.
 * -ffp-contract=off: a fused multiply-add would round differently from the interpreter.
 * MEMCHECK_SIGNAL_HANDLER=0: explicit bounds checks, no guard pages and no signal handlers
 * (README.md, "Engines", says why). */
#define AOT_FLAGS                                                                                  \
  "-ffp-contract=off", "-fvisibility=hidden", "-w", "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0"

void wf_aot_describe(const wf_wasm_options *o, char *out, size_t cap) {
  static const char *flags[] = {AOT_FLAGS};
  size_t n = (size_t)snprintf(out, cap, "wasm2c + %s -O%d", wf_aot_compiler(o), opt_level(o));
  for (size_t i = 0; i < sizeof flags / sizeof *flags && n < cap; i++)
    n += (size_t)snprintf(out + n, cap - n, " %s", flags[i]);
}

/* wasm2c + cc in a private temporary directory, then an atomic rename into the cache, so two
 * processes compiling the same module at once both end up with a complete object. */
static int compile(const uint8_t *wasm, size_t len, const char *cc, int opt, const char *dir,
                   const char *final, wf_error *err) {
  char tmp[1024], f_wasm[1100], f_c[1100], f_glue[1100], f_so[1100], f_log[1100], f_h[1100];
  char o_flag[16], v_flag[40], inc[1100];
  snprintf(tmp, sizeof tmp, "%s/tmp-XXXXXX", dir);
  if (!mkdtemp(tmp)) return wf_error_set(err, "aot: cannot create %s: %s", tmp, strerror(errno));
  snprintf(f_wasm, sizeof f_wasm, "%s/m.wasm", tmp);
  snprintf(f_c, sizeof f_c, "%s/m.c", tmp);
  snprintf(f_h, sizeof f_h, "%s/m.h", tmp);
  snprintf(f_glue, sizeof f_glue, "%s/glue.c", tmp);
  snprintf(f_so, sizeof f_so, "%s/m.so", tmp);
  snprintf(f_log, sizeof f_log, "%s/log", tmp);
  snprintf(o_flag, sizeof o_flag, "-O%d", opt);
  snprintf(v_flag, sizeof v_flag, "-DWF_GLUE_VERSION=%uu", WF_AOT_GLUE_VERSION);
  snprintf(inc, sizeof inc, "-I%s", tmp);
  int rc = 0;
  if (write_file(f_wasm, wasm, len) || write_file(f_glue, wf_aot_glue_src, strlen(wf_aot_glue_src)))
    rc = wf_error_set(err, "aot: cannot write into %s", tmp);
  char *w2c[] = {WF_WASM2C, f_wasm, "-n", "m", "-o", f_c, NULL};
  if (!rc && run(w2c, f_log) != 0) rc = tool_error(err, "wasm2c", f_log);
  if (!rc && drop_load_barrier(f_c)) rc = wf_error_set(err, "aot: cannot rewrite %s", f_c);
  char *ccv[] = {(char *)cc,
                 "-shared",
                 "-fPIC",
                 o_flag,
                 AOT_FLAGS,
                 v_flag,
                 inc,
                 "-I" WF_WASM_RT_DIR,
                 "-o",
                 f_so,
                 f_c,
                 f_glue,
                 WF_WASM_RT_DIR "/wasm-rt-impl.c",
                 NULL};
  if (!rc && run(ccv, f_log) != 0) rc = tool_error(err, cc, f_log);
  if (!rc && rename(f_so, final))
    rc = wf_error_set(err, "aot: cannot move object to %s: %s", final, strerror(errno));
  const char *junk[] = {f_wasm, f_c, f_h, f_glue, f_so, f_log};
  for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) unlink(junk[i]);
  rmdir(tmp);
  return rc;
}

int wf_aot_build(const uint8_t *wasm, size_t len, const wf_wasm_options *o, char *path, size_t cap,
                 wf_error *err) {
  char name[128], dir[900];
  int opt = opt_level(o);
  cache_name(wasm, len, opt, name, sizeof name);
#ifdef WF_WASM_ZOO_AOT_DIR
  snprintf(path, cap, "%s/%s", WF_WASM_ZOO_AOT_DIR, name);
  if (exists(path)) return 0;
#endif
  wf_aot_cache_dir(o, dir, sizeof dir);
  snprintf(path, cap, "%s/%s", dir, name);
  if (exists(path)) return 0;
  const char *cc = wf_aot_compiler(o);
  if (!on_path(cc))
    return wf_error_set(err,
                        "aot: no C compiler ('%s' not found); install one, set CC, or use "
                        "--engine interp",
                        cc);
  if (!on_path(WF_WASM2C))
    return wf_error_set(err, "aot: %s not found (Debian package wabt); use --engine interp",
                        WF_WASM2C);
  if (mkdirs(dir))
    return wf_error_set(err, "aot: cannot create cache directory %s: %s", dir, strerror(errno));
  return compile(wasm, len, cc, opt, dir, path, err);
}
