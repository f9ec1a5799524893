#include "scenario.h"

#include <errno.h>
#include <stdarg.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "lua_common.h"

typedef struct binding {
  const wf_scenario_in *in;
  wf_engine *eng;
  wf_scenario_out *out;
  char *dir; /* the scenario's directory, for require */
  unsigned char *set_used;
  int params_called, run_called;
  wf_json params; /* resolved parameters, built by weft.params */
} binding;

static binding *get_binding(lua_State *L) {
  return (binding *)lua_touserdata(L, lua_upvalueindex(1));
}

/* ---- reading files ---- */

static char *read_file(const char *path, size_t *len, wf_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    wf_error_set(err, "cannot open scenario '%s': %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  for (size_t got; buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
    n += got;
    if (cap - n - 1 == 0) {
      char *b = realloc(buf, cap *= 2);
      if (!b) free(buf);
      buf = b;
    }
  }
  int bad = ferror(f);
  fclose(f);
  if (!buf || bad) {
    free(buf);
    wf_error_set(err, "cannot read scenario '%s'", path);
    return NULL;
  }
  buf[n] = 0;
  *len = n;
  return buf;
}

/* ---- weft.params ---- */

static const char *set_value(const binding *b, const char *key, size_t *idx) {
  size_t klen = strlen(key);
  for (size_t i = 0; i < b->in->nsets; i++) {
    const char *s = b->in->sets[i];
    if (strncmp(s, key, klen) == 0 && s[klen] == '=') {
      *idx = i;
      return s + klen + 1;
    }
  }
  return NULL;
}

/* Converts the --set text for key to the type of the default at the top of the stack and
 * replaces the default with it. */
