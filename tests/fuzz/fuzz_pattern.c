/* weft's pattern matcher (sim/lua_pattern.c) against Lua's own: the input is a function
 * (find, match, gmatch, gsub), a start position, a pattern and a subject; both must give the
 * same results or the same error. Subjects are cut to 16 bytes and patterns to 3 quantifiers,
 * so that Lua's matcher, which nothing bounds, ends quickly. */
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

#include "../pattern_call.h"
#include "lua_common.h"

static char *call(lua_State *L, const char *fn, const char *s, size_t ls, const char *p, size_t lp,
                  lua_Integer init) {
  if (luaL_loadstring(L, WF_PATTERN_CALL) != LUA_OK) abort();
  lua_pushstring(L, fn);
  lua_pushlstring(L, s, ls);
  lua_pushlstring(L, p, lp);
  if (strcmp(fn, "gsub") == 0) /* a replacement using the whole match and a capture; init: n */
    lua_pushliteral(L, "<%0|%1>");
  lua_pushinteger(L, init);
  if (lua_pcall(L, strcmp(fn, "gsub") == 0 ? 5 : 4, 1, 0) != LUA_OK) abort();
  char *r = strdup(lua_tostring(L, -1));
  lua_pop(L, 1);
  return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  static const char *fns[] = {"find", "match", "gmatch", "gsub"};
  const char *fn = fns[data[0] % 4];
  lua_Integer init = (lua_Integer)(data[1] % 32) - 8;
  const uint8_t *rest = data + 2, *sep = memchr(rest, 0xff, size - 2);
  size_t lp = sep ? (size_t)(sep - rest) : size - 2;
  const char *p = (const char *)rest, *s = sep ? (const char *)sep + 1 : "";
  size_t ls = sep ? size - 2 - lp - 1 : 0;
  if (ls > 16) ls = 16;
  int quantifiers = 0;
  for (size_t i = 0; i < lp; i++) quantifiers += strchr("*+-?", p[i]) && p[i];
  if (quantifiers > 3 || lp > 40) return 0;
  /* Fresh states each time: what one input leaves behind cannot change the next, and nothing
   * outlives the input (libFuzzer's leak check stays quiet). */
  lua_State *ours = wf_lua_open("fuzz", (wf_lua_limits){UINT64_MAX / 2, 0}, 1);
  lua_State *theirs = luaL_newstate();
  if (!ours || !theirs) abort();
  luaL_openlibs(theirs);
  char *a = call(ours, fn, s, ls, p, lp, init), *b = call(theirs, fn, s, ls, p, lp, init);
  char msg[600];
  if (wf_lua_close(ours, msg, sizeof msg) != 0) abort();
  lua_close(theirs);
  if (strcmp(a, b) != 0) {
    fprintf(stderr, "string.%s: weft %s, Lua %s\n", fn, a, b);
    abort();
  }
  free(a);
  free(b);
  return 0;
}
