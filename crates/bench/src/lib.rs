//! Side-by-side benchmarks of Tern's two tiers against their peers: the
//! interpreter against [wasmi], the Cranelift tier against [wasmtime] (the
//! same code generator).
//!
//! The guests are real programs, built from the sources in `guests/bench`
//! (see its `build.sh`) and committed as `.wasm` files. This crate holds what
//! `benches/execute.rs` shares: the modules, the table of workloads with their
//! arguments and expected results, and one [`Runtime`] per engine that
//! compiles a module and prepares an export for repeated calls.
//!
//! ```no_run
//! use tern_bench::{KERNELS, Prepared, Runtime, Tern, WORKLOADS};
//!
//! let workload = &WORKLOADS[0];
//! let engine = Tern::engine();
//! let module = Tern::compile(&engine, &KERNELS)?;
//! let mut call = Tern::prepare(&engine, &module, workload)?;
//! assert_eq!(call.call()?, workload.expected);
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! `crates/bench/report.sh` runs the benchmarks and prints, for each
//! workload, Tern's interpreter over wasmi and Tern's Cranelift tier over
//! wasmtime, and the same for compile times.
//!
//! [wasmi]: https://github.com/wasmi-labs/wasmi
//! [wasmtime]: https://github.com/bytecodealliance/wasmtime

#![forbid(unsafe_code)]

use anyhow::{Context as _, Result};

/// A guest module compiled from the sources in `guests/bench`.
#[derive(Debug, Clone, Copy)]
pub struct Guest {
    /// The module's path in the repository, for messages.
    pub path: &'static str,
    /// The module's binary.
    pub wasm: &'static [u8],
}

/// Small compute kernels and one real routine (SHA-256 from the `sha2` crate);
/// the module that [`WORKLOADS`] call into.
pub const KERNELS: Guest = Guest {
    path: "guests/bench/wasm/kernels.wasm",
    wasm: include_bytes!("../../../guests/bench/wasm/kernels.wasm"),
};

/// A large module (`miniz_oxide`, `sha2`, `regex-lite`, `serde_json` and
/// `core::fmt`, about 280 KB) for timing load, validation and translation.
/// It exports `run(seed: i32, records: i32) -> i32`.
pub const LARGE: Guest = Guest {
    path: "guests/bench/wasm/large.wasm",
    wasm: include_bytes!("../../../guests/bench/wasm/large.wasm"),
};

/// Compute-heavy real programs: hashing (SHA-256, SHA3), compression
/// (DEFLATE), JSON, regexes, encryption (ChaCha20), Base64, sorting, a
/// bytecode interpreter, an n-body simulation, and the shapes of the
/// Sightglass programs on which Tern's interpreter trails wasmi furthest
/// (six nested loops, a 40-arm `match`, a guest-side memmove, heapsort,
/// Gimli, BLAKE3 and a ChaCha-like cipher on 64-bit words). Each export
/// takes a size and returns a checksum.
pub const PROGRAMS: Guest = Guest {
    path: "guests/bench/wasm/programs.wasm",
    wasm: include_bytes!("../../../guests/bench/wasm/programs.wasm"),
};

/// The signature of a workload's export and the arguments to call it with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Call {
    /// `(i32) -> i32`
    I32ToI32(i32),
    /// `(i32) -> f64`
    I32ToF64(i32),
    /// `(i32, i32) -> i32`
    I32I32ToI32(i32, i32),
}

/// What a workload returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Output {
    /// An `i32` result.
    I32(i32),
    /// An `f64` result.
    F64(f64),
}

/// One export of a guest, called with fixed arguments.
#[derive(Debug)]
pub struct Workload {
    /// The name in benchmark ids: `execute/<name>/<runtime>`.
    pub name: &'static str,
    /// The module that exports the function.
    pub guest: Guest,
    /// The exported function's name.
    pub export: &'static str,
    /// Its signature and arguments.
    pub call: Call,
    /// The result every runtime must produce.
    pub expected: Output,
}