static void apply_override(lua_State *L, binding *b, const char *key) {
  size_t idx;
  const char *text = set_value(b, key, &idx);
  if (!text) return;
  b->set_used[idx] = 1;
  switch (lua_type(L, -1)) {
  case LUA_TNUMBER:
    if (!lua_stringtonumber(L, text))
      wf_lua_error(L, "--set %s=%s: parameter '%s' takes a number", key, text, key);
    break;
  case LUA_TBOOLEAN:
    if (strcmp(text, "true") && strcmp(text, "false") && strcmp(text, "1") && strcmp(text, "0"))
      wf_lua_error(L, "--set %s=%s: parameter '%s' takes true or false", key, text, key);
    lua_pushboolean(L, text[0] == 't' || text[0] == '1');
    break;
  default:
    lua_pushstring(L, text);
  }
  lua_replace(L, -2);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int l_params(lua_State *L) {
  binding *b = get_binding(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  if (b->params_called) return wf_lua_error(L, "weft.params: called twice (declare all at once)");
  b->params_called = 1;
  /* Collect and sort keys so the resolved table and its JSON do not depend on hash order. */
  const char *keys[512];
  size_t nk = 0;
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    if (lua_type(L, -2) != LUA_TSTRING)
      return wf_lua_error(L, "weft.params: keys must be names (got a %s)", luaL_typename(L, -2));
    int t = lua_type(L, -1);
    if (t != LUA_TNUMBER && t != LUA_TSTRING && t != LUA_TBOOLEAN)
      return wf_lua_error(L, "weft.params: default of '%s' must be a number, string or boolean",
                          lua_tostring(L, -2));
    if (nk == sizeof keys / sizeof keys[0]) return wf_lua_error(L, "weft.params: too many keys");
    size_t klen, vlen = 0;
    const char *key = lua_tolstring(L, -2, &klen);
    if (strlen(key) != klen)
      return wf_lua_error(L, "weft.params: a key holds a NUL byte ('%s' then more)", key);
    if (t == LUA_TSTRING && (lua_tolstring(L, -1, &vlen), strlen(lua_tostring(L, -1)) != vlen))
      return wf_lua_error(L, "weft.params: the default of '%s' holds a NUL byte", key);
    if (t == LUA_TNUMBER && !lua_isinteger(L, -1) && !isfinite(lua_tonumber(L, -1)))
      return wf_lua_error(L, "weft.params: the default of '%s' is not a finite number", key);
    keys[nk++] = key;
    lua_pop(L, 1);
  }
  qsort(keys, nk, sizeof keys[0], cmp_str);
  lua_createtable(L, 0, (int)nk);
  wf_json_begin_object(&b->params);
  for (size_t i = 0; i < nk; i++) {
    lua_getfield(L, 1, keys[i]);
    apply_override(L, b, keys[i]);
    wf_json_key(&b->params, keys[i]);
    if (lua_type(L, -1) == LUA_TBOOLEAN)
      wf_json_bool(&b->params, lua_toboolean(L, -1));
    else if (lua_isinteger(L, -1))
      wf_json_int(&b->params, lua_tointeger(L, -1));
    else if (lua_type(L, -1) == LUA_TNUMBER)
      wf_json_num(&b->params, lua_tonumber(L, -1));
    else
      wf_json_str(&b->params, lua_tostring(L, -1));
    lua_setfield(L, -2, keys[i]);
  }
  wf_json_end_object(&b->params);
  for (size_t i = 0; i < b->in->nsets; i++) {
    if (b->set_used[i]) continue;
    const char *s = b->in->sets[i];
    const char *eq = strchr(s, '=');
    return wf_lua_error(L, "--set %s: the scenario declares no parameter '%.*s'", s,
                        (int)(eq ? eq - s : (long)strlen(s)), s);
  }
  return 1;
}

/* ---- argument conversion, shared by weft.run and the builders ----
 * Values of every type, nested ones included, are checked against their spec and converted into
 * wf_arg_value. Table values (list elements, record fields, map keys) live in Lua userdata and
 * every string they point to is pinned in the table `pins` (stack index 2 of the call), so it
 * all stays valid for the build call and is collected by Lua afterwards, also when an error
 * longjmps out of the middle of a conversion. */

typedef struct conv {
  lua_State *L;
  const char *what; /* "weft.network", the start of every message */
  int pins;         /* stack index of the pins table */
  lua_Integer npins;
} conv;

/* What the registry keeps for a table a builder returned with a handle. The script sees the
 * table but not this, so it can neither forge a handle nor change its kind. */
typedef struct handle_ref {
  void *h;
  const char *kind;    /* wf_built.kind: a string literal */
  const char *builder; /* the builder's name */
} handle_ref;

#define HANDLES_KEY "weft.handles" /* weak-keyed: returned table -> handle_ref userdata */
#define KINDS_KEY "weft.kinds"     /* handle kind -> name of a builder that returned one */

static int spec_index(const wf_arg_spec *spec, unsigned n, const char *key) {
  for (unsigned i = 0; i < n; i++)
    if (strcmp(spec[i].name, key) == 0) return (int)i;
  return -1;
}

static int unknown_key(lua_State *L, const char *what, const wf_arg_spec *spec, unsigned n,
                       const char *key) {
  luaL_Buffer buf;
  luaL_buffinit(L, &buf);
  for (unsigned i = 0; i < n; i++) {
    if (i) luaL_addstring(&buf, ", ");
    luaL_addstring(&buf, spec[i].name);
  }
  luaL_pushresult(&buf);
  return wf_lua_error(L, "%s: unknown key '%s' (known keys: %s)", what, key, lua_tostring(L, -1));
}

/* Pops the value at the top of the stack into the pins table, so that it outlives the
 * conversion whatever the script's tables do. */
static void pin(conv *c) {
  lua_rawseti(c->L, c->pins, ++c->npins);
}

static void check_bounds(lua_State *L, const char *what, const char *name, const wf_arg_spec *s,
                         double v) {
  if (!isfinite(v))
    wf_lua_error(L, "%s: '%s' is not a finite number (%s)", what, name,
                 isnan(v) ? "NaN" : v > 0 ? "inf" : "-inf");
  if (s->min <= s->max && (v < s->min || v > s->max)) {
    /* An integer argument's value and bounds read as integers: [1, 16777215], not 1.67772e+07. */
    const char *f = s->type == WF_ARG_INT        ? "%s: '%s' = %.0f is outside [%.0f, %.0f]"
                    : s->type == WF_ARG_DURATION ? "%s: '%s' = %.10g s is outside [%.10g, %.10g] s"
                                                 : "%s: '%s' = %.10g is outside [%.10g, %.10g]";
    wf_lua_error(L, f, what, name, v, s->min, s->max);
  }
}

/* Converts the scalar at the top of the stack into v, checked against s (type and bounds); name
 * is the value's path in messages ("lps", "regions[3].count"). */
static void convert_arg(lua_State *L, const char *what, const char *name, const wf_arg_spec *s,
                        wf_arg_value *v) {
  wf_error e = {0};
  switch (s->type) {
  case WF_ARG_INT:
    if (lua_isinteger(L, -1)) {
      v->i = lua_tointeger(L, -1); /* exactly: never through a double */
    } else {
      /* A float is an integer only inside int64's range (the cast is undefined outside). */
      lua_Number d = lua_tonumber(L, -1);
      int whole = lua_type(L, -1) == LUA_TNUMBER && d >= -9223372036854775808.0 &&
                  d < 9223372036854775808.0 && d == (lua_Number)(lua_Integer)d;
      if (!whole) {
        const char *type = luaL_typename(L, -1); /* before tolstring pushes its result */
        wf_lua_error(L, "%s: '%s' must be an integer, got %s '%s'", what, name, type,
                     luaL_tolstring(L, -1, NULL));
      }
      v->i = (int64_t)d;
    }
    /* The bounds are doubles; near 2^63 compare exactly, and say the value as it was given. */
    if (s->min <= s->max && ((double)v->i < s->min || (double)v->i > s->max ||
                             (s->max < 9.2233720368547758e18 && v->i > (int64_t)s->max)))
      wf_lua_error(L, "%s: '%s' = %lld is outside [%.0f, %.0f]", what, name, (long long)v->i,
                   s->min, s->max);
    break;
  case WF_ARG_NUM:
    if (lua_type(L, -1) != LUA_TNUMBER)
      wf_lua_error(L, "%s: '%s' must be a number, got %s", what, name, luaL_typename(L, -1));
    v->d = lua_tonumber(L, -1);
    check_bounds(L, what, name, s, v->d);
    break;
  case WF_ARG_DURATION:
    if (lua_type(L, -1) == LUA_TNUMBER)
      wf_duration_from_seconds(lua_tonumber(L, -1), &v->t, &e);
    else if (lua_type(L, -1) == LUA_TSTRING)
      wf_duration_parse(lua_tostring(L, -1), &v->t, &e);
    else
      wf_error_set(&e, "expected a duration such as \"250ms\", got %s", luaL_typename(L, -1));
    if (e.set) wf_lua_error(L, "%s: '%s': %s", what, name, e.msg);
    check_bounds(L, what, name, s, wf_time_to_s(v->t));
    break;
  case WF_ARG_STR:
    if (lua_type(L, -1) != LUA_TSTRING)
      wf_lua_error(L, "%s: '%s' must be a string, got %s", what, name, luaL_typename(L, -1));
    {
      size_t len;
      v->s = lua_tolstring(L, -1, &len);
      if (strlen(v->s) != len)
        wf_lua_error(L, "%s: '%s' holds a NUL byte ('%s' then more)", what, name, v->s);
    }
    break;
  case WF_ARG_BOOL:
    if (!lua_isboolean(L, -1))
      wf_lua_error(L, "%s: '%s' must be true or false, got %s", what, name, luaL_typename(L, -1));
    v->b = lua_toboolean(L, -1);
    break;
  default:
    wf_lua_error(L, "%s: internal error: '%s' is not a scalar", what, name);
  }
}

static void convert_value(conv *c, const wf_arg_spec *s, const char *path, wf_arg_value *v);

/* Checks the record table at stack index t against fields, like a builder's own keys, into
 * out[0..nfields). path is the record's own path ("" for a builder's keys, "regions[2]"). */
static void convert_fields(conv *c, int t, const wf_arg_spec *fields, unsigned nfields,
                           const char *path, wf_arg_value *out) {
  lua_State *L = c->L;
  char where[320];
  snprintf(where, sizeof where, *path ? "%s: %s" : "%s", c->what, path);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      wf_lua_error(L, "%s: keys must be names, got %s", where, luaL_typename(L, -1));
    if (spec_index(fields, nfields, lua_tostring(L, -1)) < 0)
      unknown_key(L, where, fields, nfields, lua_tostring(L, -1));
  }
  for (unsigned i = 0; i < nfields; i++) {
    char sub[256];
    snprintf(sub, sizeof sub, *path ? "%s.%s" : "%s%s", path, fields[i].name);
    lua_getfield(L, t, fields[i].name);
    convert_value(c, &fields[i], sub, &out[i]);
  }
}

