/* The module summary: walks the sections of a binary and records its declarations. Anything
 * that does not parse is reported as "malformed binary: <what> at offset N". */
#include <stdlib.h>
#include <string.h>

#include "wbin.h"

#define MAX_COUNT 1000000u /* sanity bound on vector lengths before allocating */

/* A vector's declared length, refused (UINT32_MAX) when it exceeds MAX_COUNT or the bytes
 * left, before anything is allocated for it: every element takes a byte at least, so 13
 * bytes cannot declare a million imports. */
static uint32_t count(wf_wreader *r) {
  uint32_t n = wf_wr_u32(r);
  return r->bad || n > MAX_COUNT || n > (size_t)(r->end - r->p) ? UINT32_MAX : n;
}

static int malformed(wf_error *err, const char *what, size_t off) {
  return wf_error_set(err, "malformed binary: %s at offset %zu", what, off);
}

static void name_into(wf_wreader *r, char *dst, size_t cap) {
  uint32_t n = wf_wr_u32(r);
  const uint8_t *p = wf_wr_bytes(r, n);
  size_t k = p ? (n < cap - 1 ? n : cap - 1) : 0;
  if (k) memcpy(dst, p, k);
  dst[k] = 0;
}

static void limits(wf_wreader *r, uint32_t *min, uint32_t *max, int *has_max) {
  uint8_t flags = wf_wr_u8(r);
  *min = wf_wr_u32(r);
  *has_max = flags & 1;
  *max = *has_max ? wf_wr_u32(r) : 0;
}

static int types(wf_wreader *r, wf_winfo *m) {
  uint32_t n = count(r);
  if (n == UINT32_MAX) return -1;
  m->types = calloc(n ? n : 1, sizeof *m->types);
  if (!m->types) return -1;
  m->ntypes = n;
  for (uint32_t i = 0; i < n && !r->bad; i++) {
    wf_wfunctype *t = &m->types[i];
    if (wf_wr_u8(r) != 0x60) return -1;
    t->nparams = wf_wr_u32(r);
    for (uint32_t k = 0; k < t->nparams && !r->bad; k++) {
      uint8_t v = wf_wr_u8(r);
      if (k < 8) t->params[k] = v;
    }
    t->nresults = wf_wr_u32(r);
    for (uint32_t k = 0; k < t->nresults && !r->bad; k++) {
      uint8_t v = wf_wr_u8(r);
      if (k < 8) t->results[k] = v;
    }
  }
  return 0;
}

static int import_desc(wf_wreader *r, wf_winfo *m, uint8_t kind, uint32_t *func_type) {
  uint32_t a, b;
  int c;
  switch (kind) {
  case 0:
    *func_type = wf_wr_u32(r), m->nimported_funcs++;
    return 0;
  case 1:
    wf_wr_u8(r), limits(r, &a, &b, &c), m->ntables++;
    return 0;
  case 2:
    m->has_memory = m->memory_imported = 1;
    limits(r, &m->memory_min, &m->memory_max, &m->memory_has_max);
    return 0;
  case 3:
    wf_wr_u8(r), wf_wr_u8(r), m->nimported_globals++;
    return 0;
  default:
    return -1;
  }
}

static int imports(wf_wreader *r, wf_winfo *m) {
  uint32_t n = count(r);
  if (n == UINT32_MAX) return -1;
  m->imports = calloc(n ? n : 1, sizeof *m->imports);
  m->func_types = calloc(n ? n : 1, sizeof *m->func_types);
  if (!m->imports || !m->func_types) return -1;
  m->nimports = n;
  for (uint32_t i = 0; i < n && !r->bad; i++) {
    wf_wimport *im = &m->imports[i];
    name_into(r, im->module, sizeof im->module);
    name_into(r, im->name, sizeof im->name);
    im->kind = wf_wr_u8(r);
    uint32_t ft = 0;
    if (import_desc(r, m, im->kind, &ft)) return -1;
    if (im->kind == 0) m->func_types[m->nimported_funcs - 1] = ft;
  }
  return 0;
}

static int functions(wf_wreader *r, wf_winfo *m) {
  uint32_t n = count(r);
  if (n == UINT32_MAX) return -1;
  uint32_t *ft = realloc(m->func_types, (m->nimported_funcs + n + 1) * sizeof *ft);
  if (!ft) return -1;
  m->func_types = ft;
  for (uint32_t i = 0; i < n && !r->bad; i++) ft[m->nimported_funcs + i] = wf_wr_u32(r);
  m->nfuncs = m->nimported_funcs + n;
  return 0;
}

static int exports(wf_wreader *r, wf_winfo *m) {
  uint32_t n = count(r);
  if (n == UINT32_MAX) return -1;
  m->exports = calloc(n ? n : 1, sizeof *m->exports);
  if (!m->exports) return -1;
  m->nexports = n;
  for (uint32_t i = 0; i < n && !r->bad; i++) {
    name_into(r, m->exports[i].name, sizeof m->exports[i].name);
    m->exports[i].kind = wf_wr_u8(r);
    m->exports[i].index = wf_wr_u32(r);
  }
  return 0;
}

