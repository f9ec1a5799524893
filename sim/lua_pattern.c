/* string.find, string.match, string.gmatch and string.gsub for the sandbox, written for weft
 * from the Lua 5.4 manual's definition of patterns (§6.4.1) so that every step of a match is
 * counted against the script's work limit: Lua's own matcher backtracks without end on
 * patterns such as '.-.-.-.-b' over a long string, and runs in C where no hook reaches it.
 * Results are Lua's: tests/fuzz's pattern target checks them against the stock functions. */
#include <lauxlib.h>
#include <string.h>

#include "lua_common.h"

#define MAX_CAPTURES 32 /* LUA_MAXCAPTURES */
#define MAX_DEPTH 200   /* recursion, as Lua's MAXCCALLS: "pattern too complex" beyond */
#define CAP_OPEN (-1)
#define CAP_POSITION (-2)
#define CHARGE_EVERY 4096 /* steps gathered before they are charged */

typedef struct matcher {
  const char *s0, *se; /* subject */
  const char *pe;      /* pattern end */
  lua_State *L;
  int depth, level;
  uint64_t steps;
  struct {
    const char *at;
    ptrdiff_t len;
  } cap[MAX_CAPTURES];
} matcher;

static void step(matcher *m) {
  if (++m->steps >= CHARGE_EVERY) {
    wf_lua_charge(m->L, m->steps);
    m->steps = 0;
  }
}

static void flush(matcher *m) {
  wf_lua_charge(m->L, m->steps);
  m->steps = 0;
}

/* The end of the single-character class starting at p. */
static const char *class_end(matcher *m, const char *p) {
  if (*p == '%') {
    if (p + 1 >= m->pe) luaL_error(m->L, "malformed pattern (ends with '%%')");
    return p + 2;
  }
  if (*p++ == '[') {
    if (p < m->pe && *p == '^') p++;
    do { /* the first character of a set is taken as is, even ']' */
      if (p >= m->pe) luaL_error(m->L, "malformed pattern (missing ']')");
      if (*p++ == '%' && p < m->pe) p++;
    } while (p >= m->pe || *p != ']');
    return p + 1;
  }
  return p;
}

/* Whether c is in class %cl (cl a letter; upper case complements), or equals cl otherwise. */
static int in_class(unsigned char c, unsigned char cl) {
  int r;
  switch (cl | 0x20) {
  case 'a':
    r = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    break;
  case 'c':
    r = c < 32 || c == 127;
    break;
  case 'd':
    r = c >= '0' && c <= '9';
    break;
  case 'g':
    r = c > 32 && c < 127;
    break;
  case 'l':
    r = c >= 'a' && c <= 'z';
    break;
  case 'p':
    r = (c > 32 && c < 48) || (c > 57 && c < 65) || (c > 90 && c < 97) || (c > 122 && c < 127);
    break;
  case 's':
    r = c == ' ' || (c >= 9 && c <= 13);
    break;
  case 'u':
    r = c >= 'A' && c <= 'Z';
    break;
  case 'w':
    r = ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9');
    break;
  case 'x':
    r = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
    break;
  case 'z':
    r = c == 0;
    break; /* deprecated in Lua 5.2, still there */
  default:
    return cl == c;
  }
  if (cl >= 'A' && cl <= 'Z') r = !r;
  return r;
}

/* Whether c is in the set [p, ec] (p at '[', ec at its ']'). */
static int in_set(unsigned char c, const char *p, const char *ec) {
  int yes = 1;
  if (*++p == '^') {
    yes = 0;
    p++;
  }
  while (p < ec) {
    if (*p == '%') {
      p++;
      if (in_class(c, (unsigned char)*p)) return yes;
      p++;
    } else if (p[1] == '-' && p + 2 < ec) {
      if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2]) return yes;
      p += 3;
    } else {
      if ((unsigned char)*p == c) return yes;
      p++;
    }
  }
  return !yes;
}

/* Whether the subject character at s matches the class [p, ep). */
static int single(matcher *m, const char *s, const char *p, const char *ep) {
  if (s >= m->se) return 0;
  unsigned char c = (unsigned char)*s;
  switch (*p) {
  case '.':
    return 1;
  case '%':
    return in_class(c, (unsigned char)p[1]);
  case '[':
    m->steps += (uint64_t)(ep - p) / 32; /* a long set is scanned at each test */
    return in_set(c, p, ep - 1);
  default:
    return (unsigned char)*p == c;
  }
}

static const char *match(matcher *m, const char *s, const char *p);

