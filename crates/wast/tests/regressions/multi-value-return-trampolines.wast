;; Several branches that return the same not-yet-materialised values: the
;; return sequence of one branch must not change what the others see.
(module
  (func (export "br_table-num-num") (param i32) (result i32 i64)
    (br_table 0 0 (i32.const 50) (i64.const 51) (local.get 0))
    (i32.const 51) (i64.const 52))
  (func (export "br_if-then-fallthrough") (param i32) (result i32 i32)
    (local i32 i32)
    (local.set 1 (i32.const 3))
    (local.set 2 (i32.const 4))
    (drop (drop (br_if 0 (local.get 2) (local.get 1) (local.get 0))))
    (local.get 1) (local.get 2)))
(assert_return (invoke "br_table-num-num" (i32.const 0)) (i32.const 50) (i64.const 51))
(assert_return (invoke "br_table-num-num" (i32.const 1)) (i32.const 50) (i64.const 51))
(assert_return (invoke "br_table-num-num" (i32.const 9)) (i32.const 50) (i64.const 51))
(assert_return (invoke "br_if-then-fallthrough" (i32.const 1)) (i32.const 4) (i32.const 3))
(assert_return (invoke "br_if-then-fallthrough" (i32.const 0)) (i32.const 3) (i32.const 4))
