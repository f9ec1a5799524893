#include "sweep_index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- building ---- */

/* Values are quoted only when CSV needs it (a comma, a quote, leading or trailing space). */
static void csv_field(FILE *f, const char *s) {
  size_t n = strlen(s);
  if (!strpbrk(s, ",\"") && !(n && (s[0] == ' ' || s[n - 1] == ' '))) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

int wf_sweep_index_init(wf_sweep_index *ix, const wf_sweep *s, const char *dir, wf_error *err) {
  memset(ix, 0, sizeof *ix);
  ix->s = s;
  ix->dir = strdup(dir);
  ix->rows = calloc(s->npoints ? s->npoints : 1, sizeof *ix->rows);
  size_t hlen = 0;
  FILE *h = open_memstream(&ix->header, &hlen);
  if (!ix->dir || !ix->rows || !h) {
    if (h) fclose(h);
    return wf_error_set(err, "out of memory");
  }
  fputs("point,seed", h);
  for (size_t i = 0; i < s->nkeys; i++) {
    fputc(',', h);
    csv_field(h, s->keys[i].name);
  }
  fputs(",trace,status,events,wall_s,exit_code", h);
  if (fclose(h) != 0) return wf_error_set(err, "out of memory");
  for (size_t k = 0; k < s->npoints; k++) wf_sweep_index_set(ix, k, "pending", NULL, -1, -1, -1);
  return 0;
}

void wf_sweep_index_free(wf_sweep_index *ix) {
  free(ix->dir);
  free(ix->header);
  free(ix->rows);
  memset(ix, 0, sizeof *ix);
}

void wf_sweep_index_set(wf_sweep_index *ix, size_t k, const char *status, const char *trace,
                        long long events, double wall_s, int exit_code) {
  wf_sweep_row *r = &ix->rows[k];
  snprintf(r->status, sizeof r->status, "%s", status);
  snprintf(r->trace, sizeof r->trace, "%s", trace ? trace : "");
  r->events = events;
  r->wall_s = wall_s;
  r->exit_code = exit_code;
}

/* ---- reading the file another task wrote ---- */

static void path_in(const wf_sweep_index *ix, const char *name, char *out, size_t size) {
  snprintf(out, size, "%s/%s", ix->dir, name);
}

static char *read_line(FILE *f, char **line, size_t *cap) {
  ssize_t len = getline(line, cap, f);
  if (len < 0) return NULL;
  while (len > 0 && ((*line)[len - 1] == '\n' || (*line)[len - 1] == '\r')) (*line)[--len] = 0;
  return *line;
}

/* The last five fields (trace, status, events, wall_s, exit_code) never hold commas, so a row
 * is read from its end whatever its parameter values look like. */
static void parse_row(wf_sweep_index *ix, char *line, long mine) {
  char *end;
  unsigned long long k = strtoull(line, &end, 10);
  if (end == line || *end != ',' || k >= ix->s->npoints || (long)k == mine) return;
  char *f[5];
  for (int i = 4; i >= 0; i--) {
    char *comma = strrchr(line, ',');
    if (!comma || comma == end) return;
    *comma = 0;
    f[i] = comma + 1;
  }
  wf_sweep_index_set(ix, (size_t)k, f[1], f[0], *f[2] ? strtoll(f[2], NULL, 10) : -1,
                     *f[3] ? strtod(f[3], NULL) : -1, *f[4] ? atoi(f[4]) : -1);
}

/* Returns 1 when the file exists with this sweep's header, 0 when there is none. */
static int read_existing(wf_sweep_index *ix, long mine, wf_error *err) {
  char path[2300];
  path_in(ix, WF_SWEEP_INDEX, path, sizeof path);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char *line = NULL;
  size_t cap = 0;
  int rc = 1;
  if (!read_line(f, &line, &cap) || strcmp(line, ix->header) != 0) {
    rc = wf_error_set(err,
                      "%s has other columns than this sweep's (%s): it belongs to another "
                      "sweep; use another -o folder",
                      path, ix->header);
  } else if (mine >= 0) {
    while (read_line(f, &line, &cap)) parse_row(ix, line, mine);
  }
  free(line);
  fclose(f);
  return rc;
}

int wf_sweep_index_check(const wf_sweep_index *ix, wf_error *err) {
  return read_existing((wf_sweep_index *)ix, -1, err) < 0 ? -1 : 0;
}

/* ---- writing ---- */

static void write_row(const wf_sweep_index *ix, FILE *f, size_t k) {
  const wf_sweep *s = ix->s;
  const wf_sweep_row *r = &ix->rows[k];
  fprintf(f, "%zu,%llu", k, (unsigned long long)wf_sweep_seed(s, k));
  for (size_t i = 0; i < s->nkeys; i++) {
    fputc(',', f);
    csv_field(f, wf_sweep_value(s, k, i));
  }
  fprintf(f, ",%s,%s,", r->trace, r->status);
  if (r->events >= 0) fprintf(f, "%lld", r->events);
  fputc(',', f);
  if (r->wall_s >= 0) fprintf(f, "%.3f", r->wall_s);
  fputc(',', f);
  if (r->exit_code >= 0) fprintf(f, "%d", r->exit_code);
  fputc('\n', f);
}

static int lock_dir(const wf_sweep_index *ix, wf_error *err) {
  char path[2300];
  path_in(ix, ".index.lock", path, sizeof path);
  int fd = open(path, O_RDWR | O_CREAT, 0666);
  if (fd < 0) return wf_error_set(err, "cannot open %s: %s", path, strerror(errno));
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  while (fcntl(fd, F_SETLKW, &fl) != 0) {
    if (errno == EINTR) continue;
    /* Some shared file systems lack locks; an unlocked rewrite is still atomic. */
    break;
  }
  return fd;
}

int wf_sweep_index_write(wf_sweep_index *ix, long mine, wf_error *err) {
  int lock = lock_dir(ix, err);
  if (lock < 0) return -1;
  char path[2300], tmp[2400];
  path_in(ix, WF_SWEEP_INDEX, path, sizeof path);
  snprintf(tmp, sizeof tmp, "%s/.%s.%ld.tmp", ix->dir, WF_SWEEP_INDEX, (long)getpid());
  int rc = mine >= 0 ? read_existing(ix, mine, err) : 0;
  FILE *f = rc < 0 ? NULL : fopen(tmp, "w");
  if (rc >= 0 && !f) rc = wf_error_set(err, "cannot write %s: %s", tmp, strerror(errno));
  if (f) {
    fprintf(f, "%s\n", ix->header);
    for (size_t k = 0; k < ix->s->npoints; k++) write_row(ix, f, k);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
      rc = wf_error_set(err, "cannot write %s: %s", tmp, strerror(errno));
    else if (rename(tmp, path) != 0)
      rc = wf_error_set(err, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (rc < 0) remove(tmp);
  }
  close(lock);
  return rc < 0 ? -1 : 0;
}

/* ---- reading an index back ---- */

/* Splits one CSV line (fields quoted as csv_field writes them) into n fields. */
static char **csv_split(const char *line, size_t *n) {
  size_t cap = 8, k = 0, len = strlen(line);
  char **f = malloc(cap * sizeof *f), *buf = malloc(len + 1);
  if (!f || !buf) return free(f), free(buf), NULL;
  const char *p = line;
  for (;;) {
    size_t m = 0;
    if (*p == '"') {
      for (p++; *p && !(*p == '"' && p[1] != '"'); p++) {
        if (*p == '"') p++;
        buf[m++] = *p;
      }
      if (*p == '"') p++;
    } else {
      while (*p && *p != ',') buf[m++] = *p++;
    }
    buf[m] = 0;
    if (k == cap) {
      char **x = realloc(f, (cap *= 2) * sizeof *x);
      if (!x) break;
      f = x;
    }
    if (!(f[k] = strdup(buf))) break;
    k++;
    if (*p != ',') break;
    p++;
  }
  free(buf);
  *n = k;
  return f;
}

static void csv_fields_free(char **f, size_t n) {
  for (size_t i = 0; f && i < n; i++) free(f[i]);
  free(f);
}

int wf_csv_load(const char *path, wf_csv *t, wf_error *err) {
  memset(t, 0, sizeof *t);
  FILE *f = fopen(path, "r");
  if (!f) return wf_error_set(err, "cannot read '%s': %s", path, strerror(errno));
  char *line = NULL;
  size_t cap = 0, rows_cap = 0;
  int rc = 0;
  if (!read_line(f, &line, &cap) || !(t->head = csv_split(line, &t->ncols)) || t->ncols < 2)
    rc = wf_error_set(err, "'%s' has no header row", path);
  for (size_t lineno = 2; rc == 0 && read_line(f, &line, &cap); lineno++) {
    if (!*line) continue;
    size_t n;
    char **fields = csv_split(line, &n);
    if (!fields || n != t->ncols) {
      csv_fields_free(fields, fields ? n : 0);
      rc = wf_error_set(err, "%s:%zu: %zu fields, the header has %zu", path, lineno, fields ? n : 0,
                        t->ncols);
      break;
    }
    if (t->nrows == rows_cap) {
      char ***x = realloc(t->cell, (rows_cap = rows_cap ? 2 * rows_cap : 16) * sizeof *x);
      if (!x) {
        csv_fields_free(fields, n);
        rc = wf_error_set(err, "out of memory");
        break;
      }
      t->cell = x;
    }
    t->cell[t->nrows++] = fields;
  }
  free(line);
  fclose(f);
  if (rc != 0) wf_csv_free(t);
  return rc;
}

void wf_csv_free(wf_csv *t) {
  for (size_t r = 0; r < t->nrows; r++) csv_fields_free(t->cell[r], t->ncols);
  csv_fields_free(t->head, t->ncols);
  free(t->cell);
  memset(t, 0, sizeof *t);
}
