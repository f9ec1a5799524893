/* What the two Lua bindings (scenarios, sweep files) share: the sandbox, errors with printf
 * formats at the script's file and line, print to stderr, and the instruction limit that turns
 * an endless loop into an error. Part of the binding, so it may include lua.h. */
#ifndef WF_LUA_COMMON_H
#define WF_LUA_COMMON_H

#include <lua.h>
#include <stdint.h>

#include "path.h"

/* luaL_error with printf formats (lua_pushfstring knows only a few), prefixed with the calling
 * script's file and line. Does not return. */
int wf_lua_error(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens base, table, string, math and utf8 only, removes dofile, loadfile, load and
 * collectgarbage, and installs a print that writes "file:line: ..." to stderr, or nothing when
 * quiet. The result: a script can compute and call weft, but not touch files or processes. */
void wf_lua_sandbox(lua_State *L, int quiet);
/* The print above as a C function, for weft.log. */
int wf_lua_print(lua_State *L);

/* Runs the loaded chunk at the top of the stack with at most `limit` instructions (what names
 * the script in the error: "scenario", "sweep file"). Returns lua_pcall's status. */
int wf_lua_run_limited(lua_State *L, uint64_t limit, const char *what);

#endif