/// The execution workloads, each sized to take a few milliseconds on wasmi.
///
/// Every runtime must return the expected result before it is timed. The
/// results of `fib-recursive` and `sieve` are well known; those of
/// `count-loop`, `matmul`, `calls` and `sha256` were checked against a model
/// of each kernel in Python (`hashlib` for SHA-256); that of `large-run` was
/// recorded from wasmi, and the guest checks its own round trips.
pub const WORKLOADS: &[Workload] = &[
    Workload {
        name: "fib-recursive",
        guest: KERNELS,
        export: "fib",
        call: Call::I32ToI32(25),
        expected: Output::I32(75_025),
    },
    Workload {
        name: "count-loop",
        guest: KERNELS,
        export: "count_loop",
        call: Call::I32ToI32(300_000),
        expected: Output::I32(-435_532_713),
    },
    Workload {
        name: "sieve",
        guest: KERNELS,
        export: "sieve",
        call: Call::I32ToI32(1_000_000),
        expected: Output::I32(78_498),
    },
    Workload {
        name: "matmul",
        guest: KERNELS,
        export: "matmul",
        call: Call::I32ToF64(96),
        expected: Output::F64(445.5),
    },
    Workload {
        name: "calls",
        guest: KERNELS,
        export: "calls",
        call: Call::I32ToI32(150_000),
        expected: Output::I32(-546_621_610),
    },
    Workload {
        name: "sha256-kernel",
        guest: KERNELS,
        export: "sha256_bench",
        call: Call::I32I32ToI32(16 * 1024, 8),
        expected: Output::I32(1_244_977_259),
    },
    Workload {
        name: "large-run",
        guest: LARGE,
        export: "run",
        call: Call::I32I32ToI32(7, 20),
        expected: Output::I32(-383_303_191),
    },
    program("sha256", "sha256", 64, -1_871_667_762),
    program("sha3", "keccak", 64, -2_076_228_369),
    program("deflate", "deflate", 64, 356_716_560),
    program("json", "json", 300, -1_982_267_208),
    program("regex", "regex", 16, -1_613_316_050),
    program("chacha20", "chacha20", 256, -653_654_754),
    program("base64", "base64", 128, 607_581_400),
    program("sort", "sort", 20_000, -1_143_616_410),
    program("interpreter", "interp", 5_000, 555_483_798),
    program("nbody", "nbody", 20_000, -169_089_262),
    program("nestedloop", "nestedloop", 10, -61_844_877),
    program("switch", "switch", 400_000, -1_599_342_617),
    program("memmove", "memmove_bench", 6_000, -1_392_243_066),
    program("heapsort", "heapsort", 10_000, 1_434_016_548),
    program("gimli", "gimli", 3_000, 867_212_831),
    program("blake3", "blake3", 256, -120_426_790),
    program("blabla", "blabla", 128, -901_975_657),
];

/// A workload of [`PROGRAMS`]: `export(size)`, whose checksum was recorded
/// from Tern's interpreter, and which every runtime must reproduce.
const fn program(name: &'static str, export: &'static str, size: i32, expected: i32) -> Workload {
    Workload {
        name,
        guest: PROGRAMS,
        export,
        call: Call::I32ToI32(size),
        expected: Output::I32(expected),
    }
}

/// A Wasm runtime under benchmark.
pub trait Runtime {
    /// The runtime's name in benchmark ids.
    const NAME: &'static str;
    /// The runtime's engine.
    type Engine;
    /// A compiled module.
    type Module;
    /// An instance in its store, with one export ready to call.
    type Prepared: Prepared;

    /// Creates an engine with the configuration the benchmarks use.
    fn engine() -> Self::Engine;

    /// Loads, validates and translates `guest`.
    ///
    /// # Errors
    ///
    /// If the runtime rejects the module.
    fn compile(engine: &Self::Engine, guest: &Guest) -> Result<Self::Module>;

    /// Instantiates `module` in a new store and looks up the workload's export.
    ///
    /// # Errors
    ///
    /// If instantiation fails or the export is missing or has another type.
    fn prepare(
        engine: &Self::Engine,
        module: &Self::Module,
        workload: &Workload,
    ) -> Result<Self::Prepared>;
}

/// A workload ready to be called repeatedly.
pub trait Prepared {
    /// Calls the workload's export once with its arguments.
    ///
    /// # Errors
    ///
    /// If the call traps.
    fn call(&mut self) -> Result<Output>;
}

/// Tern's interpreter, configured by default except that it translates
/// eagerly, like [`Wasmi`], so that [`Runtime::compile`] does the same work
/// on both.
#[derive(Debug, Clone, Copy)]
pub struct Tern;

/// Tern's Cranelift tier, configured by default: memory accesses rely on
/// the guard region after each memory's 4 GiB reservation.
#[derive(Debug, Clone, Copy)]
pub struct TernCranelift;