static const char *balance(matcher *m, const char *s, const char *p) {
  if (p + 1 >= m->pe) luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
  if (s >= m->se || *s != *p) return NULL;
  int open = *p, close = p[1], depth = 1;
  while (++s < m->se) {
    step(m);
    if (*s == close) {
      if (--depth == 0) return s + 1;
    } else if (*s == open) {
      depth++;
    }
  }
  return NULL;
}

/* Greedy: as many as match, then give back one at a time. */
static const char *expand_max(matcher *m, const char *s, const char *p, const char *ep) {
  ptrdiff_t n = 0;
  while (single(m, s + n, p, ep)) {
    step(m);
    n++;
  }
  for (; n >= 0; n--) {
    const char *r = match(m, s + n, ep + 1);
    if (r) return r;
  }
  return NULL;
}

/* Lazy: as few as match, taking one more at a time. */
static const char *expand_min(matcher *m, const char *s, const char *p, const char *ep) {
  for (;;) {
    const char *r = match(m, s, ep + 1);
    if (r) return r;
    if (!single(m, s, p, ep)) return NULL;
    s++;
  }
}

static const char *open_capture(matcher *m, const char *s, const char *p, ptrdiff_t what) {
  if (m->level >= MAX_CAPTURES) luaL_error(m->L, "too many captures");
  m->cap[m->level].at = s;
  m->cap[m->level].len = what;
  m->level++;
  const char *r = match(m, s, p);
  if (!r) m->level--;
  return r;
}

static const char *close_capture(matcher *m, const char *s, const char *p) {
  int l = m->level - 1;
  while (l >= 0 && m->cap[l].len != CAP_OPEN) l--;
  if (l < 0) luaL_error(m->L, "invalid pattern capture");
  m->cap[l].len = s - m->cap[l].at;
  const char *r = match(m, s, p);
  if (!r) m->cap[l].len = CAP_OPEN;
  return r;
}

static const char *back_reference(matcher *m, const char *s, int digit) {
  int l = digit - '1';
  if (l < 0 || l >= m->level || m->cap[l].len == CAP_OPEN)
    luaL_error(m->L, "invalid capture index %%%d", l + 1);
  size_t len = (size_t)m->cap[l].len;
  if ((size_t)(m->se - s) < len) return NULL;
  m->steps += len / 16; /* the comparison costs its length, whether it matches or not */
  step(m);
  return memcmp(m->cap[l].at, s, len) == 0 ? s + len : NULL;
}

/* The end of the match of pattern p at s, or NULL. Tail positions loop instead of recursing. */
static const char *match(matcher *m, const char *s, const char *p) {
  if (++m->depth > MAX_DEPTH) luaL_error(m->L, "pattern too complex");
  for (;;) {
    step(m);
    if (p >= m->pe) break;
    if (*p == '(') {
      s = p + 1 < m->pe && p[1] == ')' ? open_capture(m, s, p + 2, CAP_POSITION)
                                       : open_capture(m, s, p + 1, CAP_OPEN);
      break;
    }
    if (*p == ')') {
      s = close_capture(m, s, p + 1);
      break;
    }
    if (*p == '$' && p + 1 == m->pe) {
      if (s != m->se) s = NULL;
      break;
    }
    if (*p == '%' && p + 1 < m->pe && p[1] == 'b') {
      s = balance(m, s, p + 2);
      if (!s) break;
      p += 4;
      continue;
    }
    if (*p == '%' && p + 1 < m->pe && p[1] == 'f') {
      p += 2;
      if (p >= m->pe || *p != '[') luaL_error(m->L, "missing '[' after '%%f' in pattern");
      const char *ep = class_end(m, p);
      unsigned char prev = s == m->s0 ? 0 : (unsigned char)s[-1];
      unsigned char cur = s < m->se ? (unsigned char)*s : 0;
      if (in_set(prev, p, ep - 1) || !in_set(cur, p, ep - 1)) {
        s = NULL;
        break;
      }
      p = ep;
      continue;
    }
    if (*p == '%' && p + 1 < m->pe && p[1] >= '0' && p[1] <= '9') {
      s = back_reference(m, s, p[1]);
      if (!s) break;
      p += 2;
      continue;
    }
    const char *ep = class_end(m, p);
    char q = ep < m->pe ? *ep : 0;
    if (!single(m, s, p, ep)) {
      if (q == '*' || q == '?' || q == '-') { /* zero occurrences are fine */
        p = ep + 1;
        continue;
      }
      s = NULL;
      break;
    }
    if (q == '?') {
      const char *r = match(m, s + 1, ep + 1);
      if (r) {
        s = r;
        break;
      }
      p = ep + 1;
      continue;
    }
    if (q == '+') {
      s = expand_max(m, s + 1, p, ep);
      break;
    }
    if (q == '*') {
      s = expand_max(m, s, p, ep);
      break;
    }
    if (q == '-') {
      s = expand_min(m, s, p, ep);
      break;
    }
    s++;
    p = ep;
  }
  m->depth--;
  return s;
}

