/* The Lua chunk both checks of weft's pattern matcher run in two states, weft's sandbox and a
 * stock Lua (test_lua_sandbox.c, fuzz/fuzz_pattern.c): it calls string[fn](s, p, a3, a4)
 * protected (gmatch drained into one line) and returns a line describing every result, type
 * and value, or the error without its position. Equal lines mean equal behaviour. */
#ifndef WF_TEST_PATTERN_CALL_H
#define WF_TEST_PATTERN_CALL_H

static const char *const WF_PATTERN_CALL =
    "local fn, s, p, a3, a4 = ...\n"
    "local function show(ok, ...)\n"
    "  local out = {ok and 'ok' or 'err'}\n"
    "  for i = 1, select('#', ...) do\n"
    "    local v = select(i, ...)\n"
    "    if not ok then v = tostring(v):gsub('^[^:]*:%d+: ', '') end\n"
    "    out[#out + 1] = math.type(v) or type(v)\n"
    "    out[#out + 1] = string.format('%q', v)\n"
    "  end\n"
    "  return table.concat(out, ' ')\n"
    "end\n"
    "if fn == 'gmatch' then\n"
    "  return show(pcall(function()\n"
    "    local r = {}\n"
    "    for a, b in string.gmatch(s, p, a3) do r[#r + 1] = tostring(a) .. '|' .. tostring(b) end\n"
    "    return table.concat(r, ',')\n"
    "  end))\n"
    "end\n"
    "return show(pcall(string[fn], s, p, a3, a4))\n";

#endif
