//! `WasiCtx::defer_blocking_calls`: with it on, a resumable call suspends
//! before a WASI call that could block its thread, and does not for calls
//! that cannot; resumed with it off, the call goes on where it stopped.

mod common;

use tern_engine::{CallState, Linker, Module, Store};
use tern_wasi::{OutputBuffer, WasiCtx, WasiCtxBuilder};

/// Writes "a" to stdout, sleeps 1 ms, writes "b".
const GUEST: &str = r#"(module
    (import "wasi_snapshot_preview1" "fd_write"
        (func $write (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "poll_oneoff"
        (func $poll (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 200) "ab")
    (func $out (param $at i32)
        (i32.store (i32.const 300) (local.get $at))
        (i32.store (i32.const 304) (i32.const 1))
        (drop (call $write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 308))))
    (func (export "_start")
        (call $out (i32.const 200))
        (i32.store8 (i32.const 8) (i32.const 0))
        (i32.store (i32.const 16) (i32.const 1))
        (i64.store (i32.const 24) (i64.const 1000000))
        (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
        (call $out (i32.const 201))))"#;

fn blocking_calls_suspend_and_the_rest_run() {
    let engine = common::engine();
    let module = Module::new(&engine, GUEST).unwrap();
    let mut linker = Linker::new(&engine);
    tern_wasi::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx).unwrap();
    let stdout = OutputBuffer::new(16);
    let mut wasi = WasiCtxBuilder::new().stdout(stdout.clone()).build();
    wasi.defer_blocking_calls(true);
    let mut store = Store::new(&engine, wasi);
    let start = linker
        .instantiate(&mut store, &module)
        .unwrap()
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();

    let CallState::Suspended(call) = start.call_resumable(&mut store, ()).unwrap() else {
        panic!("the sleep should have suspended the call");
    };
    assert!(call.at_host_call());
    assert_eq!(
        stdout.contents(),
        b"a",
        "writing to stdout does not suspend"
    );

    // Still deferred: it suspends again at the same call.
    let CallState::Suspended(call) = call.resume(&mut store).unwrap() else {
        panic!("still deferred");
    };
    store.data_mut().defer_blocking_calls(false);
    assert!(matches!(
        call.resume(&mut store).unwrap(),
        CallState::Done(())
    ));
    assert_eq!(stdout.contents(), b"ab");
}

fn a_plain_call_fails_at_a_deferred_call() {
    let engine = common::engine();
    let module = Module::new(&engine, GUEST).unwrap();
    let mut linker = Linker::new(&engine);
    tern_wasi::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx).unwrap();
    let mut wasi = WasiCtxBuilder::new().build();
    wasi.defer_blocking_calls(true);
    let mut store = Store::new(&engine, wasi);
    let start = linker
        .instantiate(&mut store, &module)
        .unwrap()
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();
    let err = start.call(&mut store, ()).unwrap_err();
    assert!(err.to_string().contains("cannot suspend"), "{err}");
}

tiers! {
    blocking_calls_suspend_and_the_rest_run,
    a_plain_call_fails_at_a_deferred_call,
}
