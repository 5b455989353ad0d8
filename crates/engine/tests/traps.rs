//! Traps: every trap a guest can cause reaches the host as its `TrapCode`,
//! with a backtrace of function names from the name section.

mod common;

use anyhow::Result;
use tern_engine::{Engine, ErrorKind, Instance, Linker, Module, Store, TrapCode};

const TRAPS: &str = r#"(module $traps
    (type $unary (func (param i32) (result i32)))
    (type $nullary (func))
    (memory 1)
    (table $t 2 funcref)
    (elem (table $t) (i32.const 0) func $id)
    (func $id (type $unary) (local.get 0))

    (func (export "unreachable") unreachable)
    (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
    (func (export "store") (param i32) (i32.store (local.get 0) (i32.const 1)))
    (func (export "load64_offset") (param i32) (result i64)
        (i64.load offset=65520 (local.get 0)))
    (func (export "memory_fill") (param i32 i32) (memory.fill (local.get 0) (i32.const 0) (local.get 1)))
    (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
    (func (export "div_u") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
    (func (export "rem_s") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
    (func (export "rem_u64") (param i64 i64) (result i64) (i64.rem_u (local.get 0) (local.get 1)))
    (func (export "div_s64") (param i64 i64) (result i64) (i64.div_s (local.get 0) (local.get 1)))
    (func (export "trunc_f32_s") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
    (func (export "trunc_f64_u") (param f64) (result i64) (i64.trunc_f64_u (local.get 0)))
    (func (export "trunc_sat") (param f64) (result i32) (i32.trunc_sat_f64_s (local.get 0)))
    (func (export "call_unary") (param i32 i32) (result i32)
        (call_indirect $t (type $unary) (local.get 1) (local.get 0)))
    (func (export "call_nullary") (param i32)
        (call_indirect $t (type $nullary) (local.get 0)))
    (func (export "table_get") (param i32) (result funcref) (table.get $t (local.get 0)))
    (func $forever (export "recurse") (call $forever)))"#;

fn instance(engine: &Engine) -> Result<(Store<()>, Instance)> {
    let module = Module::new(engine, TRAPS)?;
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine).instantiate(&mut store, &module)?;
    Ok((store, instance))
}

/// Asserts that `result` is a trap with `code`, of kind `Trap`, whose
/// message is the code's.
fn assert_trap<T: std::fmt::Debug>(result: tern_engine::Result<T>, code: TrapCode) {
    let err = result.expect_err("expected a trap");
    assert_eq!(err.kind(), ErrorKind::Trap, "{err:?}");
    assert_eq!(err.trap_code(), Some(code), "{err:?}");
    assert!(err.message().contains(code.message()), "{err:?}");
}

fn unreachable() -> Result<()> {
    let (mut store, instance) = instance(&common::engine())?;
    let f = instance.get_typed_func::<(), ()>(&mut store, "unreachable")?;
    assert_trap(f.call(&mut store, ()), TrapCode::UnreachableCodeReached);
    Ok(())
}

fn memory_out_of_bounds() -> Result<()> {
    let (mut store, instance) = instance(&common::engine())?;
    let load = instance.get_typed_func::<i32, i32>(&mut store, "load")?;
    let store32 = instance.get_typed_func::<i32, ()>(&mut store, "store")?;
    let load64 = instance.get_typed_func::<i32, i64>(&mut store, "load64_offset")?;
    let fill = instance.get_typed_func::<(i32, i32), ()>(&mut store, "memory_fill")?;

    assert_eq!(
        load.call(&mut store, 65532)?,
        0,
        "the last word is in bounds"
    );
    assert_trap(load.call(&mut store, 65533), TrapCode::MemoryOutOfBounds);
    assert_trap(load.call(&mut store, -1), TrapCode::MemoryOutOfBounds);
    assert_trap(store32.call(&mut store, 65536), TrapCode::MemoryOutOfBounds);
    // The static offset counts (65520 + 9 + 8 > 65536), without wrap-around.
    assert_eq!(load64.call(&mut store, 8)?, 0);
    assert_trap(load64.call(&mut store, 9), TrapCode::MemoryOutOfBounds);
    assert_trap(load64.call(&mut store, -65520), TrapCode::MemoryOutOfBounds);
    assert_trap(
        fill.call(&mut store, (65000, 1000)),
        TrapCode::MemoryOutOfBounds,
    );
    fill.call(&mut store, (65536, 0))?;
    Ok(())
}

fn integer_division_by_zero_and_overflow() -> Result<()> {
    let (mut store, instance) = instance(&common::engine())?;
    let div_s = instance.get_typed_func::<(i32, i32), i32>(&mut store, "div_s")?;
    let div_u = instance.get_typed_func::<(i32, i32), i32>(&mut store, "div_u")?;
    let rem_s = instance.get_typed_func::<(i32, i32), i32>(&mut store, "rem_s")?;
    let rem_u64 = instance.get_typed_func::<(i64, i64), i64>(&mut store, "rem_u64")?;
    let div_s64 = instance.get_typed_func::<(i64, i64), i64>(&mut store, "div_s64")?;

    assert_eq!(div_s.call(&mut store, (-7, 2))?, -3);
    assert_trap(
        div_s.call(&mut store, (1, 0)),
        TrapCode::IntegerDivisionByZero,
    );
    assert_trap(
        div_u.call(&mut store, (1, 0)),
        TrapCode::IntegerDivisionByZero,
    );
    assert_trap(
        rem_s.call(&mut store, (1, 0)),
        TrapCode::IntegerDivisionByZero,
    );
    assert_trap(
        rem_u64.call(&mut store, (1, 0)),
        TrapCode::IntegerDivisionByZero,
    );

    assert_trap(
        div_s.call(&mut store, (i32::MIN, -1)),
        TrapCode::IntegerOverflow,
    );
    assert_trap(
        div_s64.call(&mut store, (i64::MIN, -1)),
        TrapCode::IntegerOverflow,
    );
    // The remainder of the same division is defined.
    assert_eq!(rem_s.call(&mut store, (i32::MIN, -1))?, 0);
    Ok(())
}

fn bad_conversion_to_integer() -> Result<()> {
    let (mut store, instance) = instance(&common::engine())?;
    let trunc32 = instance.get_typed_func::<f32, i32>(&mut store, "trunc_f32_s")?;
    let trunc64 = instance.get_typed_func::<f64, i64>(&mut store, "trunc_f64_u")?;
    let sat = instance.get_typed_func::<f64, i32>(&mut store, "trunc_sat")?;

    assert_eq!(trunc32.call(&mut store, -2.9)?, -2);
    assert_trap(
        trunc32.call(&mut store, f32::NAN),
        TrapCode::BadConversionToInteger,
    );
    assert_trap(
        trunc64.call(&mut store, f64::NAN),
        TrapCode::BadConversionToInteger,
    );
    // Out of range is an overflow, as the specification's tests expect.
    assert_trap(trunc32.call(&mut store, 3e9), TrapCode::IntegerOverflow);
    assert_trap(
        trunc32.call(&mut store, f32::NEG_INFINITY),
        TrapCode::IntegerOverflow,
    );
    assert_eq!(trunc64.call(&mut store, -0.9)?, 0);
    assert_trap(trunc64.call(&mut store, -1.0), TrapCode::IntegerOverflow);
    assert_trap(trunc64.call(&mut store, 1.9e19), TrapCode::IntegerOverflow);
    // The saturating forms never trap.
    assert_eq!(sat.call(&mut store, f64::NAN)?, 0);
    assert_eq!(sat.call(&mut store, 1e300)?, i32::MAX);
    Ok(())
}

fn indirect_calls() -> Result<()> {
    let (mut store, instance) = instance(&common::engine())?;
    let call_unary = instance.get_typed_func::<(i32, i32), i32>(&mut store, "call_unary")?;
    let call_nullary = instance.get_typed_func::<i32, ()>(&mut store, "call_nullary")?;
    let table_get = instance
        .get_func(&mut store, "table_get")
        .expect("table_get export");

    assert_eq!(call_unary.call(&mut store, (0, 42))?, 42, "entry 0 is $id");
    assert_trap(
        call_unary.call(&mut store, (1, 42)),
        TrapCode::IndirectCallToNull,
    );
    assert_trap(call_nullary.call(&mut store, 0), TrapCode::BadSignature);
    assert_trap(
        call_unary.call(&mut store, (2, 42)),
        TrapCode::TableOutOfBounds,
    );
    assert_trap(
        call_unary.call(&mut store, (-1, 42)),
        TrapCode::TableOutOfBounds,
    );

    let mut out = [tern_engine::Val::FuncRef(None)];
    let err = table_get
        .call(&mut store, &[tern_engine::Val::I32(2)], &mut out)
        .expect_err("table.get past the end");
    assert_eq!(err.trap_code(), Some(TrapCode::TableOutOfBounds));
    Ok(())
}

fn stack_overflow() -> Result<()> {
    // A small stack keeps the test fast; `recursion.rs` covers the default.
    let mut config = common::config();
    config.max_wasm_stack(256 * 1024);
    let (mut store, instance) = instance(&Engine::new(&config))?;
    let recurse = instance.get_typed_func::<(), ()>(&mut store, "recurse")?;
    assert_trap(recurse.call(&mut store, ()), TrapCode::StackOverflow);
    Ok(())
}

fn start_function_trap_fails_instantiation() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(
        &engine,
        r#"(module (func $start unreachable) (start $start))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let err = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .expect_err("the start function traps");
    assert_eq!(err.trap_code(), Some(TrapCode::UnreachableCodeReached));
    Ok(())
}

fn active_data_segment_out_of_bounds_fails_instantiation() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(
        &engine,
        r#"(module (memory 1) (data (i32.const 65535) "ab"))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let err = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .expect_err("the segment does not fit");
    assert_eq!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds));
    Ok(())
}

const NAMED: &str = r#"(module $app
    (func $inner (param i32) (result i32)
        (i32.div_u (i32.const 1) (local.get 0)))
    (func $middle (param i32) (result i32)
        (i32.add (call $inner (local.get 0)) (i32.const 1)))
    (func $outer (export "run") (param i32) (result i32)
        (call $middle (local.get 0))))"#;

