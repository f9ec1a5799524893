#include "lua_common.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define HOOK_EVERY 100000
#define GC_HOOK_EVERY 1000 /* a finalizer's coroutine: each is new, so it is charged this first */

enum { HIT_NONE, HIT_WORK, HIT_MEMORY };

/* The allocator's ud: everything the limits need, reachable from any thread of the state. */
typedef struct box {
  wf_lua_limits lim;
  const char *what;
  uint64_t used;  /* bytes held now */
  uint64_t steps; /* instructions and pattern steps */
  uint64_t bytes; /* bytes ever allocated (each growth counted) */
  int hit;        /* sticky: HIT_WORK; HIT_MEMORY is the cap refusing one allocation */
  char msg[512];  /* the limit's message, or the first finalizer's error */
  char warning[512]; /* the pieces of the warning being emitted */
  int gc_failed;
} box;

static box *box_of(lua_State *L) {
  void *ud;
  lua_getallocf(L, &ud);
  return ud;
}

static uint64_t work(const box *b) {
  return b->steps + b->bytes / WF_LUA_BYTES_PER_STEP;
}

static void set_work_hit(box *b) {
  b->hit = HIT_WORK;
  snprintf(b->msg, sizeof b->msg,
           "%s used up its work limit of %llu steps (Lua instructions, plus one per %d bytes "
           "allocated and one per pattern-matching step): an endless loop? (--lua-steps)",
           b->what, (unsigned long long)b->lim.steps, WF_LUA_BYTES_PER_STEP);
}

static void *box_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  box *b = ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    b->used -= old;
    return NULL;
  }
  if (nsize > old) {
    uint64_t grow = nsize - old;
    if (b->hit == HIT_WORK) return NULL;
    if (b->used + grow > b->lim.memory) {
      /* Not sticky: Lua collects garbage and asks again before it raises a memory error. That
       * full collection is work too: charged as a pass over what the state holds. */
      b->hit = HIT_MEMORY;
      b->bytes += b->used / 4;
      snprintf(b->msg, sizeof b->msg,
               "%s needs more than its Lua memory cap of %llu MiB (--lua-memory)", b->what,
               (unsigned long long)(b->lim.memory >> 20));
      return NULL;
    }
    b->bytes += grow;
    if (work(b) >= b->lim.steps) {
      set_work_hit(b);
      return NULL;
    }
  }
  void *p = realloc(ptr, nsize);
  if (p) b->used = b->used - old + nsize;
  return p;
}

/* Raises the limit's error, and makes every later instruction of this thread raise it too. */
static void count_hook(lua_State *L, lua_Debug *ar);

static void raise_hit(lua_State *L, box *b) {
  lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
  luaL_error(L, "%s", b->msg); /* may itself find no memory: a memory error, same message */
}

static void count_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  box *b = box_of(L);
  if (b->hit != HIT_WORK) {
    b->steps += (uint64_t)lua_gethookcount(L);
    if (work(b) < b->lim.steps) return;
    set_work_hit(b);
  }
  raise_hit(L, b);
}

void wf_lua_charge(lua_State *L, uint64_t n) {
  box *b = box_of(L);
  b->steps += n;
  if (b->hit != HIT_WORK && work(b) >= b->lim.steps) set_work_hit(b);
  if (b->hit == HIT_WORK) raise_hit(L, b);
}

uint64_t wf_lua_default_memory(void) {
  uint64_t cap = wf_machine_memory() / 16;
  return cap < (256ull << 20) ? 256ull << 20 : cap;
}

int wf_lua_error(lua_State *L, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return luaL_error(L, "%s", msg);
}

int wf_lua_print(lua_State *L) {
  int n = lua_gettop(L);
  size_t bytes = 0;
  for (int i = 1; i <= n; i++) {
    size_t len = 0;
    if (lua_type(L, i) == LUA_TSTRING) lua_tolstring(L, i, &len);
    bytes += len;
  }
  wf_lua_charge(L, 1 + bytes / WF_LUA_BYTES_PER_STEP);
  if (lua_toboolean(L, lua_upvalueindex(1))) return 0; /* quiet */
  lua_Debug ar;
  if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar))
    fprintf(stderr, "%s:%d: ", ar.short_src, ar.currentline);
  for (int i = 1; i <= n; i++) {
    fprintf(stderr, "%s%s", i > 1 ? "\t" : "", luaL_tolstring(L, i, NULL));
    lua_pop(L, 1); /* a C function may only rely on 20 free slots */
  }
  fputc('\n', stderr);
  return 0;
}

