;; Strings between components of different encodings: the callee gets the
;; string in its own encoding, transcoded on the way.

;; $callee (UTF-8) reports the byte length it receives; $caller passes a
;; string from its data segment in its own encoding.
(component
  (component $callee
    (core module $m
      (memory (export "memory") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (global.get $next))
        (global.set $next (i32.add (local.get $p) (local.get 3)))
        (local.get $p))
      (func (export "len") (param i32 i32) (result i32) (local.get 1))
      ;; The first byte, to check what arrived.
      (func (export "first") (param i32 i32) (result i32) (i32.load8_u (local.get 0))))
    (core instance $i (instantiate $m))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $i "len") (memory (core memory $i "memory"))
        (realloc (core func $i "realloc"))))
    (func (export "first") (param "s" string) (result u32)
      (canon lift (core func $i "first") (memory (core memory $i "memory"))
        (realloc (core func $i "realloc")))))
  (instance $callee (instantiate $callee))

  ;; "hé☃" in UTF-16LE: 3 code units; in UTF-8 it is 1 + 2 + 3 = 6 bytes.
  (core module $data
    (memory (export "memory") 1)
    (data (i32.const 16) "h\00\e9\00\03\26")
    ;; "hé" in latin-1: 2 bytes; in UTF-8 3 bytes.
    (data (i32.const 32) "h\e9"))
  (core instance $data (instantiate $data))
  (core func $len16 (canon lower (func $callee "len") (memory (core memory $data "memory"))
    string-encoding=utf16))
  (core func $len-latin1 (canon lower (func $callee "len") (memory (core memory $data "memory"))
    string-encoding=latin1+utf16))
  (core func $first-latin1 (canon lower (func $callee "first") (memory (core memory $data "memory"))
    string-encoding=latin1+utf16))
  (core module $caller
    (import "" "len16" (func $len16 (param i32 i32) (result i32)))
    (import "" "len-latin1" (func $len-latin1 (param i32 i32) (result i32)))
    (import "" "first-latin1" (func $first-latin1 (param i32 i32) (result i32)))
    (func (export "utf16") (result i32) (call $len16 (i32.const 16) (i32.const 3)))
    (func (export "latin1") (result i32) (call $len-latin1 (i32.const 32) (i32.const 2)))
    ;; The tag bit says UTF-16: the same three units as above.
    (func (export "tagged") (result i32) (call $len-latin1 (i32.const 16) (i32.const 0x80000003)))
    (func (export "latin1-first") (result i32) (call $first-latin1 (i32.const 32) (i32.const 2)))
    (func (export "odd-utf16") (result i32) (call $len16 (i32.const 17) (i32.const 1))))
  (core instance $caller (instantiate $caller (with "" (instance
    (export "len16" (func $len16)) (export "len-latin1" (func $len-latin1))
    (export "first-latin1" (func $first-latin1))))))
  (func (export "utf16") (result u32) (canon lift (core func $caller "utf16")))
  (func (export "latin1") (result u32) (canon lift (core func $caller "latin1")))
  (func (export "tagged") (result u32) (canon lift (core func $caller "tagged")))
  (func (export "latin1-first") (result u32) (canon lift (core func $caller "latin1-first")))
  (func (export "odd-utf16") (result u32) (canon lift (core func $caller "odd-utf16"))))

(assert_return (invoke "utf16") (u32.const 6))
(assert_return (invoke "latin1") (u32.const 3))
(assert_return (invoke "tagged") (u32.const 6))
(assert_return (invoke "latin1-first") (u32.const 0x68))
;; A UTF-16 string must be 2-byte aligned.
(assert_trap (invoke "odd-utf16") "aligned")

;; Invalid text from a caller traps in the caller's crossing, and the
;; instance that trapped cannot be entered again.

