;; Polls an inherited stdin for reading with a 300 ms clock beside it and
;; exits with the userdata of the first event: 7 when stdin is readable, 9
;; when the clock fired first.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    ;; sub 0: fd_read on fd 0 (tag 1), userdata 7
    (i64.store (i32.const 0) (i64.const 7))
    (i32.store8 (i32.const 8) (i32.const 1))
    (i32.store (i32.const 16) (i32.const 0))
    ;; sub 1: clock monotonic relative 300ms, userdata 9
    (i64.store (i32.const 48) (i64.const 9))
    (i32.store8 (i32.const 56) (i32.const 0))
    (i32.store (i32.const 64) (i32.const 1))
    (i64.store (i32.const 72) (i64.const 300000000))
    (drop (call $poll (i32.const 0) (i32.const 200) (i32.const 2) (i32.const 400)))
    ;; exit with the userdata of the first event
    (call $exit (i32.load (i32.const 200)))))
