;; `call_indirect` carries its table in a data word after it: the callee must
;; return past that word, not onto it.
(module
  (type $t (func (param i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $double $inc)
  (func $double (type $t) (i32.mul (local.get 0) (i32.const 2)))
  (func $inc (type $t) (i32.add (local.get 0) (i32.const 1)))
  (func (export "chain") (param i32) (result i32)
    (call_indirect (type $t)
      (call_indirect (type $t) (local.get 0) (i32.const 0))
      (i32.const 1))))
(assert_return (invoke "chain" (i32.const 20)) (i32.const 41))
