#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wf_json_init(wf_json *j) {
  memset(j, 0, sizeof *j);
}

void wf_json_free(wf_json *j) {
  free(j->buf);
  wf_json_init(j);
}

char *wf_json_take(wf_json *j) {
  char *s = j->oom ? NULL : j->buf;
  if (!s) free(j->buf);
  wf_json_init(j);
  return s;
}

static void put(wf_json *j, const char *s, size_t n) {
  if (j->oom) return;
  if (j->len + n + 1 > j->cap) {
    size_t cap = j->cap ? j->cap : 256;
    while (cap < j->len + n + 1) cap *= 2;
    char *b = realloc(j->buf, cap);
    if (!b) {
      j->oom = 1;
      return;
    }
    j->buf = b;
    j->cap = cap;
  }
  memcpy(j->buf + j->len, s, n);
  j->len += n;
  j->buf[j->len] = 0;
}

static void putf(wf_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(wf_json *j, const char *fmt, ...) {
  char tmp[64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  put(j, tmp, (size_t)n);
}

/* Before a value or key: a comma unless it is the first in its container. */
static void sep(wf_json *j) {
  if (j->need_comma) put(j, ",", 1);
  j->need_comma = 1;
}

void wf_json_begin_object(wf_json *j) {
  sep(j);
  put(j, "{", 1);
  j->need_comma = 0;
}
void wf_json_end_object(wf_json *j) {
  put(j, "}", 1);
  j->need_comma = 1;
}
void wf_json_begin_array(wf_json *j) {
  sep(j);
  put(j, "[", 1);
  j->need_comma = 0;
}
void wf_json_end_array(wf_json *j) {
  put(j, "]", 1);
  j->need_comma = 1;
}

static void quoted(wf_json *j, const char *s) {
  put(j, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"':
      put(j, "\\\"", 2);
      break;
    case '\\':
      put(j, "\\\\", 2);
      break;
    case '\n':
      put(j, "\\n", 2);
      break;
    case '\t':
      put(j, "\\t", 2);
      break;
    case '\r':
      put(j, "\\r", 2);
      break;
    default:
      if (*p < 0x20)
        putf(j, "\\u%04x", *p);
      else
        put(j, (const char *)p, 1);
    }
  }
  put(j, "\"", 1);
}

void wf_json_key(wf_json *j, const char *key) {
  sep(j);
  quoted(j, key);
  put(j, ":", 1);
  j->need_comma = 0;
}
void wf_json_str(wf_json *j, const char *s) {
  sep(j);
  quoted(j, s ? s : "");
}
void wf_json_int(wf_json *j, int64_t v) {
  sep(j);
  putf(j, "%lld", (long long)v);
}
void wf_json_uint(wf_json *j, uint64_t v) {
  sep(j);
  putf(j, "%llu", (unsigned long long)v);
}
void wf_json_num(wf_json *j, double v) {
  sep(j);
  if (!isfinite(v)) {
    put(j, "null", 4);
    return;
  }
  /* The shortest of %.15g..%.17g that reads back exactly: 0.1, not 0.10000000000000001. */
  char tmp[32];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, v);
    if (strtod(tmp, NULL) == v) break;
  }
  put(j, tmp, strlen(tmp));
}
void wf_json_sig(wf_json *j, double v, int digits) {
  if (isfinite(v) && v != 0) {
    double scale = pow(10, digits - 1 - floor(log10(fabs(v))));
    v = round(v * scale) / scale;
  }
  wf_json_num(j, v);
}
void wf_json_measured(wf_json *j, double v) {
  wf_json_sig(j, v, 4);
}
void wf_json_bool(wf_json *j, int v) {
  sep(j);
  put(j, v ? "true" : "false", v ? 4 : 5);
}
