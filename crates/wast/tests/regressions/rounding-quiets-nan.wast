;; Rounding a signalling NaN must give a quiet NaN; Rust's `floor` and
;; friends may return the signalling input unchanged.
(module
  (func (export "f32.floor") (param f32) (result f32) (f32.floor (local.get 0)))
  (func (export "f32.nearest") (param f32) (result f32) (f32.nearest (local.get 0)))
  (func (export "f64.trunc") (param f64) (result f64) (f64.trunc (local.get 0))))
(assert_return (invoke "f32.floor" (f32.const nan:0x200000)) (f32.const nan:arithmetic))
(assert_return (invoke "f32.nearest" (f32.const -nan:0x200000)) (f32.const nan:arithmetic))
(assert_return (invoke "f64.trunc" (f64.const nan:0x4000000000000)) (f64.const nan:arithmetic))