/* ---- captures to Lua values ---- */

/* Pushes capture i (or the whole match [s, e) when there are none and i == 0). */
static void push_capture(matcher *m, int i, const char *s, const char *e) {
  if (i >= m->level) {
    if (i != 0) luaL_error(m->L, "invalid capture index %%%d", i + 1);
    lua_pushlstring(m->L, s, (size_t)(e - s));
    return;
  }
  ptrdiff_t len = m->cap[i].len;
  if (len == CAP_OPEN) luaL_error(m->L, "unfinished capture");
  if (len == CAP_POSITION)
    lua_pushinteger(m->L, (lua_Integer)(m->cap[i].at - m->s0) + 1);
  else
    lua_pushlstring(m->L, m->cap[i].at, (size_t)len);
}

/* Pushes every capture (the whole match when whole and there are none); returns how many. */
static int push_captures(matcher *m, const char *s, const char *e, int whole) {
  int n = m->level == 0 && whole ? 1 : m->level;
  luaL_checkstack(m->L, n, "too many captures");
  for (int i = 0; i < n; i++) push_capture(m, i, s, e);
  return n;
}

static void start(matcher *m, lua_State *L, const char *s, size_t ls, const char *p, size_t lp) {
  m->L = L;
  m->s0 = s;
  m->se = s + ls;
  m->pe = p + lp;
  m->steps = 0;
}

static const char *try_at(matcher *m, const char *s, const char *p) {
  m->level = 0;
  m->depth = 0;
  return match(m, s, p);
}

/* The 1-based position init (negative: from the end) as an offset, or -1 past the end + 1. */
static ptrdiff_t start_offset(lua_State *L, int arg, size_t len) {
  lua_Integer pos = luaL_optinteger(L, arg, 1);
  if (pos > 0) return (size_t)pos - 1 > len ? -1 : (ptrdiff_t)pos - 1;
  if (pos == 0) return 0;
  if (pos < -(lua_Integer)len) return 0;
  return (ptrdiff_t)len + (ptrdiff_t)pos;
}

static int has_specials(matcher *m, const char *p, size_t lp) {
  m->steps += lp / 64;
  for (size_t i = 0; i < lp; i++)
    if (strchr("^$*+?.([%-", p[i]) && p[i]) return 1;
  return 0;
}

static int find_or_match(lua_State *L, int find) {
  size_t ls, lp;
  const char *s = luaL_checklstring(L, 1, &ls), *p = luaL_checklstring(L, 2, &lp);
  ptrdiff_t init = start_offset(L, 3, ls);
  if (init < 0) {
    luaL_pushfail(L);
    return 1;
  }
  matcher m;
  start(&m, L, s, ls, p, lp);
  if (find && (lua_toboolean(L, 4) || !has_specials(&m, p, lp))) {
    /* Plain search: each position tried is a step, plus the bytes compared. */
    for (const char *at = s + init; lp <= (size_t)(m.se - at); at++) {
      step(&m);
      if (memcmp(at, p, lp) == 0) {
        flush(&m);
        lua_pushinteger(L, (lua_Integer)(at - s) + 1);
        lua_pushinteger(L, (lua_Integer)(at - s + (ptrdiff_t)lp));
        return 2;
      }
      m.steps += lp / 64;
    }
    flush(&m);
    luaL_pushfail(L);
    return 1;
  }
  int anchor = lp > 0 && *p == '^';
  if (anchor) p++;
  const char *at = s + init;
  do {
    const char *e = try_at(&m, at, p);
    if (e) {
      flush(&m);
      if (!find) return push_captures(&m, at, e, 1);
      lua_pushinteger(L, (lua_Integer)(at - s) + 1);
      lua_pushinteger(L, (lua_Integer)(e - s));
      return push_captures(&m, NULL, NULL, 0) + 2;
    }
  } while (at++ < m.se && !anchor);
  flush(&m);
  luaL_pushfail(L);
  return 1;
}

static int l_find(lua_State *L) {
  return find_or_match(L, 1);
}
static int l_match(lua_State *L) {
  return find_or_match(L, 0);
}

