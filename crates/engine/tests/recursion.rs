//! Deep recursion: the Wasm stack is on the heap, so deep but bounded
//! recursion works with the default configuration and runaway recursion
//! ends in `TrapCode::StackOverflow`, never in a crash of the host.

mod common;

use anyhow::Result;
use tern_engine::{Engine, Instance, Linker, Module, Store, TrapCode};

const RECURSIVE: &str = r#"(module $recursive
    ;; sum(n) = n + sum(n - 1), sum(0) = 0, not tail-recursive
    (func $sum (export "sum") (param $n i64) (result i64)
        (if (result i64) (i64.eqz (local.get $n))
            (then (i64.const 0))
            (else (i64.add (local.get $n)
                (call $sum (i64.sub (local.get $n) (i64.const 1)))))))
    ;; mutual recursion with a few locals per frame
    (func $even (export "even") (param $n i32) (result i32)
        (local f64 f64 i64)
        (if (result i32) (i32.eqz (local.get $n))
            (then (i32.const 1))
            (else (call $odd (i32.sub (local.get $n) (i32.const 1))))))
    (func $odd (param $n i32) (result i32)
        (if (result i32) (i32.eqz (local.get $n))
            (then (i32.const 0))
            (else (call $even (i32.sub (local.get $n) (i32.const 1))))))
    (func $forever (export "forever") (param i32) (result i32)
        (i32.add (call $forever (i32.add (local.get 0) (i32.const 1))) (i32.const 1))))"#;

fn instantiate(engine: &Engine) -> Result<(Store<()>, Instance)> {
    let module = Module::new(engine, RECURSIVE)?;
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine).instantiate(&mut store, &module)?;
    Ok((store, instance))
}

fn recursion_100_000_deep_with_the_default_config() -> Result<()> {
    let (mut store, instance) = instantiate(&common::engine())?;
    let sum = instance.get_typed_func::<i64, i64>(&mut store, "sum")?;
    assert_eq!(sum.call(&mut store, 100_000)?, 100_000 * 100_001 / 2);
    let even = instance.get_typed_func::<i32, i32>(&mut store, "even")?;
    assert_eq!(even.call(&mut store, 100_000)?, 1);
    assert_eq!(even.call(&mut store, 100_001)?, 0);
    Ok(())
}

fn unbounded_recursion_is_a_stack_overflow() -> Result<()> {
    let (mut store, instance) = instantiate(&common::engine())?;
    let forever = instance.get_typed_func::<i32, i32>(&mut store, "forever")?;
    let err = forever
        .call(&mut store, 0)
        .expect_err("recursion without end");
    assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow), "{err:?}");
    let bt = err.backtrace().expect("a backtrace");
    assert!(!bt.frames().is_empty());
    assert_eq!(bt.frames()[0].func_name.as_deref(), Some("forever"));
    Ok(())
}

fn a_small_max_wasm_stack_overflows_sooner() -> Result<()> {
    let mut config = common::config();
    config.max_wasm_stack(64 * 1024);
    let (mut store, instance) = instantiate(&Engine::new(&config))?;
    let sum = instance.get_typed_func::<i64, i64>(&mut store, "sum")?;
    assert_eq!(sum.call(&mut store, 100)?, 5050, "a shallow recursion fits");
    let err = sum
        .call(&mut store, 10_000)
        .expect_err("10,000 frames do not fit in 64 KiB");
    assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow), "{err:?}");

    // The default stack takes the same call easily.
    let (mut store, instance) = instantiate(&common::engine())?;
    let sum = instance.get_typed_func::<i64, i64>(&mut store, "sum")?;
    assert_eq!(sum.call(&mut store, 10_000)?, 50_005_000);
    Ok(())
}

fn the_store_works_after_a_stack_overflow() -> Result<()> {
    let mut config = common::config();
    config.max_wasm_stack(1 << 20);
    let (mut store, instance) = instantiate(&Engine::new(&config))?;
    let forever = instance.get_typed_func::<i32, i32>(&mut store, "forever")?;
    let sum = instance.get_typed_func::<i64, i64>(&mut store, "sum")?;
    let even = instance.get_typed_func::<i32, i32>(&mut store, "even")?;
    for round in 0..3 {
        let err = forever
            .call(&mut store, 0)
            .expect_err("recursion without end");
        assert_eq!(
            err.trap_code(),
            Some(TrapCode::StackOverflow),
            "round {round}"
        );
        // The whole stack is free again: a deep recursion works. (Mixed
        // tiers spend native stack on each crossing between them.)
        let n = match common::strategy() {
            tern_engine::Strategy::Mixed => 101,
            _ => 1001,
        };
        assert_eq!(sum.call(&mut store, 1000)?, 500_500, "round {round}");
        assert_eq!(even.call(&mut store, n)?, 0, "round {round}");
    }
    Ok(())
}

fn stack_overflow_inside_a_host_call_unwinds_everything() -> Result<()> {
    let mut config = common::config();
    config.max_wasm_stack(1 << 20);
    let engine = Engine::new(&config);
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap(
        "host",
        "recurse",
        |mut caller: tern_engine::Caller<'_, ()>| -> tern_engine::Result<i32> {
            let f = caller
                .get_export("forever")
                .and_then(tern_engine::Extern::into_func)
                .ok_or_else(|| tern_engine::Error::msg("no export"))?
                .typed::<i32, i32>(&caller)?;
            f.call(&mut caller, 0)
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "recurse" (func $recurse (result i32)))
            (func $forever (export "forever") (param i32) (result i32)
                (i32.add (call $forever (local.get 0)) (i32.const 1)))
            (func (export "run") (result i32) (call $recurse))
            (func (export "one") (result i32) (i32.const 1)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    let err = run.call(&mut store, ()).expect_err("recursion without end");
    assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow), "{err:?}");
    let one = instance.get_typed_func::<(), i32>(&mut store, "one")?;
    assert_eq!(one.call(&mut store, ())?, 1);
    Ok(())
}

tiers! {
    recursion_100_000_deep_with_the_default_config,
    unbounded_recursion_is_a_stack_overflow,
    a_small_max_wasm_stack_overflows_sooner,
    the_store_works_after_a_stack_overflow,
    stack_overflow_inside_a_host_call_unwinds_everything,
}
