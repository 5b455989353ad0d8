;; More results than there are return registers: compiled code returns
;; them through memory (difftest seed 349), and calls across tiers carry
;; them all.
(module
  (func $many (export "many") (param i64)
    (result i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 i32 f32)
    (i64.add (local.get 0) (i64.const 1)) (i64.add (local.get 0) (i64.const 2))
    (i64.add (local.get 0) (i64.const 3)) (i64.add (local.get 0) (i64.const 4))
    (i64.add (local.get 0) (i64.const 5)) (i64.add (local.get 0) (i64.const 6))
    (i64.add (local.get 0) (i64.const 7)) (i64.add (local.get 0) (i64.const 8))
    (i64.add (local.get 0) (i64.const 9)) (i64.add (local.get 0) (i64.const 10))
    (f64.const 1.5) (f64.const 2.5) (f64.const 3.5) (f64.const 4.5) (f64.const 5.5)
    (f64.const 6.5) (f64.const 7.5) (f64.const 8.5) (f64.const 9.5) (f64.const 10.5)
    (i32.const -1) (f32.const -0.5))
  ;; Calls `many` (a callee of the other tier in the mixed mode) and sums
  ;; what it returns.
  (func (export "sum") (param i64) (result f64)
    (local $i i32) (local $f f32) (local $d f64)
    (call $many (local.get 0))
    (local.set $f) (local.set $i)
    (f64.add) (f64.add) (f64.add) (f64.add) (f64.add)
    (f64.add) (f64.add) (f64.add) (f64.add)
    (local.set $d)
    (i64.add) (i64.add) (i64.add) (i64.add) (i64.add)
    (i64.add) (i64.add) (i64.add) (i64.add)
    (f64.convert_i64_s)
    (f64.add (local.get $d))
    (f64.add (f64.convert_i32_s (local.get $i)))
    (f64.add (f64.promote_f32 (local.get $f)))))
(assert_return (invoke "many" (i64.const 100))
  (i64.const 101) (i64.const 102) (i64.const 103) (i64.const 104) (i64.const 105)
  (i64.const 106) (i64.const 107) (i64.const 108) (i64.const 109) (i64.const 110)
  (f64.const 1.5) (f64.const 2.5) (f64.const 3.5) (f64.const 4.5) (f64.const 5.5)
  (f64.const 6.5) (f64.const 7.5) (f64.const 8.5) (f64.const 9.5) (f64.const 10.5)
  (i32.const -1) (f32.const -0.5))
;; 1055 + 60 - 1 - 0.5
(assert_return (invoke "sum" (i64.const 100)) (f64.const 1113.5))
