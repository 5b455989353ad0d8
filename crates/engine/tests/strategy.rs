//! Choosing the tier: the compiled strategies run code when the engine is
//! built with its `cranelift` feature, and are refused with a clear
//! `Unsupported` error when it is not; the interpreter runs either way.

use tern_engine::{Config, Engine, ErrorKind, Instance, Module, Store, Strategy};

const WAT: &str = r#"(module (func (export "seven") (result i32) i32.const 7))"#;

fn seven(strategy: Strategy) -> tern_engine::Result<i32> {
    let engine = Engine::new(Config::new().strategy(strategy));
    let module = Module::new(&engine, WAT)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    instance
        .get_typed_func::<(), i32>(&mut store, "seven")?
        .call(&mut store, ())
}

#[test]
fn the_interpreter_runs_in_every_build() {
    assert_eq!(seven(Strategy::Interpreter).unwrap(), 7);
}

#[test]
fn compiled_strategies_run_with_the_cranelift_feature_and_are_refused_without() {
    for strategy in [Strategy::Cranelift, Strategy::Mixed] {
        let result = seven(strategy);
        if cfg!(feature = "cranelift") {
            assert_eq!(result.unwrap(), 7, "{strategy:?}");
        } else {
            let err = result.expect_err("no code generator in this build");
            assert_eq!(err.kind(), ErrorKind::Unsupported, "{strategy:?}: {err}");
            assert!(err.to_string().contains("`cranelift` feature"), "{err}");
        }
    }
}