/* Zeroed memory for n values, owned by Lua and pinned; NULL for none. */
static wf_arg_value *new_values(conv *c, size_t n) {
  if (n == 0) return NULL;
  wf_arg_value *v = lua_newuserdatauv(c->L, n * sizeof *v, 0);
  memset(v, 0, n * sizeof *v);
  pin(c);
  return v;
}

static void convert_record(conv *c, const wf_arg_spec *s, const char *path, wf_arg_value *v) {
  if (!lua_istable(c->L, -1))
    wf_lua_error(c->L, "%s: '%s' must be a record {key = value, ...}, got %s", c->what, path,
                 luaL_typename(c->L, -1));
  wf_arg_value *fields = new_values(c, s->nfields);
  convert_fields(c, lua_gettop(c->L), s->fields, s->nfields, path, fields);
  v->n = s->nfields;
  v->elems = fields;
}

/* The length of the sequence at stack index t; anything but keys 1..n is an error. */
static uint32_t sequence_length(conv *c, int t, const char *path) {
  lua_State *L = c->L;
  lua_Integer n = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1) {
      const char *type = luaL_typename(L, -1);
      wf_lua_error(L, "%s: '%s' must be a list {a, b, ...}, but has key %s '%s'", c->what, path,
                   type, luaL_tolstring(L, -1, NULL));
    }
    n++;
  }
  /* n positive integer keys that are not exactly 1..n leave a hole below n. */
  for (lua_Integer i = 1; i <= n; i++)
    if (lua_rawgeti(L, t, i) == LUA_TNIL)
      wf_lua_error(L, "%s: '%s' must be a list {a, b, ...}, but %s[%lld] is nil (a hole)", c->what,
                   path, path, (long long)i);
    else
      lua_pop(L, 1);
  if (n > (lua_Integer)UINT32_MAX) wf_lua_error(L, "%s: '%s' is too long", c->what, path);
  return (uint32_t)n;
}

