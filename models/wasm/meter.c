#include "meter.h"

#include <stdlib.h>
#include <string.h>

#include "wbin.h"

/* Gas the instance starts with, so start functions and the ABI getters run; every call sets the
 * real limit first. */
#define INITIAL_GAS ((int64_t)1 << 62)

/* Opcodes the rewriter emits. */
enum {
  UNREACHABLE = 0x00,
  IF = 0x04,
  END = 0x0B,
  CALL = 0x10,
  LOCAL_GET = 0x20,
  GLOBAL_GET = 0x23,
  GLOBAL_SET = 0x24,
  MEMORY_SIZE = 0x3F,
  MEMORY_GROW = 0x40,
  I32_CONST = 0x41,
  I64_CONST = 0x42,
  I32_GE_U = 0x4F,
  I64_LT_U = 0x54,
  I64_GT_U = 0x56,
  I32_ADD = 0x6A,
  I32_SUB = 0x6B,
  I64_ADD = 0x7C,
  I64_SUB = 0x7D,
  I64_MUL = 0x7E,
  I64_EXTEND_I32_U = 0xAD,
  EMPTY_BLOCK = 0x40
};

typedef struct rewriter {
  const wf_gas_schedule *s;
  const wf_winfo *m;
  uint32_t g_gas, g_depth, g_trap; /* indices of the added globals */
  uint32_t grow_func, grow_type;
  int has_grow;
  wf_meter_info *info;
} rewriter;

void wf_gas_schedule_default(wf_gas_schedule *s) {
  memset(s, 0, sizeof *s);
  s->op = WF_GAS_PER_OP;
  s->branch = (uint64_t)WF_GAS_PER_OP * WF_GAS_BRANCH_FACTOR;
  s->page = WF_GAS_PER_PAGE;
  s->max_depth = WF_GAS_MAX_DEPTH;
  s->max_pages = WF_GAS_MAX_PAGES;
}

uint64_t wf_gas_to_sdk(uint64_t gas) {
  return gas / WF_GAS_SDK_MULTIPLIER;
}

/* The operations after which control may go elsewhere: wasmer's metering middleware settles
 * the accumulated cost right before each of them, and cosmwasm-vm prices them at 14x. */
static int accounting(uint32_t op) {
  return op == WF_OP_LOOP || op == WF_OP_END || op == WF_OP_IF || op == WF_OP_ELSE ||
         op == WF_OP_BR || op == WF_OP_BR_IF || op == WF_OP_BR_TABLE || op == WF_OP_RETURN ||
         op == WF_OP_CALL || op == WF_OP_CALL_INDIRECT;
}

static uint64_t cost(const rewriter *rw, uint32_t op) {
  if (rw->s->opcode_cost && op < 256 && rw->s->opcode_cost[op]) return rw->s->opcode_cost[op];
  return accounting(op) ? rw->s->branch : rw->s->op;
}

static void global_op(wf_wbuf *b, uint8_t op, uint32_t g) {
  wf_wb_u8(b, op);
  wf_wb_u32(b, g);
}

/* if (cond on stack) { wf_trap = reason; unreachable } */
static void trap_if(wf_wbuf *b, const rewriter *rw, int reason) {
  wf_wb_u8(b, IF);
  wf_wb_u8(b, EMPTY_BLOCK);
  wf_wb_u8(b, I32_CONST);
  wf_wb_sleb(b, reason);
  global_op(b, GLOBAL_SET, rw->g_trap);
  wf_wb_u8(b, UNREACHABLE);
  wf_wb_u8(b, END);
}

/* Traps when fewer than `amount` gas remain, else subtracts it. Stack-neutral, so it can sit
 * before any instruction. */
static void emit_charge(wf_wbuf *b, const rewriter *rw, uint64_t amount) {
  global_op(b, GLOBAL_GET, rw->g_gas);
  wf_wb_u8(b, I64_CONST);
  wf_wb_sleb(b, (int64_t)amount);
  wf_wb_u8(b, I64_LT_U);
  trap_if(b, rw, WF_METER_TRAP_GAS);
  global_op(b, GLOBAL_GET, rw->g_gas);
  wf_wb_u8(b, I64_CONST);
  wf_wb_sleb(b, (int64_t)amount);
  wf_wb_u8(b, I64_SUB);
  global_op(b, GLOBAL_SET, rw->g_gas);
}

