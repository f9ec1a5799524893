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
  /* Table-valued arguments. */
  WF_ARG_LIST,   /* a Lua sequence {a, b, ...} of `elem` values (a scalar type or RECORD); min and
                    max bound each scalar element; def "{}" means an empty list by default */
  WF_ARG_RECORD, /* a table whose keys are checked against `fields`, like a builder's own */
  WF_ARG_MAP,    /* {name = value, ...} with `elem` scalar values; keys come sorted */
  WF_ARG_HANDLE, /* a value a builder returned, of handle kind `kind` ("network", ...) */
} wf_arg_type;

typedef struct wf_arg_spec {
  const char *name;
  wf_arg_type type;
  const char *def; /* default as text ("1024", "100ms", "true", "{}"); NULL: the key is required */
  double min, max; /* bounds for numbers and durations (seconds); min > max means none */
  const char *help;
  /* Table-valued types only. */
  wf_arg_type elem;                 /* LIST, MAP: the type of each element */
  const struct wf_arg_spec *fields; /* RECORD, LIST of RECORD: the fields of each record */
  unsigned nfields;
  const char *kind; /* HANDLE: the handle kind accepted */
} wf_arg_spec;

#define WF_ARGS_MAX 64

/* One checked value. Table values point into memory the binding owns: valid during the build
 * call only, so a builder copies what it keeps. */
typedef struct wf_arg_value {
  int64_t i;
  double d;
  wf_time t;
  const char *s;
  int b;
  void *h;                          /* HANDLE: what the builder put in wf_built.handle */
  uint32_t n;                       /* LIST, MAP: elements; RECORD: fields */
  const char *const *keys;          /* MAP: the keys, sorted */
  const struct wf_arg_value *elems; /* LIST, MAP: the elements; RECORD: fields in spec order */
  const wf_arg_spec *spec;          /* the spec this value was checked against */
} wf_arg_value;

/* Checked values, indexed like the builder's spec array. */
typedef struct wf_args {
  const wf_arg_spec *spec;
  unsigned n;
  wf_arg_value v[WF_ARGS_MAX];
} wf_args;

int64_t wf_arg_int(const wf_args *a, const char *name);
double wf_arg_num(const wf_args *a, const char *name);
wf_time wf_arg_duration(const wf_args *a, const char *name);
const char *wf_arg_str(const wf_args *a, const char *name);
int wf_arg_bool(const wf_args *a, const char *name);
/* Any argument, table-valued ones included. */
const wf_arg_value *wf_arg(const wf_args *a, const char *name);
/* A field of a RECORD value (an element of a LIST of records, say), by name. */
const wf_arg_value *wf_arg_field(const wf_arg_value *record, const char *name);

/* What a build returns to the scenario: the LPs it made, and optionally a handle that other
 * builders accept as a WF_ARG_HANDLE argument of the same kind (a network that nodes join, a
 * chain that relayers connect). The handle must live as long as the engine (wf_engine_alloc). */
typedef struct wf_built {
  wf_lpid first;
  uint32_t count;
  void *handle;
  const char *kind; /* the handle's kind; a string literal */
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
