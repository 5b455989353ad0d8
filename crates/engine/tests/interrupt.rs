//! Interruption: fuel metering and epoch deadlines stop guests that would
//! otherwise run forever.

mod common;

use anyhow::Result;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tern_engine::{Config, Engine, ErrorKind, Instance, Linker, Module, Store, TrapCode};

const LOOPS: &str = r#"(module
    (func $spin (export "spin") (loop $l (br $l)))
    (func (export "spin_in_callee") (call $spin))
    ;; sum of 0..n with a loop
    (func (export "count") (param $n i32) (result i32)
        (local $i i32) (local $acc i32)
        (block $done
            (loop $next
                (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                (local.set $acc (i32.add (local.get $acc) (local.get $i)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $next)))
        (local.get $acc)))"#;

fn instantiate(config: &Config) -> Result<(Engine, Store<()>, Instance)> {
    let engine = Engine::new(config);
    let module = Module::new(&engine, LOOPS)?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    Ok((engine, store, instance))
}

fn fuel_config() -> Config {
    let mut config = common::config();
    config.consume_fuel(true);
    config
}

fn fuel_stops_an_infinite_loop() -> Result<()> {
    let (_engine, mut store, instance) = instantiate(&fuel_config())?;
    store.set_fuel(10_000)?;
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    let err = spin.call(&mut store, ()).expect_err("the loop never ends");
    assert_eq!(err.kind(), ErrorKind::Trap);
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel), "{err:?}");
    assert!(store.get_fuel()? < 10_000);

    let spin_in_callee = instance.get_typed_func::<(), ()>(&mut store, "spin_in_callee")?;
    store.set_fuel(10_000)?;
    let err = spin_in_callee
        .call(&mut store, ())
        .expect_err("the loop never ends");
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel), "{err:?}");
    Ok(())
}

fn enough_fuel_lets_a_computation_finish() -> Result<()> {
    let (_engine, mut store, instance) = instantiate(&fuel_config())?;
    let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
    store.set_fuel(1_000_000)?;
    assert_eq!(store.get_fuel()?, 1_000_000);
    assert_eq!(count.call(&mut store, 1000)?, 499_500);
    let after_1000 = store.get_fuel()?;
    assert!(after_1000 < 1_000_000, "fuel was consumed");
    let used_1000 = 1_000_000 - after_1000;
    assert!(
        used_1000 >= 1000,
        "at least one unit per iteration, used {used_1000}"
    );

    // Twice the iterations cost more fuel.
    assert_eq!(count.call(&mut store, 2000)?, 1_999_000);
    let used_2000 = after_1000 - store.get_fuel()?;
    assert!(used_2000 > used_1000, "{used_2000} <= {used_1000}");

    // Too little fuel for the same work traps, and more fuel recovers.
    store.set_fuel(used_1000 / 2)?;
    let err = count
        .call(&mut store, 1000)
        .expect_err("half the fuel needed");
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel));
    store.set_fuel(used_1000)?;
    assert_eq!(count.call(&mut store, 1000)?, 499_500);
    Ok(())
}

fn a_store_starts_without_fuel() -> Result<()> {
    let (_engine, mut store, instance) = instantiate(&fuel_config())?;
    assert_eq!(store.get_fuel()?, 0);
    let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
    let err = count.call(&mut store, 10).expect_err("no fuel");
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel));
    Ok(())
}

fn fuel_api_needs_fuel_enabled() -> Result<()> {
    let (_engine, mut store, _instance) = instantiate(&common::config())?;
    assert_eq!(store.set_fuel(1).expect_err("off").kind(), ErrorKind::Usage);
    assert_eq!(store.get_fuel().expect_err("off").kind(), ErrorKind::Usage);
    Ok(())
}

fn epoch_config() -> Config {
    let mut config = common::config();
    config.epoch_interruption(true);
    config
}

/// Calls `export` with the deadline one epoch ahead while another thread
/// bumps the epoch after 50 ms; returns the error and how long it took.
fn interrupt_after_50ms(export: &str) -> Result<(tern_engine::Error, Duration)> {
    let (engine, mut store, instance) = instantiate(&epoch_config())?;
    let f = instance.get_typed_func::<(), ()>(&mut store, export)?;
    store.set_epoch_deadline(1);
    let done = AtomicBool::new(false);
    let start = Instant::now();
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            engine.increment_epoch();
            // If the first tick were missed, the test would hang; keep
            // ticking until the call returns so a failure is reported.
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(10));
                engine.increment_epoch();
            }
        });
        let r = f.call(&mut store, ());
        done.store(true, Ordering::Relaxed);
        r
    });
    let elapsed = start.elapsed();
    Ok((result.expect_err("the loop never ends"), elapsed))
}

fn epoch_deadline_interrupts_an_infinite_loop() -> Result<()> {
    let (err, elapsed) = interrupt_after_50ms("spin")?;
    assert_eq!(err.kind(), ErrorKind::Trap);
    assert_eq!(err.trap_code(), Some(TrapCode::Interrupt), "{err:?}");
    assert!(
        elapsed >= Duration::from_millis(45),
        "interrupted too early: {elapsed:?}"
    );
    Ok(())
}

fn epoch_deadline_interrupts_a_loop_in_a_callee() -> Result<()> {
    let (err, _) = interrupt_after_50ms("spin_in_callee")?;
    assert_eq!(err.trap_code(), Some(TrapCode::Interrupt), "{err:?}");
    let names: Vec<_> = err
        .backtrace()
        .expect("a backtrace")
        .frames()
        .iter()
        .map(|f| f.func_name.as_deref())
        .collect();
    assert_eq!(names.first(), Some(&Some("spin")), "{names:?}");
    Ok(())
}

fn a_passed_deadline_traps_at_once_and_a_new_one_lets_code_run() -> Result<()> {
    let (engine, mut store, instance) = instantiate(&epoch_config())?;
    let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
    store.set_epoch_deadline(1);
    assert_eq!(count.call(&mut store, 100)?, 4950, "the deadline is ahead");
    engine.increment_epoch();
    let err = count
        .call(&mut store, 100)
        .expect_err("the deadline has passed");
    assert_eq!(err.trap_code(), Some(TrapCode::Interrupt));
    store.set_epoch_deadline(1);
    assert_eq!(count.call(&mut store, 100)?, 4950, "a fresh deadline");
    Ok(())
}

fn epochs_are_ignored_when_interruption_is_off() -> Result<()> {
    let (engine, mut store, instance) = instantiate(&common::config())?;
    let count = instance.get_typed_func::<i32, i32>(&mut store, "count")?;
    store.set_epoch_deadline(0);
    engine.increment_epoch();
    engine.increment_epoch();
    assert_eq!(count.call(&mut store, 100)?, 4950);
    Ok(())
}

tiers! {
    fuel_stops_an_infinite_loop,
    enough_fuel_lets_a_computation_finish,
    a_store_starts_without_fuel,
    fuel_api_needs_fuel_enabled,
    epoch_deadline_interrupts_an_infinite_loop,
    epoch_deadline_interrupts_a_loop_in_a_callee,
    a_passed_deadline_traps_at_once_and_a_new_one_lets_code_run,
    epochs_are_ignored_when_interruption_is_off,
}