/* The spec each element is checked against: the list's, with the element type, no default. It
 * becomes the elements' `spec`, so a record element's spec lists its fields. */
static const wf_arg_spec *element_spec(conv *c, const wf_arg_spec *s) {
  if (s->elem == WF_ARG_LIST || s->elem == WF_ARG_MAP)
    wf_lua_error(c->L, "%s: internal error: '%s' has elements of a table type", c->what, s->name);
  wf_arg_spec *es = lua_newuserdatauv(c->L, sizeof *es, 0);
  *es = *s;
  es->type = s->elem;
  es->def = NULL;
  pin(c);
  return es;
}

static void convert_list(conv *c, const wf_arg_spec *s, const char *path, wf_arg_value *v) {
  lua_State *L = c->L;
  if (!lua_istable(L, -1))
    wf_lua_error(L, "%s: '%s' must be a list {a, b, ...}, got %s", c->what, path,
                 luaL_typename(L, -1));
  int t = lua_gettop(L);
  uint32_t n = sequence_length(c, t, path);
  const wf_arg_spec *es = element_spec(c, s);
  wf_arg_value *elems = new_values(c, n);
  for (uint32_t i = 0; i < n; i++) {
    char sub[256];
    snprintf(sub, sizeof sub, "%s[%u]", path, i + 1);
    lua_rawgeti(L, t, (lua_Integer)i + 1);
    convert_value(c, es, sub, &elems[i]);
  }
  v->n = n;
  v->elems = elems;
}

static void convert_map(conv *c, const wf_arg_spec *s, const char *path, wf_arg_value *v) {
  lua_State *L = c->L;
  if (!lua_istable(L, -1))
    wf_lua_error(L, "%s: '%s' must be a map {name = value, ...}, got %s", c->what, path,
                 luaL_typename(L, -1));
  int t = lua_gettop(L);
  size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      const char *type = luaL_typename(L, -1);
      wf_lua_error(L, "%s: '%s' keys must be names, got %s '%s'", c->what, path, type,
                   luaL_tolstring(L, -1, NULL));
    }
    n++;
  }
  const wf_arg_spec *es = element_spec(c, s);
  const char **keys = n ? lua_newuserdatauv(L, n * sizeof *keys, 0) : NULL;
  if (n) pin(c);
  size_t k = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    keys[k++] = lua_tostring(L, -1);
    lua_pushvalue(L, -1);
    pin(c);
  }
  if (n) qsort(keys, n, sizeof *keys, cmp_str);
  wf_arg_value *elems = new_values(c, n);
  for (size_t i = 0; i < n; i++) {
    char sub[256];
    snprintf(sub, sizeof sub, "%s.%s", path, keys[i]);
    lua_getfield(L, t, keys[i]);
    convert_value(c, es, sub, &elems[i]);
  }
  v->n = (uint32_t)n;
  v->keys = keys;
  v->elems = elems;
}

/* The handle_ref of the value at the top of the stack, or NULL when no builder returned it. */
static const handle_ref *handle_of(lua_State *L) {
  if (!lua_istable(L, -1)) return NULL;
  lua_getfield(L, LUA_REGISTRYINDEX, HANDLES_KEY);
  lua_pushvalue(L, -2);
  lua_rawget(L, -2);
  const handle_ref *r = lua_touserdata(L, -1);
  lua_pop(L, 2);
  return r;
}

static void convert_handle(conv *c, const wf_arg_spec *s, const char *path, wf_arg_value *v) {
  lua_State *L = c->L;
  const handle_ref *r = handle_of(L);
  if (r && strcmp(r->kind, s->kind) == 0) {
    v->h = r->h;
    return;
  }
  char got[160], source[160];
  if (r)
    snprintf(got, sizeof got, "a %s (from weft.%s{...})", r->kind, r->builder);
  else
    snprintf(got, sizeof got, "%s%s", luaL_typename(L, -1),
             lua_istable(L, -1) ? " that no builder returned" : "");
  lua_getfield(L, LUA_REGISTRYINDEX, KINDS_KEY);
  if (lua_getfield(L, -1, s->kind) == LUA_TSTRING)
    snprintf(source, sizeof source, "the value weft.%s{...} returns", lua_tostring(L, -1));
  else
    snprintf(source, sizeof source, "the value a builder of %ss returns", s->kind);
  wf_lua_error(L, "%s: '%s': expected a %s (%s), got %s", c->what, path, s->kind, source, got);
}

