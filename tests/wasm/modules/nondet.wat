;; Non-deterministic across engines: NaN sign and payload are left open by the wasm spec. The interpreter canonicalises NaNs, compiled code keeps the hardware's (x86: negative default NaN, payload propagation). Consensus would split on it; check must catch it.
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "abi=1;name=nondet;in=i32[1];out=f64[2]\00")
  (func (export "wf_meta") (result i32) i32.const 0)
  (func (export "wf_input_ptr") (result i32) i32.const 64)
  (func (export "wf_input_size") (result i32) i32.const 4)
  (func (export "wf_output_ptr") (result i32) i32.const 128)
  (func (export "infer") (param i32) (result i32)
    ;; sqrt of a negative number (the input is an i32, made negative) and 0/0
    (f64.store (i32.const 128)
      (f64.sqrt (f64.neg (f64.add (f64.const 1) (f64.abs (f64.convert_i32_s (i32.load (i32.const 64))))))))
    (f64.store (i32.const 136) (f64.div (f64.const 0) (f64.mul (f64.const 0) (f64.convert_i32_s (i32.load (i32.const 64))))))
    i32.const 16)
)
