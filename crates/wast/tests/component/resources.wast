;; Resources between components: a provider defines a resource type, a
;; user holds handles to it, borrows it to the provider, moves it back, and
;; drops it (which runs the provider's destructor).

(component
  (component $provider
    (core module $m
      (global $dropped (mut i32) (i32.const 0))
      (func (export "dtor") (param i32)
        (global.set $dropped (i32.add (global.get $dropped) (local.get 0))))
      (func (export "dropped") (result i32) (global.get $dropped)))
    (core instance $m (instantiate $m))
    (type $r (resource (rep i32) (dtor (core func $m "dtor"))))
    (core func $new (canon resource.new $r))
    (core func $rep (canon resource.rep $r))
    (core module $api
      (import "" "new" (func $new (param i32) (result i32)))
      (import "" "rep" (func $rep (param i32) (result i32)))
      (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
      ;; The defining component gets the representation of a borrow.
      (func (export "get") (param i32) (result i32) (local.get 0))
      ;; An own handle moved in: read its representation, keep it.
      (func (export "consume") (param i32) (result i32) (call $rep (local.get 0))))
    (core instance $api (instantiate $api (with "" (instance
      (export "new" (func $new)) (export "rep" (func $rep))))))
    (export $re "r" (type $r))
    (func (export "make") (param "x" u32) (result (own $re)) (canon lift (core func $api "make")))
    (func (export "get") (param "self" (borrow $re)) (result u32) (canon lift (core func $api "get")))
    (func (export "consume") (param "x" (own $re)) (result u32) (canon lift (core func $api "consume")))
    (func (export "dropped") (result u32) (canon lift (core func $m "dropped"))))
  (instance $p (instantiate $provider))
  (alias export $p "r" (type $r))
  (core func $make (canon lower (func $p "make")))
  (core func $get (canon lower (func $p "get")))
  (core func $consume (canon lower (func $p "consume")))
  (core func $drop (canon resource.drop $r))
  (core module $user
    (import "" "make" (func $make (param i32) (result i32)))
    (import "" "get" (func $get (param i32) (result i32)))
    (import "" "consume" (func $consume (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    ;; make(x), get it through a borrow, drop it.
    (func (export "round-trip") (param i32) (result i32)
      (local $h i32) (local $v i32)
      (local.set $h (call $make (local.get 0)))
      (local.set $v (call $get (local.get $h)))
      (call $drop (local.get $h))
      (local.get $v))
    ;; Two handles are distinct; moving one away leaves the other.
    (func (export "two") (result i32)
      (local $a i32) (local $b i32)
      (local.set $a (call $make (i32.const 10)))
      (local.set $b (call $make (i32.const 20)))
      (drop (call $consume (local.get $a)))
      (i32.add (call $get (local.get $b)) (i32.mul (i32.eq (local.get $a) (local.get $b)) (i32.const 1000))))
    (func (export "use-after-move") (result i32)
      (local $a i32)
      (local.set $a (call $make (i32.const 1)))
      (drop (call $consume (local.get $a)))
      (call $get (local.get $a)))
    (func (export "double-drop")
      (local $a i32)
      (local.set $a (call $make (i32.const 1)))
      (call $drop (local.get $a))
      (call $drop (local.get $a)))
    (func (export "forged") (result i32) (call $get (i32.const 12345))))
  (core instance $u (instantiate $user (with "" (instance
    (export "make" (func $make)) (export "get" (func $get))
    (export "consume" (func $consume)) (export "drop" (func $drop))))))
  (func (export "round-trip") (param "x" u32) (result u32) (canon lift (core func $u "round-trip")))
  (func (export "two") (result u32) (canon lift (core func $u "two")))
  (func (export "use-after-move") (result u32) (canon lift (core func $u "use-after-move")))
  (func (export "double-drop") (canon lift (core func $u "double-drop")))
  (func (export "forged") (result u32) (canon lift (core func $u "forged")))
  (export "dropped" (func $p "dropped")))

(assert_return (invoke "round-trip" (u32.const 42)) (u32.const 42))
;; The destructor ran once, with the representation.
(assert_return (invoke "dropped") (u32.const 42))
(assert_return (invoke "two") (u32.const 20))
;; A moved handle is gone from the user's table.
(assert_trap (invoke "use-after-move") "unknown handle index")

(component
  (component $provider
    (type $r (resource (rep i32)))
    (core func $new (canon resource.new $r))
    (core module $api
      (import "" "new" (func $new (param i32) (result i32)))
      (func (export "make") (param i32) (result i32) (call $new (local.get 0))))
    (core instance $api (instantiate $api (with "" (instance (export "new" (func $new))))))
    (export $re "r" (type $r))
    (func (export "make") (param "x" u32) (result (own $re)) (canon lift (core func $api "make"))))
  (instance $p (instantiate $provider))
  (alias export $p "r" (type $r))
  (core func $make (canon lower (func $p "make")))
  (core func $drop (canon resource.drop $r))
  (core module $user
    (import "" "make" (func $make (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "double-drop")
      (local $a i32)
      (local.set $a (call $make (i32.const 1)))
      (call $drop (local.get $a))
      (call $drop (local.get $a))))
  (core instance $u (instantiate $user (with "" (instance
    (export "make" (func $make)) (export "drop" (func $drop))))))
  (func (export "double-drop") (canon lift (core func $u "double-drop"))))
(assert_trap (invoke "double-drop") "unknown handle index")

;; A handle of one resource type is refused where another is expected.
(component
  (type $a (resource (rep i32)))
  (type $b (resource (rep i32)))
  (core func $new-a (canon resource.new $a))
  (core func $rep-b (canon resource.rep $b))
  (core module $m
    (import "" "new-a" (func $new-a (param i32) (result i32)))
    (import "" "rep-b" (func $rep-b (param i32) (result i32)))
    (func (export "confuse") (result i32) (call $rep-b (call $new-a (i32.const 5)))))
  (core instance $i (instantiate $m (with "" (instance
    (export "new-a" (func $new-a)) (export "rep-b" (func $rep-b))))))
  (func (export "confuse") (result u32) (canon lift (core func $i "confuse"))))
(assert_trap (invoke "confuse") "not a handle of the resource type")
