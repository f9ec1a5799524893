#include "regions.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES 65536

/* Splits line at commas in place; returns the number of fields (at most max). */
static uint32_t split(char *line, char **field, uint32_t max) {
  uint32_t n = 0;
  line[strcspn(line, "\r\n")] = 0;
  for (char *p = line; n < max;) {
    field[n++] = p;
    char *c = strchr(p, ',');
    if (!c) break;
    *c = 0;
    p = c + 1;
  }
  return n;
}

static int read_header(wf_regions *r, char *line, const char *path, wf_error *err) {
  char *field[1024];
  uint32_t n = split(line, field, 1024);
  if (n < 2) return wf_error_set(err, "%s:1: expected a header 'region,NAME,NAME,...'", path);
  r->n = n - 1;
  r->names = calloc(r->n, sizeof *r->names);
  r->one_way = calloc((size_t)r->n * r->n, sizeof *r->one_way);
  if (!r->names || !r->one_way) return wf_error_set(err, "%s: out of memory", path);
  for (uint32_t i = 0; i < r->n; i++) {
    if (!field[i + 1][0]) return wf_error_set(err, "%s:1: column %u has no region name", path, i + 2);
    if (wf_regions_find(r, field[i + 1]) >= 0)
      return wf_error_set(err, "%s:1: region '%s' named twice", path, field[i + 1]);
    if (!(r->names[i] = malloc(strlen(field[i + 1]) + 1)))
      return wf_error_set(err, "%s: out of memory", path);
    strcpy(r->names[i], field[i + 1]);
  }
  return 0;
}

/* Row `row` (0-based) of the matrix, at file line `lineno`. */
static int read_row(wf_regions *r, char *line, uint32_t row, unsigned lineno, const char *path,
                    wf_time same, wf_error *err) {
  char *field[1024];
  uint32_t n = split(line, field, 1024);
  if (strcmp(field[0], r->names[row]) != 0)
    return wf_error_set(err, "%s:%u: row %u is '%s', expected '%s' (rows follow the header's order)",
                        path, lineno, row + 1, field[0], r->names[row]);
  if (n != r->n + 1)
    return wf_error_set(err, "%s:%u: row '%s' has %u entries, expected %u", path, lineno, field[0],
                        n - 1, r->n);
  for (uint32_t j = 0; j < r->n; j++) {
    char *end;
    errno = 0;
    double ms = strtod(field[j + 1], &end);
    if (!field[j + 1][0] || *end || errno || !isfinite(ms))
      return wf_error_set(err, "%s:%u: entry %s -> %s is '%s', expected a number of ms", path,
                          lineno, r->names[row], r->names[j], field[j + 1]);
    if (ms < 0)
      return wf_error_set(err, "%s:%u: entry %s -> %s is negative (%g ms)", path, lineno,
                          r->names[row], r->names[j], ms);
    if (ms > 1e7)
      return wf_error_set(err, "%s:%u: entry %s -> %s is %g ms, more than a few hours", path,
                          lineno, r->names[row], r->names[j], ms);
    /* One way is half the round trip, rounded to the nanosecond. */
    r->one_way[(size_t)row * r->n + j] = row == j ? same / 2 : (wf_time)llround(ms * 1e6 / 2);
  }
  return 0;
}

int wf_regions_load(wf_regions *r, const char *path, wf_time same, wf_error *err) {
  memset(r, 0, sizeof *r);
  FILE *f = fopen(path, "r");
  if (!f) return wf_error_set(err, "cannot open region table '%s': %s", path, strerror(errno));
  char *line = malloc(LINE_MAX_BYTES);
  int rc = line ? 0 : wf_error_set(err, "out of memory");
  unsigned lineno = 0;
  uint32_t rows = 0;
  while (rc == 0 && fgets(line, LINE_MAX_BYTES, f)) {
    lineno++;
    if (!strchr(line, '\n') && !feof(f))
      rc = wf_error_set(err, "%s:%u: line longer than %d bytes", path, lineno, LINE_MAX_BYTES);
    else if (line[strspn(line, " \t\r\n")] == 0)
      continue;
    else if (!r->names)
      rc = read_header(r, line, path, err);
    else if (rows == r->n)
      rc = wf_error_set(err, "%s:%u: more rows than the %u regions of the header", path, lineno,
                        r->n);
    else
      rc = read_row(r, line, rows++, lineno, path, same, err);
  }
  if (rc == 0 && !r->names) rc = wf_error_set(err, "%s: empty region table", path);
  if (rc == 0 && rows < r->n)
    rc = wf_error_set(err, "%s: %u rows for %u regions (missing row for '%s')", path, rows, r->n,
                      r->names[rows]);
  free(line);
  fclose(f);
  if (rc) wf_regions_free(r);
  return rc;
}

void wf_regions_free(wf_regions *r) {
  for (uint32_t i = 0; r->names && i < r->n; i++) free(r->names[i]);
  free(r->names);
  free(r->one_way);
  memset(r, 0, sizeof *r);
}

int wf_regions_find(const wf_regions *r, const char *name) {
  for (uint32_t i = 0; i < r->n; i++)
    if (r->names[i] && strcmp(r->names[i], name) == 0) return (int)i;
  return -1;
}
