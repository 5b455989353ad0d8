;; Component structure: nested components instantiated with arguments,
;; outer aliases, instances built from exports, aliases of instance
;; exports, re-exports, and the start function.

(component $outer
  (core module $double
    (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2))))
  ;; The inner component reaches the outer core module by an outer alias.
  (component $inner
    (alias outer $outer $double (core module $m))
    (core instance $i (instantiate $m))
    (func (export "double") (param "x" u32) (result u32) (canon lift (core func $i "double"))))
  (instance $a (instantiate $inner))
  (instance $b (instantiate $inner))
  ;; A component that takes a function as an argument and applies it twice.
  (component $twice
    (import "f" (func $f (param "x" u32) (result u32)))
    (core func $f (canon lower (func $f)))
    (core module $m
      (import "" "f" (func $f (param i32) (result i32)))
      (func (export "twice") (param i32) (result i32) (call $f (call $f (local.get 0)))))
    (core instance $i (instantiate $m (with "" (instance (export "f" (func $f))))))
    (func (export "twice") (param "x" u32) (result u32) (canon lift (core func $i "twice"))))
  (instance $t (instantiate $twice (with "f" (func $a "double"))))
  ;; An instance made of exports, exported as a whole.
  (instance $bag (export "double" (func $b "double")) (export "quad" (func $t "twice")))
  (export "math" (instance $bag))
  (export "quad" (func $t "twice")))

(assert_return (invoke "quad" (u32.const 5)) (u32.const 20))
(assert_return (invoke "math#quad" (u32.const 1)) (u32.const 4))
(assert_return (invoke "math#double" (u32.const 21)) (u32.const 42))

;; The start function runs at instantiation, after the core instances it
;; uses exist; a trap in it fails the instantiation.
(component
  (core module $m
    (global $started (mut i32) (i32.const 0))
    (func (export "start") (global.set $started (i32.add (global.get $started) (i32.const 1))))
    (func (export "started") (result i32) (global.get $started)))
  (core instance $i (instantiate $m))
  (func $start (canon lift (core func $i "start")))
  (start $start)
  (func (export "started") (result u32) (canon lift (core func $i "started"))))
(assert_return (invoke "started") (u32.const 1))

(assert_trap
  (component
    (core module $m (func (export "start") unreachable))
    (core instance $i (instantiate $m))
    (func $start (canon lift (core func $i "start")))
    (start $start))
  "unreachable")

;; Core instances from exports satisfy a module's imports, including a
;; memory and a global.
(component
  (core module $provider
    (memory (export "mem") 1)
    (global (export "base") i32 (i32.const 100))
    (func (export "inc") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))
  (core instance $p (instantiate $provider))
  (core instance $bag (export "inc" (func $p "inc")) (export "mem" (memory $p "mem"))
    (export "base" (global $p "base")))
  (core module $user
    (import "env" "inc" (func $inc (param i32) (result i32)))
    (import "env" "mem" (memory 1))
    (import "env" "base" (global $base i32))
    (func (export "run") (result i32)
      (i32.store (i32.const 0) (call $inc (global.get $base)))
      (i32.load (i32.const 0))))
  (core instance $u (instantiate $user (with "env" (instance $bag))))
  (func (export "run") (result u32) (canon lift (core func $u "run"))))
(assert_return (invoke "run") (u32.const 101))