static void emit_depth(wf_wbuf *b, const rewriter *rw, int enter) {
  if (enter) {
    global_op(b, GLOBAL_GET, rw->g_depth);
    wf_wb_u8(b, I32_CONST);
    wf_wb_sleb(b, (int32_t)rw->s->max_depth);
    wf_wb_u8(b, I32_GE_U);
    trap_if(b, rw, WF_METER_TRAP_DEPTH);
  }
  global_op(b, GLOBAL_GET, rw->g_depth);
  wf_wb_u8(b, I32_CONST);
  wf_wb_sleb(b, 1);
  wf_wb_u8(b, enter ? I32_ADD : I32_SUB);
  global_op(b, GLOBAL_SET, rw->g_depth);
}

static void note_state_ops(rewriter *rw, uint32_t op) {
  if (op == MEMORY_GROW) rw->info->grows_memory = 1;
  if (op == 0x26 || op == 0xFC0C || op == 0xFC0D || op == 0xFC0E || op == 0xFC0F || op == 0xFC11)
    rw->info->mutates_tables = 1;
  if (op == 0xFC09) rw->info->drops_data = 1;
}

/* Copies one instruction to `out`, with the charge for the block it closes before it, calls
 * wrapped in the depth counter and memory.grow routed through the charging grow function. */
static void emit_instr(wf_wbuf *out, rewriter *rw, const uint8_t *at, const wf_instr *in,
                       uint64_t *pending) {
  *pending += cost(rw, in->op);
  if (rw->s->unmetered) {
    if (in->op == MEMORY_GROW && rw->has_grow)
      wf_wb_u8(out, CALL), wf_wb_u32(out, rw->grow_func);
    else
      wf_wb_bytes(out, at, in->len);
    return;
  }
  if (accounting(in->op)) {
    emit_charge(out, rw, *pending);
    rw->info->charge_points++;
    *pending = 0;
  }
  note_state_ops(rw, in->op);
  if (in->op == WF_OP_CALL || in->op == WF_OP_CALL_INDIRECT) {
    emit_depth(out, rw, 1);
    wf_wb_bytes(out, at, in->len);
    emit_depth(out, rw, 0);
    rw->info->call_sites++;
  } else if (in->op == MEMORY_GROW && rw->has_grow) {
    wf_wb_u8(out, CALL);
    wf_wb_u32(out, rw->grow_func);
  } else {
    wf_wb_bytes(out, at, in->len);
  }
}

static int rewrite_code(wf_wreader *r, wf_wbuf *out, rewriter *rw, wf_error *err) {
  uint64_t pending = 0;
  int nesting = 0;
  while (r->p < r->end) {
    const uint8_t *at = r->p;
    wf_instr in;
    if (wf_wbin_instr(r, &in, err)) return -1;
    emit_instr(out, rw, at, &in, &pending);
    if (in.op == WF_OP_BLOCK || in.op == WF_OP_LOOP || in.op == WF_OP_IF) nesting++;
    if (in.op == WF_OP_END && nesting-- == 0)
      return r->p == r->end ? 0 : wf_error_set(err, "malformed code: bytes after function end");
  }
  return wf_error_set(err, "malformed code: function body has no final end");
}

/* One function body: locals copied as they are, code rewritten, size prefix recomputed. */
static int rewrite_body(const uint8_t *p, size_t n, wf_wbuf *out, rewriter *rw, uint32_t idx,
                        wf_error *err) {
  wf_wreader r;
  wf_wr_init(&r, p, n);
  uint32_t groups = wf_wr_u32(&r);
  for (uint32_t i = 0; i < groups && !r.bad; i++) wf_wr_u32(&r), wf_wr_u8(&r);
  if (r.bad) return wf_error_set(err, "malformed code: bad locals in function %u", idx);
  wf_wbuf body = {0};
  wf_wb_bytes(&body, p, wf_wr_offset(&r));
  wf_wreader code;
  wf_wr_init(&code, r.p, (size_t)(r.end - r.p));
  int rc = rewrite_code(&code, &body, rw, err);
  if (rc) wf_error_prefix(err, "function %u: ", idx);
  wf_wb_u32(out, (uint32_t)body.len);
  wf_wb_bytes(out, body.p, body.len);
  wf_wb_free(&body);
  return rc;
}

