#include "opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int find(const wf_opt *opts, size_t n, const char *name, size_t len, char short_name) {
  for (size_t i = 0; i < n; i++) {
    if (short_name ? opts[i].short_name == short_name
                   : strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
      return (int)i;
  }
  return -2;
}

int wf_opts_parse(int argc, char **argv, const wf_opt *opts, size_t n,
                  int (*on_opt)(void *ud, int index, const char *value, wf_error *err),
                  int (*on_arg)(void *ud, const char *text, wf_error *err), void *ud,
                  wf_error *err) {
  int only_args = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (only_args || a[0] != '-' || a[1] == 0) {
      if (on_arg(ud, a, err) != 0) return -1;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_args = 1;
      continue;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      if (on_opt(ud, -1, NULL, err) != 0) return -1;
      continue;
    }
    int idx;
    const char *value = NULL;
    if (a[1] == '-') {
      const char *name = a + 2, *eq = strchr(name, '=');
      idx = find(opts, n, name, eq ? (size_t)(eq - name) : strlen(name), 0);
      if (eq) value = eq + 1;
    } else {
      idx = a[2] ? -2 : find(opts, n, NULL, 0, a[1]);
    }
    if (idx < 0) return wf_error_set(err, "unknown option '%s' (see --help)", a);
    if (opts[idx].arg && !value) {
      if (i + 1 >= argc)
        return wf_error_set(err, "option --%s needs a value (%s)", opts[idx].name, opts[idx].arg);
      value = argv[++i];
    } else if (!opts[idx].arg && value) {
      return wf_error_set(err, "option --%s takes no value", opts[idx].name);
    }
    if (on_opt(ud, idx, value, err) != 0) return -1;
  }
  return 0;
}

void wf_opts_help(FILE *f, const char *usage, const char *about, const wf_opt *opts, size_t n) {
  fprintf(f, "usage: %s\n\n%s\n\noptions:\n", usage, about);
  for (size_t i = 0; i < n; i++) {
    char left[64];
    if (opts[i].short_name)
      snprintf(left, sizeof left, "-%c, --%s%s%s", opts[i].short_name, opts[i].name,
               opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
    else
      snprintf(left, sizeof left, "    --%s%s%s", opts[i].name, opts[i].arg ? " " : "",
               opts[i].arg ? opts[i].arg : "");
    fprintf(f, "  %-26s ", left);
    /* Continuation lines of a help text line up under its first line. */
    for (const char *p = opts[i].help; *p; p++) {
      fputc(*p, f);
      if (*p == '\n') fprintf(f, "  %-26s ", "");
    }
    fputc('\n', f);
  }
  fprintf(f, "  %-26s %s\n", "-h, --help", "show this help and exit");
}

int wf_opts_no_args(void *ud, const char *text, wf_error *err) {
  (void)ud;
  return wf_error_set(err, "unexpected argument '%s' (see --help)", text);
}

int wf_opts_count(const char *option, const char *v, uint64_t max, uint64_t *out, wf_error *err) {
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if (errno || *end || end == v || v[0] == '-' || n == 0 || n > max)
    return wf_error_set(err, "--%s %s: expected an integer in [1, %llu]", option, v,
                        (unsigned long long)max);
  *out = n;
  return 0;
}

int wf_opts_bytes(const char *option, const char *v, uint64_t *out, wf_error *err) {
  static const char units[] = "KMGT";
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  int shift = 0;
  const char *u = *end ? strchr(units, *end & ~0x20) : NULL;
  if (u) {
    shift = 10 * (int)(u - units + 1);
    end++;
    if (!strcmp(end, "iB") || !strcmp(end, "B") || !strcmp(end, "b")) end += strlen(end);
  } else if (!strcmp(end, "B")) {
    end++;
  }
  if (errno || *end || end == v || v[0] == '-' || n == 0 || n > (UINT64_MAX >> shift))
    return wf_error_set(err, "--%s %s: expected a size such as 512M or 2G", option, v);
  *out = (uint64_t)n << shift;
  return 0;
}
