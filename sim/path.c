#include "path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int wf_mkdirs(const char *dir, wf_error *err) {
  char p[4096];
  if (!*dir || snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
    return wf_error_set(err, "bad output directory '%s'", dir);
  for (char *s = p + 1;; s++) {
    if (*s != '/' && *s) continue;
    char c = *s;
    *s = 0;
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
      return wf_error_set(err, "cannot create directory '%s': %s", p, strerror(errno));
    *s = c;
    if (!c) break;
  }
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return wf_error_set(err, "'%s' exists and is not a directory", dir);
  return 0;
}

char *wf_path_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return strdup(".");
  size_t n = slash == path ? 1 : (size_t)(slash - path);
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, path, n);
    d[n] = 0;
  }
  return d;
}

char *wf_path_stem(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  if (n > 4 && strcmp(base + n - 4, ".lua") == 0) n -= 4;
  char *s = malloc(n + 1);
  if (s) {
    memcpy(s, base, n);
    s[n] = 0;
  }
  return s;
}
