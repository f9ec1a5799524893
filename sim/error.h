/* Errors as values: a fixed buffer that a failing call fills with one line saying what and
 * where. Every layer passes a wf_error down instead of printing, so the CLI decides how to
 * report and a simulated transaction can fail without ending the run. */
#ifndef WF_ERROR_H
#define WF_ERROR_H

#include <stdarg.h>
#include <stddef.h>

typedef struct wf_error {
  int set;
  char msg[1024];
} wf_error;

/* Fills err (if non-NULL and not already set: the first, innermost error wins) and returns -1,
 * so a failing function can `return wf_error_set(err, ...)`. */
int wf_error_set(wf_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int wf_error_vset(wf_error *err, const char *fmt, va_list ap);
/* Prefixes an already-set message with context ("reading x.h5: " + msg). */
void wf_error_prefix(wf_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wf_error_clear(wf_error *err);

#endif
