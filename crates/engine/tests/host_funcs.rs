//! Host functions: typed closures with and without a `Caller`, host state,
//! the caller's memory, errors raised by the host, untyped `Val` functions,
//! functions over raw bits, multi-value results and host code that calls
//! back into Wasm.

mod common;

use anyhow::Result;
use std::fmt;
use tern_engine::{
    Caller, Engine, Error, ErrorKind, Extern, Func, FuncType, Instance, Linker, Module,
    RegisteredFuncType, Store, TrapCode, Val, ValType,
};

/// A custom error a host function fails with, recovered by `downcast_ref`.
#[derive(Debug, PartialEq)]
struct ExitCode(i32);

impl fmt::Display for ExitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "guest exited with code {}", self.0)
    }
}

impl std::error::Error for ExitCode {}

fn linker_func_wrap_without_caller() -> Result<()> {
    let engine = common::engine();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("host", "mul_add", |a: i32, b: i64, c: f64| -> f64 {
        f64::from(a) * b as f64 + c
    })?;
    linker.func_wrap("host", "neg", |x: f32| -x)?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "mul_add" (func $mul_add (param i32 i64 f64) (result f64)))
            (import "host" "neg" (func $neg (param f32) (result f32)))
            (func (export "run") (param i32 i64 f64) (result f64)
                (call $mul_add (local.get 0) (local.get 1) (local.get 2)))
            (func (export "neg") (param f32) (result f32)
                (call $neg (local.get 0))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(i32, i64, f64), f64>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, (3, -4, 0.5))?, -11.5);
    assert_eq!(
        run.call(&mut store, (i32::MAX, 2, 0.0))?,
        f64::from(i32::MAX) * 2.0
    );
    let neg = instance.get_typed_func::<f32, f32>(&mut store, "neg")?;
    assert_eq!(neg.call(&mut store, 1.25)?, -1.25);
    Ok(())
}

fn linker_func_wrap_with_caller_updates_host_state() -> Result<()> {
    let engine = common::engine();
    let mut linker = Linker::<Vec<i32>>::new(&engine);
    linker.func_wrap(
        "host",
        "log",
        |mut caller: Caller<'_, Vec<i32>>, value: i32| {
            caller.data_mut().push(value);
        },
    )?;
    linker.func_wrap("host", "count", |caller: Caller<'_, Vec<i32>>| -> i32 {
        caller.data().len() as i32
    })?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "log" (func $log (param i32)))
            (import "host" "count" (func $count (result i32)))
            (func (export "run") (param $n i32) (result i32)
                (local $i i32)
                (block $done
                    (loop $next
                        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
                        (call $log (i32.mul (local.get $i) (local.get $i)))
                        (local.set $i (i32.add (local.get $i) (i32.const 1)))
                        (br $next)))
                (call $count)))"#,
    )?;
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 5)?, 5);
    assert_eq!(store.data(), &[0, 1, 4, 9, 16]);
    assert_eq!(run.call(&mut store, 2)?, 7);
    assert_eq!(store.into_data(), vec![0, 1, 4, 9, 16, 0, 1]);
    Ok(())
}

fn func_wrap_imports_passed_to_instance_new() -> Result<()> {
    let engine = common::engine();
    let mut store = Store::new(&engine, 0u64);
    let double = Func::wrap(&mut store, |x: u32| x.wrapping_mul(2));
    let add_to_state = Func::wrap(&mut store, |mut caller: Caller<'_, u64>, x: i64| {
        *caller.data_mut() += x as u64;
        *caller.data()
    });
    assert_eq!(
        double.ty(&store),
        FuncType::new([ValType::I32], [ValType::I32])
    );
    let module = Module::new(
        &engine,
        r#"(module
            (import "" "double" (func $double (param i32) (result i32)))
            (import "" "add" (func $add (param i64) (result i64)))
            (func (export "run") (param i32) (result i64)
                (call $add (i64.extend_i32_u (call $double (local.get 0))))))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[double.into(), add_to_state.into()])?;
    let run = instance.get_typed_func::<i32, i64>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 21)?, 42);
    assert_eq!(run.call(&mut store, 1)?, 44);
    assert_eq!(*store.data(), 44);
    // A host function can also be called directly, without any Wasm.
    let typed = double.typed::<u32, u32>(&store)?;
    assert_eq!(typed.call(&mut store, 0x8000_0001)?, 2);
    Ok(())
}