/* The function memory.grow is redirected to: checks the limit, charges per page, grows. */
static void grow_body(wf_wbuf *out, const rewriter *rw) {
  wf_wbuf b = {0};
  const uint8_t pages_u64[] = {LOCAL_GET, 0, I64_EXTEND_I32_U};
  wf_wb_u8(&b, 0); /* no locals */
  wf_wb_bytes(&b, (uint8_t[]){MEMORY_SIZE, 0, I64_EXTEND_I32_U}, 3);
  wf_wb_bytes(&b, pages_u64, 3);
  wf_wb_u8(&b, I64_ADD);
  wf_wb_u8(&b, I64_CONST);
  wf_wb_sleb(&b, rw->s->max_pages);
  wf_wb_u8(&b, I64_GT_U);
  trap_if(&b, rw, WF_METER_TRAP_MEMORY);
  for (int pass = 0; pass < 2; pass++) { /* compare with the gas left, then subtract */
    if (pass) global_op(&b, GLOBAL_GET, rw->g_gas);
    wf_wb_bytes(&b, pages_u64, 3);
    wf_wb_u8(&b, I64_CONST);
    wf_wb_sleb(&b, (int64_t)rw->s->page);
    wf_wb_u8(&b, I64_MUL);
    if (!pass) global_op(&b, GLOBAL_GET, rw->g_gas), wf_wb_u8(&b, I64_GT_U);
    if (!pass) trap_if(&b, rw, WF_METER_TRAP_GAS);
  }
  wf_wb_u8(&b, I64_SUB);
  global_op(&b, GLOBAL_SET, rw->g_gas);
  wf_wb_bytes(&b, (uint8_t[]){LOCAL_GET, 0, MEMORY_GROW, 0, END}, 5);
  wf_wb_u32(out, (uint32_t)b.len);
  wf_wb_bytes(out, b.p, b.len);
  wf_wb_free(&b);
}

/* A vector section: the original count plus `extra`, the original entries, then `tail`. */
static void vector_section(wf_wbuf *out, const uint8_t *mod, const wf_wsection *s, uint8_t id,
                           uint32_t extra, const wf_wbuf *tail) {
  uint32_t count = 0;
  const uint8_t *rest = NULL;
  size_t rest_len = 0;
  if (s) {
    wf_wreader r;
    wf_wr_init(&r, mod + s->off, s->len);
    count = wf_wr_u32(&r);
    rest = r.p;
    rest_len = (size_t)(r.end - r.p);
  }
  wf_wbuf body = {0};
  wf_wb_u32(&body, count + extra);
  wf_wb_bytes(&body, rest, rest_len);
  if (tail) wf_wb_bytes(&body, tail->p, tail->len);
  wf_wb_u8(out, id);
  wf_wb_u32(out, (uint32_t)body.len);
  wf_wb_bytes(out, body.p, body.len);
  wf_wb_free(&body);
}

static void export_global(wf_wbuf *b, const char *name, uint32_t index) {
  wf_wb_u32(b, (uint32_t)strlen(name));
  wf_wb_bytes(b, name, strlen(name));
  wf_wb_u8(b, 3);
  wf_wb_u32(b, index);
}

static void added_globals(wf_wbuf *b) {
  const uint8_t i32_zero[] = {0x7f, 1, I32_CONST, 0, END};
  wf_wb_bytes(b, (uint8_t[]){0x7e, 1, I64_CONST}, 3);
  wf_wb_sleb(b, INITIAL_GAS);
  wf_wb_u8(b, END);
  wf_wb_bytes(b, i32_zero, sizeof i32_zero); /* depth */
  wf_wb_bytes(b, i32_zero, sizeof i32_zero); /* trap reason */
}

