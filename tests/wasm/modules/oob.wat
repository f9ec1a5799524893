;; Bad module: loads far past the end of its one-page memory.
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "abi=1;name=oob;in=i32[1];out=i32[1]\00")
  (func (export "wf_meta") (result i32) i32.const 0)
  (func (export "wf_input_ptr") (result i32) i32.const 64)
  (func (export "wf_input_size") (result i32) i32.const 4)
  (func (export "wf_output_ptr") (result i32) i32.const 128)
  (func (export "infer") (param i32) (result i32)
    (i32.store (i32.const 128) (i32.load (i32.const 0x7fff0000)))
    i32.const 4)
)
