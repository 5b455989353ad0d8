//! Tern's component runtime against wasmtime's, in the same process, on
//! the same components.
//!
//! - `component/instantiate/<component>/<runtime>`: a fresh store and an
//!   instance from a pre-linked component (`InstancePre`), as a server
//!   does per request. `echo` is the small component below; `plugin` is
//!   the Rust plugin of `examples/plugin-host` (wit-bindgen and std, so
//!   WASI 0.2 is linked too).
//! - `component/host-call/<size>/<runtime>`: one call from a component into
//!   a host function that takes a string and a `list<u8>` and returns both
//!   (lifted out of the guest's memory, lowered back into it through its
//!   `realloc`): `small` passes 16 bytes and 64 bytes, `4k` 16 bytes and
//!   4 KiB. The guest loops; the time is per host call.
//!
//! `tern` is the interpreter tier, `tern-cranelift` the Cranelift tier;
//! wasmtime compiles with Cranelift.
//!
//! `crates/bench/report.sh` prints the ratios.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, SamplingMode, measurement::WallTime};

/// A component importing `echo: func(s: string, l: list<u8>) ->
/// tuple<string, list<u8>>` and exporting `run: func(n: u32, len: u32)`,
/// which calls `echo` `n` times with a 16-byte string and a `len`-byte list.
const ECHO: &str = r#"(component
    (type $r (tuple string (list u8)))
    (import "echo" (func $echo (param "s" string) (param "l" (list u8)) (result $r)))
    (core module $mem
        (memory (export "memory") 1)
        (global $next (mut i32) (i32.const 32768))
        (func (export "realloc") (param i32 i32 i32 i32) (result i32)
            (local $p i32)
            (local.set $p (i32.and
                (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                (i32.sub (i32.const 0) (local.get 2))))
            (global.set $next (i32.add (local.get $p) (local.get 3)))
            (local.get $p))
        (func (export "reset") (global.set $next (i32.const 32768))))
    (core instance $mem (instantiate $mem))
    (core func $echo (canon lower (func $echo)
        (memory (core memory $mem "memory")) (realloc (core func $mem "realloc"))))
    (core module $m
        (import "" "memory" (memory 1))
        (import "" "echo" (func $echo (param i32 i32 i32 i32 i32)))
        (import "" "reset" (func $reset))
        (data (i32.const 0) "hello, component")
        (func (export "run") (param $n i32) (param $len i32)
            (loop $again
                (call $reset)
                (call $echo (i32.const 0) (i32.const 16) (i32.const 1024) (local.get $len)
                    (i32.const 256))
                ;; The host's answer: the string's length, then the list's.
                (if (i32.ne (i32.load (i32.const 260)) (i32.const 16)) (then unreachable))
                (if (i32.ne (i32.load (i32.const 268)) (local.get $len)) (then unreachable))
                (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))
    (core instance $i (instantiate $m (with "" (instance
        (export "memory" (memory $mem "memory"))
        (export "echo" (func $echo))
        (export "reset" (func $mem "reset"))))))
    (func (export "run") (param "n" u32) (param "len" u32)
        (canon lift (core func $i "run"))))"#;

/// [`ECHO`] in the binary format (wasmtime is built without its text
/// parser).
fn echo() -> Vec<u8> {
    wat::parse_str(ECHO).expect("the echo component parses")
}

/// The Rust plugin of `examples/plugin-host`.
const PLUGIN: &[u8] = include_bytes!("../../../examples/plugin-host/guest/wasm/plugin.wasm");

/// Host calls per `run` call: enough to hide the export call itself.
const CALLS: u32 = 1000;

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
}

mod tern {
    use tern_component::{Component, InstancePre, Linker};
    use tern_engine::{Engine, Store};
    use tern_wasi::{WasiCtx, WasiCtxBuilder};

    pub fn echo_pre(engine: &Engine) -> InstancePre<()> {
        let component = Component::new(engine, super::echo()).expect("the echo component");
        let mut linker = Linker::new(engine);
        linker
            .root()
            .func_wrap("echo", |_, (s, l): (String, Vec<u8>)| Ok(((s, l),)))
            .unwrap();
        linker.instantiate_pre(&component).unwrap()
    }

    pub fn plugin_pre(engine: &Engine) -> InstancePre<WasiCtx> {
        let component = Component::new(engine, super::PLUGIN).expect("the plugin");
        let mut linker = Linker::new(engine);
        tern_wasi::p2::add_to_linker(&mut linker, |w: &mut WasiCtx| w).unwrap();
        let mut host = linker.instance("example:plugin/host@0.1.0").unwrap();
        host.func_new("log", |_, _, _| Ok(())).unwrap();
        host.func_wrap("config", |_, (_,): (String,)| Ok((None::<String>,)))
            .unwrap();
        linker.instantiate_pre(&component).unwrap()
    }

    pub fn wasi() -> WasiCtx {
        WasiCtxBuilder::new().build()
    }

    /// An engine on the Cranelift tier, wasmtime's own.
    pub fn cranelift() -> Engine {
        let mut config = tern_engine::Config::new();
        config.strategy(tern_engine::Strategy::Cranelift);
        Engine::new(&config)
    }

    /// Runs `n` host calls of a `len`-byte list on a fresh instance.
    pub fn calls(engine: &Engine, pre: &InstancePre<()>) -> impl FnMut(u32, u32) + use<> {
        let mut store = Store::new(engine, ());
        let instance = pre.instantiate(&mut store).unwrap();
        let run = instance
            .get_func("run")
            .unwrap()
            .typed::<(u32, u32), ()>()
            .unwrap();
        move |n, len| run.call(&mut store, (n, len)).unwrap()
    }
}

mod peer {
    use wasmtime::component::{Component, InstancePre, Linker, ResourceTable};
    use wasmtime::{Engine, Store};
    use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

    pub struct Wasi {
        ctx: WasiCtx,
        table: ResourceTable,
    }

    impl WasiView for Wasi {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            WasiCtxView {
                ctx: &mut self.ctx,
                table: &mut self.table,
            }
        }
    }

    pub fn echo_pre(engine: &Engine) -> InstancePre<()> {
        let component = Component::new(engine, super::echo()).expect("the echo component");
        let mut linker = Linker::new(engine);
        linker
            .root()
            .func_wrap("echo", |_, (s, l): (String, Vec<u8>)| Ok(((s, l),)))
            .unwrap();
        linker.instantiate_pre(&component).unwrap()
    }

    pub fn plugin_pre(engine: &Engine) -> InstancePre<Wasi> {
        let component = Component::new(engine, super::PLUGIN).expect("the plugin");
        let mut linker = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
        let mut host = linker.instance("example:plugin/host@0.1.0").unwrap();
        host.func_new("log", |_, _, _, _| Ok(())).unwrap();
        host.func_wrap("config", |_, (_,): (String,)| Ok((None::<String>,)))
            .unwrap();
        linker.instantiate_pre(&component).unwrap()
    }

    pub fn wasi() -> Wasi {
        Wasi {
            ctx: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        }
    }

    pub fn calls(engine: &Engine, pre: &InstancePre<()>) -> impl FnMut(u32, u32) + use<> {
        let mut store = Store::new(engine, ());
        let instance = pre.instantiate(&mut store).unwrap();
        let run = instance
            .get_typed_func::<(u32, u32), ()>(&mut store, "run")
            .unwrap();
        move |n, len| {
            run.call(&mut store, (n, len)).unwrap();
        }
    }
}

