//! Pooled memory reservations (`Config::pooled_memories`): a memory created
//! after another was dropped reuses its reservation, and sees none of what
//! the previous one held — neither in its initial pages nor in the pages the
//! previous memory grew into (the CVE-2022-39393 class of bug).

mod common;

use anyhow::Result;
use tern_engine::{Engine, Linker, Module, Store, TypedFunc};

const PAGE: usize = 64 * 1024;

const GUEST: &str = r#"(module
    (memory (export "memory") 1)
    (data (i32.const 16) "initial")
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    ;; the sum of every byte of memory, read by Wasm itself
    (func (export "sum") (result i64)
        (local $i i32) (local $s i64)
        (block $done
            (loop $next
                (br_if $done (i32.ge_u (local.get $i)
                    (i32.mul (memory.size) (i32.const 65536))))
                (local.set $s (i64.add (local.get $s)
                    (i64.load8_u (local.get $i))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $next)))
        (local.get $s)))"#;

struct Run {
    base: usize,
    pages: u64,
    sum_at_start: i64,
    sum_after_grow: i64,
}

/// Instantiates the guest, records what it sees, grows its memory to
/// `grow_to` pages and fills every byte with 0xA5 before the store drops.
fn run(engine: &Engine, module: &Module, grow_to: u32) -> Result<Run> {
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine).instantiate(&mut store, module)?;
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    let grow: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "grow")?;
    let sum: TypedFunc<(), i64> = instance.get_typed_func(&mut store, "sum")?;
    let base = memory.data(&store).as_ptr() as usize;
    let pages = memory.size(&store);
    let sum_at_start = sum.call(&mut store, ())?;
    assert_ne!(grow.call(&mut store, grow_to as i32 - pages as i32)?, -1);
    let sum_after_grow = sum.call(&mut store, ())?;
    memory.data_mut(&mut store).fill(0xA5);
    Ok(Run {
        base,
        pages,
        sum_at_start,
        sum_after_grow,
    })
}

fn reused_memory_shows_nothing_of_the_previous_instance() -> Result<()> {
    // Everything discarded; a kept prefix shorter than what the guest
    // grew to; a kept prefix longer than all of it.
    for keep in [0, 2 * PAGE, 16 * PAGE] {
        let engine = Engine::new(
            common::config()
                .pooled_memories(4)
                .pooled_memory_keep_resident(keep),
        );
        let module = Module::new(&engine, GUEST)?;
        let initial: i64 = b"initial".iter().map(|&b| i64::from(b)).sum();

        let first = run(&engine, &module, 8)?;
        assert_eq!(engine.pooled_memories(), 1, "the dropped memory was kept");
        for _ in 0..3 {
            let next = run(&engine, &module, 8)?;
            assert_eq!(next.base, first.base, "the reservation was reused");
            assert_eq!(next.pages, 1, "the memory starts at its minimum size");
            assert_eq!(
                next.sum_at_start, initial,
                "keep {keep}: only the data segment"
            );
            assert_eq!(
                next.sum_after_grow, initial,
                "keep {keep}: grown pages read zero"
            );
        }
    }
    Ok(())
}

fn reuse_through_the_host_api_reads_zero() -> Result<()> {
    let engine = Engine::new(common::config().pooled_memories(1));
    let module = Module::new(&engine, GUEST)?;
    run(&engine, &module, 4)?;

    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    memory.grow(&mut store, 3)?;
    let data = memory.data(&store);
    assert_eq!(data.len(), 4 * PAGE);
    assert!(data[PAGE..].iter().all(|&b| b == 0));
    assert_eq!(&data[16..23], b"initial");
    Ok(())
}

fn without_pooling_nothing_is_kept() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(&engine, GUEST)?;
    run(&engine, &module, 2)?;
    assert_eq!(engine.pooled_memories(), 0);
    Ok(())
}

tiers! {
    reused_memory_shows_nothing_of_the_previous_instance,
    reuse_through_the_host_api_reads_zero,
    without_pooling_nothing_is_kept,
}
