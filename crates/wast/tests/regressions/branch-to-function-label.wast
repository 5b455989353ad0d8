;; A branch to the function body's own label is a return. It once stayed an
;; unpatched branch to itself, looping forever.
(module
  (func (export "br_if-from-loop") (param i32) (result i32)
    (loop (br_if 1 (i32.const 7) (local.get 0)) (local.set 0 (i32.const 1)) (br 0))
    (i32.const 0))
  (func (export "br_table-to-function") (param i32) (result i32)
    (i32.add
      (block (result i32) (br_table 0 1 0 (i32.const 5) (local.get 0)))
      (i32.const 100))))
(assert_return (invoke "br_if-from-loop" (i32.const 0)) (i32.const 7))
(assert_return (invoke "br_if-from-loop" (i32.const 1)) (i32.const 7))
(assert_return (invoke "br_table-to-function" (i32.const 1)) (i32.const 5))
(assert_return (invoke "br_table-to-function" (i32.const 0)) (i32.const 105))
(assert_return (invoke "br_table-to-function" (i32.const 7)) (i32.const 105))