fn instantiate(c: &mut Criterion) {
    let mut group = c.benchmark_group("component/instantiate");
    configure(&mut group);

    let engine = tern_engine::Engine::default();
    let pre = tern::echo_pre(&engine);
    group.bench_function("echo/tern", |b| {
        b.iter(|| {
            let mut store = tern_engine::Store::new(&engine, ());
            black_box(pre.instantiate(&mut store).unwrap());
        });
    });
    let pre = tern::plugin_pre(&engine);
    group.bench_function("plugin/tern", |b| {
        b.iter(|| {
            let mut store = tern_engine::Store::new(&engine, tern::wasi());
            black_box(pre.instantiate(&mut store).unwrap());
        });
    });
    let engine = tern::cranelift();
    let pre = tern::plugin_pre(&engine);
    group.bench_function("plugin/tern-cranelift", |b| {
        b.iter(|| {
            let mut store = tern_engine::Store::new(&engine, tern::wasi());
            black_box(pre.instantiate(&mut store).unwrap());
        });
    });

    let engine = ::wasmtime::Engine::default();
    let pre = peer::echo_pre(&engine);
    group.bench_function("echo/wasmtime", |b| {
        b.iter(|| {
            let mut store = ::wasmtime::Store::new(&engine, ());
            black_box(pre.instantiate(&mut store).unwrap());
        });
    });
    let pre = peer::plugin_pre(&engine);
    group.bench_function("plugin/wasmtime", |b| {
        b.iter(|| {
            let mut store = ::wasmtime::Store::new(&engine, peer::wasi());
            black_box(pre.instantiate(&mut store).unwrap());
        });
    });
    group.finish();
}

fn host_call(c: &mut Criterion) {
    let mut group = c.benchmark_group("component/host-call");
    configure(&mut group);
    for (size, len) in [("small", 64), ("4k", 4096)] {
        let engine = tern_engine::Engine::default();
        let mut run = tern::calls(&engine, &tern::echo_pre(&engine));
        group.bench_function(format!("{size}/tern"), |b| {
            b.iter_custom(|iters| per_call(iters, || run(CALLS, len)));
        });
        let engine = tern::cranelift();
        let mut run = tern::calls(&engine, &tern::echo_pre(&engine));
        group.bench_function(format!("{size}/tern-cranelift"), |b| {
            b.iter_custom(|iters| per_call(iters, || run(CALLS, len)));
        });
        let engine = ::wasmtime::Engine::default();
        let mut run = peer::calls(&engine, &peer::echo_pre(&engine));
        group.bench_function(format!("{size}/wasmtime"), |b| {
            b.iter_custom(|iters| per_call(iters, || run(CALLS, len)));
        });
    }
    group.finish();
}

/// Time for `iters` host calls, made `CALLS` at a time by `run`.
fn per_call(iters: u64, mut run: impl FnMut()) -> Duration {
    let batches = iters.div_ceil(u64::from(CALLS)).max(1);
    let start = std::time::Instant::now();
    for _ in 0..batches {
        run();
    }
    let calls = batches * u64::from(CALLS);
    start.elapsed().mul_f64(iters as f64 / calls as f64)
}

criterion::criterion_group!(benches, instantiate, host_call);
criterion::criterion_main!(benches);
