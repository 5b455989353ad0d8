//! Resumable calls: a call suspends at an epoch deadline or when a host
//! function returns `Yield`, and resumes where it stopped, on any thread.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tern_engine::{
    CallState, Caller, Engine, Error, Func, Linker, Module, Store, TrapCode, TypedFunc, Yield,
};

/// Sums 1..=n in a loop (which checks the epoch at its back-edge), calling
/// the host's `tick` with the running sum every `every` iterations.
const SUMMER: &str = r#"(module
    (import "host" "tick" (func $tick (param i64)))
    (func (export "sum") (param $n i64) (param $every i64) (result i64)
        (local $i i64) (local $s i64)
        (loop $next
            (local.set $i (i64.add (local.get $i) (i64.const 1)))
            (local.set $s (i64.add (local.get $s) (local.get $i)))
            (if (i64.eqz (i64.rem_u (local.get $i) (local.get $every)))
                (then (call $tick (local.get $s))))
            (br_if $next (i64.lt_u (local.get $i) (local.get $n))))
        (local.get $s)))"#;

fn engine() -> Engine {
    Engine::new(common::config().epoch_interruption(true))
}

type Sum = TypedFunc<(i64, i64), i64>;

/// The instance, with `tick` returning `Yield` on its first `yields` calls;
/// also the count of `tick` calls.
fn instantiate(engine: &Engine, yields: u32) -> (Store<()>, Sum, Arc<AtomicU32>) {
    let module = Module::new(engine, SUMMER).unwrap();
    let mut store = Store::new(engine, ());
    let calls = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&calls);
    let tick = Func::wrap(&mut store, move |_: Caller<'_, ()>, _sum: i64| {
        if seen.fetch_add(1, Ordering::SeqCst) < yields {
            return Err(Error::new(Yield));
        }
        Ok(())
    });
    let mut linker = Linker::new(engine);
    linker.define("host", "tick", tick).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let sum = instance.get_typed_func(&mut store, "sum").unwrap();
    (store, sum, calls)
}

const N: i64 = 100_000;
const SUM: i64 = N * (N + 1) / 2;

fn a_call_suspends_at_the_epoch_deadline_and_resumes_on_another_thread() {
    let engine = engine();
    let (mut store, sum, _) = instantiate(&engine, 0);
    store.set_epoch_deadline(1);
    store.epoch_deadline_yields(true);
    engine.increment_epoch();
    let suspended = match sum.call_resumable(&mut store, (N, N + 1)).unwrap() {
        CallState::Suspended(s) => s,
        CallState::Done(v) => panic!("finished with {v} despite the deadline"),
    };
    assert!(!suspended.at_host_call());
    let result = std::thread::spawn(move || {
        store.set_epoch_deadline(1_000_000);
        match suspended.resume(&mut store).unwrap() {
            CallState::Done(v) => v,
            CallState::Suspended(_) => panic!("suspended again"),
        }
    })
    .join()
    .unwrap();
    assert_eq!(result, SUM);
}

fn a_suspended_call_can_be_resumed_many_times() {
    let engine = engine();
    let (mut store, sum, _) = instantiate(&engine, 0);
    store.epoch_deadline_yields(true);
    store.set_epoch_deadline(0);
    let mut state = sum.call_resumable(&mut store, (N, N + 1)).unwrap();
    let mut suspensions = 0;
    let result = loop {
        match state {
            CallState::Done(v) => break v,
            CallState::Suspended(s) => {
                suspensions += 1;
                // Every back-edge check fails until the deadline moves.
                if suspensions % 100 == 0 {
                    store.set_epoch_deadline(1_000_000);
                }
                state = s.resume(&mut store).unwrap();
            }
        }
    };
    assert_eq!(result, SUM);
    assert!(suspensions >= 100);
}

fn a_host_function_that_yields_is_called_again_on_resume() {
    let engine = engine();
    let (mut store, sum, calls) = instantiate(&engine, 2);
    store.set_epoch_deadline(1_000_000);
    let mut state = sum.call_resumable(&mut store, (1000, 250)).unwrap();
    let mut at_host = 0;
    let result = loop {
        match state {
            CallState::Done(v) => break v,
            CallState::Suspended(s) => {
                assert!(s.at_host_call());
                at_host += 1;
                state = s.resume(&mut store).unwrap();
            }
        }
    };
    assert_eq!(result, 1000 * 1001 / 2);
    assert_eq!(at_host, 2);
    // Four ticks made, two of them made twice.
    assert_eq!(calls.load(Ordering::SeqCst), 6);
}