/* Pushes the default of s for a missing value; a required one is an error. HANDLE has no
 * default value: one with a def is optional and converts to a NULL handle. */
static void push_default(conv *c, const wf_arg_spec *s, const char *path) {
  lua_State *L = c->L;
  if (!s->def) wf_lua_error(L, "%s: missing required key '%s' (%s)", c->what, path, s->help);
  switch (s->type) {
  case WF_ARG_BOOL:
    lua_pushboolean(L, strcmp(s->def, "true") == 0);
    break;
  case WF_ARG_STR:
  case WF_ARG_DURATION:
    lua_pushstring(L, s->def);
    break;
  case WF_ARG_LIST:
  case WF_ARG_RECORD:
  case WF_ARG_MAP:
    if (strcmp(s->def, "{}") != 0)
      wf_lua_error(L, "%s: bad default for '%s' (a table's is \"{}\")", c->what, path);
    lua_newtable(L);
    break;
  case WF_ARG_HANDLE:
    lua_pushnil(L);
    break;
  default:
    if (!lua_stringtonumber(L, s->def)) wf_lua_error(L, "%s: bad default for '%s'", c->what, path);
  }
}

/* Converts the value at the top of the stack (nil: the default) into v and pops it. */
static void convert_value(conv *c, const wf_arg_spec *s, const char *path, wf_arg_value *v) {
  lua_State *L = c->L;
  luaL_checkstack(L, 8, "nested arguments");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    push_default(c, s, path);
  }
  v->spec = s;
  switch (s->type) {
  case WF_ARG_LIST:
    convert_list(c, s, path, v);
    break;
  case WF_ARG_RECORD:
    convert_record(c, s, path, v);
    break;
  case WF_ARG_MAP:
    convert_map(c, s, path, v);
    break;
  case WF_ARG_HANDLE:
    if (!lua_isnil(L, -1)) convert_handle(c, s, path, v);
    break;
  default:
    convert_arg(L, c->what, path, s, v);
  }
  if (lua_type(L, -1) == LUA_TSTRING)
    pin(c); /* v->s points into it */
  else
    lua_pop(L, 1);
}

/* Checks table arg 1 against spec. Converted values stay valid while the call runs (they are
 * pinned in the table `pins` at index 2). */
static void check_args(lua_State *L, const char *what, const wf_arg_spec *spec, unsigned n,
                       wf_args *out) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (n > WF_ARGS_MAX)
    wf_lua_error(L, "%s: internal error: more than %d arguments", what, WF_ARGS_MAX);
  lua_settop(L, 1);
  lua_newtable(L); /* 2: pins */
  conv c = {L, what, 2, 0};
  memset(out, 0, sizeof *out);
  out->spec = spec;
  out->n = n;
  convert_fields(&c, 1, spec, n, "", out->v);
}

static int arg_index(const wf_args *a, const char *name) {
  int i = spec_index(a->spec, a->n, name);
  if (i < 0) {
    fprintf(stderr, "weft: internal error: builder reads undeclared argument '%s'\n", name);
    abort();
  }
  return i;
}
int64_t wf_arg_int(const wf_args *a, const char *n) {
  return a->v[arg_index(a, n)].i;
}
double wf_arg_num(const wf_args *a, const char *n) {
  return a->v[arg_index(a, n)].d;
}
wf_time wf_arg_duration(const wf_args *a, const char *n) {
  return a->v[arg_index(a, n)].t;
}
const char *wf_arg_str(const wf_args *a, const char *n) {
  return a->v[arg_index(a, n)].s;
}
int wf_arg_bool(const wf_args *a, const char *n) {
  return a->v[arg_index(a, n)].b;
}
const wf_arg_value *wf_arg(const wf_args *a, const char *n) {
  return &a->v[arg_index(a, n)];
}

const wf_arg_value *wf_arg_field(const wf_arg_value *record, const char *name) {
  const wf_arg_spec *s = record->spec;
  int i = s && s->type == WF_ARG_RECORD ? spec_index(s->fields, s->nfields, name) : -1;
  if (i < 0) {
    fprintf(stderr, "weft: internal error: builder reads undeclared field '%s' of '%s'\n", name,
            s ? s->name : "?");
    abort();
  }
  return &record->elems[i];
}

/* ---- weft.run ---- */