static int code_section(wf_wbuf *out, const uint8_t *mod, const wf_wsection *s, rewriter *rw,
                        wf_error *err) {
  wf_wbuf tail = {0}, body = {0};
  uint32_t count = 0;
  int rc = 0;
  if (s) {
    wf_wreader r;
    wf_wr_init(&r, mod + s->off, s->len);
    count = wf_wr_u32(&r);
    for (uint32_t i = 0; i < count && !rc; i++) {
      uint32_t n = wf_wr_u32(&r);
      const uint8_t *p = wf_wr_bytes(&r, n);
      if (r.bad)
        rc = wf_error_set(err, "malformed binary: code section truncated");
      else
        rc = rewrite_body(p, n, &tail, rw, rw->m->nimported_funcs + i, err);
    }
  }
  if (count + rw->m->nimported_funcs != rw->m->nfuncs && !rc)
    rc = wf_error_set(err, "malformed binary: %u function bodies for %u declared functions", count,
                      rw->m->nfuncs - rw->m->nimported_funcs);
  if (rw->has_grow) grow_body(&tail, rw);
  wf_wb_u32(&body, count + (uint32_t)rw->has_grow);
  wf_wb_bytes(&body, tail.p, tail.len);
  wf_wb_u8(out, 10);
  wf_wb_u32(out, (uint32_t)body.len);
  wf_wb_bytes(out, body.p, body.len);
  wf_wb_free(&tail);
  wf_wb_free(&body);
  return rc;
}

/* Writes sections in canonical order; custom sections (names, debug info) are dropped since
 * the metered module is an internal artefact and code offsets change anyway. */
static int assemble(wf_wbuf *out, const uint8_t *mod, rewriter *rw, wf_error *err) {
  static const uint8_t order[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11};
  const uint8_t header[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
  wf_wb_bytes(out, header, 8);
  for (size_t i = 0; i < sizeof order; i++) {
    uint8_t id = order[i];
    const wf_wsection *s = wf_wbin_section(rw->m, id);
    wf_wbuf tail = {0};
    if (id == 1 && rw->has_grow) wf_wb_bytes(&tail, (uint8_t[]){0x60, 1, 0x7f, 1, 0x7f}, 5);
    if (id == 3 && rw->has_grow) wf_wb_u32(&tail, rw->grow_type);
    if (id == 6) added_globals(&tail);
    if (id == 7) {
      export_global(&tail, WF_METER_GAS, rw->g_gas);
      export_global(&tail, WF_METER_DEPTH, rw->g_depth);
      export_global(&tail, WF_METER_TRAP, rw->g_trap);
    }
    uint32_t extra = id == 6 || id == 7 ? 3 : (id == 1 || id == 3) ? (uint32_t)rw->has_grow : 0;
    if (id == 10) {
      if (code_section(out, mod, s, rw, err)) return -1;
    } else if (id == 1 || id == 3 || id == 6 || id == 7) {
      vector_section(out, mod, s, id, extra, &tail);
    } else if (s) {
      wf_wb_u8(out, id);
      wf_wb_u32(out, (uint32_t)s->len);
      wf_wb_bytes(out, mod + s->off, s->len);
    }
    wf_wb_free(&tail);
  }
  return out->oom ? wf_error_set(err, "out of memory while metering") : 0;
}

static int check_names(const wf_winfo *m, wf_error *err) {
  const char *ours[] = {WF_METER_GAS, WF_METER_DEPTH, WF_METER_TRAP};
  for (int i = 0; i < 3; i++)
    if (wf_wbin_export(m, ours[i]))
      return wf_error_set(err, "module already exports '%s', a name the gas meter reserves",
                          ours[i]);
  return 0;
}

int wf_meter_instrument(const uint8_t *in, size_t len, const wf_gas_schedule *s, uint8_t **out,
                        size_t *out_len, wf_meter_info *info, wf_error *err) {
  wf_winfo m;
  wf_meter_info scratch;
  if (!info) info = &scratch;
  memset(info, 0, sizeof *info);
  if (wf_wbin_parse(in, len, &m, err)) return -1;
  rewriter rw = {.s = s, .m = &m, .info = info, .has_grow = m.has_memory};
  rw.g_gas = m.nglobals, rw.g_depth = m.nglobals + 1, rw.g_trap = m.nglobals + 2;
  rw.grow_func = m.nfuncs, rw.grow_type = m.ntypes;
  wf_wbuf b = {0};
  int rc = check_names(&m, err) ? -1 : assemble(&b, in, &rw, err);
  wf_wbin_free(&m);
  if (rc) {
    wf_wb_free(&b);
    return -1;
  }
  *out = b.p;
  *out_len = b.len;
  return 0;
}