fn host_function_reads_and_writes_caller_memory() -> Result<()> {
    let engine = common::engine();
    let mut linker = Linker::<String>::new(&engine);
    // Upper-cases `len` bytes at `ptr` in place and remembers the text.
    linker.func_wrap(
        "host",
        "shout",
        |mut caller: Caller<'_, String>, ptr: u32, len: u32| -> tern_engine::Result<u32> {
            let memory = caller
                .get_export("memory")
                .and_then(Extern::into_memory)
                .ok_or_else(|| Error::msg("the caller exports no memory"))?;
            let (ptr, len) = (ptr as usize, len as usize);
            let bytes = memory
                .data_mut(&mut caller)
                .get_mut(ptr..ptr + len)
                .ok_or_else(|| Error::msg("string out of bounds"))?;
            bytes.make_ascii_uppercase();
            let text = String::from_utf8_lossy(bytes).into_owned();
            *caller.data_mut() = text;
            Ok(len as u32)
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "shout" (func $shout (param i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "hello, tern")
            (func (export "run") (result i32)
                (drop (call $shout (i32.const 16) (i32.const 11)))
                ;; the guest sees the host's write: returns the first byte
                (i32.load8_u (i32.const 16))))"#,
    )?;
    let mut store = Store::new(&engine, String::new());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, ())?, i32::from(b'H'));
    assert_eq!(store.data(), "HELLO, TERN");
    let memory = instance
        .get_memory(&mut store, "memory")
        .expect("memory export");
    assert_eq!(&memory.data(&store)[16..27], b"HELLO, TERN");
    Ok(())
}

fn caller_get_export_is_none_for_missing_exports() -> Result<()> {
    let engine = common::engine();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("host", "probe", |mut caller: Caller<'_, ()>| -> i32 {
        let memory = caller.get_export("memory").is_some();
        let missing = caller.get_export("no-such-export").is_some();
        i32::from(memory) * 2 + i32::from(missing)
    })?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "probe" (func $probe (result i32)))
            (func (export "run") (result i32) (call $probe)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    assert_eq!(
        run.call(&mut store, ())?,
        0,
        "no memory export, no such export"
    );
    Ok(())
}

const CALLS_FAIL: &str = r#"(module
    (import "host" "fail" (func $fail (param i32) (result i32)))
    (global $after (export "after") (mut i32) (i32.const 0))
    (func (export "run") (param i32) (result i32)
        (local $r i32)
        (local.set $r (call $fail (local.get 0)))
        ;; not reached when the host fails
        (global.set $after (i32.const 1))
        (local.get $r)))"#;

fn host_error_msg_is_a_host_error_of_the_guest_call() -> Result<()> {
    let engine = common::engine();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("host", "fail", |x: i32| -> tern_engine::Result<i32> {
        if x < 0 {
            Err(Error::msg(format!("negative input {x}")))
        } else {
            Ok(x + 1)
        }
    })?;
    let module = Module::new(&engine, CALLS_FAIL)?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    let after = instance
        .get_global(&mut store, "after")
        .expect("global export");

    let err = run
        .call(&mut store, -3)
        .expect_err("the host function fails");
    assert_eq!(err.kind(), ErrorKind::Host);
    assert_eq!(err.trap_code(), None);
    assert!(err.message().contains("negative input -3"), "{err}");
    assert!(err.downcast_ref::<ExitCode>().is_none());
    assert_eq!(
        after.get(&store),
        Val::I32(0),
        "the guest stopped at the failure"
    );

    // The store stays usable.
    assert_eq!(run.call(&mut store, 41)?, 42);
    assert_eq!(after.get(&store), Val::I32(1));
    Ok(())
}

fn host_error_new_keeps_the_custom_error() -> Result<()> {
    let engine = common::engine();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("host", "fail", |code: i32| -> tern_engine::Result<i32> {
        Err(Error::new(ExitCode(code)))
    })?;
    let module = Module::new(&engine, CALLS_FAIL)?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;

    let err = run
        .call(&mut store, 7)
        .expect_err("the host function fails");
    assert_eq!(err.kind(), ErrorKind::Host);
    assert_eq!(err.downcast_ref::<ExitCode>(), Some(&ExitCode(7)));
    assert!(
        err.to_string().contains("guest exited with code 7"),
        "{err}"
    );

    // The error also converts into anyhow and back.
    let any: anyhow::Error = err.into();
    let inner = any.downcast_ref::<Error>().expect("a tern error");
    assert_eq!(inner.downcast_ref::<ExitCode>(), Some(&ExitCode(7)));
    Ok(())
}

