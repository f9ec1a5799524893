/* Command-line options declared once in a table: the same table parses argv and prints
 * --help, so every option is documented by construction. */
#ifndef WF_OPTS_H
#define WF_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

typedef struct wf_opt {
  const char *name; /* long name without "--" */
  char short_name;  /* 0: none */
  const char *arg;  /* name of the value ("FILE"), NULL for a flag */
  const char *help;
} wf_opt;

/* Calls on_opt(ud, index, value or NULL) for each option and on_arg(ud, text) for each
 * positional argument, in order. Accepts --name=value, --name value, -x value; "--" ends
 * options. A callback returning non-zero stops parsing with err set. --help/-h is always
 * recognised and reported as index -1. */
int wf_opts_parse(int argc, char **argv, const wf_opt *opts, size_t n,
                  int (*on_opt)(void *ud, int index, const char *value, wf_error *err),
                  int (*on_arg)(void *ud, const char *text, wf_error *err), void *ud,
                  wf_error *err);
/* An on_arg for commands that take no positional arguments: each one is an error. */
int wf_opts_no_args(void *ud, const char *text, wf_error *err);
/* A size in bytes: an integer with an optional unit K, M, G or T (powers of 1024; "KiB", "MB"
 * and the like read the same), e.g. "512M", "2G". Returns 0, or -1 with err naming `option`. */
int wf_opts_bytes(const char *option, const char *v, uint64_t *out, wf_error *err);
/* A positive integer no larger than max; returns 0, or -1 with err naming `option`. */
int wf_opts_count(const char *option, const char *v, uint64_t max, uint64_t *out, wf_error *err);
void wf_opts_help(FILE *f, const char *usage, const char *about, const wf_opt *opts, size_t n);

#endif
