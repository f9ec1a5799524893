;; Bad module: an out-of-bounds load whose value is dropped, one byte past the end of memory.
;; A C compiler may delete a dead load; the trap must stay on every engine (aot keeps explicit
;; bounds checks for this reason, models/wasm/README.md "Engines").
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "abi=1;name=deadload;in=i32[1];out=i32[1]\00")
  (func (export "wf_meta") (result i32) i32.const 0)
  (func (export "wf_input_ptr") (result i32) i32.const 64)
  (func (export "wf_input_size") (result i32) i32.const 4)
  (func (export "wf_output_ptr") (result i32) i32.const 128)
  (func (export "infer") (param i32) (result i32)
    ;; the tests pass 7: 7 + 65526 = 65533, and a 4-byte load there ends at 65537
    (drop (i32.load (i32.add (i32.load (i32.const 64)) (i32.const 65526))))
    i32.const 4)
)
