#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua_common.h"
#include "sweep.h"

/* A sweep file only lists values; a few million instructions is already generous. */
#define INSTR_LIMIT 200000000ull

typedef struct binding {
  const char *path;
  char *dir; /* the sweep file's folder: the scenario path is relative to it */
  wf_sweep *out;
  int called;
} binding;

static const char *const keys_known[] = {"scenario", "grid", "seeds", "ranks"};
#define KNOWN_KEYS "scenario, grid, seeds, ranks"

/* Allocation failures become Lua errors so that the one error path frees everything. */
static void *checked(lua_State *L, void *p) {
  if (!p) wf_lua_error(L, "weft.sweep: out of memory");
  return p;
}

static char *dup_str(lua_State *L, const char *s) {
  return checked(L, strdup(s));
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_key(const void *a, const void *b) {
  return strcmp(((const wf_sweep_key *)a)->name, ((const wf_sweep_key *)b)->name);
}

/* The length of the array at idx, or 0 when it is not a non-empty array without holes or
 * other keys. */
static size_t array_len(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx)) return 0;
  size_t n = (size_t)lua_rawlen(L, idx), count = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    count++;
    lua_pop(L, 1);
  }
  return count == n ? n : 0;
}

/* ---- values as --set text ---- */

/* Numbers get the shortest text that reads back to the same double, so 0.1 stays "0.1"; a
 * float keeps a ".0" so that the scenario sees the type the sweep file wrote. */
static void number_text(lua_State *L, const char *what, char *buf, size_t size) {
  if (lua_isinteger(L, -1)) {
    snprintf(buf, size, "%lld", (long long)lua_tointeger(L, -1));
    return;
  }
  double d = lua_tonumber(L, -1);
  if (!isfinite(d)) wf_lua_error(L, "weft.sweep: %s must be a finite number", what);
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, size, "%.*g", prec, d);
    if (strtod(buf, NULL) == d) break;
  }
  if (!strpbrk(buf, ".e")) strncat(buf, ".0", size - strlen(buf) - 1);
}

static char *value_text(lua_State *L, const char *what) {
  char buf[64];
  switch (lua_type(L, -1)) {
  case LUA_TNUMBER:
    number_text(L, what, buf, sizeof buf);
    return dup_str(L, buf);
  case LUA_TBOOLEAN:
    return dup_str(L, lua_toboolean(L, -1) ? "true" : "false");
  case LUA_TSTRING:
    for (const char *p = lua_tostring(L, -1); *p; p++)
      if ((unsigned char)*p < 0x20)
        wf_lua_error(L, "weft.sweep: %s: strings may not hold control characters", what);
    return dup_str(L, lua_tostring(L, -1));
  default:
    wf_lua_error(L, "weft.sweep: %s must be a number, string or boolean, got %s", what,
                 luaL_typename(L, -1));
    return NULL;
  }
}

/* Two equal values would run the same point twice: almost surely a typo in the file. */
static void check_unique(lua_State *L, const char *key, char **values, size_t n) {
  char **sorted = checked(L, malloc(n * sizeof *sorted));
  memcpy(sorted, values, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, cmp_str);
  const char *dup = NULL;
  for (size_t i = 1; i < n && !dup; i++)
    if (strcmp(sorted[i - 1], sorted[i]) == 0) dup = sorted[i];
  free(sorted);
  if (dup) wf_lua_error(L, "weft.sweep: %s: value %s appears twice", key, dup);
}

/* ---- the fields of weft.sweep{...} ---- */

static void read_scenario(lua_State *L, binding *b) {
  if (lua_getfield(L, 1, "scenario") == LUA_TNIL)
    wf_lua_error(L,
                 "weft.sweep: missing required key 'scenario' (the scenario file each point runs, "
                 "relative to the sweep file)");
  if (lua_type(L, -1) != LUA_TSTRING || !*lua_tostring(L, -1))
    wf_lua_error(L, "weft.sweep: 'scenario' must be a file name, got %s", luaL_typename(L, -1));
  const char *s = lua_tostring(L, -1);
  size_t n = strlen(b->dir) + strlen(s) + 2;
  b->out->scenario = checked(L, malloc(n));
  if (s[0] == '/' || strcmp(b->dir, ".") == 0)
    snprintf(b->out->scenario, n, "%s", s);
  else
    snprintf(b->out->scenario, n, "%s/%s", b->dir, s);
  if (access(b->out->scenario, R_OK) != 0)
    wf_lua_error(L, "weft.sweep: 'scenario' = '%s': cannot read %s: %s", s, b->out->scenario,
                 strerror(errno));
  lua_pop(L, 1);
}

/* Grid keys become --set names and index.csv columns, so they must look like names and must
 * not shadow a column of their own. */
