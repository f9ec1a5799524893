// The `interp` engine: libwabt's interpreter behind the C interface of engine.h. This is the one
// C++ file in weft and the only one that includes libwabt (DESIGN.md rule 4).
extern "C" {
#include "../../sim/error.h"
}
#include "engine.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "wabt/binary-reader.h"
#include "wabt/error.h"
#include "wabt/interp/binary-reader-interp.h"
#include "wabt/interp/interp.h"

namespace wi = wabt::interp;

namespace {

struct Interp {
  wi::Store store;
  wi::Module::Ptr module;
  wi::Instance::Ptr inst;
  wi::Memory::Ptr mem;
  wi::Global::Ptr gas, trap;
  wi::Func::Ptr fns[WF_FN_COUNT];
  std::vector<wi::Global::Ptr> globals; // mutable globals, restored on reset
  std::vector<wi::Value> global_init;
  std::vector<uint8_t> mem_init;
  uint64_t mem_init_pages = 0;
  std::unique_ptr<wi::Thread> thread;
  wi::Values params, results;
  bool dirty_instance = false; // memory grew or tables may have changed: re-instantiate
  bool reinstantiate_always = false;
  std::string label;
};

int read_module(Interp *in, const uint8_t *wasm, size_t len, wi::ModuleDesc *desc, wf_error *err,
                const char *label) {
  wabt::Errors errors;
  wabt::ReadBinaryOptions options(in ? in->store.features() : wabt::Features{}, nullptr, false,
                                  true, false);
  if (wabt::Failed(wi::ReadBinaryInterp(label, wasm, len, options, &errors, desc))) {
    if (errors.empty()) return wf_error_set(err, "validation failed");
    const wabt::Error &e = errors.front();
    return wf_error_set(err, "validation failed: %s (at byte %zu)", e.message.c_str(),
                        e.loc.offset);
  }
  return 0;
}

// Finds the exports the module layer needs; the ABI check has already vouched for them.
int bind_exports(Interp *in, wf_error *err) {
  const auto &exports = in->module->export_types();
  for (size_t i = 0; i < exports.size(); i++) {
    const std::string &name = exports[i].name;
    wi::Ref ref = in->inst->exports()[i];
    if (name == "memory") in->mem = in->store.UnsafeGet<wi::Memory>(ref);
    if (name == WF_METER_GAS) in->gas = in->store.UnsafeGet<wi::Global>(ref);
    if (name == WF_METER_TRAP) in->trap = in->store.UnsafeGet<wi::Global>(ref);
    for (int f = 0; f < WF_FN_COUNT; f++)
      if (name == wf_fn_names[f]) in->fns[f] = in->store.UnsafeGet<wi::Func>(ref);
  }
  if (!in->mem || !in->gas || !in->trap || !in->fns[WF_FN_INFER])
    return wf_error_set(err, "metered module lacks memory, wf_gas, wf_trap or infer");
  return 0;
}

// Keeps the state right after instantiation, which every call starts from.
void snapshot(Interp *in) {
  in->globals.clear();
  in->global_init.clear();
  for (wi::Ref ref : in->inst->globals()) {
    wi::Global::Ptr g = in->store.UnsafeGet<wi::Global>(ref);
    if (g->type().mut == wi::Mutability::Var) {
      in->globals.push_back(g);
      in->global_init.push_back(g->Get());
    }
  }
  in->mem_init_pages = in->mem->PageSize();
  in->mem_init.assign(in->mem->UnsafeData(), in->mem->UnsafeData() + in->mem->ByteSize());
}

int instantiate(Interp *in, wf_error *err) {
  wi::Trap::Ptr trap;
  for (auto &f : in->fns) f.reset();
  in->mem.reset(), in->gas.reset(), in->trap.reset();
  in->inst = wi::Instance::Instantiate(in->store, in->module.ref(), {}, &trap);
  if (!in->inst)
    return wf_error_set(err, "instantiation failed: %s", trap ? trap->message().c_str() : "?");
  if (bind_exports(in, err)) return -1;
  snapshot(in);
  in->dirty_instance = false;
  return 0;
}

wf_wasm_status classify(const std::string &msg) {
  static const struct {
    const char *prefix;
    wf_wasm_status status;
  } table[] = {
      {"unreachable", WF_WASM_TRAP_UNREACHABLE},
      {"out of bounds memory", WF_WASM_TRAP_MEMORY},
      {"integer divide by zero", WF_WASM_TRAP_DIV_ZERO},
      {"integer overflow", WF_WASM_TRAP_INT_OVERFLOW},
      {"invalid conversion", WF_WASM_TRAP_CONVERSION},
      {"call stack exhausted", WF_WASM_TRAP_CALL_DEPTH},
      {"undefined table index", WF_WASM_TRAP_INDIRECT},
      {"uninitialized table element", WF_WASM_TRAP_INDIRECT},
      {"indirect call signature mismatch", WF_WASM_TRAP_INDIRECT},
  };
  for (const auto &t : table)
    if (msg.compare(0, std::strlen(t.prefix), t.prefix) == 0) return t.status;
  return WF_WASM_TRAP_OTHER;
}

} // namespace