fn host_error_unwinds_nested_wasm_frames() -> Result<()> {
    let engine = common::engine();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("host", "fail", || -> tern_engine::Result<()> {
        Err(Error::new(ExitCode(3)))
    })?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "fail" (func $fail))
            (func $deep (param i32)
                (if (local.get 0)
                    (then (call $deep (i32.sub (local.get 0) (i32.const 1))))
                    (else (call $fail))))
            (func (export "run") (param i32) (call $deep (local.get 0)))
            (func (export "ok") (result i32) (i32.const 5)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, ()>(&mut store, "run")?;
    let err = run
        .call(&mut store, 50)
        .expect_err("the host function fails");
    assert_eq!(err.downcast_ref::<ExitCode>(), Some(&ExitCode(3)));
    let ok = instance.get_typed_func::<(), i32>(&mut store, "ok")?;
    assert_eq!(ok.call(&mut store, ())?, 5);
    Ok(())
}

fn func_new_with_vals() -> Result<()> {
    let engine = common::engine();
    let mut store = Store::new(&engine, ());
    let ty = FuncType::new(
        [ValType::I32, ValType::I64, ValType::F32, ValType::F64],
        [ValType::F64, ValType::I32],
    );
    let sum = Func::new(&mut store, ty.clone(), |_caller, params, results| {
        let a = params[0]
            .i32()
            .ok_or_else(|| Error::msg("param 0 is not i32"))?;
        let b = params[1]
            .i64()
            .ok_or_else(|| Error::msg("param 1 is not i64"))?;
        let c = params[2]
            .f32()
            .ok_or_else(|| Error::msg("param 2 is not f32"))?;
        let d = params[3]
            .f64()
            .ok_or_else(|| Error::msg("param 3 is not f64"))?;
        results[0] = Val::from(f64::from(a) + b as f64 + f64::from(c) + d);
        results[1] = Val::I32(params.len() as i32);
        Ok(())
    });
    assert_eq!(sum.ty(&store), ty);

    // Called from the host with `Val`s.
    let mut results = [Val::I32(0), Val::I32(0)];
    sum.call(
        &mut store,
        &[
            Val::I32(1),
            Val::I64(2),
            Val::from(0.5f32),
            Val::from(0.25f64),
        ],
        &mut results,
    )?;
    assert_eq!(results[0].f64(), Some(3.75));
    assert_eq!(results[1], Val::I32(4));

    // Called from Wasm.
    let module = Module::new(
        &engine,
        r#"(module
            (import "" "sum" (func $sum (param i32 i64 f32 f64) (result f64 i32)))
            (func (export "run") (result f64)
                (call $sum (i32.const -1) (i64.const 10) (f32.const 1.5) (f64.const 0.5))
                (drop)))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[sum.into()])?;
    let run = instance.get_typed_func::<(), f64>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, ())?, 11.0);

    // Wrong argument types are refused before the call.
    let err = sum
        .call(
            &mut store,
            &[Val::I64(1), Val::I64(2), Val::F32(0), Val::F64(0)],
            &mut results,
        )
        .expect_err("a parameter of the wrong type");
    assert_eq!(err.kind(), ErrorKind::Usage);
    let err = sum
        .call(&mut store, &[Val::I32(1)], &mut results)
        .expect_err("too few parameters");
    assert_eq!(err.kind(), ErrorKind::Usage);
    Ok(())
}