fn backtrace_names_frames_innermost_first() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(&engine, NAMED)?;
    assert_eq!(module.name(), Some("app"));
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 1)?, 2);

    let err = run.call(&mut store, 0).expect_err("division by zero");
    assert_eq!(err.trap_code(), Some(TrapCode::IntegerDivisionByZero));
    let bt = err.backtrace().expect("a trap has a backtrace");
    let names: Vec<_> = bt.frames().iter().map(|f| f.func_name.as_deref()).collect();
    assert_eq!(names, [Some("inner"), Some("middle"), Some("outer")]);
    let indices: Vec<_> = bt.frames().iter().map(|f| f.func_index).collect();
    assert_eq!(indices, [0, 1, 2]);
    assert!(
        bt.frames()
            .iter()
            .all(|f| f.module_name.as_deref() == Some("app"))
    );

    // `{:#}` prints the backtrace under the message; `{}` does not.
    let plain = err.to_string();
    let alternate = format!("{err:#}");
    assert!(!plain.contains("app!inner"), "{plain}");
    assert!(alternate.contains("integer divide by zero"), "{alternate}");
    let inner = alternate.find("app!inner").expect("inner frame printed");
    let outer = alternate.find("app!outer").expect("outer frame printed");
    assert!(inner < outer, "{alternate}");
    Ok(())
}

