#include "wasm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "aot_build.h"
#include "engine.h"
#include "simtime.h"
#include "wbin.h"

/* Gas for the ABI getters at load time; they only return addresses. */
#define GETTER_GAS 10000000ull

struct wf_wasm_module {
  char label[256];
  wf_wasm_options opts;
  const wf_engine_ops *ops;
  void *eng;
  wf_wasm_meta meta;
  uint32_t in_ptr, in_size, out_ptr;
  uint8_t *out;
  size_t out_cap;
  int dirty; /* the instance ran since its last reset */
  wf_wasm_estimate est;
};

void wf_wasm_options_default(wf_wasm_options *o) {
  memset(o, 0, sizeof *o);
  o->engine = WF_WASM_INTERP;
  wf_gas_schedule_default(&o->schedule);
  o->opt_level = WF_AOT_DEFAULT_OPT;
}

const char *wf_wasm_engine_name(wf_wasm_engine e) {
  return e == WF_WASM_AOT ? "aot" : "interp";
}

int wf_wasm_engine_parse(const char *name, wf_wasm_engine *out) {
  if (!strcmp(name, "interp")) return *out = WF_WASM_INTERP, 0;
  if (!strcmp(name, "aot")) return *out = WF_WASM_AOT, 0;
  return -1;
}

const char *wf_wasm_status_name(wf_wasm_status s) {
  static const char *names[] = {"ok",
                                "out of gas",
                                "unreachable executed",
                                "out of bounds memory access",
                                "integer divide by zero",
                                "integer overflow",
                                "invalid conversion to integer",
                                "bad indirect call",
                                "call depth exceeded",
                                "memory growth past the limit",
                                "trap",
                                "module error",
                                "bad input"};
  return (unsigned)s < sizeof names / sizeof *names ? names[s] : "?";
}

