//! The linker: imports resolved by name, pre-linked modules instantiated
//! many times, and link errors that name the import.

mod common;

use anyhow::Result;
use tern_engine::{
    Engine, ErrorKind, Global, GlobalType, Linker, Memory, MemoryType, Module, Mutability, Store,
    Val, ValType,
};

const COUNTER: &str = r#"(module
    (import "host" "step" (func $step (result i32)))
    (memory (export "memory") 1)
    (global $calls (mut i32) (i32.const 0))
    (func (export "bump") (result i32)
        (global.set $calls (i32.add (global.get $calls) (call $step)))
        (global.get $calls))
    (func (export "write") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
    (func (export "read") (param i32) (result i32) (i32.load (local.get 0))))"#;

fn counter_linker(engine: &Engine) -> Result<Linker<()>> {
    let mut linker = Linker::new(engine);
    linker.func_wrap("host", "step", || 2i32)?;
    Ok(linker)
}

fn instance_pre_instantiates_many_times_in_fresh_stores() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(&engine, COUNTER)?;
    let pre = counter_linker(&engine)?.instantiate_pre(&module)?;
    assert_eq!(pre.module().exports().count(), 4);
    for i in 0..100 {
        let mut store = Store::new(&engine, ());
        let instance = pre.instantiate(&mut store)?;
        let bump = instance.get_typed_func::<(), i32>(&mut store, "bump")?;
        let read = instance.get_typed_func::<i32, i32>(&mut store, "read")?;
        let write = instance.get_typed_func::<(i32, i32), ()>(&mut store, "write")?;
        // Fresh state every time: globals and memory start over.
        assert_eq!(bump.call(&mut store, ())?, 2, "instance {i}");
        assert_eq!(bump.call(&mut store, ())?, 4, "instance {i}");
        assert_eq!(read.call(&mut store, 64)?, 0, "instance {i}");
        write.call(&mut store, (64, i))?;
        assert_eq!(read.call(&mut store, 64)?, i);
    }
    Ok(())
}

fn instances_do_not_share_memory() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(&engine, COUNTER)?;
    let pre = counter_linker(&engine)?.instantiate_pre(&module)?;

    // Two instances in one store.
    let mut store = Store::new(&engine, ());
    let a = pre.instantiate(&mut store)?;
    let b = pre.instantiate(&mut store)?;
    let write_a = a.get_typed_func::<(i32, i32), ()>(&mut store, "write")?;
    let read_a = a.get_typed_func::<i32, i32>(&mut store, "read")?;
    let read_b = b.get_typed_func::<i32, i32>(&mut store, "read")?;
    write_a.call(&mut store, (128, 0x1234_5678))?;
    assert_eq!(read_a.call(&mut store, 128)?, 0x1234_5678);
    assert_eq!(read_b.call(&mut store, 128)?, 0, "b has its own memory");
    let mem_a = a.get_memory(&mut store, "memory").expect("memory");
    let mem_b = b.get_memory(&mut store, "memory").expect("memory");
    assert_ne!(mem_a, mem_b);
    assert_eq!(mem_a.data(&store)[128..132], 0x1234_5678u32.to_le_bytes());
    assert!(mem_b.data(&store).iter().all(|&x| x == 0));

    // And across stores.
    let mut other = Store::new(&engine, ());
    let c = pre.instantiate(&mut other)?;
    let read_c = c.get_typed_func::<i32, i32>(&mut other, "read")?;
    assert_eq!(read_c.call(&mut other, 128)?, 0, "c has its own memory");
    Ok(())
}

fn missing_import_is_a_link_error_naming_it() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "step" (func (result i32)))
            (import "env" "missing_fn" (func (param i32))))"#,
    )?;
    let linker = counter_linker(&engine)?;
    let mut store = Store::new(&engine, ());
    let err = linker
        .instantiate(&mut store, &module)
        .expect_err("env::missing_fn is not defined");
    assert_eq!(err.kind(), ErrorKind::Link);
    assert!(err.message().contains("env::missing_fn"), "{err}");

    let err = linker
        .instantiate_pre(&module)
        .expect_err("the same, up front");
    assert_eq!(err.kind(), ErrorKind::Link);
    assert!(err.message().contains("env::missing_fn"), "{err}");
    Ok(())
}

