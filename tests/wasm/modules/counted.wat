;; Metering fixture: infer loops param times over a block of known size; gas is a formula of param.
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "abi=1;name=counted;in=i32[1];out=i32[1]\00")
  (func (export "wf_meta") (result i32) i32.const 0)
  (func (export "wf_input_ptr") (result i32) i32.const 64)
  (func (export "wf_input_size") (result i32) i32.const 4)
  (func (export "wf_output_ptr") (result i32) i32.const 128)
  (func (export "infer") (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store (i32.const 128) (local.get $i))
    i32.const 4)
)