static int read_file(const char *path, uint8_t **out, size_t *len, wf_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return wf_error_set(err, "cannot open: %s", strerror(errno));
  uint8_t *buf = NULL;
  size_t n = 0, cap = 0, got;
  do {
    if (n == cap) {
      uint8_t *p = realloc(buf, cap = cap ? cap * 2 : 65536);
      if (!p) break;
      buf = p;
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
  } while (got > 0);
  int bad = ferror(f) || !buf;
  fclose(f);
  if (bad) {
    free(buf);
    return wf_error_set(err, "cannot read: %s", strerror(errno));
  }
  *out = buf;
  *len = n;
  return 0;
}

static int call_getter(wf_wasm_module *m, int fn, uint32_t *out, wf_error *err) {
  wf_engine_trap trap = {0};
  int32_t ret = 0;
  m->ops->set_gas(m->eng, GETTER_GAS);
  m->dirty = 1;
  if (m->ops->call(m->eng, fn, 0, &ret, &trap))
    return wf_error_set(err, "%s() trapped: %s", wf_fn_names[fn], trap.msg);
  *out = (uint32_t)ret;
  return 0;
}

/* Asks the module for its buffers and shape, and checks they lie inside its memory. */
static int read_abi(wf_wasm_module *m, wf_error *err) {
  uint32_t meta_ptr = 0;
  size_t size;
  if (call_getter(m, WF_FN_META, &meta_ptr, err) ||
      call_getter(m, WF_FN_INPUT_PTR, &m->in_ptr, err) ||
      call_getter(m, WF_FN_INPUT_SIZE, &m->in_size, err) ||
      call_getter(m, WF_FN_OUTPUT_PTR, &m->out_ptr, err))
    return -1;
  const uint8_t *mem = m->ops->memory(m->eng, &size);
  char text[256];
  size_t i = 0;
  for (; meta_ptr < size && i < size - meta_ptr && i < sizeof text - 1 && mem[meta_ptr + i]; i++)
    text[i] = (char)mem[meta_ptr + i];
  text[i] = 0;
  if (meta_ptr >= size || i == sizeof text - 1)
    return wf_error_set(err, "wf_meta() points outside memory or to an unterminated string");
  if (wf_abi_parse_meta(text, &m->meta, err)) return -1;
  if ((uint64_t)m->in_ptr + m->in_size > size || m->out_ptr >= size)
    return wf_error_set(err, "input or output buffer lies outside memory (%zu bytes)", size);
  m->meta.input_capacity = m->in_size;
  return 0;
}

/* Everything before an engine sees the module: structure, validation, ABI, metering. */
static int prepare(const uint8_t *bytes, size_t len, const wf_wasm_options *o, uint8_t **metered,
                   size_t *mlen, wf_meter_info *mi, wf_error *err) {
  wf_winfo info;
  if (wf_wbin_parse(bytes, len, &info, err)) return -1;
  int rc = wf_interp_validate(bytes, len, err) || wf_abi_check(&info, &o->schedule, err);
  wf_wbin_free(&info);
  if (rc) return -1;
  return wf_meter_instrument(bytes, len, &o->schedule, metered, mlen, mi, err);
}

wf_wasm_module *wf_wasm_load(const char *label, const uint8_t *bytes, size_t len,
                             const wf_wasm_options *o, wf_error *err) {
  wf_wasm_options defaults;
  if (!o) wf_wasm_options_default(&defaults), o = &defaults;
  wf_wasm_module *m = calloc(1, sizeof *m);
  if (!m) return wf_error_set(err, "%s: out of memory", label), NULL;
  snprintf(m->label, sizeof m->label, "%s", label);
  m->opts = *o;
  m->ops = o->engine == WF_WASM_AOT ? &wf_engine_aot : &wf_engine_interp;
  uint8_t *metered = NULL;
  size_t mlen = 0;
  wf_meter_info mi;
  int rc = prepare(bytes, len, o, &metered, &mlen, &mi, err);
  if (!rc) {
    wf_engine_config cfg = {m->label, mi.mutates_tables || mi.drops_data, &m->opts};
    m->eng = m->ops->load(metered, mlen, &cfg, err);
    rc = m->eng ? read_abi(m, err) : -1;
  }
  free(metered);
  if (rc) {
    wf_error_prefix(err, "%s: ", label);
    wf_wasm_free(m);
    return NULL;
  }
  m->est.gas_min = UINT64_MAX;
  return m;
}

wf_wasm_module *wf_wasm_load_file(const char *path, const wf_wasm_options *o, wf_error *err) {
  uint8_t *bytes = NULL;
  size_t len = 0;
  if (read_file(path, &bytes, &len, err)) {
    wf_error_prefix(err, "%s: ", path);
    return NULL;
  }
  wf_wasm_module *m = wf_wasm_load(path, bytes, len, o, err);
  free(bytes);
  return m;
}

void wf_wasm_free(wf_wasm_module *m) {
  if (!m) return;
  if (m->eng) m->ops->free(m->eng);
  free(m->out);
  free(m);
}

const wf_wasm_meta *wf_wasm_module_meta(const wf_wasm_module *m) {
  return &m->meta;
}
const char *wf_wasm_module_label(const wf_wasm_module *m) {
  return m->label;
}
const wf_wasm_estimate *wf_wasm_module_estimate(const wf_wasm_module *m) {
  return &m->est;
}
wf_wasm_engine wf_wasm_module_engine(const wf_wasm_module *m) {
  return m->opts.engine;
}

static void estimate_add(wf_wasm_estimate *e, const wf_wasm_result *r) {
  e->calls++;
  if (r->status != WF_WASM_OK) e->failures++;
  double d = (double)r->gas_used - e->gas_mean;
  e->gas_mean += d / (double)e->calls;
  e->gas_m2 += d * ((double)r->gas_used - e->gas_mean);
  e->ns_mean += ((double)r->ns - e->ns_mean) / (double)e->calls;
  if (r->gas_used < e->gas_min) e->gas_min = r->gas_used;
  if (r->gas_used > e->gas_max) e->gas_max = r->gas_used;
}

/* Names a trap, preferring what the meter recorded (its own traps look like `unreachable` to
 * the engine). */
static void describe_trap(wf_wasm_module *m, const wf_engine_trap *t, uint64_t limit,
                          wf_wasm_result *r) {
  switch (m->ops->trap_reason(m->eng)) {
  case WF_METER_TRAP_GAS:
    r->status = WF_WASM_OUT_OF_GAS;
    r->gas_used = limit;
    snprintf(r->reason, sizeof r->reason, "out of gas (limit %llu)", (unsigned long long)limit);
    return;
  case WF_METER_TRAP_DEPTH:
    r->status = WF_WASM_TRAP_CALL_DEPTH;
    snprintf(r->reason, sizeof r->reason, "call depth exceeded %u nested calls (deep recursion)",
             m->opts.schedule.max_depth);
    return;
  case WF_METER_TRAP_MEMORY:
    r->status = WF_WASM_TRAP_MEMORY_LIMIT;
    snprintf(r->reason, sizeof r->reason, "memory growth past the limit of %u pages (%u MiB)",
             m->opts.schedule.max_pages, m->opts.schedule.max_pages / 16);
    return;
  default:
    r->status = t->status;
    snprintf(r->reason, sizeof r->reason, "trap: %s", t->msg);
  }
}

/* Copies infer's output out of the instance, checking the length it claims. */
static void take_output(wf_wasm_module *m, int32_t ret, wf_wasm_result *r) {
  size_t size;
  const uint8_t *mem = m->ops->memory(m->eng, &size);
  if (ret < 0) {
    r->status = WF_WASM_MODULE_ERROR;
    snprintf(r->reason, sizeof r->reason, "infer returned error code %d", ret);
    return;
  }
  if ((uint64_t)m->out_ptr + (uint32_t)ret > size) {
    r->status = WF_WASM_MODULE_ERROR;
    snprintf(r->reason, sizeof r->reason, "infer claims %d output bytes, past the end of memory",
             ret);
    return;
  }
  if ((size_t)ret > m->out_cap) {
    uint8_t *p = realloc(m->out, (size_t)ret);
    if (!p) {
      r->status = WF_WASM_TRAP_OTHER;
      snprintf(r->reason, sizeof r->reason, "out of memory for %d output bytes", ret);
      return;
    }
    m->out = p;
    m->out_cap = (size_t)ret;
  }
  memcpy(m->out, mem + m->out_ptr, (size_t)ret);
  r->output = m->out;
  r->output_len = (uint32_t)ret;
}

static int prepare_call(wf_wasm_module *m, const void *input, size_t len, wf_wasm_result *r) {
  wf_error err = {0};
  if (len > m->in_size) {
    r->status = WF_WASM_BAD_INPUT;
    snprintf(r->reason, sizeof r->reason, "input of %zu bytes exceeds the %u-byte input buffer",
             len, m->in_size);
    return -1;
  }
  if (m->dirty && m->ops->reset(m->eng, &err)) {
    r->status = WF_WASM_TRAP_OTHER;
    snprintf(r->reason, sizeof r->reason, "%.180s", err.msg);
    return -1;
  }
  size_t size;
  uint8_t *mem = m->ops->memory(m->eng, &size);
  if (len) memcpy(mem + m->in_ptr, input, len);
  m->dirty = 1;
  return 0;
}

int wf_wasm_call(wf_wasm_module *m, const void *input, size_t len, int32_t param,
                 uint64_t gas_limit, wf_wasm_result *r) {
  memset(r, 0, sizeof *r);
  uint64_t t0 = wf_wall_ns();
  int bad = prepare_call(m, input, len, r);
  r->reset_ns = wf_wall_ns() - t0;
  if (!bad) {
    wf_engine_trap trap = {WF_WASM_OK, ""};
    int32_t ret = 0;
    m->ops->set_gas(m->eng, gas_limit);
    int trapped = m->ops->call(m->eng, WF_FN_INFER, param, &ret, &trap);
    uint64_t left = m->ops->gas(m->eng);
    r->gas_used = left <= gas_limit ? gas_limit - left : gas_limit;
    if (trapped)
      describe_trap(m, &trap, gas_limit, r);
    else
      take_output(m, ret, r);
  }
  r->ns = wf_wall_ns() - t0;
  estimate_add(&m->est, r);
  return r->status == WF_WASM_OK ? 0 : -1;
}