extern "C" {

int wf_interp_validate(const uint8_t *wasm, size_t len, wf_error *err) {
  wi::ModuleDesc desc;
  return read_module(nullptr, wasm, len, &desc, err, "module");
}

static void *interp_load(const uint8_t *wasm, size_t len, const wf_engine_config *cfg,
                         wf_error *err) {
  std::unique_ptr<Interp> in(new Interp);
  in->label = cfg->label;
  in->reinstantiate_always = cfg->restore_needs_instance;
  wi::ModuleDesc desc;
  if (read_module(in.get(), wasm, len, &desc, err, cfg->label)) return nullptr;
  in->module = wi::Module::New(in->store, std::move(desc));
  if (instantiate(in.get(), err)) return nullptr;
  in->thread.reset(new wi::Thread(in->store));
  return in.release();
}

static void interp_free(void *e) {
  delete static_cast<Interp *>(e);
}

static int interp_reset(void *e, wf_error *err) {
  Interp *in = static_cast<Interp *>(e);
  if (in->dirty_instance || in->reinstantiate_always || in->mem->PageSize() != in->mem_init_pages) {
    in->store.Collect(); // drop the previous instance
    return instantiate(in, err);
  }
  for (size_t i = 0; i < in->globals.size(); i++) in->globals[i]->UnsafeSet(in->global_init[i]);
  std::memcpy(in->mem->UnsafeData(), in->mem_init.data(), in->mem_init.size());
  return 0;
}

static uint8_t *interp_memory(void *e, size_t *size) {
  Interp *in = static_cast<Interp *>(e);
  *size = in->mem->ByteSize();
  return in->mem->UnsafeData();
}

static int interp_call(void *e, int fn, int32_t arg, int32_t *ret, wf_engine_trap *trap) {
  Interp *in = static_cast<Interp *>(e);
  wi::Trap::Ptr t;
  in->params.clear();
  if (fn == WF_FN_INFER) in->params.push_back(wi::Value::Make(static_cast<uint32_t>(arg)));
  in->results.clear();
  if (wabt::Succeeded(in->fns[fn]->Call(*in->thread, in->params, in->results, &t))) {
    *ret = static_cast<int32_t>(in->results[0].Get<uint32_t>());
    return 0;
  }
  // A trapped thread keeps its frames; start the next call on a clean one.
  in->thread.reset(new wi::Thread(in->store));
  std::string msg = t ? t->message() : "unknown trap";
  trap->status = classify(msg);
  std::snprintf(trap->msg, sizeof trap->msg, "%s", msg.c_str());
  return -1;
}

static uint64_t interp_gas(void *e) {
  return static_cast<Interp *>(e)->gas->Get().Get<uint64_t>();
}

static void interp_set_gas(void *e, uint64_t gas) {
  static_cast<Interp *>(e)->gas->UnsafeSet(wi::Value::Make(gas));
}

static uint32_t interp_trap_reason(void *e) {
  return static_cast<Interp *>(e)->trap->Get().Get<uint32_t>();
}

const wf_engine_ops wf_engine_interp = {
    "interp",    interp_load, interp_free,    interp_reset,       interp_memory,
    interp_call, interp_gas,  interp_set_gas, interp_trap_reason,
};

} // extern "C"
