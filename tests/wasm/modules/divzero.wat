;; Bad module: divides the input by zero (i32.div_s traps).
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "abi=1;name=divzero;in=i32[1];out=i32[1]\00")
  (func (export "wf_meta") (result i32) i32.const 0)
  (func (export "wf_input_ptr") (result i32) i32.const 64)
  (func (export "wf_input_size") (result i32) i32.const 4)
  (func (export "wf_output_ptr") (result i32) i32.const 128)
  (func (export "infer") (param i32) (result i32)
    (i32.store (i32.const 128) (i32.div_s (i32.load (i32.const 64)) (i32.const 0)))
    i32.const 4)
)
