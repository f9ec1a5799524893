#include "scenario.h"

#include <errno.h>
#include <stdarg.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "lua_common.h"

#define DEFAULT_INSTR_LIMIT 2000000000ull

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
    keys[nk++] = lua_tostring(L, -2);
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

/* ---- argument conversion, shared by weft.run and the builders ---- */

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

static void check_bounds(lua_State *L, const char *what, const wf_arg_spec *s, double v) {
  if (s->min <= s->max && (v < s->min || v > s->max))
    wf_lua_error(L, "%s: '%s' = %g is outside [%g, %g]", what, s->name, v, s->min, s->max);
}

/* Converts the value at the top of the stack (or the default text when it is nil) into
 * out->v[i]. */
static void convert_arg(lua_State *L, const char *what, const wf_arg_spec *s, wf_args *out,
                        unsigned i) {
  if (lua_isnil(L, -1)) {
    if (!s->def) wf_lua_error(L, "%s: missing required key '%s' (%s)", what, s->name, s->help);
    lua_pop(L, 1);
    if (s->type == WF_ARG_BOOL)
      lua_pushboolean(L, strcmp(s->def, "true") == 0);
    else if (s->type == WF_ARG_STR || s->type == WF_ARG_DURATION)
      lua_pushstring(L, s->def);
    else if (!lua_stringtonumber(L, s->def))
      wf_lua_error(L, "%s: bad default for '%s'", what, s->name);
  }
  wf_error e = {0};
  switch (s->type) {
  case WF_ARG_INT:
    if (!lua_isinteger(L, -1)) {
      lua_Number d = lua_tonumber(L, -1);
      if (lua_type(L, -1) != LUA_TNUMBER || d != (lua_Number)(lua_Integer)d) {
        const char *type = luaL_typename(L, -1); /* before tolstring pushes its result */
        wf_lua_error(L, "%s: '%s' must be an integer, got %s '%s'", what, s->name, type,
                     luaL_tolstring(L, -1, NULL));
      }
    }
    out->v[i].i = (int64_t)lua_tonumber(L, -1);
    check_bounds(L, what, s, (double)out->v[i].i);
    break;
  case WF_ARG_NUM:
    if (lua_type(L, -1) != LUA_TNUMBER)
      wf_lua_error(L, "%s: '%s' must be a number, got %s", what, s->name, luaL_typename(L, -1));
    out->v[i].d = lua_tonumber(L, -1);
    check_bounds(L, what, s, out->v[i].d);
    break;
  case WF_ARG_DURATION:
    if (lua_type(L, -1) == LUA_TNUMBER)
      wf_duration_from_seconds(lua_tonumber(L, -1), &out->v[i].t, &e);
    else if (lua_type(L, -1) == LUA_TSTRING)
      wf_duration_parse(lua_tostring(L, -1), &out->v[i].t, &e);
    else
      wf_error_set(&e, "expected a duration such as \"250ms\", got %s", luaL_typename(L, -1));
    if (e.set) wf_lua_error(L, "%s: '%s': %s", what, s->name, e.msg);
    check_bounds(L, what, s, wf_time_to_s(out->v[i].t));
    break;
  case WF_ARG_STR:
    if (lua_type(L, -1) != LUA_TSTRING)
      wf_lua_error(L, "%s: '%s' must be a string, got %s", what, s->name, luaL_typename(L, -1));
    out->v[i].s = lua_tostring(L, -1);
    break;
  case WF_ARG_BOOL:
    if (!lua_isboolean(L, -1))
      wf_lua_error(L, "%s: '%s' must be true or false, got %s", what, s->name,
                   luaL_typename(L, -1));
    out->v[i].b = lua_toboolean(L, -1);
    break;
  }
}

/* Checks table arg 1 against spec. Converted strings stay valid while the table is on the
 * stack (they are its values or pinned in the table `pins` at index 2). */