/* ---- library functions that loop in C ---- */

/* How a wrapped library function's work is charged before it runs: for the loops inside it
 * that neither run Lua instructions nor allocate in proportion (string.rep of a one-byte
 * string: a copy per repetition; table.move between tables whose metamethods are tables). */
enum {
  C_REP,     /* string.rep(s, n): n */
  C_RANGE,   /* table.concat(t, sep, i, j), unpack(t, i, j), move(t, f, e): j - i + 1 */
  C_INSERT,  /* table.insert(t, pos, v): the elements shifted */
  C_REMOVE,  /* table.remove(t, pos): the elements shifted */
  C_SORT,    /* table.sort(t): n log2 n */
  C_STRING1, /* utf8.len, utf8.offset, string.pack/unpack/packsize: args 1-2's bytes / 16 */
};

static lua_Integer opt_int(lua_State *L, int arg, lua_Integer def) {
  int ok;
  lua_Integer v = lua_tointegerx(L, arg, &ok); /* 1e8 too, as the functions read it */
  return ok ? v : def;
}

/* Reads the arguments as the function will, but only to size the charge: a wrong argument is
 * left for the function itself to report. */
static uint64_t span(lua_Integer i, lua_Integer j) {
  return j >= i ? (uint64_t)j - (uint64_t)i + 1 : 0;
}

static int charged(lua_State *L) {
  int rule = (int)lua_tointeger(L, lua_upvalueindex(2));
  uint64_t n = 1;
  int nargs = lua_gettop(L);
  /* A __len the function would call again could answer differently than it did for the
   * charge (0, then 2^63): the sandbox's table functions do not take such tables. */
  if (rule != C_REP && rule != C_STRING1 && lua_getmetatable(L, 1)) {
    int has_len = lua_getfield(L, -1, "__len") != LUA_TNIL;
    lua_pop(L, 2);
    if (has_len)
      return luaL_error(L, "a table with a __len metamethod cannot go to this table function "
                           "in the sandbox (its work could not be counted)");
  }
  switch (rule) {
  case C_REP:
    n += (uint64_t)(opt_int(L, 2, 0) > 0 ? opt_int(L, 2, 0) : 0);
    break;
  case C_RANGE: {
    int first = (int)lua_tointeger(L, lua_upvalueindex(3)); /* the range's first argument */
    lua_Integer len = lua_istable(L, 1) && lua_isnoneornil(L, first + 1) ? luaL_len(L, 1) : 0;
    n += span(opt_int(L, first, 1), opt_int(L, first + 1, len));
    break;
  }
  case C_INSERT:
  case C_REMOVE:
    if (lua_istable(L, 1) && (rule == C_INSERT ? nargs == 3 : nargs >= 2))
      n += span(opt_int(L, 2, 1), luaL_len(L, 1));
    break;
  case C_SORT:
    if (lua_istable(L, 1)) {
      lua_Integer len = luaL_len(L, 1);
      for (lua_Integer k = len; k > 1; k >>= 1) n += len > 0 ? (uint64_t)len : 0;
    }
    break;
  case C_STRING1: /* the format or string, and string.unpack's data */
    for (int i = 1; i <= 2 && i <= nargs; i++) {
      size_t len = 0;
      if (lua_type(L, i) == LUA_TSTRING) lua_tolstring(L, i, &len);
      n += len / WF_LUA_BYTES_PER_STEP;
    }
    break;
  }
  wf_lua_charge(L, n);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, nargs, LUA_MULTRET);
  return lua_gettop(L);
}