/* Each global's type, mutability and constant initialiser, read through to its end. */
static int globals(wf_wreader *r, wf_winfo *m) {
  uint32_t n = count(r);
  if (n == UINT32_MAX) return -1;
  for (uint32_t i = 0; i < n && !r->bad; i++) {
    wf_wr_u8(r); /* value type */
    wf_wr_u8(r); /* mutability */
    wf_instr in = {0};
    wf_error ignored = {0};
    for (unsigned k = 0; !r->bad; k++) {
      if (k > 16 || wf_wbin_instr(r, &in, &ignored) != 0) return -1; /* not a constant */
      if (in.op == WF_OP_END) break;
    }
  }
  m->nglobals = m->nimported_globals + n;
  return 0;
}

/* Reads the declarations of one known section; other sections are only recorded. */
static int section(wf_wreader *r, uint8_t id, wf_winfo *m) {
  int has_max;
  uint32_t n;
  switch (id) {
  case 1:
    return types(r, m);
  case 2:
    return imports(r, m);
  case 3:
    return functions(r, m);
  case 4:
    m->ntables += wf_wr_u32(r);
    return 0;
  case 5:
    n = wf_wr_u32(r);
    if (n > 1 || (n && m->has_memory)) return -1; /* multi-memory is not supported */
    if (n) {
      m->has_memory = 1;
      limits(r, &m->memory_min, &m->memory_max, &has_max);
      m->memory_has_max = has_max;
    }
    return 0;
  case 6:
    return globals(r, m);
  case 7:
    return exports(r, m);
  case 8:
    m->has_start = 1, m->start = wf_wr_u32(r);
    return 0;
  case 9:
    m->nelem = wf_wr_u32(r);
    return 0;
  case 11:
    m->ndata = wf_wr_u32(r);
    return 0;
  default:
    return 0;
  }
}

static int add_section(wf_winfo *m, uint8_t id, size_t off, size_t len, wf_wreader *body) {
  wf_wsection *s = realloc(m->sections, (m->nsections + 1) * sizeof *s);
  if (!s) return -1;
  m->sections = s;
  s += m->nsections++;
  memset(s, 0, sizeof *s);
  s->id = id, s->off = off, s->len = len;
  if (id == 0) name_into(body, s->name, sizeof s->name);
  if (id == 10) m->code_size = len;
  return 0;
}

static int parse(const uint8_t *bytes, size_t len, wf_winfo *m, wf_error *err) {
  static const uint8_t magic[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
  m->size = len;
  if (len < 8 || memcmp(bytes, magic, 4)) return malformed(err, "no \\0asm magic number", 0);
  if (memcmp(bytes + 4, magic + 4, 4)) return malformed(err, "unsupported version", 4);
  wf_wreader r;
  wf_wr_init(&r, bytes, len);
  wf_wr_bytes(&r, 8);
  int last = 0;
  while (r.p < r.end) {
    size_t at = wf_wr_offset(&r);
    uint8_t id = wf_wr_u8(&r);
    uint32_t n = wf_wr_u32(&r);
    const uint8_t *p = wf_wr_bytes(&r, n);
    if (r.bad || !p) return malformed(err, "section runs past the end of the module", at);
    if (id > 12) return malformed(err, "unknown section id", at);
    /* Known sections come in a fixed order (data count sits between element and code). */
    int rank = id == 12 ? 10 : id == 10 || id == 11 ? id + 1 : id;
    if (id && rank <= last) return malformed(err, "section out of order or repeated", at);
    if (id) last = rank;
    wf_wreader body;
    wf_wr_init(&body, p, n);
    if (add_section(m, id, (size_t)(p - bytes), n, &body) || section(&body, id, m) || body.bad)
      return malformed(err, "bad section contents", at);
    /* The sections read through must end where their entries do: the meter appends entries
     * to several of them, which would land after stray bytes. */
    if (id >= 1 && id <= 8 && id != 4 && body.p != body.end)
      return malformed(err, "section size mismatch (bytes after the last entry)", at);
  }
  if (m->nfuncs < m->nimported_funcs) m->nfuncs = m->nimported_funcs;
  if (m->nglobals < m->nimported_globals) m->nglobals = m->nimported_globals;
  if (!m->func_types && !(m->func_types = calloc(1, sizeof(uint32_t))))
    return wf_error_set(err, "out of memory");
  return 0;
}

/* On failure everything allocated is freed: the caller owns nothing then. */
int wf_wbin_parse(const uint8_t *bytes, size_t len, wf_winfo *m, wf_error *err) {
  memset(m, 0, sizeof *m);
  if (parse(bytes, len, m, err) == 0) return 0;
  wf_wbin_free(m);
  return -1;
}

void wf_wbin_free(wf_winfo *m) {
  free(m->types);
  free(m->imports);
  free(m->exports);
  free(m->sections);
  free(m->func_types);
  memset(m, 0, sizeof *m);
}

const wf_wsection *wf_wbin_section(const wf_winfo *m, uint8_t id) {
  for (uint32_t i = 0; i < m->nsections; i++)
    if (m->sections[i].id == id) return &m->sections[i];
  return NULL;
}

const wf_wexport *wf_wbin_export(const wf_winfo *m, const char *name) {
  for (uint32_t i = 0; i < m->nexports; i++)
    if (!strcmp(m->exports[i].name, name)) return &m->exports[i];
  return NULL;
}