static void check_args(lua_State *L, const char *what, const wf_arg_spec *spec, unsigned n,
                       wf_args *out) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_newtable(L); /* 2: pins */
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) wf_lua_error(L, "%s: keys must be names", what);
    if (spec_index(spec, n, lua_tostring(L, -1)) < 0)
      unknown_key(L, what, spec, n, lua_tostring(L, -1));
  }
  memset(out, 0, sizeof *out);
  out->spec = spec;
  out->n = n;
  for (unsigned i = 0; i < n; i++) {
    lua_getfield(L, 1, spec[i].name);
    convert_arg(L, what, &spec[i], out, i);
    lua_rawseti(L, 2, (lua_Integer)i + 1);
  }
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

/* ---- weft.run ---- */

static const wf_arg_spec run_spec[] = {
    {"end_time", WF_ARG_DURATION, NULL, 1e-9, 1.8e10, "simulated time to run for, e.g. \"100s\""},
    {"sample", WF_ARG_DURATION, "0", 0, 1.8e10, "series sampling interval (0: end_time/100)"},
    {"seed", WF_ARG_INT, "1", 0, 9.2e18, "run seed (the --seed option wins)"},
    {"max_events", WF_ARG_INT, "0", 0, 9.2e18, "stop after this many events (0: no limit)"},
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
  if (b->out->end_time == 0) return wf_lua_error(L, "weft.run: 'end_time' must be positive");
  return 0;
}

/* ---- builders ---- */

static int l_build(lua_State *L) {
  binding *b = get_binding(L);
  const wf_builder *bl = lua_touserdata(L, lua_upvalueindex(2));
  char what[64];
  snprintf(what, sizeof what, "weft.%s", bl->name);
  wf_args a;
  check_args(L, what, bl->args, bl->nargs, &a);
  wf_built built = {WF_LP_NONE, 0};
  wf_error e = {0};
  if (bl->build(b->eng, &a, &built, &e) != 0)
    return wf_lua_error(L, "%s: %s", what, e.set ? e.msg : "failed");
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, built.first);
  lua_setfield(L, -2, "first");
  lua_pushinteger(L, built.count);
  lua_setfield(L, -2, "count");
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
  wf_lua_sandbox(L, b->in->quiet);
  lua_pushlightuserdata(L, b);
  lua_setfield(L, LUA_REGISTRYINDEX, "weft.binding");
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "weft.loaded");
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
  if (rc == LUA_OK)
    rc = wf_lua_run_limited(L, b->in->instr_limit ? b->in->instr_limit : DEFAULT_INSTR_LIMIT,
                            "scenario");
  if (rc != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    if (!msg) msg = "scenario error (no message)";
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
  lua_State *L = luaL_newstate();
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
  if (L) lua_close(L);
  wf_json_free(&b.params);
  free(b.dir);
  free(b.set_used);
  return rc;
}

void wf_scenario_out_free(wf_scenario_out *out) {
  free(out->name);
  free(out->text);
  free(out->params_json);
  memset(out, 0, sizeof *out);
}

static const char *type_name(wf_arg_type t) {
  static const char *names[] = {"integer", "number", "duration", "string", "boolean"};
  return names[t];
}

void wf_scenario_print_builders(const wf_model *const *models, size_t nmodels, void *file) {
  FILE *f = file;
  fprintf(f, "weft.run{...}: run options\n");
  for (size_t i = 0; i < sizeof run_spec / sizeof *run_spec; i++)
    fprintf(f, "  %-14s %-9s %-10s %s\n", run_spec[i].name, type_name(run_spec[i].type),
            run_spec[i].def ? run_spec[i].def : "(required)", run_spec[i].help);
  for (size_t m = 0; m < nmodels; m++)
    for (unsigned k = 0; k < models[m]->nbuilders; k++) {
      const wf_builder *bl = &models[m]->builders[k];
      fprintf(f, "\nweft.%s{...}: %s\n", bl->name, bl->help);
      for (unsigned i = 0; i < bl->nargs; i++)
        fprintf(f, "  %-14s %-9s %-10s %s\n", bl->args[i].name, type_name(bl->args[i].type),
                bl->args[i].def ? bl->args[i].def : "(required)", bl->args[i].help);
    }
}
