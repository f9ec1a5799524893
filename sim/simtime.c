#include "simtime.h"

#include <time.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  const char *name;
  double ns;
} units[] = {
    {"ns", 1.0},   {"us", 1e3},   {"ms", 1e6},    {"s", 1e9},       {"sec", 1e9},
    {"min", 60e9}, {"h", 3600e9}, {"d", 86400e9}, {"day", 86400e9},
};

/* Nanoseconds (non-negative, finite) to wf_time, rounded to nearest; -1 if it does not fit. */
static int ns_to_time(double ns, wf_time *out) {
  if (!(ns >= 0) || ns >= 18446744073709549568.0) return -1; /* largest double below 2^64 */
  *out = (wf_time)(ns + 0.5);
  return 0;
}

int wf_duration_from_seconds(double seconds, wf_time *out, wf_error *err) {
  if (!(seconds >= 0))
    return wf_error_set(err, "duration %g s is negative or not a number", seconds);
  if (ns_to_time(seconds * 1e9, out) != 0)
    return wf_error_set(err, "duration %g s overflows 64-bit nanoseconds (max about 584 years)",
                        seconds);
  return 0;
}

int wf_duration_parse(const char *text, wf_time *out, wf_error *err) {
  if (!text) return wf_error_set(err, "missing duration");
  const char *p = text;
  while (isspace((unsigned char)*p)) p++;
  if (!*p) return wf_error_set(err, "empty duration");
  if (*p == '-') return wf_error_set(err, "negative duration '%s'", text);
  if (!isdigit((unsigned char)*p) && *p != '.')
    return wf_error_set(err, "malformed duration '%s' (expected e.g. 250ms, 6s, 10min)", text);
  errno = 0;
  char *end;
  double v = strtod(p, &end);
  if (end == p || errno == ERANGE || !isfinite(v))
    return wf_error_set(err, "malformed duration '%s' (expected e.g. 250ms, 6s, 10min)", text);
  while (isspace((unsigned char)*end)) end++;
  char unit[8] = {0};
  size_t ul = 0;
  while (isalpha((unsigned char)end[ul]) && ul < sizeof unit - 1) {
    unit[ul] = end[ul];
    ul++;
  }
  const char *rest = end + ul;
  while (isspace((unsigned char)*rest)) rest++;
  if (*rest)
    return wf_error_set(err, "malformed duration '%s': unexpected '%s' after the unit", text, rest);
  double scale = 1e9; /* a bare number is seconds */
  if (ul) {
    size_t i, n = sizeof units / sizeof units[0];
    for (i = 0; i < n && strcmp(units[i].name, unit) != 0; i++) {
    }
    if (i == n)
      return wf_error_set(err, "unknown unit '%s' in duration '%s' (use ns, us, ms, s, min, h, d)",
                          unit, text);
    scale = units[i].ns;
  }
  if (ns_to_time(v * scale, out) != 0)
    return wf_error_set(err, "duration '%s' overflows 64-bit nanoseconds", text);
  return 0;
}

void wf_duration_format(wf_time t, char *buf, unsigned long size) {
  static const struct {
    const char *name;
    wf_time ns;
  } steps[] = {{"d", 86400 * WF_SEC},
               {"h", 3600 * WF_SEC},
               {"min", 60 * WF_SEC},
               {"s", WF_SEC},
               {"ms", WF_MS},
               {"us", WF_US},
               {"ns", 1}};
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    if (t >= steps[i].ns || steps[i].ns == 1) {
      snprintf(buf, size, "%.6g%s", (double)t / (double)steps[i].ns, steps[i].name);
      return;
    }
  }
}

uint64_t wf_wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