static const wf_arg_spec run_spec[] = {
    {"end_time", WF_ARG_DURATION, NULL, 1e-9, 1.8e10, "simulated time to run for, e.g. \"100s\""},
    {"sample", WF_ARG_DURATION, "0", 0, 1.8e10, "series sampling interval (0: end_time/100)"},
    {"seed", WF_ARG_INT, "1", 0, 9.2e18, "run seed (the --seed option wins)"},
    {"max_events", WF_ARG_INT, "0", 0, 9.2e18, "stop after this many events (0: no limit)"},
    {"description", WF_ARG_STR, "", 1, 0,
     "what the scenario is for, in a sentence or two: shown at the top of its report"},
};

static int l_run(lua_State *L) {
  binding *b = get_binding(L);
  if (b->run_called) return wf_lua_error(L, "weft.run: called twice");
  wf_args a;
  check_args(L, "weft.run", run_spec, sizeof run_spec / sizeof *run_spec, &a);
  b->run_called = 1;
  b->out->end_time = a.v[0].t;
  b->out->sample = a.v[1].t;
  if (!b->in->seed_given) b->out->seed = (uint64_t)a.v[2].i;
  b->out->max_events = (uint64_t)a.v[3].i;
  free(b->out->description);
  const char *d = a.v[4].s ? a.v[4].s : "";
  if (!(b->out->description = malloc(strlen(d) + 1))) return wf_lua_error(L, "out of memory");
  memcpy(b->out->description, d, strlen(d) + 1);
  if (b->out->end_time == 0) return wf_lua_error(L, "weft.run: 'end_time' must be positive");
  return 0;
}

/* ---- builders ---- */

/* Makes the table at the top of the stack a handle of built's kind: the registry maps it to a
 * handle_ref the script cannot reach, so only this very table is accepted as the handle. */
static void register_handle(lua_State *L, const wf_builder *bl, const wf_built *built) {
  lua_pushstring(L, built->kind);
  lua_setfield(L, -2, "kind");
  lua_getfield(L, LUA_REGISTRYINDEX, HANDLES_KEY);
  lua_pushvalue(L, -2);
  handle_ref *r = lua_newuserdatauv(L, sizeof *r, 0);
  *r = (handle_ref){built->handle, built->kind, bl->name};
  lua_rawset(L, -3);
  lua_getfield(L, LUA_REGISTRYINDEX, KINDS_KEY);
  lua_pushstring(L, bl->name);
  lua_setfield(L, -2, built->kind); /* for messages: who makes a handle of this kind */
  lua_pop(L, 2);
}

static int l_build(lua_State *L) {
  binding *b = get_binding(L);
  const wf_builder *bl = lua_touserdata(L, lua_upvalueindex(2));
  char what[64];
  snprintf(what, sizeof what, "weft.%s", bl->name);
  wf_args a;
  check_args(L, what, bl->args, bl->nargs, &a);
  wf_built built = {WF_LP_NONE, 0, NULL, NULL};
  wf_error e = {0};
  if (bl->build(b->eng, &a, &built, &e) != 0)
    return wf_lua_error(L, "%s: %s", what, e.set ? e.msg : "failed");
  if (built.handle && !built.kind)
    return wf_lua_error(L, "%s: internal error: a handle without a kind", what);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, built.first);
  lua_setfield(L, -2, "first");
  lua_pushinteger(L, built.count);
  lua_setfield(L, -2, "count");
  if (built.handle) register_handle(L, bl, &built);
  return 1;
}

/* ---- helpers for scripts ---- */

static int l_duration(lua_State *L) {
  wf_time t;
  wf_error e = {0};
  if (lua_type(L, 1) == LUA_TNUMBER)
    wf_duration_from_seconds(lua_tonumber(L, 1), &t, &e);
  else
    wf_duration_parse(luaL_checkstring(L, 1), &t, &e);
  if (e.set) return wf_lua_error(L, "weft.duration: %s", e.msg);
  lua_pushnumber(L, wf_time_to_s(t));
  return 1;
}

static int l_lp_count(lua_State *L) {
  lua_pushinteger(L, wf_engine_lp_count(get_binding(L)->eng));
  return 1;
}

