;; Components that must be refused: malformed bytes and invalid structure,
;; each reported with the offset of the problem.

(assert_malformed (component binary "\00asm\0d\00\01\00\07") "unexpected end")
(assert_malformed (component binary "\00asm\0d\00\01\00\ff\00") "section")

;; A lift whose core function has the wrong type.
(assert_invalid
  (component
    (core module $m (func (export "f") (param i64)))
    (core instance $i (instantiate $m))
    (func (export "f") (param "x" u32) (canon lift (core func $i "f"))))
  "do not match")

;; A string parameter needs a memory and a realloc.
(assert_invalid
  (component
    (core module $m (func (export "f") (param i32 i32)))
    (core instance $i (instantiate $m))
    (func (export "f") (param "s" string) (canon lift (core func $i "f"))))
  "memory")

;; An instantiation missing an argument the module imports.
(assert_invalid
  (component
    (core module $m (import "env" "f" (func)))
    (core instance (instantiate $m)))
  "missing module instantiation argument")

;; An alias of an export the instance does not have.
(assert_invalid
  (component
    (core module $m)
    (core instance $i (instantiate $m))
    (alias core export $i "nope" (core func)))
  "nope")

;; Duplicate export names.
(assert_invalid
  (component
    (core module $m (func (export "f")))
    (core instance $i (instantiate $m))
    (func $f (canon lift (core func $i "f")))
    (export "a" (func $f))
    (export "a" (func $f)))
  "conflicts")

;; Results may not contain borrows.
(assert_invalid
  (component
    (type $r (resource (rep i32)))
    (core module $m (func (export "f") (result i32) (i32.const 0)))
    (core instance $i (instantiate $m))
    (func (result (borrow $r)) (canon lift (core func $i "f"))))
  "borrow")
