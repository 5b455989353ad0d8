;; Constants folded into instructions as 32-bit immediates: any i32, and
;; only sign-extensible i64 values.
(module
  (func (export "i32-sub") (param i32) (result i32) (i32.add (local.get 0) (i32.const -2)))
  (func (export "i64-big") (param i64) (result i64) (i64.add (local.get 0) (i64.const 0xffffffff)))
  (func (export "i64-neg") (param i64) (result i64) (i64.add (local.get 0) (i64.const -1)))
  (func (export "lt-imm") (param i32) (result i32)
    (block (br_if 0 (i32.lt_s (local.get 0) (i32.const -5))) (return (i32.const 0)))
    (i32.const 1)))
(assert_return (invoke "i32-sub" (i32.const 1)) (i32.const -1))
(assert_return (invoke "i64-big" (i64.const 1)) (i64.const 0x100000000))
(assert_return (invoke "i64-neg" (i64.const 0)) (i64.const -1))
(assert_return (invoke "lt-imm" (i32.const -6)) (i32.const 1))
(assert_return (invoke "lt-imm" (i32.const -5)) (i32.const 0))
