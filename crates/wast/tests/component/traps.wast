;; A component's results are checked as they are lifted: every bad pointer,
;; length, alignment, discriminant and character traps with the reason.

(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "f") (result i32) (i32.store (i32.const 0) (i32.const 65530)) (i32.store (i32.const 4) (i32.const 100)) (i32.const 0)))
  (core instance $i (instantiate $m))
  (type $t' string)
  (export $t "t" (type $t'))
  (func (export "f") (result $t) (canon lift (core func $i "f") (memory (core memory $i "memory")))))
(assert_trap (invoke "f") "outside the memory")

(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "f") (result i32) (i32.const 2)))
  (core instance $i (instantiate $m))
  (type $t' string)
  (export $t "t" (type $t'))
  (func (export "f") (result $t) (canon lift (core func $i "f") (memory (core memory $i "memory")))))
(assert_trap (invoke "f") "aligned")

(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "f") (result i32) (i32.store (i32.const 0) (i32.const 8)) (i32.store (i32.const 4) (i32.const 0x10000000)) (i32.const 0)))
  (core instance $i (instantiate $m))
  (type $t' (list u64))
  (export $t "t" (type $t'))
  (func (export "f") (result $t) (canon lift (core func $i "f") (memory (core memory $i "memory")))))
(assert_trap (invoke "f") "outside the memory")

(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "f") (result i32) (i32.store (i32.const 0) (i32.const 6)) (i32.store (i32.const 4) (i32.const 1)) (i32.const 0)))
  (core instance $i (instantiate $m))
  (type $t' (list u32))
  (export $t "t" (type $t'))
  (func (export "f") (result $t) (canon lift (core func $i "f") (memory (core memory $i "memory")))))
(assert_trap (invoke "f") "aligned")

(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "f") (result i32) (i32.store8 (i32.const 0) (i32.const 2)) (i32.const 0)))
  (core instance $i (instantiate $m))
  (type $t' (option string))
  (export $t "t" (type $t'))
  (func (export "f") (result $t) (canon lift (core func $i "f") (memory (core memory $i "memory")))))
(assert_trap (invoke "f") "discriminant 2")

(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "f") (result i32) (i32.store8 (i32.const 0) (i32.const 7)) (i32.const 0)))
  (core instance $i (instantiate $m))
  (type $t' (variant (case "a") (case "b" u8)))
  (export $t "t" (type $t'))
  (func (export "f") (result $t) (canon lift (core func $i "f") (memory (core memory $i "memory")))))
(assert_trap (invoke "f") "discriminant 7")

(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "f") (result i32) (i32.store8 (i32.const 0) (i32.const 255)) (i32.const 0)))
  (core instance $i (instantiate $m))
  (type $t' (result u8 (error u8)))
  (export $t "t" (type $t'))
  (func (export "f") (result $t) (canon lift (core func $i "f") (memory (core memory $i "memory")))))
(assert_trap (invoke "f") "discriminant 255")

(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "f") (result i32) (i32.store (i32.const 0) (i32.const 0xd800)) (i32.const 0)))
  (core instance $i (instantiate $m))
  (type $t' (tuple char char))
  (export $t "t" (type $t'))
  (func (export "f") (result $t) (canon lift (core func $i "f") (memory (core memory $i "memory")))))
(assert_trap (invoke "f") "not a Unicode scalar value")

(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "f") (result i32) (i32.store (i32.const 0) (i32.const 0x110000)) (i32.const 0)))
  (core instance $i (instantiate $m))
  (type $t' (tuple char char))
  (export $t "t" (type $t'))
  (func (export "f") (result $t) (canon lift (core func $i "f") (memory (core memory $i "memory")))))
(assert_trap (invoke "f") "not a Unicode scalar value")

(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "f") (result i32) (i32.const 65532)))
  (core instance $i (instantiate $m))
  (type $t' (tuple string u8))
  (export $t "t" (type $t'))
  (func (export "f") (result $t) (canon lift (core func $i "f") (memory (core memory $i "memory")))))
(assert_trap (invoke "f") "outside the memory")

;; Flat results: a bad enum discriminant and a bad char straight from a
;; core value.
(component
  (core module $m (func (export "f") (result i32) (i32.const 3)))
  (core instance $i (instantiate $m))
  (type $t' (enum "a" "b" "c"))
  (export $t "t" (type $t'))
  (func (export "f") (result $t) (canon lift (core func $i "f"))))
(assert_trap (invoke "f") "discriminant 3")

(component
  (core module $m (func (export "f") (result i32) (i32.const 0xdfff)))
  (core instance $i (instantiate $m))
  (func (export "f") (result char) (canon lift (core func $i "f"))))
(assert_trap (invoke "f") "not a Unicode scalar value")

;; Any non-zero value is true; out-of-range bits of small integers wrap.
(component
  (core module $m
    (func (export "b") (result i32) (i32.const 0x100))
    (func (export "u8") (result i32) (i32.const 0x1ff))
    (func (export "s16") (result i32) (i32.const 0x18000)))
  (core instance $i (instantiate $m))
  (func (export "b") (result bool) (canon lift (core func $i "b")))
  (func (export "u8") (result u8) (canon lift (core func $i "u8")))
  (func (export "s16") (result s16) (canon lift (core func $i "s16"))))
(assert_return (invoke "b") (bool.const true))
(assert_return (invoke "u8") (u8.const 255))
(assert_return (invoke "s16") (s16.const -32768))

;; A trap in the core code is a trap of the call, and the instance may not
;; be entered again.
(component
  (core module $m (func (export "f") unreachable) (func (export "g")))
  (core instance $i (instantiate $m))
  (func (export "f") (canon lift (core func $i "f")))
  (func (export "g") (canon lift (core func $i "g"))))
(assert_return (invoke "g"))
(assert_trap (invoke "f") "unreachable")
(assert_trap (invoke "g") "cannot enter component instance")
