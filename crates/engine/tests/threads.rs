//! Threads: engines, modules, linkers and pre-linked modules are shared
//! between threads; each thread runs guests in a store of its own.

mod common;

use anyhow::Result;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tern_engine::{Caller, Engine, InstancePre, Linker, Module, Store};

fn assert_send_sync<T: Send + Sync>() {}
fn assert_send<T: Send>() {}

fn api_types_are_send_and_sync() {
    assert_send_sync::<Engine>();
    assert_send_sync::<Module>();
    assert_send_sync::<Linker<()>>();
    assert_send_sync::<InstancePre<()>>();
    assert_send_sync::<tern_engine::Error>();
    assert_send::<Store<()>>();
    assert_send::<Store<Vec<String>>>();
}

const FIB: &str = r#"(module
    (memory (export "memory") 1)
    (func $fib (export "fib") (param i32) (result i32)
        (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
            (then (local.get 0))
            (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                           (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
    ;; writes a thread's tag at address 0 and reads it back after some work
    (func (export "tagged") (param $tag i32) (result i32)
        (i32.store (i32.const 0) (local.get $tag))
        (drop (call $fib (i32.const 15)))
        (i32.load (i32.const 0))))"#;

fn fib(n: i32) -> i32 {
    if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
}

fn one_module_many_threads() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(&engine, FIB)?;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let (engine, module) = (&engine, &module);
                s.spawn(move || -> Result<()> {
                    let mut store = Store::new(engine, ());
                    let instance = Linker::new(engine).instantiate(&mut store, module)?;
                    let fib_f = instance.get_typed_func::<i32, i32>(&mut store, "fib")?;
                    let tagged = instance.get_typed_func::<i32, i32>(&mut store, "tagged")?;
                    for i in 0..20 {
                        let n = 10 + (t + i) % 8;
                        assert_eq!(fib_f.call(&mut store, n)?, fib(n), "thread {t}");
                        let tag = t * 1000 + i;
                        assert_eq!(tagged.call(&mut store, tag)?, tag, "thread {t}");
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().expect("a thread panicked"))
    })
}

fn shared_instance_pre_with_host_functions() -> Result<()> {
    let engine = common::engine();
    let calls = Arc::new(AtomicU32::new(0));
    let mut linker = Linker::<u32>::new(&engine);
    let counter = calls.clone();
    linker.func_wrap(
        "host",
        "note",
        move |mut caller: Caller<'_, u32>, v: i32| {
            counter.fetch_add(1, Ordering::Relaxed);
            *caller.data_mut() += v as u32;
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "note" (func $note (param i32)))
            (func (export "run") (param i32) (result i32)
                (call $note (local.get 0))
                (i32.mul (local.get 0) (i32.const 3))))"#,
    )?;
    let pre = linker.instantiate_pre(&module)?;
    std::thread::scope(|s| {
        let handles: Vec<_> = (1..=4u32)
            .map(|t| {
                let pre = &pre;
                let engine = &engine;
                s.spawn(move || -> Result<u32> {
                    let mut store = Store::new(engine, 0u32);
                    let instance = pre.instantiate(&mut store)?;
                    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
                    for _ in 0..10 {
                        assert_eq!(run.call(&mut store, t as i32)?, 3 * t as i32);
                    }
                    Ok(store.into_data())
                })
            })
            .collect();
        for (t, h) in (1..=4u32).zip(handles) {
            let state = h.join().expect("a thread panicked")?;
            assert_eq!(state, 10 * t, "each store has its own host state");
        }
        Ok::<_, anyhow::Error>(())
    })?;
    assert_eq!(calls.load(Ordering::Relaxed), 40);
    Ok(())
}

fn a_store_moves_to_another_thread() -> Result<()> {
    let engine = common::engine();
    let module = Module::new(&engine, FIB)?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    let fib_f = instance.get_typed_func::<i32, i32>(&mut store, "fib")?;
    assert_eq!(fib_f.call(&mut store, 10)?, 55);
    let (mut store, result) = std::thread::spawn(move || {
        let r = fib_f.call(&mut store, 20);
        (store, r)
    })
    .join()
    .expect("the thread panicked");
    assert_eq!(result?, 6765);
    // And back again.
    assert_eq!(fib_f.call(&mut store, 12)?, 144);
    Ok(())
}

tiers! {
    api_types_are_send_and_sync,
    one_module_many_threads,
    shared_instance_pre_with_host_functions,
    a_store_moves_to_another_thread,
}
