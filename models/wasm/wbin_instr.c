/* Instruction decoding: the immediates of every MVP, sign-extension, saturating-conversion,
 * bulk-memory and reference-types instruction, which is what clang emits for wasm32 today. */
#include "wbin.h"

static int unsupported(wf_error *err, size_t off, uint32_t op, const char *what) {
  return wf_error_set(err, "%s (opcode 0x%02x at code offset %zu) is not supported", what, op, off);
}

static void blocktype(wf_wreader *r) {
  /* 0x40 (empty), a value type (one negative byte), or a type index as a signed 33-bit LEB. */
  wf_wr_sleb(r, 33);
}

static void memarg(wf_wreader *r) {
  wf_wr_u32(r);
  wf_wr_u32(r);
}

static int prefixed(wf_wreader *r, wf_instr *in, size_t off, wf_error *err) {
  uint32_t sub = wf_wr_u32(r);
  in->op = 0xFC00 | (sub & 0xff);
  if (sub > 0xff) return unsupported(err, off, 0xFC, "0xfc sub-opcode");
  if (sub <= 7) return 0; /* saturating truncations */
  switch (sub) {
  case 8:
    in->a = wf_wr_u32(r), wf_wr_u8(r);
    return 0; /* memory.init */
  case 9:
    in->a = wf_wr_u32(r);
    return 0; /* data.drop */
  case 10:
    wf_wr_u8(r), wf_wr_u8(r);
    return 0; /* memory.copy */
  case 11:
    wf_wr_u8(r);
    return 0; /* memory.fill */
  case 12:
  case 14:
    wf_wr_u32(r), wf_wr_u32(r);
    return 0; /* table.init, table.copy */
  case 13:
  case 15:
  case 16:
  case 17:
    in->a = wf_wr_u32(r);
    return 0;
  default:
    return unsupported(err, off, 0xFC, "0xfc sub-opcode");
  }
}

static int immediates(wf_wreader *r, wf_instr *in, size_t off, wf_error *err) {
  uint32_t op = in->op;
  if (op >= 0x45 && op <= 0xC4) return 0; /* numeric, no immediates */
  if (op >= 0x28 && op <= 0x3E) return memarg(r), 0;
  switch (op) {
  case 0x00:
  case 0x01:
  case 0x05:
  case 0x0B:
  case 0x0F:
  case 0x1A:
  case 0x1B:
  case 0xD1:
    return 0;
  case 0x02:
  case 0x03:
  case 0x04:
    blocktype(r);
    return 0;
  case 0x0C:
  case 0x0D:
  case 0x10:
  case 0x20:
  case 0x21:
  case 0x22:
  case 0x23:
  case 0x24:
  case 0x25:
  case 0x26:
  case 0xD2:
    in->a = wf_wr_u32(r);
    return 0;
  case 0x0E: {
    uint32_t n = wf_wr_u32(r);
    for (uint32_t i = 0; i <= n && !r->bad; i++) wf_wr_u32(r);
    return 0;
  }
  case 0x11:
    in->a = wf_wr_u32(r), wf_wr_u32(r);
    return 0;
  case 0x1C: {
    uint32_t n = wf_wr_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) wf_wr_u8(r);
    return 0;
  }
  case 0x3F:
  case 0x40:
  case 0xD0:
    wf_wr_u8(r);
    return 0;
  case 0x41:
    wf_wr_sleb(r, 32);
    return 0;
  case 0x42:
    wf_wr_sleb(r, 64);
    return 0;
  case 0x43:
    wf_wr_bytes(r, 4);
    return 0;
  case 0x44:
    wf_wr_bytes(r, 8);
    return 0;
  case 0xFC:
    return prefixed(r, in, off, err);
  case 0xFD:
    return unsupported(err, off, op, "SIMD");
  case 0xFE:
    return unsupported(err, off, op, "threads/atomics");
  case 0x06:
  case 0x07:
  case 0x08:
  case 0x09:
  case 0x18:
  case 0x19:
    return unsupported(err, off, op, "exception handling");
  case 0x12:
  case 0x13:
    return unsupported(err, off, op, "tail calls");
  default:
    return wf_error_set(err, "malformed code: unknown opcode 0x%02x at code offset %zu", op, off);
  }
}

int wf_wbin_instr(wf_wreader *r, wf_instr *in, wf_error *err) {
  size_t off = wf_wr_offset(r);
  const uint8_t *start = r->p;
  in->a = 0;
  in->op = wf_wr_u8(r);
  if (r->bad) return wf_error_set(err, "malformed code: function body ends mid-instruction");
  if (immediates(r, in, off, err)) return -1;
  if (r->bad)
    return wf_error_set(err, "malformed code: truncated instruction 0x%02x at code offset %zu",
                        in->op, off);
  in->len = (size_t)(r->p - start);
  return 0;
}