fn func_new_raw_over_bits() -> Result<()> {
    let engine = common::engine();
    let mut store = Store::new(&engine, ());
    let ty = FuncType::new(
        [ValType::I32, ValType::I64, ValType::F32],
        [ValType::I32, ValType::F32, ValType::I64, ValType::F64],
    );
    let raw = Func::new_raw(&mut store, ty.clone(), |_caller, slots| {
        assert!(slots.len() >= 4, "a slot for every result");
        let (a, b, c) = (
            slots[0] as u32 as i32,
            slots[1] as i64,
            f32::from_bits(slots[2] as u32),
        );
        // High halves left set on 32-bit results are not part of them.
        slots[0] = (u64::MAX << 32) | u64::from((a - 1) as u32);
        slots[1] = (u64::MAX << 32) | u64::from((c * 2.0).to_bits());
        slots[2] = (b * 3) as u64;
        slots[3] = f64::from(a).to_bits();
        Ok(())
    })?;
    assert_eq!(raw.ty(&store), ty);

    let module = Module::new(
        &engine,
        r#"(module
            (import "" "raw" (func $raw (param i32 i64 f32) (result i32 f32 i64 f64)))
            (func (export "run") (result i64)
                (local $f f64) (local $x i64) (local $g f32) (local $i i32)
                (call $raw (i32.const -5) (i64.const 7) (f32.const 1.5))
                (local.set $f) (local.set $x) (local.set $g) (local.set $i)
                ;; The 32-bit results read back unsigned as they were written.
                (if (i64.ne (i64.extend_i32_u (local.get $i)) (i64.const 0xffff_fffa))
                    (then unreachable))
                (if (f32.ne (local.get $g) (f32.const 3)) (then unreachable))
                (if (f64.ne (local.get $f) (f64.const -5)) (then unreachable))
                (local.get $x)))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[raw.into()])?;
    let run = instance.get_typed_func::<(), i64>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, ())?, 21);

    // Called from the host, as any function.
    let mut results = [Val::I32(0), Val::F32(0), Val::I64(0), Val::F64(0)];
    raw.call(
        &mut store,
        &[Val::I32(10), Val::I64(-1), Val::from(0.25f32)],
        &mut results,
    )?;
    assert_eq!(results[0], Val::I32(9));
    assert_eq!(results[1].f32(), Some(0.5));
    assert_eq!(results[2], Val::I64(-3));

    // Reference bits are the store's: no raw function takes or returns them.
    let err = Func::new_raw(
        &mut store,
        FuncType::new([ValType::I32], [ValType::ExternRef]),
        |_, _| Ok(()),
    )
    .expect_err("a reference result");
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert!(err.to_string().contains("externref"), "{err}");
    Ok(())
}

/// A type registered once makes host functions in every store of its
/// engine, and in no other engine's.
fn func_new_raw_registered_across_stores() -> Result<()> {
    let engine = common::engine();
    let ty = RegisteredFuncType::new(&engine, FuncType::new([ValType::I32], [ValType::I32]))?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "" "inc" (func $inc (param i32) (result i32)))
            (func (export "run") (param i32) (result i32) (call $inc (local.get 0))))"#,
    )?;
    for n in [1, 41] {
        let mut store = Store::new(&engine, ());
        let inc = Func::new_raw_registered(&mut store, &ty, |_, slots| {
            slots[0] = u64::from((slots[0] as u32).wrapping_add(1)) | (u64::MAX << 32);
            Ok(())
        })?;
        assert_eq!(inc.ty(&store), *ty.ty());
        let instance = Instance::new(&mut store, &module, &[inc.into()])?;
        let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
        assert_eq!(run.call(&mut store, n)?, n + 1);
    }
    let other = Engine::default();
    let mut store = Store::new(&other, ());
    let err = Func::new_raw_registered(&mut store, &ty, |_, _| Ok(())).expect_err("another engine");
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert!(
        RegisteredFuncType::new(&engine, FuncType::new([ValType::FuncRef], [])).is_err(),
        "no reference types"
    );
    Ok(())
}