/* require: Lua files next to the scenario, in its lib/ folder, or in weft's scenarios/lib. */
static int l_require(lua_State *L) {
  binding *b = get_binding(L);
  const char *name = luaL_checkstring(L, 1);
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '_' || *p == '.'))
      return wf_lua_error(L, "require: bad module name '%s'", name);
  lua_getfield(L, LUA_REGISTRYINDEX, "weft.loaded");
  if (lua_getfield(L, -1, name) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  char rel[256], path[1024];
  snprintf(rel, sizeof rel, "%s", name);
  for (char *p = rel; *p; p++)
    if (*p == '.') *p = '/';
  const char *dirs[] = {b->dir, NULL, WEFT_SOURCE_DIR "/scenarios/lib"};
  char libdir[1024];
  snprintf(libdir, sizeof libdir, "%s/lib", b->dir);
  dirs[1] = libdir;
  FILE *f = NULL;
  for (size_t i = 0; i < 3 && !f; i++) {
    snprintf(path, sizeof path, "%s/%s.lua", dirs[i], rel);
    f = fopen(path, "rb");
  }
  if (!f)
    return wf_lua_error(L, "require: module '%s' not found in %s, %s or %s", name, dirs[0], dirs[1],
                        dirs[2]);
  fclose(f);
  if (luaL_loadfilex(L, path, "t") != LUA_OK) return lua_error(L);
  lua_call(L, 0, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, name);
  return 1;
}

/* ---- the sandbox ---- */

static void open_sandbox(lua_State *L, binding *b) {
  /* No file, process or bytecode access: a scenario only builds the world. print and weft.log
   * write to stderr (stdout is reserved for --json); every rank but 0 stays quiet. */
  lua_pushlightuserdata(L, b);
  lua_setfield(L, LUA_REGISTRYINDEX, "weft.binding");
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "weft.loaded");
  /* Weak keys: a handle lives as long as the script keeps the table a builder returned. */
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushstring(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, HANDLES_KEY);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, KINDS_KEY);
  lua_pushlightuserdata(L, b);
  lua_pushcclosure(L, l_require, 1);
  lua_setglobal(L, "require");
  /* math.random is seeded from the run seed so that building is reproducible. */
  lua_getglobal(L, "math");
  lua_getfield(L, -1, "randomseed");
  lua_pushinteger(L, (lua_Integer)b->out->seed);
  lua_call(L, 1, 0);
  lua_pop(L, 1);
}

static void open_weft(lua_State *L, binding *b) {
  static const luaL_Reg fns[] = {{"params", l_params},
                                 {"run", l_run},
                                 {"duration", l_duration},
                                 {"lp_count", l_lp_count},
                                 {NULL, NULL}};
  lua_newtable(L);
  lua_pushlightuserdata(L, b);
  luaL_setfuncs(L, fns, 1);
  for (size_t m = 0; m < b->in->nmodels; m++) {
    const wf_model *model = b->in->models[m];
    for (unsigned i = 0; i < model->nbuilders; i++) {
      lua_pushlightuserdata(L, b);
      lua_pushlightuserdata(L, (void *)&model->builders[i]);
      lua_pushcclosure(L, l_build, 2);
      lua_setfield(L, -2, model->builders[i].name);
    }
  }
  lua_pushboolean(L, b->in->quiet);
  lua_pushcclosure(L, wf_lua_print, 1);
  lua_setfield(L, -2, "log");
  lua_pushstring(L, WEFT_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushvalue(L, -1);
  lua_setglobal(L, "weft");
  lua_getfield(L, LUA_REGISTRYINDEX, "weft.loaded");
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "weft"); /* require "weft" works too */
  lua_pop(L, 2);
}

static int run_script(lua_State *L, binding *b, size_t len, wf_error *err) {
  char chunk[1100];
  snprintf(chunk, sizeof chunk, "@%s", b->in->path);
  int rc = luaL_loadbufferx(L, b->out->text, len, chunk, "t");
  if (rc == LUA_OK) rc = wf_lua_run(L);
  if (rc != LUA_OK) {
    const char *msg = wf_lua_message(L);
    /* Errors raised outside a script line (memory, the instruction limit) get the file name. */
    if (strncmp(msg, b->in->path, strlen(b->in->path)) != 0 && !strstr(msg, ".lua:"))
      return wf_error_set(err, "%s: %s", b->in->path, msg);
    return wf_error_set(err, "%s", msg);
  }
  if (!b->run_called)
    return wf_error_set(err, "%s: the scenario never calls weft.run{end_time = ...}", b->in->path);
  for (size_t i = 0; i < b->in->nsets; i++)
    if (!b->set_used[i])
      return wf_error_set(err, "--set %s: %s declares no parameters (weft.params)", b->in->sets[i],
                          b->in->path);
  if (wf_engine_lp_count(b->eng) == 0)
    return wf_error_set(err, "%s: the scenario built no LPs (call a builder such as weft.phold{})",
                        b->in->path);
  return 0;
}

