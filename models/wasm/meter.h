/* Gas metering by rewriting the module before any engine sees it: a counter global charged at
 * the end of every basic block (CosmWasm/wasmer accounting points), a call-depth counter and a
 * memory-growth charge, so every engine traps at the same instruction with the same gas. */
#ifndef WF_METER_H
#define WF_METER_H

#include <stddef.h>
#include <stdint.h>

#include "../../sim/error.h"

/* The cost schedule. Defaults (wf_gas_schedule_default) follow wasmd 2.x / cosmwasm-vm: 115 gas
 * per operation, 14x for the operations that end a basic block. */
typedef struct wf_gas_schedule {
  uint64_t op;        /* cost of an ordinary instruction */
  uint64_t branch;    /* cost of block-ending ops: loop end if else br br_if br_table return
                         call call_indirect */
  uint64_t page;      /* cost per 64 KiB page added by memory.grow */
  uint32_t max_depth; /* nested calls before the module traps (below every engine's limit) */
  uint32_t max_pages; /* memory limit in 64 KiB pages; growing past it traps */
  const uint32_t *opcode_cost; /* optional: 256 per-opcode costs for single-byte opcodes;
                                  0 entries fall back to op/branch */
  int unmetered; /* benchmarks only: add the meter's globals but insert no checks, for the
                    metering-overhead baseline */
} wf_gas_schedule;

#define WF_GAS_PER_OP 115u
#define WF_GAS_BRANCH_FACTOR 14u
#define WF_GAS_PER_PAGE 6553600u /* 100 gas per byte: zeroing 64 KiB at 1 Tgas/s ~ 6.5 us */
#define WF_GAS_MAX_DEPTH 256u
#define WF_GAS_MAX_PAGES 256u         /* 16 MiB */
#define WF_GAS_SDK_MULTIPLIER 140000u /* wasmd DefaultGasMultiplier */

/* What the metered module reports through its wf_trap global when it stops itself. */
enum {
  WF_METER_TRAP_NONE = 0,
  WF_METER_TRAP_GAS = 1,
  WF_METER_TRAP_DEPTH = 2,
  WF_METER_TRAP_MEMORY = 3
};

/* Names of the globals the rewriter adds and exports. */
#define WF_METER_GAS "wf_gas"
#define WF_METER_DEPTH "wf_depth"
#define WF_METER_TRAP "wf_trap"

/* Facts about the original module learnt while rewriting it, which decide how an engine can
 * give each call a fresh instance (a memory snapshot is enough unless these are set). */
typedef struct wf_meter_info {
  uint32_t charge_points; /* gas checks inserted */
  uint32_t call_sites;    /* calls wrapped with the depth counter */
  int grows_memory;
  int mutates_tables; /* table.set/grow/fill/copy/init, elem.drop */
  int drops_data;     /* data.drop */
} wf_meter_info;

void wf_gas_schedule_default(wf_gas_schedule *s);
uint64_t wf_gas_to_sdk(uint64_t gas);

/* Rewrites `in` into a metered module in *out (malloc'd, caller frees). Returns -1 when the
 * module is malformed or uses something the meter cannot account for. */
int wf_meter_instrument(const uint8_t *in, size_t len, const wf_gas_schedule *s, uint8_t **out,
                        size_t *out_len, wf_meter_info *info, wf_error *err);

#endif
