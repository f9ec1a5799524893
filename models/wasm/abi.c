#include "abi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

const char *const wf_fn_names[WF_FN_COUNT] = {"infer", "wf_meta", "wf_input_ptr", "wf_input_size",
                                              "wf_output_ptr"};

static int check_func(const wf_winfo *m, const char *name, int nparams, wf_error *err) {
  const wf_wexport *e = wf_wbin_export(m, name);
  if (!e) return wf_error_set(err, "missing export '%s' (see the module ABI)", name);
  if (e->kind != 0 || e->index >= m->nfuncs || m->func_types[e->index] >= m->ntypes)
    return wf_error_set(err, "export '%s' is not a function", name);
  const wf_wfunctype *t = &m->types[m->func_types[e->index]];
  int ok = (int)t->nparams == nparams && t->nresults == 1 && t->results[0] == 0x7f &&
           (nparams == 0 || t->params[0] == 0x7f);
  if (!ok)
    return wf_error_set(err, "export '%s' has the wrong type (the ABI wants %s -> i32)", name,
                        nparams ? "(i32)" : "()");
  return 0;
}

int wf_abi_check(const wf_winfo *m, const wf_gas_schedule *s, wf_error *err) {
  if (m->nimports)
    return wf_error_set(err, "imports %s.%s (%s); weft modules may not import anything",
                        m->imports[0].module, m->imports[0].name, wf_wbin_kind(m->imports[0].kind));
  const wf_wexport *mem = wf_wbin_export(m, "memory");
  if (!mem || mem->kind != 2) return wf_error_set(err, "missing export 'memory'");
  for (int f = 0; f < WF_FN_COUNT; f++)
    if (check_func(m, wf_fn_names[f], f == WF_FN_INFER, err)) return -1;
  if (m->memory_min > s->max_pages)
    return wf_error_set(err, "initial memory of %u pages exceeds the limit of %u pages",
                        m->memory_min, s->max_pages);
  return 0;
}

unsigned wf_abi_type_size(const char *t) {
  if (!strcmp(t, "f64")) return 8;
  if (!strcmp(t, "f32") || !strcmp(t, "i32")) return 4;
  if (!strcmp(t, "i8") || !strcmp(t, "u8")) return 1;
  return 0;
}

/* "f64[1,16,16]" -> type "f64", dims {1,16,16}. */
static int parse_shape(const char *v, char *type, uint32_t *dims, uint32_t *rank) {
  size_t n = strcspn(v, "[");
  if (n == 0 || n > 7 || v[n] != '[') return -1;
  memcpy(type, v, n);
  type[n] = 0;
  if (!wf_abi_type_size(type)) return -1;
  const char *p = v + n + 1;
  *rank = 0;
  while (*rank < 4) {
    char *end;
    unsigned long d = strtoul(p, &end, 10);
    if (end == p || d == 0) return -1;
    dims[(*rank)++] = (uint32_t)d;
    if (*end == ']') return 0;
    if (*end != ',') return -1;
    p = end + 1;
  }
  return -1;
}

static int parse_field(const char *key, const char *v, wf_wasm_meta *m) {
  if (!strcmp(key, "abi")) return strcmp(v, "1") ? -1 : 0;
  if (!strcmp(key, "name")) return snprintf(m->name, sizeof m->name, "%s", v) > 0 ? 0 : -1;
  if (!strcmp(key, "in")) return parse_shape(v, m->in_type, m->in_dims, &m->in_rank);
  if (!strcmp(key, "out")) return parse_shape(v, m->out_type, m->out_dims, &m->out_rank);
  if (!strcmp(key, "param")) {
    int lo, hi, def;
    if (sscanf(v, "%d..%d:%d", &lo, &hi, &def) != 3 || lo > hi || def < lo || def > hi) return -1;
    m->param_min = lo, m->param_max = hi, m->param_default = def;
    return 0;
  }
  return 0; /* unknown keys are for later ABI versions */
}

int wf_abi_parse_meta(const char *text, wf_wasm_meta *m, wf_error *err) {
  char buf[256];
  snprintf(m->raw, sizeof m->raw, "%s", text);
  snprintf(buf, sizeof buf, "%s", text);
  for (char *save = NULL, *f = strtok_r(buf, ";", &save); f; f = strtok_r(NULL, ";", &save)) {
    char *eq = strchr(f, '=');
    if (!eq) return wf_error_set(err, "bad wf_meta field '%s' (want key=value)", f);
    *eq = 0;
    if (parse_field(f, eq + 1, m)) return wf_error_set(err, "bad wf_meta field %s=%s", f, eq + 1);
  }
  if (!m->name[0] || !m->in_rank || !m->out_rank)
    return wf_error_set(err, "wf_meta '%s' lacks name, in or out", text);
  return 0;
}

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void wf_wasm_random_input(const wf_wasm_meta *meta, uint64_t seed, uint8_t *buf, size_t len) {
  uint64_t s = seed * 0x2545f4914f6cdd1dull + 1;
  unsigned size = wf_abi_type_size(meta->in_type);
  for (size_t i = 0; size && i + size <= len; i += size) {
    uint64_t r = splitmix(&s);
    double u = (double)(r >> 11) * 0x1.0p-53 * 2.0 - 1.0;
    if (!strcmp(meta->in_type, "f64"))
      memcpy(buf + i, &u, 8);
    else if (!strcmp(meta->in_type, "f32")) {
      float f = (float)u;
      memcpy(buf + i, &f, 4);
    } else
      memcpy(buf + i, &r, size); /* integers: uniform over their range (little-endian) */
  }
}
