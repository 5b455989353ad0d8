//! Memory images (`Config::memory_init_cow`): a module's data mapped
//! copy-on-write into each instance's memory instead of copied. Every
//! instance sees the data as the segments would have written it, in order;
//! what one instance writes no other sees; a pooled reservation that held
//! an image hands the next memory zeros; and the mapping is really there
//! (Linux: `/proc/self/maps` names the image file) exactly when an image
//! applies.

mod common;

use anyhow::Result;
use std::sync::Mutex;
use tern_engine::{Config, Engine, Instance, Linker, Module, Store, TypedFunc};

/// The tests here count mappings of the process: one at a time.
static MAPS: Mutex<()> = Mutex::new(());

const PAGE: usize = 64 * 1024;

/// Bytes of the big segment: enough for an image even in a pooled memory.
const BIG: usize = 320 * 1024;

/// A guest with 8 pages, a big segment at page 1, and two small segments
/// in page 0, the second overwriting part of the first; `extra` comes
/// first (imports, segments).
fn guest(extra: &str) -> String {
    let big: String = (0..BIG)
        .map(|i| format!("\\{:02x}", (i * 7 % 251) as u8))
        .collect();
    format!(
        r#"(module
            {extra}
            (memory (export "memory") 8)
            (data (i32.const 0x100) "first-segment")
            (data (i32.const 0x106) "SECOND")
            (data (i32.const {PAGE}) "{big}")
            (func (export "read") (param i32) (result i32) (i32.load8_u (local.get 0)))
            (func (export "write") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#
    )
}

fn expected(at: usize) -> u8 {
    match at {
        0x100..0x106 => b"first-"[at - 0x100],
        0x106..0x10c => b"SECOND"[at - 0x106],
        0x10c..0x10d => b't',
        _ if (PAGE..PAGE + BIG).contains(&at) => ((at - PAGE) * 7 % 251) as u8,
        _ => 0,
    }
}

/// How many mappings of memory images the process has.
fn image_mappings() -> usize {
    if !cfg!(target_os = "linux") {
        return 0;
    }
    std::fs::read_to_string("/proc/self/maps")
        .expect("/proc/self/maps")
        .lines()
        .filter(|l| l.contains("tern-memory-image"))
        .count()
}

fn engine(cow: bool, pooled: usize) -> Engine {
    let mut config: Config = common::config();
    config.memory_init_cow(cow).pooled_memories(pooled);
    Engine::new(&config)
}

struct Guest {
    instance: Instance,
    read: TypedFunc<i32, i32>,
    write: TypedFunc<(i32, i32), ()>,
}

fn instantiate(store: &mut Store<()>, module: &Module) -> Result<Guest> {
    let instance = Linker::new(store.engine()).instantiate(&mut *store, module)?;
    Ok(Guest {
        read: instance.get_typed_func(&mut *store, "read")?,
        write: instance.get_typed_func(&mut *store, "write")?,
        instance,
    })
}

/// Checks the whole initial memory against the segments, from the host.
fn check_contents(store: &mut Store<()>, g: &Guest) {
    let memory = g.instance.get_memory(&mut *store, "memory").unwrap();
    let data = memory.data(store);
    assert_eq!(data.len(), 8 * PAGE);
    for (at, byte) in data.iter().enumerate() {
        assert_eq!(*byte, expected(at), "byte {at:#x}");
    }
}

fn instances_see_the_data_and_not_each_others_writes() -> Result<()> {
    let _maps = MAPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let before = image_mappings();
    let engine = engine(true, 0);
    let module = Module::new(&engine, guest(""))?;
    let mut store = Store::new(&engine, ());
    let a = instantiate(&mut store, &module)?;
    check_contents(&mut store, &a);
    if cfg!(target_os = "linux") {
        assert_eq!(
            image_mappings(),
            before + 1,
            "the data is mapped, not copied"
        );
    }

    // Writes stay with the instance that made them: in the same store, in
    // another, and through pages that were only read before.
    for at in [0x100, PAGE, PAGE + BIG - 1, 7 * PAGE] {
        a.write.call(&mut store, (at as i32, 0xEE))?;
        assert_eq!(a.read.call(&mut store, at as i32)?, 0xEE);
    }
    let b = instantiate(&mut store, &module)?;
    check_contents(&mut store, &b);
    let mut other = Store::new(&engine, ());
    let c = instantiate(&mut other, &module)?;
    check_contents(&mut other, &c);
    c.write.call(&mut other, (PAGE as i32 + 1, 0x11))?;
    assert_eq!(
        b.read.call(&mut store, PAGE as i32 + 1)?,
        i32::from(expected(PAGE + 1))
    );

    // The memory grows past the image as any other.
    let grow: TypedFunc<i32, i32> = a.instance.get_typed_func(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 2)?, 8);
    assert_eq!(a.read.call(&mut store, 9 * PAGE as i32)?, 0);
    assert_eq!(
        a.read.call(&mut store, PAGE as i32 + 2)?,
        i32::from(expected(PAGE + 2))
    );

    drop((store, other));
    if cfg!(target_os = "linux") {
        assert_eq!(
            image_mappings(),
            before,
            "dropped memories unmap their images"
        );
    }
    Ok(())
}

