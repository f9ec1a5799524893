/* The Lua sandbox's limits (sim/lua_common.c) and weft's counting pattern matcher
 * (sim/lua_pattern.c). The matcher is checked against Lua's own string library, which it
 * replaces: the same calls in a stock state and in the sandbox must give the same results and
 * the same errors, over fixed cases and many generated ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lua_common.h"
#include "pattern_call.h"
#include "rng.h"
#include "support.h"

/* Runs WF_PATTERN_CALL in L and copies the line into out. */
static void call(lua_State *L, const char *fn, const char *s, size_t ls, const char *p, size_t lp,
                 int kind3, lua_Integer a3, int plain, char *out, size_t cap) {
  assert_int_equal(luaL_loadstring(L, WF_PATTERN_CALL), LUA_OK);
  lua_pushstring(L, fn);
  lua_pushlstring(L, s, ls);
  lua_pushlstring(L, p, lp);
  if (kind3 == 1)
    lua_pushinteger(L, a3);
  else if (kind3 == 2)
    lua_pushliteral(L, "<%0|%1>");
  else
    lua_pushnil(L);
  if (plain)
    lua_pushboolean(L, 1);
  else
    lua_pushnil(L);
  if (lua_pcall(L, 5, 1, 0) != LUA_OK) fail_msg("harness: %s", lua_tostring(L, -1));
  snprintf(out, cap, "%s", lua_tostring(L, -1));
  lua_pop(L, 1);
}

static lua_State *stock(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  return L;
}

static int same(lua_State *ours, lua_State *theirs, const char *fn, const char *s, size_t ls,
                const char *p, size_t lp, int kind3, lua_Integer a3, int plain) {
  char a[4096], b[4096];
  call(ours, fn, s, ls, p, lp, kind3, a3, plain, a, sizeof a);
  call(theirs, fn, s, ls, p, lp, kind3, a3, plain, b, sizeof b);
  if (strcmp(a, b) != 0) {
    print_error("string.%s(%.*s, %.*s, %lld): weft %s, Lua %s\n", fn, (int)ls, s, (int)lp, p,
                (long long)a3, a, b);
    return 0;
  }
  return 1;
}

static const char *FNS[] = {"find", "match", "gmatch", "gsub"};

static void patterns_match_lua_on_fixed_cases(void **st) {
  (void)st;
  static const char *cases[][2] = {
      {"hello world", "o w"},
      {"hello world", "^h.-o"},
      {"hello world", "l+"},
      {"hello world", "(l)(l)"},
      {"hello world", "()ll()"},
      {"key = value", "(%w+)%s*=%s*(%w+)"},
      {"THE (quick) fox", "%((%a+)%)"},
      {"f(a(b)c)d", "%b()"},
      {"THE (quick) fox", "%f[%a]%a+"},
      {"aaa", "a-"},
      {"aaa", "a-$"},
      {"aaa", "^a*$"},
      {"abcabc", "(abc)%1"},
      {"a.b", "%."},
      {"a]b", "[]]"},
      {"a-b", "[a-]"},
      {"x^y", "[%^x]+"},
      {"123abc", "[^%d]+"},
      {"", ""},
      {"abc", ""},
      {"abc", "$"},
      {"abc", "[a"},
      {"abc", "%"},
      {"abc", "(a"},
      {"abc", "a)"},
      {"abc", "%1"},
      {"abc", "%f"},
      {"abc", "%bx"},
      {"a+b", "a+b"},
      {"  trim  ", "^%s*(.-)%s*$"},
      {"2024-11-30", "(%d+)-(%d+)-(%d+)"},
      {"x=1, y=2", "(%w+)=(%w+)"},
      {"abc", "((a)(b))"},
      {"abc", ".-b"},
      {"abc", "a?b?c?d?"},
      {"\xff\x80", "[\x80-\xff]+"},
      {"a1B2", "%u%d"},
      {"hello", "%x+"},
      {"tab\there", "%c"},
      {"p.u!n", "%p"},
  };
  lua_State *ours = wf_lua_open("test", (wf_lua_limits){0, 0}, 1), *theirs = stock();
  int ok = 1;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *s = cases[i][0], *p = cases[i][1];
    size_t ls = strlen(s);
    for (size_t f = 0; f < 4; f++) {
      ok &= same(ours, theirs, FNS[f], s, ls, p, strlen(p), f == 3 ? 2 : 0, 0, 0);
      ok &= same(ours, theirs, FNS[f], s, ls, p, strlen(p), f == 3 ? 2 : 1, -2, 0);
    }
    ok &= same(ours, theirs, "find", s, ls, p, strlen(p), 1, 1, 1);
    ok &= same(ours, theirs, "find", s, ls, p, strlen(p), 1, 100, 0);
  }
  /* NUL bytes in subjects and patterns */
  for (size_t f = 0; f < 4; f++) {
    ok &= same(ours, theirs, FNS[f], "a\0b\0", 4, "%z", 2, f == 3 ? 2 : 0, 0, 0);
    ok &= same(ours, theirs, FNS[f], "a\0b\0", 4, "[\0b]+", 5, f == 3 ? 2 : 0, 0, 0);
    ok &= same(ours, theirs, FNS[f], "a\0b\0", 4, "\0", 1, f == 3 ? 2 : 0, 0, 0);
  }
  char msg[256];
  assert_int_equal(wf_lua_close(ours, msg, sizeof msg), 0);
  lua_close(theirs);
  assert_true(ok);
}

