#include "error.h"

#include <stdio.h>
#include <string.h>

int wf_error_vset(wf_error *err, const char *fmt, va_list ap) {
  if (err && !err->set) {
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    err->set = 1;
  }
  return -1;
}

int wf_error_set(wf_error *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  wf_error_vset(err, fmt, ap);
  va_end(ap);
  return -1;
}

void wf_error_prefix(wf_error *err, const char *fmt, ...) {
  if (!err || !err->set) return;
  char head[512], old[sizeof err->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(head, sizeof head, fmt, ap);
  va_end(ap);
  memcpy(old, err->msg, sizeof old);
  snprintf(err->msg, sizeof err->msg, "%.500s%.520s", head, old);
}

void wf_error_clear(wf_error *err) {
  if (err) {
    err->set = 0;
    err->msg[0] = 0;
  }
}