fn plain_calls_trap_where_resumable_ones_suspend() {
    let engine = engine();
    let (mut store, sum, _) = instantiate(&engine, 1);
    store.set_epoch_deadline(1_000_000);
    let err = sum.call(&mut store, (1000, 250)).unwrap_err();
    assert!(err.to_string().contains("cannot suspend"), "{err}");

    let (mut store, sum, _) = instantiate(&engine, 0);
    store.epoch_deadline_yields(true);
    store.set_epoch_deadline(0);
    let err = sum.call(&mut store, (N, N + 1)).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::Interrupt));
    // The store stays usable after both.
    store.set_epoch_deadline(1_000_000);
    assert_eq!(sum.call(&mut store, (10, 100)).unwrap(), 55);
}

fn a_trap_after_resuming_unwinds_cleanly() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module (func (export "f") (param i32) (result i32)
            (loop $l (br_if $l (i32.eqz (local.get 0))))
            (i32.div_u (i32.const 1) (i32.sub (local.get 0) (i32.const 1)))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let f: TypedFunc<i32, i32> = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap()
        .get_typed_func(&mut store, "f")
        .unwrap();
    store.epoch_deadline_yields(true);
    store.set_epoch_deadline(0);
    let CallState::Suspended(s) = f.call_resumable(&mut store, 1).unwrap() else {
        panic!("expected a suspension at the first check");
    };
    store.set_epoch_deadline(1_000_000);
    let err = s.resume(&mut store).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::IntegerDivisionByZero));
    assert!(matches!(
        f.call_resumable(&mut store, 3).unwrap(),
        CallState::Done(0)
    ));
}

/// Suspends a call of `sum` at the epoch deadline.
fn suspend_one(
    engine: &Engine,
    store: &mut Store<()>,
    sum: &Sum,
) -> tern_engine::SuspendedCall<i64> {
    store.set_epoch_deadline(1);
    store.epoch_deadline_yields(true);
    engine.increment_epoch();
    match sum.call_resumable(&mut *store, (N, N + 1)).unwrap() {
        CallState::Suspended(s) => s,
        CallState::Done(v) => panic!("finished with {v} despite the deadline"),
    }
}

fn other_calls_are_refused_while_a_call_is_suspended() {
    let engine = engine();
    let (mut store, sum, _) = instantiate(&engine, 0);
    let suspended = suspend_one(&engine, &mut store, &sum);
    // Neither a plain call nor another resumable one may run on top of it.
    let err = sum.call(&mut store, (3, 10)).expect_err("refused");
    assert_eq!(err.kind(), tern_engine::ErrorKind::Usage, "{err}");
    assert!(
        err.to_string().contains("suspended call is pending"),
        "{err}"
    );
    let err = sum
        .call_resumable(&mut store, (3, 10))
        .expect_err("refused");
    assert_eq!(err.kind(), tern_engine::ErrorKind::Usage, "{err}");
    // The suspended call is intact and finishes.
    store.set_epoch_deadline(1_000_000);
    match suspended.resume(&mut store).unwrap() {
        CallState::Done(v) => assert_eq!(v, SUM),
        CallState::Suspended(_) => panic!("suspended again"),
    }
    // Afterwards the store takes calls again.
    assert_eq!(sum.call(&mut store, (3, 10)).unwrap(), 6);
}

fn dropping_a_suspended_call_frees_the_store_for_others() {
    let engine = engine();
    let (mut store, sum, _) = instantiate(&engine, 0);
    for _ in 0..3 {
        let suspended = suspend_one(&engine, &mut store, &sum);
        drop(suspended);
        store.set_epoch_deadline(1_000_000);
        assert_eq!(sum.call(&mut store, (4, 10)).unwrap(), 10);
    }
    // And a resumable call after an abandoned one runs to its end.
    let suspended = suspend_one(&engine, &mut store, &sum);
    drop(suspended);
    store.set_epoch_deadline(1_000_000);
    match sum.call_resumable(&mut store, (N, N + 1)).unwrap() {
        CallState::Done(v) => assert_eq!(v, SUM),
        CallState::Suspended(_) => panic!("suspended with a deadline far ahead"),
    }
}

fn resuming_with_another_store_is_an_error() {
    let engine = engine();
    let (mut store, sum, _) = instantiate(&engine, 0);
    let (mut other, _, _) = instantiate(&engine, 0);
    let suspended = suspend_one(&engine, &mut store, &sum);
    let err = suspended.resume(&mut other).expect_err("another store");
    assert_eq!(err.kind(), tern_engine::ErrorKind::Usage, "{err}");
}