fn func_new_result_of_wrong_type_is_a_host_error() -> Result<()> {
    let engine = common::engine();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_new(
        "host",
        "liar",
        FuncType::new([], [ValType::I32]),
        |_caller, _params, results| {
            results[0] = Val::I64(1);
            Ok(())
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "liar" (func $liar (result i32)))
            (func (export "run") (result i32) (call $liar)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    let err = run
        .call(&mut store, ())
        .expect_err("the host returned an i64");
    assert_eq!(err.kind(), ErrorKind::Host);
    assert!(err.message().contains("i64"), "{err}");
    Ok(())
}

fn multi_value_results() -> Result<()> {
    let engine = common::engine();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("host", "divmod", |a: i32, b: i32| -> (i32, i32, i64) {
        (a / b, a % b, i64::from(a) * i64::from(b))
    })?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "divmod" (func $divmod (param i32 i32) (result i32 i32 i64)))
            (func (export "swap") (param i32 i32) (result i32 i32)
                (local.get 1) (local.get 0))
            (func (export "divmod") (param i32 i32) (result i64 i32 i32)
                (local $q i32) (local $r i32) (local $p i64)
                (call $divmod (local.get 0) (local.get 1))
                (local.set $p) (local.set $r) (local.set $q)
                (local.get $p) (local.get $q) (local.get $r))
            (func (export "many") (result i32 i64 f32 f64 i32)
                (i32.const 1) (i64.const 2) (f32.const 3) (f64.const 4) (i32.const 5)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;

    let swap = instance.get_typed_func::<(i32, i32), (i32, i32)>(&mut store, "swap")?;
    assert_eq!(swap.call(&mut store, (1, 2))?, (2, 1));

    let divmod = instance.get_typed_func::<(i32, i32), (i64, i32, i32)>(&mut store, "divmod")?;
    assert_eq!(divmod.call(&mut store, (17, 5))?, (85, 3, 2));

    let many = instance.get_typed_func::<(), (i32, i64, f32, f64, i32)>(&mut store, "many")?;
    assert_eq!(many.call(&mut store, ())?, (1, 2, 3.0, 4.0, 5));

    // The same through untyped calls.
    let f = instance.get_func(&mut store, "swap").expect("swap export");
    let mut results = [Val::I32(0), Val::I32(0)];
    f.call(&mut store, &[Val::I32(-7), Val::I32(9)], &mut results)?;
    assert_eq!(results, [Val::I32(9), Val::I32(-7)]);

    // A typed view of the wrong shape is refused.
    let err = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "swap")
        .expect_err("wrong result arity");
    assert_eq!(err.kind(), ErrorKind::Usage);
    Ok(())
}

fn host_function_reenters_wasm() -> Result<()> {
    let engine = common::engine();
    let mut linker = Linker::<Vec<i32>>::new(&engine);
    // Calls the guest's `square` export from inside a host function.
    linker.func_wrap(
        "host",
        "square_via_guest",
        |mut caller: Caller<'_, Vec<i32>>, x: i32| -> tern_engine::Result<i32> {
            let square = caller
                .get_export("square")
                .and_then(Extern::into_func)
                .ok_or_else(|| Error::msg("no `square` export"))?
                .typed::<i32, i32>(&caller)?;
            let y = square.call(&mut caller, x)?;
            caller.data_mut().push(y);
            Ok(y + 1)
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "square_via_guest" (func $sq (param i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "square") (param i32) (result i32)
                ;; touches memory, so a broken re-entry would show
                (i32.store (i32.const 0) (i32.mul (local.get 0) (local.get 0)))
                (i32.load (i32.const 0)))
            (func (export "run") (param i32) (result i32)
                (i32.add (call $sq (local.get 0)) (i32.load (i32.const 0)))))"#,
    )?;
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 6)?, 37 + 36);
    assert_eq!(run.call(&mut store, -3)?, 10 + 9);
    assert_eq!(store.data(), &[36, 9]);
    Ok(())
}

/// Wasm `countdown(n)` calls the host with `n - 1`, which calls `countdown`
/// again: host and Wasm frames interleave `n` deep.
fn ping_pong(engine: &Engine) -> Result<(Store<u32>, Instance)> {
    let mut linker = Linker::<u32>::new(engine);
    linker.func_wrap(
        "host",
        "pong",
        |mut caller: Caller<'_, u32>, n: i32| -> tern_engine::Result<i32> {
            *caller.data_mut() += 1;
            let countdown = caller
                .get_export("countdown")
                .and_then(Extern::into_func)
                .ok_or_else(|| Error::msg("no `countdown` export"))?
                .typed::<i32, i32>(&caller)?;
            countdown.call(&mut caller, n)
        },
    )?;
    let module = Module::new(
        engine,
        r#"(module
            (import "host" "pong" (func $pong (param i32) (result i32)))
            (func (export "countdown") (param i32) (result i32)
                (if (result i32) (i32.eqz (local.get 0))
                    (then (i32.const 0))
                    (else (i32.add (i32.const 1)
                        (call $pong (i32.sub (local.get 0) (i32.const 1))))))))"#,
    )?;
    let mut store = Store::new(engine, 0);
    let instance = linker.instantiate(&mut store, &module)?;
    Ok((store, instance))
}

