/* What a model offers a scenario: builders (weft.<name>{...} in Lua) with a declared table of
 * arguments. The scenario binding checks and converts arguments against the declaration, so a
 * model's build function sees only valid, typed values and never touches Lua. */
#ifndef WF_MODEL_H
#define WF_MODEL_H

#include <stdint.h>

#include "engine.h"

typedef enum {
  WF_ARG_INT,      /* integer within [min, max] */
  WF_ARG_NUM,      /* number within [min, max] */
  WF_ARG_DURATION, /* "250ms", "6s", or a number of seconds; within [min, max] seconds */
  WF_ARG_STR,
  WF_ARG_BOOL,
} wf_arg_type;

typedef struct wf_arg_spec {
  const char *name;
  wf_arg_type type;
  const char *def; /* default as text ("1024", "100ms", "true"); NULL: the key is required */
  double min, max; /* bounds for numbers and durations (seconds); min > max means none */
  const char *help;
} wf_arg_spec;

#define WF_ARGS_MAX 32

/* Checked values, indexed like the builder's spec array. */
typedef struct wf_args {
  const wf_arg_spec *spec;
  unsigned n;
  struct {
    int64_t i;
    double d;
    wf_time t;
    const char *s; /* valid during the build call */
    int b;
  } v[WF_ARGS_MAX];
} wf_args;

int64_t wf_arg_int(const wf_args *a, const char *name);
double wf_arg_num(const wf_args *a, const char *name);
wf_time wf_arg_duration(const wf_args *a, const char *name);
const char *wf_arg_str(const wf_args *a, const char *name);
int wf_arg_bool(const wf_args *a, const char *name);

/* What a build returns to the scenario: the LPs it made. */
typedef struct wf_built {
  wf_lpid first;
  uint32_t count;
} wf_built;

typedef struct wf_builder {
  const char *name; /* weft.<name>{...} */
  const char *help;
  const wf_arg_spec *args;
  unsigned nargs;
  int (*build)(wf_engine *eng, const wf_args *args, wf_built *out, wf_error *err);
} wf_builder;

/* A model: a name and its builders. The composition root (sim/main.c) lists every model. */
typedef struct wf_model {
  const char *name;
  const char *help;
  const wf_builder *builders;
  unsigned nbuilders;
} wf_model;

#endif
