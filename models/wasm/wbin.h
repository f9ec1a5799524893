/* Reading and writing the WebAssembly binary format: LEB128 cursors, a growable output buffer,
 * a decoder for one instruction at a time, and a summary of a module's sections (types, imports,
 * exports, memory, functions). Shared by the metering rewriter, the ABI check and `inspect`. */
#ifndef WF_WBIN_H
#define WF_WBIN_H

#include <stddef.h>
#include <stdint.h>

#include "../../sim/error.h"

/* A read cursor. Reads past the end or over-long LEBs set `bad` and return 0; callers check
 * `bad` once after a group of reads instead of after each one. */
typedef struct wf_wreader {
  const uint8_t *start, *p, *end;
  int bad;
} wf_wreader;

void wf_wr_init(wf_wreader *r, const uint8_t *p, size_t len);
uint8_t wf_wr_u8(wf_wreader *r);
uint32_t wf_wr_u32(wf_wreader *r);
int64_t wf_wr_sleb(wf_wreader *r, int bits);
const uint8_t *wf_wr_bytes(wf_wreader *r, size_t n);
size_t wf_wr_offset(const wf_wreader *r);

/* A growable byte buffer; on allocation failure it sets `oom` and drops further writes. */
typedef struct wf_wbuf {
  uint8_t *p;
  size_t len, cap;
  int oom;
} wf_wbuf;

void wf_wb_bytes(wf_wbuf *b, const void *p, size_t n);
void wf_wb_u8(wf_wbuf *b, uint8_t v);
void wf_wb_u32(wf_wbuf *b, uint32_t v);
void wf_wb_sleb(wf_wbuf *b, int64_t v);
void wf_wb_free(wf_wbuf *b);

/* One decoded instruction. `op` is the opcode byte, or 0xFC00 | sub-opcode for the 0xFC
 * prefix; `a` holds the first index immediate (call target, branch depth, ...). */
typedef struct wf_instr {
  uint32_t op;
  uint32_t a;
  size_t len; /* bytes including immediates */
} wf_instr;

enum {
  WF_OP_BLOCK = 0x02,
  WF_OP_LOOP = 0x03,
  WF_OP_IF = 0x04,
  WF_OP_ELSE = 0x05,
  WF_OP_END = 0x0B,
  WF_OP_BR = 0x0C,
  WF_OP_BR_IF = 0x0D,
  WF_OP_BR_TABLE = 0x0E,
  WF_OP_RETURN = 0x0F,
  WF_OP_CALL = 0x10,
  WF_OP_CALL_INDIRECT = 0x11,
  WF_OP_MEMORY_GROW = 0x40
};

/* Decodes the instruction at r->p and advances past it. Returns -1 with a message naming the
 * offset for truncated code, unknown opcodes, and features weft does not meter (SIMD, threads,
 * exceptions, tail calls). */
int wf_wbin_instr(wf_wreader *r, wf_instr *in, wf_error *err);

/* What a module declares, enough for `inspect`, the ABI check and the rewriter. */
typedef struct wf_wfunctype {
  uint32_t nparams, nresults;
  uint8_t params[8], results[8]; /* the first 8 of each, value type codes */
} wf_wfunctype;

typedef struct wf_wimport {
  char module[64], name[64];
  uint8_t kind; /* 0 func, 1 table, 2 memory, 3 global, 4 tag */
} wf_wimport;

typedef struct wf_wexport {
  char name[64];
  uint8_t kind;
  uint32_t index;
} wf_wexport;

typedef struct wf_wsection {
  uint8_t id;
  size_t off, len; /* payload position in the module */
  char name[32];   /* custom sections */
} wf_wsection;

typedef struct wf_winfo {
  size_t size;
  uint32_t ntypes, nimports, nexports, nsections;
  wf_wfunctype *types;
  wf_wimport *imports;
  wf_wexport *exports;
  wf_wsection *sections;
  uint32_t *func_types; /* type index of each function, imported first */
  uint32_t nfuncs, nimported_funcs, nglobals, nimported_globals, ntables, ndata, nelem;
  int has_memory, memory_imported, memory_has_max, has_start;
  uint32_t memory_min, memory_max, start;
  size_t code_size;
} wf_winfo;

/* Parses the section structure and the declarations (not the code). Returns -1 for a
 * malformed module with the reason and the byte offset. */
int wf_wbin_parse(const uint8_t *bytes, size_t len, wf_winfo *info, wf_error *err);
void wf_wbin_free(wf_winfo *info);
const wf_wsection *wf_wbin_section(const wf_winfo *info, uint8_t id);
const wf_wexport *wf_wbin_export(const wf_winfo *info, const char *name);
const char *wf_wbin_valtype(uint8_t code);
const char *wf_wbin_kind(uint8_t kind);

#endif
