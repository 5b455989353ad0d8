//! Resource limits: a `StoreLimits` limiter caps memory and table growth
//! and entity counts; refused growth is visible to the guest, which goes on.

mod common;

use anyhow::Result;
use tern_engine::{
    Engine, ErrorKind, Instance, Linker, Memory, MemoryType, Module, Store, StoreLimits,
    StoreLimitsBuilder,
};

const PAGE: usize = 64 * 1024;

struct State {
    limits: StoreLimits,
}

fn limited_store(engine: &Engine, limits: StoreLimits) -> Store<State> {
    let mut store = Store::new(engine, State { limits });
    store.limiter(|s| &mut s.limits);
    store
}

const GROWER: &str = r#"(module
    (memory (export "memory") 1)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "size") (result i32) (memory.size))
    (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
    (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
    ;; grows by one page, then keeps computing whatever the answer was
    (func (export "grow_and_continue") (result i32)
        (local $r i32)
        (local.set $r (memory.grow (i32.const 1)))
        (i32.add (i32.mul (local.get $r) (i32.const 10)) (memory.size))))"#;

fn memory_grow_past_the_cap_returns_minus_one() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(&engine, GROWER)?;
    let limits = StoreLimitsBuilder::new().memory_size(3 * PAGE).build();
    let mut store = limited_store(&engine, limits);
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    let size = instance.get_typed_func::<(), i32>(&mut store, "size")?;

    assert_eq!(
        grow.call(&mut store, 1)?,
        1,
        "1 -> 2 pages is within the cap"
    );
    assert_eq!(
        grow.call(&mut store, 2)?,
        -1,
        "2 -> 4 pages is past the cap"
    );
    assert_eq!(
        size.call(&mut store, ())?,
        2,
        "a refused grow changes nothing"
    );
    assert_eq!(
        grow.call(&mut store, 1)?,
        2,
        "2 -> 3 pages reaches the cap exactly"
    );
    assert_eq!(grow.call(&mut store, 1)?, -1);
    assert_eq!(
        grow.call(&mut store, 0)?,
        3,
        "growing by zero always succeeds"
    );
    assert_eq!(size.call(&mut store, ())?, 3);

    // The guest carries on after a refusal.
    let go_on = instance.get_typed_func::<(), i32>(&mut store, "grow_and_continue")?;
    assert_eq!(go_on.call(&mut store, ())?, -10 + 3);

    // The last byte below the cap is usable, the next is out of bounds.
    let store8 = instance.get_typed_func::<(i32, i32), ()>(&mut store, "store")?;
    store8.call(&mut store, ((3 * PAGE - 1) as i32, 0xab))?;
    let err = store8
        .call(&mut store, ((3 * PAGE) as i32, 1))
        .expect_err("one past the end");
    assert_eq!(
        err.trap_code(),
        Some(tern_engine::TrapCode::MemoryOutOfBounds)
    );
    Ok(())
}

fn host_memory_grow_past_the_cap_is_a_limit_error() -> Result<()> {
    let engine = common::engine();
    let limits = StoreLimitsBuilder::new().memory_size(2 * PAGE).build();
    let mut store = limited_store(&engine, limits);
    let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    assert_eq!(memory.grow(&mut store, 1)?, 1);
    let err = memory.grow(&mut store, 1).expect_err("past the cap");
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert_eq!(memory.size(&store), 2);
    Ok(())
}

fn memory_maximum_of_the_type_is_respected_without_a_limiter() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(
        &engine,
        r#"(module (memory 1 3)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 3)?, -1);
    assert_eq!(grow.call(&mut store, 2)?, 1);
    assert_eq!(grow.call(&mut store, 1)?, -1);
    // Far past any possible memory.
    assert_eq!(grow.call(&mut store, -1)?, -1);
    Ok(())
}

fn new_pages_read_as_zero() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(
        &engine,
        r#"(module
            (memory (export "memory") 1)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
            ;; ORs together every byte in [from, to)
            (func (export "or_range") (param $from i32) (param $to i32) (result i32)
                (local $acc i32)
                (block $done
                    (loop $next
                        (br_if $done (i32.ge_u (local.get $from) (local.get $to)))
                        (local.set $acc (i32.or (local.get $acc)
                            (i32.load8_u (local.get $from))))
                        (local.set $from (i32.add (local.get $from) (i32.const 1)))
                        (br $next)))
                (local.get $acc))
            (func (export "fill") (param $from i32) (param $to i32)
                (memory.fill (local.get $from) (i32.const 0xff)
                    (i32.sub (local.get $to) (local.get $from)))))"#,
    )?;
    let limits = StoreLimitsBuilder::new().memory_size(8 * PAGE).build();
    let mut store = limited_store(&engine, limits);
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    let or_range = instance.get_typed_func::<(i32, i32), i32>(&mut store, "or_range")?;
    let fill = instance.get_typed_func::<(i32, i32), ()>(&mut store, "fill")?;
    let memory = instance
        .get_memory(&mut store, "memory")
        .expect("memory export");

    fill.call(&mut store, (0, PAGE as i32))?;
    assert_eq!(
        or_range.call(&mut store, (PAGE as i32 - 4, PAGE as i32))?,
        0xff
    );
    assert_eq!(grow.call(&mut store, 2)?, 1);
    assert_eq!(
        or_range.call(&mut store, (PAGE as i32, 3 * PAGE as i32))?,
        0
    );
    assert!(memory.data(&store)[PAGE..].iter().all(|&b| b == 0));
    assert!(memory.data(&store)[..PAGE].iter().all(|&b| b == 0xff));
    assert_eq!(memory.data_size(&store), 3 * PAGE);

    // Host-side growth also gives zeroed pages.
    memory.data_mut(&mut store)[PAGE..3 * PAGE].fill(0x11);
    assert_eq!(memory.grow(&mut store, 1)?, 3);
    assert!(memory.data(&store)[3 * PAGE..].iter().all(|&b| b == 0));
    assert_eq!(
        or_range.call(&mut store, (3 * PAGE as i32, 4 * PAGE as i32))?,
        0
    );
    Ok(())
}

