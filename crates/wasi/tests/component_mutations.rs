//! Component loader robustness: corrupted components (the Rust command
//! component and the example plugin, changed at bytes a fixed-seed
//! generator picks) are refused with an error, never a panic, and the ones
//! that still load are instantiated with WASI and run with fuel, so nothing
//! hangs, without a panic either.

#[path = "../../engine/tests/common/mutate.rs"]
mod mutate;

use mutate::{XorShift, mutate};
use tern_component::{Component, Linker, Val};
use tern_engine::{Config, Engine, Store};
use tern_wasi::{OutputBuffer, WasiCtx, WasiCtxBuilder};

const CLI: &[u8] = include_bytes!("../../../guests/wasip2/wasm/cli.wasm");
const PLUGIN: &[u8] = include_bytes!("../../../examples/plugin-host/guest/wasm/plugin.wasm");

/// Loads `bytes`; if they load, instantiates them with WASI and calls
/// every exported function it can (the command's `run`, or functions of
/// no parameters) with fuel. Returns whether the component loaded.
fn try_component(engine: &Engine, bytes: &[u8]) -> bool {
    let Ok(component) = Component::from_binary(engine, bytes) else {
        return false;
    };
    let cx = WasiCtxBuilder::new()
        .args(["cli", "args", "env", "X", "clocks", "random"])
        .stdout(OutputBuffer::new(4096))
        .stderr(OutputBuffer::new(4096))
        .build();
    let mut store = Store::new(engine, cx);
    store.set_fuel(2_000_000).unwrap();
    let mut linker = Linker::new(engine);
    tern_wasi::p2::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx).unwrap();
    let Ok(instance) = linker.instantiate(&mut store, &component) else {
        return true;
    };
    let names: Vec<String> = instance.func_names().collect();
    for name in names {
        let func = instance.get_func(&name).expect("listed");
        let Some(ty) = func.ty() else { continue };
        if !ty.params().is_empty() {
            continue;
        }
        let mut out = vec![Val::Bool(false); usize::from(ty.result().is_some())];
        let _ = func.call(&mut store, &[], &mut out);
    }
    true
}

fn check(name: &str, wasm: &[u8], count: usize, seed: u64) -> usize {
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config);
    assert!(try_component(&engine, wasm), "{name} itself loads");
    let mut rng = XorShift(seed);
    let mut loaded = 0;
    for i in 0..count {
        let (what, bytes) = mutate(&mut rng, wasm);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            try_component(&engine, &bytes)
        }));
        match result {
            Ok(true) => loaded += 1,
            Ok(false) => {}
            Err(_) => {
                let path = std::env::temp_dir().join(format!("tern-{name}-mutation-{i}.wasm"));
                std::fs::write(&path, &bytes).unwrap();
                panic!(
                    "{name} mutation {i} ({what}) panicked; saved to {}",
                    path.display()
                );
            }
        }
    }
    loaded
}

#[test]
fn corrupted_components_are_refused_or_run_without_panics() {
    let loaded = check("cli", CLI, 300, 0xc0_4e17) + check("plugin", PLUGIN, 300, 0x91_0617);
    // Some mutations land in custom sections or data and still load: the
    // run path is exercised too.
    assert!(loaded > 0, "no corrupted component loaded");
}
