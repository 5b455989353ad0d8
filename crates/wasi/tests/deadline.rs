//! `WasiCtxBuilder::deadline`: a guest blocked in a WASI call is woken at
//! its deadline and interrupted, instead of holding its thread for as long
//! as it asked to sleep.

mod common;

use std::time::{Duration, Instant};
use tern_engine::{Linker, Module, Store, TrapCode};
use tern_wasi::{WasiCtx, WasiCtxBuilder};

/// Sleeps for 30 s with one clock subscription, then returns the errno.
const SLEEPER: &str = r#"(module
    (import "wasi_snapshot_preview1" "poll_oneoff"
        (func $poll (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "sleep") (result i32)
        ;; subscription at 0: userdata 0, tag 0 (clock), clock id 1
        ;; (monotonic), timeout 30 s, precision 0, flags 0 (relative)
        (i32.store8 (i32.const 8) (i32.const 0))
        (i32.store (i32.const 16) (i32.const 1))
        (i64.store (i32.const 24) (i64.const 30000000000))
        (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128))))"#;

/// Runs the sleeper; its result, how long the call took, and when it
/// returned.
fn sleep_with(wasi: WasiCtx) -> (Result<i32, tern_engine::Error>, Duration, Instant) {
    let engine = common::engine();
    let module = Module::new(&engine, SLEEPER).unwrap();
    let mut linker = Linker::new(&engine);
    tern_wasi::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx).unwrap();
    let mut store = Store::new(&engine, wasi);
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let sleep = instance
        .get_typed_func::<(), i32>(&mut store, "sleep")
        .unwrap();
    let started = Instant::now();
    let result = sleep.call(&mut store, ());
    (result, started.elapsed(), Instant::now())
}

fn a_sleeping_guest_is_interrupted_at_its_deadline() {
    let deadline = Instant::now() + Duration::from_millis(100);
    let (result, took, returned) = sleep_with(WasiCtxBuilder::new().deadline(deadline).build());
    let err = result.expect_err("the guest is interrupted");
    assert_eq!(err.trap_code(), Some(TrapCode::Interrupt), "{err}");
    // Compiling the guest takes part of the 100 ms: what matters is that
    // it slept until the deadline, and not on.
    assert!(
        returned + Duration::from_millis(10) >= deadline,
        "woke {:?} before the deadline",
        deadline.saturating_duration_since(returned)
    );
    assert!(took < Duration::from_secs(10), "slept on: {took:?}");
}

fn a_call_made_after_the_deadline_fails_at_once() {
    let deadline = Instant::now();
    let (result, took, _) = sleep_with(WasiCtxBuilder::new().deadline(deadline).build());
    assert_eq!(result.unwrap_err().trap_code(), Some(TrapCode::Interrupt));
    assert!(took < Duration::from_secs(10));
}

tiers! {
    a_sleeping_guest_is_interrupted_at_its_deadline,
    a_call_made_after_the_deadline_fails_at_once,
}