/// Tern's Cranelift tier with a 1 GiB reservation and no guard region, so
/// that every memory access is checked explicitly: the other way of
/// keeping accesses in bounds, to measure against [`TernCranelift`].
#[derive(Debug, Clone, Copy)]
pub struct TernCraneliftChecked;

enum TernFunc {
    I32ToI32(tern_engine::TypedFunc<i32, i32>, i32),
    I32ToF64(tern_engine::TypedFunc<i32, f64>, i32),
    I32I32ToI32(tern_engine::TypedFunc<(i32, i32), i32>, i32, i32),
}

/// A workload prepared on [`Tern`] or [`TernCranelift`].
pub struct TernPrepared {
    store: tern_engine::Store<()>,
    func: TernFunc,
}

impl std::fmt::Debug for TernPrepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TernPrepared").finish_non_exhaustive()
    }
}

fn tern_compile(engine: &tern_engine::Engine, guest: &Guest) -> Result<tern_engine::Module> {
    tern_engine::Module::new(engine, guest.wasm)
        .with_context(|| format!("tern cannot compile {}", guest.path))
}

fn tern_prepare(
    engine: &tern_engine::Engine,
    module: &tern_engine::Module,
    workload: &Workload,
) -> Result<TernPrepared> {
    let mut store = tern_engine::Store::new(engine, ());
    let linker = tern_engine::Linker::<()>::new(engine);
    let instance = linker
        .instantiate(&mut store, module)
        .with_context(|| format!("tern cannot instantiate {}", workload.guest.path))?;
    let name = workload.export;
    let context = || format!("tern cannot get `{name}` from {}", workload.guest.path);
    let func = match workload.call {
        Call::I32ToI32(a) => {
            let f = instance
                .get_typed_func(&mut store, name)
                .with_context(context)?;
            TernFunc::I32ToI32(f, a)
        }
        Call::I32ToF64(a) => {
            let f = instance
                .get_typed_func(&mut store, name)
                .with_context(context)?;
            TernFunc::I32ToF64(f, a)
        }
        Call::I32I32ToI32(a, b) => {
            let f = instance
                .get_typed_func(&mut store, name)
                .with_context(context)?;
            TernFunc::I32I32ToI32(f, a, b)
        }
    };
    Ok(TernPrepared { store, func })
}

impl Runtime for Tern {
    const NAME: &'static str = "tern";
    type Engine = tern_engine::Engine;
    type Module = tern_engine::Module;
    type Prepared = TernPrepared;

    fn engine() -> Self::Engine {
        tern_engine::Engine::new(tern_engine::Config::new().lazy_translation(false))
    }

    fn compile(engine: &Self::Engine, guest: &Guest) -> Result<Self::Module> {
        tern_compile(engine, guest)
    }

    fn prepare(
        engine: &Self::Engine,
        module: &Self::Module,
        workload: &Workload,
    ) -> Result<Self::Prepared> {
        tern_prepare(engine, module, workload)
    }
}

impl Runtime for TernCranelift {
    const NAME: &'static str = "tern-cranelift";
    type Engine = tern_engine::Engine;
    type Module = tern_engine::Module;
    type Prepared = TernPrepared;

    fn engine() -> Self::Engine {
        tern_engine::Engine::new(
            tern_engine::Config::new().strategy(tern_engine::Strategy::Cranelift),
        )
    }

    fn compile(engine: &Self::Engine, guest: &Guest) -> Result<Self::Module> {
        tern_compile(engine, guest)
    }

    fn prepare(
        engine: &Self::Engine,
        module: &Self::Module,
        workload: &Workload,
    ) -> Result<Self::Prepared> {
        tern_prepare(engine, module, workload)
    }
}

impl Runtime for TernCraneliftChecked {
    const NAME: &'static str = "tern-cranelift-checked";
    type Engine = tern_engine::Engine;
    type Module = tern_engine::Module;
    type Prepared = TernPrepared;

    fn engine() -> Self::Engine {
        tern_engine::Engine::new(
            tern_engine::Config::new()
                .strategy(tern_engine::Strategy::Cranelift)
                .memory_reservation(1 << 30)
                .memory_guard_size(0),
        )
    }

    fn compile(engine: &Self::Engine, guest: &Guest) -> Result<Self::Module> {
        tern_compile(engine, guest)
    }