fn wasm_sees_memory_a_host_function_grew() -> Result<()> {
    let engine = common::engine();
    let mut linker = Linker::<()>::new(&engine);
    // Grows the caller's memory by a page and writes into the new page.
    linker.func_wrap(
        "host",
        "grow",
        |mut caller: Caller<'_, ()>| -> tern_engine::Result<u32> {
            let memory = caller
                .get_export("memory")
                .and_then(Extern::into_memory)
                .ok_or_else(|| Error::msg("the caller exports no memory"))?;
            let old = memory.grow(&mut caller, 1)?;
            let at = (old as usize) * 65536 + 8;
            memory.data_mut(&mut caller)[at] = 42;
            Ok(at as u32)
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "grow" (func $grow (result i32)))
            (memory (export "memory") 1)
            (func (export "run") (result i32)
                (i32.add (i32.load8_u (call $grow)) (memory.size))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    // The load lies in the page the host added, and `memory.size` counts it.
    assert_eq!(run.call(&mut store, ())?, 42 + 2);
    assert_eq!(run.call(&mut store, ())?, 42 + 3);
    Ok(())
}

fn host_and_wasm_interleave_deeply() -> Result<()> {
    let engine = common::engine();
    let (mut store, instance) = ping_pong(&engine)?;
    let countdown = instance.get_typed_func::<i32, i32>(&mut store, "countdown")?;
    assert_eq!(countdown.call(&mut store, 100)?, 100);
    assert_eq!(*store.data(), 100);
    Ok(())
}

fn too_deep_host_reentry_is_a_stack_overflow_not_a_crash() -> Result<()> {
    let engine = common::engine();
    let (mut store, instance) = ping_pong(&engine)?;
    let countdown = instance.get_typed_func::<i32, i32>(&mut store, "countdown")?;
    let err = countdown
        .call(&mut store, 100_000)
        .expect_err("nesting is bounded");
    assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow), "{err:?}");
    // The store recovers.
    assert_eq!(countdown.call(&mut store, 3)?, 3);
    Ok(())
}

fn a_host_panic_reaches_the_caller_and_the_store_goes_on() -> Result<()> {
    let engine = common::engine();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("host", "check", |x: i32| -> i32 {
        assert!(x != 7, "the host refuses 7");
        x + 1
    })?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "check" (func $check (param i32) (result i32)))
            (func (export "run") (param i32) (result i32)
                (i32.mul (call $check (local.get 0)) (i32.const 2))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    for _ in 0..3 {
        // The panic comes through compiled or interpreted frames alike,
        // with its payload, on the caller's side.
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run.call(&mut store, 7)));
        let payload = caught.expect_err("the host function panicked");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"the host refuses 7"));
        // The store takes plain and resumable calls afterwards.
        assert_eq!(run.call(&mut store, 1)?, 4);
        match run.call_resumable(&mut store, 2)? {
            tern_engine::CallState::Done(v) => assert_eq!(v, 6),
            tern_engine::CallState::Suspended(_) => panic!("nothing suspends"),
        }
    }
    Ok(())
}

tiers! {
    a_host_panic_reaches_the_caller_and_the_store_goes_on,
    linker_func_wrap_without_caller,
    linker_func_wrap_with_caller_updates_host_state,
    func_wrap_imports_passed_to_instance_new,
    host_function_reads_and_writes_caller_memory,
    caller_get_export_is_none_for_missing_exports,
    host_error_msg_is_a_host_error_of_the_guest_call,
    host_error_new_keeps_the_custom_error,
    host_error_unwinds_nested_wasm_frames,
    func_new_with_vals,
    func_new_raw_over_bits,
    func_new_raw_registered_across_stores,
    func_new_result_of_wrong_type_is_a_host_error,
    multi_value_results,
    host_function_reenters_wasm,
    wasm_sees_memory_a_host_function_grew,
    host_and_wasm_interleave_deeply,
    too_deep_host_reentry_is_a_stack_overflow_not_a_crash,
}