static void check_key_name(lua_State *L, const char *k) {
  static const char *const reserved[] = {"point",  "seed",   "trace",    "status",
                                         "events", "wall_s", "exit_code"};
  int ok = *k != 0;
  for (const char *p = k; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '_' || *p == '.' || *p == '-'))
      ok = 0;
  if (!ok) wf_lua_error(L, "weft.sweep: grid: bad parameter name '%s' (letters, digits, _ . -)", k);
  for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
    if (strcmp(k, reserved[i]) == 0)
      wf_lua_error(L, "weft.sweep: grid: '%s' is an index.csv column, not a parameter name%s", k,
                   strcmp(k, "seed") == 0 ? " (list run seeds in seeds = {...})" : "");
}

static void read_key_values(lua_State *L, wf_sweep_key *key) {
  char what[160];
  snprintf(what, sizeof what, "grid.%s", key->name);
  size_t n = array_len(L, -1);
  if (n == 0)
    wf_lua_error(L, "weft.sweep: %s must be a non-empty array of values, e.g. {1, 2}, got %s", what,
                 lua_istable(L, -1) ? "an empty table or one with non-array keys"
                                    : luaL_typename(L, -1));
  key->values = checked(L, calloc(n, sizeof *key->values));
  for (size_t i = 0; i < n; i++) {
    char item[200];
    snprintf(item, sizeof item, "%s[%zu]", what, i + 1);
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    key->values[i] = value_text(L, item);
    key->nvalues = i + 1;
    lua_pop(L, 1);
  }
  check_unique(L, what, key->values, n);
}