fn without_an_image_the_segments_are_copied_alike() -> Result<()> {
    let _maps = MAPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let before = image_mappings();
    // Turned off, with too little data, and with an offset that is not a
    // constant: the same contents, copied.
    let off = engine(false, 0);
    let module = Module::new(&off, guest(""))?;
    let mut store = Store::new(&off, ());
    let g = instantiate(&mut store, &module)?;
    check_contents(&mut store, &g);
    assert_eq!(image_mappings(), before);

    let on = engine(true, 0);
    let small = Module::new(
        &on,
        r#"(module (memory (export "memory") 1) (data (i32.const 8) "small"))"#,
    )?;
    let mut store = Store::new(&on, ());
    let instance = Linker::new(&on).instantiate(&mut store, &small)?;
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    assert_eq!(&memory.data(&store)[8..13], b"small");
    assert_eq!(image_mappings(), before);

    let mut linker = Linker::new(&on);
    let mut store = Store::new(&on, ());
    let base = tern_engine::Global::new(
        &mut store,
        tern_engine::GlobalType::new(tern_engine::ValType::I32, tern_engine::Mutability::Const),
        tern_engine::Val::I32(0),
    )?;
    linker.define("env", "base", base)?;
    let module = Module::new(
        &on,
        guest(r#"(global $base (import "env" "base") i32) (data (global.get $base) "\00")"#),
    )?;
    let instance = linker.instantiate(&mut store, &module)?;
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    for (at, byte) in memory.data(&store).iter().enumerate() {
        assert_eq!(*byte, expected(at), "byte {at:#x}");
    }
    assert_eq!(image_mappings(), before);
    Ok(())
}

fn data_out_of_bounds_still_traps() -> Result<()> {
    let _maps = MAPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let engine = engine(true, 0);
    let module = Module::new(
        &engine,
        guest(&format!(
            r#"(data (i32.const {}) "past the end")"#,
            8 * PAGE - 3
        )),
    )?;
    let mut store = Store::new(&engine, ());
    let err = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .map(drop)
        .expect_err("a segment past the memory's end");
    assert_eq!(
        err.trap_code(),
        Some(tern_engine::TrapCode::MemoryOutOfBounds),
        "{err}"
    );
    Ok(())
}

fn a_pooled_reservation_forgets_the_image() -> Result<()> {
    let _maps = MAPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let engine = engine(true, 1);
    let imaged = Module::new(&engine, guest(""))?;
    let plain = Module::new(
        &engine,
        r#"(module (memory (export "memory") 8)
            (func (export "read") (param i32) (result i32) (i32.load8_u (local.get 0)))
            (func (export "write") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))"#,
    )?;
    let before = image_mappings();
    for _ in 0..3 {
        let mut store = Store::new(&engine, ());
        let g = instantiate(&mut store, &imaged)?;
        check_contents(&mut store, &g);
        if cfg!(target_os = "linux") {
            assert_eq!(
                image_mappings(),
                before + 1,
                "mapped into the pooled memory"
            );
        }
        let memory = g.instance.get_memory(&mut store, "memory").unwrap();
        let base = memory.data(&store).as_ptr() as usize;
        memory.data_mut(&mut store).fill(0xA5);
        drop(store);

        // The same reservation, all zero for a module without data.
        let mut store = Store::new(&engine, ());
        let g = instantiate(&mut store, &plain)?;
        let memory = g.instance.get_memory(&mut store, "memory").unwrap();
        assert_eq!(memory.data(&store).as_ptr() as usize, base, "reused");
        assert_eq!(image_mappings(), before, "the image left with the memory");
        assert!(memory.data(&store).iter().all(|b| *b == 0));
        assert_eq!(g.read.call(&mut store, PAGE as i32)?, 0);
        g.write.call(&mut store, (PAGE as i32, 7))?;
    }
    Ok(())
}

tiers! {
    instances_see_the_data_and_not_each_others_writes,
    without_an_image_the_segments_are_copied_alike,
    data_out_of_bounds_still_traps,
    a_pooled_reservation_forgets_the_image,
}