    fn prepare(
        engine: &Self::Engine,
        module: &Self::Module,
        workload: &Workload,
    ) -> Result<Self::Prepared> {
        tern_prepare(engine, module, workload)
    }
}

impl Prepared for TernPrepared {
    fn call(&mut self) -> Result<Output> {
        let store = &mut self.store;
        Ok(match &self.func {
            TernFunc::I32ToI32(f, a) => Output::I32(f.call(store, *a)?),
            TernFunc::I32ToF64(f, a) => Output::F64(f.call(store, *a)?),
            TernFunc::I32I32ToI32(f, a, b) => Output::I32(f.call(store, (*a, *b))?),
        })
    }
}

/// wasmi with its default configuration, except that it translates eagerly,
/// so that [`Runtime::compile`] does the same work on both runtimes: load,
/// validate and translate every function.
#[derive(Debug, Clone, Copy)]
pub struct Wasmi;

#[derive(Debug)]
enum WasmiFunc {
    I32ToI32(wasmi::TypedFunc<i32, i32>, i32),
    I32ToF64(wasmi::TypedFunc<i32, f64>, i32),
    I32I32ToI32(wasmi::TypedFunc<(i32, i32), i32>, i32, i32),
}

/// A workload prepared on [`Wasmi`].
#[derive(Debug)]
pub struct WasmiPrepared {
    store: wasmi::Store<()>,
    func: WasmiFunc,
}

impl Runtime for Wasmi {
    const NAME: &'static str = "wasmi";
    type Engine = wasmi::Engine;
    type Module = wasmi::Module;
    type Prepared = WasmiPrepared;

    fn engine() -> Self::Engine {
        let mut config = wasmi::Config::default();
        config.compilation_mode(wasmi::CompilationMode::Eager);
        wasmi::Engine::new(&config)
    }

    fn compile(engine: &Self::Engine, guest: &Guest) -> Result<Self::Module> {
        wasmi::Module::new(engine, guest.wasm)
            .with_context(|| format!("wasmi cannot compile {}", guest.path))
    }

    fn prepare(
        engine: &Self::Engine,
        module: &Self::Module,
        workload: &Workload,
    ) -> Result<Self::Prepared> {
        let mut store = wasmi::Store::new(engine, ());
        let linker = wasmi::Linker::<()>::new(engine);
        let instance = linker
            .instantiate_and_start(&mut store, module)
            .with_context(|| format!("wasmi cannot instantiate {}", workload.guest.path))?;
        let name = workload.export;
        let context = || format!("wasmi cannot get `{name}` from {}", workload.guest.path);
        let func = match workload.call {
            Call::I32ToI32(a) => {
                let f = instance
                    .get_typed_func(&store, name)
                    .with_context(context)?;
                WasmiFunc::I32ToI32(f, a)
            }
            Call::I32ToF64(a) => {
                let f = instance
                    .get_typed_func(&store, name)
                    .with_context(context)?;
                WasmiFunc::I32ToF64(f, a)
            }
            Call::I32I32ToI32(a, b) => {
                let f = instance
                    .get_typed_func(&store, name)
                    .with_context(context)?;
                WasmiFunc::I32I32ToI32(f, a, b)
            }
        };
        Ok(WasmiPrepared { store, func })
    }
}

impl Prepared for WasmiPrepared {
    fn call(&mut self) -> Result<Output> {
        let store = &mut self.store;
        Ok(match &self.func {
            WasmiFunc::I32ToI32(f, a) => Output::I32(f.call(store, *a)?),
            WasmiFunc::I32ToF64(f, a) => Output::F64(f.call(store, *a)?),
            WasmiFunc::I32I32ToI32(f, a, b) => Output::I32(f.call(store, (*a, *b))?),
        })
    }
}

/// wasmtime with its default configuration (Cranelift, optimising for
/// speed, parallel compilation, no compilation cache).
#[derive(Debug, Clone, Copy)]
pub struct Wasmtime;

enum WasmtimeFunc {
    I32ToI32(wasmtime::TypedFunc<i32, i32>, i32),
    I32ToF64(wasmtime::TypedFunc<i32, f64>, i32),
    I32I32ToI32(wasmtime::TypedFunc<(i32, i32), i32>, i32, i32),
}

/// A workload prepared on [`Wasmtime`].
pub struct WasmtimePrepared {
    store: wasmtime::Store<()>,
    func: WasmtimeFunc,
}