static void read_grid(lua_State *L, binding *b) {
  wf_sweep *s = b->out;
  int t = lua_getfield(L, 1, "grid");
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  if (t != LUA_TTABLE)
    wf_lua_error(L, "weft.sweep: 'grid' must be a table {name = {values...}}, got %s",
                 luaL_typename(L, -1));
  size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      wf_lua_error(L, "weft.sweep: grid: keys must be parameter names, got a %s",
                   luaL_typename(L, -1));
    check_key_name(L, lua_tostring(L, -1));
    n++;
  }
  s->keys = checked(L, calloc(n + 1, sizeof *s->keys));
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    s->keys[s->nkeys++].name = dup_str(L, lua_tostring(L, -1));
  }
  /* Sorted keys make the point order and the index columns independent of hash order. */
  qsort(s->keys, s->nkeys, sizeof *s->keys, cmp_key);
  for (size_t i = 0; i < s->nkeys; i++) {
    lua_getfield(L, -1, s->keys[i].name);
    read_key_values(L, &s->keys[i]);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* The value at the top of the stack is not what `what` takes. */
static void bad_value(lua_State *L, const char *what, const char *takes) {
  const char *type = luaL_typename(L, -1); /* before luaL_tolstring pushes a string */
  wf_lua_error(L, "weft.sweep: %s must be %s, got %s '%s'", what, takes, type,
               luaL_tolstring(L, -1, NULL));
}

static void read_seeds(lua_State *L, wf_sweep *s) {
  int t = lua_getfield(L, 1, "seeds");
  size_t n = t == LUA_TNIL ? 1 : array_len(L, -1);
  if (n == 0)
    wf_lua_error(
        L, "weft.sweep: 'seeds' must be a non-empty array of integers, e.g. {1, 2, 3}, got %s",
        t == LUA_TTABLE ? "an empty table or one with non-array keys" : luaL_typename(L, -1));
  s->seeds = checked(L, calloc(n, sizeof *s->seeds));
  s->nseeds = n;
  if (t == LUA_TNIL) s->seeds[0] = 1;
  for (size_t i = 0; t != LUA_TNIL && i < n; i++) {
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    int isnum = 0;
    lua_Integer v = lua_tointegerx(L, -1, &isnum);
    if (lua_type(L, -1) != LUA_TNUMBER || !isnum || v < 0) {
      char what[64];
      snprintf(what, sizeof what, "seeds[%zu]", i + 1);
      bad_value(L, what, "a non-negative integer");
    }
    s->seeds[i] = (uint64_t)v;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  uint64_t *sorted = checked(L, malloc(n * sizeof *sorted));
  memcpy(sorted, s->seeds, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, cmp_u64);
  size_t i = 1;
  while (i < n && sorted[i - 1] != sorted[i]) i++;
  uint64_t dup = i < n ? sorted[i] : 0;
  free(sorted);
  if (i < n) wf_lua_error(L, "weft.sweep: seeds: %llu appears twice", (unsigned long long)dup);
}

static void read_ranks(lua_State *L, wf_sweep *s) {
  s->ranks = 1;
  if (lua_getfield(L, 1, "ranks") != LUA_TNIL) {
    int isnum = 0;
    lua_Integer v = lua_tointegerx(L, -1, &isnum);
    if (lua_type(L, -1) != LUA_TNUMBER || !isnum || v < 1 || v > 1048576)
      bad_value(L, "'ranks'", "an integer in [1, 1048576]");
    s->ranks = (int)v;
  }
  lua_pop(L, 1);
}

static int l_sweep(lua_State *L) {
  binding *b = lua_touserdata(L, lua_upvalueindex(1));
  if (!lua_istable(L, 1))
    return wf_lua_error(L, "weft.sweep: expected a table {scenario = ..., grid = {...}}, got %s",
                        luaL_typename(L, 1));
  if (b->called) return wf_lua_error(L, "weft.sweep: called twice (one sweep per file)");
  b->called = 1;
  lua_settop(L, 1);
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    lua_pop(L, 1);
    const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    size_t i = 0;
    while (i < sizeof keys_known / sizeof *keys_known && strcmp(k, keys_known[i])) i++;
    if (i == sizeof keys_known / sizeof *keys_known)
      return wf_lua_error(L, "weft.sweep: unknown key '%s' (known keys: " KNOWN_KEYS ")",
                          luaL_tolstring(L, -1, NULL));
  }
  read_scenario(L, b);
  read_grid(L, b);
  read_seeds(L, b->out);
  read_ranks(L, b->out);
  size_t points = b->out->nseeds;
  for (size_t i = 0; i < b->out->nkeys; i++) {
    points *= b->out->keys[i].nvalues;
    if (points > WF_SWEEP_MAX_POINTS)
      return wf_lua_error(L, "weft.sweep: the grid has more than %d points (split the sweep)",
                          WF_SWEEP_MAX_POINTS);
  }
  b->out->npoints = points;
  return 1; /* the table itself: `return weft.sweep{...}` reads naturally */
}

/* ---- the sandbox ---- */

/* The same sandbox as a scenario's: no files, processes or bytecode. */
static void open_sandbox(lua_State *L, binding *b) {
  lua_pushlightuserdata(L, b);
  lua_setfield(L, LUA_REGISTRYINDEX, "weft.sweep");
  lua_newtable(L);
  lua_pushlightuserdata(L, b);
  lua_pushcclosure(L, l_sweep, 1);
  lua_setfield(L, -2, "sweep");
  lua_pushstring(L, WEFT_VERSION);
  lua_setfield(L, -2, "version");
  lua_setglobal(L, "weft");
}

/* ---- loading ---- */

static int run_file(lua_State *L, binding *b, wf_error *err) {
  FILE *f = fopen(b->path, "rb");
  if (!f) return wf_error_set(err, "cannot open sweep file '%s': %s", b->path, strerror(errno));
  fclose(f);
  int rc = luaL_loadfilex(L, b->path, "t");
  if (rc == LUA_OK) rc = wf_lua_run(L);
  if (rc != LUA_OK) {
    const char *msg = wf_lua_message(L);
    if (strncmp(msg, b->path, strlen(b->path)) != 0)
      return wf_error_set(err, "%s: %s", b->path, msg);
    return wf_error_set(err, "%s", msg);
  }
  if (!b->called)
    return wf_error_set(
        err, "%s: the sweep file never calls weft.sweep{scenario = ..., grid = ...}", b->path);
  return 0;
}

int wf_sweep_load(const char *path, wf_sweep *out, wf_error *err) {
  memset(out, 0, sizeof *out);
  binding b = {.path = path, .out = out};
  b.dir = wf_path_dir(path);
  out->path = strdup(path);
  out->name = wf_path_stem(path);
  lua_State *L = wf_lua_open("sweep file", (wf_lua_limits){INSTR_LIMIT, 0}, 0);
  int rc = -1;
  if (!L || !b.dir || !out->path || !out->name) {
    wf_error_set(err, "out of memory loading %s", path);
  } else {
    open_sandbox(L, &b);
    rc = run_file(L, &b, err);
  }
  char msg[600];
  if (L && wf_lua_close(L, msg, sizeof msg) != 0 && rc == 0)
    rc = wf_error_set(err, "%s: %s", path, msg);
  free(b.dir);
  if (rc != 0) wf_sweep_free(out);
  return rc;
}

void wf_sweep_free(wf_sweep *s) {
  for (size_t i = 0; i < s->nkeys; i++) {
    for (size_t j = 0; j < s->keys[i].nvalues; j++) free(s->keys[i].values[j]);
    free(s->keys[i].values);
    free(s->keys[i].name);
  }
  free(s->keys);
  free(s->seeds);
  free(s->scenario);
  free(s->name);
  free(s->path);
  memset(s, 0, sizeof *s);
}
