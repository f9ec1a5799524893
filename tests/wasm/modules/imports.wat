;; Bad module: imports a host function, which weft modules may not do.
(module
  (import "env" "host_rand" (func $rand (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "abi=1;name=imports;in=i32[1];out=i32[1]\00")
  (func (export "wf_meta") (result i32) i32.const 0)
  (func (export "wf_input_ptr") (result i32) i32.const 64)
  (func (export "wf_input_size") (result i32) i32.const 4)
  (func (export "wf_output_ptr") (result i32) i32.const 128)
  (func (export "infer") (param i32) (result i32) (i32.store (i32.const 128) (call $rand)) i32.const 4)
)
