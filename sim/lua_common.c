#include "lua_common.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOOK_EVERY 100000

int wf_lua_error(lua_State *L, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return luaL_error(L, "%s", msg);
}

int wf_lua_print(lua_State *L) {
  if (lua_toboolean(L, lua_upvalueindex(1))) return 0; /* quiet */
  int n = lua_gettop(L);
  lua_Debug ar;
  if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar))
    fprintf(stderr, "%s:%d: ", ar.short_src, ar.currentline);
  for (int i = 1; i <= n; i++)
    fprintf(stderr, "%s%s", i > 1 ? "\t" : "", luaL_tolstring(L, i, NULL));
  fputc('\n', stderr);
  return 0;
}

void wf_lua_sandbox(lua_State *L, int quiet) {
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
}

typedef struct limit_state {
  uint64_t hooks, limit;
  const char *what;
} limit_state;

static void count_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_getfield(L, LUA_REGISTRYINDEX, "weft.limit");
  limit_state *s = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (++s->hooks * HOOK_EVERY >= s->limit)
    wf_lua_error(L, "%s ran %llu Lua instructions without finishing (an endless loop?)", s->what,
                 (unsigned long long)s->limit);
}

int wf_lua_run_limited(lua_State *L, uint64_t limit, const char *what) {
  limit_state *s = lua_newuserdatauv(L, sizeof *s, 0);
  *s = (limit_state){0, limit, what};
  lua_setfield(L, LUA_REGISTRYINDEX, "weft.limit");
  lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
  int rc = lua_pcall(L, 0, 0, 0);
  lua_sethook(L, NULL, 0, 0);
  return rc;
}