/* gmatch's iterator: upvalues subject, pattern, and the next position and last match's end. */
static int gmatch_next(lua_State *L) {
  size_t ls, lp;
  const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
  const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
  lua_Integer pos = lua_tointeger(L, lua_upvalueindex(3));
  lua_Integer last = lua_tointeger(L, lua_upvalueindex(4)); /* -1: none yet */
  matcher m;
  start(&m, L, s, ls, p, lp);
  for (const char *at = s + pos; at <= m.se; at++) {
    const char *e = try_at(&m, at, p);
    if (e && (last < 0 || e != s + last)) { /* not the empty match where the last one ended */
      flush(&m);
      lua_pushinteger(L, e - s);
      lua_copy(L, -1, lua_upvalueindex(3));
      lua_copy(L, -1, lua_upvalueindex(4));
      lua_pop(L, 1);
      return push_captures(&m, at, e, 1);
    }
  }
  flush(&m);
  lua_pushinteger(L, (lua_Integer)ls + 1); /* done: later calls find nothing at once */
  lua_replace(L, lua_upvalueindex(3));
  return 0;
}

static int l_gmatch(lua_State *L) {
  size_t ls;
  luaL_checklstring(L, 1, &ls);
  luaL_checkstring(L, 2);
  ptrdiff_t init = start_offset(L, 3, ls);
  lua_settop(L, 2);
  lua_pushinteger(L, init < 0 ? (lua_Integer)ls + 1 : init);
  lua_pushinteger(L, -1);
  lua_pushcclosure(L, gmatch_next, 4);
  return 1;
}

/* Appends what replaces the match [s, e) to b: repl at index 3 (string, table or function). */
static void add_replacement(matcher *m, luaL_Buffer *b, const char *s, const char *e, int kind) {
  lua_State *L = m->L;
  if (kind == LUA_TSTRING) {
    size_t lr;
    const char *r = lua_tolstring(L, 3, &lr), *re = r + lr;
    for (const char *q; (q = memchr(r, '%', (size_t)(re - r))); r = q + 2) {
      luaL_addlstring(b, r, (size_t)(q - r));
      step(m);
      if (q + 1 >= re || q[1] == '%') {
        if (q + 1 >= re) luaL_error(L, "invalid use of '%%' in replacement string");
        luaL_addchar(b, '%');
      } else if (q[1] >= '0' && q[1] <= '9') {
        if (q[1] == '0') {
          luaL_addlstring(b, s, (size_t)(e - s));
        } else {
          push_capture(m, q[1] - '1', s, e);
          luaL_tolstring(L, -1, NULL);
          lua_remove(L, -2);
          luaL_addvalue(b);
        }
      } else {
        luaL_error(L, "invalid use of '%%' in replacement string");
      }
    }
    luaL_addlstring(b, r, (size_t)(re - r));
    return;
  }
  if (kind == LUA_TFUNCTION) {
    lua_pushvalue(L, 3);
    int n = push_captures(m, s, e, 1);
    lua_call(L, n, 1);
  } else {
    push_capture(m, 0, s, e);
    lua_gettable(L, 3);
  }
  if (!lua_toboolean(L, -1)) { /* nil or false: keep the original */
    lua_pop(L, 1);
    luaL_addlstring(b, s, (size_t)(e - s));
  } else if (!lua_isstring(L, -1)) {
    luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  } else {
    luaL_addvalue(b);
  }
}

static int l_gsub(lua_State *L) {
  size_t ls, lp;
  const char *s = luaL_checklstring(L, 1, &ls), *p = luaL_checklstring(L, 2, &lp);
  int kind = lua_type(L, 3);
  lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
  luaL_argexpected(
      L, kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION || kind == LUA_TTABLE,
      3, "string/function/table");
  if (kind == LUA_TNUMBER) kind = LUA_TSTRING;
  int anchor = lp > 0 && *p == '^';
  if (anchor) p++, lp--;
  matcher m;
  start(&m, L, s, ls, p, lp);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  const char *at = s, *last = NULL;
  lua_Integer n = 0;
  while (n < max) {
    const char *e = try_at(&m, at, p);
    if (e && e != last) {
      n++;
      add_replacement(&m, &b, at, e, kind);
      at = last = e;
    } else if (at < m.se) {
      luaL_addchar(&b, *at++);
    } else {
      break;
    }
    if (anchor) break;
  }
  flush(&m);
  luaL_addlstring(&b, at, (size_t)(m.se - at));
  luaL_pushresult(&b);
  lua_pushinteger(L, n);
  return 2;
}

void wf_lua_open_patterns(lua_State *L) {
  static const luaL_Reg fns[] = {
      {"find", l_find}, {"match", l_match}, {"gmatch", l_gmatch}, {"gsub", l_gsub}, {NULL, NULL}};
  lua_getglobal(L, "string");
  luaL_setfuncs(L, fns, 0);
  lua_pop(L, 1);
}