/// The untyped form: parameters as values, results as bits, suspending at
/// the host's request like the typed one; references are refused.
fn an_untyped_call_of_numbers_suspends_and_resumes() {
    let engine = engine();
    let (mut store, sum, calls) = instantiate(&engine, 1);
    store.set_epoch_deadline(1_000_000);
    let func = *sum.func();
    let params = [tern_engine::Val::I64(1000), tern_engine::Val::I64(500)];
    let suspended = match func.call_resumable(&mut store, &params).unwrap() {
        CallState::Suspended(s) => s,
        CallState::Done(r) => panic!("finished with {r:?} though the host yielded"),
    };
    assert!(suspended.at_host_call());
    let results = match suspended.resume(&mut store).unwrap() {
        CallState::Done(r) => r,
        CallState::Suspended(_) => panic!("suspended again"),
    };
    assert_eq!(results.bits(), [1000 * 1001 / 2]);
    // Two ticks, the first made twice.
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    let wrong = [tern_engine::Val::I32(1), tern_engine::Val::I64(2)];
    let err = func
        .call_resumable(&mut store, &wrong)
        .expect_err("an i32 for an i64");
    assert_eq!(err.kind(), tern_engine::ErrorKind::Usage, "{err}");
    let refs = Module::new(&engine, r#"(module (func (export "f") (param externref)))"#).unwrap();
    let instance = Linker::new(&engine).instantiate(&mut store, &refs).unwrap();
    let f = instance.get_func(&mut store, "f").unwrap();
    let err = f
        .call_resumable(&mut store, &[tern_engine::Val::ExternRef(None)])
        .expect_err("a reference parameter");
    assert!(err.to_string().contains("numbers only"), "{err}");
}

/// `outer` calls the host, which moves the epoch past the deadline, calls
/// `spin` back (Wasm that cannot suspend, in a resumable call) and moves
/// the epoch on once more.
const NESTED: &str = r#"(module
    (import "host" "nested" (func $nested))
    (func (export "spin") (param $n i32)
        (loop $l
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br_if $l (i32.gt_s (local.get $n) (i32.const 0)))))
    (func (export "outer") (result i32)
        (local $i i32)
        (call $nested)
        (loop $l
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))
        (local.get $i)))"#;

fn run_nested(limit: Option<u64>) -> tern_engine::Result<(u32, i32)> {
    let engine = engine();
    let module = Module::new(&engine, NESTED).unwrap();
    let mut store = Store::new(&engine, ());
    let ticker = engine.clone();
    let nested = Func::wrap(&mut store, move |mut caller: Caller<'_, ()>| {
        ticker.increment_epoch();
        let spin = caller.get_export("spin").unwrap().into_func().unwrap();
        spin.call(&mut caller, &[tern_engine::Val::I32(1000)], &mut [])?;
        // The next tick, which the outer call then suspends at.
        ticker.increment_epoch();
        Ok(())
    });
    let mut linker = Linker::new(&engine);
    linker.define("host", "nested", nested).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let outer: TypedFunc<(), i32> = instance.get_typed_func(&mut store, "outer").unwrap();
    store.set_epoch_deadline(1);
    store.epoch_deadline_yields(true);
    if let Some(ticks) = limit {
        store.set_epoch_yield_limit(ticks);
    }
    let mut state = outer.call_resumable(&mut store, ())?;
    let mut suspensions = 0;
    loop {
        match state {
            CallState::Done(v) => return Ok((suspensions, v)),
            CallState::Suspended(s) => {
                suspensions += 1;
                store.set_epoch_deadline(1_000_000);
                state = s.resume(&mut store)?;
            }
        }
    }
}

/// Wasm called from a host function cannot suspend: past a yielding
/// deadline it traps, unless the yield limit lets it go on; the resumable
/// call then suspends at the next tick, back in its own frames.
fn a_nested_call_runs_on_within_the_yield_limit() {
    let err = run_nested(None).expect_err("no limit: the nested call traps");
    assert_eq!(err.trap_code(), Some(TrapCode::Interrupt), "{err}");
    let (suspensions, v) = run_nested(Some(1_000_000)).unwrap();
    assert_eq!(v, 1000);
    assert_eq!(suspensions, 1, "suspends once, after the nested call");
    let err = run_nested(Some(1)).expect_err("a limit already reached");
    assert_eq!(err.trap_code(), Some(TrapCode::Interrupt), "{err}");
}

tiers! {
    a_nested_call_runs_on_within_the_yield_limit,
    an_untyped_call_of_numbers_suspends_and_resumes,
    other_calls_are_refused_while_a_call_is_suspended,
    dropping_a_suspended_call_frees_the_store_for_others,
    resuming_with_another_store_is_an_error,
    a_call_suspends_at_the_epoch_deadline_and_resumes_on_another_thread,
    a_suspended_call_can_be_resumed_many_times,
    a_host_function_that_yields_is_called_again_on_resume,
    plain_calls_trap_where_resumable_ones_suspend,
    a_trap_after_resuming_unwinds_cleanly,
}
