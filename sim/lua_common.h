/* What the two Lua bindings (scenarios, sweep files) share: the sandbox and its limits, errors
 * with printf formats at the script's file and line, and print to stderr. Part of the binding,
 * so it may include lua.h.
 *
 * The sandbox's limits hold for everything a script makes Lua do, its libraries included:
 *   work    one budget of steps: each Lua instruction is a step, every 16 bytes a script makes
 *           Lua allocate (string.rep, string.format, concatenation, table growth) is a step, and
 *           each step of pattern matching (string.find, match, gmatch, gsub: weft's own matcher,
 *           lua_pattern.c, which counts) is a step. Coroutines and finalizers draw on it too.
 *   memory  a cap on the bytes the Lua state holds at once.
 * Once either is reached the script fails: every further allocation is refused and every
 * further instruction raises the error, so no pcall inside the script can carry on past it.
 * Finalizers (__gc) run in a coroutine of their own under the same limits, since Lua runs them
 * with hooks off; an error inside one fails the script. */
#ifndef WF_LUA_COMMON_H
#define WF_LUA_COMMON_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "path.h"

/* A state's limits; 0 in either means its default. */
typedef struct wf_lua_limits {
  uint64_t steps;  /* default WF_LUA_STEPS */
  uint64_t memory; /* bytes; default wf_lua_default_memory() */
} wf_lua_limits;
#define WF_LUA_STEPS 1000000000ull /* about 6 s of plain Lua on this kind of machine */
#define WF_LUA_BYTES_PER_STEP 16

/* 1/16 of the machine's physical memory, at least 256 MiB: the default memory cap. */
uint64_t wf_lua_default_memory(void);

/* A new state with base, table, string, math and utf8 only (no dofile, loadfile,
 * load, collectgarbage), the counting pattern functions, the finalizer guard, and a print that
 * writes "file:line: ..." to stderr, or nothing when quiet. `what` names the script in errors
 * ("scenario", "sweep file"). NULL without memory. */
lua_State *wf_lua_open(const char *what, wf_lua_limits limits, int quiet);
/* Runs the chunk at the top of the stack under the limits: lua_pcall's status. */
int wf_lua_run(lua_State *L);
/* The failure's message after wf_lua_run failed: the limit reached, if one was, else the error
 * at the top of the stack. Valid until the state is closed. */
const char *wf_lua_message(lua_State *L);
/* Closes the state, running the pending finalizers under the limits. Returns 0, or -1 with msg
 * (cap bytes) set when a finalizer failed or a limit was reached at close. */
int wf_lua_close(lua_State *L, char *msg, size_t cap);

/* luaL_error with printf formats (lua_pushfstring knows only a few), prefixed with the calling
 * script's file and line. Does not return. */
int wf_lua_error(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The print above as a C function, for weft.log. */
int wf_lua_print(lua_State *L);

/* For lua_pattern.c: adds n steps to the state's work, raising the limit's error once the
 * budget is spent. */
void wf_lua_charge(lua_State *L, uint64_t n);
/* Replaces string.find, match, gmatch and gsub with weft's counting matcher (same patterns,
 * same results; lua_pattern.c). */
void wf_lua_open_patterns(lua_State *L);

#endif
