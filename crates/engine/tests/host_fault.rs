//! The signal handler that turns faults of compiled code into traps claims
//! only the trapping instructions of Wasm: a fault anywhere else, such as
//! a bug in a host function that compiled code called, still ends the
//! process. Each scenario runs in a child process of this test binary.

#![cfg(feature = "cranelift")]

use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use tern_engine::{Caller, Config, Engine, Linker, Module, Store, Strategy};

/// Set in the child: which scenario to run.
const CHILD: &str = "TERN_HOST_FAULT_SCENARIO";

/// Calls, from compiled code, a host function that reads through a null
/// pointer.
fn fault_in_a_host_function() {
    let engine = Engine::new(Config::new().strategy(Strategy::Cranelift));
    let mut linker = Linker::<()>::new(&engine);
    linker
        .func_wrap("host", "crash", |_: Caller<'_, ()>| {
            let p = std::hint::black_box(0usize) as *const u32;
            // SAFETY: none: this is the host bug under test.
            unsafe { p.read_volatile() }
        })
        .unwrap();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "crash" (func $crash (result i32)))
            (func (export "run") (result i32) (call $crash)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_typed_func::<(), i32>(&mut store, "run")
        .unwrap();
    let outcome = run.call(&mut store, ());
    // Reaching here means the fault was swallowed.
    println!("the call returned {outcome:?}");
}

/// A trap of compiled code, then a fault outside Wasm on the same thread:
/// the handler, installed by then, still lets the second through.
fn fault_after_a_trap() {
    let engine = Engine::new(Config::new().strategy(Strategy::Cranelift));
    let module = Module::new(&engine, r#"(module (func (export "run") unreachable))"#).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .unwrap();
    assert!(run.call(&mut store, ()).is_err(), "the trap is a trap");
    let p = std::hint::black_box(0usize) as *const u32;
    // SAFETY: none: this is the host bug under test.
    let v = unsafe { p.read_volatile() };
    println!("read {v}");
}

/// Runs `scenario` in a child and returns how the child ended.
fn in_child(test: &str, scenario: &str) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, scenario)
        .output()
        .unwrap()
}

fn child_scenario() -> Option<String> {
    std::env::var(CHILD).ok()
}

#[test]
fn a_host_bug_under_compiled_code_still_crashes_the_process() {
    if child_scenario().is_some() {
        fault_in_a_host_function();
        return;
    }
    let out = in_child(
        "a_host_bug_under_compiled_code_still_crashes_the_process",
        "host",
    );
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGSEGV),
        "{:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_fault_outside_wasm_after_a_trap_still_crashes() {
    if child_scenario().is_some() {
        fault_after_a_trap();
        return;
    }
    let out = in_child("a_fault_outside_wasm_after_a_trap_still_crashes", "after");
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGSEGV),
        "{:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
}
