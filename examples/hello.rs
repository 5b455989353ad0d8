//! Embedding Tern: load a module from WebAssembly text, give it a host
//! function through a `Linker`, call an export and print the result.
//!
//! Run it with `cargo run -p tern-engine --example hello`.

use anyhow::Context;
use tern_engine::{Caller, Engine, Linker, Module, Store};

/// The guest: sums the squares of `1..=n`, logging each square through the
/// host's `log` function on the way.
const GUEST: &str = r#"(module
    (import "host" "log" (func $log (param i32)))
    (func (export "sum_of_squares") (param $n i32) (result i32)
        (local $i i32) (local $sum i32) (local $sq i32)
        (local.set $i (i32.const 1))
        (block $done
            (loop $next
                (br_if $done (i32.gt_s (local.get $i) (local.get $n)))
                (local.set $sq (i32.mul (local.get $i) (local.get $i)))
                (call $log (local.get $sq))
                (local.set $sum (i32.add (local.get $sum) (local.get $sq)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $next)))
        (local.get $sum)))"#;

/// What the host keeps between calls: every value the guest logged.
#[derive(Debug, Default)]
struct Host {
    logged: Vec<i32>,
}

/// Runs the guest with `n`, returning its result and what it logged.
fn run(n: i32) -> anyhow::Result<(i32, Vec<i32>)> {
    let engine = Engine::default();
    let module = Module::new(&engine, GUEST).context("failed to compile the guest")?;

    let mut linker = Linker::<Host>::new(&engine);
    linker.func_wrap("host", "log", |mut caller: Caller<'_, Host>, value: i32| {
        caller.data_mut().logged.push(value);
    })?;

    let mut store = Store::new(&engine, Host::default());
    let instance = linker
        .instantiate(&mut store, &module)
        .context("failed to instantiate the guest")?;
    let sum_of_squares = instance.get_typed_func::<i32, i32>(&mut store, "sum_of_squares")?;
    let result = sum_of_squares
        .call(&mut store, n)
        .with_context(|| format!("`sum_of_squares({n})` failed"))?;
    Ok((result, store.into_data().logged))
}

fn main() -> anyhow::Result<()> {
    let n = 5;
    let (result, logged) = run(n)?;
    println!("the guest logged {logged:?}");
    println!("sum_of_squares({n}) = {result}");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs() -> anyhow::Result<()> {
        let (result, logged) = super::run(5)?;
        assert_eq!(logged, [1, 4, 9, 16, 25]);
        assert_eq!(result, 55);
        let (result, logged) = super::run(0)?;
        assert_eq!((result, logged), (0, vec![]));
        Ok(())
    }

    #[test]
    fn main_succeeds() -> anyhow::Result<()> {
        super::main()
    }
}