fn import_of_the_wrong_type_is_a_link_error() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "step" (func (param i64) (result i32))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let err = counter_linker(&engine)?
        .instantiate(&mut store, &module)
        .expect_err("step takes no parameters");
    assert_eq!(err.kind(), ErrorKind::Link);
    assert!(err.message().contains("host::step"), "{err}");

    // A memory that is too small for the import.
    let module = Module::new(&engine, r#"(module (import "env" "mem" (memory 2)))"#)?;
    let mut linker = Linker::new(&engine);
    let small = Memory::new(&mut store, MemoryType::new(1, None))?;
    linker.define("env", "mem", small)?;
    let err = linker
        .instantiate(&mut store, &module)
        .expect_err("1 page < 2 pages");
    assert_eq!(err.kind(), ErrorKind::Link, "{err}");
    Ok(())
}

fn redefinition_needs_shadowing() -> Result<()> {
    let engine = common::engine();
    let mut linker = counter_linker(&engine)?;
    let err = linker
        .func_wrap("host", "step", || 3i32)
        .expect_err("host::step is taken");
    assert_eq!(err.kind(), ErrorKind::Link);
    assert!(err.message().contains("host::step"), "{err}");

    linker.allow_shadowing(true);
    linker.func_wrap("host", "step", || 5i32)?;
    let module = Module::new(&engine, COUNTER)?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let bump = instance.get_typed_func::<(), i32>(&mut store, "bump")?;
    assert_eq!(bump.call(&mut store, ())?, 5, "the later definition wins");
    Ok(())
}

fn instances_link_to_each_other_by_name() -> Result<()> {
    let engine = common::engine();
    let provider = Module::new(
        &engine,
        r#"(module
            (memory (export "memory") 1)
            (global (export "base") i32 (i32.const 100))
            (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))"#,
    )?;
    let user = Module::new(
        &engine,
        r#"(module
            (import "lib" "memory" (memory 1))
            (import "lib" "base" (global $base i32))
            (import "lib" "peek" (func $peek (param i32) (result i32)))
            (import "env" "scale" (global $scale (mut i32)))
            (func (export "poke_and_peek") (param i32) (result i32)
                (i32.store8 (global.get $base) (local.get 0))
                (i32.mul (call $peek (global.get $base)) (global.get $scale))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let lib = linker.instantiate(&mut store, &provider)?;
    linker.instance(&mut store, "lib", lib)?;
    let scale = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Var),
        Val::I32(3),
    )?;
    linker.define("env", "scale", scale)?;
    let user = linker.instantiate(&mut store, &user)?;
    let f = user.get_typed_func::<i32, i32>(&mut store, "poke_and_peek")?;
    assert_eq!(f.call(&mut store, 7)?, 21);
    scale.set(&mut store, Val::I32(10))?;
    assert_eq!(
        f.call(&mut store, 9)?,
        90,
        "the global is shared, not copied"
    );
    let memory = lib.get_memory(&mut store, "memory").expect("memory");
    assert_eq!(
        memory.data(&store)[100],
        9,
        "the memory is shared, not copied"
    );
    Ok(())
}

fn a_linker_serves_stores_with_separate_host_state() -> Result<()> {
    let engine = common::engine();
    let mut linker = Linker::<i32>::new(&engine);
    linker.func_wrap(
        "host",
        "step",
        |mut caller: tern_engine::Caller<'_, i32>| {
            *caller.data_mut() += 1;
            *caller.data()
        },
    )?;
    let module = Module::new(&engine, COUNTER)?;
    let mut one = Store::new(&engine, 0);
    let mut two = Store::new(&engine, 100);
    let i1 = linker.instantiate(&mut one, &module)?;
    let i2 = linker.instantiate(&mut two, &module)?;
    let b1 = i1.get_typed_func::<(), i32>(&mut one, "bump")?;
    let b2 = i2.get_typed_func::<(), i32>(&mut two, "bump")?;
    assert_eq!(b1.call(&mut one, ())?, 1);
    assert_eq!(b2.call(&mut two, ())?, 101);
    assert_eq!(b1.call(&mut one, ())?, 1 + 2);
    assert_eq!((*one.data(), *two.data()), (2, 101));
    Ok(())
}

tiers! {
    instance_pre_instantiates_many_times_in_fresh_stores,
    instances_do_not_share_memory,
    missing_import_is_a_link_error_naming_it,
    import_of_the_wrong_type_is_a_link_error,
    redefinition_needs_shadowing,
    instances_link_to_each_other_by_name,
    a_linker_serves_stores_with_separate_host_state,
}