(component
  (component $callee
    (core module $m
      (memory (export "memory") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64))
      (func (export "len") (param i32 i32) (result i32) (local.get 1)))
    (core instance $i (instantiate $m))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $i "len") (memory (core memory $i "memory"))
        (realloc (core func $i "realloc")))))
  (instance $callee (instantiate $callee))
  (core module $data
    (memory (export "memory") 1)
    ;; An unpaired surrogate in UTF-16, and a lone continuation byte in UTF-8.
    (data (i32.const 16) "\00\d8")
    (data (i32.const 32) "\80"))
  (core instance $data (instantiate $data))
  (core func $len (canon lower (func $callee "len") (memory (core memory $data "memory"))
    string-encoding=utf16))
  (core module $caller
    (import "" "len" (func $len (param i32 i32) (result i32)))
    (func (export "run") (result i32) (call $len (i32.const 16) (i32.const 1))))
  (core instance $caller (instantiate $caller (with "" (instance (export "len" (func $len))))))
  (func (export "run") (result u32) (canon lift (core func $caller "run"))))
(assert_trap (invoke "run") "not valid UTF-16")
(assert_trap (invoke "run") "cannot enter component instance")

(component
  (component $callee
    (core module $m
      (memory (export "memory") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64))
      (func (export "len") (param i32 i32) (result i32) (local.get 1)))
    (core instance $i (instantiate $m))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $i "len") (memory (core memory $i "memory"))
        (realloc (core func $i "realloc")))))
  (instance $callee (instantiate $callee))
  (core module $data
    (memory (export "memory") 1)
    ;; An unpaired surrogate in UTF-16, and a lone continuation byte in UTF-8.
    (data (i32.const 16) "\00\d8")
    (data (i32.const 32) "\80"))
  (core instance $data (instantiate $data))
  (core func $len (canon lower (func $callee "len") (memory (core memory $data "memory"))
    string-encoding=utf8))
  (core module $caller
    (import "" "len" (func $len (param i32 i32) (result i32)))
    (func (export "run") (result i32) (call $len (i32.const 32) (i32.const 1))))
  (core instance $caller (instantiate $caller (with "" (instance (export "len" (func $len))))))
  (func (export "run") (result u32) (canon lift (core func $caller "run"))))
(assert_trap (invoke "run") "not valid UTF-8")
(assert_trap (invoke "run") "cannot enter component instance")

(component
  (component $callee
    (core module $m
      (memory (export "memory") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64))
      (func (export "len") (param i32 i32) (result i32) (local.get 1)))
    (core instance $i (instantiate $m))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $i "len") (memory (core memory $i "memory"))
        (realloc (core func $i "realloc")))))
  (instance $callee (instantiate $callee))
  (core module $data
    (memory (export "memory") 1)
    ;; An unpaired surrogate in UTF-16, and a lone continuation byte in UTF-8.
    (data (i32.const 16) "\00\d8")
    (data (i32.const 32) "\80"))
  (core instance $data (instantiate $data))
  (core func $len (canon lower (func $callee "len") (memory (core memory $data "memory"))
    string-encoding=utf8))
  (core module $caller
    (import "" "len" (func $len (param i32 i32) (result i32)))
    (func (export "run") (result i32) (call $len (i32.const 65535) (i32.const 2))))
  (core instance $caller (instantiate $caller (with "" (instance (export "len" (func $len))))))
  (func (export "run") (result u32) (canon lift (core func $caller "run"))))
(assert_trap (invoke "run") "outside the memory")
(assert_trap (invoke "run") "cannot enter component instance")

(component
  (component $callee
    (core module $m
      (memory (export "memory") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64))
      (func (export "len") (param i32 i32) (result i32) (local.get 1)))
    (core instance $i (instantiate $m))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $i "len") (memory (core memory $i "memory"))
        (realloc (core func $i "realloc")))))
  (instance $callee (instantiate $callee))
  (core module $data
    (memory (export "memory") 1)
    ;; An unpaired surrogate in UTF-16, and a lone continuation byte in UTF-8.
    (data (i32.const 16) "\00\d8")
    (data (i32.const 32) "\80"))
  (core instance $data (instantiate $data))
  (core func $len (canon lower (func $callee "len") (memory (core memory $data "memory"))
    string-encoding=utf16))
  (core module $caller
    (import "" "len" (func $len (param i32 i32) (result i32)))
    (func (export "run") (result i32) (call $len (i32.const 0) (i32.const 0x40000000))))
  (core instance $caller (instantiate $caller (with "" (instance (export "len" (func $len))))))
  (func (export "run") (result u32) (canon lift (core func $caller "run"))))
(assert_trap (invoke "run") "too long")
(assert_trap (invoke "run") "cannot enter component instance")
