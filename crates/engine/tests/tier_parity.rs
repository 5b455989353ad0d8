//! The tiers agree on what a guest costs and where it stops: fuel is
//! charged in the same regions by the interpreter and compiled code, so a
//! guest runs out after the same amount of work on either, and is left
//! with the same fuel when it finishes.

#![cfg(feature = "cranelift")]

use tern_engine::{Config, Engine, Linker, Module, Store, Strategy, TrapCode};

const STRATEGIES: [Strategy; 3] = [Strategy::Interpreter, Strategy::Cranelift, Strategy::Mixed];

/// Control flow of every kind: loops, branches out of nested blocks, a
/// `br_table`, an `if` without `else`, dead code after `br` and
/// `unreachable`-free returns, and calls between functions.
const PROGRAM: &str = r#"(module
    (memory 1)
    (func $classify (param $x i32) (result i32)
        (block $c (block $b (block $a
            (br_table $a $b $c (i32.rem_u (local.get $x) (i32.const 4))))
            (return (i32.const 10)))
          (return (i32.const 20)))
        (i32.const 30))
    (func $work (export "work") (param $n i32) (result i32)
        (local $i i32) (local $acc i32)
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $acc (i32.add (local.get $acc) (call $classify (local.get $i))))
            (if (i32.eqz (i32.and (local.get $i) (i32.const 7)))
              (then (i32.store (i32.const 16) (local.get $acc))))
            (block $skip
              (br_if $skip (i32.and (local.get $i) (i32.const 1)))
              (local.set $acc (i32.xor (local.get $acc) (i32.const 0x55)))
              (br $skip)
              ;; dead code, still counted in its region
              (drop (i32.const 1)) (drop (i32.const 2)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (i32.add (local.get $acc) (i32.load (i32.const 16)))))"#;

fn run(strategy: Strategy, fuel: u64, n: i32) -> (Result<i32, TrapCode>, u64) {
    let mut config = Config::new();
    config.strategy(strategy).consume_fuel(true);
    let engine = Engine::new(&config);
    let module = Module::new(&engine, PROGRAM).unwrap();
    let mut store = Store::new(&engine, ());
    store.set_fuel(fuel).unwrap();
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let work = instance
        .get_typed_func::<i32, i32>(&mut store, "work")
        .unwrap();
    let result = work
        .call(&mut store, n)
        .map_err(|e| e.trap_code().expect("a trap"));
    (result, store.get_fuel().unwrap())
}

#[test]
fn a_finished_guest_leaves_the_same_fuel_on_every_tier() {
    for n in [0, 1, 2, 7, 100] {
        let results: Vec<_> = STRATEGIES.iter().map(|s| run(*s, 1_000_000, n)).collect();
        assert!(results[0].0.is_ok(), "n = {n}: {results:?}");
        assert!(
            results.iter().all(|r| *r == results[0]),
            "n = {n}: {results:?}"
        );
        assert!(results[0].1 < 1_000_000, "some fuel was used");
    }
}

#[test]
fn a_guest_runs_out_after_the_same_work_on_every_tier() {
    let used = 1_000_000 - run(Strategy::Interpreter, 1_000_000, 50).1;
    // Every budget up to the full cost stops the guest, and at the same
    // point on every tier (the fuel left says which region it stopped at).
    for fuel in (0..=used).step_by(7).chain([used - 1]) {
        let results: Vec<_> = STRATEGIES.iter().map(|s| run(*s, fuel, 50)).collect();
        assert_eq!(
            results[0].0,
            Err(TrapCode::OutOfFuel),
            "fuel {fuel}: {results:?}"
        );
        assert!(
            results.iter().all(|r| *r == results[0]),
            "fuel {fuel}: {results:?}"
        );
    }
    let exact: Vec<_> = STRATEGIES.iter().map(|s| run(*s, used, 50)).collect();
    assert!(exact.iter().all(|r| r.0.is_ok() && r.1 == 0), "{exact:?}");
}