fn table_growth_is_capped() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(
        &engine,
        r#"(module
            (table $t (export "table") 2 funcref)
            (func (export "grow") (param i32) (result i32)
                (table.grow $t (ref.null func) (local.get 0)))
            (func (export "size") (result i32) (table.size $t)))"#,
    )?;
    let limits = StoreLimitsBuilder::new().table_elements(5).build();
    let mut store = limited_store(&engine, limits);
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    let size = instance.get_typed_func::<(), i32>(&mut store, "size")?;
    assert_eq!(grow.call(&mut store, 4)?, -1, "2 -> 6 is past the cap");
    assert_eq!(grow.call(&mut store, 3)?, 2, "2 -> 5 reaches the cap");
    assert_eq!(grow.call(&mut store, 1)?, -1);
    assert_eq!(size.call(&mut store, ())?, 5);

    let table = instance
        .get_table(&mut store, "table")
        .expect("table export");
    let err = table
        .grow(&mut store, 1, tern_engine::Val::FuncRef(None))
        .expect_err("the host is capped too");
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert_eq!(table.size(&store), 5);
    Ok(())
}

fn initial_memory_past_the_cap_fails_to_instantiate() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(&engine, r#"(module (memory 4))"#)?;
    let limits = StoreLimitsBuilder::new().memory_size(3 * PAGE).build();
    let mut store = limited_store(&engine, limits);
    let err = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .expect_err("4 pages do not fit in 3");
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");

    // A module that fits still instantiates in the same store.
    let small = Module::new(&engine, r#"(module (memory 3))"#)?;
    Linker::new(&engine).instantiate(&mut store, &small)?;
    Ok(())
}

fn initial_table_past_the_cap_fails_to_instantiate() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(&engine, r#"(module (table 100 funcref))"#)?;
    let limits = StoreLimitsBuilder::new().table_elements(10).build();
    let mut store = limited_store(&engine, limits);
    let err = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .expect_err("100 elements do not fit in 10");
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
    Ok(())
}

fn entity_counts_are_capped() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(&engine, r#"(module (memory 1))"#)?;

    let limits = StoreLimitsBuilder::new().instances(2).build();
    let mut store = limited_store(&engine, limits);
    Instance::new(&mut store, &module, &[])?;
    Instance::new(&mut store, &module, &[])?;
    let err = Instance::new(&mut store, &module, &[]).expect_err("a third instance");
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");

    let limits = StoreLimitsBuilder::new().memories(1).build();
    let mut store = limited_store(&engine, limits);
    Instance::new(&mut store, &module, &[])?;
    let err = Instance::new(&mut store, &module, &[]).expect_err("a second memory");
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
    Ok(())
}

fn unlimited_store_grows_freely() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(&engine, GROWER)?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 100)?, 1);
    let load = instance.get_typed_func::<i32, i32>(&mut store, "load")?;
    assert_eq!(load.call(&mut store, (101 * PAGE - 1) as i32)?, 0);
    Ok(())
}

fn huge_tables_are_refused_without_a_limiter() -> anyhow::Result<()> {
    let engine = common::engine();
    // Four billion entries would need 32 GiB of host memory.
    let module = tern_engine::Module::new(&engine, "(module (table 0xffffffff funcref))")?;
    let mut store = tern_engine::Store::new(&engine, ());
    let err = tern_engine::Linker::new(&engine)
        .instantiate(&mut store, &module)
        .expect_err("a 4-billion-entry table must be refused");
    assert_eq!(err.kind(), tern_engine::ErrorKind::Limit);
    let module = tern_engine::Module::new(
        &engine,
        r#"(module (table 0 funcref)
             (func (export "grow") (result i32)
               (table.grow (ref.null func) (i32.const 0x7fffffff))))"#,
    )?;
    let instance = tern_engine::Linker::new(&engine).instantiate(&mut store, &module)?;
    let grow = instance.get_typed_func::<(), i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, ())?, -1);
    Ok(())
}

tiers! {
    memory_grow_past_the_cap_returns_minus_one,
    host_memory_grow_past_the_cap_is_a_limit_error,
    memory_maximum_of_the_type_is_respected_without_a_limiter,
    new_pages_read_as_zero,
    table_growth_is_capped,
    initial_memory_past_the_cap_fails_to_instantiate,
    initial_table_past_the_cap_fails_to_instantiate,
    entity_counts_are_capped,
    unlimited_store_grows_freely,
    huge_tables_are_refused_without_a_limiter,
}