int wf_scenario_load(const wf_scenario_in *in, wf_engine *eng, wf_scenario_out *out,
                     wf_error *err) {
  memset(out, 0, sizeof *out);
  out->seed = in->seed_given ? in->seed : 1;
  for (size_t i = 0; i < in->nsets; i++) {
    if (!strchr(in->sets[i], '=') || in->sets[i][0] == '=')
      return wf_error_set(err, "--set %s: expected key=value", in->sets[i]);
    size_t klen = (size_t)(strchr(in->sets[i], '=') - in->sets[i]);
    for (size_t j = 0; j < i; j++)
      if (!strncmp(in->sets[j], in->sets[i], klen + 1))
        return wf_error_set(err, "--set %.*s given twice (%s, %s)", (int)klen, in->sets[i],
                            in->sets[j], in->sets[i]);
  }
  size_t len;
  out->text = read_file(in->path, &len, err);
  if (!out->text) return -1;
  out->name = wf_path_stem(in->path);
  binding b = {.in = in, .eng = eng, .out = out};
  b.dir = wf_path_dir(in->path);
  b.set_used = calloc(in->nsets + 1, 1);
  wf_json_init(&b.params);
  wf_lua_limits limits = {in->instr_limit, in->memory_limit};
  lua_State *L = wf_lua_open("scenario", limits, in->quiet);
  int rc = -1;
  if (!L || !b.dir || !b.set_used || !out->name) {
    wf_error_set(err, "out of memory loading %s", in->path);
  } else {
    open_sandbox(L, &b);
    open_weft(L, &b);
    rc = run_script(L, &b, len, err);
  }
  if (rc == 0) {
    if (!b.params_called) {
      wf_json_begin_object(&b.params);
      wf_json_end_object(&b.params);
    }
    out->params_json = wf_json_take(&b.params);
  }
  char msg[600];
  if (L && wf_lua_close(L, msg, sizeof msg) != 0 && rc == 0)
    rc = wf_error_set(err, "%s: %s", in->path, msg);
  wf_json_free(&b.params);
  free(b.dir);
  free(b.set_used);
  return rc;
}

void wf_scenario_out_free(wf_scenario_out *out) {
  free(out->name);
  free(out->text);
  free(out->params_json);
  free(out->description);
  memset(out, 0, sizeof *out);
}

static const char *type_name(wf_arg_type t) {
  static const char *names[] = {"integer", "number", "duration", "string", "boolean",
                                "list",    "record", "map",      "handle"};
  return names[t];
}

/* "integer", "list of record", "map of number", or a handle's kind ("network"). */
static const char *describe_type(const wf_arg_spec *s, char *buf, size_t cap) {
  if (s->type == WF_ARG_HANDLE) return s->kind;
  if (s->type != WF_ARG_LIST && s->type != WF_ARG_MAP) return type_name(s->type);
  snprintf(buf, cap, "%s of %s", type_name(s->type),
           s->elem == WF_ARG_HANDLE ? s->kind : type_name(s->elem));
  return buf;
}

static int has_fields(const wf_arg_spec *s) {
  return s->type == WF_ARG_RECORD || (s->type == WF_ARG_LIST && s->elem == WF_ARG_RECORD);
}

/* The widest name of args and their fields, each counted with its indentation. */
static int name_width(const wf_arg_spec *args, unsigned n, int depth) {
  int w = 0;
  for (unsigned i = 0; i < n; i++) {
    int k = 2 * depth + (int)strlen(args[i].name);
    if (k > w) w = k;
    if (has_fields(&args[i])) {
      k = name_width(args[i].fields, args[i].nfields, depth + 1);
      if (k > w) w = k;
    }
  }
  return w;
}

/* One line per argument, in columns as wide as the builder's longest name; a record's fields
 * (and a list of records') follow, indented. */
static void print_args(FILE *f, const wf_arg_spec *args, unsigned n, int depth, int width) {
  for (unsigned i = 0; i < n; i++) {
    const wf_arg_spec *s = &args[i];
    char type[64];
    fprintf(f, "%*s%-*s %-16s %-10s %s\n", 2 + 2 * depth, "", width - 2 * depth, s->name,
            describe_type(s, type, sizeof type), s->def ? s->def : "(required)", s->help);
    if (has_fields(s)) print_args(f, s->fields, s->nfields, depth + 1, width);
  }
}

void wf_scenario_print_builders(const wf_model *const *models, size_t nmodels, void *file) {
  FILE *f = file;
  fprintf(f, "weft.run{...}: run options\n");
  unsigned nrun = sizeof run_spec / sizeof *run_spec;
  print_args(f, run_spec, nrun, 0, name_width(run_spec, nrun, 0) < 14 ? 14 : name_width(run_spec, nrun, 0));
  for (size_t m = 0; m < nmodels; m++)
    for (unsigned k = 0; k < models[m]->nbuilders; k++) {
      const wf_builder *bl = &models[m]->builders[k];
      fprintf(f, "\nweft.%s{...}: %s\n", bl->name, bl->help);
      int w = name_width(bl->args, bl->nargs, 0);
      print_args(f, bl->args, bl->nargs, 0, w < 14 ? 14 : w);
    }
}