static void wrap(lua_State *L, const char *lib, const char *name, int rule, int first) {
  lua_getglobal(L, lib);
  lua_getfield(L, -1, name);
  lua_pushinteger(L, rule);
  lua_pushinteger(L, first);
  lua_pushcclosure(L, charged, 3);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

static void wrap_library(lua_State *L) {
  wrap(L, LUA_STRLIBNAME, "rep", C_REP, 0);
  wrap(L, LUA_TABLIBNAME, "concat", C_RANGE, 3);
  wrap(L, LUA_TABLIBNAME, "unpack", C_RANGE, 2);
  wrap(L, LUA_TABLIBNAME, "move", C_RANGE, 2);
  wrap(L, LUA_TABLIBNAME, "insert", C_INSERT, 0);
  wrap(L, LUA_TABLIBNAME, "remove", C_REMOVE, 0);
  wrap(L, LUA_TABLIBNAME, "sort", C_SORT, 0);
  wrap(L, LUA_UTF8LIBNAME, "len", C_STRING1, 0);
  wrap(L, LUA_UTF8LIBNAME, "offset", C_STRING1, 0);
  wrap(L, LUA_STRLIBNAME, "pack", C_STRING1, 0);
  wrap(L, LUA_STRLIBNAME, "unpack", C_STRING1, 0);
  wrap(L, LUA_STRLIBNAME, "packsize", C_STRING1, 0);
}

/* ---- finalizers ---- */

/* Records the first finalizer failure; a memory error during one is the cap's message. */
static void gc_fail(box *b, int memory, const char *msg) {
  if (b->gc_failed) return;
  b->gc_failed = 1;
  if (b->hit == HIT_WORK || (memory && b->hit == HIT_MEMORY)) return; /* b->msg says it */
  snprintf(b->msg, sizeof b->msg, "%s: error in a finalizer (__gc): %s", b->what,
           msg ? msg : "(no message)");
}

/* The __gc Lua sees on a guarded object: runs the metatable's current __gc (upvalue 1 is that
 * metatable) in a new coroutine, which carries the count hook (Lua runs finalizers with hooks
 * off; a coroutine has them on), and records its error instead of letting Lua turn it into a
 * warning. */
static int gc_guard(lua_State *L) {
  box *b = box_of(L);
  if (b->hit == HIT_WORK) {
    gc_fail(b, 0, NULL);
    return 0;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushliteral(L, "__gc");
  if (lua_rawget(L, -2) == LUA_TNIL) return 0; /* removed since: nothing to run, as in Lua */
  wf_lua_charge(L, GC_HOOK_EVERY); /* what the coroutine may run before its hook first fires */
  lua_State *co = lua_newthread(L); /* a memory error here reaches on_warn */
  lua_sethook(co, count_hook, LUA_MASKCOUNT, GC_HOOK_EVERY);
  lua_insert(L, -2);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 2);
  int nres, rc = lua_resume(co, L, 1, &nres);
  if (rc == LUA_YIELD)
    gc_fail(b, 0, "a finalizer may not yield");
  else if (rc != LUA_OK)
    gc_fail(b, rc == LUA_ERRMEM, lua_tostring(co, -1));
  return 0;
}

/* setmetatable, guarding a metatable with a __gc field: the object gets a copy whose __gc is
 * gc_guard (so a later change to the original's __gc still runs guarded). getmetatable returns
 * the original (COPIES maps each copy to it), so the copy's guard is out of the script's reach;
 * metamethods added to the original afterwards do not reach the object. */
#define COPIES "weft.gc_copies"
static int l_setmetatable(lua_State *L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    int has_gc = lua_rawget(L, 2) != LUA_TNIL;
    lua_pop(L, 1);
    if (has_gc) {
      lua_newtable(L);
      lua_pushnil(L);
      while (lua_next(L, 2)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
      }
      lua_pushliteral(L, "__gc");
      lua_pushvalue(L, 2);
      lua_pushcclosure(L, gc_guard, 1);
      lua_rawset(L, -3);
      lua_getfield(L, LUA_REGISTRYINDEX, COPIES);
      lua_pushvalue(L, -2);
      lua_pushvalue(L, 2);
      lua_rawset(L, -3); /* COPIES[copy] = original */
      lua_pop(L, 1);
      lua_replace(L, 2);
    }
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

/* getmetatable, answering the original for a guarded copy. */
static int l_getmetatable(lua_State *L) {
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, 1, 1);
  if (lua_type(L, -1) == LUA_TTABLE) {
    lua_getfield(L, LUA_REGISTRYINDEX, COPIES);
    lua_pushvalue(L, -2);
    if (lua_rawget(L, -2) != LUA_TNIL) return 1;
    lua_pop(L, 2);
  }
  return 1;
}

/* Lua's own warnings: an error inside a __gc that escaped the guard (none should), or warn(). */
static void on_warn(void *ud, const char *msg, int tocont) {
  box *b = ud;
  size_t len = strlen(b->warning);
  snprintf(b->warning + len, sizeof b->warning - len, "%s", msg);
  if (tocont) return;
  if (strncmp(b->warning, "error in ", 9) == 0)
    gc_fail(b, 1, b->warning);
  else if (b->warning[0] != '@') /* "@on", "@off": controls, not messages */
    fprintf(stderr, "%s: warning: %s\n", b->what, b->warning);
  b->warning[0] = 0;
}

lua_State *wf_lua_open(const char *what, wf_lua_limits limits, int quiet) {
  box *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  b->lim.steps = limits.steps ? limits.steps : WF_LUA_STEPS;
  b->lim.memory = limits.memory ? limits.memory : wf_lua_default_memory();
  b->what = what;
  lua_State *L = lua_newstate(box_alloc, b);
  if (!L) {
    free(b);
    return NULL;
  }
  lua_setwarnf(L, on_warn, b);
  static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
                                  {LUA_TABLIBNAME, luaopen_table},
                                  {LUA_STRLIBNAME, luaopen_string},
                                  {LUA_MATHLIBNAME, luaopen_math},
                                  {LUA_UTF8LIBNAME, luaopen_utf8}};
  for (size_t i = 0; i < sizeof libs / sizeof *libs; i++) {
    luaL_requiref(L, libs[i].name, libs[i].func, 1);
    lua_pop(L, 1);
  }
  static const char *removed[] = {"dofile", "loadfile", "load", "collectgarbage"};
  for (size_t i = 0; i < sizeof removed / sizeof *removed; i++) {
    lua_pushnil(L);
    lua_setglobal(L, removed[i]);
  }
  lua_pushboolean(L, quiet);
  lua_pushcclosure(L, wf_lua_print, 1);
  lua_setglobal(L, "print");
  lua_getglobal(L, "setmetatable");
  lua_pushcclosure(L, l_setmetatable, 1);
  lua_setglobal(L, "setmetatable");
  lua_getglobal(L, "getmetatable");
  lua_pushcclosure(L, l_getmetatable, 1);
  lua_setglobal(L, "getmetatable");
  lua_newtable(L); /* COPIES: weak keys, so a copy goes with its objects */
  lua_newtable(L);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, COPIES);
  wf_lua_open_patterns(L);
  wrap_library(L);
  /* Set before the script runs, so that every coroutine it makes inherits the hook. */
  lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
  return L;
}

int wf_lua_run(lua_State *L) {
  box *b = box_of(L);
  int rc = lua_pcall(L, 0, 0, 0);
  if (rc == LUA_OK && b->hit == HIT_MEMORY) b->hit = HIT_NONE; /* refused, then caught */
  return rc;
}

const char *wf_lua_message(lua_State *L) {
  box *b = box_of(L);
  if (b->hit == HIT_WORK) return b->msg;
  const char *msg = lua_tostring(L, -1);
  if (b->hit == HIT_MEMORY && msg && strcmp(msg, "not enough memory") == 0) return b->msg;
  return msg ? msg : "error (no message)";
}

int wf_lua_close(lua_State *L, char *msg, size_t cap) {
  box *b = box_of(L);
  lua_close(L);
  int failed = b->gc_failed;
  if (failed) snprintf(msg, cap, "%s", b->msg);
  free(b);
  return failed ? -1 : 0;
}
