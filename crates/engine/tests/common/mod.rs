//! Running tests on every tier: `tiers!` turns each listed test function
//! into a module of tests, one per strategy, and [`config`] and [`engine`]
//! give the strategy of the test running. The engine's tests declare this
//! as `mod common`; other crates' tests include it by path and re-export
//! [`on`] from their own `common`, which the macro calls.

#![allow(dead_code)] // Each test file uses part of this.

use std::cell::Cell;
use tern_engine::{
    Config, Engine, Instance, Linker, Module, Store, Strategy, WasmParams, WasmResults,
};

std::thread_local! {
    static STRATEGY: Cell<Strategy> = const { Cell::new(Strategy::Interpreter) };
}

/// The strategies every tiered test runs on: those of the build (the
/// compiled ones need the `cranelift` feature of the crate under test).
#[cfg(feature = "cranelift")]
pub const STRATEGIES: &[Strategy] = &[Strategy::Interpreter, Strategy::Cranelift, Strategy::Mixed];
#[cfg(not(feature = "cranelift"))]
pub const STRATEGIES: &[Strategy] = &[Strategy::Interpreter];

/// A default configuration on the running test's tier.
pub fn config() -> Config {
    let mut config = Config::new();
    config.strategy(STRATEGY.get());
    config
}

/// An engine on the running test's tier.
pub fn engine() -> Engine {
    Engine::new(&config())
}

/// The module `wat`, without imports, instantiated in a fresh store on the
/// running test's tier.
pub fn instantiate(wat: &str) -> (Store<()>, Instance) {
    let engine = engine();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    (store, instance)
}

/// Calls the export `name` of `instance`, a function of type `P -> R`.
pub fn call<P: WasmParams, R: WasmResults>(
    store: &mut Store<()>,
    instance: &Instance,
    name: &str,
    params: P,
) -> tern_engine::Result<R> {
    instance
        .get_typed_func::<P, R>(&mut *store, name)
        .unwrap()
        .call(&mut *store, params)
}

/// As [`call`], for a call that must succeed: its results.
pub fn call_ok<P: WasmParams, R: WasmResults>(
    store: &mut Store<()>,
    instance: &Instance,
    name: &str,
    params: P,
) -> R {
    call(store, instance, name, params).unwrap()
}

/// The module `wat` on the interpreter, whose code of each function
/// `Module::disassemble` prints.
pub fn interpreted(wat: &str) -> Module {
    let mut config = Config::new();
    config.strategy(Strategy::Interpreter);
    Module::new(&Engine::new(&config), wat).unwrap()
}

/// The running test's tier.
pub fn strategy() -> Strategy {
    STRATEGY.get()
}

/// Runs `test` on tier `strategy` (each test runs on a thread of its own).
pub fn on<R: Outcome>(strategy: Strategy, test: impl FnOnce() -> R) {
    STRATEGY.set(strategy);
    test().check();
}

/// What a test function returns.
pub trait Outcome {
    fn check(self);
}

impl Outcome for () {
    fn check(self) {}
}

impl<E: std::fmt::Debug> Outcome for Result<(), E> {
    fn check(self) {
        if let Err(e) = self {
            panic!("{e:?}");
        }
    }
}

/// Makes every listed test function (a plain `fn`, not `#[test]`) a module
/// of tests named after the tiers: `name::interpreter`, `name::cranelift`,
/// `name::mixed`. `tiers!(@on [interpreter: Interpreter, ...] names...)`
/// picks the tiers. Tiers other than the interpreter exist only with the
/// `cranelift` feature of the crate under test.
#[macro_export]
macro_rules! tiers {
    ($($name:ident),* $(,)?) => {
        $crate::tiers!(@on [interpreter: Interpreter, cranelift: Cranelift, mixed: Mixed] $($name),*);
    };
    (@on $tiers:tt $($name:ident),* $(,)?) => {
        $( $crate::tiers!(@one $tiers $name); )*
    };
    (@one [$($tier:ident: $strategy:ident),*] $name:ident) => {
        mod $name {
            $( $crate::tiers!(@test $tier $strategy $name); )*
        }
    };
    (@test interpreter $strategy:ident $name:ident) => {
        #[test]
        fn interpreter() {
            $crate::common::on(tern_engine::Strategy::$strategy, super::$name);
        }
    };
    (@test $tier:ident $strategy:ident $name:ident) => {
        #[cfg(feature = "cranelift")]
        #[test]
        fn $tier() {
            $crate::common::on(tern_engine::Strategy::$strategy, super::$name);
        }
    };
}
