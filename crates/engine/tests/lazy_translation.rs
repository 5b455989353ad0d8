//! Translation on first call (`Config::lazy_translation`, the default):
//! loading still refuses every invalid or unsupported function, whether it
//! ever runs or not, and code runs the same as when translated at load.

mod common;

use anyhow::Result;
use tern_engine::{Engine, ErrorKind, Linker, Module, Store, TrapCode};

fn engines() -> [(&'static str, Engine); 2] {
    [
        ("lazy", common::engine()),
        (
            "eager",
            Engine::new(common::config().lazy_translation(false)),
        ),
    ]
}

const PROGRAM: &str = r#"(module $program
    (memory 1)
    (func $fib (export "fib") (param i32) (result i32)
        (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
            (then (local.get 0))
            (else (i32.add
                (call $fib (i32.sub (local.get 0) (i32.const 1)))
                (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
    (func $sum (export "sum") (param i32) (result i64) (local i64)
        (block $done
            (loop $next
                (br_if $done (i32.eqz (local.get 0)))
                (local.set 1 (i64.add (local.get 1) (i64.extend_i32_u (local.get 0))))
                (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                (br $next)))
        (local.get 1))
    (func $store (param i32) (i32.store (local.get 0) (i32.const 7)))
    (func (export "via_helper") (param i32) (result i32)
        (call $store (local.get 0))
        (i32.load (local.get 0)))
    (func $never_called (result i32) (i32.const 99)))"#;

fn lazy_and_eager_translation_compute_the_same() -> Result<()> {
    for (mode, engine) in engines() {
        let module = Module::new(&engine, PROGRAM)?;
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
        let fib = instance.get_typed_func::<i32, i32>(&mut store, "fib")?;
        let sum = instance.get_typed_func::<i32, i64>(&mut store, "sum")?;
        let via = instance.get_typed_func::<i32, i32>(&mut store, "via_helper")?;
        assert_eq!(fib.call(&mut store, 20)?, 6765, "{mode}");
        assert_eq!(sum.call(&mut store, 1000)?, 500_500, "{mode}");
        assert_eq!(via.call(&mut store, 8)?, 7, "{mode}");
        // A call that traps in a function translated on that call.
        let err = via.call(&mut store, 65535).expect_err("out of bounds");
        assert_eq!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds), "{mode}");
    }
    Ok(())
}

fn an_invalid_function_that_never_runs_is_refused_at_load() {
    let wat = r#"(module
        (func (export "ok") (result i32) (i32.const 1))
        (func $bad (result i32) (i64.const 1)))"#;
    for (mode, engine) in engines() {
        let err = Module::new(&engine, wat).expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::Invalid, "{mode}: {err}");
        assert!(err.message().contains("type mismatch"), "{mode}: {err}");
        assert!(err.message().contains("offset 0x"), "{mode}: {err}");
    }
}

fn simd_anywhere_is_refused_at_load_in_both_modes() {
    let cases = [
        // In a function that is never called.
        r#"(module (func (drop (v128.const i64x2 0 0))))"#,
        // In code after `unreachable`, which the translator would skip.
        r#"(module (func unreachable (drop (i8x16.splat (i32.const 0)))))"#,
    ];
    for wat in cases {
        for (mode, engine) in engines() {
            let err = Module::new(&engine, wat).expect_err("unsupported");
            assert_eq!(err.kind(), ErrorKind::Unsupported, "{mode}: {err}");
            assert!(err.message().contains("SIMD"), "{mode}: {err}");
            assert!(err.message().contains("offset 0x"), "{mode}: {err}");
        }
    }
}

fn first_calls_racing_on_many_threads_agree() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(&engine, PROGRAM)?;
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| -> Result<(i32, i64)> {
                    let mut store = Store::new(&engine, ());
                    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
                    let fib = instance.get_typed_func::<i32, i32>(&mut store, "fib")?;
                    let sum = instance.get_typed_func::<i32, i64>(&mut store, "sum")?;
                    Ok((fib.call(&mut store, 15)?, sum.call(&mut store, 100)?))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect::<Result<Vec<_>>>()
    })?;
    assert_eq!(results, vec![(610, 5050); 8]);
    Ok(())
}

fn disassembly_translates_on_demand() -> Result<()> {
    let module = Module::new(&common::engine(), PROGRAM)?;
    // Function 4 is `$never_called`.
    let text = module.disassemble(4).expect("a defined function");
    assert!(text.starts_with("func 4:"), "{text}");
    assert!(module.disassemble(5).is_none());
    Ok(())
}

#[test]
fn disassembly_on_the_interpreter() {
    disassembly_translates_on_demand().unwrap();
}

tiers! {
    lazy_and_eager_translation_compute_the_same,
    an_invalid_function_that_never_runs_is_refused_at_load,
    simd_anywhere_is_refused_at_load_in_both_modes,
    first_calls_racing_on_many_threads_agree,
}