fn backtrace_without_names_uses_indices() -> Result<()> {
    let engine = common::engine();
    // A binary without a name section.
    let wasm = wat::parse_str(
        r#"(module
            (func unreachable)
            (func (export "run") (call 0)))"#,
    )?;
    let stripped = strip_custom_sections(&wasm);
    let module = Module::from_binary(&engine, &stripped)?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), ()>(&mut store, "run")?;
    let err = run.call(&mut store, ()).expect_err("unreachable");
    let bt = err.backtrace().expect("a trap has a backtrace");
    let frames: Vec<_> = bt
        .frames()
        .iter()
        .map(|f| (f.func_index, f.func_name.clone()))
        .collect();
    assert_eq!(frames, [(0, None), (1, None)]);
    assert!(format!("{err:#}").contains("<wasm function 0>"), "{err:#}");
    Ok(())
}

fn host_frames_between_wasm_frames_keep_the_trap_code() -> Result<()> {
    let engine = common::engine();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap(
        "host",
        "call_back",
        |mut caller: tern_engine::Caller<'_, ()>| -> tern_engine::Result<()> {
            let f = caller
                .get_export("crash")
                .and_then(tern_engine::Extern::into_func)
                .ok_or_else(|| tern_engine::Error::msg("no crash export"))?;
            f.call(&mut caller, &[], &mut [])
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "call_back" (func $call_back))
            (func $crash (export "crash") (call $deeper))
            (func $deeper unreachable)
            (func (export "run") (call $call_back)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), ()>(&mut store, "run")?;
    for _ in 0..3 {
        let err = run.call(&mut store, ()).expect_err("the call back traps");
        assert_eq!(err.trap_code(), Some(TrapCode::UnreachableCodeReached));
        // The frames of the call back, walked where it trapped.
        let bt = err.backtrace().expect("a trap has a backtrace");
        let names: Vec<_> = bt.frames().iter().map(|f| f.func_name.as_deref()).collect();
        assert_eq!(names[..2], [Some("deeper"), Some("crash")], "{err:#}");
    }
    Ok(())
}

/// Drops every custom section (id 0) from a module binary.
fn strip_custom_sections(wasm: &[u8]) -> Vec<u8> {
    fn leb(bytes: &[u8], pos: &mut usize) -> usize {
        let (mut value, mut shift) = (0usize, 0);
        loop {
            let b = bytes[*pos];
            *pos += 1;
            value |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return value;
            }
            shift += 7;
        }
    }
    let mut out = wasm[..8].to_vec();
    let mut pos = 8;
    while pos < wasm.len() {
        let start = pos;
        let id = wasm[pos];
        pos += 1;
        let len = leb(wasm, &mut pos);
        pos += len;
        if id != 0 {
            out.extend_from_slice(&wasm[start..pos]);
        }
    }
    out
}

tiers! {
    unreachable,
    memory_out_of_bounds,
    integer_division_by_zero_and_overflow,
    bad_conversion_to_integer,
    indirect_calls,
    stack_overflow,
    start_function_trap_fails_instantiation,
    active_data_segment_out_of_bounds_fails_instantiation,
    backtrace_names_frames_innermost_first,
    backtrace_without_names_uses_indices,
    host_frames_between_wasm_frames_keep_the_trap_code,
}