impl std::fmt::Debug for WasmtimePrepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmtimePrepared").finish_non_exhaustive()
    }
}

impl Runtime for Wasmtime {
    const NAME: &'static str = "wasmtime";
    type Engine = wasmtime::Engine;
    type Module = wasmtime::Module;
    type Prepared = WasmtimePrepared;

    fn engine() -> Self::Engine {
        wasmtime::Engine::default()
    }

    fn compile(engine: &Self::Engine, guest: &Guest) -> Result<Self::Module> {
        wasmtime::Module::new(engine, guest.wasm)
            .map_err(|e| anyhow::anyhow!("wasmtime cannot compile {}: {e}", guest.path))
    }

    fn prepare(
        engine: &Self::Engine,
        module: &Self::Module,
        workload: &Workload,
    ) -> Result<Self::Prepared> {
        let mut store = wasmtime::Store::new(engine, ());
        let instance = wasmtime::Instance::new(&mut store, module, &[]).map_err(|e| {
            anyhow::anyhow!("wasmtime cannot instantiate {}: {e}", workload.guest.path)
        })?;
        let name = workload.export;
        let context = |e: wasmtime::Error| anyhow::anyhow!("wasmtime cannot get `{name}`: {e}");
        let func = match workload.call {
            Call::I32ToI32(a) => WasmtimeFunc::I32ToI32(
                instance.get_typed_func(&mut store, name).map_err(context)?,
                a,
            ),
            Call::I32ToF64(a) => WasmtimeFunc::I32ToF64(
                instance.get_typed_func(&mut store, name).map_err(context)?,
                a,
            ),
            Call::I32I32ToI32(a, b) => WasmtimeFunc::I32I32ToI32(
                instance.get_typed_func(&mut store, name).map_err(context)?,
                a,
                b,
            ),
        };
        Ok(WasmtimePrepared { store, func })
    }
}

impl Prepared for WasmtimePrepared {
    fn call(&mut self) -> Result<Output> {
        let store = &mut self.store;
        let trapped = |e: wasmtime::Error| anyhow::anyhow!("{e}");
        Ok(match &self.func {
            WasmtimeFunc::I32ToI32(f, a) => Output::I32(f.call(store, *a).map_err(trapped)?),
            WasmtimeFunc::I32ToF64(f, a) => Output::F64(f.call(store, *a).map_err(trapped)?),
            WasmtimeFunc::I32I32ToI32(f, a, b) => {
                Output::I32(f.call(store, (*a, *b)).map_err(trapped)?)
            }
        })
    }
}

/// Compiles `workload`'s guest on `R`, prepares the workload and checks that
/// one call returns the expected result, so that a wrong answer is never
/// timed.
///
/// # Errors
///
/// If any step fails or the result is not [`Workload::expected`].
pub fn prepare_checked<R: Runtime>(workload: &Workload) -> Result<R::Prepared> {
    let engine = R::engine();
    let module = R::compile(&engine, &workload.guest)?;
    let mut prepared = R::prepare(&engine, &module, workload)?;
    let output = prepared
        .call()
        .with_context(|| format!("{} trapped in {}", R::NAME, workload.name))?;
    anyhow::ensure!(
        output == workload.expected,
        "{} returned {output:?} for {}, expected {:?}",
        R::NAME,
        workload.name,
        workload.expected
    );
    Ok(prepared)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_all<R: Runtime>() -> Result<()> {
        for workload in WORKLOADS {
            prepare_checked::<R>(workload)?;
        }
        Ok(())
    }

    // wasmi 2.0's dispatch needs LLVM's sibling-call optimisation, which
    // debug assertions defeat (wasmi-labs/wasmi#2039); the workspace turns
    // them off for wasmi in dev builds.
    #[test]
    fn wasmi_computes_expected_results() -> Result<()> {
        check_all::<Wasmi>()
    }

    #[test]
    fn tern_computes_expected_results() -> Result<()> {
        check_all::<Tern>()
    }

    #[test]
    fn tern_cranelift_computes_expected_results() -> Result<()> {
        check_all::<TernCranelift>()
    }

    #[test]
    fn tern_cranelift_with_explicit_checks_computes_expected_results() -> Result<()> {
        check_all::<TernCraneliftChecked>()
    }

    #[test]
    fn wasmtime_computes_expected_results() -> Result<()> {
        check_all::<Wasmtime>()
    }
}