/* Random patterns built from the pieces patterns are made of, over subjects from a small
 * alphabet so that matches are common. Deterministic: the same cases on every run. */
static void patterns_match_lua_on_generated_cases(void **st) {
  (void)st;
  static const char *pieces[] = {"a",    "b",     ".",    "%a",     "%d", "%s", "%W", "[ab]",
                                 "[^a]", "[a-c]", "*",    "+",      "-",  "?",  "(",  ")",
                                 "()",   "%1",    "%b()", "%f[%w]", "^",  "$",  "%",  "[",
                                 "]",    "%%",    "x",    "1",      " ",  "%z", "%Z"};
  static const char alphabet[] = "aabbc1 ()x";
  lua_State *ours = wf_lua_open("test", (wf_lua_limits){0, 0}, 1), *theirs = stock();
  wf_rng rng = wf_rng_stream(11, 0);
  int ok = 1;
  for (int n = 0; n < 20000 && ok; n++) {
    char p[64] = "", s[32];
    int np = 1 + (int)wf_rng_below(&rng, 6);
    for (int k = 0; k < np; k++)
      strcat(p, pieces[wf_rng_below(&rng, sizeof pieces / sizeof *pieces)]);
    size_t ls = wf_rng_below(&rng, 12);
    for (size_t k = 0; k < ls; k++) s[k] = alphabet[wf_rng_below(&rng, sizeof alphabet - 1)];
    const char *fn = FNS[wf_rng_below(&rng, 4)];
    lua_Integer init = (lua_Integer)wf_rng_below(&rng, 16) - 6;
    ok &= same(ours, theirs, fn, s, ls, p, strlen(p), strcmp(fn, "gsub") == 0 ? 2 : 1, init, 0);
  }
  char msg[256];
  assert_int_equal(wf_lua_close(ours, msg, sizeof msg), 0);
  lua_close(theirs);
  assert_true(ok);
}

/* Runs text in a sandbox with the given limits: returns the status and the message of the run,
 * or of the close when the run succeeded. */
static int sandbox(const char *text, uint64_t steps, uint64_t memory, char *msg, size_t cap) {
  lua_State *L = wf_lua_open("scenario", (wf_lua_limits){steps, memory}, 1);
  assert_non_null(L);
  int rc = luaL_loadstring(L, text);
  if (rc == LUA_OK) rc = wf_lua_run(L);
  if (rc != LUA_OK) snprintf(msg, cap, "%s", wf_lua_message(L));
  char closing[600];
  if (wf_lua_close(L, closing, sizeof closing) != 0 && rc == LUA_OK) {
    snprintf(msg, cap, "%s", closing);
    rc = -1;
  }
  return rc;
}

static void expect_failure(const char *text, uint64_t steps, uint64_t memory, const char *needle) {
  char msg[600] = "";
  if (sandbox(text, steps, memory, msg, sizeof msg) == LUA_OK)
    fail_msg("'%s' ran to the end under its limits", text);
  if (!strstr(msg, needle)) fail_msg("'%s': error '%s' lacks '%s'", text, msg, needle);
}

static void expect_success(const char *text, uint64_t steps, uint64_t memory) {
  char msg[600] = "";
  if (sandbox(text, steps, memory, msg, sizeof msg) != LUA_OK) fail_msg("'%s': %s", text, msg);
}

#define WORK "work limit of 1000000 steps"

static void work_inside_library_functions_is_counted(void **st) {
  (void)st;
  /* Each of these loops spends nearly all its time inside one C call. */
  expect_failure("local s = string.rep('a', 20000) string.find(s, '.-.-.-.-.-b')", 1000000, 0,
                 WORK);
  expect_failure("for i = 1, 1e9 do local s = string.rep('x', 1e5) end", 1000000, 0, WORK);
  expect_failure("local t, u = {}, {} table.move(t, 1, 1e12, 1, u)", 1000000, 0, WORK);
  expect_failure("local t = {} for i = 1, 1e4 do t[i] = i end\n"
                 "for i = 1, 1e6 do table.insert(t, 1, i) end",
                 1000000, 0, WORK);
  expect_failure("local s = 'x' for i = 1, 1e9 do s = s .. 'x' end", 1000000, 0, WORK);
  expect_failure("for i = 1, 1e9 do local s = string.format('%99d', i) end", 1000000, 0, WORK);
  /* Work that scales with the pattern, not the subject: a long set tested at every position. */
  expect_failure("local s = ('x'):rep(1e5) s:find('[' .. ('a'):rep(1e5) .. ']')", 1000000, 0,
                 WORK);
  /* A __len that answers 0 to the charge and 2^63 to the function is refused outright. */
  expect_failure("local n = 0\n"
                 "local t = setmetatable({}, {__len = function() n = n + 1\n"
                 "  return n == 1 and 0 or math.maxinteger - 1 end})\n"
                 "table.insert(t, 1, 'x')",
                 1000000, 0, "a table with a __len metamethod cannot go to this table function");
  expect_failure("local t = {} for i = 1, 1e4 do t[i] = i end\n"
                 "for i = 1, 1e6 do table.remove(t, 1, nil) t[#t + 1] = i end",
                 1000000, 0, WORK);
  /* A script that catches the limit's error cannot carry on past it. */
  expect_failure("while true do pcall(function() while true do end end) end", 1000000, 0, WORK);
  expect_failure("while true do pcall(string.rep, 'x', 1e6) end", 1000000, 0, WORK);
  /* What real scenarios do stays far below the limit: appending, sorting, matching lines. */
  expect_success("local t = {} for i = 1, 20000 do table.insert(t, i) end\n"
                 "table.sort(t, function(a, b) return a > b end)\n"
                 "local s = table.concat(t, ',')\n"
                 "local n = 0 for w in s:gmatch('[^,]+') do n = n + 1 end assert(n == 20000)\n"
                 "assert(select(2, s:gsub(',', ';')) == 19999)",
                 20000000, 0);
}

static void memory_is_capped(void **st) {
  (void)st;
  expect_failure("local t = {} for i = 1, 1e10 do t[i] = i end", 0, 64 << 20,
                 "memory cap of 64 MiB (--lua-memory)");
  expect_failure("local s = string.rep('x', 100 * 1024 * 1024)", 0, 64 << 20,
                 "memory cap of 64 MiB");
  /* Refused once and caught is not a failure: the script stayed within the cap. */
  expect_success("assert(not pcall(string.rep, 'x', 100 * 1024 * 1024)) local s = ('y'):rep(100)",
                 0, 64 << 20);
  assert_true(wf_lua_default_memory() >= 256ull << 20);
}

static void finalizers_run_under_the_limits(void **st) {
  (void)st;
  expect_failure("setmetatable({}, {__gc = function() while true do end end})", 1000000, 0, WORK);
  expect_failure("setmetatable({}, {__gc = function() local s = 'x' for i = 1, 40 do s = s .. s "
                 "end end})",
                 0, 64 << 20, "memory cap of 64 MiB");
  expect_failure("setmetatable({}, {__gc = function() error('boom') end})", 0, 0,
                 "error in a finalizer (__gc): [string");
  expect_failure("setmetatable({}, {__gc = function() error('boom') end}) local t = {}\n"
                 "for i = 1, 1e6 do t[i % 100] = {} end",
                 0, 0, "boom");
  /* The guarded copy is out of reach: getmetatable answers the original, so a __gc put there
   * later still runs guarded. */
  expect_failure("local mt = {__gc = true} local o = setmetatable({}, mt)\n"
                 "assert(getmetatable(o) == mt)\n"
                 "getmetatable(o).__gc = function() while true do end end",
                 1000000, 0, WORK);
  /* Each finalizer's coroutine is charged before it runs: many short ones add up. */
  expect_failure("for i = 1, 1e5 do setmetatable({}, {__gc = function() for j = 1, 900 do end "
                 "end}) end",
                 1000000, 0, WORK);
  /* A finalizer that works runs, also when its metatable changes __gc after the fact. */
  expect_success("local ran = 0 local mt = {__gc = true}\n"
                 "local o = setmetatable({}, mt) mt.__gc = function() ran = ran + 1 end\n"
                 "assert(getmetatable(o) == mt) o = nil\n"
                 "local t = {} for i = 1, 1e5 do t[i % 10] = {} end\n",
                 0, 0);
  /* setmetatable without __gc is Lua's own. */
  expect_success("local mt = {} local o = setmetatable({}, mt) assert(getmetatable(o) == mt)", 0,
                 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(patterns_match_lua_on_fixed_cases),
      cmocka_unit_test(patterns_match_lua_on_generated_cases),
      cmocka_unit_test(work_inside_library_functions_is_counted),
      cmocka_unit_test(memory_is_capped),
      cmocka_unit_test(finalizers_run_under_the_limits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
